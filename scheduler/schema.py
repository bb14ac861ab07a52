"""The scheduler's tables, as sqlite-utils migrations applied at start-up."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("scheduler")


@migrations()
def create_calendar_tables(db: Database) -> None:
    """Each year's dates of the annual windows, and the office's own local days."""
    db["publicity_windows"].create(
        {"day_key": str, "year": int, "start": str, "end": str, "updated_by": str},
        pk=("day_key", "year"),
    )
    db["local_publicity_days"].create(
        {
            "key": str,
            "name": str,
            "month": int,
            "day": int,
            "laws": str,
            "topics": str,
            "created_by": str,
        },
        pk="key",
    )


@migrations()
def create_campaign_tables(db: Database) -> None:
    """Campaigns with their send claim and result; previews; the scheduler's state."""
    db["campaigns"].create(
        {
            "id": int,
            "title": str,
            "kind": str,
            "text": str,
            "digest": str,
            "body": str,
            "cover_path": str,
            "tag_id": int,
            "send_at": str,
            "day_key": str,
            "status": str,
            "author": str,
            "reviewer": str,
            "created_at": str,
            "updated_at": str,
            "claim_owner": str,
            "claim_until": float,
            "attempts": int,
            "msg_id": str,
            "error_code": int,
            "error_message": str,
            "sent_at": str,
            "result_status": str,
            "result_total": int,
            "result_filtered": int,
            "result_sent": int,
            "result_errors": int,
        },
        pk="id",
        not_null={"title", "kind", "send_at", "status", "author"},
        defaults={"attempts": 0},
    )
    db["campaigns"].create_index(["status", "send_at"])
    db["campaigns"].create_index(["msg_id"])
    db["campaign_previews"].create(
        {"id": int, "campaign_id": int, "target": str, "by_wxname": int, "at": str}, pk="id"
    )
    db["scheduler_state"].create({"key": str, "value": int}, pk="key")
    db["scheduler_heartbeat"].create(
        {"owner": str, "pid": int, "host": str, "started_at": str, "beat_at": str}, pk="owner"
    )


@migrations()
def create_unmatched_job_results(db: Database) -> None:
    """MASSSENDJOBFINISH events that arrived before their campaign's msg_id was stored."""
    db["unmatched_job_results"].create(
        {"msg_id": str, "result": str, "received_at": str}, pk="msg_id"
    )


@migrations()
def create_campaign_contributors(db: Database) -> None:
    """Who wrote, changed or submitted each campaign, and each version of its content.

    Existing campaigns get their author and the editors and submitters the audit log
    names, and their current content as their first version.
    """
    db["campaign_contributors"].create(
        {"campaign_id": int, "name": str, "part": str, "at": str},
        pk=("campaign_id", "name", "part"),
    )
    db["campaign_versions"].create(
        {
            "id": int,
            "campaign_id": int,
            "by": str,
            "at": str,
            "title": str,
            "text": str,
            "digest": str,
            "body": str,
            "cover_path": str,
            "tag_id": int,
        },
        pk="id",
    )
    db["campaign_versions"].create_index(["campaign_id"])
    db["campaigns"].add_column("reviewed_version", int)
    db.execute(
        "INSERT OR IGNORE INTO campaign_contributors (campaign_id, name, part, at) "
        "SELECT id, author, 'wrote', created_at FROM campaigns"
    )
    db.execute(
        "INSERT OR IGNORE INTO campaign_contributors (campaign_id, name, part, at) "
        "SELECT CAST(object_id AS INTEGER), actor, "
        "CASE action WHEN 'edit' THEN 'changed' ELSE 'submitted' END, at FROM audit_log "
        "WHERE object_type = 'campaign' AND action IN ('edit', 'submit') ORDER BY id"
    )
    db.execute(
        "INSERT INTO campaign_versions "
        "(campaign_id, by, at, title, text, digest, body, cover_path, tag_id) "
        "SELECT id, author, updated_at, title, text, digest, body, cover_path, tag_id "
        "FROM campaigns ORDER BY id"
    )


@migrations()
def previews_name_staff_not_openids(db: Database) -> None:
    """Previews record the staff member who asked; raw OpenIDs already stored are purged.

    ``target`` holds a keyed hash from now on (the migration has no key to hash the old
    values with, so they are blanked; the rows still count towards the daily caps).
    ``by_wxname`` is no longer written: previews by WeChat ID are gone.
    """
    db["campaign_previews"].add_column("staff", str)
    db.execute("UPDATE campaign_previews SET target = NULL")
    db["campaign_previews"].create_index(["staff", "at"])
    db["campaign_previews"].create_index(["campaign_id", "at"])


@migrations()
def preview_audit_lines_without_openids(db: Database) -> None:
    """Audit lines of earlier previews named the raw OpenID or WeChat ID they went to: hide it.

    The audit log is append-only by trigger; this one redaction of personal data lifts the
    trigger inside the migration's transaction and puts it back unchanged.
    """
    marker = "：预览发给 "
    db.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    db.execute(
        "UPDATE audit_log SET summary = substr(summary, 1, instr(summary, ?) - 1) || ? "
        "WHERE action = 'preview' AND object_type = 'campaign' AND instr(summary, ?) > 0",
        [marker, "：预览发给一部手机（微信号已隐去）", marker],
    )
    db.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
