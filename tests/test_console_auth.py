"""Signing in to and out of the console: accounts, sessions that end, CSRF, the lockout."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlite_utils import Database

from bot import create_app
from bot.config import defaults
from knowledge.signin_attempts import FREE_FAILURES
from knowledge.users import User, set_disabled, set_password
from tests.conftest import TEST_CONFIG
from tests.console_support import ACCOUNT_PASSWORD, csrf_token, post_form, sign_in, text_of

PAGES = ["/admin/", "/admin/unanswered", "/admin/entries", "/admin/entries/1"]
EDITOR = "编辑小王"


@pytest.fixture
def accounts(staff_accounts: dict[str, User]) -> dict[str, User]:
    """The console accounts of every role."""
    return staff_accounts


# --- switched off -------------------------------------------------------------------------


def test_the_console_is_off_with_the_public_secret_key(
    database_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    shipped = defaults("instance")["SECRET_KEY"]
    client = create_app(
        {**TEST_CONFIG, "DATABASE": str(database_path), "SECRET_KEY": shipped}
    ).test_client()
    for path in [*PAGES, "/admin/login"]:
        response = client.get(path)
        assert response.status_code == 503, path
        assert "请把 PUFA_SECRET_KEY 设为一个长的随机值" in text_of(response)
    assert client.post("/admin/login", data={"name": "x", "password": "y"}).status_code == 503
    assert "console page /admin/login refused" in caplog.text
    # The resident side does not care.
    assert client.post("/api/ask", json={"text": "离婚冷静期多久"}).status_code == 200


# --- signing in ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, "/admin/entries?status=draft&topic=marriage"])
def test_strangers_are_sent_to_sign_in_and_back(
    client: FlaskClient, accounts: dict, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/admin/login"
    assert parse_qs(location.query) == {"next": [path]}
    signed_in = sign_in(client, EDITOR, next=path)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == path
    assert client.get(path).status_code == 200


def test_sign_in_form_is_in_chinese_with_name_and_password(client: FlaskClient) -> None:
    response = client.get("/admin/login?next=/admin/unanswered")
    page = text_of(response)
    assert response.status_code == 200
    assert "员工登录" in page and 'type="password"' in page and 'name="name"' in page
    assert 'name="next" value="/admin/unanswered"' in page


@pytest.mark.parametrize(
    ("name", "password"),
    [(EDITOR, "wrong password"), ("nobody", ACCOUNT_PASSWORD), (EDITOR.upper() + "x", "x" * 12)],
)
def test_a_wrong_name_or_password_shows_the_form_again_with_401(
    client: FlaskClient,
    accounts: dict,
    name: str,
    password: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    response = sign_in(client, name, password)
    assert response.status_code == 401
    assert "用户名或密码不正确" in text_of(response)
    assert f'value="{name}"' in response.get_data(as_text=True)  # the name is kept
    assert "wrong password" in caplog.text
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(("name", "password"), [("", ACCOUNT_PASSWORD), (EDITOR, ""), ("  ", "")])
def test_a_missing_name_or_password_is_asked_for(
    client: FlaskClient, accounts: dict, name: str, password: str
) -> None:
    response = sign_in(client, name, password)
    assert response.status_code == 400
    assert "请输入用户名和密码" in text_of(response)


def test_the_right_password_signs_in_to_the_dashboard(
    client: FlaskClient, accounts: dict[str, User]
) -> None:
    response = sign_in(client, EDITOR)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    with client.session_transaction() as session:
        assert (
            session["_user_id"] == f"{accounts['editor'].id}:{accounts['editor'].session_version}"
        )
    page = text_of(client.get("/admin/"))
    assert "概览" in page and "编辑小王（编辑）" in page
    # Signed in, the form just moves on.
    assert client.get("/admin/login").headers["Location"] == "/admin/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/admin/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "admin/",
        " //evil.example",
        "/admin/\r\nSet-Cookie: x=1",
    ],
)
def test_sign_in_never_redirects_off_site(
    client: FlaskClient, accounts: dict, target: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = sign_in(client, EDITOR, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    assert "refused redirect target" in caplog.text


def test_the_form_does_not_carry_an_off_site_next(client: FlaskClient) -> None:
    page = text_of(client.get("/admin/login?next=https://evil.example/"))
    assert "evil.example" not in page
    assert 'name="next" value="/admin/"' in page


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_sign_in_without_the_csrf_token_is_refused(
    client: FlaskClient, accounts: dict, token: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    csrf_token(client)  # the session has a token; the post does not carry it
    form = {"name": EDITOR, "password": ACCOUNT_PASSWORD}
    if token is not None:
        form["csrf_token"] = token
    response = client.post("/admin/login", data=form)
    assert response.status_code == 400
    assert "表单已过期或来源不明" in text_of(response)
    assert "CSRF" in caplog.text
    assert client.get("/admin/").status_code == 302


def test_sign_in_without_any_session_is_refused(client: FlaskClient, accounts: dict) -> None:
    form = {"name": EDITOR, "password": ACCOUNT_PASSWORD, "csrf_token": "x"}
    assert client.post("/admin/login", data=form).status_code == 400


def test_a_disabled_account_cannot_sign_in(client: FlaskClient, accounts: dict, db: Database):
    set_disabled(db, EDITOR, True, by="test")
    response = sign_in(client, EDITOR)
    assert response.status_code == 401
    assert "账号已停用" in text_of(response)


def test_signing_in_issues_a_new_csrf_token(client: FlaskClient, accounts: dict) -> None:
    before = csrf_token(client)
    sign_in(client, EDITOR)
    assert csrf_token(client, "/admin/") != before


# --- cookies ------------------------------------------------------------------------------


def session_cookie_header(client: FlaskClient, base_url: str) -> str:
    """The Set-Cookie header of a sign-in made over ``base_url`` (http or https)."""
    page = client.get("/admin/login", base_url=base_url).get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    response = client.post(
        "/admin/login",
        base_url=base_url,
        data={"csrf_token": token, "name": EDITOR, "password": ACCOUNT_PASSWORD},
        # Over HTTPS Flask-WTF also wants a same-site Referer, as browsers send it.
        headers={"Referer": "https://localhost/admin/login"},
    )
    assert response.status_code == 302
    return response.headers["Set-Cookie"]


def test_session_cookies_are_httponly_lax_and_secure_over_https(app: Flask, accounts: dict) -> None:
    plain = session_cookie_header(app.test_client(), "http://localhost")
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    secure = session_cookie_header(app.test_client(), "https://localhost")
    assert "HttpOnly" in secure and "SameSite=Lax" in secure and "Secure" in secure


def test_behind_a_proxy_the_forwarded_scheme_makes_the_cookie_secure(
    database_path: Path, staff_accounts: dict
) -> None:
    app = create_app({**TEST_CONFIG, "DATABASE": str(database_path), "PROXY_HOPS": 1})
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_PROTO"] = "https"
    assert "Secure" in session_cookie_header(client, "http://localhost")


# --- sessions that end --------------------------------------------------------------------


def saved_cookie(client: FlaskClient) -> str:
    """The client's session cookie value, as someone who copied it would keep it."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def replay(app: Flask, cookie: str):
    """A new client presenting a saved session cookie, asking for the unanswered CSV."""
    other = app.test_client()
    other.set_cookie("session", cookie)
    return other.get("/admin/unanswered.csv")


