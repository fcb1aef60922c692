"""Which workbench each role lands on, and which pages its navigation offers.

This is page layout, not permission: every list goes through ``visible_cases`` and every
change through the named actions, which decide what a person may see and do.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from minsheng.accounts.actors import Actor
from minsheng.accounts.models import Role

PAGE_LABELS = {
    "intake": _("Operator seat"),
    "queue": _("Dispatch queue"),
    "inbox": _("Unit inbox"),
    "field": _("My field cases"),
    "overview": _("Overview"),
    "cases": _("Search cases"),
    "stats": _("Statistics"),
    "sensors": _("Sensors"),
    "duty": _("Duty roster"),
    "partners": _("Reporting partners"),
    "calendar": _("Holidays"),
    "callbacks": _("Missed calls"),
    "followups": _("Follow-ups"),
    "command": _("Command centre"),
    "warnings": _("Early warnings"),
    "ranking": _("Ranking"),
    "typical": _("Typical cases"),
}
# Pages of other apps are named with their namespace; the rest are this app's.
PAGE_URL_NAMES = {
    "intake": "web:seat",  # the operator's seat; /intake/ is the same page
    "stats": "stats:index",
    "sensors": "sensors:devices",
    "duty": "field:roster",
    "partners": "public:partners",
    "callbacks": "calls:callbacks",
    "followups": "followup:queue",
    "command": "command:screen",
    "warnings": "warning:list",
    "ranking": "ranking:ranking",
    "typical": "typical:queue",
}

# Page → roles that have it in their navigation and may open it.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "intake": frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN}),
    "queue": frozenset({Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN}),
    "inbox": frozenset({Role.HANDLER, Role.SUBCENTRE_DISPATCHER}),
    "field": frozenset({Role.FIELD_WORKER}),
    "overview": frozenset({Role.LEADER, Role.CITY_DISPATCHER, Role.ADMIN}),
    "cases": frozenset(Role.values),
    # As the statistics page itself allows (minsheng.stats.views.STATS_ROLES).
    "stats": frozenset(
        {Role.LEADER, Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN, Role.HANDLER}
    ),
    # Navigation only: these apps' own views check their rights.
    "sensors": frozenset({Role.CITY_DISPATCHER, Role.HANDLER, Role.LEADER, Role.ADMIN}),
    "duty": frozenset({Role.HANDLER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN}),
    "partners": frozenset({Role.HANDLER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN}),
    # The holiday schedule: the centre and administrators keep it, leaders may read it.
    "calendar": frozenset({Role.CITY_DISPATCHER, Role.ADMIN, Role.LEADER}),
    # The centre's queues of calls owed (calls.rules.CALLBACK_ROLES, followup.rules.FOLLOWUP_ROLES).
    "callbacks": frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN}),
    "followups": frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN}),
    # The command centre's screen (minsheng.command.views.SCREEN_ROLES).
    "command": frozenset({Role.LEADER, Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN}),
    # Early warning, the ranking and typical cases (their views check: warning.rules.WARNING_ROLES,
    # ranking.views.RANKING_ROLES, typical.rules.STAFF_ROLES).
    "warnings": frozenset({Role.LEADER, Role.CITY_DISPATCHER, Role.SUBCENTRE_DISPATCHER, Role.ADMIN}),
    "ranking": frozenset({Role.LEADER, Role.CITY_DISPATCHER, Role.ADMIN}),
    "typical": frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.LEADER, Role.ADMIN}),
}
CALENDAR_EDITORS = frozenset({Role.CITY_DISPATCHER, Role.ADMIN})

HOME_PAGE: dict[str, str] = {
    Role.OPERATOR: "intake",
    Role.CITY_DISPATCHER: "queue",
    Role.SUBCENTRE_DISPATCHER: "queue",
    Role.ADMIN: "queue",
    Role.HANDLER: "inbox",
    Role.FIELD_WORKER: "field",
    Role.LEADER: "overview",
}


def home_page(actor: Actor) -> str | None:
    return HOME_PAGE.get(actor.role) if actor.role else None


def may_open(actor: Actor, page: str) -> bool:
    return actor.role in PAGE_ROLES.get(page, frozenset())


def url_name(page: str) -> str:
    return PAGE_URL_NAMES.get(page, f"web:{page}")


def nav_for(actor: Actor) -> list[tuple[str, str]]:
    """The pages this person's navigation shows, their own workbench first."""
    home = home_page(actor)
    pages = [p for p in PAGE_LABELS if may_open(actor, p)]
    if home in pages:
        pages.remove(home)
        pages.insert(0, home)
    return [(p, str(PAGE_LABELS[p])) for p in pages]
