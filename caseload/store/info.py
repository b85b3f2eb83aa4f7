"""What is in the database: schema version, counts, imports; and the office overview."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, and_, case, func, or_, select, text

from caseload.measures.clock import APPROACHING_DAYS, MILESTONES, next_milestone
from caseload.store import schema
from caseload.store.access import Actor, Role
from caseload.store.db import schema_version
from caseload.store.logins import reads_only_own_claims
from caseload.store.policies import TEAM_OPEN


@dataclass(frozen=True)
class ImportRow:
    id: int
    file_name: str
    sha256: str
    as_at: dt.date
    imported_at: dt.datetime
    imported_by: str
    rows_read: int
    rows_rejected: int
    claims_added: int
    claims_updated: int
    transfers: int
    partial: bool


@dataclass(frozen=True)
class DbInfo:
    schema_version: int
    counts: dict[str, int]
    open_claims: int
    latest_import: ImportRow | None


def imports(conn: Connection) -> list[ImportRow]:
    bt = schema.ImportBatch.__table__
    return [ImportRow(**r._mapping) for r in conn.execute(select(bt).order_by(bt.c.id))]


def db_info(conn: Connection) -> DbInfo:
    counts = {}
    for name in ("office", "team", "staff", "customer", "claim", "assignment", "import_batch", "audit"):
        table = schema.SQLModel.metadata.tables[name]
        counts[name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    c = schema.Claim.__table__
    open_claims = conn.execute(select(func.count()).where(c.c.end_day.is_(None))).scalar_one()
    all_imports = imports(conn)
    latest = max(all_imports, key=lambda b: (b.as_at, b.id)) if all_imports else None
    return DbInfo(schema_version(conn), counts, open_claims, latest)


def latest_import(conn: Connection) -> ImportRow | None:
    """The import whose data is newest (as db_info picks it), without counting every table."""
    bt = schema.ImportBatch.__table__
    r = conn.execute(select(bt).order_by(bt.c.as_at.desc(), bt.c.id.desc()).limit(1)).first()
    return ImportRow(**r._mapping) if r is not None else None


def office_name(conn: Connection, office_id: int | None) -> str | None:
    if office_id is None:
        return None
    ot = schema.Office.__table__
    return conn.execute(select(ot.c.name).where(ot.c.id == office_id)).scalar()


def team_name(conn: Connection, team_id: int | None) -> str | None:
    if team_id is None:
        return None
    tt = schema.Team.__table__
    return conn.execute(select(tt.c.name).where(tt.c.id == team_id)).scalar()


def team_advisers(conn: Connection, team_id: int | None) -> list[tuple[str, str]]:
    """The team's active advisers, (id, name), in the staff list's order."""
    st = schema.Staff.__table__
    return [tuple(r) for r in conn.execute(select(st.c.id, st.c.name).where(
        st.c.team_id == team_id, st.c.role == "adviser", st.c.active.is_(True))).all()]


def staff_names(conn: Connection, ids) -> dict[str, str]:  # noqa: ANN001
    """The names of the staff ids given (ids not in the staff list are left out)."""
    st = schema.Staff.__table__
    return dict(conn.execute(select(st.c.id, st.c.name).where(st.c.id.in_(list(ids)))).all())


@dataclass(frozen=True)
class AdviserSummary:
    id: str
    name: str
    team: str
    caseload: int
    approaching: int


@dataclass(frozen=True)
class TeamSummary:
    id: int
    name: str
    office: str
    caseload: int
    approaching: int
    advisers: tuple[AdviserSummary, ...]


def approaching_condition(c, as_at: dt.date, window: int = APPROACHING_DAYS, milestones=MILESTONES):  # noqa: ANN001, ANN201
    """Open claims with 0 <= milestone - as_at <= window days for some milestone, in portable SQL."""
    day = schema.day_number(as_at)
    return and_(
        c.end_day.is_(None),
        or_(*[and_(c.start_day + 7 * w - day >= 0, c.start_day + 7 * w - day <= window) for w in milestones]),
    )


def office_overview(conn: Connection, actor: Actor, as_at: dt.date, window: int = APPROACHING_DAYS) -> list[TeamSummary]:
    """Teams and advisers the actor may see, with caseload sizes and approaching counts."""
    st, tt, ot = schema.Staff.__table__, schema.Team.__table__, schema.Office.__table__
    c = schema.Claim.__table__
    per_adviser = (
        select(
            c.c.adviser_id,
            func.count().label("caseload"),
            func.sum(case((approaching_condition(c.c, as_at, window), 1), else_=0)).label("approaching"),
        )
        .where(c.c.end_day.is_(None), c.c.start_day <= schema.day_number(as_at))
        .group_by(c.c.adviser_id)
        .subquery()
    )
    q = (
        select(tt.c.id.label("team_id"), tt.c.name.label("team"), ot.c.name.label("office"),
               st.c.id, st.c.name, st.c.role,
               func.coalesce(per_adviser.c.caseload, 0).label("caseload"),
               func.coalesce(per_adviser.c.approaching, 0).label("approaching"))
        .select_from(tt.join(ot, ot.c.id == tt.c.office_id)
                     .outerjoin(st, st.c.team_id == tt.c.id)
                     .outerjoin(per_adviser, per_adviser.c.adviser_id == st.c.id))
        .order_by(ot.c.name, tt.c.name, st.c.name)
    )
    if actor.role is Role.TEAM_LEADER:
        q = q.where(tt.c.office_id == actor.office_id)
    elif actor.role in (Role.TEAM_MANAGER, Role.ADVISER):
        q = q.where(tt.c.id == actor.team_id)
    teams: dict[int, dict] = {}
    for r in conn.execute(q):
        t = teams.setdefault(r.team_id, {"id": r.team_id, "name": r.team, "office": r.office, "advisers": []})
        if r.id is not None and (r.role == "adviser" or r.caseload):
            if actor.role is Role.ADVISER and r.id != actor.id:
                # An adviser sees their team's totals, not colleagues' caseloads one by one.
                t.setdefault("others", []).append(r)
                continue
            t["advisers"].append(AdviserSummary(r.id, r.name, r.team, int(r.caseload), int(r.approaching)))
    if reads_only_own_claims(conn, actor) and actor.team_id in teams:
        # An adviser's login reads only their own claims: the team's totals come from the owner's function.
        caseload, approaching = conn.execute(
            text(f"SELECT caseload, approaching FROM {TEAM_OPEN[0]}(:day, :window, :weeks)"),
            {"day": schema.day_number(as_at), "window": window, "weeks": list(MILESTONES)}).one()
        return [TeamSummary(t["id"], t["name"], t["office"], int(caseload), int(approaching), tuple(t["advisers"]))
                for t in teams.values()]
    out = []
    for t in teams.values():
        others = t.pop("others", [])
        caseload = sum(a.caseload for a in t["advisers"]) + sum(int(o.caseload) for o in others)
        approaching = sum(a.approaching for a in t["advisers"]) + sum(int(o.approaching) for o in others)
        out.append(TeamSummary(t["id"], t["name"], t["office"], caseload, approaching, tuple(t["advisers"])))
    return out


@dataclass(frozen=True)
class OpenClaimRow:
    claim_id: str
    customer: str
    benefit: str
    claim_start: dt.date
    weeks: int
    next_milestone: str


def open_claims(conn: Connection, actor: Actor, adviser_id: str, as_at: dt.date, limit: int = 500) -> list[OpenClaimRow]:
    """An adviser's open claims with weeks on benefit and the next milestone, within the actor's scope."""
    c, cu = schema.Claim.__table__, schema.Customer.__table__
    rows = conn.execute(
        select(c.c.id, c.c.benefit, c.c.claim_start, cu.c.name)
        .select_from(c.join(cu, cu.c.id == c.c.customer_id))
        .where(c.c.adviser_id == adviser_id, c.c.end_day.is_(None), c.c.start_day <= schema.day_number(as_at),
               actor.claim_filter(c))
        .order_by(c.c.start_day, c.c.id)
        .limit(limit)
    ).all()
    out = []
    for r in rows:
        nm = next_milestone(r.claim_start, as_at)
        label = "beyond 52" if nm is None else f"{nm[0]}w in {(nm[1] - as_at).days}d"
        out.append(OpenClaimRow(r.id, r.name or "", r.benefit, r.claim_start, (as_at - r.claim_start).days // 7, label))
    return out
