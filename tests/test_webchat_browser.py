"""The web chat in real headless Chromium, against the app on a real HTTP server on loopback."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    expect,
)
from sqlite_utils import Database
from werkzeug.serving import BaseWSGIServer

from bot.chat import WEB_CHAT_COOKIE
from knowledge.entries import Entry
from knowledge.preview import render_entry
from knowledge.residents import hash_secret, resident_key
from knowledge.settings import get_settings, set_setting
from knowledge.store import create_entry, entries_by_topic
from tests.browser_support import DESKTOP, PHONE, SCREENSHOTS, served, watch_page

pytestmark = pytest.mark.browser

ACCOUNT_NAME = "清河普法"


@pytest.fixture
def server(app: Flask, db: Database) -> Iterator[BaseWSGIServer]:
    """The app served over HTTP on a free loopback port, in a background thread."""
    set_setting(db, "公众号名称", ACCOUNT_NAME, "测试")
    with served(app) as http:
        yield http


@pytest.fixture
def base_url(server: BaseWSGIServer) -> str:
    """Where the chat page is served."""
    return f"http://127.0.0.1:{server.server_port}/"


@dataclass
class Chat:
    """The chat page in a browser, with what went wrong while it ran."""

    page: Page
    problems: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def replies(self) -> Locator:
        """Pufa's reply bubbles, in order (the typing indicator excluded)."""
        return self.page.locator(".msg.from-pufa .bubble[data-kind]")

    def resident_bubbles(self) -> Locator:
        """The resident's bubbles, in order."""
        return self.page.locator(".msg.from-resident .bubble")

    def ask(self, text: str) -> None:
        """Type ``text`` and press Enter."""
        self.page.locator("#input").fill(text)
        self.page.locator("#input").press("Enter")

    def assert_clean(self) -> None:
        """No script errors or CSP violations, and nothing loaded from anywhere but the app."""
        assert self.problems == []
        assert self.foreign_requests == []


Opener = Callable[[dict[str, int]], Chat]


@pytest.fixture
def open_chat(browser: Browser, base_url: str) -> Iterator[Opener]:
    """Open the chat page at a viewport size in a fresh browser context; the welcome is shown."""
    contexts: list[BrowserContext] = []

    def opener(viewport: dict[str, int]) -> Chat:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        chat = Chat(context.new_page())
        watch_page(
            chat.page, base_url, problem=chat.problems.append, foreign=chat.foreign_requests.append
        )
        chat.page.goto(base_url)
        expect(chat.replies()).to_have_count(1)
        return chat

    yield opener
    for context in contexts:
        context.close()


def test_page_shows_the_account_name_and_the_welcome(open_chat: Opener) -> None:
    chat = open_chat(DESKTOP)
    expect(chat.page.locator(".topbar h1")).to_have_text(ACCOUNT_NAME)
    expect(chat.page).to_have_title(ACCOUNT_NAME)
    welcome = chat.replies().first
    expect(welcome).to_have_attribute("data-kind", "welcome")
    expect(welcome).to_contain_text(f"欢迎关注{ACCOUNT_NAME}")
    # The welcome is asked for silently: no resident bubble saying 你好.
    expect(chat.resident_bubbles()).to_have_count(0)
    # Line breaks are kept: one topic per line.
    assert "\n· 婚姻家庭\n· 继承遗嘱\n" in welcome.inner_text()
    chat.assert_clean()


def test_enter_sends_the_question_and_shows_the_reply(open_chat: Opener) -> None:
    chat = open_chat(DESKTOP)
    chat.ask("民法典第1079条")
    expect(chat.resident_bubbles()).to_have_text(["民法典第1079条"])
    expect(chat.replies()).to_have_count(2)
    answer = chat.replies().nth(1)
    expect(answer).to_have_attribute("data-kind", "answer")
    expect(answer).to_contain_text("夫妻一方要求离婚的")
    expect(chat.page.locator("#input")).to_have_value("")
    chat.assert_clean()


def test_topic_menu_offers_choices_and_a_choice_answers(open_chat: Opener, db: Database) -> None:
    create_entry(
        db,
        Entry(
            id=None,
            topic="antifraud",
            question="陌生人让我下载会议软件共享屏幕怎么办？",
            answer="这是诈骗。立即挂断，不要共享屏幕。\n拨打96110咨询。",
            status="published",
        ),
        "测试",
    )
    listed = entries_by_topic(db, "antifraud")[:9]
    chat = open_chat(PHONE)
    chat.page.locator("#menu button", has_text="防范诈骗").click()
    expect(chat.resident_bubbles()).to_have_text(["防范诈骗"])
    listing = chat.replies().nth(1)
    expect(listing).to_have_attribute("data-kind", "choices")
    options = listing.locator("button.choice")
    expect(options).to_have_count(len(listed))
    expect(options.first).to_have_text(f"1. {listed[0].question}")
    options.first.click()
    expect(chat.resident_bubbles()).to_have_text(["防范诈骗", "1"])
    answer = chat.replies().nth(2)
    expect(answer).to_have_attribute("data-kind", "answer")
    first_line = render_entry(listed[0], get_settings(db)).splitlines()[0]
    expect(answer).to_contain_text(first_line)
    # The old list is no longer tappable once the dialogue has moved on.
    expect(options.first).to_be_disabled()
    chat.assert_clean()


