"""The law corpus: every shipped text parses completely, the registry is data, look-ups answer."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.entries import EntryError, entry_from_record, parse_law_ref
from knowledge.law_registry import (
    ALIASES_FILE,
    INDEX_FILE,
    LAW_NAMES,
    LAWS,
    LAWS_DIR,
    LawError,
    law_named,
    read_not_shipped,
    read_registry,
)
from knowledge.laws import (
    Article,
    LawRef,
    answer_article_ask,
    article_for_ref,
    chinese_to_int,
    find_article,
    format_citation,
    introduce_interpretations,
    last_article_number,
    law_articles,
    parse_law,
    parse_ref,
)

ROOT = Path(__file__).resolve().parent.parent
MARKER = "<!-- INFO END -->"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))


INDEX = {row["short_name"]: row for row in _rows(INDEX_FILE)}


def test_registry_is_every_shipped_text() -> None:
    shipped = {path.name for path in LAWS_DIR.glob("*.md")} - {"README.md"}
    assert {law.file for law in LAWS.values()} == shipped
    assert len(LAW_NAMES) == len(shipped) == 63
    assert LAW_NAMES[:4] == ("民法典", "反电信网络诈骗法", "反有组织犯罪法", "国家安全法")


def test_registry_kinds_and_titles_come_from_the_index() -> None:
    kinds = {law.kind for law in LAWS.values()}
    assert kinds == {"宪法", "法律", "行政法规", "司法解释"}
    interpretations = [law for law in LAWS.values() if law.is_interpretation]
    assert len(interpretations) == 15
    assert (
        LAWS["民间借贷司法解释"].title == "最高人民法院关于审理民间借贷案件适用法律若干问题的规定"
    )
    assert LAWS["工伤保险条例"].kind == "行政法规" and not LAWS["刑法"].is_interpretation
    for law in LAWS.values():
        assert law.title == INDEX[law.name]["title"]
        # Each text's own heading is the title the index gives it.
        heading = (LAWS_DIR / law.file).read_text(encoding="utf-8").splitlines()[0]
        assert (
            heading.removeprefix("# ").replace("《民法典》", "《中华人民共和国民法典》")
            == law.title
        )


@pytest.mark.parametrize("law", LAW_NAMES)
def test_law_parses_with_every_article_present(law: str) -> None:
    articles = law_articles(law)
    numbers = sorted(number for number, sub in articles if sub == 0)
    last = chinese_to_int(INDEX[law]["last_article"])
    assert numbers == list(range(1, last + 1))
    assert len(numbers) == int(INDEX[law]["articles"]) == last_article_number(law)
    for (number, sub), article in articles.items():
        assert (article.law, article.number, article.sub) == (law, number, sub)
        assert article.text.strip()
        assert "\u200b" not in article.text
        for paragraph in article.text.split("\n"):
            assert paragraph.strip() and not paragraph.startswith("#")
            assert paragraph not in {"附则", "附录：", "附录"}


def test_article_text_is_whole_and_free_of_headings() -> None:
    article = find_article("民法典", 1077)
    assert article is not None
    assert article.text.startswith("自婚姻登记机关收到离婚登记申请之日起三十日内")
    # Its second paragraph is kept.
    assert "前款规定期限届满后三十日内" in article.text
    # The article before a chapter heading does not swallow the heading.
    for text in (a.text for a in law_articles("民法典").values()):
        assert "\n#" not in text and not text.startswith("#")


def test_last_articles_end_before_part_headings_and_appendices() -> None:
    # 刑事诉讼法 writes its 附则 heading without "#"; 女职工… has an appendix after 第十六条.
    assert law_articles("刑事诉讼法")[307, 0].text == "人民检察院对强制医疗的决定和执行实行监督。"
    last = law_articles("女职工劳动保护特别规定")[16, 0].text
    assert last.startswith("本规定自公布之日起施行") and "矿山井下作业" not in last


def test_interpretation_preamble_is_not_an_article() -> None:
    first = law_articles("民间借贷司法解释")[1, 0].text
    assert first.startswith("本规定所称的民间借贷")
    assert all(
        "为正确审理民间借贷纠纷案件" not in a.text
        for a in law_articles("民间借贷司法解释").values()
    )


def test_inserted_articles_are_their_own_articles() -> None:
    articles = law_articles("刑法")
    refusal = articles[276, 1]
    assert refusal.title == "《刑法》第276条之一"
    assert refusal.text.startswith("以转移财产、逃匿等方法逃避支付劳动者的劳动报酬")
    assert "数额较大" in refusal.text
    assert articles[276, 0].text.startswith("由于泄愤报复或者其他个人目的")
    assert articles[120, 2].ref == LawRef("刑法", 120, 2)
    assert sum(1 for _number, sub in articles if sub) > 40


def test_parse_law_reads_inserted_articles_and_skips_the_header() -> None:
    text = f"# 某法\n\n第一条 不是条文\n\n{MARKER}\n\n## 第一章\n\n第一条 甲。\n\n乙。\n\n第一条之一 丙。\n"
    articles = parse_law(text, "某法")
    assert articles == {
        (1, 0): Article("某法", 1, "甲。\n乙。"),
        (1, 1): Article("某法", 1, "丙。", 1),
    }


@pytest.mark.parametrize(
    ("ref", "parsed"),
    [
        ("民法典第1079条", LawRef("民法典", 1079)),
        ("刑法第276条之一", LawRef("刑法", 276, 1)),
        ("婚姻家庭编解释（一）第88条", LawRef("婚姻家庭编解释（一）", 88)),
        ("保障农民工工资支付条例第30条", LawRef("保障农民工工资支付条例", 30)),
    ],
)
def test_parse_ref_and_back(ref: str, parsed: LawRef) -> None:
    assert parse_ref(ref) == parsed
    assert str(parsed) == ref


@pytest.mark.parametrize(
    ("ref", "number"),
    [
        ("民法典第1079条", 1079),
        ("反电信网络诈骗法第5条", 5),
        ("国家安全法第84条", 84),
        ("刑法第266条", 266),
        ("劳动合同法第82条", 82),
        ("民间借贷司法解释第25条", 25),
        ("工伤保险条例第14条", 14),
        ("刑法第276条之一", 276),
        ("消防法第28条", 28),
        ("行政复议法第20条", 20),
        ("行政诉讼法第46条", 46),
        ("预防未成年人犯罪法第16条", 16),
    ],
)
def test_article_for_ref_finds_the_article(ref: str, number: int) -> None:
    article = article_for_ref(ref)
    assert article is not None and article.number == number
    assert article.title == f"《{ref.split('第')[0]}》第{ref.split('第', 1)[1]}"


@pytest.mark.parametrize(
    "ref",
    [
        "民法典第1261条",
        "民法典第0条",
        "国家安全法第85条",
        "刑法第266条之一",
        "刑法第453条",
        "民法典1079条",
        "治安管理处罚法第42条",
        "中华人民共和国刑法第266条",
        "刑法第二百六十六条",
    ],
)
def test_article_for_ref_refuses_what_is_not_there(ref: str) -> None:
    assert article_for_ref(ref) is None


@pytest.mark.parametrize(
    ("name", "law"),
    [
        ("中华人民共和国劳动合同法", "劳动合同法"),
        ("《劳动合同法》", "劳动合同法"),
        ("反诈法", "反电信网络诈骗法"),
        ("最高人民法院关于审理民间借贷案件适用法律若干问题的规定", "民间借贷司法解释"),
        ("民间借贷解释", "民间借贷司法解释"),
        ("婚姻家庭编解释(一)", "婚姻家庭编解释（一）"),
        ("婚姻家庭编解释二", "婚姻家庭编解释（二）"),
        (
            "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）",
            "婚姻家庭编解释（一）",
        ),
        ("最高人民法院关于适用《民法典》继承编的解释（一）", "继承编解释（一）"),
        ("农民工工资支付条例", "保障农民工工资支付条例"),
        ("劳动法", "劳动法"),
        ("消費者權益保護法", "消费者权益保护法"),
        ("中华人民共和国退役军人保障法", "退役军人保障法"),
        ("野保法", "野生动物保护法"),
        ("行诉法", "行政诉讼法"),
        ("治安管理处罚法", None),
        ("婚姻法", None),
    ],
)
def test_law_named_reads_titles_and_aliases(name: str, law: str | None) -> None:
    assert law_named(name) == law


def test_every_alias_names_a_shipped_law() -> None:
    for row in _rows(ALIASES_FILE):
        assert row["short_name"] in LAWS, row
        assert law_named(row["alias"]) == row["short_name"]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("十", 10),
        ("十一", 11),
        ("二十", 20),
        ("一百零五", 105),
        ("一百一十", 110),
        ("一千零七十九", 1079),
        ("一千零一十", 1010),
        ("一千二百六十", 1260),
        ("两百", 200),
        ("1079", 1079),
    ],
)
def test_chinese_to_int(text: str, number: int) -> None:
    assert chinese_to_int(text) == number


def test_chinese_to_int_refuses_other_text() -> None:
    with pytest.raises(ValueError):
        chinese_to_int("一千零七十九条")


@pytest.mark.parametrize(
    ("ask", "title"),
    [
        ("民法典第1079条", "《民法典》第1079条"),
        ("第一千零七十九条", "《民法典》第1079条"),
        ("1079条", "《民法典》第1079条"),
        ("反电信网络诈骗法第5条", "《反电信网络诈骗法》第5条"),
        ("民法典最后一条", "《民法典》第1260条"),
        ("《民法典》第一千零七十七条是什么？", "《民法典》第1077条"),
        ("民法典第一千零七十九條", "《民法典》第1079条"),
        ("中华人民共和国民法典第1079条", "《民法典》第1079条"),
        ("国家安全法第十四条", "《国家安全法》第14条"),
        ("劳动合同法第82条", "《劳动合同法》第82条"),
        ("中华人民共和国劳动合同法第八十二条", "《劳动合同法》第82条"),
        ("民间借贷司法解释第25条", "《民间借贷司法解释》第25条"),
        ("刑法第266条", "《刑法》第266条"),
        ("工伤保险条例第十四条", "《工伤保险条例》第14条"),
        ("刑法第276条之一", "《刑法》第276条之一"),
        ("刑法第二百七十六条之一是什么", "《刑法》第276条之一"),
        ("婚姻家庭编解释（二）第8条", "《婚姻家庭编解释（二）》第8条"),
        ("婚姻家庭编解释二第八条", "《婚姻家庭编解释（二）》第8条"),
        ("反诈法第五条", "《反电信网络诈骗法》第5条"),
        ("刑法最后一条", "《刑法》第452条"),
        ("消防法第28条", "《消防法》第28条"),
        ("中华人民共和国消防法第二十八条是什么", "《消防法》第28条"),
        ("安全生产法第五十四条", "《安全生产法》第54条"),
        ("环保法第57条", "《环境保护法》第57条"),
        ("野生动物保护法第31条", "《野生动物保护法》第31条"),
        ("复议法第二十条", "《行政复议法》第20条"),
        ("行政诉讼法第46条", "《行政诉讼法》第46条"),
        ("兵役法最后一条", "《兵役法》第65条"),
        (
            "最高人民法院关于审理民间借贷案件适用法律若干问题的规定第26条",
            "《民间借贷司法解释》第26条",
        ),
    ],
)
def test_article_ask_answers_with_the_article(ask: str, title: str) -> None:
    reply = answer_article_ask(ask)
    assert reply is not None
    citation, text = reply.split("\n", 1)
    assert citation == title
    law, label = title[1:].split("》")
    ref = parse_ref(law + label)
    assert ref is not None
    assert text == law_articles(law)[ref.number, ref.sub].text


@pytest.mark.parametrize(
    ("ask", "title"),
    [
        ("民法典第1079条是什么内容", "《民法典》第1079条"),
        ("第184条说的什么", "《民法典》第184条"),
        ("民法典第184条讲的什么", "《民法典》第184条"),
        ("民法典第1079条什么意思", "《民法典》第1079条"),
        ("第1079条是什么意思呢？", "《民法典》第1079条"),
        ("民法典第1079条啥意思", "《民法典》第1079条"),
        ("刑法第266条原文是什么", "《刑法》第266条"),
        ("民法典第1079条的规定", "《民法典》第1079条"),
        ("劳动合同法第82条怎么规定的", "《劳动合同法》第82条"),
        ("民法典第1079条是怎么规定的？", "《民法典》第1079条"),
        ("民法典第1079条的内容是什么", "《民法典》第1079条"),
        ("民法典第1079条说了啥", "《民法典》第1079条"),
        ("请问民法典第1079条讲的是什么意思", "《民法典》第1079条"),
        ("帮我查一下刑法第266条", "《刑法》第266条"),
    ],
)
def test_article_ask_accepts_the_usual_endings(ask: str, title: str) -> None:
    reply = answer_article_ask(ask)
    assert reply is not None
    assert reply.split("\n", 1)[0] == title


def test_unknown_article_number_gets_a_clear_reply() -> None:
    reply = answer_article_ask("民法典第1300条")
    assert reply is not None
    assert "共1260条" in reply and "没有第1300条" in reply
    assert not reply.startswith("《民法典》第")


def test_unknown_article_of_a_small_law_names_its_count() -> None:
    reply = answer_article_ask("反电信网络诈骗法第51条")
    assert reply is not None and "共50条" in reply
    reply = answer_article_ask("工伤保险条例第68条")
    assert reply is not None and "《工伤保险条例》共67条" in reply
    reply = answer_article_ask("消防法第75条")
    assert reply is not None and "《消防法》共74条，没有第75条" in reply


def test_unknown_inserted_article_gets_a_clear_reply() -> None:
    reply = answer_article_ask("刑法第266条之一")
    assert reply is not None and "没有第266条之一" in reply and "共452条" in reply


@pytest.mark.parametrize(
    "text",
    [
        "离婚冷静期",
        "民法典",
        "我借给他1079块钱",
        "第1079条规定离婚冷静期吗",
        "",
        "条",
        "劳动合同法第82条说老板不签合同要赔多少",
        "婚姻法",
        "第1079条的规定对我离婚有用吗",
        "民法典第1079条什么意思我还是不懂要不要去法院",
        "我想知道第5条",
    ],
)
def test_questions_that_are_not_article_asks(text: str) -> None:
    assert answer_article_ask(text) is None


def test_format_citation_groups_by_law() -> None:
    refs = [parse_ref(r) for r in ("民法典第1077条", "刑法第276条之一", "民法典第1080条")]
    assert (
        format_citation([r for r in refs if r])
        == "《民法典》第1077条、第1080条；《刑法》第276条之一"
    )


def test_interpretation_is_named_in_full_once() -> None:
    full = "《最高人民法院关于审理民间借贷案件适用法律若干问题的规定》（民间借贷司法解释）"
    text = "年利率超过民间借贷司法解释规定的上限……\n\n法律依据：《民间借贷司法解释》第25条"
    introduced, seen = introduce_interpretations(text, [])
    assert introduced == f"年利率超过{full}规定的上限……\n\n法律依据：《民间借贷司法解释》第25条"
    assert seen == ["民间借贷司法解释"]
    # Already seen: the short name stays; laws that are not interpretations never change.
    again, seen_again = introduce_interpretations(text, seen)
    assert again == text and seen_again == seen
    plain = "《劳动合同法》第82条"
    assert introduce_interpretations(plain, []) == (plain, [])


def test_nested_title_marks_become_angle_brackets() -> None:
    introduced, _seen = introduce_interpretations("按婚姻家庭编解释（一）第88条", [])
    assert introduced == (
        "按《最高人民法院关于适用〈中华人民共和国民法典〉婚姻家庭编的解释（一）》"
        "（婚姻家庭编解释（一））第88条"
    )


@pytest.mark.parametrize(
    "text",
    [
        "《最高人民法院关于审理民间借贷案件适用法律若干问题的规定》第25条；民间借贷司法解释",
        "《最高人民法院关于适用〈中华人民共和国民法典〉婚姻家庭编的解释（一）》；婚姻家庭编解释（一）",
        "最高人民法院关于适用《中华人民共和国民法典》婚姻家庭编的解释（一）；婚姻家庭编解释（一）",
    ],
)
def test_interpretation_written_in_full_counts_as_introduced(text: str) -> None:
    introduced, seen = introduce_interpretations(text, [])
    assert introduced == text and len(seen) == 1


def test_texts_are_parsed_lazily_and_quickly() -> None:
    """Importing the registry parses nothing; parsing all 63 texts stays well under a second."""
    script = (
        "import time\n"
        "from knowledge import laws\n"
        "assert laws.law_articles.cache_info().currsize == 0\n"
        "start = time.perf_counter()\n"
        "for name in laws.LAW_NAMES: laws.law_articles(name)\n"
        "print(time.perf_counter() - start)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) < 1.0, f"parsing all texts took {done.stdout}s"
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("民法典1079条", "格式应如"),
        ("民法典第01079条", "格式应如"),
        ("治安管理处罚法第42条", "“治安管理处罚法”不是随附的法律"),
        ("中华人民共和国刑法第266条", "请用简称“刑法”"),
        ("反诈法第5条", "请用简称“反电信网络诈骗法”"),
        ("刑法第453条", "刑法第453条 不存在（《刑法》共452条）"),
        ("刑法第266条之一", "刑法第266条之一 不存在"),
    ],
)
def test_entries_refuse_bad_refs_with_a_clear_message(ref: str, message: str) -> None:
    record = {"topic": "services", "question": "问", "answer": "答", "law_refs": [ref]}
    with pytest.raises(EntryError) as raised:
        entry_from_record(record)
    assert raised.value.field == "law_refs" and message in raised.value.message


def test_entries_accept_every_kind_of_ref() -> None:
    refs = ["刑法第276条之一", "婚姻家庭编解释（一）第88条", "保障农民工工资支付条例第30条"]
    record = {"topic": "services", "question": "问", "answer": "答", "law_refs": refs}
    assert entry_from_record(record).law_refs == refs
    assert [parse_law_ref(ref) for ref in refs] == [parse_ref(ref) for ref in refs]


HEADER = "file\tshort_name\ttitle\tkind\tversion\tarticles\tlast_article\tsnapshot_path\n"


def _registry_dir(tmp_path: Path, index_rows: list[str], aliases: list[str]) -> Path:
    (tmp_path / "甲法.md").write_text("# 甲法\n\n第一条 甲。\n", encoding="utf-8")
    (tmp_path / "index.tsv").write_text(HEADER + "".join(index_rows), encoding="utf-8")
    (tmp_path / "aliases.tsv").write_text(
        "alias\tshort_name\n" + "".join(aliases), encoding="utf-8"
    )
    return tmp_path


JIA = "甲法.md\t甲法\t中华人民共和国甲法\t法律\t\t1\t一\t\n"


def test_read_registry_reads_names_titles_and_aliases(tmp_path: Path) -> None:
    laws, names = read_registry(_registry_dir(tmp_path, [JIA], ["甲\t甲法\n"]))
    assert list(laws) == ["甲法"] and laws["甲法"].title == "中华人民共和国甲法"
    assert names == {"甲法": "甲法", "甲": "甲法"}


@pytest.mark.parametrize(
    ("rows", "aliases", "message"),
    [
        ([JIA, "乙法.md\t乙法\t乙法\t法律\t\t1\t一\t\n"], [], "乙法.md, which is not in"),
        ([JIA, JIA], [], "lists 甲法 twice"),
        ([JIA], ["甲\t丙法\n"], "甲 → unknown law 丙法"),
        (
            [JIA, "甲法.md\t甲规定\t甲规定\t司法解释\t\t1\t一\t\n"],
            ["甲法\t甲规定\n"],
            "“甲法” names both 甲法 and 甲规定",
        ),
    ],
)
def test_read_registry_refuses_inconsistent_data(
    tmp_path: Path, rows: list[str], aliases: list[str], message: str
) -> None:
    with pytest.raises(LawError) as raised:
        read_registry(_registry_dir(tmp_path, rows, aliases))
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("ask", "expected"),
    [
        ("婚姻法第32条", "《婚姻法》已于2021年1月1日废止"),
        ("中华人民共和国合同法第52条", "合同编（第463条至第988条）"),
        ("治安管理处罚法第42条", "这里还没有收录它的条文"),
        ("网络安全法第四十四条是什么", "《网络安全法》已于2025年修正"),
        ("婚姻法解释（二）第24条", "婚姻家庭编解释（一）（2021年1月1日起施行）"),
        ("婚姻法司法解释第二十四条", "已于2021年1月1日废止"),
    ],
)
def test_asks_for_laws_that_are_not_shipped_say_why(ask: str, expected: str) -> None:
    reply = answer_article_ask(ask)
    assert reply is not None and expected in reply
    assert "民法典第1079条" in reply and not reply.startswith("《民法典》第")


def test_repealed_laws_are_the_ones_the_civil_code_repeals() -> None:
    repealing = law_articles("民法典")[1260, 0].text
    for row in _rows(LAWS_DIR / "not_shipped.tsv"):
        assert law_named(row["name"]) is None
        if "民法典第1260条" in row["reply"]:
            assert f"《中华人民共和国{row['name']}》" in repealing
            # Every article range it points to exists and starts where it says.
            for first, last in re.findall(r"第(\d+)条至第(\d+)条", row["reply"]):
                assert find_article("民法典", int(first)) and find_article("民法典", int(last))


def test_read_not_shipped_refuses_a_shipped_name(tmp_path: Path) -> None:
    (tmp_path / "not_shipped.tsv").write_text("name\treply\n劳动法\t没有。\n", encoding="utf-8")
    _laws, names = read_registry()
    with pytest.raises(LawError) as raised:
        read_not_shipped(names, tmp_path)
    assert "劳动法 is a shipped law" in str(raised.value)
