"""Realistic distractor entries that pad the knowledge base to benchmark sizes.

A county's knowledge base grows with everyday and administrative questions — social
security, medical insurance, household registration, vehicles, schools, property
management, parcels, travel, scenic-spot tickets … Distractors are such questions: built
from templates and word lists, deterministic for a seed, three phrasings each (a standard
question and two alternates) with an answer of realistic length and two keywords, sharing
the words residents use everywhere (怎么办、需要什么材料、老人、能不能、服务大厅) with
the shipped entries without asking any shipped question.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.entries import Entry

# Services residents ask about, as verb phrases ("补办社保卡"), grouped by area.
MATTERS: dict[str, tuple[str, ...]] = {
    "社保": (
        "补办社保卡",
        "激活社保卡",
        "转移养老保险关系",
        "按灵活就业人员交社保",
        "补缴断交的社保",
        "做养老金领取资格认证",
        "申领失业金",
        "打印社保缴费证明",
    ),
    "医保": (
        "办理异地就医备案",
        "报销门诊医药费",
        "申请门诊慢特病待遇",
        "给新生儿参加医保",
        "激活医保电子凭证",
        "交城乡居民医保",
        "结算住院费用",
        "转移医保关系",
    ),
    "户口": (
        "迁户口",
        "给新生儿落户",
        "补办身份证",
        "办临时身份证",
        "补办户口本",
        "办居住证",
        "换领到期的身份证",
        "把集体户口迁出来",
    ),
    "车辆": (
        "换领到期的驾驶证",
        "给汽车年检",
        "处理交通违法记录",
        "给电动自行车上牌",
        "办二手车过户",
        "补办车牌",
        "补办驾驶证",
        "给旧车办报废",
    ),
    "学校": (
        "给孩子报名上小学",
        "办初中转学手续",
        "开学籍证明",
        "给孩子报幼儿园",
        "让随迁子女入学",
        "申请学生资助",
        "报名中考",
        "认定教师资格",
    ),
    "物业": (
        "办房屋装修备案",
        "办小区门禁卡",
        "报修坏了的电梯",
        "在小区装充电桩",
        "报修楼道灯",
        "登记小区垃圾分类积分",
        "办小区访客登记",
        "报修楼顶漏水",
    ),
    "快递": (
        "往外省寄快递",
        "寄大件行李",
        "到代收点取快递",
        "寄国际快递",
        "给快递保价",
        "寄冷链生鲜",
        "预约快递上门取件",
        "给寄件做实名登记",
    ),
    "旅游": (
        "报名跟团游",
        "预约景区入园",
        "预订乡村民宿",
        "报名研学旅行",
        "办旅游年卡",
        "报名老年旅游团",
        "申请导游证",
        "租景区里的观光车",
    ),
    "景区门票": (
        "买景区门票",
        "领老年人免费门票",
        "买学生半价门票",
        "退景区门票",
        "办景区年票",
        "买夜游门票",
        "办军人免票",
        "给孩子买儿童票",
    ),
    "公积金": (
        "提取住房公积金",
        "申请公积金贷款",
        "调整公积金缴存基数",
        "转移公积金账户",
        "查询公积金余额",
        "办公积金封存",
        "用公积金还房贷",
        "开公积金缴存证明",
    ),
    "水电气暖": (
        "办燃气开户",
        "给自来水过户",
        "交电费",
        "申请供暖报停",
        "更换燃气表",
        "申请峰谷电价",
        "报修水表",
        "报修暖气不热",
    ),
    "生育": (
        "办生育登记",
        "办出生医学证明",
        "申领育儿补贴",
        "领生育津贴",
        "办孕期建档",
        "给孩子打疫苗",
        "申请产假延长",
        "报销生育医疗费",
    ),
    "养老助残": (
        "申领高龄津贴",
        "办残疾人证",
        "办老年优待证",
        "申请居家养老服务",
        "申请住养老院",
        "申领困难残疾人生活补贴",
        "申请助听器补贴",
        "报名老年助餐",
    ),
    "就业创业": (
        "办失业登记",
        "申请创业担保贷款",
        "报名职业技能培训",
        "认定就业困难人员",
        "办个体户营业执照",
        "申请公益性岗位",
        "申领人才引进补贴",
        "做求职登记",
    ),
    "税务": (
        "办个税年度汇算",
        "代开发票",
        "申报小规模纳税人增值税",
        "交车船税",
        "填报个税专项附加扣除",
        "办税务登记",
        "登录电子税务局",
        "申请退税",
    ),
    "出入境": (
        "办护照",
        "办港澳通行证",
        "办台湾通行证签注",
        "加急办护照",
        "查出入境记录",
        "换发到期的护照",
        "办赴港澳旅游签注",
        "给外籍人员办住宿登记",
    ),
    "医疗卫生": (
        "签约家庭医生",
        "办健康证",
        "预约老年人免费体检",
        "预约二类疫苗",
        "查献血证",
        "预约专家号",
        "申请120转院",
        "打印病历",
    ),
    "农业": (
        "领种粮补贴",
        "申请农机购置补贴",
        "领耕地地力保护补贴",
        "买农业保险",
        "认定家庭农场",
        "给牲畜办防疫登记",
        "送农产品检测",
        "申请返乡创业补贴",
    ),
    "文化体育": (
        "办图书馆借书证",
        "预约体育馆场地",
        "报名文化馆培训班",
        "预约参观博物馆",
        "报名全民健身活动",
        "报名社区老年大学",
        "借用社区活动室",
        "预约非遗体验课",
    ),
    "交通出行": (
        "办公交老年卡",
        "给公交卡充值",
        "办ETC",
        "考网约车驾驶员证",
        "办停车月卡",
        "改签高铁票",
        "买长途汽车票",
        "预约定制公交",
    ),
}

# Who is asking; phrased as the subject of the sentence.
ASKERS = (
    "我",
    "我家老人",
    "外地人",
    "退休职工",
    "我爸",
    "我妈",
    "残疾人",
    "农村户口的",
    "在外地打工的",
    "刚毕业的学生",
    "个体户",
    "上班族",
    "七十多岁的老人",
    "我爱人",
    "新市民",
    "单位职工",
)

# Places: towns and sub-districts of an imaginary county.
PLACES = tuple(
    f"{direction}{feature}{kind}"
    for direction in "东西南北中"
    for feature in "关城湖山河岭庄桥"
    for kind in ("镇", "乡", "街道")
)

# Question frames: (standard, alternate, alternate), each with {who}, {place} and {matter}.
FRAMES: tuple[tuple[str, str, str], ...] = (
    (
        "{who}在{place}{matter}需要什么材料？",
        "{who}想{matter}，要带哪些东西",
        "{place}{matter}要啥材料，{who}去办的话",
    ),
    (
        "{who}在{place}怎么{matter}？",
        "{matter}的流程是啥，{who}第一次办",
        "{who}要{matter}，在{place}该咋弄",
    ),
    (
        "{who}在{place}哪里可以{matter}？",
        "{who}{matter}要去{place}哪个窗口",
        "在{place}{matter}是去政务大厅还是去社区，{who}不清楚",
    ),
    (
        "{who}在{place}{matter}要多长时间？",
        "{matter}几天能办好，{who}着急用",
        "{place}{matter}一般多久能下来，{who}等着用",
    ),
    (
        "{who}在{place}{matter}收费吗？",
        "{who}{matter}是免费的吗",
        "在{place}{matter}大概花多少钱，{who}想问问",
    ),
    (
        "{who}能在网上{matter}吗？{place}的也行吗？",
        "{matter}可以用手机办不，{who}不想跑{place}",
        "不去{place}，{who}能在网上{matter}吗",
    ),
    (
        "{who}在{place}{matter}，家里人能代办吗？",
        "{who}去不了{place}，{matter}能让别人代办不",
        "{matter}可以委托亲戚去{place}办吗，{who}行动不方便",
    ),
    (
        "{who}在{place}{matter}需要满足什么条件？",
        "啥条件才能{matter}，{who}符合吗",
        "{who}够不够资格在{place}{matter}",
    ),
    (
        "{who}在{place}{matter}，怎么查办理进度？",
        "{matter}交了材料，{who}咋知道办到哪一步了",
        "{place}{matter}的进度在哪查，{who}等了好几天",
    ),
    (
        "{place}{matter}的窗口几点上班？{who}能中午去吗？",
        "{who}中午能去{place}{matter}吗",
        "{matter}节假日能办不，{who}平时没空去{place}",
    ),
    (
        "{who}想问{place}{matter}的事，咨询电话是多少？",
        "{who}{matter}有问题，打哪个电话",
        "{matter}的事找{place}哪个部门，{who}想打听一下",
    ),
    (
        "{who}户口不在{place}，能在这儿{matter}吗？",
        "外地户籍的{who}在{place}{matter}可以吗",
        "{who}人在{place}，户口在老家，{matter}能办不",
    ),
    (
        "{who}在{place}{matter}被退回来了，是什么原因？",
        "{matter}没办成，窗口说材料不全，{who}该补啥",
        "{place}{matter}一直办不下来，{who}该找谁",
    ),
    (
        "{who}在{place}{matter}有没有截止时间？",
        "{matter}错过了时间还能补办吗，{who}忘了",
        "{place}每年什么时候开始{matter}，{who}别错过了",
    ),
)

_MATTER_LIST = tuple((area, matter) for area, matters in MATTERS.items() for matter in matters)

# Answers as a service hall writes them: sentences picked per distractor, about 150–220
# characters, so the matcher indexes as much answer text as it would for real entries.
ANSWER_OPENINGS = (
    "{matter}可以到{place}便民服务中心办理，也可以到县政务服务中心{area}窗口办理。",
    "{matter}由{area}经办机构负责，{place}的居民可以就近到镇街便民服务中心提交申请。",
    "在{place}{matter}，先到便民服务中心综合窗口取号，工作人员会告诉您具体流程。",
)
ANSWER_MATERIALS = (
    "一般需要带本人身份证原件；委托别人代办的，还要带代办人身份证和签字的委托书。",
    "请带上身份证和户口本，如有以前办理过的相关凭证请一并带上，复印件窗口可以免费复印。",
    "需要填写一张申请表，窗口现场可以领取，也可以提前在网上下载打印后填好带来。",
    "按照告知承诺制，部分证明材料不用再开，签一份承诺书即可，由工作人员在系统里核验。",
)
ANSWER_TIMES = (
    "材料齐全的当场受理，{days}个工作日内办结，办好后可以免费邮寄到家。",
    "符合条件的当场办结；需要审核的，{days}个工作日内会有短信通知结果。",
    "一般{days}个工作日办结，急用的可以向窗口说明情况，申请加快办理。",
)
ANSWER_ONLINE = (
    "不方便跑腿的，可以在爱山东APP上搜索“{matter}”网上办理，进度在“我的办件”里查看。",
    "老人或行动不便的，可以预约工作人员上门帮办，也可以请子女在手机上代为申请。",
    "周末和节假日大厅设有延时服务窗口，上班族可以在中午或傍晚过来办理。",
)
ANSWER_CLOSINGS = (
    "办理不收费。有疑问可以拨打{{服务大厅电话}}咨询，工作日上午9点到下午5点有人接听。",
    "按规定需要交少量工本费，以窗口公示为准。详细情况可以拨打{{服务大厅电话}}咨询。",
    "具体要求以最新政策为准，也可以拨打12345政务服务便民热线问一问。",
)
WORKING_DAYS = (1, 3, 5, 7, 10, 15, 20)


@dataclass(frozen=True)
class Distractor:
    """One generated entry: its question, two alternates, an answer and keywords."""

    question: str
    alternates: tuple[str, str]
    answer: str
    keywords: tuple[str, ...]


def _answer(rng: random.Random, slots: dict[str, str]) -> str:
    parts = [
        rng.choice(ANSWER_OPENINGS),
        rng.choice(ANSWER_MATERIALS),
        rng.choice(ANSWER_TIMES),
        rng.choice(ANSWER_ONLINE),
        rng.choice(ANSWER_CLOSINGS),
    ]
    return "\n\n".join(parts).format(days=rng.choice(WORKING_DAYS), **slots)


def distractors(count: int, seed: int = 20240415) -> list[Distractor]:
    """``count`` distinct distractors, the same for a seed.

    The first ``n`` of a larger count are the ``n`` of a smaller one, so benchmark sizes nest.
    """
    space = len(_MATTER_LIST) * len(FRAMES) * len(ASKERS) * len(PLACES)
    if count > space:
        raise ValueError(f"at most {space} distractors can be generated, not {count}")
    rng = random.Random(seed)
    seen: set[str] = set()
    generated: list[Distractor] = []
    while len(generated) < count:
        frame = rng.choice(FRAMES)
        area, matter = rng.choice(_MATTER_LIST)
        slots = {"who": rng.choice(ASKERS), "place": rng.choice(PLACES), "matter": matter}
        standard, first, second = (template.format(**slots) for template in frame)
        answer = _answer(rng, {**slots, "area": area})
        if standard in seen:
            continue
        seen.add(standard)
        generated.append(Distractor(standard, (first, second), answer, (area, matter)))
    return generated


def distractor_entries(count: int, first_id: int, seed: int = 20240415) -> list[Entry]:
    """``count`` published distractor entries with ids from ``first_id`` on."""
    return [
        Entry(
            id=first_id + offset,
            topic="services",
            question=distractor.question,
            answer=distractor.answer,
            alternates=list(distractor.alternates),
            keywords=list(distractor.keywords),
            status="published",
        )
        for offset, distractor in enumerate(distractors(count, seed))
    ]


def padded_entries(shipped: Sequence[Entry], size: int, seed: int = 20240415) -> list[Entry]:
    """The shipped entries plus distractors up to ``size`` entries in all."""
    extra = max(0, size - len(shipped))
    first_id = max((entry.id or 0 for entry in shipped), default=0) + 1
    return [*shipped, *distractor_entries(extra, first_id, seed)]
