"""The fixed texts residents read: welcome, help, fallback and polite replies."""

from __future__ import annotations

from knowledge.settings import render_placeholders
from knowledge.topics import TOPICS


def topic_menu() -> str:
    """The topic list, one per line, as residents see it in the welcome and help texts."""
    return "\n".join(f"· {name}" for name in TOPICS.values())


def welcome_text(settings: dict[str, str]) -> str:
    """What a new follower reads: the greeting (staff's 欢迎语 if set), what it knows, how to ask."""
    greeting = render_placeholders(
        settings.get("欢迎语")
        or "您好，欢迎关注{公众号名称}！我是普法小助手，"
        "可以用大白话回答您身边的法律问题，并告诉您依据的是哪条法律。",
        settings,
    )
    return (
        f"{greeting}\n\n"
        f"我能解答这些方面的问题：\n{topic_menu()}\n\n"
        "直接发文字或语音提问就行，比如“离婚冷静期多久”“接到自称公安的电话让转账怎么办”。"
        "也可以查法条，比如“民法典第1079条”。\n\n"
        "回复“菜单”查看主题，回复“人工”找人帮忙。"
    )


def help_text() -> str:
    """How to use Pufa, answered to 帮助 / 菜单."""
    return (
        "怎么用：直接用文字或语音把问题说出来，越具体越好。\n\n"
        f"可以问这些方面：\n{topic_menu()}\n\n"
        "回复上面的主题名（如“防范诈骗”）查看常见问题；"
        "查法条请发“民法典第1079条”；回复“人工”找人帮忙。"
    )


def no_choices_text() -> str:
    """The reply to a bare number ("1", "第二个") when no numbered choices are pending."""
    return (
        "刚才的选项已经过期，或者还没有可选的问题。\n\n"
        "请直接说出您想问的问题，或回复“菜单”查看可以咨询的主题。"
    )


def human_text(settings: dict[str, str]) -> str:
    """How to reach a person, answered to 人工 and included in every fallback."""
    return render_placeholders(
        "需要人工帮助，可以：\n"
        "· 拨打12348公共法律服务热线，免费法律咨询\n"
        "· 联系{单位名称}：{办公室电话}\n"
        "· 免费人民调解：{调解中心电话}\n"
        "遇到诈骗、人身危险请立即拨打110。",
        settings,
    )


def fallback_text(settings: dict[str, str]) -> str:
    """What residents read when Pufa has no answer it trusts."""
    return (
        "抱歉，这个问题我还答不好，怕说错耽误您的事。\n\n"
        f"我能解答：{'、'.join(TOPICS.values())}方面的常见问题，"
        "您可以换个说法再问，或回复“菜单”查看。\n\n" + human_text(settings)
    )


def unsupported_media_text() -> str:
    """The polite reply to images, locations, links and videos."""
    return "收到啦！不过我暂时只能看懂文字和语音。请用文字或语音把您的问题说一下，我来帮您查。"


#: How every choices reply ends: the way out when none fits.
WAY_OUT = "都不是？回复0，或拨打12348"


def how_to_pick(count: int) -> str:
    """How to pick one of ``count`` numbered options: 回复数字1、2或3."""
    if count == 1:
        return "回复数字1"
    if count <= 3:
        numbers = [str(n) for n in range(1, count + 1)]
        return f"回复数字{'、'.join(numbers[:-1])}或{numbers[-1]}"
    return f"回复数字1到{count}"


def choices_text(questions: list[str], intro: str) -> str:
    """A numbered list of questions, how to pick one and the way out."""
    lines = [f"{n}. {question}" for n, question in enumerate(questions, start=1)]
    return (
        f"{intro}\n"
        + "\n".join(lines)
        + f"\n\n{how_to_pick(len(questions))}查看答案。\n{WAY_OUT}。"
    )


def single_choice_text(question: str) -> str:
    """The one option far ahead of the rest but short of an answer, offered alone."""
    return f"您是想问：{question.rstrip('？?')}？\n回复1查看答案。\n\n{WAY_OUT}。"


def matched_choices_text(questions: list[str]) -> str:
    """The entries the matcher offers for a message: one alone, or a numbered list."""
    if len(questions) == 1:
        return single_choice_text(questions[0])
    return choices_text(questions, "您想问的是不是下面这些问题？")


def none_fit_text(settings: dict[str, str]) -> str:
    """The reply to "0" (none of the choices fits): noted for staff, and who to call."""
    return "好的。您的问题已经记下，工作人员会补充解答。\n\n" + human_text(settings)


def feedback_text(settings: dict[str, str]) -> str:
    """The reply to "没用" / "不对": sorry, noted, and how to reach a person."""
    return (
        "抱歉，刚才的回答没能帮到您。您的意见已经记下，我们会改进这条回答。\n\n"
        "您可以换个说法、说得具体一些再问一次；也可以找人帮忙。\n\n" + human_text(settings)
    )
