"""The knowledge tables, as sqlite-utils migrations applied at start-up."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("knowledge")


@migrations()
def create_entries(db: Database) -> None:
    """Entries, every version of each, site settings, synonyms and a generation counter."""
    entry_columns = {
        "topic": str,
        "question": str,
        "alternates": str,
        "answer": str,
        "law_refs": str,
        "keywords": str,
        "status": str,
        "version": int,
    }
    db["entries"].create(
        {"id": int, **entry_columns, "created_at": str, "updated_by": str, "updated_at": str},
        pk="id",
        not_null={"topic", "question", "answer", "status", "version"},
    )
    db["entries"].create_index(["status"])
    db["entry_versions"].create(
        {"id": int, "entry_id": int, **entry_columns, "changed_by": str, "changed_at": str},
        pk="id",
        foreign_keys=[("entry_id", "entries", "id")],
    )
    db["entry_versions"].create_index(["entry_id", "version"], unique=True)
    db["settings"].create(
        {"key": str, "value": str, "updated_by": str, "updated_at": str}, pk="key"
    )
    db["synonym_groups"].create({"id": int, "words": str, "updated_at": str}, pk="id")
    db["meta"].create({"key": str, "value": int}, pk="key")
    db["meta"].insert({"key": "content_generation", "value": 0})


@migrations()
def create_unanswered(db: Database) -> None:
    """What residents asked that Pufa could not answer directly (choices or fallback)."""
    db["unanswered"].create(
        {
            "id": int,
            "text": str,
            "kind": str,
            "user": str,
            "asked_at": str,
            "candidates": str,
        },
        pk="id",
    )
    db["unanswered"].create_index(["asked_at"])


@migrations()
def create_users_and_audit(db: Database) -> None:
    """Staff accounts, and the append-only audit log of every change staff make."""
    db["users"].create(
        {
            "id": int,
            "name": str,
            "role": str,
            "password_hash": str,
            "disabled": int,
            "session_version": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"name", "role", "password_hash", "disabled", "session_version"},
        defaults={"disabled": 0, "session_version": 0},
    )
    db["users"].create_index(["name"], unique=True)
    db["audit_log"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "object_type": str,
            "object_id": str,
            "summary": str,
            "before": str,
            "after": str,
        },
        pk="id",
        not_null={"at", "actor", "action", "object_type"},
    )
    db["audit_log"].create_index(["at"])
    db["audit_log"].create_index(["object_type", "object_id"])
    # Append-only in the database itself, whatever code or tool writes to it.
    for event in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER audit_log_no_{event.lower()} BEFORE {event} ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
        )


@migrations()
def create_signin_attempts(db: Database) -> None:
    """Staff sign-in attempts, so every worker counts the same failures (see signin_attempts)."""
    db["signin_attempts"].create(
        {"id": int, "account": str, "address": str, "at": float, "succeeded": int},
        pk="id",
        not_null={"account", "address", "at", "succeeded"},
    )
    db["signin_attempts"].create_index(["account", "address", "at"])
    db["signin_attempts"].create_index(["address", "at"])
    db["signin_attempts"].create_index(["account", "at"])


@migrations()
def create_drafts_and_topics(db: Database) -> None:
    """Pending drafts beside the published version, and the topics as data.

    An entry's row in ``entries`` is what residents get (while published); a change in
    the works — a new entry, or an edit of a published one — waits in ``entry_drafts``
    (at most one per entry) until a reviewer approves it into the entry as a new version.
    """
    db["entry_drafts"].create(
        {
            "entry_id": int,
            "topic": str,
            "question": str,
            "alternates": str,
            "answer": str,
            "law_refs": str,
            "keywords": str,
            "state": str,
            "base_version": int,
            "revision": int,
            "authors": str,
            "updated_by": str,
            "updated_at": str,
            "submitted_by": str,
            "submitted_at": str,
            "returned_by": str,
            "returned_at": str,
            "return_comment": str,
        },
        pk="entry_id",
        foreign_keys=[("entry_id", "entries", "id")],
        not_null={"topic", "question", "answer", "state", "revision"},
    )
    db["entry_drafts"].create_index(["state"])
    db["topics"].create(
        {"key": str, "name": str, "position": int, "created_by": str, "created_at": str},
        pk="key",
        not_null={"name", "position"},
    )
    db["topics"].create_index(["name"], unique=True)
    # The shipped eight, in menu order, written out so the migration stays as shipped.
    shipped = {
        "marriage": "婚姻家庭",
        "inheritance": "继承遗嘱",
        "contract": "借贷合同",
        "property": "房产邻里",
        "tort": "侵权人格",
        "antifraud": "防范诈骗",
        "nocert": "无证明办事",
        "services": "法律服务",
    }
    db["topics"].insert_all(
        {"key": key, "name": name, "position": position, "created_by": "系统（随软件发布）"}
        for position, (key, name) in enumerate(shipped.items(), start=1)
    )


@migrations()
def create_turns(db: Database) -> None:
    """The record of every turn residents have with Pufa, replacing the ``unanswered`` log.

    A turn keeps the resident only as a keyed hash (``knowledge.residents``); its text is
    removed after the retention period while the rest stays for the counts. Handled
    unanswered turns point at the ``queue_handlings`` row that says who handled them, how.
    """
    db["queue_handlings"].create(
        {
            "id": int,
            "at": str,
            "actor": str,
            "action": str,
            "entry_id": int,
            "turns": int,
            "summary": str,
        },
        pk="id",
        not_null={"at", "actor", "action"},
    )
    db["turns"].create(
        {
            "id": int,
            "at": str,
            "channel": str,
            "kind": str,
            "entry_id": int,
            "score": float,
            "resident": str,
            "text": str,
            "candidates": str,
            "helpful": int,
            "handling_id": int,
        },
        pk="id",
        not_null={"at", "kind"},
        foreign_keys=[("handling_id", "queue_handlings", "id")],
    )
    db["turns"].create_index(["at"])
    db["turns"].create_index(["kind", "at"])
    db["turns"].create_index(["resident"])
    db["turns"].create_index(["entry_id", "kind"])
    # The old log's rows become unanswered turns; their raw user ids are not carried over.
    db.execute(
        "INSERT INTO turns (at, channel, kind, text, candidates) "
        "SELECT asked_at, CASE WHEN user LIKE 'api:%' THEN 'api' "
        "WHEN user LIKE 'web-%' THEN 'web' ELSE 'wx' END, kind, text, candidates "
        "FROM unanswered ORDER BY id"
    )
    db["unanswered"].drop()


@migrations()
def create_staff_phones(db: Database) -> None:
    """Staff phones bound for campaign previews, and the one-time codes that bind them.

    A binding keeps the staff member's raw OpenID (to address previews, with their consent)
    and its keyed hash (what every other table stores); no resident's id is kept here.
    """
    db["staff_phones"].create(
        {"name": str, "openid": str, "resident": str, "bound_at": str},
        pk="name",
        not_null={"openid", "resident", "bound_at"},
    )
    db["staff_phone_codes"].create(
        {"code": str, "name": str, "issued_at": str, "expires_at": float},
        pk="code",
        not_null={"name", "expires_at"},
    )


@migrations()
def create_phrasing_vectors(db: Database) -> None:
    """The semantic model's vectors of entries' phrasings, keyed by a hash of the text
    embedded (:mod:`knowledge.matching.vector_cache`): a restart or another worker reads
    them instead of embedding again, and an edit embeds only the phrasings it changed."""
    db["phrasing_vectors"].create({"key": str, "vector": bytes}, pk="key", not_null={"vector"})
