"""The bot's tables: answered WeChat messages, plain-mode signatures seen, dialogue state."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("bot")


@migrations()
def create_dialogue_tables(db: Database) -> None:
    """Processed messages (dedup across workers) and per-resident conversation state."""
    db["processed_messages"].create({"key": str, "reply": str, "created_at": float}, pk="key")
    db["processed_messages"].create_index(["created_at"])
    db["conversations"].create({"user": str, "state": str, "expires_at": float}, pk="user")


@migrations()
def create_wechat_tokens(db: Database) -> None:
    """The WeChat access token, shared by every worker until it nearly expires."""
    db["wechat_tokens"].create({"app_id": str, "token": str, "expires_at": float}, pk="app_id")


@migrations()
def add_claim_owner_and_lease(db: Database) -> None:
    """Who holds each claim and since when, so a retry can take over a dead worker's claim."""
    db["processed_messages"].add_column("owner", str)
    db["processed_messages"].add_column("claimed_at", float)


@migrations()
def create_plain_signatures(db: Database) -> None:
    """Plain-mode (timestamp, nonce, signature) triples seen, each with the body it signed."""
    db["plain_signatures"].create({"key": str, "body_sha256": str, "expires_at": float}, pk="key")
    db["plain_signatures"].create_index(["expires_at"])


@migrations()
def create_rate_counters(db: Database) -> None:
    """Per-caller message counters (per minute, per day), shared by every worker."""
    db["rate_counters"].create(
        {"key": str, "period": int, "count": int, "expires_at": float}, pk="key"
    )
    db["rate_counters"].create_index(["expires_at"])
