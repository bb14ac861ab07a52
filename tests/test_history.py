"""An entry's history reads as a diff: only what changed, sentence by sentence."""

from __future__ import annotations

from knowledge.history import DiffLine, history, version_diff

FIRST = {
    "version": 1,
    "question": "离婚冷静期多久",
    "alternates": '["冷静期几天"]',
    "answer": "三十日。期满后三十日内要去领证。",
    "law_refs": '["民法典第1077条"]',
    "topic": "marriage",
    "status": "published",
}


def test_a_change_shows_only_the_changed_fields_and_sentences() -> None:
    second = {
        **FIRST,
        "version": 2,
        "answer": "三十日。期满后三十日内两人要一起去领证。",
        "alternates": ["冷静期几天", "冷静期过了咋办"],
    }
    assert version_diff(FIRST, second) == [
        DiffLine("@", "其他问法"),
        DiffLine(" ", "冷静期几天"),
        DiffLine("+", "冷静期过了咋办"),
        DiffLine("@", "答案"),
        DiffLine(" ", "三十日。"),
        DiffLine("-", "期满后三十日内要去领证。"),
        DiffLine("+", "期满后三十日内两人要一起去领证。"),
    ]


def test_the_first_version_is_shown_unmarked_with_topic_and_status_names() -> None:
    lines = version_diff(None, FIRST, {"marriage": "婚姻家庭"})
    assert {line.tag for line in lines} == {"@", " "}
    assert DiffLine(" ", "婚姻家庭") in lines and DiffLine(" ", "已发布") in lines


def test_history_is_newest_first_with_each_diff_against_the_one_before() -> None:
    archived = {**FIRST, "version": 2, "status": "archived"}
    (newest, newest_diff), (oldest, _) = history([FIRST, archived])
    assert newest["version"] == 2 and oldest["version"] == 1
    assert newest_diff == [DiffLine("@", "状态"), DiffLine("-", "已发布"), DiffLine("+", "已归档")]
