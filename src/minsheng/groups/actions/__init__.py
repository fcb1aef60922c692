"""Named actions of a joint group (一键组群). Each opens a change to the case through the case
kernel: one transaction with the case row locked (so that every action on the case and its
group is serialised), the checks of who may act (404 not visible, 403 not allowed, 409 not
now, 422 bad input), then the group changed, the event appended to the CASE's log and the
outbox written.

Who does what:

* **form** — a city dispatcher (or administrator) on any open case; a sub-centre
  dispatcher on the cases it manages (``in_subcentre_scope``), with a lead from its own
  units and assisting units from its own units or the line departments (条): a town
  coordinates the departments' people on its ground, but hands a case only to its own.
  The lead unit becomes the unit holding the case (re-assigned to it if needed).
* **sign / done / request a change** — each member unit, for its own part (handlers and
  sub-centre dispatchers of that unit). The lead signs by signing the case, and its part
  is done with the consolidated feedback (or marked done before).
* **waive a part, change the group, decline a request, dissolve** — the dispatching level
  that formed the group (the city desk always).
* **thread** — members and the dispatchers; every message is also an event of the case.

Actions that change who may do what on the case (form, change, dissolve) bump the case's
version; the others touch only the group and leave people's open forms valid, as the
clock worker does, relying on the part's own state to refuse a double action.
"""

from ..queries import acting_member, assist_choices, latest_group, lead_choices, manages, may_form
from ._common import CHANGEABLE_STATES, FORMABLE_STATES, HOURS_MAX, TEXT_MAX, AssistIn
from .dispatcher import change_group, decline_group_change, dissolve_group, waive_part
from .forming import form_joint_group
from .parts import mark_part_done, request_group_change, sign_part
from .thread import post_group_message

__all__ = [
    "CHANGEABLE_STATES",
    "FORMABLE_STATES",
    "HOURS_MAX",
    "TEXT_MAX",
    "AssistIn",
    "acting_member",
    "assist_choices",
    "change_group",
    "decline_group_change",
    "dissolve_group",
    "form_joint_group",
    "latest_group",
    "lead_choices",
    "manages",
    "mark_part_done",
    "may_form",
    "post_group_message",
    "request_group_change",
    "sign_part",
    "waive_part",
]
