"""The demo city's share of the parts that plug into the loop: the enterprise matters and a
few enterprises with their service officers (涉企诉求), the kinds of proposals and two proposals
in progress (议案提案), and 110's transfers (the lists themselves are seeded by the transfer
app's migration). Everything goes through the parts' own actions; loading again changes
nothing (enterprises by credit code, proposals by number, transfers by 110's reference).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Unit
from minsheng.cases import actions as case_actions
from minsheng.cases.actions import Intake
from minsheng.cases.errors import CaseError
from minsheng.core import clock
from minsheng.enterprise import actions as enterprise_actions
from minsheng.enterprise.credit_code import check_character
from minsheng.enterprise.models import Enterprise, EnterpriseCase
from minsheng.proposals import actions as proposal_actions
from minsheng.proposals.models import Proposal
from minsheng.transfer import actions as transfer_actions
from minsheng.transfer.models import IncomingTransfer


def credit_code(first17: str) -> str:
    """A demo unified social credit code: its first 17 characters with their check character."""
    return first17 + check_character(first17)


@dataclass(frozen=True)
class DemoEnterprise:
    first17: str
    name: str
    address: str
    officer: str  # a demo account's user name
    request: Intake | None = None  # one request of today, taken in when the demo makes cases


DANGHU = (30.7195, 121.0001)  # 水洞埭社区, 当湖街道
ZHONGXI = (30.6980, 121.0300)

DEMO_ENTERPRISES = (
    DemoEnterprise(
        "91330482MA2B3C4D5",
        "平湖市申达精密机械有限公司",
        "当湖街道新华北路188号",
        "danghu",
        Intake(
            channel="enterprise",
            category="enterprise.utilities",
            lat=DANGHU[0],
            lng=DANGHU[1],
            address="当湖街道新华北路188号",
            text="新厂房扩产需要增容用水报装，材料一个月前交了还没有人联系，影响下月投产。",
            requester_name="申达机械 行政部 钱经理",
            requester_phone="13867312345",
        ),
    ),
    DemoEnterprise(
        "91330482MA2E5F6G7",
        "平湖市禾丰食品有限公司",
        "当湖街道东湖大道66号",
        "danghu",
        Intake(
            channel="enterprise",
            category="enterprise.policy",
            lat=DANGHU[0] - 0.004,
            lng=DANGHU[1] + 0.003,
            address="当湖街道东湖大道66号",
            text="去年申报的技改补贴公示已经结束，想问兑现进度和还需要补什么材料。",
            requester_name="禾丰食品 财务 孙女士",
            requester_phone="13967354321",
        ),
    ),
    DemoEnterprise("91330482MA2H8J9K0", "平湖市钟溪物流有限公司", "钟溪街道钟埭路18号", "swjt"),
)


@dataclass(frozen=True)
class DemoProposal:
    """A proposal handed over ``days_ago`` days before loading, signed by its lead unit and,
    when ``contacted``, with the proposer met."""

    kind: str
    number: str
    title: str
    text: str
    proposer: str
    lead: str  # a demo account of the lead unit (it signs and contacts)
    co_units: tuple[str, ...]  # unit codes
    days_ago: int
    contacted: bool


DEMO_PROPOSALS = (
    DemoProposal(
        "npc",
        "人大建议第0012号",
        "关于加快老旧小区雨污分流改造的建议",
        "当湖街道多个老旧小区雨天污水外溢，建议将雨污分流改造列入今年民生实事，并同步更新管网。",
        "沈建国",
        "zjj",
        ("swjt",),
        24,
        True,
    ),
    DemoProposal(
        "cppcc",
        "政协提案第0031号",
        "关于规范城区共享单车停放的提案",
        "城区主干道人行道共享单车乱停放严重，建议划定停放区并落实企业运维责任。",
        "陆美华",
        "zjj",
        (),
        6,
        False,
    ),
)

DEMO_TRANSFERS = (
    transfer_actions.TransferIn(
        police_ref="110-DEMO-0001",
        item="h.roads.manhole",
        text="报警人称钟溪街道钟埭路口井盖缺失，无人员受伤，请12345处置。",
        sent_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),  # replaced by the moment of loading
        address="钟溪街道钟埭路口",
        lat=ZHONGXI[0],
        lng=ZHONGXI[1],
        caller_name="马先生",
        caller_phone="13757300110",
    ),
    transfer_actions.TransferIn(
        police_ref="110-DEMO-0002",
        item="h.env.construction_noise",
        text="报警人称当湖街道某工地夜间施工噪声扰民，非警情，请12345处置。",
        sent_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        address="当湖街道东湖大道工地",
        lat=DANGHU[0] - 0.003,
        lng=DANGHU[1] + 0.004,
        caller_name="周女士",
        caller_phone="13857300220",
    ),
)


def _actor(username: str) -> Actor | None:
    user = get_user_model().objects.select_related("profile__unit").filter(username=username).first()
    return Actor.of(user) if user is not None else None


def load_enterprises(*, with_requests: bool) -> int:
    """The enterprise matters, the demo enterprises with their officers and, with requests,
    today's request of each that has none yet. The requests taken in."""
    enterprise_actions.load_enterprise_matters()
    system = Actor.system(label="演示")
    made = 0
    for e in DEMO_ENTERPRISES:
        officer = get_user_model().objects.filter(username=e.officer).values_list("pk", flat=True).first()
        code = credit_code(e.first17)
        known = Enterprise.objects.filter(credit_code=code).first()
        if known is None:
            known = enterprise_actions.register_enterprise(
                system, credit_code=code, name=e.name, address=e.address, officer_id=officer
            )
        if not with_requests or e.request is None:
            continue
        if EnterpriseCase.objects.filter(enterprise=known).exists():
            continue
        operator = _actor("operator") or system
        # A copy: intake fills in what it decides.
        enterprise_actions.accept_enterprise_request(operator, code, dataclasses.replace(e.request))
        made += 1
    return made


