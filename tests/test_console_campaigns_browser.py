"""The calendar and campaign pages in real headless Chromium: plan one from a day, submit it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from playwright.sync_api import Browser, BrowserContext, expect

from knowledge.users import User
from tests.browser_support import DESKTOP, SCREENSHOTS, served, watch_page
from tests.test_console_browser import PHONE, Opener, Tab, fits, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(app: Flask, staff_accounts: dict[str, User]) -> Iterator[str]:
    """The app served over HTTP on a free loopback port, in a background thread."""
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


def test_plan_a_campaign_from_the_calendar_and_submit_it(open_tab: Opener, base_url: str) -> None:
    tab = open_tab(DESKTOP)
    page = tab.page
    sign_in(page, base_url, "/admin/calendar")
    expect(page.locator("h1")).to_have_text("宣传日历")
    day = page.locator('li.publicity-day[data-day="elders_day"]').first
    expect(day).to_contain_text("老年节（重阳节）")
    page.screenshot(path=str(SCREENSHOTS / "pufa-calendar-desktop.png"), full_page=True)
    day.locator("a.plan").click()
    expect(page.locator("h1")).to_have_text("计划一次群发")
    expect(page.locator("textarea[name=text]")).to_contain_text("【老年节（重阳节）】")
    page.locator("button[type=submit]", has_text="保存为草稿").click()
    expect(page.locator(".flash")).to_contain_text("（草稿）")
    expect(page.locator("h1")).to_contain_text("老年节（重阳节）")
    page.locator("button", has_text="提交审核").click()
    expect(page.locator(".flash")).to_have_text("已提交审核。")
    expect(page.locator(".status")).to_have_text("待审核")
    page.locator(".nav a", has_text="群发").click()
    expect(page.locator("tr[data-campaign] .status").first).to_have_text("待审核")
    expect(page.locator("#scheduler-state")).to_contain_text("定时发送进程没有在运行")
    assert tab.problems == []


def test_the_calendar_month_grid_fits_a_phone(open_tab: Opener, base_url: str) -> None:
    tab = open_tab(PHONE)
    page = tab.page
    sign_in(page, base_url, "/admin/calendar")
    page.locator("a", has_text="月").nth(1).click()
    expect(page.locator("table.month-grid")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "pufa-calendar-month-phone.png"), full_page=True)
    assert fits(page, PHONE) or page.locator(".table-scroll").count() == 1
    assert tab.problems == []
