"""The dashboard's figures over the record of turns."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlite_utils import Database

from knowledge.matching.live_index import current_index
from knowledge.review import CONTENT_FIELDS, save_draft, submit_draft
from knowledge.store import get_entry
from knowledge.turns import record_turn
from knowledge.usage import beijing_today, usage_summary
from knowledge.users import User
from tests.api_support import ask


def test_counts_by_day_band_feedback_entries_and_topics(client: FlaskClient, db: Database) -> None:
    cooling = ask(client, "离婚冷静期多久")["entry_id"]
    ask(client, "离婚冷静期多久", user="b")
    ask(client, "没用", user="b")
    ask(client, "冒充")
    ask(client, "今天天气怎么样")
    ask(client, "菜单")
    usage = usage_summary(db, days=7)
    assert len(usage.per_day) == 7 and usage.per_day[-1].day == beijing_today().isoformat()
    today = usage.per_day[-1]
    assert (today.answer, today.choices, today.fallback) == (2, 1, 1)
    assert usage.questions == 4 and usage.share("answer") == 0.5
    assert (usage.unhelpful, usage.answered, usage.unhelpful_rate) == (1, 2, 0.5)
    assert usage.top_entries[0]["entry_id"] == cooling
    assert (usage.top_entries[0]["answered"], usage.top_entries[0]["unhelpful"]) == (2, 1)
    assert usage.top_topics[0]["name"] == "婚姻家庭" and usage.top_topics[0]["answered"] == 2
    assert {g.text for g in usage.top_unanswered} == {"冒充", "今天天气怎么样"}


def test_older_turns_fall_outside_the_period(db: Database) -> None:
    turn = record_turn(db, channel="wx", kind="fallback", resident="wx:a", text="旧")
    old = (beijing_today() - timedelta(days=10)).isoformat() + "T00:00:00+00:00"
    db.execute("UPDATE turns SET at = ? WHERE id = ?", [old, turn])
    assert usage_summary(db, days=7).questions == 0
    assert usage_summary(db, days=14).questions == 1


def test_entries_waiting_for_review_are_listed(
    app: Flask, db: Database, staff_accounts: dict[str, User]
) -> None:
    editor = staff_accounts["editor"]
    entry = get_entry(db, 5)
    assert entry is not None
    record = {name: getattr(entry, name) for name in CONTENT_FIELDS}
    save_draft(db, editor, {**record, "keywords": [*entry.keywords, "新词"]}, 5)
    assert usage_summary(db).waiting_review == []
    submit_draft(db, editor, 5, current_index(db, str(app.config["DATABASE"])))
    waiting = usage_summary(db).waiting_review
    assert [(draft.entry_id, draft.submitted_by) for draft in waiting] == [(5, editor.name)]
