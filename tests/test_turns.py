"""The record of turns: what every reply leaves behind, the resident only as a keyed hash."""

from __future__ import annotations

import json
import statistics
import time

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlite_utils import Database

from bot import create_app
from bot.chat import WEB_CHAT_COOKIE
from bot.conversation import save_state
from knowledge.residents import resident_key
from knowledge.turns import purge_old_texts, record_turn, retention_cutoff, unhelpful_counts
from tests.api_support import ask
from tests.conftest import TEST_CONFIG
from tests.webhook_support import RESIDENT, WeChatSender, event_message, text_message

SECRET = TEST_CONFIG["SECRET_KEY"]
#: A web chat browser's id, as the page's cookie carries it.
WEB_USER = "0123456789abcdef0123456789abcdef"


def turns(db: Database) -> list[dict]:
    return list(db.query("SELECT * FROM turns ORDER BY id"))


def all_stored_values(db: Database) -> list[str]:
    """Every text value in every table of the database."""
    values = []
    for table in db.table_names():
        for row in db.query(f"SELECT * FROM [{table}]"):
            values.extend(str(value) for value in row.values() if value is not None)
    return values


@pytest.mark.parametrize("mode", ["plain", "safe"])
def test_a_webhook_exchange_records_each_turn_with_the_resident_hashed(
    sender: WeChatSender, db: Database, mode: str
) -> None:
    assert isinstance(sender.exchange(mode, event_message("subscribe")), dict)
    for text in ("离婚冷静期多久", "没用", "今天天气怎么样", "民法典第1079条", "菜单"):
        reply = sender.exchange(mode, text_message(text))
        assert isinstance(reply, dict) and reply["Content"]
    assert isinstance(sender.exchange(mode, event_message("CLICK", "TOPIC_antifraud")), dict)
    rows = turns(db)
    assert [row["kind"] for row in rows] == [
        "welcome",
        "answer",
        "feedback",
        "fallback",
        "article",
        "help",
        "topic",
    ]
    rows = rows[1:]
    key = resident_key(SECRET, "wx", RESIDENT)
    assert {row["resident"] for row in rows} == {key}
    assert {row["channel"] for row in rows} == {"wx"}
    assert [row["text"] for row in rows][:3] == ["离婚冷静期多久", "没用", "今天天气怎么样"]
    answered, feedback, fallback = rows[0], rows[1], rows[2]
    assert answered["entry_id"] and answered["score"] > 0.3
    assert feedback["entry_id"] == answered["entry_id"] and feedback["helpful"] == 0
    assert fallback["entry_id"] is None and json.loads(fallback["candidates"]) is not None
    # The resident's raw OpenID is nowhere in the database, in no table.
    assert not [value for value in all_stored_values(db) if RESIDENT in value]


def web_chat(client: FlaskClient) -> FlaskClient:
    """``client`` as a web chat browser: it carries the page's cookie, and no ``user``."""
    client.set_cookie(WEB_CHAT_COOKIE, WEB_USER)
    return client


def ask_in_web_chat(client: FlaskClient, text: str) -> dict:
    response = web_chat(client).post("/api/ask", json={"text": text})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_the_api_and_the_web_chat_are_their_own_channels(client: FlaskClient, db: Database) -> None:
    ask(client, "离婚冷静期多久", user="someone")
    ask_in_web_chat(client, "离婚冷静期多久")
    first, second = turns(db)
    assert (first["channel"], first["resident"]) == ("api", resident_key(SECRET, "api", "someone"))
    assert (second["channel"], second["resident"]) == ("web", resident_key(SECRET, "web", WEB_USER))
    assert "someone" not in all_stored_values(db) and WEB_USER not in all_stored_values(db)


def test_recording_a_turn_is_one_short_write(db: Database) -> None:
    timings = []
    for n in range(200):
        started = time.perf_counter()
        record_turn(
            db,
            channel="wx",
            kind="fallback",
            resident="wx:abc",
            text=f"问题{n}",
            candidates=[{"entry_id": 1, "question": "q", "score": 0.2}],
        )
        timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    print(f"record_turn: median {median * 1000:.2f} ms, max {max(timings) * 1000:.2f} ms")
    # A small fraction of the webhook's 1-second budget even on a loaded machine.
    assert median < 0.05


def test_long_texts_are_cut_and_unknown_kinds_refused(db: Database) -> None:
    turn_id = record_turn(db, channel="api", kind="fallback", resident="api:x", text="长" * 900)
    assert len(db["turns"].get(turn_id)["text"]) == 500
    with pytest.raises(ValueError, match="unknown turn kind"):
        record_turn(db, channel="api", kind="bogus", resident="api:x", text="x")


# --- retention ---------------------------------------------------------------------------


def _age(db: Database, turn_id: int, days: int) -> None:
    """Make turn ``turn_id`` ``days`` days old."""
    db.execute("UPDATE turns SET at = ? WHERE id = ?", [retention_cutoff(days), turn_id])


