"""Words for the joint group's entries in the case's timeline."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_LABELS = {
    "group_formed": _("Joint group formed"),
    "group_part_signed": _("Group part signed"),
    "group_part_done": _("Group part done"),
    "group_part_waived": _("Group part waived"),
    "group_message": _("Group message"),
    "group_change_requested": _("Group change requested"),
    "group_changed": _("Group changed"),
    "group_change_declined": _("Group change declined"),
    "group_dissolved": _("Joint group dissolved"),
}
