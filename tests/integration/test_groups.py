"""One-key joint groups (一键组群) through their named actions, on the real database: who
forms them, who sees the case and its thread, no bouncing while open, each member's part
and clocks (escalated by the worker), the lead's consolidated feedback and closing, change
requests, the log, the outbox, the inbox, the API and the statistics."""

from __future__ import annotations

import datetime as dt
import io
import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from PIL import Image

from minsheng.cases import actions as case_actions
from minsheng.cases.errors import Conflict, Forbidden, Invalid, NotFound
from minsheng.cases.models import CaseClock, CaseEvent
from minsheng.cases.queries import get_visible_case
from minsheng.cases.scoping import visible_cases
from minsheng.cases.states import State
from minsheng.groups import actions as g
from minsheng.groups import queries as gq
from minsheng.groups import rules as group_rules
from minsheng.groups.models import ChangeRequest, GroupMember, GroupState, JointGroup
from minsheng.notify.models import OutboxMessage
from minsheng.web.queries import inbox_sections
from minsheng.worker.loop import run_pass
from tests.common.factories import PASSWORD, intake

pytestmark = pytest.mark.django_db


def log(case) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def form(city, case, *, by="dispatcher", lead="roads", assists=("water", "gr-east.a"), **kw):
    return g.form_joint_group(
        city.actor(by),
        case.pk,
        lead_unit_id=city.units[lead].pk,
        lead_task="牵头处置，汇总反馈",
        assists=[{"unit_id": city.units[u].pk, "task": f"{u} 协助"} for u in assists],
        **kw,
    )


def member(group, city, unit) -> GroupMember:
    return group.members.get(unit=city.units[unit], removed_at__isnull=True)


