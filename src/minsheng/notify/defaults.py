"""The message texts Minsheng ships with, in Chinese, one per kind of outbox message.

They are seeded into ``MessageTemplate`` by a data migration, and administrators edit them
there; a kind with no row (a new kind, or a row deleted by mistake) falls back to the text
here, so a message is never held back for want of a template.

Templates use Django template syntax. Besides the message's own context (listed per kind
in ``VARIABLES``) every template gets: ``city`` (the city's name), ``kind``, ``unit`` (the
receiving unit's name, for unit messages), ``url`` (a link to the case for staff, to the
public follow page for requesters; absolute when ``MINSHENG_PUBLIC_URL`` is set),
``track_url`` (requesters' follow link, when the message carries a token),
``clock_label`` (签收/派遣/反馈/办结/响应) and ``due_at_local`` (the due time in local time).
Texts are rendered without HTML escaping: they go to robots and SMS as plain text, and the
in-app page escapes on display.
"""

from __future__ import annotations

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    "case_accepted": (
        "诉求已受理：{{ number }}",
        "【{{ city }}民声】您反映的问题已受理，工单号 {{ number }}。"
        "{% if track_url %}查询办理进度：{{ track_url }}{% else %}可凭工单号查询办理进度。{% endif %}",
    ),
    "case_assigned": (
        "{% if urgent %}【紧急】{% endif %}新工单 {{ number }}",
        "{% if urgent %}【紧急】{% endif %}新工单 {{ number }}「{{ title }}」"
        "已派至{{ unit|default:'本单位' }}，"
        "请在1分钟内签收。{% if url %}\n{{ url }}{% endif %}",
    ),
    "case_returned": (
        "工单 {{ number }} 被退回",
        "工单 {{ number }} 被退回，退回理由：{{ reason }}。请重新派单。{% if url %}\n{{ url }}{% endif %}",
    ),
    "case_dispatched": (
        "派遣任务：{{ number }}",
        "您被派往处置工单 {{ number }}「{{ title }}」，请尽快到场。{% if url %}\n{{ url }}{% endif %}",
    ),
    "case_feedback": (
        "办理结果：{{ number }}",
        "【{{ city }}民声】您反映的问题（工单号 {{ number }}）办理结果：{{ feedback }}\n"
        "请对本次办理进行评价（满意／基本满意／不满意）"
        "{% if track_url %}：{{ track_url }}{% else %}。{% endif %}",
    ),
    "case_merged": (
        "诉求已合并办理：{{ number }}",
        "【{{ city }}民声】您反映的问题（工单号 {{ number }}）与工单 {{ original }} 为同一事项，"
        "已合并办理。{% if track_url %}查询办理进度：{{ track_url }}{% endif %}",
    ),
    "case_reopened": (
        "工单 {{ number }} 重新办理",
        "工单 {{ number }} 已重新派回办理，理由：{{ reason }}。请重新签收并办理。"
        "{% if url %}\n{{ url }}{% endif %}",
    ),
    "extension_decided": (
        "延期申请{% if approved %}已批准{% else %}未批准{% endif %}：{{ number }}",
        "工单 {{ number }} 的延期申请{% if approved %}已批准，延期 {{ days }} 个工作日"
        "{% else %}未获批准，请按原时限办理{% endif %}。{% if url %}\n{{ url }}{% endif %}",
    ),
    "case_supervised": (
        "督办：工单 {{ number }}",
        "工单 {{ number }} 被督办：{{ note }}。请抓紧办理并及时反馈。{% if url %}\n{{ url }}{% endif %}",
    ),
    "clock_warning": (
        "即将超时：工单 {{ number }}",
        "工单 {{ number }}「{{ title }}」的{{ clock_label }}时限将于 {{ due_at_local }} 到期，请抓紧办理。"
        "{% if url %}\n{{ url }}{% endif %}",
    ),
    "clock_breach": (
        "{% if escalated %}督办提醒{% else %}已超时{% endif %}：工单 {{ number }}",
        "工单 {{ number }}「{{ title }}」的{{ clock_label }}时限已于 {{ due_at_local }} 到期"
        "{% if escalated %}，已升级由本单位督办{% elif level %}，已升级至{{ level }}督办{% endif %}。"
        "请立即处理。{% if url %}\n{{ url }}{% endif %}",
    ),
    "joint_group_formed": (
        "一键组群：工单 {{ number }}",
        "工单 {{ number }}「{{ title }}」已一键组群{% if lead %}，牵头单位：{{ lead }}{% endif %}"
        "{% if members %}，成员单位：{{ members|join:'、' }}{% endif %}。请协同办理。"
        "{% if url %}\n{{ url }}{% endif %}",
    ),
    "group_part_done": (
        "协办完成：工单 {{ number }}",
        "工单 {{ number }}「{{ title }}」的协办单位{{ member }}已完成其任务"
        "{% if result %}：{{ result }}{% endif %}。{% if url %}\n{{ url }}{% endif %}",
    ),
    "group_part_waived": (
        "协办任务免除：工单 {{ number }}",
        "工单 {{ number }}「{{ title }}」中{{ member }}的协办任务已由调度免除"
        "{% if reason %}，理由：{{ reason }}{% endif %}。{% if url %}\n{{ url }}{% endif %}",
    ),
    "group_change_requested": (
        "组群调整申请：工单 {{ number }}",
        "工单 {{ number }}「{{ title }}」的成员单位申请调整联合组群：{{ reason }}。"
        "请调度处理。{% if url %}\n{{ url }}{% endif %}",
    ),
    "group_change_answered": (
        "组群调整答复：工单 {{ number }}",
        "工单 {{ number }}「{{ title }}」的组群调整申请{% if done %}已同意{% else %}未同意{% endif %}"
        "{% if answer %}：{{ answer }}{% endif %}。{% if url %}\n{{ url }}{% endif %}",
    ),
    "group_member_removed": (
        "退出联合组群：工单 {{ number }}",
        "本单位已不再参与工单 {{ number }}「{{ title }}」的联合处置{% if note %}：{{ note }}{% endif %}。",
    ),
    "group_dissolved": (
        "联合组群解散：工单 {{ number }}",
        "工单 {{ number }}「{{ title }}」的联合组群已解散{% if note %}：{{ note }}{% endif %}。"
        "{% if url %}\n{{ url }}{% endif %}",
    ),
    "urgent_on_duty": (
        "【紧急】夜间值班工单 {{ number }}",
        "【紧急】工单 {{ number }}「{{ title }}」已派至{{ unit|default:'本单位' }}，"
        "您正在值班，请立即处置。{% if url %}\n{{ url }}{% endif %}",
    ),
    "article_expiring": (
        "知识条目即将到期：{{ code }}",
        "本单位的知识条目 {{ code }}「{{ title }}」将于 {{ valid_until }} 到期（还有 {{ days }} 天），"
        "到期后不再向话务员推荐。请核实内容，修订后提交市中心审核发布。",
    ),
    "knowledge_answer": (
        "12345答复：{{ title }}",
        "【{{ city }}民声】您咨询的「{{ title }}」答复如下：{{ answer }}"
        "（工单号 {{ number }}{% if track_url %}，对答复进行评价：{{ track_url }}{% endif %}）",
    ),
    "case_answered": (
        "诉求已当场答复：{{ number }}",
        "【{{ city }}民声】您咨询的问题已当场答复，工单号 {{ number }}。"
        "{% if track_url %}欢迎对答复进行评价：{{ track_url }}{% else %}可凭工单号查询并评价。{% endif %}",
    ),
    "callback_overdue": (
        "漏接回拨超时：{{ phone }}",
        "来电 {{ phone }}{% if missed_count > 1 %}（共 {{ missed_count }} 次）{% endif %}未接通，"
        "应于 {{ due_at_local }} 前回拨，现已超时。请尽快在漏接回拨队列中回拨。",
    ),
    "warning_raised": (
        "【预警】{{ title }}",
        "【预警】{{ place }}在 {{ minutes }} 分钟内收到 {{ count }} 件「{{ matter }}」诉求"
        "（平时约 {{ expected }} 件），"
        "已立为治理专题，由{{ unit|default:'本单位' }}牵头，请于 {{ deadline_local }} 前查明原因并办结。"
        "{% if topic_url %}\n{{ topic_url }}{% endif %}",
    ),
}

