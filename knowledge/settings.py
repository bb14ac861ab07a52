"""Site settings: the local facts staff fill in, and how answers' placeholders use them."""

from __future__ import annotations

import re

from sqlite_utils import Database

from knowledge.db import write
from knowledge.store import now

#: setting key → (what staff see it as, what residents read while it is unset).
SETTINGS: dict[str, tuple[str, str]] = {
    "公众号名称": ("公众号名称", "本公众号"),
    "办公室电话": ("管委会法治工作联系电话", "管委会办公室电话（可拨打12345政务服务便民热线转接）"),
    "服务大厅电话": ("政务服务大厅电话", "政务服务大厅电话（可拨打12345政务服务便民热线查询）"),
    "服务大厅地址": ("政务服务大厅地址", "当地政务服务大厅（地址可拨打12345查询）"),
    "服务大厅办公时间": ("政务服务大厅办公时间", "工作日办公时间（具体时间可拨打12345查询）"),
    "延时错时服务时间": (
        "延时错时（晚间、周末）服务时间",
        "晚间和周末的延时错时服务时间（请拨打12345查询）",
    ),
    "调解中心电话": ("人民调解中心电话", "当地人民调解委员会电话（可拨打12348查询）"),
    "调解中心地址": ("人民调解中心地址", "当地人民调解委员会（地址可拨打12348查询）"),
}

PLACEHOLDER = re.compile(r"\{([^{}\s]{1,20})\}")


def get_settings(db: Database) -> dict[str, str]:
    """Every setting that staff have filled in (blank values count as unset)."""
    return {
        row["key"]: row["value"]
        for row in db.query("SELECT key, value FROM settings")
        if row["value"] and row["value"].strip()
    }


def set_setting(db: Database, key: str, value: str, by: str) -> None:
    """Store one setting; ``key`` must be one of :data:`SETTINGS`."""
    if key not in SETTINGS:
        raise KeyError(key)
    with write(db):
        db["settings"].upsert(
            {"key": key, "value": value.strip(), "updated_by": by, "updated_at": now()},
            pk="key",
        )


def setting_text(settings: dict[str, str], key: str) -> str:
    """The value of a setting, or the generic text residents read while it is unset."""
    if key in settings:
        return settings[key]
    return SETTINGS[key][1] if key in SETTINGS else key


def render_placeholders(text: str, settings: dict[str, str]) -> str:
    """Fill ``{设置名}`` placeholders from settings; unknown braces are left as written."""

    def fill(match: re.Match[str]) -> str:
        key = match[1]
        return setting_text(settings, key) if key in SETTINGS else match[0]

    return PLACEHOLDER.sub(fill, text)
