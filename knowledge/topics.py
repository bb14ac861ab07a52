"""The topics residents can browse: the shipped eight, which stay the menu.

Topics staff add live in the ``topics`` table beside these (:mod:`knowledge.topic_store`).
"""

from __future__ import annotations

#: topic key → the name residents see (menu buttons, welcome text, choices).
TOPICS: dict[str, str] = {
    "marriage": "婚姻家庭",
    "inheritance": "继承遗嘱",
    "contract": "借贷合同",
    "property": "房产邻里",
    "tort": "侵权人格",
    "antifraud": "防范诈骗",
    "nocert": "无证明办事",
    "services": "法律服务",
}


def topic_name(key: str, topics: dict[str, str] | None = None) -> str:
    """The resident-facing name of a topic key, from ``topics`` or the shipped eight."""
    return (TOPICS if topics is None else topics).get(key, key)


def topic_by_name_or_key(text: str) -> str | None:
    """The menu topic key that ``text`` names exactly, as key or as menu name, or None."""
    text = text.strip()
    if text in TOPICS:
        return text
    for key, name in TOPICS.items():
        if text == name:
            return key
    return None
