"""WeChat's XML both ways: a parser that refuses DTDs and entities, and a reply renderer
whose output is well-formed whatever the text holds.

Nothing from the network reaches wechatpy or xmltodict before :func:`parse_message_xml`
has accepted it (it is the only parse; wechatpy gets the resulting dict).
"""

from __future__ import annotations

import re
import time
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

# Characters XML 1.0 does not allow anywhere, even in CDATA (most C0 controls, lone
# surrogates, U+FFFE/U+FFFF).
_ILLEGAL_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# The encoding an XML declaration names (the declaration can only open the document).
_DECLARED_ENCODING = re.compile(r"""<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
#: WeChat sends UTF-8; a body declaring anything else is refused, not re-decoded.
ACCEPTED_ENCODINGS = frozenset({"utf-8", "utf8"})


class InvalidXml(ValueError):
    """The body is not a WeChat XML message we are willing to read; the text says why."""


def parse_message_xml(body: bytes | str) -> dict[str, str]:
    """The top-level fields of a ``<xml>…</xml>`` message as a dict of tag → text.

    Refuses any DOCTYPE, entity declaration or external reference (billion laughs, XXE),
    bytes that are not UTF-8 and a declaration of any other encoding (gbk, utf-16 …).
    Nested elements (e.g. ``ScanCodeInfo``) are skipped; of a repeated tag the first wins.
    Raises :class:`InvalidXml`.
    """
    text = utf8_text(body)
    if not text.strip():
        raise InvalidXml("empty body")
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as error:
        raise InvalidXml(f"forbidden XML construct: {error.__class__.__name__}") from error
    except ParseError as error:
        raise InvalidXml(f"malformed XML: {error}") from error
    if root.tag != "xml":
        raise InvalidXml(f"root element is <{root.tag[:40]}>, not <xml>")
    fields: dict[str, str] = {}
    for child in root:
        if isinstance(child.tag, str) and len(child) == 0 and child.tag not in fields:
            fields[child.tag] = child.text or ""
    return fields


def utf8_text(body: bytes | str) -> str:
    """``body`` as text, if it is UTF-8 and declares no other encoding; else :class:`InvalidXml`.

    Decoding here, not in the parser, means expat never sees a declared encoding (it would
    raise ``ValueError`` or ``LookupError`` for multi-byte or unknown names).
    """
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidXml(f"malformed XML: not UTF-8 (byte {error.start})") from error
    declared = _DECLARED_ENCODING.match(body.lstrip("\ufeff"))
    if declared and declared.group(1).strip().lower() not in ACCEPTED_ENCODINGS:
        raise InvalidXml(f"declares encoding {declared.group(1)[:40]!r}; only UTF-8 is accepted")
    return body


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids (they would make the reply unparseable)."""
    return _ILLEGAL_XML_CHARS.sub("", text)


def cdata(text: str) -> str:
    """``text`` as CDATA; a ``]]>`` inside is split across two sections."""
    return "<![CDATA[" + xml_safe(text).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(
    to_user: str, from_account: str, content: str, create_time: int | None = None
) -> str:
    """A passive text reply: from the account (``from_account``) to the resident (``to_user``).

    https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
    """
    created = int(time.time()) if create_time is None else create_time
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_account)}</FromUserName>"
        f"<CreateTime>{created}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )
