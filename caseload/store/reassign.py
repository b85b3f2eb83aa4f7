"""Reassigning claims from one adviser to others, temporary cover, and extracts that disagree.

- **Reassignment** (team managers within their team, team leaders within their office, the
  administrator): an adviser's open claims, all or those matching a filter (RAG bands, approaching a
  milestone, beyond 52, with the caseload's own flag SQL), shared out evenly among one or more
  advisers in claim-start order. Each claim's current assignment row is closed on the reassignment
  date and a new one (reason ``reassigned``, who and why) opened; the claim's holder follows, and so
  do the open actions the old holder owned on those claims. One audit row per claim and per moved
  action, and one for the whole reassignment, all in the caller's transaction. On-flow attribution,
  the cohort summaries and claim_state do not depend on the current holder, so they stand as they are.
- **Cover**: an adviser's caseload visible to a named colleague between two dates (inclusive), the
  holder unchanged; ``Actor.claim_filter`` lets it in on the actor's clock date.
- **Conflicts**: while a local reassignment is in force and no extract has yet named its holder, an
  extract naming another holder is not applied to the holder: the import records an
  ``assignment_conflict`` instead (``hold_local_reassignments``, called by the importer). The first
  extract that names the local holder confirms the reassignment; later extracts are the truth again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, or_, select
from sqlalchemy import text as sa_text

from caseload.clock import Clock
from caseload.store import schema, settings
from caseload.store.access import Actor, Role
from caseload.store.audit import record
from caseload.store.caseload import CaseloadQuery, base_where, claim_columns
from caseload.store.errors import AccessDenied, StoreError
from caseload.store.info import latest_import

RAG_BANDS = {"red": "R", "amber": "A", "green": "G", "none": None}
MANAGERS = (Role.TEAM_MANAGER, Role.TEAM_LEADER)
CHUNK = 500


@dataclass(frozen=True)
class ClaimFilter:
    """Which of the adviser's open claims: every one, or those matching every condition given
    (several RAG bands are alternatives)."""

    rag: tuple[str, ...] = ()  # among RAG_BANDS
    approaching: bool = False  # a 13, 26 or 52-week milestone within the approaching window
    beyond_52: bool = False

    def __post_init__(self) -> None:
        unknown = [b for b in self.rag if b not in RAG_BANDS]
        if unknown:
            raise StoreError(f"'{unknown[0]}' is not a RAG band; use {', '.join(RAG_BANDS)}.")

    def describe(self) -> str:
        parts = []
        if self.rag:
            parts.append(" or ".join("unrated" if b == "none" else b.capitalize() for b in self.rag))
        if self.approaching:
            parts.append("approaching a milestone")
        if self.beyond_52:
            parts.append("beyond 52 weeks")
        return "open claims: " + ", ".join(parts) if parts else "all open claims"


@dataclass(frozen=True)
class MatchedClaim:
    claim_id: str
    customer: str
    claim_start: dt.date
    rag: str | None


@dataclass(frozen=True)
class ReassignResult:
    from_adviser: str
    on: dt.date
    shares: dict[str, int]  # target adviser id -> claims moved to them, in the order given
    actions_moved: int

    @property
    def total(self) -> int:
        return sum(self.shares.values())


def _staff(conn: Connection, staff_id: str):  # noqa: ANN202
    st = schema.Staff.__table__
    row = conn.execute(select(st).where(st.c.id == staff_id)).first()
    if row is None:
        raise StoreError(f"There is no staff member {staff_id!r}; `caseload staff list` shows who there is.")
    return row


def _in_scope(actor: Actor, staff) -> bool:  # noqa: ANN001
    if actor.is_admin:
        return True
    if actor.role is Role.TEAM_LEADER:
        return staff.office_id == actor.office_id
    return actor.role is Role.TEAM_MANAGER and staff.team_id == actor.team_id


def _scoped_staff(conn: Connection, actor: Actor, staff_id: str, doing: str):  # noqa: ANN202
    row = _staff(conn, staff_id)
    if not _in_scope(actor, row):
        where = "your office" if actor.role is Role.TEAM_LEADER else "your team"
        raise AccessDenied(f"{row.name or row.id} ({row.id}) is not in {where}: you may {doing} within it only.")
    return row


def _manager(actor: Actor, doing: str) -> None:
    actor.require(*MANAGERS, doing=doing)


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


# ---------------------------------------------------------------------------------------------
# Reassignment


def preview(conn: Connection, actor: Actor, from_adviser: str, flt: ClaimFilter = ClaimFilter()) -> list[MatchedClaim]:
    """The adviser's open claims the filter matches, in the order they are shared out (claim start)."""
    _manager(actor, "reassign claims")
    _scoped_staff(conn, actor, from_adviser, "reassign claims")
    latest = latest_import(conn)
    if latest is None:
        return []
    cols, flags = claim_columns(latest.as_at, settings.load(conn).approaching_days)
    where = base_where(actor, CaseloadQuery(adviser_id=from_adviser), latest.as_at)
    if flt.rag:
        where.append(or_(*[cols["rag"] == RAG_BANDS[b] if RAG_BANDS[b] else cols["rag"].is_(None) for b in flt.rag]))
    if flt.approaching:
        where.append(flags["approaching"])
    if flt.beyond_52:
        where.append(flags["beyond 52"])
    c, cu, cs = schema.Claim.__table__, schema.Customer.__table__, schema.ClaimState.__table__
    rows = conn.execute(
        select(c.c.id, cu.c.name, c.c.claim_start, cols["rag"].label("rag"))
        .select_from(c.join(cu, cu.c.id == c.c.customer_id).outerjoin(cs, cs.c.claim_id == c.c.id))
        .where(*where).order_by(c.c.start_day, c.c.id)
    ).all()
    return [MatchedClaim(r.id, r.name or "", r.claim_start, r.rag) for r in rows]


def share_out(claims: Sequence[MatchedClaim], targets: Sequence[str]) -> dict[str, list[MatchedClaim]]:
    """Dealt in turn, in claim-start order: each target gets the same number give or take one, and a
    like mix of new and long claims."""
    return {t: list(claims[i::len(targets)]) for i, t in enumerate(targets)}


def _targets(conn: Connection, actor: Actor, from_adviser: str, to_advisers: Sequence[str]) -> list:
    ids = list(dict.fromkeys(t.strip() for t in to_advisers if t.strip()))
    if not ids:
        raise StoreError("Name at least one adviser to reassign the claims to.")
    rows = []
    for sid in ids:
        if sid == from_adviser:
            raise StoreError(f"{sid} is the adviser the claims are moving from: choose someone else.")
        row = _scoped_staff(conn, actor, sid, "reassign claims")
        if not row.active:
            raise StoreError(f"{row.name or sid} ({sid}) is not an active member of staff: choose someone else.")
        if row.role != Role.ADVISER.value:
            raise StoreError(f"{row.name or sid} ({sid}) is a {Role(row.role).label}; claims are held by advisers.")
        rows.append(row)
    return rows


def _check_date(conn: Connection, clock: Clock, claim_ids: Sequence[str], on: dt.date) -> None:
    if on > clock.today():
        raise StoreError(f"The reassignment date {on.isoformat()} is in the future; give today or an earlier day.")
    a = schema.Assignment.__table__
    for chunk in _chunks(claim_ids):
        late = conn.execute(select(a.c.claim_id, a.c.from_date).where(a.c.claim_id.in_(chunk), a.c.to_date.is_(None),
                                                                      a.c.from_date > on)
                            .order_by(a.c.from_date.desc()).limit(1)).first()
        if late is not None:
            raise StoreError(f"Claim {late.claim_id}'s current holder has held it since {late.from_date.isoformat()}; "
                             f"a reassignment cannot be dated {on.isoformat()}, before that. Give that day or later.")


def _move(conn: Connection, clock: Clock, actor: Actor, claim_ids: Sequence[str], old: str,
          new, on: dt.date, note: str, reason: str = "reassigned", batch_id: int | None = None) -> int:  # noqa: ANN001
    """Close the claims' current assignments on `on`, open the new holder's, move the claims and the
    old holder's open actions on them. Returns how many actions moved."""
    a, c, ac = schema.Assignment.__table__, schema.Claim.__table__, schema.Action.__table__
    moved = 0
    for chunk in _chunks(claim_ids):
        conn.execute(a.update().where(a.c.claim_id.in_(chunk), a.c.to_date.is_(None)).values(to_date=on))
        conn.execute(a.insert(), [dict(claim_id=cid, adviser_id=new.id, team_id=new.team_id, from_date=on, to_date=None,
                                       batch_id=batch_id, reason=reason, assigned_by=actor.id, note=note)
                                  for cid in chunk])
        conn.execute(c.update().where(c.c.id.in_(chunk)).values(  # no longer as the extract's line gave it
            adviser_id=new.id, team_id=new.team_id, office_id=new.office_id, version=c.c.version + 1,
            extract_hash=None))
        actions = conn.execute(select(ac.c.id).where(ac.c.claim_id.in_(chunk), ac.c.owner == old,
                                                     ac.c.status == "open")).scalars().all()
        if actions:
            conn.execute(ac.update().where(ac.c.id.in_(actions)).values(owner=new.id, version=ac.c.version + 1))
        for aid in actions:
            record(conn, clock, actor, "reassign", "action", str(aid), "owner", old, new.id)
        for cid in chunk:
            record(conn, clock, actor, "reassign", "claim", cid, "adviser_id", old, new.id)
        moved += len(actions)
    return moved


@dataclass(frozen=True)
class Plan:
    """What a reassignment would do: who gets which claims, on which day."""

    from_adviser: str
    on: dt.date
    targets: tuple  # the target advisers' staff rows, in the order given
    shares: dict[str, list[MatchedClaim]]

    @property
    def total(self) -> int:
        return sum(len(cs) for cs in self.shares.values())


def plan(conn: Connection, clock: Clock, actor: Actor, from_adviser: str, to_advisers: Sequence[str],
         flt: ClaimFilter = ClaimFilter(), on: dt.date | None = None) -> Plan:
    """Everything a reassignment checks, and its share-out, without changing anything."""
    claims = preview(conn, actor, from_adviser, flt)
    targets = _targets(conn, actor, from_adviser, to_advisers)
    if not claims:
        raise StoreError(f"{from_adviser} has no {flt.describe()} to reassign: nothing was changed.")
    on = on or clock.today()
    _check_date(conn, clock, [m.claim_id for m in claims], on)
    return Plan(from_adviser, on, tuple(targets), share_out(claims, [t.id for t in targets]))


def reassign(conn: Connection, clock: Clock, actor: Actor, from_adviser: str, to_advisers: Sequence[str],
             flt: ClaimFilter, reason: str, on: dt.date | None = None) -> ReassignResult:
    """Move the matching open claims of `from_adviser` to the targets, shared out evenly, dated `on`
    (default: today by the clock). Call inside `store.db.write`: all of it, or nothing."""
    reason = (reason or "").strip()
    if not reason:
        raise StoreError("A reason for the reassignment is required (it stays on each claim's record).")
    p = plan(conn, clock, actor, from_adviser, to_advisers, flt, on)
    on = p.on
    actions = 0
    for target in p.targets:
        actions += _move(conn, clock, actor, [m.claim_id for m in p.shares[target.id]], from_adviser, target, on,
                         reason)
    result = ReassignResult(from_adviser, on, {t: len(cs) for t, cs in p.shares.items()}, actions)
    record(conn, clock, actor, "reassign", "staff", from_adviser, "caseload", None,
           f"{result.total} claims ({flt.describe()}) on {on.isoformat()} to "
           + ", ".join(f"{t} {n}" for t, n in result.shares.items()) + f": {reason}")
    return result


# ---------------------------------------------------------------------------------------------
# Cover


@dataclass(frozen=True)
class CoverRow:
    id: int
    adviser_id: str
    adviser_name: str
    cover_id: str
    cover_name: str
    from_date: dt.date
    to_date: dt.date
    reason: str
    ended_at: dt.datetime | None

    def describe(self) -> str:
        ended = f" (ended {self.ended_at:%Y-%m-%d})" if self.ended_at else ""
        why = f": {self.reason}" if self.reason else ""
        return (f"{self.cover_name or self.cover_id} ({self.cover_id}) covers {self.adviser_name or self.adviser_id} "
                f"({self.adviser_id}) from {self.from_date.isoformat()} to {self.to_date.isoformat()}{ended}{why}")


def _cover_rows(conn: Connection, *where) -> list[CoverRow]:  # noqa: ANN002
    cv, st = schema.Cover.__table__, schema.Staff.__table__
    held, by = st.alias("held"), st.alias("by")
    rows = conn.execute(
        select(cv, held.c.name.label("adviser_name"), by.c.name.label("cover_name"))
        .select_from(cv.join(held, held.c.id == cv.c.adviser_id).join(by, by.c.id == cv.c.cover_id))
        .where(*where).order_by(cv.c.from_date, cv.c.id)
    ).all()
    return [CoverRow(r.id, r.adviser_id, r.adviser_name or "", r.cover_id, r.cover_name or "", r.from_date,
                     r.to_date, r.reason or "", r.ended_at) for r in rows]


def add_cover(conn: Connection, clock: Clock, actor: Actor, adviser_id: str, cover_id: str, from_date: dt.date,
              to_date: dt.date, reason: str = "") -> int:
    """`cover_id` sees `adviser_id`'s caseload from `from_date` to `to_date` (both included)."""
    _manager(actor, "arrange cover")
    adviser = _scoped_staff(conn, actor, adviser_id, "arrange cover")
    colleague = _staff(conn, cover_id)
    if colleague.id == adviser.id:
        raise StoreError("An adviser does not cover their own caseload: name a colleague.")
    if not colleague.active:
        raise StoreError(f"{colleague.name or cover_id} ({cover_id}) is not an active member of staff.")
    if adviser.office_id is not None and colleague.office_id != adviser.office_id:
        raise StoreError(f"{colleague.name or cover_id} ({cover_id}) works in another office; cover is by a colleague "
                         "in the same office.")
    if to_date < from_date:
        raise StoreError(f"The cover ends ({to_date.isoformat()}) before it starts ({from_date.isoformat()}).")
    if to_date < clock.today():
        raise StoreError(f"The cover would end on {to_date.isoformat()}, before today: there is nothing to cover.")
    cv = schema.Cover.__table__
    overlap = _cover_rows(conn, cv.c.adviser_id == adviser_id, cv.c.cover_id == cover_id, cv.c.ended_at.is_(None),
                          cv.c.from_date <= to_date, cv.c.to_date >= from_date)
    if overlap:
        raise StoreError(f"Already arranged: {overlap[0].describe()} (cover {overlap[0].id}). End it first "
                         f"(caseload cover end {overlap[0].id}) to change the dates.")
    reason = (reason or "").strip()
    cover_row = conn.execute(cv.insert().values(
        adviser_id=adviser_id, cover_id=cover_id, from_date=from_date, to_date=to_date, reason=reason,
        created_by=actor.id, created_at=clock.now())).inserted_primary_key[0]
    record(conn, clock, actor, "add", "cover", str(cover_row), None, None,
           f"{cover_id} covers {adviser_id} from {from_date.isoformat()} to {to_date.isoformat()}"
           + (f": {reason}" if reason else ""))
    return int(cover_row)


def end_cover(conn: Connection, clock: Clock, actor: Actor, cover_row: int) -> CoverRow:
    """Cancel a cover from now on (it stays listed, ended)."""
    _manager(actor, "end cover")
    cv = schema.Cover.__table__
    found = _cover_rows(conn, cv.c.id == cover_row)
    if not found:
        raise StoreError(f"There is no cover {cover_row}; `caseload cover list` shows them.")
    row = found[0]
    _scoped_staff(conn, actor, row.adviser_id, "end cover")
    if row.ended_at is not None:
        raise StoreError(f"Cover {cover_row} was already ended on {row.ended_at:%Y-%m-%d}.")
    now = clock.now()
    conn.execute(cv.update().where(cv.c.id == cover_row).values(ended_at=now, ended_by=actor.id))
    record(conn, clock, actor, "end", "cover", str(cover_row), "ended_at", None, now)
    return _cover_rows(conn, cv.c.id == cover_row)[0]


