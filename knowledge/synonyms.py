"""Staff-editable synonym groups (老人/老年人/老年 …) that the matcher folds together."""

from __future__ import annotations

import json

from sqlite_utils import Database

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.store import bump_content_generation, now

MAX_WORDS = 30
MAX_WORD_CHARS = 20


def synonym_groups(db: Database) -> list[list[str]]:
    """Every synonym group; the first word of a group is the one the others map to."""
    return [
        json.loads(row["words"]) for row in db.query("SELECT words FROM synonym_groups ORDER BY id")
    ]


def synonym_groups_with_ids(db: Database) -> list[tuple[int, list[str]]]:
    """Every synonym group with its id, for staff to pick one to delete."""
    return [
        (row["id"], json.loads(row["words"]))
        for row in db.query("SELECT id, words FROM synonym_groups ORDER BY id")
    ]


def add_synonym_group(db: Database, words: list[str], *, by: str) -> int:
    """Store a group of at least two distinct words (audited as ``by``) and return its id."""
    cleaned = list(dict.fromkeys(word.strip() for word in words if word.strip()))
    if len(cleaned) < 2:
        raise ValueError("一组同义词至少要有两个不同的词")
    if len(cleaned) > MAX_WORDS:
        raise ValueError(f"一组同义词最多{MAX_WORDS}个词")
    if any(len(word) > MAX_WORD_CHARS for word in cleaned):
        raise ValueError(f"每个词最多{MAX_WORD_CHARS}个字")
    with write(db):
        group_id = (
            db["synonym_groups"]
            .insert({"words": json.dumps(cleaned, ensure_ascii=False), "updated_at": now()})
            .last_pk
        )
        bump_content_generation(db)
        summary = f"添加同义词组：{' / '.join(cleaned)}"
        record_audit(db, by, "create", "synonym_group", group_id, summary, after=cleaned)
    return group_id


def delete_synonym_group(db: Database, group_id: int, *, by: str) -> bool:
    """Remove a group (False if there is none), audited; the matcher stops folding its words."""
    with write(db):
        row = db.execute("SELECT words FROM synonym_groups WHERE id = ?", [group_id]).fetchone()
        if row is None:
            return False
        db.execute("DELETE FROM synonym_groups WHERE id = ?", [group_id])
        bump_content_generation(db)
        words = json.loads(row[0])
        summary = f"删除同义词组：{' / '.join(words)}"
        record_audit(db, by, "delete", "synonym_group", group_id, summary, before=words)
    return True
