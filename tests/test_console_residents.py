"""The console's pages about what residents ask: dashboard, unanswered groups, 试一试 — by role."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from console.charts import daily_chart, share_segments
from knowledge.review import get_draft
from knowledge.unanswered import count_unanswered
from knowledge.unanswered_groups import DRAFT_ANSWER, unanswered_groups
from knowledge.usage import DayCount
from tests.api_support import ask
from tests.console_support import post_form, text_of

ROLES = ["editor", "reviewer", "admin"]
PAGES = ["/admin/", "/admin/unanswered", "/admin/unanswered/latest", "/admin/try?q=冒充"]
PARROT = [
    "楼上的鹦鹉半夜学打鸣怎么办",
    "楼上鹦鹉半夜学打鸣怎么办？",
    "楼上的鹦鹉半夜学打鸣，怎么办啊",
]


def parrot_group(client: FlaskClient, db: Database) -> str:
    """Three residents ask about the parrot; the group's turn ids as the form posts them."""
    for n, text in enumerate(PARROT):
        ask(client, text, user=f"r{n}")
    return ",".join(map(str, unanswered_groups(db)[0].turn_ids))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PAGES)
def test_every_signed_in_role_may_look(
    signed_in: Callable[[str], FlaskClient], role: str, path: str
) -> None:
    assert signed_in(role).get(path).status_code == 200


@pytest.mark.parametrize("path", [*PAGES, "/admin/unanswered.csv"])
def test_strangers_are_sent_to_sign_in(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]


# --- acting on the queue -------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_with_edit_may_dismiss_a_group(
    signed_in: Callable[[str], FlaskClient], client: FlaskClient, db: Database, role: str
) -> None:
    turns = parrot_group(client, db)
    staff = signed_in(role)
    response = post_form(staff, "/admin/unanswered/dismiss", {"turns": turns}, "/admin/unanswered")
    assert response.status_code == 303
    assert "已忽略3条问题" in text_of(staff.get("/admin/unanswered"))
    assert count_unanswered(db) == 0
    actor = db.execute("SELECT actor FROM queue_handlings").fetchone()[0]
    assert actor == db.execute("SELECT name FROM users WHERE role = ?", [role]).fetchone()[0]


@pytest.mark.parametrize("role", ROLES)
def test_each_role_with_edit_may_start_a_new_entry_from_a_group(
    signed_in: Callable[[str], FlaskClient], client: FlaskClient, db: Database, role: str
) -> None:
    turns = parrot_group(client, db)
    named = unanswered_groups(db)[0].text
    staff = signed_in(role)
    response = post_form(
        staff, "/admin/unanswered/new-entry", {"turns": turns}, "/admin/unanswered"
    )
    assert response.status_code == 303
    entry_id = int(re.search(r"/admin/entries/(\d+)", response.headers["Location"])[1])
    draft = get_draft(db, entry_id)
    assert draft is not None and draft.entry.question == named
    assert set(draft.entry.alternates) == set(PARROT) - {named}
    assert draft.entry.answer == DRAFT_ANSWER and count_unanswered(db) == 0
    page = text_of(staff.get(response.headers["Location"]))
    assert f"已新建条目{entry_id}的草稿" in page


@pytest.mark.parametrize("role", ROLES)
def test_each_role_with_edit_may_add_an_alternate(
    signed_in: Callable[[str], FlaskClient], client: FlaskClient, db: Database, role: str
) -> None:
    turns = parrot_group(client, db)
    entry_id = unanswered_groups(db)[0].closest[0]["entry_id"]
    staff = signed_in(role)
    form = {"turns": turns, "entry_id": str(entry_id), "alternate": PARROT[0], "confirmed": "1"}
    response = post_form(staff, "/admin/unanswered/alternate", form, "/admin/unanswered")
    assert response.status_code == 303
    draft = get_draft(db, entry_id)
    assert draft is not None and PARROT[0] in draft.entry.alternates
    assert count_unanswered(db) == 0