def covers_for(conn: Connection, staff_id: str, on_date: dt.date) -> list[CoverRow]:
    """The caseloads `staff_id` covers on that day."""
    cv = schema.Cover.__table__
    return _cover_rows(conn, cv.c.cover_id == staff_id, cv.c.ended_at.is_(None), cv.c.from_date <= on_date,
                       cv.c.to_date >= on_date)


def list_covers(conn: Connection, actor: Actor, today: dt.date, include_past: bool = False) -> list[CoverRow]:
    """Covers of advisers in the actor's scope, and those the actor gives or gets: current and coming
    ones, or every one with include_past."""
    cv, st = schema.Cover.__table__, schema.Staff.__table__
    where = [] if include_past else [cv.c.ended_at.is_(None), cv.c.to_date >= today]
    if not actor.is_admin:
        held = select(st.c.id)
        if actor.role is Role.TEAM_LEADER:
            held = held.where(st.c.office_id == actor.office_id)
        elif actor.role is Role.TEAM_MANAGER:
            held = held.where(st.c.team_id == actor.team_id)
        else:
            held = held.where(st.c.id == actor.id)
        where.append(or_(cv.c.adviser_id.in_(held), cv.c.cover_id == actor.id))
    return _cover_rows(conn, *where)


# ---------------------------------------------------------------------------------------------
# Extracts that disagree with a local reassignment


def hold_local_reassignments(conn: Connection, batch_id: int, at: dt.datetime, actor_id: str) -> int:
    """Called by the importer once the extract is staged and its advisers known, before holders are
    written. For claims whose current holder is a local reassignment no extract has named yet: an
    extract naming that holder confirms it (and resolves the claim's open conflicts); one naming
    another records an open conflict (superseding the claim's earlier one) and the staged holder is
    put back to the local one, so the import changes every fact but the holder. Returns how many
    claims disagree."""
    p = {"batch": batch_id, "at": at, "actor": actor_id}
    at_type = schema.AuditEntry.__table__.c.at.type  # bound as the audit's own column type, on every backend
    run = lambda sql: conn.execute(  # noqa: E731
        sa_text(sql).bindparams(*([bindparam("at", type_=at_type)] if ":at" in sql else [])), p)
    conn.exec_driver_sql("DROP TABLE IF EXISTS reassign_held")
    run("CREATE TEMPORARY TABLE reassign_held AS SELECT s.line AS line, s.claim_id AS claim_id, "
        "s.adviser_id AS extract_adviser, c.adviser_id AS local_adviser, "
        "CASE WHEN s.adviser_id = c.adviser_id THEN 1 ELSE 0 END AS agrees "
        "FROM assignment a JOIN import_staging s ON s.claim_id = a.claim_id JOIN claim c ON c.id = a.claim_id "
        f"WHERE a.{schema.UNCONFIRMED.replace(' AND ', ' AND a.')}")
    disagree = run("SELECT COUNT(*) FROM reassign_held WHERE agrees = 0").scalar_one()
    close = ("UPDATE assignment_conflict SET resolved_at = :at, resolved_by = :actor, resolution = '{}' "
             "WHERE resolved_at IS NULL AND claim_id IN (SELECT h.claim_id FROM reassign_held h WHERE h.agrees = {})")
    run(close.format("a later extract names the same holder", 1))
    run("UPDATE assignment SET batch_id = :batch WHERE to_date IS NULL AND reason = 'reassigned' AND batch_id IS NULL "
        "AND claim_id IN (SELECT h.claim_id FROM reassign_held h WHERE h.agrees = 1)")
    if disagree:
        run(close.format("reported again by a later extract", 0))
        run("INSERT INTO assignment_conflict (claim_id, batch_id, extract_adviser_id, local_adviser_id, reported_at) "
            "SELECT h.claim_id, :batch, h.extract_adviser, h.local_adviser, :at FROM reassign_held h "
            "WHERE h.agrees = 0")
        run("INSERT INTO audit (at, actor, action, entity, entity_id, field, old, new) "
            "SELECT :at, :actor, 'conflict', 'claim', h.claim_id, 'adviser_id', h.local_adviser, h.extract_adviser "
            "FROM reassign_held h WHERE h.agrees = 0")
        # The line's fingerprint goes too: the claim does not stand as the line gives it.
        run("UPDATE import_staging SET row_hash = NULL, adviser_id = (SELECT h.local_adviser FROM reassign_held h "
            "WHERE h.line = import_staging.line) WHERE line IN (SELECT h.line FROM reassign_held h WHERE h.agrees = 0)")
    conn.exec_driver_sql("DROP TABLE reassign_held")
    return int(disagree)