def png(name="p.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(buf, format="PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


# --- forming ------------------------------------------------------------------------------


def test_city_dispatcher_forms_a_group_in_one_action(city, now):
    case = intake(city)  # road.manhole → roads, assigned
    version = case.version
    group = form(city, case, note="多部门联合处置", expected_version=version)

    case.refresh_from_db()
    assert group.state == GroupState.OPEN and group.lead_unit == city.units["roads"]
    assert group.formed_unit == city.units["centre"]
    assert case.owner_unit == city.units["roads"] and case.state == State.ASSIGNED
    assert case.version == version + 1
    roles = {m.unit.code: m.role for m in group.members.select_related("unit")}
    assert roles == {"roads": "lead", "water": "assist", "gr-east.a": "assist"}

    # Each assisting unit: its own sign (1 min) and handle (24 h) clocks, held against it.
    water = member(group, city, "water")
    assert water.task == "water 协助"
    assert water.sign_clock.name == "member_sign" and water.sign_clock.unit == city.units["water"]
    assert water.sign_clock.due_at == now() + dt.timedelta(minutes=1)
    assert water.handle_clock.name == "member_handle"
    assert water.handle_clock.due_at == water.due_at == now() + dt.timedelta(hours=24)
    lead = member(group, city, "roads")
    assert lead.sign_clock is None and lead.handle_clock is None  # the case's own clocks
    # Member clocks are not among the case's own limits.
    assert {c.name for c in case.current_clocks()} == {"sign", "feedback", "resolve"}

    event = CaseEvent.objects.get(case=case, action="group_formed")
    assert event.note == "多部门联合处置" and event.data["lead"] == "roads"
    assert [a["unit"] for a in event.data["assists"]] == ["water", "gr-east.a"]
    told = set(
        OutboxMessage.objects.filter(case=case, kind="joint_group_formed").values_list(
            "unit__code", flat=True
        )
    )
    assert told == {"roads", "water", "gr-east.a"}
    msg = OutboxMessage.objects.get(case=case, kind="joint_group_formed", unit__code="water")
    assert msg.context["lead"] == "住建局" and msg.context["task"] == "water 协助"


def test_forming_hands_the_case_to_the_lead(city, now):
    case = intake(city, category=None, point=None, text="小区门口积水又臭又脏，不知道归谁管")
    assert case.state == State.ACCEPTED
    form(city, case, lead="water", assists=("roads",))
    case.refresh_from_db()
    assert case.owner_unit == city.units["water"] and case.state == State.ASSIGNED
    assert log(case)[-2:] == ["assign", "group_formed"]
    assert case.clocks.filter(name="sign", unit=city.units["water"], met_at=None).exists()


def test_subcentre_dispatcher_forms_with_its_own_units_and_departments(city, now):
    case = intake(city, category="neighbor.dispute", point="east.a")
    assert case.owner_unit == city.units["sub-east"]
    sub = city.actor("sub_east")
    with pytest.raises(Invalid) as err:  # a department is never the town's to lead
        form(city, case, by="sub_east", lead="roads", assists=("gr-east.a",))
    assert err.value.field == "lead_unit_id"
    with pytest.raises(Invalid) as err:  # another town's village
        form(city, case, by="sub_east", lead="gr-east.a", assists=("gr-west.a",))
    assert err.value.field == "assists.0.unit_id"
    with pytest.raises(NotFound):  # another sub-centre does not even see it
        form(city, case, by="sub_west", lead="gr-east.a", assists=("roads",))

    group = form(city, case, by="sub_east", lead="gr-east.a", assists=("roads", "water"))
    assert group.formed_unit == city.units["sub-east"]
    case.refresh_from_db()
    assert case.owner_unit == city.units["gr-east.a"]
    # The sub-centre manages its group; the city desk may too.
    assert g.manages(sub, group) and g.manages(city.actor("dispatcher"), group)
    assert not g.manages(city.actor("sub_west"), group)


def test_handler_leader_and_operator_may_not_form_a_group(city, now):
    case = intake(city)
    for who in ("roads", "leader", "operator"):
        with pytest.raises(Forbidden):
            form(city, case, by=who)
    with pytest.raises(NotFound):  # a unit that does not see the case
        form(city, case, by="village_ea")
    assert not JointGroup.objects.exists()


def test_form_checks_its_input_state_and_version(city, now):
    case = intake(city)
    with pytest.raises(Invalid) as err:
        form(city, case, assists=())
    assert err.value.field == "assists"
    with pytest.raises(Invalid) as err:
        form(city, case, assists=("roads",))  # the lead twice
    assert err.value.field == "assists.0.unit_id"
    with pytest.raises(Invalid) as err:
        g.form_joint_group(
            city.actor("dispatcher"),
            case.pk,
            lead_unit_id=city.units["roads"].pk,
            lead_task="牵头",
            assists=[{"unit_id": city.units["water"].pk, "task": " "}],
        )
    assert err.value.field == "assists.0.task"
    with pytest.raises(Invalid) as err:
        form(city, case, hours=0)
    assert err.value.field == "hours"
    with pytest.raises(Conflict):
        form(city, case, expected_version=case.version - 1)
    form(city, case)
    with pytest.raises(Conflict):  # one open group per case
        form(city, case)
    assert JointGroup.objects.count() == 1
    assert log(case).count("group_formed") == 1


def test_people_on_site_keep_the_lead(city, now):
    case = intake(city)
    roads = city.actor("roads")
    case_actions.sign_case(roads, case.pk)
    case_actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    with pytest.raises(Invalid) as err:
        form(city, case, lead="water", assists=("roads",))
    assert err.value.field == "lead_unit_id"
    group = form(city, case)  # roads leads: its signature counts as its part's
    assert member(group, city, "roads").signed_at is not None


# --- seeing the case and the thread ---------------------------------------------------------


def test_member_units_see_the_case_and_thread_a_non_member_does_not(city, now, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = intake(city)
    form(city, case, assists=("water",))
    water = city.actor("water")
    assert visible_cases(water).filter(pk=case.pk).exists()
    assert get_visible_case(water, case.pk).pk == case.pk
    # The sub-centre of a member village sees it too; another town's does not.
    form_case = intake(city, text="另一处井盖破损需要多个部门", phone="13900000000", point="east.b")
    form(city, form_case, assists=("gr-east.a",))
    assert visible_cases(city.actor("sub_east")).filter(pk=form_case.pk).exists()
    assert not visible_cases(city.actor("sub_west")).filter(pk=form_case.pk).exists()
    # A member sees the requester's phone masked: it does not call back.
    client = Client()
    client.login(username="water", password=PASSWORD)
    message = g.post_group_message(water, case.pk, text="管网已排查，需要开挖", photos=[png()])
    page = client.get(f"/cases/{case.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "管网已排查，需要开挖" in body and 'id="group-panel"' in body
    assert "13812345678" not in body
    photo_url = f"/groups/photos/{message.photos.get().pk}/"
    assert client.get(photo_url).status_code == 200

    outsider = Client()
    outsider.login(username="village_ea", password=PASSWORD)
    assert outsider.get(f"/cases/{case.pk}/").status_code == 404
    assert outsider.get(photo_url).status_code == 404
    with pytest.raises(NotFound):
        g.post_group_message(city.actor("village_ea"), case.pk, text="我也来说两句")
    with pytest.raises(Forbidden):  # the leader sees every case but is not in the group
        g.post_group_message(city.actor("leader"), case.pk, text="抓紧")


def test_thread_messages_are_logged_and_told_to_the_other_members(city, now, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = intake(city)
    form(city, case)
    msg = g.post_group_message(city.actor("roads"), case.pk, text="请水务集团先关阀", photos=[png()])
    photo = msg.photos.get()
    # Re-encoded like every photo of a case (an opaque PNG becomes a JPEG).
    assert photo.content_type == "image/jpeg" and (photo.width, photo.height) == (8, 6)
    assert photo.image.name.startswith("groups/") and "p.png" not in photo.image.name
    event = CaseEvent.objects.get(case=case, action="group_message")
    assert event.note == "请水务集团先关阀" and event.data["photos"] == 1
    told = set(
        OutboxMessage.objects.filter(case=case, kind="group_message").values_list("unit__code", flat=True)
    )
    assert told == {"water", "gr-east.a"}  # not the author's own unit
    g.post_group_message(city.actor("dispatcher"), case.pk, text="各单位注意安全")

    with pytest.raises(Invalid) as err:
        g.post_group_message(
            city.actor("water"), case.pk, text="看图", photos=[SimpleUploadedFile("x.jpg", b"not an image")]
        )
    assert err.value.field == "photos"
    with pytest.raises(Invalid) as err:
        g.post_group_message(city.actor("water"), case.pk, text="  ")
    assert err.value.field == "text"
    assert case.joint_groups.get().messages.count() == 2


# --- no bouncing while the group is open ---------------------------------------------------------


def test_return_and_reassignment_are_refused_while_the_group_is_open(city, now):
    case = intake(city)
    form(city, case)
    with pytest.raises(Conflict) as err:
        case_actions.return_case(city.actor("roads"), case.pk, note="不是我们的")
    assert err.value.message == group_rules.refusals(case)["return"]  # ask the dispatcher
    with pytest.raises(Conflict):
        case_actions.assign_case(city.actor("dispatcher"), case.pk, unit_id=city.units["water"].pk)
    case.refresh_from_db()
    assert case.state == State.ASSIGNED and case.owner_unit == city.units["roads"]
    assert "return" not in case_actions.available_actions(city.actor("roads"), case)
    assert "sign" in case_actions.available_actions(city.actor("roads"), case)
    assert "assign" not in case_actions.available_actions(city.actor("dispatcher"), case)
    # The way out is a request to the dispatcher; once dissolved, the case is ordinary again.
    g.dissolve_group(city.actor("dispatcher"), case.pk, note="误组群", expected_version=case.version)
    assert not CaseClock.objects.filter(
        case=case, name__startswith="member_", met_at=None, stopped_at=None
    ).exists()
    case = case_actions.return_case(city.actor("roads"), case.pk, note="属于水务")
    assert case.state == State.RETURNED
    assert log(case)[-2:] == ["group_dissolved", "return"]


def test_return_through_the_api_is_409_with_the_reason(city, now):
    case = intake(city)
    form(city, case)
    out = StringIO()
    call_command("createtoken", "roads", stdout=out)
    token = out.getvalue().strip().splitlines()[-1]
    r = Client().post(
        f"/api/v1/cases/{case.pk}/actions/return",
        json.dumps({"note": "不归我们"}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 409
    assert r.json()["state"] == "assigned"


# --- parts, clocks and escalation ------------------------------------------------------------------


def test_member_sign_breach_escalates_through_the_worker(city, now):
    case = intake(city)
    form(city, case)
    roads = city.actor("roads")
    case_actions.sign_case(roads, case.pk)  # the lead signs in time
    g.sign_part(city.actor("water"), case.pk)  # water signs in time; the village does not
    now.advance(seconds=61)
    run_pass(deliver=False)
    run_pass(deliver=False)

    breaches = CaseEvent.objects.filter(case=case, action="clock_breach")
    assert [(e.data["clock"], e.data["unit"], e.data["escalated_to"]) for e in breaches] == [
        ("member_sign", "gr-east.a", "sub-east")
    ]
    assert CaseEvent.objects.filter(case=case, action="supervise", data__unit="sub-east").count() == 1
    assert (
        OutboxMessage.objects.filter(case=case, kind="clock_breach", unit=city.units["sub-east"]).count() == 1
    )
    village = member(case.joint_groups.get(), city, "gr-east.a")
    assert village.sign_clock.breached_at is not None


def test_member_handle_breach_escalates_a_department_to_the_city(city, now):
    case = intake(city)
    form(city, case, assists=("water",), hours=2)
    water = city.actor("water")
    g.sign_part(water, case.pk)
    case_actions.sign_case(city.actor("roads"), case.pk)
    now.advance(minutes=97)  # 80% of 2 h
    assert run_pass(deliver=False).warned >= 1
    assert OutboxMessage.objects.filter(
        case=case, kind="clock_warning", unit=city.units["water"], context__clock="member_handle"
    ).exists()
    now.advance(minutes=24)
    run_pass(deliver=False)
    breach = CaseEvent.objects.get(case=case, action="clock_breach", data__clock="member_handle")
    assert breach.data["unit"] == "water" and breach.data["escalated_to"] == "centre"
    g.mark_part_done(water, case.pk, note="已开挖修复")
    part = member(case.joint_groups.get(), city, "water")
    assert part.late and part.handle_clock.met_at is not None and part.handle_clock.is_late()


def test_parts_sign_and_done_in_order_each_logged(city, now):
    case = intake(city)
    form(city, case, assists=("water",))
    water = city.actor("water")
    with pytest.raises(Conflict):
        g.mark_part_done(water, case.pk, note="做完了")  # sign first
    with pytest.raises(Forbidden):  # the dispatcher has no part of its own
        g.sign_part(city.actor("dispatcher"), case.pk)
    g.sign_part(water, case.pk)
    with pytest.raises(Conflict):
        g.sign_part(water, case.pk)
    with pytest.raises(Invalid):
        g.mark_part_done(water, case.pk, note=" ")
    case.refresh_from_db()
    version = case.version
    g.mark_part_done(water, case.pk, note="已关阀排水")
    case.refresh_from_db()
    assert case.version == version  # parts leave the case's version: open forms stay valid
    part = member(case.joint_groups.get(), city, "water")
    assert part.state == "done" and part.result == "已关阀排水" and not part.late
    assert part.sign_clock.met_at and part.handle_clock.met_at
    assert (
        OutboxMessage.objects.filter(case=case, kind="group_part_done", unit=city.units["roads"]).count() == 1
    )
    assert log(case)[-2:] == ["group_part_signed", "group_part_done"]


# --- the lead's consolidated feedback and closing ---------------------------------------------------


def test_lead_closes_only_with_every_part_done_or_waived(city, now):
    case = intake(city)
    form(city, case)
    roads, water, dispatcher = city.actor("roads"), city.actor("water"), city.actor("dispatcher")
    case_actions.sign_case(roads, case.pk)
    group = case.joint_groups.get()
    assert member(group, city, "roads").signed_at is not None  # the case's sign is the lead's
    case_actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    g.sign_part(water, case.pk)
    g.mark_part_done(water, case.pk, note="管网已修复")

    # Only the lead (the unit holding the case) writes the consolidated feedback.
    with pytest.raises(Forbidden):
        case_actions.feedback_case(water, case.pk, note="修好了")
    case = case_actions.feedback_case(roads, case.pk, note="井盖与管网均已修复，恢复通行")
    assert member(group, city, "roads").state == "done"
    assert OutboxMessage.objects.filter(case=case, kind="case_feedback").exists()

    # The village's part is still open: nobody may close, the lead included.
    assert "close" not in case_actions.available_actions(roads, case)
    with pytest.raises(Conflict) as err:
        case_actions.close_case(roads, case.pk)
    assert "东城A村" in err.value.message
    with pytest.raises(Conflict):
        case_actions.close_case(dispatcher, case.pk)
    with pytest.raises(Forbidden):
        g.waive_part(roads, case.pk, unit_id=city.units["gr-east.a"].pk, note="无需村里")
    with pytest.raises(Invalid):
        g.waive_part(dispatcher, case.pk, unit_id=city.units["roads"].pk, note="牵头不可免")
    g.waive_part(dispatcher, case.pk, unit_id=city.units["gr-east.a"].pk, note="现场无需村级力量")
    village = member(group, city, "gr-east.a")
    assert village.state == "waived" and village.sign_clock.stopped_at is not None

    assert "close" in case_actions.available_actions(roads, case)
    case = case_actions.close_case(roads, case.pk, note="联合处置完毕")
    assert case.state == State.CLOSED
    group.refresh_from_db()
    assert group.state == GroupState.CLOSED and group.closed_at == now()
    assert not CaseClock.objects.filter(case=case, met_at=None, stopped_at=None).exists()
    assert log(case) == [
        "accept",
        "assign",
        "group_formed",
        "sign",
        "dispatch",
        "group_part_signed",
        "group_part_done",
        "feedback",
        "group_part_waived",
        "close",
    ]
    # The record stays visible to the members; the thread is closed.
    assert get_visible_case(water, case.pk)
    with pytest.raises(Conflict):
        g.post_group_message(water, case.pk, text="补充一句")
    # The lead's right to close was the group's: without an open group it is the desk's.
    assert "close" not in case_actions.available_actions(roads, case)


def test_reopened_case_may_form_a_new_group(city, now):
    case = intake(city)
    form(city, case, assists=("water",))
    roads, water = city.actor("roads"), city.actor("water")
    case_actions.sign_case(roads, case.pk)
    case_actions.dispatch_case(roads, case.pk, people=["抢修一班"])
    g.sign_part(water, case.pk)
    g.mark_part_done(water, case.pk, note="完成")
    case_actions.feedback_case(roads, case.pk, note="已修复")
    case_actions.rate_case(city.actor("operator"), case.pk, rating="unsatisfied")
    case_actions.close_case(roads, case.pk, note="按流程办结")
    case = case_actions.reopen_case(city.actor("operator"), case.pk, note="仍有积水")
    form(city, case, assists=("water",))
    assert JointGroup.objects.filter(case=case).count() == 2
    assert JointGroup.objects.filter(case=case, state=GroupState.OPEN).count() == 1


# --- change requests -----------------------------------------------------------------------------------


def test_change_request_flow(city, now):
    case = intake(city)
    form(city, case, assists=("water",))
    water, roads, dispatcher = city.actor("water"), city.actor("roads"), city.actor("dispatcher")
    with pytest.raises(Forbidden):  # the dispatcher changes it; members ask
        g.request_group_change(city.actor("leader"), case.pk, note="x")
    request = g.request_group_change(water, case.pk, note="积水点在村道，应由村里处理，我方不涉及")
    assert request.status == "pending"
    with pytest.raises(Conflict):
        g.request_group_change(water, case.pk, note="再催一下")
    assert (
        OutboxMessage.objects.filter(
            case=case, kind="group_change_requested", unit=city.units["centre"]
        ).count()
        == 1
    )
    with pytest.raises(Forbidden):
        g.change_group(roads, case.pk, remove=[city.units["water"].pk])
    with pytest.raises(Invalid):
        g.change_group(dispatcher, case.pk, remove=[city.units["roads"].pk])
    with pytest.raises(Invalid):  # a group keeps an assisting unit
        g.change_group(dispatcher, case.pk, remove=[city.units["water"].pk])

    case.refresh_from_db()
    version = case.version
    g.change_group(
        dispatcher,
        case.pk,
        remove=[city.units["water"].pk],
        add=[{"unit_id": city.units["gr-east.a"].pk, "task": "村道积水清理"}],
        note="按水务集团意见调整",
        request_id=request.pk,
        expected_version=version,
    )
    case.refresh_from_db()
    assert case.version == version + 1
    request.refresh_from_db()
    assert request.status == "done" and request.answer == "按水务集团意见调整"
    group = case.joint_groups.get()
    water_part = group.members.get(unit=city.units["water"])
    assert water_part.removed_at is not None and water_part.sign_clock.stopped_at is not None
    assert member(group, city, "gr-east.a").sign_clock.unit == city.units["gr-east.a"]
    # Taken out, water no longer sees the case through the group.
    with pytest.raises(NotFound):
        get_visible_case(water, case.pk)
    event = CaseEvent.objects.get(case=case, action="group_changed")
    assert event.data["removed"][0]["unit"] == "water"
    assert event.data["added"][0]["unit"] == "gr-east.a" and event.data["request"] == request.pk

    # A request declined, with the reason told to the unit.
    second = g.request_group_change(roads, case.pk, note="请增加水务集团")
    with pytest.raises(Invalid):
        g.decline_group_change(dispatcher, case.pk, request_id=second.pk, note="")
    g.decline_group_change(dispatcher, case.pk, request_id=second.pk, note="村级可处理")
    second.refresh_from_db()
    assert second.status == "declined"
    assert OutboxMessage.objects.filter(
        case=case, kind="group_change_answered", unit=city.units["roads"]
    ).exists()
    assert [a for a in log(case) if a.startswith("group_")] == [
        "group_formed",
        "group_change_requested",
        "group_changed",
        "group_change_requested",
        "group_change_declined",
    ]
    assert ChangeRequest.objects.filter(status="pending").count() == 0


# --- pages, inbox, API, statistics ---------------------------------------------------------------------


def test_member_inbox_lists_its_parts(city, now):
    case = intake(city)
    form(city, case, assists=("water",))
    sections = dict(inbox_sections(city.actor("water")))
    parts = list(sections["joint"])
    assert [p.group.case_id for p in parts] == [case.pk] and parts[0].state == "waiting"
    assert list(dict(inbox_sections(city.actor("village_ea")))["joint"]) == []
    client = Client()
    client.login(username="water", password=PASSWORD)
    page = client.get("/inbox/?tab=joint")
    assert page.status_code == 200
    assert case.number in page.content.decode()


def test_group_actions_through_the_web(city, now):
    case = intake(city)
    dispatcher = Client()
    dispatcher.login(username="dispatcher", password=PASSWORD)
    page = dispatcher.get(f"/cases/{case.pk}/").content.decode()
    assert 'id="group-form"' in page
    r = dispatcher.post(
        f"/groups/cases/{case.pk}/form/",
        {
            "version": case.version,
            "lead_unit": city.units["roads"].pk,
            "lead_task": "牵头",
            "assist_unit": [city.units["water"].pk, ""],
            "assist_task": ["", ""],
        },
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 422 and "form-error" in r.content.decode()
    assert not JointGroup.objects.exists()
    r = dispatcher.post(
        f"/groups/cases/{case.pk}/form/",
        {
            "version": case.version,
            "lead_unit": city.units["roads"].pk,
            "lead_task": "牵头",
            "assist_unit": [city.units["water"].pk, ""],
            "assist_task": ["关阀排水", ""],
        },
    )
    assert r.status_code == 302
    assert JointGroup.objects.filter(case=case, state="open").exists()
    water = Client()
    water.login(username="water", password=PASSWORD)
    r = water.post(f"/groups/cases/{case.pk}/sign/", {}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="case-panel"' in r.content.decode()
    r = water.post(f"/groups/cases/{case.pk}/sign/", {}, headers={"HX-Request": "true"})
    assert r.status_code == 409
    outsider = Client()
    outsider.login(username="village_ea", password=PASSWORD)
    assert outsider.post(f"/groups/cases/{case.pk}/sign/", {}).status_code == 404


def test_api_forms_and_works_a_group(city, now):
    def token(user):
        out = StringIO()
        call_command("createtoken", user, stdout=out)
        return {"Authorization": f"Bearer {out.getvalue().strip().splitlines()[-1]}"}

    http = Client()
    case = intake(city)
    body = {
        "lead_unit_id": city.units["roads"].pk,
        "lead_task": "牵头",
        "assists": [{"unit_id": city.units["water"].pk, "task": "关阀"}],
        "version": case.version,
    }
    r = http.post(
        f"/api/v1/cases/{case.pk}/group",
        json.dumps(body),
        content_type="application/json",
        headers=token("roads"),
    )
    assert r.status_code == 403
    r = http.post(
        f"/api/v1/cases/{case.pk}/group",
        json.dumps(body),
        content_type="application/json",
        headers=token("dispatcher"),
    )
    assert r.status_code == 201, r.content
    data = r.json()
    assert [m["role"] for m in data["members"]] == ["lead", "assist"]
    water = token("water")
    r = http.post(f"/api/v1/cases/{case.pk}/group/sign", "{}", content_type="application/json", headers=water)
    assert r.status_code == 200 and r.json()["members"][1]["state"] == "signed"
    r = http.post(
        f"/api/v1/cases/{case.pk}/group/message",
        json.dumps({"text": "已到场"}),
        content_type="application/json",
        headers=water,
    )
    assert r.json()["messages"][0]["text"] == "已到场"
    r = http.post(
        f"/api/v1/cases/{case.pk}/group/bogus", "{}", content_type="application/json", headers=water
    )
    assert r.status_code == 422
    assert http.get(f"/api/v1/cases/{case.pk}/group", headers=token("village_ea")).status_code == 404


def test_statistics_count_joint_cases_and_each_members_part(city, now):
    start = now()
    one = intake(city)
    form(city, one, assists=("water", "gr-east.a"), hours=2)
    two = intake(city, text="第二起需要联合处置的井盖问题", phone="13900000001", point="east.b")
    form(city, two, assists=("water",), hours=2)
    water = city.actor("water")
    g.sign_part(water, one.pk)
    g.mark_part_done(water, one.pk, note="完成")
    g.sign_part(water, two.pk)
    now.advance(hours=3)
    g.mark_part_done(water, two.pk, note="晚了")
    g.waive_part(city.actor("dispatcher"), one.pk, unit_id=city.units["gr-east.a"].pk, note="不需要")
    g.dissolve_group(city.actor("dispatcher"), two.pk, note="合并处置")
    end = now() + dt.timedelta(seconds=1)

    counts = gq.joint_case_counts(start, end)
    assert counts == {"groups": 2, "cases": 2, "closed": 0, "dissolved": 1, "open": 1, "assisting_units": 3}
    rows = {(r["unit"], r["role"]): r for r in gq.member_part_counts(start, end)}
    w = rows[("水务集团", "assist")]
    assert (w["parts"], w["done_in_time"], w["done_late"], w["open"]) == (2, 1, 1, 0)
    v = rows[("东城A村", "assist")]
    assert (v["parts"], v["waived"], v["open"]) == (1, 1, 0)
    lead = rows[("住建局", "lead")]  # one still open, one left with the dissolved group
    assert (lead["parts"], lead["open"], lead["dropped"]) == (2, 1, 1)
    # Scoped: the water department counts only what it may see.
    assert gq.joint_case_counts(start, end, actor=city.actor("village_ea"))["groups"] == 1


def test_groups_catalog_is_complete_and_loaded():
    from pathlib import Path

    from django.utils import translation

    import minsheng.groups

    po = Path(minsheng.groups.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
    blocks = po.read_text(encoding="utf-8").split("\n\n")[1:]
    untranslated = [
        b
        for b in blocks
        if not b.startswith("#~") and ("#, fuzzy" in b or 'msgstr ""' in b.splitlines()[-1:])
    ]
    assert untranslated == []
    with translation.override("zh-hans"):
        assert str(GroupState.OPEN.label) == "进行中"
        assert translation.gettext("Waived by the dispatcher") == "调度员已免除"


def test_thread_photos_lose_their_gps_and_device_data(city, now):
    from tests.unit.test_images import has_gps, photo_bytes

    case = intake(city)
    form(city, case)
    tagged = photo_bytes(gps=True)
    assert has_gps(tagged)
    message = g.post_group_message(
        city.actor("water"),
        case.pk,
        text="现场照片",
        photos=[SimpleUploadedFile("site.jpg", tagged, content_type="image/jpeg")],
    )
    stored = message.photos.get().image.read()
    assert not has_gps(stored)
    assert not Image.open(io.BytesIO(stored)).getexif()