def test_an_alternate_that_collides_asks_for_confirmation_first(
    editor: FlaskClient, client: FlaskClient, db: Database
) -> None:
    turns = parrot_group(client, db)
    cooling = ask(client, "离婚冷静期多久", user="x")["entry_id"]
    other = next(
        c["entry_id"] for c in unanswered_groups(db)[0].closest if c["entry_id"] != cooling
    )
    question = db["entries"].get(cooling)["question"]
    # Another entry's own question typed into the box beside the closest entries.
    form = {
        "turns": turns,
        "entry_id": str(cooling),
        "entry_other": str(other),
        "alternate": question,
    }
    response = post_form(editor, "/admin/unanswered/alternate", form, "/admin/unanswered")
    assert response.status_code == 200
    page = text_of(response)
    assert "加入问法前请确认" in page and f"条目{cooling}" in page
    assert get_draft(db, other) is None and count_unanswered(db) == 3
    response = post_form(
        editor, "/admin/unanswered/alternate", {**form, "confirmed": "1"}, "/admin/unanswered"
    )
    assert response.status_code == 303
    assert question in get_draft(db, other).entry.alternates


@pytest.mark.parametrize(
    "action",
    ["/admin/unanswered/dismiss", "/admin/unanswered/new-entry", "/admin/unanswered/alternate"],
)
def test_actions_need_a_csrf_token(
    editor: FlaskClient, client: FlaskClient, db: Database, action: str
) -> None:
    turns = parrot_group(client, db)
    response = editor.post(action, data={"turns": turns, "entry_id": "1", "alternate": "x"})
    assert response.status_code == 400
    assert count_unanswered(db) == 3 and db["queue_handlings"].count == 0


@pytest.mark.parametrize(
    "action",
    ["/admin/unanswered/dismiss", "/admin/unanswered/new-entry", "/admin/unanswered/alternate"],
)
def test_strangers_cannot_act(client: FlaskClient, db: Database, action: str) -> None:
    turns = parrot_group(client, db)
    response = client.post(action, data={"turns": turns})
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert count_unanswered(db) == 3


@pytest.mark.parametrize("turns", ["", "abc", "1,,2", "0", "-1", "1;2", "9" * 30])
def test_malformed_turn_ids_are_a_clear_400(editor: FlaskClient, turns: str) -> None:
    response = post_form(editor, "/admin/unanswered/dismiss", {"turns": turns}, "/admin/unanswered")
    assert response.status_code == 400
    assert "问题编号不正确" in text_of(response)


def test_a_group_handled_twice_says_so(
    editor: FlaskClient, reviewer: FlaskClient, client: FlaskClient, db: Database
) -> None:
    turns = parrot_group(client, db)
    post_form(editor, "/admin/unanswered/dismiss", {"turns": turns}, "/admin/unanswered")
    response = post_form(
        reviewer, "/admin/unanswered/dismiss", {"turns": turns}, "/admin/unanswered"
    )
    assert response.status_code == 303
    assert "已经有人处理过了" in text_of(reviewer.get("/admin/unanswered"))


def test_an_alternate_needs_an_entry_number(
    editor: FlaskClient, client: FlaskClient, db: Database
) -> None:
    turns = parrot_group(client, db)
    form = {"turns": turns, "entry_id": "", "alternate": PARROT[0]}
    response = post_form(editor, "/admin/unanswered/alternate", form, "/admin/unanswered")
    assert response.status_code == 303
    assert "请选择或填写要加入的条目编号" in text_of(editor.get("/admin/unanswered"))
    form = {"turns": turns, "entry_id": "999999", "alternate": PARROT[0]}
    post_form(editor, "/admin/unanswered/alternate", form, "/admin/unanswered")
    assert "没有编号为 999999 的条目" in text_of(editor.get("/admin/unanswered"))
    assert count_unanswered(db) == 3


# --- the pages -------------------------------------------------------------------------------


def test_the_groups_page_shows_counts_wordings_and_closest_entries(
    editor: FlaskClient, client: FlaskClient, db: Database
) -> None:
    parrot_group(client, db)
    ask(client, "今天天气怎么样")
    page = text_of(editor.get("/admin/unanswered"))
    assert page.index(unanswered_groups(db)[0].text) < page.index("今天天气怎么样")
    assert "3 次" in page and "其他说法（2）" in page
    closest = unanswered_groups(db)[0].closest[0]
    assert f'<a href="/admin/entries/{closest["entry_id"]}">{closest["question"]}</a>' in page
    assert "检查并加入草稿" in page and "用它新建条目" in page and "忽略" in page


