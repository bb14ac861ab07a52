"""The staff pages: sign-in, the unanswered log, the entries — and every way to get them wrong."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlite_utils import Database

from bot import create_app
from bot.config import defaults
from knowledge.entries import Entry
from knowledge.laws import article_for_ref
from knowledge.settings import set_setting
from knowledge.staff import LoginThrottle, local_time
from knowledge.store import count_entries, create_entry, list_entries, update_entry
from knowledge.topics import TOPICS
from tests.conftest import TEST_CONFIG

#: Not ASCII on purpose: hmac.compare_digest refuses non-ASCII str, so this catches a 500.
PASSWORD = "清河-staff-2025"
PAGES = ["/staff/", "/staff/unanswered", "/staff/entries", "/staff/entries/1"]


@pytest.fixture
def app(database_path: Path) -> Flask:
    """The app with the staff pages switched on."""
    return create_app({**TEST_CONFIG, "DATABASE": str(database_path), "STAFF_PASSWORD": PASSWORD})


def csrf_token(client: FlaskClient, path: str = "/staff/login") -> str:
    """The CSRF token in the form on ``path``."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page
    return match[1]


def sign_in(client: FlaskClient, password: str = PASSWORD, **form: str):
    """Post the sign-in form with a valid CSRF token."""
    token = csrf_token(client)
    return client.post("/staff/login", data={"csrf_token": token, "password": password, **form})


@pytest.fixture
def staff(client: FlaskClient) -> FlaskClient:
    """A client signed in as staff."""
    assert sign_in(client).status_code == 302
    return client


def text_of(response) -> str:
    """The response body as text, entities decoded (what a person reads)."""
    return html.unescape(response.get_data(as_text=True))


def log_question(db: Database, text: str, kind: str, asked_at: str, candidates=()) -> None:
    """An unanswered-log row with a fixed time, as the dialogue writes them."""
    db["unanswered"].insert(
        {
            "text": text,
            "kind": kind,
            "user": "test",
            "asked_at": asked_at,
            "candidates": json.dumps(list(candidates), ensure_ascii=False),
        }
    )


