"""The registers' frames: the sentence a line is built in, per register (phone transcript,
resident's complaint, grid worker, delivery rider, enterprise letter, a person's letter),
and the pools that fill a frame's fields (greetings, intros, asks, closings, …).

Fields of a frame: {greet}{intro}{place}{addr}{say}{say2}{impact}{ask}{outro}{time}{dur}
{who}{terse}{formal}{company}{near}, filled by ``compose.Composer.line``. Every fourth frame
of a register is held out.
"""

FRAMES: dict[str, list[str]] = {
    "phone": [
        "{greet}{intro}{place}{say}，{impact}，{ask}。{outro}",
        "{greet}我跟你说啊，{place}{say}，{dur}了，{ask}。",
        "{greet}{intro}就是{place}{say}，{impact}。{outro}",
        "{greet}我要反映个问题，{say}，地方是在{addr}，{ask}。",
        "{greet}{time}{place}{say}，{impact}，你们能不能{ask}？",
        "{greet}我是{who}，{place}{say}，{ask}。{outro}",
        "{greet}{intro}{say}。哪里啊？{addr}。{impact}。",
        "{greet}{place}{say}，{say2}，{ask}。",
        "{greet}我再打一遍啊，上次说了{place}{say}，到现在还是这样，{impact}。",
        "{greet}{who}，跟你们反映一下，{say}，{dur}了都没人管。{outro}",
        "{greet}{time}{say}，{impact}，{say2}，{ask}。",
        "{greet}问一下哈，{place}{say}，这个是找你们吧？{ask}。",
    ],
    "resident": [
        "{intro}{place}{say}，{impact}。{ask}。",
        "{place}{say}！{impact}！{outro}",
        "{time}{place}{say}，已经{dur}了，{ask}。",
        "反映一个问题：{place}{say}。{impact}，{ask}。",
        "{say}，{impact}。地点：{addr}。{outro}",
        "请问{place}{say}，这个归谁管？{impact}。",
        "{intro}{say}，{say2}。{ask}。",
        "多次反映无果！{place}{say}，{impact}，{outro}",
        "【投诉】{addr}，{say}。{ask}。",
        "{intro}{time}{say}，{impact}，{dur}了都没解决。",
        "{place}{say}，{say2}，{impact}。",
        "我要投诉：{say}（{addr}）。{impact}。{outro}",
    ],
    "grid": [
        "{gprefix}{addr}，{terse}，{gsuffix}。",
        "{addr}{terse}。{gsuffix}。",
        "{gprefix}{time}巡查发现{addr}{terse}，{gsuffix}。",
        "{addr}：{terse}（{gsuffix}）",
        "{gprefix}{addr}，群众反映{say}，经核实属实，{gsuffix}。",
        "巡查：{addr}，{terse}，{impact}。",
        "{gprefix}{addr}{terse}，{terse2}，{gsuffix}。",
        "{addr} {terse} 已拍照",
    ],
    "rider": [
        "{rintro}{addr}{near}{say}，{rimpact}",
        "{rintro}送单路过{addr}，发现{say}，{routro}",
        "{addr}{near}{say}，{routro}",
        "{rintro}{time}在{addr}看到{say}，{impact}",
        "骑手{surname}师傅反映：{addr}{say}，{routro}",
        "送外卖经过{addr}，{say}，{rimpact}，麻烦社区报一下",
        "{rintro}{addr}{say} {rimpact}",
        "刚才跑单在{addr}，{say}，{routro}",
    ],
    "enterprise": [
        "{eopen}我司（{company}）位于{eaddr}。{formal}，{eimpact}。恳请{dept}协调解决。{eclose}",
        "情况反映：{formal}。{eimpact}，恳请予以协调。{contact}",
        "{eopen}{company}反映：{formal}，望相关部门予以支持。{eclose}",
        "{company}诉求：{formal}。{contact}",
        "{eopen}{formal}。我司已多次与相关单位沟通未果，特请{dept}协调。{eclose}",
        "{eopen}我司是{eaddr}的一家{trade}企业，{formal}，{eimpact}。{eclose}",
        "关于企业诉求的函：{company}，{formal}，恳请{dept}给予支持为盼。",
        "{company}向{dept}反映：{formal}。{eimpact}。{contact}",
    ],
    "letter": [
        "{lopen}{formal}。{impact}。恳请{dept}依法处理。{lclose}",
        "情况反映：{formal}，{impact}，望予以帮助。",
        "{lopen}{formal}，特此反映。{lclose}",
        "书面反映：{formal}。{impact}，盼复。",
    ],
}
GREETS = [
    "喂，你好，",
    "喂你好，",
    "你好，",
    "喂？喂，听得到吗，你好，",
    "哎你好，是12345吧，",
    "你好你好，",
    "喂，是市民热线吗，",
    "",
    "",
    "喂，",
    "你好啊，",
    "哎，你好，",
]
PHONE_INTROS = [
    "我想反映个事情，",
    "我要投诉一下，",
    "我跟你们说个情况啊，",
    "我住在{community}这边，",
    "我姓{surname}，",
    "我之前打过一次了，还是没人管，",
    "",
    "",
    "我是{town}的，",
    "有个事情麻烦你们，",
]
PHONE_OUTROS = [
    "你们赶紧派人来看看吧。",
    "麻烦你们处理一下，谢谢啊。",
    "处理好了给我回个电话。",
    "好的好的，谢谢。",
    "就这个事情。",
    "你们记一下。",
    "我电话就是这个号码。",
    "",
    "谢谢啊。",
]
WHO = [
    "{town}的居民",
    "{estate}的业主",
    "{village}的村民",
    "在{town}上班的",
    "附近开店的",
    "这边的老住户",
    "一个退休老师",
    "外地来平湖打工的",
]
RES_INTROS = [
    "本人是{estate}业主，",
    "我是{town}居民，",
    "向政府反映一个问题：",
    "",
    "",
    "市长信箱：",
    "您好，",
    "我是{village}村民，",
    "尊敬的领导：",
    "作为一名市民，",
]
RES_OUTROS = [
    "希望有关部门重视！",
    "请尽快处理，谢谢！",
    "到底有没有人管？",
    "望答复。",
    "盼尽快解决。",
    "谢谢！",
    "不要再推来推去了！",
    "",
]
GEN_ASKS = [
    "希望尽快处理",
    "麻烦派人来看一下",
    "请相关部门管一管",
    "能不能尽快修好",
    "请尽快解决",
    "希望有人来处理一下",
    "你们帮忙协调一下",
    "希望给个答复",
    "请政府重视一下",
]
TIMES = [
    "昨天晚上",
    "今天早上",
    "这几天",
    "最近一段时间",
    "前天下午",
    "从上个礼拜开始",
    "刚才",
    "每天晚上",
    "今天上午",
    "这个月",
]
DURS = ["好几天", "一个多礼拜", "半个月", "快一个月", "两三天", "好长时间", "一个多月"]
NEAR = ["", "这边", "那边", "这里", "附近", "那一段", "那儿"]
G_PREFIX = [
    "【网格上报】",
    "网格巡查：",
    "{village}网格员上报：",
    "",
    "巡查发现：",
    "{community}网格：",
    "【基层治理四平台】",
]
G_SUFFIX = [
    "已拍照",
    "已拍照上传",
    "现场照片已上传，请派单",
    "已告知村委",
    "需相关部门处置",
    "请尽快处理",
    "已设置提醒标识",
    "群众反映强烈",
]
R_INTRO = [
    "骑手反馈：",
    "我是送外卖的，",
    "骑手报一个：",
    "快递小哥反映，",
    "",
    "蜂巢共治群里骑手说，",
    "外卖小哥上报：",
]
R_IMPACT = [
    "晚上骑车很危险",
    "大家路过注意点",
    "差点摔了",
    "电瓶车过不去",
    "拍了照片发群里了",
    "送餐都绕路了",
]
R_OUTRO = ["麻烦社区报一下", "拍了照片发群里了", "大家注意安全", "希望尽快处理", "已经跟社区说了"]
E_OPEN = ["尊敬的领导：", "平湖市12345热线：", "致相关部门：", "尊敬的{town}人民政府：", "", "您好！"]
E_CLOSE = [
    "特此函告，盼复。",
    "此致 敬礼！",
    "联系人：{surname}经理，电话{phone}。",
    "谢谢支持！",
    "盼予协调解决。",
    "",
]
E_IMPACT = [
    "已严重影响企业正常生产经营",
    "给企业造成较大经济损失",
    "员工意见较大",
    "订单交付面临违约风险",
    "企业发展受到较大制约",
]
DEPTS = ["贵单位", "相关部门", "有关部门", "市里", "政府"]
L_OPEN = ["尊敬的领导：", "您好！", "本人姓{surname}，联系电话{phone}。", ""]
L_CLOSE = ["谢谢！", "盼复。", "此致 敬礼", ""]
