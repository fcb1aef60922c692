"""A few demo cases walked through the loop with the real actions, so that every
workbench has something on it. The first is the rider's report from the source pages."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from minsheng.accounts.actors import Actor
from minsheng.cases import actions
from minsheng.cases.actions import Intake


def _actor(username: str) -> Actor:
    return Actor.of(get_user_model().objects.select_related("profile__unit").get(username=username))


def make_demo_cases() -> int:
    op = _actor("operator")
    made = []
    rider = actions.accept_case(
        op,
        Intake(
            channel="rider",
            category="road.manhole",
            lat=30.7195,
            lng=121.0001,
            address="当湖街道水洞埭社区附近人行道",
            text="晚上送餐经过，发现人行道上一个窨井盖破了一角，晚上很危险，怕有人踩空。",
            requester_name="骑手 沈师傅",
            requester_phone="13857301234",
        ),
    )
    made.append(rider)
    zjj = _actor("zjj")
    actions.sign_case(zjj, rider.pk, note="已签收")
    actions.dispatch_case(zjj, rider.pk, people=["field"], note="派外勤赵磊现场处置")
    made.append(
        actions.accept_case(
            op,
            Intake(
                channel="hotline",
                category="env.noise",
                lat=30.6980,
                lng=121.0300,
                text="喂你好，就是我们小区旁边工地晚上十一点了还在施工，噪音太大了，孩子睡不着。",
                requester_name="刘女士",
                requester_phone="13905731111",
            ),
        )
    )
    made.append(
        actions.accept_case(
            op,
            Intake(
                channel="hotline",
                text="我想咨询一下新生儿医保怎么办理，需要带什么材料？",
                requester_name="",
                requester_phone="",
            ),
        )
    )
    made.append(
        actions.accept_case(
            op,
            Intake(
                channel="grid",
                category="neighbor.dispute",
                lat=30.7195,
                lng=121.0001,
                text="网格巡查：3幢楼上住户卫生间漏水到楼下，双方多次协商未果，需社区协调。",
                requester_name="网格员 徐",
                requester_phone="13757305678",
            ),
        )
    )
    return len(made)