def load_proposals(*, with_cases: bool) -> int:
    """The kinds of proposals and, with cases, the demo proposals not handed over yet, each
    walked as far as its lead unit has come. The proposals handed over."""
    proposal_actions.load_kinds()
    if not with_cases:
        return 0
    desk = _actor("dispatcher") or Actor.system(label="议案提案办")
    made = 0
    end = clock.now()
    for p in DEMO_PROPOSALS:
        lead = _actor(p.lead)
        if lead is None or lead.unit is None or Proposal.objects.filter(number=p.number).exists():
            continue
        co = list(Unit.objects.filter(code__in=p.co_units).values_list("pk", flat=True))
        handed = end - dt.timedelta(days=p.days_ago)
        with clock.frozen(handed):
            proposal = proposal_actions.hand_over(
                desk,
                kind=p.kind,
                number=p.number,
                title=p.title,
                text=p.text,
                proposer=p.proposer,
                lead_unit_id=lead.unit.pk,
                co_units=co,
            )
        made += 1
        try:
            with clock.frozen(handed + dt.timedelta(minutes=20)):
                case_actions.sign_case(lead, proposal.case_id, note="已签收，牵头办理")
            if p.contacted:
                with clock.frozen(handed + dt.timedelta(days=9)):
                    proposal_actions.record_contact(
                        lead, proposal.case_id, how="visit", note="上门走访代表，商定先行试点两个小区。"
                    )
        except CaseError:
            continue  # a rule of this city refused a step: the proposal stays where it got
    return made


def load_transfers() -> int:
    """110's demo transfers not received yet: the first the operator accepted into the loop,
    the other waits for the centre's decision. The cases made."""
    made = 0
    for i, t in enumerate(DEMO_TRANSFERS):
        if IncomingTransfer.objects.filter(police_ref=t.police_ref).exists():
            continue
        sent = clock.now() - dt.timedelta(minutes=3)
        received = transfer_actions.receive_transfer(dataclasses.replace(t, sent_at=sent))
        operator = _actor("operator")
        if i == 0 and operator is not None:
            transfer_actions.accept_transfer(operator, received.transfer.pk)
            made += 1
    return made