def test_the_dashboard_draws_todays_questions_and_the_feedback(
    editor: FlaskClient, client: FlaskClient
) -> None:
    entry_id = ask(client, "离婚冷静期多久")["entry_id"]
    ask(client, "没用")
    ask(client, "冒充")
    ask(client, "今天天气怎么样")
    raw = editor.get("/admin/").get_data(as_text=True)
    assert '<strong data-figure="questions">3</strong>' in raw
    assert '<strong data-figure="answer">33%</strong>' in raw
    assert '<strong data-figure="unhelpful">100.0%</strong>' in raw
    bars = re.findall(r'<rect class="band-(\w+)"', raw)
    assert sorted(bars) == sorted(["answer", "choices", "fallback"] * 2)  # the day and the share
    assert f'<tr data-entry="{entry_id}">' in raw
    assert "https://" not in raw and "<script" not in raw  # nothing from elsewhere, no script


def test_entry_pages_show_the_thumbs_down(editor: FlaskClient, client: FlaskClient) -> None:
    entry_id = ask(client, "离婚冷静期多久")["entry_id"]
    ask(client, "不对")
    assert "回答1次，被说“没用”1次（100%）" in text_of(editor.get(f"/admin/entries/{entry_id}"))
    listing = editor.get("/admin/entries?q=冷静期").get_data(as_text=True)
    assert re.search(rf'entries/{entry_id}".*?class="unhelpful">1/1<', listing, re.S)


def test_tryout_shows_ranking_band_reason_and_reply_and_records_nothing(
    editor: FlaskClient, db: Database
) -> None:
    page = re.sub(r"<[^>]+>", "", text_of(editor.get("/admin/try?q=离婚冷静期多久")))
    assert "结果：直接回答" in page and "达到不必再看语义就直接回答的线" in page
    assert "法律依据：《民法典》第1077条" in page
    page = text_of(editor.get("/admin/try?q=今天天气怎么样"))
    assert "答不了" in page and "低于给选项的线" in page and "12348" in page
    assert "按固定规则处理（帮助）" in text_of(editor.get("/admin/try?q=菜单"))
    assert db["turns"].count == 0 and db["conversations"].count == 0


def test_tryout_refuses_a_question_too_long(editor: FlaskClient) -> None:
    response = editor.get("/admin/try?q=" + "长" * 2001)
    assert response.status_code == 400 and "问题太长（2001字" in text_of(response)


def test_the_daily_chart_scales_to_the_busiest_day_and_stacks_the_bands() -> None:
    days = [
        DayCount("2026-11-30", 1, 0, 1),
        DayCount("2026-12-01"),
        DayCount("2026-12-02", 2, 1, 1),
    ]
    chart = daily_chart(days)
    quiet, empty, busy = chart.bars
    assert (chart.peak, empty.segments, empty.total) == (4, [], 0)
    tallest = sum(segment.height for segment in busy.segments)
    assert tallest == pytest.approx(chart.plot_height - 18)  # room left above for the count
    assert sum(segment.height for segment in quiet.segments) == pytest.approx(tallest / 2)
    # Bottom up: answered, choices, fallback, each segment on top of the one before.
    assert [segment.band for segment in busy.segments] == ["answer", "choices", "fallback"]
    for lower, upper in itertools.pairwise(busy.segments):
        assert upper.y + upper.height == pytest.approx(lower.y)
    assert busy.segments[0].y + busy.segments[0].height == pytest.approx(chart.plot_height)
    shares = share_segments({"answer": 0.5, "choices": 0.25, "fallback": 0.25})
    assert [(s.band, s.x, s.width, s.count) for s in shares] == [
        ("answer", 0, 240, 50),
        ("choices", 240, 120, 25),
        ("fallback", 360, 120, 25),
    ]
