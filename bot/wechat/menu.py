"""The account's custom menu (自定义菜单): topic buttons the dialogue understands, and 人工.

https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
At most 3 buttons, each with at most 5 sub-buttons; a CLICK button's key comes back as the
EventKey of a ``click`` event, which the dialogue answers (``TOPIC_<key>``, ``HUMAN``, ``HELP``).
"""

from __future__ import annotations

import json
from typing import Any

from knowledge.topics import TOPICS

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_BUTTON_NAME_BYTES = 16
MAX_SUB_BUTTON_NAME_BYTES = 60


class MenuError(ValueError):
    """A configured menu WeChat would refuse; the message is for staff."""


def default_menu() -> list[dict[str, Any]]:
    """Two buttons of topics (five, then the rest with 使用帮助) and a 人工 button."""
    topics = [
        {"type": "click", "name": name, "key": f"TOPIC_{key.upper()}"}
        for key, name in TOPICS.items()
    ]
    first, rest = topics[:MAX_SUB_BUTTONS], topics[MAX_SUB_BUTTONS : 2 * MAX_SUB_BUTTONS - 1]
    return [
        {"name": "法律问答", "sub_button": first},
        {
            "name": "更多",
            "sub_button": [*rest, {"type": "click", "name": "使用帮助", "key": "HELP"}],
        },
        {"type": "click", "name": "人工", "key": "HUMAN"},
    ]


def configured_menu(setting: Any) -> list[dict[str, Any]]:
    """The menu from the WECHAT_MENU setting (JSON text or a list; empty: the default), checked."""
    if not setting:
        buttons = default_menu()
    else:
        try:
            buttons = json.loads(setting) if isinstance(setting, str) else setting
        except ValueError as error:
            raise MenuError(f"WECHAT_MENU 不是有效的 JSON：{error}") from None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise MenuError(f"菜单须有1到{MAX_BUTTONS}个按钮。")
    for button in buttons:
        subs = button.get("sub_button") if isinstance(button, dict) else None
        _check(button, MAX_BUTTON_NAME_BYTES, needs_action=not subs)
        if subs is not None:
            if not isinstance(subs, list) or len(subs) > MAX_SUB_BUTTONS:
                raise MenuError(f"每个按钮最多{MAX_SUB_BUTTONS}个子按钮。")
            for sub in subs:
                _check(sub, MAX_SUB_BUTTON_NAME_BYTES, needs_action=True)
    return buttons


def _check(button: Any, max_bytes: int, needs_action: bool) -> None:
    if not isinstance(button, dict) or not str(button.get("name", "")).strip():
        raise MenuError("每个按钮都要有名称。")
    name = str(button["name"])
    if len(name.encode("utf-8")) > max_bytes:
        raise MenuError(f"按钮名称“{name}”太长（最多{max_bytes}个字节）。")
    if needs_action and button.get("type") == "click" and not button.get("key"):
        raise MenuError(f"点击按钮“{name}”缺少 key。")
    if needs_action and button.get("type") not in ("click", "view"):
        raise MenuError(f"按钮“{name}”的类型须为 click 或 view。")
