"""The console pages moved from /staff: dashboard, unanswered log, entries — and bad input."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from knowledge.entries import Entry
from knowledge.laws import article_for_ref
from knowledge.settings import set_setting
from knowledge.store import count_entries, create_entry, list_entries, local_time, update_entry
from knowledge.topics import TOPICS
from tests.console_support import text_of

PAGES = ["/admin/", "/admin/unanswered", "/admin/entries", "/admin/entries/1"]


@pytest.fixture
def staff(editor: FlaskClient) -> FlaskClient:
    """A client signed in to the console (as an editor: every page here is for all roles)."""
    return editor


def log_question(db: Database, text: str, kind: str, asked_at: str, candidates=()) -> None:
    """An unanswered turn with a fixed time, as the responder records them."""
    db["turns"].insert(
        {
            "at": asked_at,
            "channel": "wx",
            "kind": kind,
            "resident": "wx:test",
            "text": text,
            "candidates": json.dumps(list(candidates), ensure_ascii=False),
        }
    )


# --- the dashboard ------------------------------------------------------------------------


def test_dashboard_counts_entries_per_status_and_topic(staff: FlaskClient, db: Database) -> None:
    create_entry(db, Entry(None, "antifraud", "草稿问题一", "答案"), "测试")
    create_entry(db, Entry(None, "antifraud", "待审问题", "答案", status="in_review"), "测试")
    entries = list_entries(db)
    page = staff.get("/admin/").get_data(as_text=True)
    for status, count in Counter(e.status for e in entries).items():
        assert f'<strong data-status="{status}">{count}</strong>' in page
    assert '<strong data-status="archived">0</strong>' in page
    for topic, name in TOPICS.items():
        row = re.search(rf'<tr data-topic="{topic}">(.*?)</tr>', page, re.S)
        assert row and name in row[1]
        cells = re.findall(r"<td>(\d+)</td>", row[1])
        counts = Counter(e.status for e in entries if e.topic == topic)
        assert cells == [
            str(counts[s]) for s in ("draft", "in_review", "published", "archived")
        ] + [str(sum(counts.values()))]


def test_dashboard_shows_the_five_commonest_unanswered(staff: FlaskClient, db: Database) -> None:
    for n in range(8):
        for _ in range(n + 1):
            log_question(
                db,
                f"第{n}类问题{'甲乙丙丁戊己庚辛'[n] * 6}",
                "fallback",
                "2025-03-01T00:00:00+00:00",
            )
    page = text_of(staff.get("/admin/"))
    shown = re.findall(r"第(\d+)类问题", page)
    assert shown == ["7", "6", "5", "4", "3"]
    assert "去处理全部 36 条" in page


def test_dashboard_without_unanswered_says_so(staff: FlaskClient) -> None:
    assert "还没有记录" in text_of(staff.get("/admin/"))


# --- the unanswered log -------------------------------------------------------------------


def log_two_questions(db: Database) -> Entry:
    """Log a choices turn (with the returned entry as its candidate) and, later, a fallback."""
    entry = list_entries(db)[0]
    log_question(
        db,
        "火星上的房子怎么过户",
        "choices",
        "2025-01-01T16:30:00+00:00",
        [{"entry_id": entry.id, "question": entry.question, "score": 0.5678}],
    )
    log_question(db, "外星人欠钱不还", "fallback", "2025-01-02T01:05:00+00:00")
    return entry


def test_unanswered_shows_beijing_time_kind_text_and_candidates(
    staff: FlaskClient, db: Database
) -> None:
    entry = log_two_questions(db)
    page = text_of(staff.get("/admin/unanswered/latest"))
    assert page.index("外星人欠钱不还") < page.index("火星上的房子怎么过户")  # newest first
    assert "2025-01-02 00:30" in page  # 16:30 UTC is half past midnight in Beijing
    assert "2025-01-02 09:05" in page
    assert "给了选项" in page and "没答上" in page
    assert f'<a href="/admin/entries/{entry.id}">{entry.question}</a>' in page
    assert "0.57" in page
    assert "没有相近的条目" in page


def test_an_out_of_scope_question_reaches_the_log(staff: FlaskClient) -> None:
    asked = staff.post("/api/ask", json={"text": "今天天气怎么样", "user": "u1"})
    label = {"fallback": "没答上", "choices": "给了选项"}[asked.get_json()["kind"]]
    page = text_of(staff.get("/admin/unanswered/latest"))
    assert re.search(rf"{label}</span>\s*</p>\s*<p class=\"asked\">今天天气怎么样</p>", page)


def test_questions_are_shown_as_text_never_as_markup(staff: FlaskClient, db: Database) -> None:
    markup = "<script>alert(1)</script><b>离婚</b>"
    log_question(
        db,
        markup,
        "choices",
        "2025-01-01T00:00:00+00:00",
        [{"entry_id": 1, "question": "<img src=x onerror=alert(2)>", "score": 0.4}],
    )
    for path in ("/admin/unanswered/latest", "/admin/unanswered", "/admin/"):
        raw = staff.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;离婚&lt;/b&gt;" in raw
        assert "<script" not in raw and "<b>" not in raw and "<img" not in raw


def test_unanswered_is_fifty_a_page(staff: FlaskClient, db: Database) -> None:
    for n in range(120):
        log_question(db, f"问题{n:03d}", "fallback", "2025-01-01T00:00:00+00:00")

    def numbers(page: int) -> list[int]:
        return [
            int(n)
            for n in re.findall(
                r"问题(\d{3})", text_of(staff.get(f"/admin/unanswered/latest?page={page}"))
            )
        ]

    assert numbers(1) == list(range(119, 69, -1))
    assert numbers(2) == list(range(69, 19, -1))
    assert numbers(3) == list(range(19, -1, -1))
    # Past the end: the last page.
    assert numbers(99) == numbers(3)
    assert numbers(999999999) == numbers(3)
    first = staff.get("/admin/unanswered/latest").get_data(as_text=True)
    assert "第 1 / 3 页" in first and 'href="/admin/unanswered/latest?page=2"' in first
    assert "上一页" not in first
    middle = staff.get("/admin/unanswered/latest?page=2").get_data(as_text=True)
    assert (
        'href="/admin/unanswered/latest?page=1"' in middle
        and 'href="/admin/unanswered/latest?page=3"' in middle
    )
    assert "下一页" not in staff.get("/admin/unanswered/latest?page=3").get_data(as_text=True)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "٣", " 2", "1e3", "0001", "9" * 30])
def test_a_bad_page_number_is_400(staff: FlaskClient, page: str) -> None:
    response = staff.get(f"/admin/unanswered/latest?page={quote(page)}")
    assert response.status_code == 400
    assert "页码应为正整数" in text_of(response)


def test_an_empty_log_has_one_empty_page(staff: FlaskClient) -> None:
    for page in ("1", "5"):
        response = staff.get(f"/admin/unanswered/latest?page={page}")
        assert response.status_code == 200
        assert "还没有记录" in text_of(response)


# --- entries ------------------------------------------------------------------------------


def entry_ids(response) -> list[int]:
    """The entry ids linked from an entries listing."""
    return [
        int(n) for n in re.findall(r'href="/admin/entries/(\d+)"', response.get_data(as_text=True))
    ]


def all_pages(staff: FlaskClient, query: str = "") -> list[int]:
    """The entry ids of every page of an entries listing, in order."""
    ids, page = [], 1
    while True:
        response = staff.get(f"/admin/entries?{query}&page={page}")
        assert response.status_code == 200
        ids.extend(entry_ids(response))
        if 'rel="next"' not in response.get_data(as_text=True):
            return ids
        page += 1


def test_entries_lists_every_entry(staff: FlaskClient, db: Database) -> None:
    response = staff.get("/admin/entries")
    assert response.status_code == 200
    assert len(entry_ids(response)) == 30
    assert all_pages(staff) == [e.id for e in list_entries(db)]
    assert f"共 {count_entries(db)} 条" in text_of(response)
    first = list_entries(db)[0]
    assert first.question in text_of(response) and "已发布" in text_of(response)


def test_entries_filter_by_status_and_topic(staff: FlaskClient, db: Database) -> None:
    draft = create_entry(db, Entry(None, "antifraud", "草稿：陌生链接能点吗", "不能。"), "编辑甲")
    other = create_entry(db, Entry(None, "marriage", "草稿：彩礼要退吗", "看情况。"), "编辑乙")
    assert entry_ids(staff.get("/admin/entries?status=draft")) == [draft, other]
    assert entry_ids(staff.get("/admin/entries?status=draft&topic=antifraud")) == [draft]
    marriage = [e.id for e in list_entries(db) if e.topic == "marriage"]
    assert all_pages(staff, "topic=marriage") == marriage
    assert entry_ids(staff.get("/admin/entries?status=archived")) == []
    assert "没有符合条件的条目" in text_of(staff.get("/admin/entries?status=archived"))
    # Empty values (the form's "全部") filter nothing.
    assert len(all_pages(staff, "status=&topic=")) == count_entries(db)
    # The form shows what is selected.
    page = staff.get("/admin/entries?status=draft").get_data(as_text=True)
    assert '<option value="draft" selected>' in page
    assert "编辑甲" in text_of(staff.get("/admin/entries?status=draft"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=deleted", "没有这个状态：deleted"),
        ("topic=weather", "没有这个主题：weather"),
        ("topic=婚姻家庭", "没有这个主题：婚姻家庭"),
        ("status=<script>", "没有这个状态：<script>"),
    ],
)
def test_unknown_filters_are_400(staff: FlaskClient, query: str, message: str) -> None:
    response = staff.get(f"/admin/entries?{query}")
    assert response.status_code == 400
    assert message in text_of(response)
    assert "<script>" not in response.get_data(as_text=True)


def test_one_entry_shows_everything_about_it(staff: FlaskClient, db: Database) -> None:
    set_setting(db, "办公室电话", "0571-12345678", "测试")
    entry_id = create_entry(
        db,
        Entry(
            None,
            "marriage",
            "想离婚去哪里办？",
            "先打电话问问：{办公室电话}。{未知设置}保持原样。",
            alternates=["离婚在哪办", "离婚手续"],
            law_refs=["民法典第1079条"],
            keywords=["离婚", "手续"],
            status="draft",
        ),
        "编辑甲",
    )
    update_entry(db, entry_id, {"status": "in_review"}, "审核员乙")
    response = staff.get(f"/admin/entries/{entry_id}")
    page = text_of(response)
    assert response.status_code == 200
    assert "想离婚去哪里办？" in page
    assert "先打电话问问：0571-12345678。{未知设置}保持原样。" in page
    article = article_for_ref("民法典第1079条")
    assert article is not None
    assert article.title in page and article.text.splitlines()[0] in page
    assert "离婚在哪办" in page and "离婚手续" in page
    assert "<li>手续</li>" in page
    assert "待审核" in page and "婚姻家庭" in page
    versions = re.findall(r'data-version="(\d+)"', page)
    assert versions == ["2", "1"]
    assert "审核员乙" in page and "编辑甲" in page
    # Versions keep the answer as written, placeholders and all.
    assert "先打电话问问：{办公室电话}" in page


def test_entry_text_is_escaped(staff: FlaskClient, db: Database) -> None:
    entry_id = create_entry(
        db, Entry(None, "tort", "<script>alert(1)</script>", "<b>加粗</b>"), "<i>我</i>"
    )
    raw = staff.get(f"/admin/entries/{entry_id}").get_data(as_text=True)
    assert "<script>alert" not in raw and "<b>" not in raw and "<i>" not in raw
    assert "&lt;b&gt;加粗&lt;/b&gt;" in raw


@pytest.mark.parametrize("path", ["/admin/entries/999999", "/admin/entries/" + "9" * 40])
def test_an_unknown_entry_is_404(staff: FlaskClient, path: str) -> None:
    response = staff.get(path)
    assert response.status_code == 404
    assert "没有编号为" in text_of(response)
    assert "返回员工后台" in text_of(response)


def test_entry_ids_that_are_not_numbers_are_404(staff: FlaskClient) -> None:
    assert staff.get("/admin/entries/abc").status_code == 404
    assert staff.get("/admin/entries/-1").status_code == 404


@pytest.mark.parametrize("path", ["/admin/no-such-page", "/admin/entries/abc", "/admin/a/b/c"])
def test_unknown_console_addresses_get_the_consoles_404_page(staff: FlaskClient, path: str) -> None:
    response = staff.get(path)
    assert response.status_code == 404
    page = text_of(response)
    assert "页面不存在" in page and "返回员工后台" in page
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_a_page_that_takes_only_posts_still_answers_405(staff: FlaskClient) -> None:
    response = staff.get("/admin/logout")
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_strangers_asking_an_unknown_console_address_are_sent_to_sign_in(
    client: FlaskClient,
) -> None:
    response = client.get("/admin/no-such-page")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


# --- the frame around every page ----------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_shared_layout_and_locks_down(staff: FlaskClient, path: str) -> None:
    response = staff.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in page and 'name="viewport"' in page
    assert "/admin/static/console.css" in page
    assert 'action="/admin/logout"' in page
    assert page.count('aria-current="page"') == 1
    # Scripts only from the console's own files: never inline.
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_stylesheet_is_served_before_signing_in(client: FlaskClient) -> None:
    response = client.get("/admin/static/console.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    response.close()


def test_the_api_and_chat_need_no_staff_token(client: FlaskClient) -> None:
    assert client.post("/api/ask", json={"text": "离婚冷静期多久"}).status_code == 200
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    ("stamp", "shown"),
    [
        ("2025-06-30T16:00:00+00:00", "2025-07-01 00:00"),
        ("2025-06-30T16:00:00", "2025-07-01 00:00"),
        ("not a time", "not a time"),
        (None, ""),
    ],
)
def test_local_time_is_beijing_time(stamp: str | None, shown: str) -> None:
    assert local_time(stamp) == shown


def test_unanswered_download_is_a_csv_excel_reads(staff: FlaskClient, db: Database) -> None:
    entry = log_two_questions(db)
    assert 'href="/admin/unanswered.csv"' in staff.get("/admin/unanswered").get_data(as_text=True)
    response = staff.get("/admin/unanswered.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [
        ["时间（北京）", "处理", "居民的问题", "最接近的条目", "得分"],
        ["2025-01-02 09:05", "没答上", "外星人欠钱不还", "", ""],
        ["2025-01-02 00:30", "给了选项", "火星上的房子怎么过户", entry.question, "0.57"],
    ]


def test_the_old_staff_addresses_lead_to_the_console(client: FlaskClient) -> None:
    for old, new in [
        ("/staff/", "/admin/"),
        ("/staff/unanswered?page=2", "/admin/unanswered?page=2"),
        ("/staff/entries/7", "/admin/entries/7"),
    ]:
        response = client.get(old)
        assert response.status_code == 308, old
        assert response.headers["Location"] == new
    # Without the slash, too (via /staff/), ending at the sign-in form.
    assert client.get("/staff", follow_redirects=True).request.path == "/admin/login"


def test_unanswered_download_needs_a_signed_in_staff_member(client: FlaskClient) -> None:
    response = client.get("/admin/unanswered.csv")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


def test_nothing_but_the_app_factory_imports_the_console() -> None:
    root = Path(__file__).resolve().parent.parent
    importers = sorted(
        str(path.relative_to(root))
        for folder in ("bot", "knowledge", "scheduler", "bench")
        for path in (root / folder).rglob("*.py")
        if re.search(r"^\s*(import console|from console[ .])", path.read_text("utf-8"), re.M)
    )
    assert importers == ["bot/__init__.py"]
