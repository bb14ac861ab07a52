"""One message in, one reply out — the single dialogue behind the webhook, the API and the web chat.

A reply is one of: an **answer** (an entry, an article, the rest of a long answer), numbered
**choices** (several entries fit, or a topic's common questions), a **fallback** (no answer
Pufa trusts: say so and name a person), a **welcome** or **help**; or no reply at all
(events that need none, to which WeChat gets "success").
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlite_utils import Database

from bot import texts
from bot.conversation import load_state, save_state
from bot.paging import paginate
from knowledge.entries import Entry
from knowledge.laws import (
    answer_article_ask,
    article_for_ref,
    format_articles,
    introduce_interpretations,
)
from knowledge.matching.matcher import MatchIndex
from knowledge.preview import render_entry
from knowledge.settings import get_settings
from knowledge.store import entries_by_topic, get_entry
from knowledge.topics import TOPICS, topic_by_name_or_key, topic_name
from knowledge.turns import MAX_TEXT_CHARS

log = logging.getLogger(__name__)

ReplyKind = Literal["answer", "choices", "fallback", "welcome", "help"]
MAX_TOPIC_CHOICES = 9
_CHINESE_ORDINALS = "一二三四五六七八九"
_CHOICE = re.compile(r"^(?:第|选)?([1-9一二三四五六七八九])(?:个|条|项|号)?$")
_NOISE = re.compile(r"[\s，。！？、,.!?~～“”\"'：:]+")
_HELP_WORDS = {"帮助", "菜单", "help", "?", "？", "主题", "目录", "功能"}
_HUMAN_WORDS = {"人工", "转人工", "人工服务", "人工客服", "找人", "真人", "客服"}
_GREETINGS = {
    "你好", "您好", "hi", "hello", "在吗", "在不在", "有人吗", "嗨",
    "早上好", "上午好", "中午好", "下午好", "晚上好", "早安", "晚安",
}  # fmt: skip
_MORE_WORDS = {"更多", "继续", "下一页", "接着说", "还有呢"}
_ORIGINAL_WORDS = {"原文", "法条原文", "看原文", "查看原文", "法条"}
#: Short replies that say the last answer did not help ("不对劲怎么办" is a question, not one).
_FEEDBACK_WORDS = {
    "没用", "没有用", "没啥用", "没什么用", "不对", "不对的", "说得不对", "说的不对", "答非所问",
    "不是这个", "不是这个问题", "不是我问的", "不是我要问的", "答错了", "回答错了", "错了",
    "没帮助", "没有帮助", "没帮上", "不满意", "没解决", "没有解决", "看不懂", "👎",
}  # fmt: skip
_TRAILING_PARTICLES = re.compile(r"[啊呀吧呢哦嘛啦哈]+$")
#: Replies to pending choices that say none of them fits (texts.WAY_OUT offers "0").
_NONE_FIT_WORDS = {"0", "〇", "零", "都不是", "都不对", "都没有", "一个都不是", "都不是我要问的"}


@dataclass
class Incoming:
    """A message from a resident, whatever channel it came through."""

    user: str
    text: str = ""
    #: Whose namespace ``user`` lives in: "wx" (a signed webhook message's FromUserName),
    #: "api" (the JSON API's ``user``) or "web" (the web chat's cookie).
    channel: str = "wx"
    event: str = ""
    event_key: str = ""
    media: str = ""  # the WeChat MsgType for images, locations, links, videos …


@dataclass
class Reply:
    """What Pufa says back, with what the API reports about how it decided."""

    kind: ReplyKind
    text: str
    entry_id: int | None = None
    score: float | None = None
    choices: list[dict[str, Any]] = field(default_factory=list)
    #: For the record of turns (knowledge.turns), when ``kind`` does not say it all:
    #: "kind" (e.g. "selection", "article", "feedback"), "entry_id" (the entry feedback is
    #: about) and "candidates" (the matcher's closest entries behind choices and fallbacks).
    record: dict[str, Any] = field(default_factory=dict)


def _compact(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


class Dialogue:
    """Turns one resident message into one reply, reading and saving the resident's state.

    With ``defer_state`` the dialogue only reads: the state it would save is left in
    :attr:`state_change` for the caller to write with the rest of the message
    (``bot.responder``). ``keep_state=False`` is a dry run ("试一试") that keeps nothing.
    """

    def __init__(
        self,
        db: Database,
        index: MatchIndex,
        state_ttl: float = 600.0,
        keep_state: bool = True,
        defer_state: bool = False,
    ) -> None:
        self.db = db
        self.index = index
        self.state_ttl = state_ttl
        self.keep_state = keep_state
        self.defer_state = defer_state
        #: (resident, state) to save, when ``defer_state``: the last respond()'s change.
        self.state_change: tuple[str, dict[str, Any]] | None = None
        self.settings = get_settings(db)

    def _keep(self, user: str, state: dict[str, Any]) -> None:
        """Save ``user``'s new state now, or leave it for the caller when deferred."""
        if not self.keep_state or not user:
            return
        if self.defer_state:
            self.state_change = (user, state)
        else:
            save_state(self.db, user, state, self.state_ttl)

    def respond(self, message: Incoming) -> Reply | None:
        """The reply to ``message``, or None when WeChat should just get "success"."""
        if message.event:
            return self._respond_to_event(message)
        if message.media:
            return Reply("help", texts.unsupported_media_text())
        return self.respond_to_text(message.user, message.text)

    def _respond_to_event(self, message: Incoming) -> Reply | None:
        event = message.event.lower()
        if event == "subscribe":
            return Reply("welcome", texts.welcome_text(self.settings))
        if event == "click":
            key = message.event_key.strip()
            topic = topic_by_name_or_key(key.removeprefix("TOPIC_").lower())
            if topic is not None:
                reply = self._topic_list(topic)
                choice_ids = [c["entry_id"] for c in reply.choices]
                self._keep(message.user, {"choices": choice_ids})
                return reply
            if key.upper() in {"HELP", "MENU"}:
                return Reply("help", texts.help_text())
            if key.upper() == "HUMAN":
                return Reply("help", texts.human_text(self.settings))
            log.warning("menu click with unknown key %r", key)
            return Reply("help", texts.help_text())
        return None

    def respond_to_text(self, user: str, text: str) -> Reply:
        """The reply to a text (or recognised voice) message from ``user``."""
        state = load_state(self.db, user)
        reply, new_state = self._decide(text, state)
        seen = state.get("seen_laws", [])
        if reply.kind == "answer":
            # A judicial interpretation is named in full the first time a resident sees it.
            reply.text, seen = introduce_interpretations(reply.text, seen)
        if seen:
            new_state["seen_laws"] = seen
        pages = paginate(reply.text)
        reply.text = pages[0]
        if len(pages) > 1:
            new_state["more"] = pages[1:]
        if new_state or state:
            self._keep(user, new_state)
        return reply

    def _decide(self, text: str, state: dict[str, Any]) -> tuple[Reply, dict]:
        compact = _compact(text)
        carried = {key: state[key] for key in ("last_refs", "last_entry") if key in state}
        if not compact:
            return Reply("help", texts.help_text()), carried
        if compact in _MORE_WORDS:
            return self._more(state, carried)
        if compact in _ORIGINAL_WORDS and state.get("last_refs"):
            articles = [a for a in map(article_for_ref, state["last_refs"]) if a is not None]
            reply = Reply("answer", format_articles(articles), record={"kind": "article"})
            return reply, carried
        if state.get("choices") and _TRAILING_PARTICLES.sub("", compact) in _NONE_FIT_WORDS:
            return self._none_fit(state), carried
        choice = _CHOICE.match(compact)
        if choice:
            if state.get("choices"):
                return self._select(choice[1], state, carried)
            # A bare number with nothing to choose from (the choices expired, or there
            # never were any) says nothing a matcher could use.
            return Reply("help", texts.no_choices_text()), carried
        if compact in _HELP_WORDS:
            return Reply("help", texts.help_text()), carried
        if compact in _HUMAN_WORDS:
            return Reply("help", texts.human_text(self.settings)), carried
        if _TRAILING_PARTICLES.sub("", compact) in _GREETINGS:
            return Reply("welcome", texts.welcome_text(self.settings)), carried
        if _TRAILING_PARTICLES.sub("", compact) in _FEEDBACK_WORDS:
            record = {"kind": "feedback", "entry_id": state.get("last_entry")}
            return Reply("help", texts.feedback_text(self.settings), record=record), {}
        topic = topic_by_name_or_key(compact)
        if topic is not None:
            reply = self._topic_list(topic)
            return reply, {"choices": [c["entry_id"] for c in reply.choices]}
        article = answer_article_ask(text)
        if article is not None:
            return Reply("answer", article, record={"kind": "article"}), carried
        return self._match(text, carried)

    def _more(self, state: dict[str, Any], carried: dict) -> tuple[Reply, dict]:
        pages = state.get("more") or []
        if not pages:
            return Reply("help", "没有更多内容了。您可以继续提问，或回复“菜单”查看主题。"), carried
        new_state = {**carried}
        if len(pages) > 1:
            new_state["more"] = pages[1:]
        return Reply("answer", pages[0], record={"kind": "more"}), new_state

    def _select(self, ordinal: str, state: dict[str, Any], carried: dict) -> tuple[Reply, dict]:
        number = int(ordinal) if ordinal.isdigit() else _CHINESE_ORDINALS.index(ordinal) + 1
        ids: list[int] = state["choices"]
        if number > len(ids):
            prompt = f"请{texts.how_to_pick(len(ids))}查看答案，或者直接说出您的问题。\n{texts.WAY_OUT}。"
            return Reply("choices", prompt, record={"kind": "help"}), state
        entry = get_entry(self.db, ids[number - 1])
        if entry is None or entry.status != "published":
            reply = Reply("fallback", texts.fallback_text(self.settings))
            reply.record = {"kind": "selection"}
            return reply, carried
        reply, new_state = self._answer(entry, None)
        reply.record = {"kind": "selection"}
        return reply, new_state

    def _none_fit(self, state: dict[str, Any]) -> Reply:
        """The reply to "0" when choices are pending: a person to call, and the question
        that none of the options fitted goes to the staff's unanswered queue."""
        if "asked" not in state:  # a topic's list: no question to record
            return Reply("help", texts.help_text())
        record = {"kind": "declined", "question": state["asked"], "candidates": state["offered"]}
        return Reply("fallback", texts.none_fit_text(self.settings), record=record)

    def _answer(self, entry: Entry, score: float | None) -> tuple[Reply, dict]:
        reply = Reply("answer", render_entry(entry, self.settings), entry.id, score)
        new_state: dict[str, Any] = {"last_entry": entry.id}
        if entry.law_refs:
            new_state["last_refs"] = entry.law_refs
        return reply, new_state

    def _topic_list(self, topic: str) -> Reply:
        entries = entries_by_topic(self.db, topic)[:MAX_TOPIC_CHOICES]
        if not entries:
            return Reply(
                "help", f"“{topic_name(topic)}”方面的问题还在整理中。\n\n{texts.help_text()}"
            )
        choices = [
            {"n": n, "entry_id": entry.id, "question": entry.question}
            for n, entry in enumerate(entries, start=1)
        ]
        text = texts.choices_text(
            [entry.question for entry in entries], f"“{TOPICS[topic]}”常见问题："
        )
        return Reply("choices", text, choices=choices, record={"kind": "topic"})

    def _match(self, text: str, carried: dict) -> tuple[Reply, dict]:
        match = self.index.match(text)
        top = [
            {"entry_id": c.entry_id, "question": c.question, "score": c.score}
            for c in match.candidates
        ]
        best = match.best
        if match.band == "answer" and best is not None:
            entry = get_entry(self.db, best.entry_id)
            if entry is not None and entry.status == "published":
                return self._answer(entry, best.score)
        if match.band == "choices":
            choices = [
                {"n": n, "entry_id": option.entry_id, "question": option.question}
                for n, option in enumerate(match.options, start=1)
            ]
            reply = Reply(
                "choices",
                texts.matched_choices_text([c["question"] for c in choices]),
                score=best.score if best else None,
                choices=choices,
                record={"candidates": top},
            )
            offered = [c for c in top if c["entry_id"] in {o.entry_id for o in match.options}]
            pending = {"choices": [c["entry_id"] for c in choices], "offered": offered}
            return reply, {**carried, **pending, "asked": text[:MAX_TEXT_CHARS]}
        score = best.score if best else None
        reply = Reply("fallback", texts.fallback_text(self.settings), score=score)
        reply.record = {"candidates": top}
        return reply, carried
