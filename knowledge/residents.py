"""Who a resident is, as Pufa stores it: a keyed hash, never the raw OpenID.

Every table that remembers a resident (dialogue state, dedup records, the record of
turns, feedback) keys it by :func:`resident_key`. The channel is part of the hash and
of the visible prefix, so a caller of the JSON API can never name a WeChat resident's
state: ``wx:`` keys come only from signed webhook messages.
"""

from __future__ import annotations

import hashlib
import hmac

CHANNELS = ("wx", "api", "web")


def resident_key(secret: str, channel: str, user: str) -> str:
    """The stored key for ``user`` on ``channel`` ("wx", "api" or "web"), e.g. ``wx:3f9a…``."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    digest = hmac.new(
        secret.encode("utf-8"), f"{channel}\0{user}".encode("utf-8", "replace"), hashlib.sha256
    ).hexdigest()
    return f"{channel}:{digest[:32]}"


def hash_secret(config: dict) -> str:
    """The key residents are hashed with: ``RESIDENT_HASH_KEY``, else ``SECRET_KEY``."""
    return str(config.get("RESIDENT_HASH_KEY") or config["SECRET_KEY"])