def test_purge_removes_old_texts_and_keeps_the_counts(db: Database) -> None:
    old = record_turn(db, channel="wx", kind="fallback", resident="wx:a", text="老问题")
    fresh = record_turn(db, channel="wx", kind="fallback", resident="wx:a", text="新问题")
    _age(db, old, 181)
    _age(db, fresh, 179)
    assert purge_old_texts(db, 180) == 1
    assert db["turns"].get(old)["text"] is None and db["turns"].get(old)["kind"] == "fallback"
    assert db["turns"].get(fresh)["text"] == "新问题"
    assert db["turns"].count == 2
    assert purge_old_texts(db, 180) == 0


@pytest.mark.parametrize("days", [0, -1, "180", 1.5, True])
def test_purge_refuses_a_retention_that_is_not_whole_days(db: Database, days: object) -> None:
    with pytest.raises(ValueError, match="whole number of days"):
        purge_old_texts(db, days)  # type: ignore[arg-type]


def test_flask_residents_purge_uses_the_configured_retention(
    app: Flask, runner: FlaskCliRunner, db: Database
) -> None:
    turn_id = record_turn(db, channel="wx", kind="fallback", resident="wx:a", text="一个月前的")
    _age(db, turn_id, 31)
    app.config["RESIDENT_TEXT_RETENTION_DAYS"] = 30
    result = runner.invoke(args=["residents", "purge"])
    assert result.exit_code == 0, result.output
    assert "已删除1条超过30天的消息文字" in result.output
    assert db["turns"].get(turn_id)["text"] is None


def test_the_app_purges_old_texts_when_it_starts(database_path, db: Database) -> None:
    turn_id = record_turn(db, channel="wx", kind="fallback", resident="wx:a", text="半年前的")
    _age(db, turn_id, 200)
    create_app({**TEST_CONFIG, "DATABASE": str(database_path)})
    assert db["turns"].get(turn_id)["text"] is None


def test_a_retention_that_is_not_days_stops_the_app_with_a_clear_error(database_path) -> None:
    config = {**TEST_CONFIG, "DATABASE": str(database_path), "RESIDENT_TEXT_RETENTION_DAYS": "半年"}
    with pytest.raises(ValueError, match="RESIDENT_TEXT_RETENTION_DAYS must be a whole number"):
        create_app(config)


# --- forget and export (个人信息保护法 第45、47条) ------------------------------------------


def test_forget_deletes_a_residents_texts_and_dialogue_state_only(
    sender: WeChatSender, client: FlaskClient, runner: FlaskCliRunner, db: Database
) -> None:
    sender.exchange("plain", text_message("冒充"))  # choices: state is kept
    sender.exchange("plain", text_message("今天天气怎么样", user="oOTHER_resident_openid"))
    ask(client, "离婚冷静期多久", user="api-person")
    key = resident_key(SECRET, "wx", RESIDENT)
    assert db["conversations"].count_where("user = ?", [key]) == 1

    result = runner.invoke(args=["residents", "forget", RESIDENT])
    assert result.exit_code == 0, result.output
    assert "已删除该居民的1条对话文字、1份对话状态和1条暂存回复" in result.output
    assert db.execute("SELECT count(*) FROM processed_messages").fetchone()[0] == 1  # the other
    rows = turns(db)
    assert len(rows) == 3  # the counts stay
    assert rows[0]["text"] is None and rows[0]["resident"] is None
    assert rows[1]["text"] == "今天天气怎么样" and rows[2]["text"] == "离婚冷静期多久"
    assert db["conversations"].count_where("user = ?", [key]) == 0

    result = runner.invoke(args=["residents", "forget", "api-person", "--channel", "api"])
    assert "1条对话文字" in result.output
    assert turns(db)[2]["text"] is None


def test_export_prints_everything_held_about_a_resident(
    sender: WeChatSender, runner: FlaskCliRunner, db: Database
) -> None:
    sender.exchange("plain", text_message("离婚冷静期多久"))
    sender.exchange("plain", text_message("冒充"))
    sender.exchange("plain", text_message("别人的问题", user="oOTHER_resident_openid"))
    result = runner.invoke(args=["residents", "export", RESIDENT])
    assert result.exit_code == 0, result.output
    assert "对话记录：2条" in result.output and "保存180天后删除" in result.output
    assert "“离婚冷静期多久”" in result.output and "直接回答" in result.output
    assert "“冒充”" in result.output and "对话状态" in result.output
    assert "为应对微信重发而暂存的回复：2条" in result.output
    assert "别人的问题" not in result.output

    report = json.loads(runner.invoke(args=["residents", "export", RESIDENT, "--json"]).output)
    assert [turn["text"] for turn in report["turns"]] == ["离婚冷静期多久", "冒充"]
    assert report["keys"] == [resident_key(SECRET, "wx", RESIDENT)]
    assert next(iter(report["states"].values()))["state"]["choices"]


def test_export_of_a_stranger_says_nothing_is_held(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["residents", "export", "oNOBODY"])
    assert result.exit_code == 0 and "没有保存任何与您有关的信息" in result.output


def test_forget_finds_a_state_kept_under_the_residents_key(
    app: Flask, runner: FlaskCliRunner, db: Database
) -> None:
    key = resident_key(SECRET, "web", WEB_USER)
    save_state(db, key, {"choices": [1, 2]}, 600)
    result = runner.invoke(args=["residents", "forget", WEB_USER, "--channel", "web"])
    assert "1份对话状态" in result.output
    assert db["conversations"].count == 0


