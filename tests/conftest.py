"""Shared fixtures: an app on a temporary SQLite file seeded with the shipped knowledge.

What every test would otherwise repeat is done once per session (per xdist worker) and
copied: a migrated and seeded database (with the matcher index built for it, which its
copies share until their content changes), the same with one staff account per role, and
a migrated database with no content. After each test the apps' purge timers are stopped
and the indexes of its databases forgotten. Playwright is imported by the browser
fixtures alone, so a run without browser tests never loads it. The semantic model's
phrasing vectors are embedded once and kept between runs in pytest's cache folder.
"""

from __future__ import annotations

import logging
import os
import shutil
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlite_utils import Database

from bot import create_app
from bot.wechat.housekeeping import stop_purge_timers
from knowledge.db import connect
from knowledge.matching.live_index import forget_indexes, share_index
from knowledge.matching.semantic import MODEL_NAME, memo_snapshot, seed_memo
from knowledge.users import User, create_user, get_user
from tests.browser_support import CHROMIUM_ARGS, Opener, Tab, chromium_path, served, watch_page
from tests.console_support import ACCOUNT_OF_ROLE, ACCOUNT_PASSWORD, sign_in
from tests.webhook_support import WeChatSender, sender_for, warm_matcher

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Playwright

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
        except (OSError, ValueError, zipfile.BadZipFile) as error:
            logging.getLogger(__name__).warning("phrasing vectors %s not read: %s", path, error)
    yield
    if path is not None:
        # Written aside and moved into place: xdist workers finish at the same time.
        written = path.with_name(f"{path.stem}-{os.getpid()}.npz")
        np.savez(written, **memo_snapshot())
        os.replace(written, path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep the browser tests on one xdist worker, so one Chromium serves them all."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))


#: The session's template databases (their indexes are kept from one test to the next).
_TEMPLATES: set[str] = set()


@pytest.fixture(autouse=True)
def _stop_threads_and_forget_indexes() -> Iterator[None]:
    """After each test: no purge timer left running, no index kept for its databases."""
    yield
    stop_purge_timers()
    forget_indexes(keep=_TEMPLATES)


def copy_database(template: Path, path: Path) -> Path:
    """A copy of the template database at ``path``, answering with the template's index."""
    shutil.copy(template, path)
    share_index(str(template), str(path))
    return path


def _template(path: Path, **config: object) -> Path:
    create_app({**TEST_CONFIG, "DATABASE": str(path), **config})
    _TEMPLATES.add(str(path))
    return path


@pytest.fixture(scope="session")
def seeded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file migrated and seeded once per test session, copied by each test."""
    return _template(tmp_path_factory.mktemp("template") / "seeded.sqlite3")


@pytest.fixture(scope="session")
def staffed_database(tmp_path_factory: pytest.TempPathFactory, seeded_database: Path) -> Path:
    """The seeded database with one console account per role (``ACCOUNT_OF_ROLE``)."""
    path = copy_database(seeded_database, tmp_path_factory.mktemp("staffed") / "staffed.sqlite3")
    database = connect(path)
    try:
        for role, name in ACCOUNT_OF_ROLE.items():
            create_user(database, name, role, ACCOUNT_PASSWORD, by="setup")
    finally:
        database.close()
    _TEMPLATES.add(str(path))
    return path


@pytest.fixture
def database_path(request: pytest.FixtureRequest, tmp_path: Path, seeded_database: Path) -> Path:
    """This test's own copy of the seeded database (with staff accounts if it asks for them).

    Password hashing is slow on purpose (~0.14 s each): a test that uses ``staff_accounts``
    gets them from a template rather than hashing three passwords again.
    """
    template = seeded_database
    if "staff_accounts" in request.fixturenames:
        template = request.getfixturevalue("staffed_database")
    return copy_database(template, tmp_path / "pufa.sqlite3")


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
    """One console account per role (role → account), all with ``ACCOUNT_PASSWORD``.

    They come with the database (``database_path`` copies ``staffed_database``).
    """
    accounts = {}
    for role, name in ACCOUNT_OF_ROLE.items():
        account = get_user(db, name)
        assert account is not None, f"staffed_database has no account {name}"
        accounts[role] = account
    return accounts


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


@pytest.fixture(scope="session")
def bare_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database migrated once per session with no shipped content."""
    path = tmp_path_factory.mktemp("template") / "bare.sqlite3"
    return _template(path, SEED_ON_START=False)


@pytest.fixture
def bare_database_path(tmp_path: Path, bare_database: Path) -> Path:
    """A migrated database with no shipped content, for tests that build their own entries."""
    return copy_database(bare_database, tmp_path / "bare.sqlite3")


@pytest.fixture
def bare_db(bare_database_path: Path) -> Iterator[Database]:
    """A connection to the bare database."""
    database = connect(bare_database_path)
    yield database
    database.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """The Playwright driver, once per test session (imported here: only browser tests pay)."""
    from playwright.sync_api import sync_playwright

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
