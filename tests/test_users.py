"""Staff accounts and the append-only audit log, at the store level."""

from __future__ import annotations

import sqlite3

import pytest

from knowledge.audit import list_audit, record_audit
from knowledge.users import (
    UserError,
    create_user,
    end_sessions,
    get_user,
    list_users,
    set_disabled,
    set_password,
    set_role,
    verify_password,
)


def test_create_and_verify(db):
    user = create_user(db, "王编辑", "editor", "correct horse battery", by="setup")
    assert user.role == "editor" and not user.disabled
    assert user.can("edit") and not user.can("review") and not user.can("manage")
    assert verify_password(db, "王编辑", "correct horse battery") == user
    assert verify_password(db, "王编辑", "wrong password!!") is None
    assert verify_password(db, "nobody", "correct horse battery") is None
    stored = db.execute("SELECT password_hash FROM users").fetchone()[0]
    assert "correct horse" not in stored


@pytest.mark.parametrize(
    ("name", "role", "password", "message"),
    [
        ("", "editor", "long enough pw", "用户名不能为空"),
        ("a", "boss", "long enough pw", "角色只能是"),
        ("a", "editor", "short", "密码至少"),
    ],
)
def test_create_refuses_bad_input(db, name, role, password, message):
    with pytest.raises(UserError, match=message):
        create_user(db, name, role, password, by="setup")
    assert list_users(db) == []


def test_duplicate_name_refused(db):
    create_user(db, "li", "reviewer", "long enough pw", by="setup")
    with pytest.raises(UserError, match="已经存在"):
        create_user(db, "li", "admin", "another long pw", by="setup")


def test_password_change_disable_and_sign_out_bump_session_version(db):
    create_user(db, "root", "admin", "long enough pw", by="setup")
    create_user(db, "li", "reviewer", "long enough pw", by="setup")
    versions = [get_user(db, "li").session_version]
    set_password(db, "li", "a new long password", by="li")
    versions.append(get_user(db, "li").session_version)
    end_sessions(db, "li")
    versions.append(get_user(db, "li").session_version)
    set_role(db, "li", "admin", by="root")
    versions.append(get_user(db, "li").session_version)
    set_disabled(db, "li", True, by="root")
    versions.append(get_user(db, "li").session_version)
    assert versions == sorted(set(versions))
    assert verify_password(db, "li", "a new long password") is None
    assert not get_user(db, "li").can("edit")
    set_disabled(db, "li", False, by="root")
    assert verify_password(db, "li", "a new long password").role == "admin"


def test_changes_are_audited_and_the_log_is_append_only(db):
    before = len(list_audit(db, limit=10_000))
    create_user(db, "li", "reviewer", "long enough pw", by="root")
    set_role(db, "li", "admin", by="root")
    record_audit(db, "li", "approve", "entry", 5, "通过审核")
    records = list_audit(db, limit=3)
    assert [r.action for r in records] == ["approve", "set_role", "create"]
    assert records[1].before == {"role": "reviewer"} and records[1].after == {"role": "admin"}
    assert [r.action for r in list_audit(db, object_type="entry", object_id=5)] == ["approve"]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE audit_log SET actor = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit_log")
    assert len(list_audit(db, limit=10_000)) == before + 3


def test_the_last_enabled_admin_cannot_be_disabled_or_demoted(db):
    create_user(db, "root", "admin", "long enough pw", by="setup")
    create_user(db, "li", "editor", "long enough pw", by="setup")
    for change in (
        lambda: set_disabled(db, "root", True, by="root"),
        lambda: set_role(db, "root", "editor", by="root"),
    ):
        with pytest.raises(UserError, match="至少要保留一个可用的管理员账号"):
            change()
    assert get_user(db, "root").can("manage")
    set_role(db, "li", "admin", by="root")
    set_role(db, "root", "reviewer", by="li")
    assert get_user(db, "root").role == "reviewer"
    # Disabled admins do not count.
    set_role(db, "root", "admin", by="li")
    set_disabled(db, "root", True, by="li")
    with pytest.raises(UserError):
        set_disabled(db, "li", True, by="li")