# --- switched off -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"STAFF_PASSWORD": ""}, "员工页面未启用：请设置 PUFA_STAFF_PASSWORD"),
        ({}, "员工页面未启用：请设置 PUFA_STAFF_PASSWORD"),
        ({"STAFF_PASSWORD": 123456}, "纯数字的密码请加引号"),
        (
            {"STAFF_PASSWORD": PASSWORD, "SECRET_KEY": defaults("instance")["SECRET_KEY"]},
            "请把 PUFA_SECRET_KEY 设为一个长的随机值",
        ),
    ],
)
def test_staff_pages_answer_503_while_switched_off(
    database_path: Path, overrides: dict, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    client = create_app({**TEST_CONFIG, "DATABASE": str(database_path), **overrides}).test_client()
    for path in [*PAGES, "/staff/login"]:
        response = client.get(path)
        assert response.status_code == 503, path
        assert message in text_of(response)
    assert client.post("/staff/login", data={"password": "x"}).status_code == 503
    assert "staff page /staff/login refused" in caplog.text
    # The resident side does not care.
    assert client.post("/api/ask", json={"text": "离婚冷静期多久"}).status_code == 200


# --- signing in ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*PAGES, "/staff/entries?status=draft&topic=marriage"])
def test_strangers_are_sent_to_sign_in_and_back(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/staff/login"
    assert parse_qs(location.query) == {"next": [path]}
    signed_in = sign_in(client, next=path)
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"] == path
    assert client.get(path).status_code == 200


def test_sign_in_form_is_in_chinese_with_a_password_field(client: FlaskClient) -> None:
    response = client.get("/staff/login?next=/staff/unanswered")
    page = text_of(response)
    assert response.status_code == 200
    assert "员工登录" in page and 'type="password"' in page
    assert 'name="next" value="/staff/unanswered"' in page


def test_wrong_password_shows_the_form_again_with_401(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = sign_in(client, password="wrong")
    assert response.status_code == 401
    assert "密码不正确" in text_of(response)
    assert 'type="password"' in text_of(response)
    assert "wrong password" in caplog.text
    assert client.get("/staff/").status_code == 302


def test_empty_password_is_asked_for(client: FlaskClient) -> None:
    response = sign_in(client, password="")
    assert response.status_code == 400
    assert "请输入密码" in text_of(response)


def test_right_password_signs_in_to_the_dashboard(client: FlaskClient) -> None:
    response = sign_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    with client.session_transaction() as session:
        assert session["staff"] is True
    assert "概览" in text_of(client.get("/staff/"))
    # Signed in, the form just moves on.
    assert client.get("/staff/login").headers["Location"] == "/staff/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/staff/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "staff/",
        " //evil.example",
        "/staff/\r\nSet-Cookie: x=1",
    ],
)
def test_sign_in_never_redirects_off_site(
    client: FlaskClient, target: str, caplog: pytest.LogCaptureFixture
) -> None:
    response = sign_in(client, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/"
    assert "refused redirect target" in caplog.text


def test_the_form_does_not_carry_an_off_site_next(client: FlaskClient) -> None:
    page = text_of(client.get("/staff/login?next=https://evil.example/"))
    assert "evil.example" not in page
    assert 'name="next" value="/staff/"' in page


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_sign_in_without_the_csrf_token_is_refused(
    client: FlaskClient, token: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    csrf_token(client)  # the session has a token; the post does not carry it
    form = {"password": PASSWORD} if token is None else {"password": PASSWORD, "csrf_token": token}
    response = client.post("/staff/login", data=form)
    assert response.status_code == 400
    assert "表单已过期或来源不明" in text_of(response)
    assert "CSRF" in caplog.text
    assert client.get("/staff/").status_code == 302


def test_sign_in_without_any_session_is_refused(client: FlaskClient) -> None:
    response = client.post("/staff/login", data={"password": PASSWORD, "csrf_token": "x"})
    assert response.status_code == 400


def test_five_wrong_passwords_lock_the_address_out(
    client: FlaskClient, app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    for _ in range(5):
        assert sign_in(client, password="wrong").status_code == 401
    locked = sign_in(client)  # even the right password waits
    assert locked.status_code == 429
    assert "密码错误次数太多" in text_of(locked)
    assert 1 <= int(locked.headers["Retry-After"]) <= 60
    assert "locked out" in caplog.text
    assert client.get("/staff/").status_code == 302
    # Another address is not affected.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert sign_in(other).status_code == 302


def test_the_lockout_slides_with_time_and_a_success_clears_it() -> None:
    clock = [1000.0]
    throttle = LoginThrottle(limit=5, window=60.0, clock=lambda: clock[0])
    for _ in range(4):
        throttle.note_failure("a")
        clock[0] += 1
    assert throttle.wait_seconds("a") == 0
    throttle.note_failure("a")
    assert throttle.wait_seconds("a") == 56  # the first failure ages out at 1060
    clock[0] = 1060.0
    assert throttle.wait_seconds("a") == 0
    throttle.note_failure("a")
    assert throttle.wait_seconds("a") > 0
    throttle.forget("a")
    assert throttle.wait_seconds("a") == 0


def test_quiet_addresses_are_forgotten() -> None:
    clock = [0.0]
    throttle = LoginThrottle(clock=lambda: clock[0])
    throttle.note_failure("old")
    clock[0] = 61.0
    throttle.note_failure("new")
    assert list(throttle._failures) == ["new"]


# --- signing out --------------------------------------------------------------------------


def test_sign_out_ends_the_session(staff: FlaskClient) -> None:
    token = csrf_token(staff, "/staff/")
    response = staff.post("/staff/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login"
    assert "您已退出登录" in text_of(staff.get("/staff/login"))
    assert staff.get("/staff/").status_code == 302


def test_sign_out_needs_the_csrf_token_and_a_post(staff: FlaskClient) -> None:
    assert staff.post("/staff/logout").status_code == 400
    assert staff.post("/staff/logout", data={"csrf_token": "forged"}).status_code == 400
    assert staff.get("/staff/logout").status_code == 405
    assert staff.get("/staff/").status_code == 200


def test_signing_in_issues_a_new_csrf_token(client: FlaskClient) -> None:
    before = csrf_token(client)
    sign_in(client)
    assert csrf_token(client, "/staff/") != before


# --- the dashboard ------------------------------------------------------------------------


def test_dashboard_counts_entries_per_status_and_topic(staff: FlaskClient, db: Database) -> None:
    create_entry(db, Entry(None, "antifraud", "草稿问题一", "答案"), "测试")
    create_entry(db, Entry(None, "antifraud", "待审问题", "答案", status="in_review"), "测试")
    entries = list_entries(db)
    page = staff.get("/staff/").get_data(as_text=True)
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


def test_dashboard_shows_the_twenty_latest_unanswered(staff: FlaskClient, db: Database) -> None:
    for n in range(25):
        log_question(db, f"第{n}个问题", "fallback", f"2025-03-01T00:{n:02d}:00+00:00")
    page = text_of(staff.get("/staff/"))
    shown = re.findall(r"第(\d+)个问题", page)
    assert shown == [str(n) for n in range(24, 4, -1)]
    assert "查看全部 25 条" in page


def test_dashboard_without_unanswered_says_so(staff: FlaskClient) -> None:
    assert "还没有记录" in text_of(staff.get("/staff/"))


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
    page = text_of(staff.get("/staff/unanswered"))
    assert page.index("外星人欠钱不还") < page.index("火星上的房子怎么过户")  # newest first
    assert "2025-01-02 00:30" in page  # 16:30 UTC is half past midnight in Beijing
    assert "2025-01-02 09:05" in page
    assert "给了选项" in page and "没答上" in page
    assert f'<a href="/staff/entries/{entry.id}">{entry.question}</a>' in page
    assert "0.57" in page
    assert "没有相近的条目" in page


def test_an_out_of_scope_question_reaches_the_log(staff: FlaskClient) -> None:
    asked = staff.post("/api/ask", json={"text": "今天天气怎么样", "user": "u1"})
    label = {"fallback": "没答上", "choices": "给了选项"}[asked.get_json()["kind"]]
    page = text_of(staff.get("/staff/unanswered"))
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
    for path in ("/staff/unanswered", "/staff/"):
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
                r"问题(\d{3})", text_of(staff.get(f"/staff/unanswered?page={page}"))
            )
        ]

    assert numbers(1) == list(range(119, 69, -1))
    assert numbers(2) == list(range(69, 19, -1))
    assert numbers(3) == list(range(19, -1, -1))
    # Past the end: the last page.
    assert numbers(99) == numbers(3)
    assert numbers(999999999) == numbers(3)
    first = staff.get("/staff/unanswered").get_data(as_text=True)
    assert "第 1 / 3 页" in first and 'href="/staff/unanswered?page=2"' in first
    assert "上一页" not in first
    middle = staff.get("/staff/unanswered?page=2").get_data(as_text=True)
    assert (
        'href="/staff/unanswered?page=1"' in middle and 'href="/staff/unanswered?page=3"' in middle
    )
    assert "下一页" not in staff.get("/staff/unanswered?page=3").get_data(as_text=True)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "", "٣", " 2", "1e3", "0001", "9" * 30])
def test_a_bad_page_number_is_400(staff: FlaskClient, page: str) -> None:
    response = staff.get(f"/staff/unanswered?page={quote(page)}")
    assert response.status_code == 400
    assert "页码应为正整数" in text_of(response)


def test_an_empty_log_has_one_empty_page(staff: FlaskClient) -> None:
    for page in ("1", "5"):
        response = staff.get(f"/staff/unanswered?page={page}")
        assert response.status_code == 200
        assert "还没有记录" in text_of(response)


# --- entries ------------------------------------------------------------------------------


def entry_ids(response) -> list[int]:
    """The entry ids linked from an entries listing."""
    return [
        int(n) for n in re.findall(r'href="/staff/entries/(\d+)"', response.get_data(as_text=True))
    ]


def test_entries_lists_every_entry(staff: FlaskClient, db: Database) -> None:
    response = staff.get("/staff/entries")
    assert response.status_code == 200
    assert entry_ids(response) == [e.id for e in list_entries(db)]
    assert f"共 {count_entries(db)} 条" in text_of(response)
    first = list_entries(db)[0]
    assert first.question in text_of(response) and "已发布" in text_of(response)


def test_entries_filter_by_status_and_topic(staff: FlaskClient, db: Database) -> None:
    draft = create_entry(db, Entry(None, "antifraud", "草稿：陌生链接能点吗", "不能。"), "编辑甲")
    other = create_entry(db, Entry(None, "marriage", "草稿：彩礼要退吗", "看情况。"), "编辑乙")
    assert entry_ids(staff.get("/staff/entries?status=draft")) == [draft, other]
    assert entry_ids(staff.get("/staff/entries?status=draft&topic=antifraud")) == [draft]
    marriage = [e.id for e in list_entries(db) if e.topic == "marriage"]
    assert entry_ids(staff.get("/staff/entries?topic=marriage")) == marriage
    assert entry_ids(staff.get("/staff/entries?status=archived")) == []
    assert "没有符合条件的条目" in text_of(staff.get("/staff/entries?status=archived"))
    # Empty values (the form's "全部") filter nothing.
    assert len(entry_ids(staff.get("/staff/entries?status=&topic="))) == count_entries(db)
    # The form shows what is selected.
    page = staff.get("/staff/entries?status=draft").get_data(as_text=True)
    assert '<option value="draft" selected>' in page
    assert "编辑甲" in text_of(staff.get("/staff/entries?status=draft"))


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
    response = staff.get(f"/staff/entries?{query}")
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
    response = staff.get(f"/staff/entries/{entry_id}")
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
    raw = staff.get(f"/staff/entries/{entry_id}").get_data(as_text=True)
    assert "<script>alert" not in raw and "<b>" not in raw and "<i>" not in raw
    assert "&lt;b&gt;加粗&lt;/b&gt;" in raw


@pytest.mark.parametrize("path", ["/staff/entries/999999", "/staff/entries/" + "9" * 40])
def test_an_unknown_entry_is_404(staff: FlaskClient, path: str) -> None:
    response = staff.get(path)
    assert response.status_code == 404
    assert "没有编号为" in text_of(response)
    assert "返回员工后台" in text_of(response)


def test_entry_ids_that_are_not_numbers_are_404(staff: FlaskClient) -> None:
    assert staff.get("/staff/entries/abc").status_code == 404
    assert staff.get("/staff/entries/-1").status_code == 404


# --- the frame around every page ----------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_shared_layout_and_locks_down(staff: FlaskClient, path: str) -> None:
    response = staff.get(path)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<html lang="zh-CN">' in page and 'name="viewport"' in page
    assert "/staff/static/staff.css" in page
    assert 'action="/staff/logout"' in page
    assert page.count('aria-current="page"') == 1
    assert "script-src" not in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_the_stylesheet_is_served_before_signing_in(client: FlaskClient) -> None:
    response = client.get("/staff/static/staff.css")
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


def clients_through_one_proxy(database_path: Path, hops: int) -> tuple[FlaskClient, ...]:
    """Two clients with one REMOTE_ADDR (a proxy) and different X-Forwarded-For addresses."""
    app = create_app(
        {**TEST_CONFIG, "DATABASE": str(database_path), "STAFF_PASSWORD": PASSWORD}
        | {"PROXY_HOPS": hops}
    )
    clients = app.test_client(), app.test_client()
    for number, client in enumerate(clients, start=1):
        client.environ_base["HTTP_X_FORWARDED_FOR"] = f"198.51.100.{number}"
    return clients


def test_behind_a_trusted_proxy_the_lockout_counts_forwarded_addresses(
    database_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first, second = clients_through_one_proxy(database_path, hops=1)
    for _ in range(5):
        assert sign_in(first, password="wrong").status_code == 401
    assert sign_in(first).status_code == 429
    assert "198.51.100.1 locked out" in caplog.text
    assert sign_in(second).status_code == 302


def test_without_trusted_proxies_forwarded_addresses_are_ignored(database_path: Path) -> None:
    first, second = clients_through_one_proxy(database_path, hops=0)
    for _ in range(5):
        assert sign_in(first, password="wrong").status_code == 401
    # A forged header does not escape the lockout of the real address.
    assert sign_in(second).status_code == 429


@pytest.mark.parametrize("hops", [-1, "two", 1.5, True])
def test_a_wrong_proxy_hops_setting_stops_start_up_with_a_clear_error(
    database_path: Path, hops: object
) -> None:
    with pytest.raises(ValueError, match="PROXY_HOPS must be a whole number"):
        create_app({**TEST_CONFIG, "DATABASE": str(database_path), "PROXY_HOPS": hops})


def test_unanswered_download_is_a_csv_excel_reads(staff: FlaskClient, db: Database) -> None:
    entry = log_two_questions(db)
    assert 'href="/staff/unanswered.csv"' in staff.get("/staff/unanswered").get_data(as_text=True)
    response = staff.get("/staff/unanswered.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows == [
        ["时间（北京）", "处理", "居民的问题", "最接近的条目", "得分"],
        ["2025-01-02 09:05", "没答上", "外星人欠钱不还", "", ""],
        ["2025-01-02 00:30", "给了选项", "火星上的房子怎么过户", entry.question, "0.57"],
    ]


def test_unanswered_download_needs_a_signed_in_staff_member(client: FlaskClient) -> None:
    response = client.get("/staff/unanswered.csv")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
