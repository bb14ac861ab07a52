"""The shipped knowledge base (knowledge/content/*.yaml) keeps the rules in its README.

Each test collects every offending entry and reports them all at once. The rules the
tests apply to answer text (article mentions, phone-like numbers) are tested on
examples first, so a rule that stopped catching anything would fail here too.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from knowledge.answer_rules import article_mention_problems, phone_like_numbers
from knowledge.entries import Entry, EntryError, entry_from_record, parse_law_ref
from knowledge.law_registry import LAW_NAMES
from knowledge.laws import article_for_ref
from knowledge.matching.normalize import clean_text
from knowledge.seed import shipped_records
from knowledge.settings import PLACEHOLDER, SETTINGS, render_placeholders
from knowledge.topics import TOPICS

MIN_ENTRIES = 150
MIN_ALTERNATES = 3
MAX_REPLY_BYTES = 2048  # WeChat's limit for a text reply
CIVIL_CODE_TOPICS = ("marriage", "inheritance", "contract", "property", "tort")
_SHIPPED_LAW = re.compile("|".join(sorted(map(re.escape, LAW_NAMES), key=len, reverse=True)))
# What an answer says when it leans on an interpretation without naming which one.
_VAGUE_INTERPRETATION = re.compile(r"司法解释|最高人民法院")


@pytest.mark.parametrize(
    "text",
    [
        "请拨打0531-88888888咨询",
        "手机13800138000",
        "手机 138 0013 8000。",
        "拨打114查询",
        "拨打银行客服95588核实",
        "热线12306",
        "400-123-4567",
        "拨打１１４查询",  # full-width digits
    ],
)
def test_phone_rule_catches_phone_numbers(text: str) -> None:
    assert phone_like_numbers(text)


@pytest.mark.parametrize(
    "text",
    [
        "马上拨打110报警，或拨打96110反诈专线。",
        "拨打12348、12339、12333、12345、12315，急救120。",
        "民法典自2021年1月1日起施行，共1260条（民法典第1079条、第1080条）。",
        "恋人之间520、1314这类特殊数额的红包",
        "人民币壹万元整（¥10000元）",
        "超过180天，年利率超过150%的部分，1.5倍",
        "生效日期2021-01-01",
        "借了100000元，过了3年",
    ],
)
def test_phone_rule_lets_facts_through(text: str) -> None:
    assert phone_like_numbers(text) == []


@pytest.mark.parametrize(
    ("answer", "refs", "problem_count"),
    [
        ("冷静期30天（民法典第1077条）。", ["民法典第1077条"], 0),
        ("见民法典第1077条、第1078条。", ["民法典第1077条", "民法典第1078条"], 0),
        ("见第1062、1063条。", ["民法典第1062条", "民法典第1063条"], 0),
        ("《中华人民共和国民法典》第一千零七十七条规定", ["民法典第1077条"], 0),
        ("反诈法有规定（反电信网络诈骗法第5条）。", ["反电信网络诈骗法第5条"], 0),
        ("见民法典第1077条、第1078条。", ["民法典第1077条"], 1),
        ("见第1079条。", ["民法典第1077条"], 1),
        ("见第1079条。", [], 1),
        ("按刑法第266条处罚。", [], 1),
        ("按刑法第266条处罚。", ["刑法第266条"], 0),
        ("《反家庭暴力法》第二十三条规定", ["民法典第1042条"], 1),
        ("《反家庭暴力法》第二十三条规定", ["反家庭暴力法第23条"], 0),
        ("民法典第5条", ["反电信网络诈骗法第5条"], 1),
        ("刑法第276条之一", ["刑法第276条"], 1),
        ("刑法第276条之一", ["刑法第276条之一"], 0),
        ("见第275条、第276条之一", ["刑法第275条", "刑法第276条之一"], 0),
        ("《中华人民共和国劳动合同法》第八十二条", ["劳动合同法第82条"], 0),
        ("婚姻家庭编解释（一）第88条", ["婚姻家庭编解释（一）第88条"], 0),
        ("《婚姻家庭编解释（二）》第8条", ["婚姻家庭编解释（一）第8条"], 1),
        (
            "《最高人民法院关于审理民间借贷案件适用法律若干问题的规定》第二十五条",
            ["民间借贷司法解释第25条"],
            0,
        ),
        ("农民工工资支付条例第30条", ["保障农民工工资支付条例第30条"], 0),
        ("治安管理处罚法第42条", ["民法典第1024条"], 1),
        ("按照劳动合同法，第82条", ["劳动合同法第82条"], 0),
        # A bare "（第N条）" is read in the law named last before it.
        ("劳动合同法实施条例也这样规定（第40条）。", ["劳动合同法第40条"], 1),
        ("劳动合同法规定可以解除（第40条）。", ["劳动合同法第40条"], 0),
        ("反诈法要求银行核验；民法典规定过错赔偿（第46条）。", ["反电信网络诈骗法第46条"], 1),
        ("民法典规定过错赔偿；反诈法要求银行核验（第46条）。", ["反电信网络诈骗法第46条"], 0),
        ("见民法典第1062条。婚姻家庭编解释(一)说养老金（第80条）", ["民法典第1062条"], 1),
        (
            "见民法典第1062条。婚姻家庭编解释（一）说养老金（第80条）",
            ["民法典第1062条", "婚姻家庭编解释（一）第80条"],
            0,
        ),
        ("《山东省消防条例》要求（第5条）", ["消防法第5条"], 1),
        ("治安管理处罚法会处罚；赔偿另算（第1165条）", ["民法典第1165条"], 1),
        # 劳动法律 and 人民法院 are words, not the names 劳动法 and 民法.
        ("劳动法律都有规定（第82条）", ["劳动合同法第82条"], 0),
        ("向人民法院起诉（第1165条）", ["民法典第1165条"], 0),
        ("反诈法管源头；民法典人格权编管名誉（第1024条）", ["民法典第1024条"], 0),
    ],
)
def test_article_mention_rule(answer: str, refs: list[str], problem_count: int) -> None:
    assert len(article_mention_problems(answer, refs)) == problem_count


def test_a_bare_article_says_which_law_it_was_read_in() -> None:
    (problem,) = article_mention_problems(
        "劳动合同法实施条例也这样规定（第40条）。", ["劳动合同法第40条"]
    )
    assert (
        "劳动合同法实施条例第40条" in problem and "按前文最后提到的劳动合同法实施条例读" in problem
    )


@pytest.fixture(scope="module")
def records() -> list[tuple[str, dict[str, Any]]]:
    """Every shipped record with a label naming its file, position and question."""
    labelled = []
    for position, (source, record) in enumerate(shipped_records(), start=1):
        question = record.get("question") if isinstance(record, dict) else None
        labelled.append((f"{source} 第{position}条（{question}）", record))
    return labelled


@pytest.fixture(scope="module")
def entries(records: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, Entry]]:
    """The shipped records that are valid entries, with their labels."""
    valid = []
    for label, record in records:
        try:
            valid.append((label, entry_from_record(record, default_status="published")))
        except EntryError:
            continue  # reported by test_every_record_is_a_valid_entry
    return valid


def report(problems: list[str]) -> str:
    """One line per problem, for the assertion message."""
    return f"{len(problems)} problem(s):\n" + "\n".join(problems)


def test_every_record_is_a_valid_entry(records: list[tuple[str, dict[str, Any]]]) -> None:
    problems = []
    for label, record in records:
        try:
            entry_from_record(record, default_status="published")
        except EntryError as error:
            problems.append(f"{label}: {error}")
    assert not problems, report(problems)


def test_enough_entries_in_every_topic(entries: list[tuple[str, Entry]]) -> None:
    assert len(entries) >= MIN_ENTRIES
    assert {entry.topic for _label, entry in entries} == set(TOPICS)


def test_every_entry_has_enough_distinct_alternates(entries: list[tuple[str, Entry]]) -> None:
    problems = []
    for label, entry in entries:
        distinct = {clean_text(text) for text in entry.alternates} - {clean_text(entry.question)}
        if len(distinct) < MIN_ALTERNATES:
            problems.append(f"{label}: only {len(distinct)} distinct alternates")
    assert not problems, report(problems)


def test_no_two_entries_ask_the_same_question(entries: list[tuple[str, Entry]]) -> None:
    seen: dict[str, str] = {}
    problems = []
    for label, entry in entries:
        key = clean_text(entry.question)
        if key in seen:
            problems.append(f"{label}: same question as {seen[key]}")
        seen.setdefault(key, label)
    assert not problems, report(problems)


def test_no_phrasing_belongs_to_two_entries(entries: list[tuple[str, Entry]]) -> None:
    """The same words filed under two entries leave the matcher nothing to choose by."""
    owner: dict[str, str] = {}
    problems = []
    for label, entry in entries:
        for phrasing in {clean_text(text) for text in entry.phrasings()}:
            if phrasing in owner and owner[phrasing] != label:
                problems.append(f"{label}: “{phrasing}” is also a phrasing of {owner[phrasing]}")
            owner.setdefault(phrasing, label)
    assert not problems, report(problems)


def test_every_law_ref_resolves(entries: list[tuple[str, Entry]]) -> None:
    problems = [
        f"{label}: {ref}"
        for label, entry in entries
        for ref in entry.law_refs
        if article_for_ref(ref) is None
    ]
    assert not problems, report(problems)


def test_every_article_in_an_answer_is_cited(entries: list[tuple[str, Entry]]) -> None:
    problems = [
        f"{label}: {problem}"
        for label, entry in entries
        for problem in article_mention_problems(entry.answer, entry.law_refs)
    ]
    assert not problems, report(problems)


def uncited_laws(answer: str, law_refs: list[str]) -> list[str]:
    """Shipped laws ``answer`` names (by short name) without citing any of their articles."""
    cited = {parse_law_ref(ref).law for ref in law_refs}
    return sorted(set(_SHIPPED_LAW.findall(answer)) - cited)


def vague_interpretations(answer: str) -> list[str]:
    """Mentions of "司法解释" or "最高人民法院" that name no shipped interpretation."""
    return _VAGUE_INTERPRETATION.findall(_SHIPPED_LAW.sub("", answer))


@pytest.mark.parametrize(
    ("answer", "refs", "uncited", "vague"),
    [
        ("按照劳动合同法，单位应当签合同。", ["劳动合同法第10条"], [], []),
        ("按照劳动合同法，单位应当签合同。", ["民法典第1079条"], ["劳动合同法"], []),
        ("按民间借贷司法解释，上限是4倍。", ["民间借贷司法解释第25条"], [], []),
        (
            "按最高人民法院的司法解释，上限是4倍。",
            ["民法典第680条"],
            [],
            ["最高人民法院", "司法解释"],
        ),
        ("依照治安管理处罚法处理。", [], [], []),
    ],
)
def test_law_naming_rules(
    answer: str, refs: list[str], uncited: list[str], vague: list[str]
) -> None:
    assert uncited_laws(answer, refs) == uncited
    assert vague_interpretations(answer) == vague


def test_every_shipped_law_named_is_cited(entries: list[tuple[str, Entry]]) -> None:
    """An answer that names a shipped law cites the article it relies on."""
    problems = [
        f"{label}: names {laws} without citing an article"
        for label, entry in entries
        if (laws := uncited_laws(entry.answer, entry.law_refs))
    ]
    assert not problems, report(problems)


def test_interpretations_are_named(entries: list[tuple[str, Entry]]) -> None:
    """ "按最高人民法院的司法解释" says nothing a resident can look up: name the interpretation."""
    problems = [
        f"{label}: {found}"
        for label, entry in entries
        if (found := vague_interpretations(entry.answer))
    ]
    assert not problems, report(problems)


def test_civil_law_answers_cite_the_civil_code(entries: list[tuple[str, Entry]]) -> None:
    problems = [
        f"{label}: no 民法典 article in {entry.law_refs}"
        for label, entry in entries
        if entry.topic in CIVIL_CODE_TOPICS
        and not any(parse_law_ref(ref)[0] == "民法典" for ref in entry.law_refs)
    ]
    assert not problems, report(problems)


def test_placeholders_are_known_settings(entries: list[tuple[str, Entry]]) -> None:
    problems = []
    for label, entry in entries:
        unknown = [key for key in PLACEHOLDER.findall(entry.answer) if key not in SETTINGS]
        rendered = render_placeholders(entry.answer, {})
        if unknown or "{" in rendered or "}" in rendered:
            problems.append(f"{label}: unknown or malformed placeholder {unknown or rendered}")
    assert not problems, report(problems)


def test_no_invented_phone_numbers(entries: list[tuple[str, Entry]]) -> None:
    problems = [
        f"{label}: {numbers}"
        for label, entry in entries
        if (numbers := phone_like_numbers(entry.answer))
    ]
    assert not problems, report(problems)


def test_answers_fit_one_wechat_reply(entries: list[tuple[str, Entry]]) -> None:
    problems = []
    for label, entry in entries:
        size = len(render_placeholders(entry.answer, {}).encode("utf-8"))
        if size > MAX_REPLY_BYTES:
            problems.append(f"{label}: {size} bytes once rendered")
    assert not problems, report(problems)
