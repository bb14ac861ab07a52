"""What a parsed WeChat message means for the dialogue: its checks, its dedup key, its Incoming.

Message and event fields:
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
"""

from __future__ import annotations

import hashlib

from bot.dialogue import Incoming
from knowledge.residents import resident_key

REQUIRED_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType")
#: Messages the dialogue answers with "please use text or voice".
MEDIA_TYPES = frozenset({"image", "location", "link", "video", "shortvideo", "file"})
MAX_MSG_ID_CHARS = 64


class InvalidMessage(ValueError):
    """A message that lacks what every WeChat message carries; the text says what."""


def check_message(fields: dict[str, str]) -> None:
    """Raise :class:`InvalidMessage` unless the required fields are present and sensible."""
    missing = [name for name in REQUIRED_FIELDS if not fields.get(name, "").strip()]
    if missing:
        raise InvalidMessage(f"missing {', '.join(missing)}")
    created = fields["CreateTime"].strip()
    if not (created.isascii() and created.isdigit()):
        raise InvalidMessage(f"CreateTime is not a number: {created[:40]!r}")
    if fields["MsgType"].strip().lower() == "event" and not fields.get("Event", "").strip():
        raise InvalidMessage("event without Event")


def dedup_key(fields: dict[str, str], secret: str) -> str:
    """The key WeChat's retries of one message share, naming the resident only by hash.

    A message: the resident and its MsgId. An event (no MsgId): the resident, CreateTime,
    Event and EventKey, so two different events in the same second never share a reply.
    ``secret`` is the resident hash key (``knowledge.residents.hash_secret``).
    """
    resident = resident_key(secret, "wx", fields["FromUserName"])
    msg_id = fields.get("MsgId", "").strip()
    if msg_id:
        return f"msg:{resident}:{msg_id[:MAX_MSG_ID_CHARS]}"
    event = "\0".join((fields.get("Event", "").strip(), fields.get("EventKey", "").strip()))
    event_digest = hashlib.sha256(event.encode("utf-8", "replace")).hexdigest()[:32]
    return f"event:{resident}:{fields['CreateTime'].strip()[:20]}:{event_digest}"


def to_incoming(fields: dict[str, str]) -> Incoming | None:
    """The dialogue's view of a checked message; None for a type Pufa does not handle."""
    user = fields["FromUserName"]
    msg_type = fields["MsgType"].strip().lower()
    if msg_type == "text":
        return Incoming(user=user, text=fields.get("Content", ""))
    if msg_type == "voice":
        recognition = fields.get("Recognition", "").strip()
        if recognition:
            return Incoming(user=user, text=recognition)
        return Incoming(user=user, media="voice")
    if msg_type == "event":
        return Incoming(
            user=user, event=fields["Event"].strip(), event_key=fields.get("EventKey", "")
        )
    if msg_type in MEDIA_TYPES:
        return Incoming(user=user, media=msg_type)
    return None
