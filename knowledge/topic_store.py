"""Topics as data: the ``topics`` table holds the shipped eight and every topic staff add."""

from __future__ import annotations

import re

from sqlite_utils import Database

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.store import now

TOPIC_KEY = re.compile(r"^[a-z][a-z0-9_]{1,29}$")
MAX_TOPIC_NAME = 12


class TopicError(ValueError):
    """A topic that cannot be added; the message is for staff."""


def known_topics(db: Database) -> dict[str, str]:
    """Every topic in the database (shipped and added), key → name, in menu order."""
    rows = db.query("SELECT key, name FROM topics ORDER BY position, key")
    return {row["key"]: row["name"] for row in rows}


def add_topic(db: Database, key: str, name: str, by: str) -> None:
    """Add a topic staff can file entries under; refuses a malformed or taken key or name."""
    key, name = key.strip(), name.strip()
    if not TOPIC_KEY.match(key):
        raise TopicError(
            f"主题代码“{key}”不合格式：用2到30个小写英文字母、数字或下划线，以字母开头，如 labor。"
        )
    if not name or len(name) > MAX_TOPIC_NAME:
        raise TopicError(f"主题名称不能为空，且不超过{MAX_TOPIC_NAME}个字。")
    with write(db):
        topics = known_topics(db)
        if key in topics:
            raise TopicError(f"主题代码“{key}”已经存在（{topics[key]}）。")
        if name in topics.values():
            raise TopicError(f"主题名称“{name}”已经存在。")
        position = db.execute("SELECT coalesce(max(position), 0) + 1 FROM topics").fetchone()[0]
        db["topics"].insert(
            {"key": key, "name": name, "position": position, "created_by": by, "created_at": now()}
        )
        record_audit(db, by, "create", "topic", key, f"新增主题 {name}（{key}）")
