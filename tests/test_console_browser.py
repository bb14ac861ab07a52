"""The console pages in real headless Chromium, against the app on a real HTTP server on loopback."""

from __future__ import annotations

import pytest
from playwright.sync_api import (
    Page,
    expect,
)

from tests.browser_support import DESKTOP, SCREENSHOTS, Opener
from tests.console_support import ACCOUNT_PASSWORD

pytestmark = pytest.mark.browser

#: The phone size the console is checked at (a common large phone).
PHONE = {"width": 390, "height": 844}
OUT_OF_SCOPE = "今天天气怎么样"
EDITOR = "编辑小王"
ADMIN = "管理员老张"


def sign_in(page: Page, base_url: str, path: str = "/admin/", name: str = EDITOR) -> None:
    """Open ``path``, get sent to the sign-in form, and sign in through it as ``name``."""
    page.goto(base_url + path)
    expect(page).to_have_url(f"{base_url}/admin/login?next={path}")
    expect(page.locator("h1")).to_have_text("员工登录")
    page.locator("#name").fill(name)
    page.locator("#password").fill(ACCOUNT_PASSWORD)
    page.locator("button[type=submit]", has_text="登录").click()
    expect(page).to_have_url(base_url + path)


def fits(page: Page, viewport: dict[str, int]) -> bool:
    """Nothing on the page is wider than the viewport."""
    return page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]


def test_sign_in_see_the_dashboard_and_what_pufa_could_not_answer(
    open_tab: Opener, base_url: str
) -> None:
    tab = open_tab(DESKTOP)
    page = tab.page
    asked = page.request.post(f"{base_url}/api/ask", data={"text": OUT_OF_SCOPE, "user": "b1"})
    label = {"fallback": "没答上", "choices": "给了选项"}[asked.json()["kind"]]
    page.goto(f"{base_url}/admin/login")
    page.locator("#name").fill(EDITOR)
    page.locator("#password").fill("wrong password")
    page.locator("button[type=submit]", has_text="登录").click()
    expect(page.locator(".error")).to_have_text("用户名或密码不正确（或账号已停用）")
    # The browser reports the 401 in its console; that one is expected.
    assert len(tab.problems) == 1 and "401" in tab.problems[0]
    tab.problems.clear()
    sign_in(page, base_url)
    expect(page.locator("h1")).to_have_text("概览")
    expect(page.locator('strong[data-status="published"]')).not_to_have_text("0")
    expect(page.locator(".ranked .asked").first).to_have_text(OUT_OF_SCOPE)
    page.locator(".nav a", has_text="没答上的问题").click()
    expect(page).to_have_url(f"{base_url}/admin/unanswered")
    expect(page.locator(".group .asked").first).to_have_text(OUT_OF_SCOPE)
    page.locator("a", has_text="逐条查看").click()
    first = page.locator(".question").first
    expect(first.locator(".asked")).to_have_text(OUT_OF_SCOPE)
    expect(first.locator(".kind")).to_have_text(label)
    expect(page.locator('.nav a[aria-current="page"]')).to_have_text("没答上的问题")
    page.locator(".logout button").click()
    expect(page).to_have_url(f"{base_url}/admin/login")
    expect(page.locator(".flash")).to_have_text("您已退出登录")
    assert tab.problems == []


def test_filters_and_an_entry_page_work_from_the_forms(open_tab: Opener, base_url: str) -> None:
    tab = open_tab(DESKTOP)
    page = tab.page
    sign_in(page, base_url, "/admin/entries")
    page.locator("select[name=topic]").select_option("antifraud")
    page.locator("button", has_text="筛选").click()
    expect(page).to_have_url(f"{base_url}/admin/entries?q=&status=&topic=antifraud")
    topics = page.locator(".entries td[data-label=主题]")
    expect(topics.first).to_have_text("防范诈骗")
    assert set(topics.all_inner_texts()) == {"防范诈骗"}
    question = page.locator(".entries .question-cell a").first
    title = question.inner_text()
    question.click()
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("#answer")).to_be_visible()
    assert tab.problems == []


@pytest.mark.parametrize(("viewport", "name"), [(PHONE, "phone"), (DESKTOP, "desktop")])
def test_console_pages_fit_a_phone_and_a_desktop(
    open_tab: Opener, base_url: str, viewport: dict[str, int], name: str
) -> None:
    tab = open_tab(viewport)
    page = tab.page
    # Long unbroken text must wrap, not widen the page.
    page.request.post(
        f"{base_url}/api/ask", data={"text": "https://example.org/" + "a" * 300, "user": "b2"}
    )
    page.goto(f"{base_url}/admin/login")
    page.screenshot(path=str(SCREENSHOTS / f"pufa-console-login-{name}.png"))
    assert fits(page, viewport)
    sign_in(page, base_url, name=ADMIN)
    for path, shot, whole in [
        ("/admin/", "dashboard", True),
        ("/admin/unanswered", "unanswered", True),
        ("/admin/unanswered/latest", "unanswered-latest", True),
        ("/admin/try?q=冒充", "tryout", True),
        ("/admin/entries", "entries", False),  # all 170 entries: the first screen is enough
        ("/admin/entries/1", "entry", True),
        ("/admin/users", "users", True),
        ("/admin/settings", "settings", True),
        ("/admin/synonyms", "synonyms", False),  # dozens of groups: the first screen
        ("/admin/audit", "audit", False),  # 50 lines a page: the first screen
    ]:
        page.goto(base_url + path)
        page.screenshot(path=str(SCREENSHOTS / f"pufa-console-{shot}-{name}.png"), full_page=whole)
        assert fits(page, viewport), path
    assert tab.problems == []


def test_an_admin_makes_an_account_and_the_new_colleague_signs_in(
    open_tab: Opener, base_url: str
) -> None:
    tab = open_tab(PHONE)
    page = tab.page
    sign_in(page, base_url, "/admin/users", name=ADMIN)
    page.locator("#new-name").fill("新编辑小赵")
    page.locator("#new-role").select_option("editor")
    page.locator("#new-password").fill("小赵的初始密码-2026")
    page.locator("button", has_text="新建").click()
    expect(page.locator(".flash")).to_have_text("已新建账号 新编辑小赵（编辑）")
    expect(page.locator('tr[data-user="新编辑小赵"]')).to_be_visible()
    page.locator(".nav a", has_text="操作记录").click()
    expect(page.locator(".audit tbody tr").first).to_contain_text("新建账号 新编辑小赵（编辑）")
    page.locator(".logout button").click()
    page.locator("#name").fill("新编辑小赵")
    page.locator("#password").fill("小赵的初始密码-2026")
    page.locator("button[type=submit]", has_text="登录").click()
    expect(page.locator(".whoami")).to_have_text("新编辑小赵（编辑）")
    expect(page.locator(".nav a", has_text="账号")).to_have_count(0)
    assert tab.problems == []
