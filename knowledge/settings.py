"""Site settings: the local facts staff fill in, and how answers' placeholders use them.

An answer names a local fact by a placeholder (``{调解中心电话}``). While staff have not
filled it in, residents read a generic pointer instead, chosen by what the sentence says
just before the placeholder, so that it reads naturally either way:

- after a label with a colon (``办公时间：{…}``, ``· 联系{单位名称}：{…}``): a whole phrase,
  "请拨打12345政务服务便民热线查询";
- after the word 电话 (``电话{调解中心电话}``): the hotline's number, "电话12348";
- anywhere else (``拨打{…}咨询``, ``到{…}窗口办理``): a name that fits the sentence,
  "12348公共法律服务热线", "当地政务服务大厅".

Two placeholders joined by 或/、 that fall back to the same hotline read as one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlite_utils import Database

from knowledge.audit import record_audit
from knowledge.db import write
from knowledge.store import now

HOTLINE_12345 = "12345政务服务便民热线"
HOTLINE_12348 = "12348公共法律服务热线"
MAX_SETTING_CHARS = 500


@dataclass(frozen=True)
class Setting:
    """A local fact answers can name: what staff see it as, and what residents read unset."""

    label: str
    #: Read inside a sentence, e.g. after 拨打 or 到.
    unset: str
    #: Read after a label ending in a colon, e.g. "办公时间：".
    unset_after_colon: str
    #: Read right after the word 电话 (None: the same as ``unset``).
    unset_after_phone_word: str | None = None


#: setting key → how staff see it and what residents read while it is unset.
SETTINGS: dict[str, Setting] = {
    "公众号名称": Setting("公众号名称", "本公众号", "本公众号"),
    # The office's own name says its kind too: a 管委会, a 司法局, a 街道办事处 all run such
    # accounts, so no answer names one.
    "单位名称": Setting(
        "本单位名称（如 某某区司法局、某某街道办事处、某某管委会）", "我们", "我们"
    ),
    "办公室电话": Setting(
        "本单位法治工作联系电话",
        f"{HOTLINE_12345}或{HOTLINE_12348}",
        f"可拨打{HOTLINE_12345}或{HOTLINE_12348}",
        "12345（政务服务便民热线，可转接）",
    ),
    "服务大厅电话": Setting(
        "政务服务大厅电话",
        HOTLINE_12345,
        f"可拨打{HOTLINE_12345}",
        "12345（政务服务便民热线，可转接）",
    ),
    "服务大厅地址": Setting("政务服务大厅地址", "当地政务服务大厅", f"请拨打{HOTLINE_12345}查询"),
    "服务大厅办公时间": Setting(
        "政务服务大厅办公时间", "工作日办公时间", f"请拨打{HOTLINE_12345}查询"
    ),
    "延时错时服务时间": Setting(
        "延时错时（晚间、周末）服务时间",
        "晚间和周末的延时错时服务时间",
        f"请拨打{HOTLINE_12345}查询",
    ),
    "调解中心电话": Setting("人民调解中心电话", HOTLINE_12348, f"可拨打{HOTLINE_12348}", "12348"),
    "调解中心地址": Setting("人民调解中心地址", "当地人民调解委员会", f"请拨打{HOTLINE_12348}查询"),
}

#: Settings that are whole texts, not placeholders: key → how staff see it.
TEXT_SETTINGS: dict[str, str] = {
    "欢迎语": "关注时的欢迎语（留空则用默认欢迎语）",
}

PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")
_COLON = ("：", ":")


class SettingError(ValueError):
    """A setting that cannot be stored; the message is for staff."""


def get_settings(db: Database) -> dict[str, str]:
    """Every setting that staff have filled in (blank values count as unset)."""
    return {
        row["key"]: row["value"]
        for row in db.query("SELECT key, value FROM settings")
        if row["value"] and row["value"].strip()
    }


def set_setting(db: Database, key: str, value: str, by: str) -> bool:
    """Store one setting (blank unsets it), audited; False when it already had that value.

    ``key`` must be one of :data:`SETTINGS` or :data:`TEXT_SETTINGS` (KeyError otherwise);
    a value over 500 characters, or with braces in a placeholder setting, is refused.
    """
    if key not in SETTINGS and key not in TEXT_SETTINGS:
        raise KeyError(key)
    value = value.strip()
    if len(value) > MAX_SETTING_CHARS:
        raise SettingError(f"“{key}”最多{MAX_SETTING_CHARS}个字符。")
    if key in SETTINGS and ("{" in value or "}" in value):
        raise SettingError(f"“{key}”里不能有花括号 {{ }}。")
    with write(db):
        before = get_settings(db).get(key, "")
        if before == value:
            return False
        db["settings"].upsert(
            {"key": key, "value": value, "updated_by": by, "updated_at": now()}, pk="key"
        )
        summary = f"设置“{key}”改为“{value}”" if value else f"清空了设置“{key}”"
        record_audit(
            db,
            by,
            "update",
            "setting",
            key,
            summary,
            before={"value": before},
            after={"value": value},
        )
    return True


def setting_text(settings: dict[str, str], key: str, before: str = "") -> str:
    """The value of a setting, or what residents read while it is unset after ``before``."""
    if key in settings:
        return settings[key]
    if key not in SETTINGS:
        return key
    setting = SETTINGS[key]
    if before.rstrip().endswith(_COLON):
        return setting.unset_after_colon
    if before.endswith("电话") and setting.unset_after_phone_word:
        return setting.unset_after_phone_word
    return setting.unset


def _fold_repeated_hotlines(text: str) -> str:
    for hotline in (HOTLINE_12345, HOTLINE_12348):
        text = re.sub(f"{hotline}(?:[或、]{hotline})+", hotline, text)
    return text


def render_placeholders(text: str, settings: dict[str, str]) -> str:
    """Fill ``{设置名}`` placeholders from settings; unknown braces are left as written."""
    parts: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(text):
        parts.append(text[position : match.start()])
        key = match[1]
        written = "".join(parts)
        parts.append(setting_text(settings, key, written) if key in SETTINGS else match[0])
        position = match.end()
    parts.append(text[position:])
    return _fold_repeated_hotlines("".join(parts))
