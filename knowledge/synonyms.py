"""Staff-editable synonym groups (老人/老年人/老年 …) that the matcher folds together."""

from __future__ import annotations

import json

from sqlite_utils import Database

from knowledge.db import write
from knowledge.store import bump_content_generation, now


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


def add_synonym_group(db: Database, words: list[str]) -> int:
    """Store a group of at least two distinct words and return its id."""
    cleaned = list(dict.fromkeys(word.strip() for word in words if word.strip()))
    if len(cleaned) < 2:
        raise ValueError("一组同义词至少要有两个不同的词")
    with write(db):
        group_id = (
            db["synonym_groups"]
            .insert({"words": json.dumps(cleaned, ensure_ascii=False), "updated_at": now()})
            .last_pk
        )
        bump_content_generation(db)
    return group_id


def delete_synonym_group(db: Database, group_id: int) -> bool:
    """Remove a group (False if there is none); the matcher stops folding its words."""
    with write(db):
        deleted = db.execute("DELETE FROM synonym_groups WHERE id = ?", [group_id]).rowcount
        if deleted:
            bump_content_generation(db)
    return bool(deleted)