def test_signing_out_ends_the_session_everywhere(app: Flask, signed_in, accounts: dict) -> None:
    client = signed_in("editor")
    second_device = signed_in("editor")
    cookie = saved_cookie(client)
    assert replay(app, cookie).status_code == 200
    response = post_form(client, "/admin/logout", {}, form_page="/admin/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert "您已退出登录" in text_of(client.get("/admin/login"))
    assert client.get("/admin/").status_code == 302
    # A cookie saved before signing out no longer downloads anything …
    stale = replay(app, cookie)
    assert stale.status_code == 302 and "/admin/login" in stale.headers["Location"]
    # … and the same account's other sessions are over too.
    assert second_device.get("/admin/unanswered.csv").status_code == 302


@pytest.mark.parametrize(
    "end",
    [
        lambda db: set_password(db, EDITOR, "a new password 2026", by="test"),
        lambda db: set_disabled(db, EDITOR, True, by="test"),
    ],
    ids=["password changed", "disabled"],
)
def test_a_password_change_or_disabling_ends_the_sessions(
    app: Flask, signed_in, db: Database, end, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = signed_in("editor")
    other_account = signed_in("reviewer")
    cookie = saved_cookie(client)
    end(db)
    assert replay(app, cookie).status_code == 302
    assert client.get("/admin/").status_code == 302
    assert "no longer valid" in caplog.text
    assert other_account.get("/admin/unanswered.csv").status_code == 200


@pytest.mark.parametrize("forged", ["1", "abc:0", "1:x", ":", "99999:0"])
def test_a_forged_session_identity_is_a_stranger(app: Flask, forged: str) -> None:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = forged
    assert client.get("/admin/").status_code == 302


def test_signing_out_needs_the_csrf_token_and_a_post(editor: FlaskClient) -> None:
    assert editor.post("/admin/logout").status_code == 400
    assert editor.post("/admin/logout", data={"csrf_token": "forged"}).status_code == 400
    assert editor.get("/admin/logout").status_code == 405
    assert editor.get("/admin/").status_code == 200


def test_signing_out_without_a_session_goes_to_the_form(client: FlaskClient) -> None:
    response = client.post("/admin/logout")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


# --- the lockout --------------------------------------------------------------------------


def from_address(app: Flask, address: str) -> FlaskClient:
    """A test client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_guessing_locks_that_address_out_but_not_the_colleague_elsewhere(
    app: Flask, accounts: dict, caplog: pytest.LogCaptureFixture
) -> None:
    guesser = from_address(app, "203.0.113.5")
    for _ in range(FREE_FAILURES):
        assert sign_in(guesser, EDITOR, "wrong password").status_code == 401
    locked = sign_in(guesser, EDITOR)  # even the right password waits
    assert locked.status_code == 429
    assert "登录失败次数太多" in text_of(locked) and "后）再试" in text_of(locked)
    assert 25 <= int(locked.headers["Retry-After"]) <= 30
    assert "locked out" in caplog.text
    assert guesser.get("/admin/").status_code == 302
    # The account's owner at another address signs in at once.
    assert sign_in(from_address(app, "198.51.100.20"), EDITOR).status_code == 302
    # The guessing address may still sign in as another account.
    assert sign_in(guesser, "审核老李").status_code == 302


def test_workers_share_the_count(database_path: Path, accounts: dict) -> None:
    workers = [
        create_app({**TEST_CONFIG, "DATABASE": str(database_path)}) for _ in range(FREE_FAILURES)
    ]
    for worker in workers:
        assert sign_in(from_address(worker, "203.0.113.9"), EDITOR, "nope nope").status_code == 401
    fresh_worker = create_app({**TEST_CONFIG, "DATABASE": str(database_path)})
    assert sign_in(from_address(fresh_worker, "203.0.113.9"), EDITOR).status_code == 429


def clients_through_one_proxy(database_path: Path, hops: int) -> tuple[FlaskClient, ...]:
    """Two clients with one REMOTE_ADDR (a proxy) and different X-Forwarded-For addresses."""
    app = create_app({**TEST_CONFIG, "DATABASE": str(database_path), "PROXY_HOPS": hops})
    clients = app.test_client(), app.test_client()
    for number, client in enumerate(clients, start=1):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{number}"
    return clients


def test_behind_a_trusted_proxy_the_lockout_counts_forwarded_addresses(
    database_path: Path, accounts: dict, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = clients_through_one_proxy(database_path, hops=1)
    for _ in range(FREE_FAILURES):
        assert sign_in(first, EDITOR, "wrong password").status_code == 401
    assert sign_in(first, EDITOR).status_code == 429
    assert "from 198.51.100.1 locked out" in caplog.text
    assert sign_in(second, EDITOR).status_code == 302


def test_without_trusted_proxies_forwarded_addresses_are_ignored(
    database_path: Path, accounts: dict
) -> None:
    first, second = clients_through_one_proxy(database_path, hops=0)
    for _ in range(FREE_FAILURES):
        assert sign_in(first, EDITOR, "wrong password").status_code == 401
    # A forged header does not escape the lockout of the real address.
    assert sign_in(second, EDITOR).status_code == 429


@pytest.mark.parametrize("hops", [-1, "two", 1.5, True])
def test_a_wrong_proxy_hops_setting_stops_start_up_with_a_clear_error(
    database_path: Path, hops: object
) -> None:
    with pytest.raises(ValueError, match="PROXY_HOPS must be a whole number"):
        create_app({**TEST_CONFIG, "DATABASE": str(database_path), "PROXY_HOPS": hops})
