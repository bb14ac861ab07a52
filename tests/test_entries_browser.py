"""Writing and reviewing an entry in real headless Chromium, through to the web chat's answer."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect
from sqlite_utils import Database

from knowledge.store import get_entry
from tests.browser_support import DESKTOP, SCREENSHOTS, watch_page
from tests.console_support import ACCOUNT_OF_ROLE, ACCOUNT_PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
QUESTION = "楼上养的鹦鹉天天半夜学打鸣怎么办"
ANSWER = "先和邻居当面协商，请对方夜里把鹦鹉移到远离卧室的房间；协商不成可以申请免费的人民调解。"


@pytest.fixture
def open_page(browser: Browser, base_url: str) -> Iterator[Callable[[dict], tuple[Page, list]]]:
    """A fresh browser context at a viewport size, with the problems its page reports."""
    contexts: list[BrowserContext] = []

    def opener(viewport: dict[str, int]) -> tuple[Page, list[str]]:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        watch_page(page, base_url, problem=problems.append, foreign=problems.append)
        return page, problems

    yield opener
    for context in contexts:
        context.close()


def sign_in(page: Page, base_url: str, role: str) -> None:
    """Sign in through the form as the account of ``role``."""
    page.goto(f"{base_url}/admin/login")
    page.locator("#name").fill(ACCOUNT_OF_ROLE[role])
    page.locator("#password").fill(ACCOUNT_PASSWORD)
    page.locator("button[type=submit]", has_text="登录").click()
    expect(page.locator(".whoami")).to_contain_text(ACCOUNT_OF_ROLE[role])


def fits(page: Page, viewport: dict[str, int]) -> bool:
    """Nothing on the page is wider than the viewport."""
    return page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]


def ask_in_chat(page: Page, base_url: str, text: str) -> Locator:
    """Ask ``text`` in the web chat; the locator of Pufa's reply to it."""
    page.goto(base_url)
    replies = page.locator(".msg.from-pufa .bubble[data-kind]")
    # The page greets on load: count the replies once the greeting is there.
    expect(replies.first).to_be_visible(timeout=15_000)
    before = replies.count()
    page.locator("#input").fill(text)
    page.locator("#input").press("Enter")
    expect(replies).to_have_count(before + 1, timeout=15_000)
    return replies.last


