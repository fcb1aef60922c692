"""The noise of each register: filler words of phone calls (那个、就是、嗯), homophone typos
of speech recognition and pinyin input (井盖→景盖, 路灯→露灯), emoji, and traditional
characters for the lines typed in them."""

from __future__ import annotations

from minsheng.classify.text import PAIRS

# Filler words of phone transcripts and homophone typos (speech recognition, pinyin input).
FILLERS = ["那个", "就是", "嗯", "就是说", "然后", "那个那个", "呃", "怎么讲呢", "对", "反正", "你知道吧"]
TYPOS: dict[str, list[str]] = {
    "井盖": ["景盖", "井概", "井钙"],
    "窨井": ["阴井", "印井"],
    "路灯": ["露灯", "路登", "陆灯"],
    "积水": ["急水", "集水"],
    "噪音": ["燥音", "造音"],
    "垃圾": ["拉圾", "拉机"],
    "物业": ["务业", "物页"],
    "电梯": ["电题", "电剃"],
    "工资": ["工支", "公资"],
    "社保": ["设保", "社宝"],
    "红绿灯": ["红路灯", "洪绿灯"],
    "摆摊": ["摆滩", "百摊"],
    "停车": ["挺车", "停扯"],
    "公交": ["公教", "工交"],
    "污水": ["乌水", "无水"],
    "下水道": ["下水到", "下睡道"],
    "施工": ["失工", "施公"],
    "臭味": ["丑味", "臭未"],
    "低保": ["底保", "低饱"],
    "医院": ["一院", "医园"],
    "漏水": ["露水", "楼水"],
    "化粪池": ["化粪迟", "花粪池"],
    "液化气": ["液化器", "夜化气"],
    "补贴": ["补帖", "不贴"],
    "疫苗": ["一苗", "疫描"],
    "学校": ["学效", "雪校"],
    "养老院": ["养老园", "养老员"],
    "消防": ["小防", "消方"],
    "信号灯": ["信号登", "新号灯"],
    "灌溉": ["灌概", "管溉"],
    "过期": ["过其", "过气"],
    "欠": ["歉"],
    "违章": ["违张", "为章"],
    "小区": ["小去", "晓区"],
    "没人管": ["没人官", "梅人管"],
    "塌": ["蹋"],
    "水压": ["水鸭", "水牙"],
    "停水": ["听水", "停睡"],
    "河水": ["和水", "合水"],
    "业主": ["叶主", "业住"],
    "投诉": ["头诉", "投述"],
    "反映": ["反应", "返映"],
}
EMOJI = ["😡", "😭", "🙏", "👍", "😤", "‼️", "🤬", "💢"]

# Simplified → traditional for the traditional-script lines: the inverse of the
# normaliser's table, without the pairs whose simplified character mostly stands for
# something else (路面 is not 路麵, 木板 is not 木闆, 喂 stays 喂).
ONE_WAY = set("面板表干胡卜姜制斗困游喂御征托松杆朴系只台伙刮")


def _s2t_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for pair in PAIRS.split():
        simp, trad = pair[0], pair[1]
        if simp != trad and simp not in ONE_WAY:
            table.setdefault(ord(simp), trad)
    return table


S2T = _s2t_table()


def to_traditional(text: str) -> str:
    return text.translate(S2T)
