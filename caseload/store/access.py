"""Who is acting, and what they may see.

Every query function takes an Actor and returns only what that actor may see:
- an adviser: their own caseload, and their team's aggregate figures;
- a team manager: their team's advisers, customers and figures;
- a team leader: the whole office;
- the administrator (whoever owns the database, on the command line without --as): everything.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, or_, select

from caseload.store import schema
from caseload.store.errors import AccessDenied, UnknownStaff


class Role(StrEnum):
    ADVISER = "adviser"
    TEAM_MANAGER = "team_manager"
    TEAM_LEADER = "team_leader"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return {
            "adviser": "adviser",
            "team_manager": "team manager",
            "team_leader": "team leader",
            "admin": "administrator",
        }[self.value]


STAFF_ROLES = (Role.ADVISER, Role.TEAM_MANAGER, Role.TEAM_LEADER)


# Who sees which claims individually, per role: the claim column that must equal the actor's attribute. The one
# definition: Actor.claim_filter applies it in the app's queries, and store/policies.py makes PostgreSQL's
# row-level security policies from it, so the two cannot drift. (Everyone also sees the caseloads they cover.)
CLAIM_SCOPE: dict[Role, tuple[str, str]] = {
    Role.ADVISER: ("adviser_id", "id"),
    Role.TEAM_MANAGER: ("team_id", "team_id"),
    Role.TEAM_LEADER: ("office_id", "office_id"),
}


@dataclass(frozen=True)
class Actor:
    id: str
    role: Role
    name: str = ""
    team_id: int | None = None
    office_id: int | None = None
    # The day by the user's clock: the temporary covers current on it widen what they may see
    # (store.reassign). None (a test's bare actor): no cover.
    today: dt.date | None = None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def claim_filter(self, claim_table=None):  # noqa: ANN001, ANN201
        """A WHERE clause limiting claims to those this actor may see individually: their own scope,
        and the caseloads they cover today."""
        c = (claim_table if claim_table is not None else schema.Claim.__table__).c
        if self.role is Role.ADMIN:
            return c.id.is_not(None)
        column, attribute = CLAIM_SCOPE[self.role]
        own = c[column] == getattr(self, attribute)
        return own if self.today is None else or_(own, c.adviser_id.in_(self.covered()))

    def covered(self):  # noqa: ANN201
        """The advisers whose caseloads this actor covers today (a subquery of staff ids)."""
        cv = schema.Cover.__table__.c
        return select(cv.adviser_id).where(cv.cover_id == self.id, cv.ended_at.is_(None),
                                           cv.from_date <= self.today, cv.to_date >= self.today)

    def require(self, *roles: Role, doing: str) -> None:
        if self.role not in roles and not self.is_admin:
            allowed = ", ".join(r.label for r in roles)
            raise AccessDenied(f"Only a {allowed} may {doing}; you are acting as {self.role.label} {self.id}.")


ADMIN = Actor(id="admin", role=Role.ADMIN, name="database owner")


def actor_for(conn: Connection, staff_id: str | None, today: dt.date | None = None) -> Actor:
    """The actor for --as STAFF_ID; without one, the database owner acting as administrator.
    `today` (the clock's) lets the caseloads they cover that day in."""
    if not staff_id:
        return ADMIN
    row = conn.execute(
        select(schema.Staff.id, schema.Staff.role, schema.Staff.name, schema.Staff.team_id, schema.Staff.office_id)
        .where(schema.Staff.id == staff_id)
    ).first()
    if row is None:
        raise UnknownStaff(f"There is no staff member {staff_id!r}. `caseload staff list` shows who there is.")
    return Actor(id=row.id, role=Role(row.role), name=row.name, team_id=row.team_id, office_id=row.office_id,
                 today=today)


def covers(conn: Connection, actor: Actor, adviser_id: str) -> bool:
    """Whether the actor covers this adviser's caseload today."""
    if actor.today is None:
        return False
    return conn.execute(actor.covered().where(schema.Cover.__table__.c.adviser_id == adviser_id)).first() is not None