# Used for a kind that has neither a row nor a default above.
FALLBACK_TEMPLATE: tuple[str, str] = (
    "民声通知{% if number %}：{{ number }}{% endif %}",
    "{% if number %}工单 {{ number }}{% if title %}「{{ title }}」{% endif %}有新的动态（{{ kind }}）。"
    "{% else %}您有一条新的通知（{{ kind }}）。{% endif %}{% if url %}\n{{ url }}{% endif %}",
)

# What each kind's context holds (written by the action that enqueues it), for the admin.
VARIABLES: dict[str, tuple[str, ...]] = {
    "case_accepted": ("number", "token"),
    "case_assigned": ("number", "title", "urgent"),
    "case_returned": ("number", "reason"),
    "case_dispatched": ("number", "title"),
    "case_feedback": ("number", "feedback", "token"),
    "case_merged": ("number", "original", "token"),
    "case_reopened": ("number", "reason"),
    "extension_decided": ("number", "approved", "days"),
    "case_supervised": ("number", "note"),
    "clock_warning": ("number", "title", "clock", "due_at"),
    "clock_breach": ("number", "title", "clock", "due_at", "level", "escalated"),
    "joint_group_formed": ("number", "title", "lead", "members"),
    "group_part_done": ("number", "title", "member", "result"),
    "group_part_waived": ("number", "title", "member", "reason"),
    "group_change_requested": ("number", "title", "reason"),
    "group_change_answered": ("number", "title", "done", "answer"),
    "group_member_removed": ("number", "title", "note"),
    "group_dissolved": ("number", "title", "note"),
    "urgent_on_duty": ("number", "title", "urgent"),
    "article_expiring": ("code", "title", "valid_until", "days"),
    "knowledge_answer": ("number", "code", "title", "answer", "token"),
    "case_answered": ("number", "token"),
    "callback_overdue": ("phone", "missed_count", "missed_at", "due_at"),
    "warning_raised": (
        "title",
        "place",
        "matter",
        "count",
        "expected",
        "minutes",
        "deadline_local",
        "topic_url",
    ),
}
COMMON_VARIABLES: tuple[str, ...] = (
    "city",
    "kind",
    "unit",
    "url",
    "track_url",
    "clock_label",
    "due_at_local",
)

CLOCK_LABELS: dict[str, str] = {
    "sign": "签收",
    "dispatch": "派遣",
    "feedback": "反馈",
    "resolve": "办结",
    "response": "响应",
    "member_sign": "协办签收",
    "member_handle": "协办完成",
}
