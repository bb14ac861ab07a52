"""Error responses: JSON for the API, plain text for the webhook, a short page otherwise.

Nothing reaches a user as a traceback; every error is logged with its cause.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template_string, request
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

_MESSAGES = {
    400: "请求格式不正确",
    403: "无权访问",
    404: "页面不存在",
    405: "不支持这种请求方式",
    413: "内容太大",
    429: "请求太频繁，请稍后再试",
    500: "服务器出了点问题，请稍后再试",
    503: "服务繁忙，请稍后再试",
}
_PAGE = """<!doctype html><html lang="zh-CN"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ code }} {{ message }}</title>
<body style="font-family:sans-serif;padding:2em"><h1>{{ code }}</h1><p>{{ message }}</p>
<p><a href="/">返回首页</a></p></body></html>"""


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(error: HTTPException) -> Response | tuple:
    """Render ``error`` for whoever asked: JSON, plain text (webhook) or HTML."""
    code = error.code or 500
    message = _MESSAGES.get(code, error.name)
    detail = error.description if code < 500 and error.description else None
    # Keep what the error says beyond its body (Allow on 405, Retry-After on 503 …).
    headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
    if request.path.startswith("/wechat"):
        return Response(message, status=code, headers=headers, mimetype="text/plain")
    if _wants_json():
        body = {"error": message, "status": code}
        if detail and detail != error.__class__.description:
            body["detail"] = detail
        return jsonify(body), code, headers
    return render_template_string(_PAGE, code=code, message=message), code, headers


def unexpected_error(error: Exception) -> Response | tuple:
    """Log an unhandled exception with its traceback and answer a plain 500."""
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(InternalServerError())


def init_app(app: Flask) -> None:
    """Register the handlers on ``app``."""
    app.register_error_handler(HTTPException, error_response)
    app.register_error_handler(Exception, unexpected_error)
