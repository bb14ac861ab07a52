"""Every shipped answer reads naturally whether the site settings are filled in or not."""

from __future__ import annotations

import re

import pytest

from bot import texts
from knowledge.seed import shipped_records
from knowledge.settings import SETTINGS, render_placeholders

#: Every setting filled in, as an office would.
FILLED = {
    "公众号名称": "清河普法",
    "单位名称": "清河镇人民政府",
    "办公室电话": "0538-6000001",
    "服务大厅电话": "0538-6000002",
    "服务大厅地址": "清河镇政务服务中心一楼",
    "服务大厅办公时间": "工作日 8:30—12:00、13:30—17:30",
    "延时错时服务时间": "工作日 12:00—13:30、周六上午",
    "调解中心电话": "0538-6000003",
    "调解中心地址": "清河镇人民调解中心（镇政府东院）",
}


#: What a fallback gone wrong looks like (each seen in an answer before the rewrite).
ARTEFACTS = [
    ("电话…电话", re.compile(r"电话[^，。；\n]{0,20}电话（")),
    ("doubled", re.compile(r"([\u4e00-\u9fff]{2,})\1")),
    ("repeated", re.compile(r"([^\s，。；、或]{4,})[或、]\1")),
    ("地址可拨打", re.compile(r"(地址|时间|电话)(可|请)?拨打")),
    ("empty parentheses", re.compile(r"（\s*）|\(\s*\)")),
    ("punctuation", re.compile(r"[：:，、][。；，、]|[。；][，。；]")),
    ("braces", re.compile(r"[{}]")),
]


def artefacts(text: str) -> list[str]:
    """The artefacts in ``text``, each named with the words around it."""
    return [
        f"{name} at “{text[max(0, m.start() - 8) : m.end() + 8]}”"
        for name, pattern in ARTEFACTS
        for m in pattern.finditer(text)
    ]


def test_the_filled_settings_cover_every_setting() -> None:
    assert set(FILLED) == set(SETTINGS)


def shipped_texts(settings: dict[str, str]) -> list[tuple[str, str]]:
    """Every answer and fixed reply residents can read, rendered with ``settings``."""
    rendered = [
        (f"{source}: {record['question']}", render_placeholders(record["answer"], settings))
        for source, record in shipped_records()
    ]
    rendered += [
        ("welcome", texts.welcome_text(settings)),
        ("human", texts.human_text(settings)),
        ("fallback", texts.fallback_text(settings)),
    ]
    return rendered


@pytest.mark.parametrize("settings", [{}, FILLED], ids=["no settings", "all settings"])
def test_no_shipped_text_has_artefacts(settings: dict[str, str]) -> None:
    problems = [
        f"{label}: {found}" for label, text in shipped_texts(settings) if (found := artefacts(text))
    ]
    assert problems == []


def test_filled_settings_reach_the_answers() -> None:
    joined = "\n".join(text for _label, text in shipped_texts(FILLED))
    for key, value in FILLED.items():
        assert value in joined, key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The examples of the issue: nothing doubled, no "地址可拨打".
        ("也可以到{调解中心地址}，电话{调解中心电话}。", "也可以到当地人民调解委员会，电话12348。"),
        (
            "联系{单位名称}：{办公室电话}",
            "联系我们：可拨打12345政务服务便民热线或12348公共法律服务热线",
        ),
        ("服务大厅地址：{服务大厅地址}。", "服务大厅地址：请拨打12345政务服务便民热线查询。"),
        ("办公时间：{服务大厅办公时间}。", "办公时间：请拨打12345政务服务便民热线查询。"),
        (
            "请拨打{服务大厅电话}或{办公室电话}咨询。",
            "请拨打12345政务服务便民热线或12348公共法律服务热线咨询。",
        ),
        ("申请人民调解（{调解中心电话}）", "申请人民调解（12348公共法律服务热线）"),
        ("可以关注{公众号名称}。", "可以关注本公众号。"),
    ],
)
def test_unset_settings_read_naturally(text: str, expected: str) -> None:
    assert render_placeholders(text, {}) == expected
    assert artefacts(expected) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("电话当地人民调解委员会电话（可拨打12348查询）", "电话…电话"),
        ("电话电话", "doubled"),
        ("地址可拨打12345查询", "地址可拨打"),
        ("请拨打（）咨询", "empty parentheses"),
        ("地址：。", "punctuation"),
        ("拨打{调解中心电话}", "braces"),
        ("拨打12345政务服务便民热线或12345政务服务便民热线", "repeated"),
    ],
)
def test_the_artefact_check_catches_what_the_issue_saw(text: str, found: str) -> None:
    assert any(found in problem for problem in artefacts(text)), artefacts(text)