def test_one_option_and_the_way_out_are_buttons(open_chat: Opener) -> None:
    chat = open_chat(PHONE)
    chat.ask("儿女都不给养老钱，上了年纪的人能通过法律要生活费吗？")
    offer = chat.replies().nth(1)
    expect(offer).to_have_attribute("data-kind", "choices")
    expect(offer).to_contain_text("您是想问：子女不赡养老人，老人该怎么办？")
    expect(offer).to_contain_text("都不是？回复0，或拨打12348")
    expect(offer.locator("button.choice")).to_have_text(["1. 子女不赡养老人，老人该怎么办？"])
    chat.page.screenshot(path=str(SCREENSHOTS / "pufa-webchat-one-option.png"))
    none_fit = chat.page.locator(".quick button", has_text="都不是")
    none_fit.click()
    expect(chat.resident_bubbles().last).to_have_text("0")
    reply = chat.replies().nth(2)
    expect(reply).to_have_attribute("data-kind", "fallback")
    expect(reply).to_contain_text("您的问题已经记下")
    expect(reply).to_contain_text("12348")
    expect(none_fit).to_be_disabled()
    chat.assert_clean()


def web_chat_cookie(chat: Chat) -> dict:
    """The page's web chat id cookie, as the browser keeps it."""
    [cookie] = [c for c in chat.page.context.cookies() if c["name"] == WEB_CHAT_COOKIE]
    return cookie


def test_each_browser_keeps_its_own_resident_id(
    open_chat: Opener, app: Flask, db: Database
) -> None:
    first = open_chat(PHONE)
    cookie = web_chat_cookie(first)
    assert re.fullmatch(r"[0-9a-f]{32}", cookie["value"])
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert WEB_CHAT_COOKIE not in first.page.evaluate("document.cookie")  # script cannot read it
    first.page.locator("#menu button", has_text="婚姻家庭").click()
    expect(first.replies()).to_have_count(2)
    # The dialogue kept this browser's choices under its keyed hash in the web namespace.
    key = resident_key(hash_secret(app.config), "web", cookie["value"])
    state = db.execute("SELECT state FROM conversations WHERE user = ?", [key]).fetchone()
    assert state is not None and "choices" in state[0]
    first.ask("1")
    expect(first.replies()).to_have_count(3)
    expect(first.replies().nth(2)).to_have_attribute("data-kind", "answer")
    first.page.reload()
    expect(first.replies()).to_have_count(1)
    assert web_chat_cookie(first)["value"] == cookie["value"]
    other = open_chat(PHONE)
    assert web_chat_cookie(other)["value"] != cookie["value"]
    other.ask("1")
    expect(other.replies().nth(1)).to_have_attribute("data-kind", "help")


def test_reply_text_is_shown_as_text_never_as_html(open_chat: Opener, db: Database) -> None:
    # The account name is staff-entered text that reaches both the page and the welcome reply.
    markup = '<img src="x" onerror="window.pwned = 1"><b>清河</b>'
    set_setting(db, "公众号名称", markup, "测试")
    chat = open_chat(DESKTOP)
    expect(chat.page.locator(".topbar h1")).to_have_text(markup)
    welcome = chat.replies().first
    expect(welcome).to_contain_text(f"欢迎关注{markup}！")
    assert chat.page.locator("img, b").count() == 0
    assert chat.page.evaluate("window.pwned") is None
    chat.assert_clean()


def test_a_network_failure_shows_a_friendly_error_and_retry_works(open_chat: Opener) -> None:
    chat = open_chat(DESKTOP)
    chat.page.route("**/api/ask", lambda route: route.abort("connectionrefused"))
    chat.ask("帮助")
    expect(chat.page.locator(".bubble.error")).to_contain_text("网络好像出了点问题")
    chat.page.unroute("**/api/ask")
    chat.page.locator(".quick button", has_text="重试").click()
    expect(chat.replies()).to_have_count(2)
    expect(chat.replies().nth(1)).to_have_attribute("data-kind", "help")
    expect(chat.resident_bubbles()).to_have_text(["帮助"])
    expect(chat.page.locator(".quick button", has_text="重试")).to_be_hidden()


def test_a_refused_request_shows_the_reason(open_chat: Opener) -> None:
    chat = open_chat(DESKTOP)
    chat.page.route(
        "**/api/ask",
        lambda route: route.fulfill(status=503, json={"error": "服务繁忙，请稍后再试"}),
    )
    chat.ask("离婚冷静期多久")
    expect(chat.page.locator(".bubble.error")).to_contain_text("503 服务繁忙，请稍后再试")


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_layout_fits_phone_and_desktop(
    open_chat: Opener, viewport: dict[str, int], name: str
) -> None:
    chat = open_chat(viewport)
    # Long unbroken text must wrap inside its bubble, not widen the page.
    chat.ask("https://example.org/" + "a" * 300)
    expect(chat.replies()).to_have_count(2)
    chat.page.locator("#menu button", has_text="婚姻家庭").click()
    expect(chat.replies().nth(2).locator("button.choice").first).to_be_visible()
    chat.page.screenshot(path=str(SCREENSHOTS / f"pufa-webchat-{name}.png"))
    assert chat.page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    frame = chat.page.locator(".phone").bounding_box()
    assert frame is not None
    if name == "phone":
        assert frame["x"] == 0 and frame["width"] == viewport["width"]
    else:
        # A centred phone frame, not a chat stretched across the desktop.
        assert frame["width"] <= 460
        assert abs(frame["x"] + frame["width"] / 2 - viewport["width"] / 2) <= 1
    for button in chat.page.locator("#menu button").all():
        box = button.bounding_box()
        assert box is not None and box["y"] + box["height"] <= viewport["height"]
    chat.assert_clean()


def test_the_page_watch_reports_script_errors(open_chat: Opener) -> None:
    chat = open_chat(PHONE)
    chat.page.evaluate("console.error('boom')")
    chat.page.evaluate("setTimeout(() => { throw new Error('bang') }, 0)")
    chat.page.wait_for_timeout(100)
    assert "console: boom" in chat.problems
    assert any("bang" in problem for problem in chat.problems)
