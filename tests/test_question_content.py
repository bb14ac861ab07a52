"""What the resident asks decides the match, not how the question ends (issue 15 §3)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlite_utils import Database

from knowledge.entries import Entry
from knowledge.matching.live_index import current_index
from knowledge.matching.matcher import MatchIndex
from knowledge.matching.normalize import clean_text
from knowledge.matching.question_form import (
    answers_only_yes_or_no,
    asks_for_a_fact,
    asks_yes_or_no,
    opens_with_yes_or_no,
)
from knowledge.store import get_entry, published_entries


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("借条丢了能要回来吗", "借条丢了"),
        ("在农贸市场买到假货怎么维权？", "在农贸市场买到假货"),
        ("彩礼能要回来吗？我该怎么处理呢", "彩礼"),
        ("把车借给朋友开可以吗", "把车借给朋友开"),
        ("邻居占了我家宅基地有什么办法", "邻居占了我家宅基地"),
        ("离婚怎么办", "离婚"),
        ("我借给朋友5万块钱他不还", "我借给朋友钱他不还"),
        ("俺男人在外头借了十来万", "俺男人在外头借了钱"),
    ],
)
def test_stock_endings_and_sums_leave_the_content_words(text: str, content: str) -> None:
    assert clean_text(text) == content


@pytest.mark.parametrize("text", ["怎么维权", "可以吗", "有什么办法"])
def test_a_message_that_is_only_a_stock_ending_keeps_its_words(text: str) -> None:
    assert clean_text(text) == text


@pytest.mark.parametrize(
    ("text", "content_entry", "ending_entry"),
    [
        ("彩礼能要回来吗", "订婚后退婚，彩礼退不退", "网购的退款能要回来吗"),
        ("借条丢了能要回来吗", "借条丢了怎么证明借过钱", "被骗的钱能要回来吗"),
        ("农贸市场买到假货怎么维权", "农贸市场买到假货找谁", "工资被拖欠了怎么维权"),
    ],
)
def test_an_ending_shared_with_another_entry_does_not_win_the_match(
    text: str, content_entry: str, ending_entry: str
) -> None:
    index = MatchIndex(
        [
            Entry(1, "contract", content_entry, "答一。", status="published"),
            Entry(2, "contract", ending_entry, "答二。", status="published"),
        ]
    )
    ranked = index.rank(text)
    assert ranked and ranked[0].entry_id == 1
    assert all(c.entry_id != 2 or c.score < ranked[0].score / 2 for c in ranked)


@pytest.mark.parametrize(
    "text",
    [
        "能离婚吗",
        "这犯法不？",
        "可不可以先不还",
        "这份协议是否有效",
        "可以趁現在自己先選好監護人嗎",
        "借条丢了，钱还能要回来么",
        "有没有时间限制",
    ],
)
def test_yes_no_questions(text: str) -> None:
    assert asks_yes_or_no(text)


@pytest.mark.parametrize(
    "text",
    ["政务服务大厅几点上班", "离婚怎么办", "人民调解怎么申请", "彩礼多少钱合适", "遗产由谁继承"],
)
def test_questions_that_are_not_yes_no(text: str) -> None:
    assert not asks_yes_or_no(text)


@pytest.mark.parametrize(
    ("text", "fact"),
    [
        ("政务服务大厅几点上班", True),
        ("七天无理由退货从哪天开始算", True),
        ("二手车没过户出了车祸谁负责", True),
        ("什么是代位继承", True),
        ("彩礼多少钱合适", True),
        ("服务大厅周末能办事吗", False),  # yes or no
        ("二手车没过户出了车祸，原车主要负责吗，谁来赔", False),  # yes or no, too
        ("物业停水停电", False),  # a statement: "can they?" is meant
        ("法律援助咋申请", False),  # how: "可以。…" and then how answers it
        ("朋友借我的微信号用几天", False),
    ],
)
def test_questions_for_a_fact(text: str, fact: bool) -> None:
    assert asks_for_a_fact(text) is fact


@pytest.mark.parametrize(
    ("answer", "opens"),
    [
        ("可以。为了方便上班族……", True),
        ("不能，物业无权停水停电。", True),
        ("一般不会；婚前财产……", True),
        ("有。服务大厅为老年人……", True),
        ("法律规定，建造建筑物……", False),
        ("可以查询……", False),
        ("先催要并保留记录。", False),
    ],
)
def test_answers_that_open_with_yes_or_no(answer: str, opens: bool) -> None:
    assert opens_with_yes_or_no(answer) is opens


def test_an_entry_that_also_answers_how_is_not_yes_no_only() -> None:
    answer = "可以。承包户可以自主决定……"
    assert answers_only_yes_or_no("承包的地能租给别人种吗？", answer)
    assert not answers_only_yes_or_no("承包的地能租给别人种吗？土地流转要注意啥？", answer)


@pytest.fixture
def shipped(db: Database, database_path: object) -> MatchIndex:
    return current_index(db, str(database_path))


def _question(db: Database, entry_id: int) -> str:
    entry = get_entry(db, entry_id)
    assert entry is not None
    return entry.question


def test_office_hours_never_get_an_answer_opening_yes(
    client: FlaskClient, db: Database, shipped: MatchIndex
) -> None:
    match = shipped.match("政务服务大厅几点上班")
    assert match.band != "answer"
    body = client.post("/api/ask", json={"text": "政务服务大厅几点上班"}).get_json()
    assert not body["reply"].startswith(("可以", "能", "有。"))
    # Asked as a yes/no question, or told as a wish, the same entry answers directly.
    for asked in ("服务大厅周末能办事吗", "白天上班没空，想晚上去服务大厅办事"):
        weekend = shipped.match(asked)
        assert weekend.band == "answer" and weekend.best is not None
        assert weekend.best.entry_id in shipped.yes_no_entries


def test_yes_no_entries_are_found_in_the_shipped_base(db: Database, shipped: MatchIndex) -> None:
    entries = {entry.id: entry for entry in published_entries(db)}
    assert len(shipped.yes_no_entries) >= 15
    for entry_id in shipped.yes_no_entries:
        assert opens_with_yes_or_no(entries[entry_id].answer)


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("什么是无证明城市", "“无证明城市”是啥意思？以后办事真不用开证明了吗？"),
        ("人民调解怎么申请", "人民调解收费吗？怎么申请？"),
    ],
)
def test_near_verbatim_questions_are_answered(
    db: Database, shipped: MatchIndex, text: str, question: str
) -> None:
    match = shipped.match(text)
    assert match.band == "answer" and match.best is not None
    assert _question(db, match.best.entry_id) == question


def test_a_loan_not_repaid_gets_the_entry_on_suing_not_interest(
    db: Database, shipped: MatchIndex
) -> None:
    match = shipped.match("我借给朋友5万块钱他不还怎么办")
    offered = [_question(db, c.entry_id) for c in match.options]
    assert match.band == "choices" and "亲戚朋友借钱不还，怎么去法院起诉？" in offered
    assert "借钱时没说利息，还钱时能要利息吗？" not in offered
    # Told the other way round, the suing entry answers (the sum once made it the interest one).
    told = shipped.match("朋友借了我5万块钱不还")
    assert told.band == "answer" and told.best is not None
    assert _question(db, told.best.entry_id) == "亲戚朋友借钱不还，怎么去法院起诉？"


@pytest.mark.parametrize(
    "story",
    [
        "我爸去世了，我妈还在，我们兄妹三个一直轮流赡养我妈。现在我哥想把爸留下的房子和存款"
        "都占了，我想问遗产能不能兄妹平分？",
        "我们兄弟姐妹四个，老父亲去世了，母亲健在，平时都是我在赡养老人，现在分父亲的遗产，"
        "能不能平均分配",
        "我哥说我妈一直是他赡养的，我爸去世留下的遗产要他多分，我们姐妹想平分，可以吗",
    ],
)
def test_a_story_about_splitting_an_estate_is_not_about_supporting_a_parent(
    db: Database, shipped: MatchIndex, story: str
) -> None:
    match = shipped.match(story)
    assert match.best is not None
    assert _question(db, match.best.entry_id) == "遗产是不是兄弟姐妹平分？谁能多分、谁要少分？"
    offered = [_question(db, c.entry_id) for c in (match.options or match.candidates[:1])]
    assert "子女不赡养老人，老人该怎么办？" not in offered
