"""Signing in to the console from the Flask test client, and reading its pages."""

from __future__ import annotations

import html
import re

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

#: Not ASCII on purpose: a password compared as ASCII bytes somewhere would give a 500.
ACCOUNT_PASSWORD = "清河-staff-2025-口令"
#: The account of each role that the ``staff_accounts`` fixture creates.
ACCOUNT_OF_ROLE = {"editor": "编辑小王", "reviewer": "审核老李", "admin": "管理员老张"}


def text_of(response: TestResponse) -> str:
    """The response body as text, entities decoded (what a person reads)."""
    return html.unescape(response.get_data(as_text=True))


def csrf_token(client: FlaskClient, path: str = "/admin/login") -> str:
    """The CSRF token in the first form on ``path``."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match[1]


def sign_in(
    client: FlaskClient, name: str, password: str = ACCOUNT_PASSWORD, **form: str
) -> TestResponse:
    """Post the sign-in form as ``name`` with a valid CSRF token."""
    token = csrf_token(client)
    data = {"csrf_token": token, "name": name, "password": password, **form}
    return client.post("/admin/login", data=data)


def post_form(
    client: FlaskClient, path: str, data: dict, form_page: str = "/admin/"
) -> TestResponse:
    """POST ``data`` to ``path`` with the session's CSRF token (as the form on ``form_page``)."""
    token = csrf_token(client, form_page)
    return client.post(path, data={"csrf_token": token, **data})
