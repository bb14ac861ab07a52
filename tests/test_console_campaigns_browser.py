"""The calendar and campaign pages in real headless Chromium: plan one from a day, submit it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser_support import DESKTOP, SCREENSHOTS, Opener
from tests.test_console_browser import PHONE, fits, sign_in

pytestmark = pytest.mark.browser


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
