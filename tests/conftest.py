"""Shared fixtures: an app on a temporary SQLite file seeded with the shipped knowledge."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from playwright.sync_api import Browser, BrowserContext, Playwright, sync_playwright
from sqlite_utils import Database

from bot import create_app
from knowledge.db import connect
from knowledge.matching.semantic import MODEL_NAME, memo_snapshot, seed_memo
from knowledge.users import User, create_user
from tests.browser_support import CHROMIUM_ARGS, Opener, Tab, chromium_path, served, watch_page
from tests.console_support import ACCOUNT_OF_ROLE, ACCOUNT_PASSWORD, sign_in
from tests.webhook_support import WeChatSender, sender_for, warm_matcher

TEST_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WECHAT_TOKEN": "test-token",
    "WECHAT_APP_ID": "wx0000000000000000",
    "WECHAT_APP_SECRET": "test-app-secret",
    "WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    # Nothing listens there: a test that reaches the WeChat API by mistake fails at once.
    "WECHAT_API_BASE": "http://127.0.0.1:9",
}


@pytest.fixture(scope="session", autouse=True)
def shared_phrasing_vectors(pytestconfig: pytest.Config) -> Iterator[None]:
    """One embedding cache for every test database, kept between runs in pytest's cache
    folder (when the cache plugin is on): the suite embeds the shipped phrasings once."""
    cache = getattr(pytestconfig, "cache", None)
    path = cache.mkdir("pufa-semantic") / f"{MODEL_NAME}.npz" if cache is not None else None
    if path is not None and path.exists():
        try:
            with np.load(path) as saved:
                seed_memo({key: saved[key] for key in saved.files})
        except (OSError, ValueError) as error:
            logging.getLogger(__name__).warning("phrasing vectors %s not read: %s", path, error)
    yield
    if path is not None:
        np.savez(path, **memo_snapshot())


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated and seeded once per test session, copied by each test."""
    path = tmp_path_factory.mktemp("template") / "seeded.sqlite3"
    create_app({**TEST_CONFIG, "DATABASE": str(path)})
    return path


@pytest.fixture
def database_path(tmp_path: Path, seeded_database: Path) -> Path:
    """This test's own copy of the seeded database."""
    path = tmp_path / "pufa.sqlite3"
    shutil.copy(seeded_database, path)
    return path


@pytest.fixture
def app(database_path: Path) -> Flask:
    """The Pufa app on this test's database."""
    return create_app({**TEST_CONFIG, "DATABASE": str(database_path)})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """A CLI runner for ``app``'s ``flask`` commands."""
    return app.test_cli_runner()


@pytest.fixture
def db(database_path: Path, app: Flask) -> Iterator[Database]:
    """A connection to this test's database (the app is already migrated)."""
    database = connect(database_path)
    yield database
    database.close()


@pytest.fixture
def staff_accounts(db: Database) -> dict[str, User]:
    """One console account per role (role → account), all with ``ACCOUNT_PASSWORD``."""
    return {
        role: create_user(db, name, role, ACCOUNT_PASSWORD, by="setup")
        for role, name in ACCOUNT_OF_ROLE.items()
    }


@pytest.fixture
def signed_in(app: Flask, staff_accounts: dict[str, User]) -> Callable[[str], FlaskClient]:
    """Makes a new test client signed in to the console as the account of a role."""

    def client_for(role: str) -> FlaskClient:
        client = app.test_client()
        response = sign_in(client, staff_accounts[role].name)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return client_for


@pytest.fixture
def editor(signed_in: Callable[[str], FlaskClient]) -> FlaskClient:
    """A client signed in as an editor."""
    return signed_in("editor")


@pytest.fixture
def reviewer(signed_in: Callable[[str], FlaskClient]) -> FlaskClient:
    """A client signed in as a reviewer."""
    return signed_in("reviewer")


@pytest.fixture
def admin(signed_in: Callable[[str], FlaskClient]) -> FlaskClient:
    """A client signed in as an admin."""
    return signed_in("admin")


@pytest.fixture
def bare_database_path(tmp_path: Path) -> Path:
    """A migrated database with no shipped content, for tests that build their own entries."""
    path = tmp_path / "bare.sqlite3"
    create_app({**TEST_CONFIG, "DATABASE": str(path), "SEED_ON_START": False})
    return path


@pytest.fixture
def bare_db(bare_database_path: Path) -> Iterator[Database]:
    """A connection to the bare database."""
    database = connect(bare_database_path)
    yield database
    database.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver, once per test session."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Headless Debian Chromium, once per test session."""
    chromium = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def sender(app: Flask, client: FlaskClient) -> WeChatSender:
    """Sends signed WeChat requests to ``app``, with its matcher index already built."""
    warm_matcher(app)
    return sender_for(app, client)


@pytest.fixture
def base_url(app: Flask, staff_accounts: dict[str, User]) -> Iterator[str]:
    """The app (with its staff accounts) served over HTTP on a free loopback port."""
    with served(app) as http:
        yield f"http://127.0.0.1:{http.server_port}"


@pytest.fixture
def open_tab(browser: Browser, base_url: str) -> Iterator[Opener]:
    """A fresh browser context at a viewport size, recording script errors and foreign requests."""
    contexts: list[BrowserContext] = []

    def opener(viewport: dict[str, int]) -> Tab:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        tab = Tab(context.new_page())
        watch_page(
            tab.page,
            base_url,
            problem=tab.problems.append,
            foreign=lambda url: tab.problems.append(f"foreign request: {url}"),
        )
        return tab

    yield opener
    for context in contexts:
        context.close()
