"""The /wechat webhook (being written)."""

from flask import Blueprint

bp = Blueprint("webhook", __name__)
