"""The store: versioned entries, publication, settings, synonyms, WAL and concurrent writers."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

import knowledge.matching.live_index as live_index
from knowledge.db import connect, write
from knowledge.entries import Entry, EntryError, entry_from_record
from knowledge.matching.live_index import current_index, forget_indexes, share_index
from knowledge.matching.matcher import MatchIndex
from knowledge.settings import SETTINGS, get_settings, render_placeholders, set_setting
from knowledge.store import (
    StaleEntryError,
    content_generation,
    create_entry,
    entry_versions,
    get_entry,
    list_entries,
    published_entries,
    set_status,
    update_entry,
)
from knowledge.synonyms import add_synonym_group, delete_synonym_group, synonym_groups


def make_entry(**overrides: Any) -> Entry:
    """A valid entry about a question no shipped entry asks, with ``overrides`` applied."""
    record = {
        "topic": "property",
        "question": "楼上养的鹦鹉天天半夜学打鸣怎么办",
        "alternates": ["邻居家鹦鹉夜里吵", "鹦鹉叫声扰民", "楼上鸟叫得睡不着"],
        "answer": (
            "楼上养的鹦鹉半夜学打鸣吵得睡不着，先和邻居沟通；"
            "协商不成可以找{调解中心电话}调解（民法典第288条）。"
        ),
        "law_refs": ["民法典第288条"],
        "keywords": ["鹦鹉", "噪音"],
        "status": "draft",
        **overrides,
    }
    return entry_from_record(record)


def test_create_keeps_version_one(db: Database) -> None:
    entry_id = create_entry(db, make_entry(), by="张编辑")
    entry = get_entry(db, entry_id)
    assert entry is not None
    assert (entry.version, entry.status, entry.updated_by) == (1, "draft", "张编辑")
    assert entry.alternates == ["邻居家鹦鹉夜里吵", "鹦鹉叫声扰民", "楼上鸟叫得睡不着"]
    versions = entry_versions(db, entry_id)
    assert [(v["version"], v["changed_by"]) for v in versions] == [(1, "张编辑")]


def test_every_change_keeps_the_previous_version(db: Database) -> None:
    entry_id = create_entry(db, make_entry(), by="张编辑")
    update_entry(db, entry_id, {"answer": "第二稿：先沟通，再调解。"}, by="李编辑")
    set_status(db, entry_id, "in_review", by="李编辑")
    final = set_status(db, entry_id, "published", by="王审核")
    assert final.version == 4
    assert final.answer == "第二稿：先沟通，再调解。"
    versions = entry_versions(db, entry_id)
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert [v["status"] for v in versions] == ["draft", "draft", "in_review", "published"]
    assert [v["changed_by"] for v in versions] == ["张编辑", "李编辑", "李编辑", "王审核"]
    assert versions[0]["answer"].startswith("楼上养的鹦鹉")
    assert versions[1]["answer"] == "第二稿：先沟通，再调解。"


def test_only_published_entries_answer(db: Database) -> None:
    draft = create_entry(db, make_entry(question="草稿问题：鹦鹉扰民"), by="张编辑")
    review = create_entry(
        db, make_entry(question="审核中：鹦鹉扰民", status="in_review"), by="张编辑"
    )
    published = create_entry(
        db, make_entry(question="已发布：鹦鹉扰民", status="published"), by="张编辑"
    )
    archived = create_entry(
        db, make_entry(question="已归档：鹦鹉扰民", status="archived"), by="张编辑"
    )
    ids = {entry.id for entry in published_entries(db)}
    assert published in ids
    assert not ids & {draft, review, archived}
    assert all(entry.status == "published" for entry in published_entries(db))
    assert {draft, review, published, archived} <= {entry.id for entry in list_entries(db)}
    set_status(db, published, "archived", by="王审核")
    assert published not in {entry.id for entry in published_entries(db)}


def test_stale_edit_is_refused_and_writes_nothing(db: Database) -> None:
    entry_id = create_entry(db, make_entry(), by="张编辑")
    update_entry(db, entry_id, {"answer": "别人先保存的版本"}, by="李编辑", expected_version=1)
    with pytest.raises(StaleEntryError):
        update_entry(db, entry_id, {"answer": "迟到的修改"}, by="张编辑", expected_version=1)
    entry = get_entry(db, entry_id)
    assert entry is not None and (entry.version, entry.answer) == (2, "别人先保存的版本")
    assert len(entry_versions(db, entry_id)) == 2


def test_update_of_unknown_entry_raises_key_error(db: Database) -> None:
    with pytest.raises(KeyError):
        update_entry(db, 999_999, {"answer": "无"}, by="张编辑")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"topic": "weather"}, "topic"),
        ({"status": "deleted"}, "status"),
        ({"law_refs": ["民法典1079"]}, "law_refs"),
        ({"law_refs": ["治安管理处罚法第42条"]}, "law_refs"),
        ({"law_refs": ["刑法第266条之一"]}, "law_refs"),
        ({"law_refs": ["民法典第1300条"]}, "law_refs"),
        ({"law_refs": ["反电信网络诈骗法第51条"]}, "law_refs"),
        ({"question": "  "}, "question"),
        ({"answer": ""}, "answer"),
        ({"alternates": {"a": 1}}, "alternates"),
    ],
)
def test_bad_changes_raise_entry_error_and_write_nothing(
    db: Database, changes: dict[str, Any], field: str
) -> None:
    entry_id = create_entry(db, make_entry(), by="张编辑")
    with pytest.raises(EntryError) as raised:
        update_entry(db, entry_id, changes, by="李编辑")
    assert raised.value.field == field
    assert len(entry_versions(db, entry_id)) == 1


def test_set_status_refuses_an_unknown_status(db: Database) -> None:
    entry_id = create_entry(db, make_entry(), by="张编辑")
    with pytest.raises(EntryError):
        set_status(db, entry_id, "gone", by="王审核")


def test_missing_law_article_names_the_law_size() -> None:
    with pytest.raises(EntryError) as raised:
        make_entry(law_refs=["民法典第1300条"])
    assert "1260" in raised.value.message


def test_content_generation_moves_only_with_published_content(db: Database) -> None:
    start = content_generation(db)
    entry_id = create_entry(db, make_entry(), by="张编辑")
    update_entry(db, entry_id, {"answer": "草稿改稿"}, by="张编辑")
    assert content_generation(db) == start
    set_status(db, entry_id, "published", by="王审核")
    assert content_generation(db) == start + 1
    update_entry(db, entry_id, {"answer": "已发布后再改"}, by="张编辑")
    assert content_generation(db) == start + 2
    set_status(db, entry_id, "archived", by="王审核")
    assert content_generation(db) == start + 3
    create_entry(db, make_entry(question="直接发布的新条目", status="published"), by="张编辑")
    assert content_generation(db) == start + 4


def test_settings_fill_placeholders(db: Database) -> None:
    set_setting(db, "服务大厅电话", " 0000-1234567 ", by="管理员")
    set_setting(db, "调解中心地址", "   ", by="管理员")
    settings = get_settings(db)
    assert settings == {"服务大厅电话": "0000-1234567"}
    text = "电话{服务大厅电话}，地址{调解中心地址}，{不存在的设置}，{ 空格 }"
    assert render_placeholders(text, settings) == (
        f"电话0000-1234567，地址{SETTINGS['调解中心地址'].unset}，{{不存在的设置}}，{{ 空格 }}"
    )


def test_every_unset_setting_renders_as_generic_text() -> None:
    for key, setting in SETTINGS.items():
        rendered = render_placeholders(f"请联系{{{key}}}。", {})
        assert rendered == f"请联系{setting.unset}。"
        assert "{" not in rendered
        after_label = render_placeholders(f"{setting.label}：{{{key}}}。", {})
        assert after_label == f"{setting.label}：{setting.unset_after_colon}。"


def test_unknown_setting_key_is_refused(db: Database) -> None:
    with pytest.raises(KeyError):
        set_setting(db, "局长手机", "13800000000", by="管理员")


def test_synonym_groups_add_and_delete(db: Database) -> None:
    start = content_generation(db)
    before = synonym_groups(db)
    group_id = add_synonym_group(db, [" 鹦鹉 ", "八哥", "鹦鹉", ""], by="测试")
    assert synonym_groups(db) == [*before, ["鹦鹉", "八哥"]]
    assert content_generation(db) == start + 1
    delete_synonym_group(db, group_id, by="测试")
    assert synonym_groups(db) == before
    assert content_generation(db) == start + 2


def test_synonym_group_needs_two_distinct_words(db: Database) -> None:
    with pytest.raises(ValueError):
        add_synonym_group(db, ["鹦鹉", " 鹦鹉"], by="测试")


def test_database_is_in_wal_mode(db: Database) -> None:
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_failed_write_rolls_back_everything(db: Database) -> None:
    before = len(list_entries(db))
    with pytest.raises(EntryError), write(db):
        create_entry(db, make_entry(question="会被回滚的条目"), by="张编辑")
        raise EntryError("test", "中途出错")
    assert len(list_entries(db)) == before


def test_concurrent_read_then_write_never_hits_a_locked_database(
    db: Database, database_path: Path
) -> None:
    """4 writers, each on its own connection, 50 read-then-write transactions each."""
    db.execute("INSERT INTO meta (key, value) VALUES ('test_counter', 0)")
    entry_id = create_entry(db, make_entry(), by="张编辑")
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def worker(number: int) -> None:
        conn = connect(database_path)
        try:
            start.wait()
            for round_ in range(50):
                with write(conn):
                    value = conn.execute(
                        "SELECT value FROM meta WHERE key = 'test_counter'"
                    ).fetchone()[0]
                    # Let the other writers run between the read and the write: with a
                    # deferred BEGIN this is where "database is locked" appears.
                    time.sleep(0.001)
                    conn.execute(
                        "UPDATE meta SET value = ? WHERE key = 'test_counter'", [value + 1]
                    )
                update_entry(conn, entry_id, {"answer": f"写者{number}第{round_}次"}, by="并发")
        except BaseException as error:
            errors.append(error)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert db.execute("SELECT value FROM meta WHERE key = 'test_counter'").fetchone()[0] == 200
    entry = get_entry(db, entry_id)
    assert entry is not None and entry.version == 201
    assert [v["version"] for v in entry_versions(db, entry_id)] == list(range(1, 202))


def test_matcher_sees_a_newly_published_entry_without_restart(
    db: Database, database_path: Path
) -> None:
    key = str(database_path)
    question = "楼上养的鹦鹉天天半夜学打鸣怎么办"
    before = current_index(db, key)
    entry_id = create_entry(db, make_entry(question=question), by="张编辑")
    assert current_index(db, key) is before  # a draft changes nothing residents see
    assert entry_id not in before.questions
    set_status(db, entry_id, "published", by="王审核")
    after = current_index(db, key)
    assert after is not before
    match = after.match(question)
    assert match.band == "answer"
    assert match.best is not None and match.best.entry_id == entry_id
    set_status(db, entry_id, "archived", by="王审核")
    assert entry_id not in current_index(db, key).questions


def test_a_copy_answers_with_its_originals_index_until_its_content_changes(
    db: Database, database_path: Path, tmp_path: Path
) -> None:
    original = str(database_path)
    index = current_index(db, original)
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(database_path, copy)
    assert share_index(original, str(copy))
    copied = connect(copy)
    try:
        assert current_index(copied, str(copy)) is index
        entry_id = create_entry(copied, make_entry(), by="张编辑")
        set_status(copied, entry_id, "published", by="王审核")
        rebuilt = current_index(copied, str(copy))
        assert rebuilt is not index and entry_id in rebuilt.questions
    finally:
        copied.close()
    assert current_index(db, original) is index  # the original is untouched
    assert not share_index(str(tmp_path / "never-indexed.sqlite3"), str(copy))


def test_forgotten_indexes_are_built_again_and_kept_ones_stay(
    db: Database, database_path: Path
) -> None:
    key = str(database_path)
    index = current_index(db, key)
    forget_indexes(keep={"/elsewhere.sqlite3"})
    again = current_index(db, key)
    assert again is not index and again.generation == index.generation
    forget_indexes(keep={key})
    assert current_index(db, key) is again


def wait_for_generation(db: Database, key: str, generation: int) -> MatchIndex:
    """The index of ``key`` once it has caught up with ``generation`` (10 s at most)."""
    give_up = time.monotonic() + 10
    while (index := current_index(db, key)).generation != generation:
        assert time.monotonic() < give_up, "the background rebuild never finished"
        time.sleep(0.02)
    return index


def test_a_slow_index_keeps_answering_while_its_successor_builds(
    db: Database,
    database_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(live_index, "SYNC_REBUILD_MAX_ENTRIES", 0)  # every index counts as large
    caplog.set_level(logging.INFO, logger="knowledge.matching.live_index")
    key = str(database_path)
    question = "楼上养的鹦鹉天天半夜学打鸣怎么办"
    before = current_index(db, key)
    entry_id = create_entry(db, make_entry(question=question), by="张编辑")
    set_status(db, entry_id, "published", by="王审核")
    # The message that notices the change is answered at once, by the previous index.
    assert current_index(db, key) is before
    after = wait_for_generation(db, key, content_generation(db))
    assert after is not before
    best = after.match(question).best
    assert best is not None and best.entry_id == entry_id
    # The thread logs just after it swaps the new index in: give it a moment.
    give_up = time.monotonic() + 10
    while "rebuilt in the background" not in caplog.text:
        assert time.monotonic() < give_up, "the background rebuild was never logged"
        time.sleep(0.02)


def test_a_failed_background_rebuild_leaves_the_previous_index_answering(
    db: Database,
    database_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(live_index, "SYNC_REBUILD_MAX_ENTRIES", 0)
    key = str(database_path)
    before = current_index(db, key)
    set_status(db, create_entry(db, make_entry(), by="张编辑"), "published", by="王审核")
    # The rebuild opens the file anew and finds no tables: this connection keeps the
    # old file open, the rebuild gets an empty one.
    database_path.unlink()
    assert current_index(db, key) is before
    give_up = time.monotonic() + 10
    while "rebuild failed" not in caplog.text:
        assert time.monotonic() < give_up, "the failed rebuild was never logged"
        time.sleep(0.02)
    assert current_index(db, key).match("离婚冷静期是多长时间").band == "answer"
    # No retry before the back-off is over: one failure, logged once.
    time.sleep(0.1)
    assert caplog.text.count("rebuild failed") == 1