def test_from_an_unanswered_question_to_a_reviewed_entry_the_chat_answers(
    open_page, base_url: str, db: Database
) -> None:
    """The whole loop of issue 8, as staff and a resident live it."""
    resident, resident_problems = open_page(PHONE)
    first = ask_in_chat(resident, base_url, QUESTION)
    expect(first).not_to_have_attribute("data-kind", "answer")

    taken = get_entry(db, 1).alternates[0]
    page, problems = open_page(DESKTOP)
    sign_in(page, base_url, "editor")
    page.locator(".nav a", has_text="没答上的问题").click()
    group = page.locator("li.group", has=page.locator(".asked", has_text=QUESTION))
    expect(group).to_have_count(1)
    group.locator("details.group-actions summary").click()
    group.locator("button", has_text="用它新建条目").click()
    expect(page.locator(".flash")).to_contain_text("草稿")
    expect(page.locator("#question")).to_have_value(QUESTION)
    page.locator("#alternates").fill(f"鹦鹉半夜叫吵得睡不着\n{taken}")
    page.locator("#answer").fill(ANSWER)
    page.locator("#law_refs").fill("民法典第294条")
    # The reply pane follows the typing, before any button is pressed.
    expect(page.locator("#preview")).to_contain_text("先和邻居当面协商")
    expect(page.locator("#preview")).to_contain_text("法律依据：《民法典》第294条")
    expect(page.locator("#preview-bytes")).to_contain_text("/ 2048 字节")
    page.locator("#topic").select_option("property")
    page.locator("button", has_text="预览并检查").click()
    warning = page.locator('.finding[data-kind="collision"]')
    expect(warning).to_contain_text(f"问法“{taken}”会被条目1")
    expect(page.locator("#preview")).to_contain_text("法律依据：《民法典》第294条")
    expect(page.locator("#preview-bytes")).to_contain_text("/ 2048 字节")
    page.screenshot(path=str(SCREENSHOTS / "pufa-console-entry-form-desktop.png"), full_page=True)

    page.locator("#alternates").fill("鹦鹉半夜叫吵得睡不着\n邻居家鹦鹉天天叫")
    page.locator("button", has_text="预览并检查").click()
    expect(page.locator("#checks-ok")).to_have_text("没有发现问题。")
    page.locator("button", has_text="保存并提交审核").click()
    expect(page.locator(".flash")).to_contain_text("已提交审核")
    expect(page.locator("#entry-status")).to_have_text("待审核")
    page.locator(".nav a", has_text="没答上的问题").click()
    expect(page.locator(".asked", has_text=QUESTION)).to_have_count(0)
    page.locator(".logout button").click()

    sign_in(page, base_url, "reviewer")
    page.locator(".nav a", has_text="审核").click()
    page.locator(".review-queue a", has_text=QUESTION).click()
    expect(page.locator("#reply")).to_contain_text(ANSWER)
    expect(page.locator(".article-title")).to_have_text("《民法典》第294条")
    page.screenshot(path=str(SCREENSHOTS / "pufa-console-review-desktop.png"), full_page=True)
    page.locator("#approve").click()
    expect(page.locator(".flash")).to_contain_text("已审核通过并发布")
    expect(page.locator("#entry-status")).to_have_text("已发布")

    answer = ask_in_chat(resident, base_url, QUESTION)
    expect(answer).to_have_attribute("data-kind", "answer")
    expect(answer).to_contain_text("先和邻居当面协商")

    page.locator(".nav a", has_text="概览").click()
    expect(page.locator("table.top-entries")).to_contain_text(QUESTION)
    assert problems == [] and resident_problems == []


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_entry_pages_fit_a_phone_and_a_desktop(
    open_page, base_url: str, viewport: dict[str, int], name: str
) -> None:
    editor, problems = open_page(viewport)
    sign_in(editor, base_url, "editor")
    editor.goto(f"{base_url}/admin/entries/1/edit")
    editor.locator("#answer").fill(get_answer(editor) + "另见民法典第1080条。")
    editor.locator("button", has_text="预览并检查").click()
    expect(editor.locator('.finding[data-kind="citation"]')).to_be_visible()
    editor.screenshot(path=str(SCREENSHOTS / f"pufa-console-edit-{name}.png"), full_page=True)
    assert fits(editor, viewport)
    editor.locator("#answer").fill(get_answer(editor).replace("另见民法典第1080条。", "补充一句。"))
    editor.locator("button", has_text="保存并提交审核").click()
    expect(editor.locator(".flash")).to_contain_text("已提交审核")
    for path, shot in [
        ("/admin/entries?q=离婚", "entries-search"),
        ("/admin/entries/1", "entry-history"),
    ]:
        editor.goto(base_url + path)
        editor.screenshot(path=str(SCREENSHOTS / f"pufa-console-{shot}-{name}.png"), full_page=True)
        assert fits(editor, viewport), path

    reviewer, reviewer_problems = open_page(viewport)
    sign_in(reviewer, base_url, "reviewer")
    for path, shot in [("/admin/review", "review-queue"), ("/admin/review/1", "review")]:
        reviewer.goto(base_url + path)
        reviewer.screenshot(
            path=str(SCREENSHOTS / f"pufa-console-{shot}-{name}.png"), full_page=True
        )
        assert fits(reviewer, viewport), path
    assert problems == [] and reviewer_problems == []


def get_answer(page: Page) -> str:
    """The answer field's current text."""
    return page.locator("#answer").input_value()
