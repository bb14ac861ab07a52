"""The floors for the API and webhook benchmarks: a bare Flask app answering constants.

Same request shapes as ``POST /api/ask`` (a JSON body read and a JSON reply written) and
``POST /wechat`` (an XML body read and a fixed passive text reply written), no knowledge
base, no database: the difference from Pufa's figures is Pufa's own work per request.
"""

from __future__ import annotations

from flask import Flask, jsonify, request
from werkzeug.wrappers import Response

CONSTANT_REPLY = {"kind": "answer", "reply": "好的", "entry_id": None, "score": None, "choices": []}
#: A passive text reply as Pufa writes one (the content is a fixed short answer).
CONSTANT_XML = (
    "<xml><ToUserName><![CDATA[resident]]></ToUserName>"
    "<FromUserName><![CDATA[gh_0123456789ab]]></FromUserName>"
    "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[好的]]></Content></xml>"
)


def create_trivial_app() -> Flask:
    """A two-route app: ``POST /api/ask`` and ``POST /wechat`` read the body, answer a constant."""
    app = Flask(__name__)

    @app.post("/api/ask")
    def ask() -> Response:
        request.get_json(silent=True)
        return jsonify(CONSTANT_REPLY)

    @app.post("/wechat")
    def wechat() -> Response:
        request.get_data()
        return Response(CONSTANT_XML, mimetype="application/xml")

    return app


app = create_trivial_app()