@dataclass(frozen=True)
class ConflictRow:
    id: int
    claim_id: str
    customer: str
    as_at: dt.date  # the extract's
    batch_id: int
    extract_adviser: str
    local_adviser: str
    reported_at: dt.datetime
    resolution: str | None


def list_conflicts(conn: Connection, actor: Actor, open_only: bool = True) -> list[ConflictRow]:
    """Conflicts on claims the actor may see, oldest first."""
    k, c, cu, b = (schema.AssignmentConflict.__table__, schema.Claim.__table__, schema.Customer.__table__,
                   schema.ImportBatch.__table__)
    where = [actor.claim_filter(c)] + ([k.c.resolved_at.is_(None)] if open_only else [])
    rows = conn.execute(
        select(k, cu.c.name, b.c.as_at)
        .select_from(k.join(c, c.c.id == k.c.claim_id).join(cu, cu.c.id == c.c.customer_id)
                     .join(b, b.c.id == k.c.batch_id))
        .where(*where).order_by(k.c.id)
    ).all()
    return [ConflictRow(r.id, r.claim_id, r.name or "", r.as_at, r.batch_id, r.extract_adviser_id, r.local_adviser_id,
                        r.reported_at, r.resolution) for r in rows]


def resolve_conflict(conn: Connection, clock: Clock, actor: Actor, conflict_id: int, take_extract: bool) -> str:
    """Keep the local holder, or move the claim to the extract's (dated today). Returns the resolution."""
    _manager(actor, "resolve a conflict with an extract")
    found = [r for r in list_conflicts(conn, actor, open_only=False) if r.id == conflict_id]
    if not found:
        raise StoreError(f"There is no conflict {conflict_id} on a claim you can see; "
                         "`caseload reassign conflicts` lists them.")
    row = found[0]
    if row.resolution is not None:
        raise StoreError(f"Conflict {conflict_id} is already resolved: {row.resolution}.")
    if take_extract:
        target = _scoped_staff(conn, actor, row.extract_adviser, "move claims")
        _move(conn, clock, actor, [row.claim_id], row.local_adviser, target, clock.today(),
              f"the extract as at {row.as_at.isoformat()}", reason="extract", batch_id=row.batch_id)
        resolution = f"took the extract's holder {row.extract_adviser}"
    else:
        resolution = f"kept the local holder {row.local_adviser}"
    k = schema.AssignmentConflict.__table__
    conn.execute(k.update().where(k.c.id == conflict_id).values(resolved_at=clock.now(), resolved_by=actor.id,
                                                                resolution=resolution))
    record(conn, clock, actor, "resolve", "assignment_conflict", str(conflict_id), "resolution", None, resolution)
    return resolution


def open_conflict_count(conn: Connection, actor: Actor) -> int:
    k, c = schema.AssignmentConflict.__table__, schema.Claim.__table__
    return int(conn.execute(select(func.count()).select_from(k.join(c, c.c.id == k.c.claim_id))
                            .where(k.c.resolved_at.is_(None), actor.claim_filter(c))).scalar_one())
