"""A file uploaded in the console becomes drafts: nothing residents get changes until approved."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from knowledge.draft_import import import_as_drafts
from knowledge.exchange import InvalidRecordsError
from knowledge.matching.live_index import current_index
from knowledge.review import ReviewError, get_draft, submit_draft
from knowledge.store import get_entry
from knowledge.users import User, create_user

PASSWORD = "correct-horse-battery"


@pytest.fixture
def editor(db: Database) -> User:
    return create_user(db, "张编辑", "editor", PASSWORD, by="测试")


def test_a_record_for_an_existing_entry_becomes_its_pending_draft(
    db: Database, editor: User
) -> None:
    published = get_entry(db, 1)
    result = import_as_drafts(
        db,
        editor,
        [
            {"question": published.question, "answer": "新的答案。"},
            {"question": "新问题：鹦鹉半夜叫怎么办", "answer": "先协商。", "topic": "property"},
        ],
    )
    assert (result.created, result.changed) == (1, 1)
    draft = get_draft(db, 1)
    assert draft.record["answer"] == "新的答案。"
    assert draft.record["alternates"] == published.alternates  # fields not in the file kept
    assert get_entry(db, 1).answer == published.answer and get_entry(db, 1).status == "published"


def test_bad_records_are_all_listed_and_nothing_is_saved(db: Database, editor: User) -> None:
    with pytest.raises(InvalidRecordsError) as refused:
        import_as_drafts(
            db,
            editor,
            [
                {"question": "问一", "answer": "答", "topic": "weather"},
                {"question": "问二", "answer": "答", "topic": "services", "colour": "red"},
                "not a record",
            ],
        )
    assert len(refused.value.problems) == 3
    assert db.execute("SELECT count(*) FROM entry_drafts").fetchone()[0] == 0


def test_a_change_in_review_is_not_overwritten(app, db: Database, editor: User) -> None:
    entry = get_entry(db, 1)
    import_as_drafts(db, editor, [{"question": entry.question, "answer": "第一稿。"}])
    submit_draft(db, editor, 1, current_index(db, app.config["DATABASE"]))
    with pytest.raises(InvalidRecordsError, match="正在审核中"):
        import_as_drafts(db, editor, [{"question": entry.question, "answer": "第二稿。"}])
    assert get_draft(db, 1).record["answer"] == "第一稿。"


def test_an_account_that_may_not_edit_is_refused(db: Database, editor: User) -> None:
    from knowledge.users import get_user, set_disabled

    set_disabled(db, "张编辑", True, by="测试")
    with pytest.raises(ReviewError, match="不能编辑条目"):
        import_as_drafts(db, get_user(db, "张编辑"), [])
