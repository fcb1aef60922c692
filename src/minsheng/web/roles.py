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
    "enterprise": _("Enterprise requests"),
    "enterprise_cases": _("Enterprise requests"),
    "proposals": _("Proposals"),
    "transfer": _("110 transfers"),
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
    "enterprise": "enterprise:enterprises",
    "enterprise_cases": "web:cases",
    "proposals": "proposals:desk",
    "transfer": "transfer:index",
}
# A page that is another page with a query: a unit's enterprise requests are its search
# filtered by the enterprise channel (the search scopes them to what the unit may see).
PAGE_QUERIES = {"enterprise_cases": "channel=enterprise"}

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
    # Enterprise requests: the centre registers enterprises and takes their requests
    # (enterprise.actions.MANAGERS); the service officers' units follow theirs in the search.
    "enterprise": frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN}),
    "enterprise_cases": frozenset({Role.HANDLER, Role.SUBCENTRE_DISPATCHER}),
    # The proposal desk (proposals.actions.DESK); a lead unit acts on its proposal from the
    # case page's panel, reached from its inbox.
    "proposals": frozenset({Role.CITY_DISPATCHER, Role.ADMIN}),
    # 110 <-> 12345 transfers, decided by the centre (transfer.rules.CENTRE_ROLES).
    "transfer": frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN}),
}
# Pages opened now and then: grouped under "More" in the bar, so that each role's daily pages
# stay in one short row. A role with a single such page gets it in the row.
SECONDARY_PAGES = frozenset(
    {
        "sensors",
        "duty",
        "partners",
        "calendar",
        "ranking",
        "typical",
        "enterprise",
        "enterprise_cases",
        "proposals",
    }
)
# The public pages, linked from the foot of every page a visitor who is not signed in sees
# (their URL names; a page of an app this deployment does not mount is left out).
PUBLIC_PAGES = (
    ("web:track", _("Follow your request")),
    ("proposals:track", _("Proposals: tracking their handling")),
    ("typical_public:list", _("Typical cases")),
)
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


def page_query(page: str) -> str:
    """The query string a page's link carries ('' for most)."""
    return PAGE_QUERIES.get(page, "")


def nav_for(actor: Actor) -> list[tuple[str, str]]:
    """The pages this person's navigation shows, their own workbench first."""
    home = home_page(actor)
    pages = [p for p in PAGE_LABELS if may_open(actor, p)]
    if home in pages:
        pages.remove(home)
        pages.insert(0, home)
    return [(p, str(PAGE_LABELS[p])) for p in pages]


def split_nav(pages: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The bar's row and its "More" group: secondary pages go to the group unless only one
    would (a group of one is a detour)."""
    more = [item for item in pages if item[0] in SECONDARY_PAGES]
    if len(more) < 2:
        return pages, []
    return [item for item in pages if item[0] not in SECONDARY_PAGES], more
