"""The group's shared thread (群聊): messages and photos every member sees."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from minsheng.accounts.actors import Actor
from minsheng.cases import kernel
from minsheng.cases.errors import Forbidden, Invalid
from minsheng.cases.kernel import Change

from ..models import (
    GroupMessage,
    GroupPhoto,
    JointGroup,
)
from ..photos import check_photos
from ..queries import acting_member, manages
from ._common import (
    _active,
    _open_group,
    _tell_members,
    _text,
)

# --- the shared thread -------------------------------------------------------------------


def post_group_message(actor: Actor, case_id: int, *, text: str, photos: Sequence[Any] = ()) -> GroupMessage:
    """A message in the group's thread, with up to four photos: every member unit and the
    dispatcher read it on the case page; it is recorded in the case's log and the other
    member units are told."""
    checked = check_photos(list(photos))  # decode before taking the lock

    def writable(ch: Change) -> JointGroup:
        group = _open_group(ch.case)
        if acting_member(actor, group) is None and not manages(actor, group):
            raise Forbidden(_("Only the group's units and its dispatcher write in the thread."))
        return group

    with kernel.change(actor, case_id, "group_message", check=writable) as ch:
        group = ch.checked
        body = _text(text, "text", "", required=False)
        if not body and not checked:
            raise Invalid("text", _("Write a message or attach a photo."))
        message = GroupMessage.objects.create(
            group=group,
            author=actor.user,
            author_label=actor.label,
            unit=actor.unit,
            text=body,
            created_at=ch.at,
        )
        for p in checked:
            GroupPhoto.objects.create(
                message=message,
                image=p.content,
                content_type=p.content_type,
                width=p.width,
                height=p.height,
                size=p.size,
            )
        ch.event(
            note=body,
            data={
                "group": group.pk,
                "message": message.pk,
                "photos": len(checked),
                "unit": actor.unit.code if actor.unit else None,
                "unit_name": actor.unit.name if actor.unit else None,
            },
        )
        _tell_members(
            ch,
            "group_message",
            _active(group),
            skip_unit=actor.unit.pk if actor.unit else None,
            author=actor.label,
            text=body[:200],
            photos=len(checked),
        )
        return message
