"""In real headless Chromium: 👍/👎 in the web chat, the dashboard and the unanswered queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlite_utils import Database

from knowledge.turns import record_turn, retention_cutoff
from tests.browser_support import DESKTOP, SCREENSHOTS, watch_page
from tests.console_support import ACCOUNT_OF_ROLE, ACCOUNT_PASSWORD

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PARROT = [
    "楼上的鹦鹉半夜学打鸣怎么办",
    "楼上鹦鹉半夜学打鸣怎么办？",
    "楼上的鹦鹉半夜学打鸣，怎么办啊",
]


@pytest.fixture
def tab(browser: Browser, base_url: str) -> Iterator[tuple[Page, list[str]]]:
    """A fresh page that records script errors and requests to anywhere but the app."""
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    problems: list[str] = []
    watch_page(page, base_url, problems.append, lambda url: problems.append(f"foreign: {url}"))
    yield page, problems
    context.close()


def sign_in(page: Page, base_url: str, path: str) -> None:
    page.goto(base_url + path)
    page.locator("#name").fill(ACCOUNT_OF_ROLE["editor"])
    page.locator("#password").fill(ACCOUNT_PASSWORD)
    page.locator("button[type=submit]", has_text="登录").click()
    expect(page).to_have_url(base_url + path)


def fits(page: Page, viewport: dict[str, int]) -> bool:
    return page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]


def test_thumbs_down_under_an_answer_is_recorded_and_shows_on_the_dashboard(
    tab: tuple[Page, list[str]], base_url: str, db: Database
) -> None:
    page, problems = tab
    page.goto(base_url + "/")
    expect(page.locator(".from-pufa .bubble").first).to_contain_text("欢迎")
    expect(page.locator(".rating")).to_have_count(0)  # the welcome is not an entry's answer
    page.locator("#input").fill("离婚冷静期多久")
    page.locator("#input").press("Enter")
    rating = page.locator(".rating").last
    expect(rating.locator("button")).to_have_count(2)
    rating.locator("button", has_text="没用").click()
    expect(rating.locator(".rating-note")).to_have_text("谢谢，我们会改进这条回答。")
    expect(rating.locator("button").first).to_be_disabled()
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(SCREENSHOTS / "pufa-residents-chat-rating-phone.png"))
    feedback = db.execute("SELECT channel, helpful FROM turns WHERE kind = 'feedback'").fetchall()
    assert feedback == [("web", 0)]
    sign_in(page, base_url, "/admin/")
    expect(page.locator('strong[data-figure="unhelpful"]')).to_have_text("100.0%")
    expect(page.locator("svg.daily rect.band-answer")).to_have_count(1)
    assert problems == []


def test_an_editor_dismisses_a_group_and_it_leaves_the_queue(
    tab: tuple[Page, list[str]], base_url: str
) -> None:
    page, problems = tab
    for n, text in enumerate(PARROT):
        page.request.post(f"{base_url}/api/ask", data={"text": text, "user": f"r{n}"})
    page.request.post(f"{base_url}/api/ask", data={"text": "今天天气怎么样", "user": "r9"})
    sign_in(page, base_url, "/admin/unanswered")
    groups = page.locator(".group")
    expect(groups).to_have_count(2)
    parrot = groups.first
    expect(parrot.locator(".count")).to_have_text("3 次")
    parrot.locator(".group-actions summary").click()
    parrot.locator("button", has_text="忽略").click()
    expect(page.locator(".flash")).to_have_text("已忽略3条问题")
    expect(page.locator(".group")).to_have_count(1)
    expect(page.locator(".group .asked")).to_have_text("今天天气怎么样")
    assert problems == []


def test_tryout_from_the_form(tab: tuple[Page, list[str]], base_url: str, db: Database) -> None:
    page, problems = tab
    sign_in(page, base_url, "/admin/try")
    page.locator("#q").fill("冒充")
    page.locator("button", has_text="试一试").click()
    expect(page.locator(".band")).to_have_text("给出选项")
    expect(page.locator(".ranking li")).to_have_count(3)
    expect(page.locator(".reply-preview")).to_contain_text("您想问的是不是下面这些问题")
    assert db["turns"].count == 0
    assert problems == []


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_the_residents_pages_fit_a_phone_and_a_desktop(
    browser: Browser, base_url: str, db: Database, viewport: dict[str, int], name: str
) -> None:
    # Two weeks of questions, so the chart has a bar a day.
    for days in range(1, 14):
        for n, kind in enumerate(
            ["answer"] * (days % 5 + 2) + ["choices", "fallback"] * (days % 3)
        ):
            turn = record_turn(db, channel="wx", kind=kind, resident="wx:r", text=f"旧问题{n}")
            db.execute("UPDATE turns SET at = ? WHERE id = ?", [retention_cutoff(days), turn])
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    problems: list[str] = []
    watch_page(page, base_url, problems.append, lambda url: problems.append(f"foreign: {url}"))
    for n, text in enumerate([*PARROT, "离婚冷静期多久", "冒充", "借钱不还", "今天天气怎么样"]):
        page.request.post(f"{base_url}/api/ask", data={"text": text, "user": f"s{n}"})
    page.request.post(f"{base_url}/api/ask", data={"text": "没用", "user": "s3"})
    sign_in(page, base_url, "/admin/")
    for path, shot in [
        ("/admin/", "dashboard"),
        ("/admin/unanswered", "unanswered-groups"),
        ("/admin/try?q=冒充", "tryout"),
    ]:
        page.goto(base_url + path)
        if shot == "unanswered-groups":
            page.locator(".group-actions summary").first.click()
        page.screenshot(path=str(SCREENSHOTS / f"pufa-residents-{shot}-{name}.png"), full_page=True)
        assert fits(page, viewport), path
    context.close()
    assert problems == []
