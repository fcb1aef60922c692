"""Who nominates, prepares and approves typical cases."""

from __future__ import annotations

from minsheng.accounts.models import Role

# Anyone on the staff who saw the case through may propose it.
NOMINATE_ROLES = frozenset(
    {
        Role.OPERATOR,
        Role.CITY_DISPATCHER,
        Role.SUBCENTRE_DISPATCHER,
        Role.HANDLER,
        Role.LEADER,
        Role.ADMIN,
    }
)
# The centre's editors prepare the public words and photos…
EDITOR_ROLES = frozenset({Role.OPERATOR, Role.CITY_DISPATCHER, Role.ADMIN})
# …and the centre's leadership approves them (another person than the editor).
APPROVER_ROLES = frozenset({Role.LEADER, Role.ADMIN})
STAFF_ROLES = NOMINATE_ROLES
