"""Security headers on every response the app sends: pages, static files, API, webhook, errors.

``X-Content-Type-Options: nosniff`` keeps browsers from running a reply as another type;
``Referrer-Policy: same-origin`` keeps page addresses from leaking to other sites while
still sending them to Pufa itself (Flask-WTF's CSRF check on HTTPS needs that Referer).
A view may set its own value (the web chat adds its Content-Security-Policy).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    """``response`` with :data:`SECURITY_HEADERS`, keeping any value a view already set."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    """Add the headers to every response of ``app``, error responses included."""
    app.after_request(add_security_headers)