# --- feedback ------------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["没用", "不对", "答非所问", "没用啊", "不对吧！", "说的不对"])
def test_saying_an_answer_did_not_help_is_recorded_against_it(
    client: FlaskClient, db: Database, words: str
) -> None:
    answered = ask(client, "离婚冷静期多久")
    reply = ask(client, words)
    assert "12348" in reply["reply"] and "抱歉" in reply["reply"]
    last = turns(db)[-1]
    assert (last["kind"], last["entry_id"], last["helpful"]) == (
        "feedback",
        answered["entry_id"],
        0,
    )
    assert unhelpful_counts(db)[answered["entry_id"]] == (1, 1)


def test_feedback_after_choosing_from_choices_counts_for_the_chosen_entry(
    client: FlaskClient, db: Database
) -> None:
    choices = ask(client, "冒充")
    assert choices["kind"] == "choices"
    chosen = ask(client, "2")
    assert chosen["entry_id"] == choices["choices"][1]["entry_id"]
    ask(client, "没用")
    assert turns(db)[-1]["entry_id"] == chosen["entry_id"]


@pytest.mark.parametrize("question", ["不对劲怎么办", "没用的东西能退吗", "不对称信息合同有效吗"])
def test_questions_that_start_like_feedback_are_still_questions(
    client: FlaskClient, db: Database, question: str
) -> None:
    ask(client, "离婚冷静期多久")
    reply = ask(client, question)
    assert turns(db)[-1]["kind"] != "feedback"
    assert "您的意见已经记下" not in reply["reply"]


def test_feedback_with_no_answer_before_it_names_no_entry(
    client: FlaskClient, db: Database
) -> None:
    reply = ask(client, "没用")
    assert "12348" in reply["reply"]
    assert (turns(db)[-1]["kind"], turns(db)[-1]["entry_id"]) == ("feedback", None)


def rate(client: FlaskClient, body: object) -> tuple[int, dict]:
    response = client.post("/api/feedback", json=body)
    return response.status_code, response.get_json()


def test_thumbs_up_and_down_under_a_web_chat_answer(client: FlaskClient, db: Database) -> None:
    answered = ask_in_web_chat(client, "离婚冷静期多久")
    entry_id = answered["entry_id"]
    status, body = rate(client, {"entry_id": entry_id, "helpful": False})
    assert (status, body["recorded"]) == (200, True)
    assert unhelpful_counts(db)[entry_id] == (1, 1)
    # A second click on the same answer changes the rating, it does not add one.
    assert rate(client, {"entry_id": entry_id, "helpful": True})[0] == 200
    assert unhelpful_counts(db)[entry_id] == (0, 1)
    feedback = [row for row in turns(db) if row["kind"] == "feedback"]
    assert len(feedback) == 1 and feedback[0]["channel"] == "web" and feedback[0]["helpful"] == 1
    # The next answer of the same entry can be rated again.
    ask_in_web_chat(client, "离婚冷静期多久")
    rate(client, {"entry_id": entry_id, "helpful": False})
    assert unhelpful_counts(db)[entry_id] == (1, 2)


def test_an_answer_never_received_cannot_be_rated(client: FlaskClient, db: Database) -> None:
    answered = ask_in_web_chat(client, "离婚冷静期多久")
    client.set_cookie(WEB_CHAT_COOKIE, "f" * 32)  # another browser
    status, body = rate(client, {"entry_id": answered["entry_id"], "helpful": False})
    assert status == 404 and body["detail"] == "没有找到您收到过的这条回答"
    assert not [row for row in turns(db) if row["kind"] == "feedback"]


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        {"helpful": False, "user": "u"},
        {"entry_id": "93", "helpful": False, "user": "u"},
        {"entry_id": True, "helpful": False, "user": "u"},
        {"entry_id": 2**70, "helpful": False, "user": "u"},
        {"entry_id": 1, "helpful": "no", "user": "u"},
        {"entry_id": 1, "helpful": False},  # no user and no web chat cookie
        {"entry_id": 1, "helpful": False, "user": "x" * 200},
        {"entry_id": 1, "helpful": False, "user": 5},
    ],
)
def test_bad_feedback_bodies_get_a_clear_400(client: FlaskClient, body: object) -> None:
    status, answer = rate(client, body)
    assert status == 400 and answer["status"] == 400 and answer["detail"]


def test_an_api_caller_rates_with_its_user(client: FlaskClient, db: Database) -> None:
    answered = ask(client, "离婚冷静期多久", user="app-7")
    status, _ = rate(client, {"entry_id": answered["entry_id"], "helpful": False, "user": "app-7"})
    assert status == 200
    assert turns(db)[-1]["resident"] == resident_key(SECRET, "api", "app-7")


def test_feedback_nested_too_deep_is_a_400(client: FlaskClient) -> None:
    body = "[" * 5000 + "]" * 5000
    response = client.post("/api/feedback", data=body, content_type="application/json")
    assert response.status_code == 400
