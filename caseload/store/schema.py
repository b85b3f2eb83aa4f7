"""The tables as they are now. The schema's versions are the frozen revisions in store/migrations (a change
here needs a new revision there: tests/test_migrations.py compares the two).

Dates are stored twice on claims: as a DATE for people reading the database, and as an
integer day number (days since 1970-01-01) so that durations and gaps are plain integer
subtraction on SQLite and PostgreSQL alike, with no dialect-specific date functions.
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from sqlalchemy import Column, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

EPOCH = dt.date(1970, 1, 1)


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def from_day_number(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=n)


# A current holder from a local reassignment that no extract has named yet (the partial index on assignment).
UNCONFIRMED = "reason = 'reassigned' AND to_date IS NULL AND batch_id IS NULL"


def _partial(name: str, column: str, where: str) -> Index:
    """An index of the rows meeting `where` only, on SQLite and PostgreSQL alike."""
    return Index(name, column, sqlite_where=text(where), postgresql_where=text(where))


class SchemaInfo(SQLModel, table=True):
    __tablename__ = "schema_info"
    id: int = Field(default=1, primary_key=True)
    version: int
    upgraded_at: dt.datetime


class Office(SQLModel, table=True):
    __tablename__ = "office"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(unique=True)


class Team(SQLModel, table=True):
    __tablename__ = "team"
    __table_args__ = (UniqueConstraint("office_id", "name"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    name: str


class Staff(SQLModel, table=True):
    __tablename__ = "staff"
    __table_args__ = (Index("ix_staff_login", "login", unique=True),)
    id: str = Field(primary_key=True)
    name: str = ""
    role: str = "adviser"  # adviser | team_manager | team_leader
    team_id: Optional[int] = Field(default=None, foreign_key="team.id", index=True)
    office_id: Optional[int] = Field(default=None, foreign_key="office.id", index=True)
    active: bool = True
    version: int = 1
    # Version 6: the PostgreSQL login role this person connects as (unique; NULL for none). store/logins.py.
    login: Optional[str] = None


class Customer(SQLModel, table=True):
    __tablename__ = "customer"
    # Erased customers: few, and every import blanks their personal columns in its staging table.
    __table_args__ = (_partial("ix_customer_erased", "id", "erased_at IS NOT NULL"),)
    id: str = Field(primary_key=True)
    name: Optional[str] = None
    date_of_birth: Optional[dt.date] = None
    nino: Optional[str] = None
    sex: Optional[str] = None
    disability: Optional[str] = None
    ethnicity: Optional[str] = None
    version: int = 1
    erased_at: Optional[dt.datetime] = None  # version 5: personal details erased (store/erase.py)


class ImportBatch(SQLModel, table=True):
    __tablename__ = "import_batch"
    id: Optional[int] = Field(default=None, primary_key=True)
    file_name: str
    sha256: str = Field(index=True)
    as_at: dt.date
    imported_at: dt.datetime
    imported_by: str
    rows_read: int = 0
    rows_rejected: int = 0
    claims_added: int = 0
    claims_updated: int = 0
    transfers: int = 0
    partial: bool = False


class Claim(SQLModel, table=True):
    __tablename__ = "claim"
    __table_args__ = (
        Index("ix_claim_customer_start", "customer_id", "start_day"),
        Index("ix_claim_adviser_open", "adviser_id", "end_day"),
        Index("ix_claim_onflow_team_start", "onflow_team_id", "start_day"),
        Index("ix_claim_team_start", "team_id", "start_day"),
    )
    id: str = Field(primary_key=True)
    customer_id: str = Field(foreign_key="customer.id")
    benefit: str
    claim_start: dt.date
    claim_end: Optional[dt.date] = None
    end_reason: Optional[str] = None
    start_day: int
    end_day: Optional[int] = None
    # Holder when the claim first arrived (on-flow attribution) and holder now.
    onflow_adviser_id: str = Field(foreign_key="staff.id")
    onflow_team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    onflow_office_id: Optional[int] = Field(default=None, foreign_key="office.id")
    adviser_id: str = Field(foreign_key="staff.id")
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    office_id: Optional[int] = Field(default=None, foreign_key="office.id")
    first_batch_id: Optional[int] = Field(default=None, foreign_key="import_batch.id")
    last_batch_id: Optional[int] = Field(default=None, foreign_key="import_batch.id")
    version: int = 1
    # The fingerprint (8 bytes of BLAKE2b, keyed by the header) of the extract line this claim and its customer
    # stand as, in full; the next extract's identical line is then known unchanged without being checked.
    # NULL when that is not known: a local change to the claim, or its customer changed since (importer.py).
    extract_hash: Optional[bytes] = Field(default=None, sa_type=LargeBinary)


class Assignment(SQLModel, table=True):
    """Who held a claim from when to when. The open row (to_date NULL) is the current holder."""

    __tablename__ = "assignment"
    # Local reassignments no extract has confirmed yet: few, and looked up by every import.
    __table_args__ = (Index("ix_assignment_claim", "claim_id", "from_date"),
                      _partial("ix_assignment_unconfirmed", "claim_id", UNCONFIRMED))
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id")
    adviser_id: str = Field(foreign_key="staff.id", index=True)
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")
    from_date: dt.date
    to_date: Optional[dt.date] = None
    batch_id: Optional[int] = Field(default=None, foreign_key="import_batch.id")
    reason: str = "extract"  # extract | reassigned (a local reassignment: store.reassign)
    # Version 5: who reassigned it locally, and why. A local reassignment's batch_id stays NULL until an
    # extract names the same holder (it is then confirmed, and later extracts are the truth again).
    assigned_by: Optional[str] = None
    note: Optional[str] = Field(default=None, sa_column=Column(Text))


class Setting(SQLModel, table=True):
    """Settings that change figures: shared by everyone on one database."""

    __tablename__ = "setting"
    key: str = Field(primary_key=True)
    value: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    version: int = 1


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    field: Optional[str] = None
    old: Optional[str] = Field(default=None, sa_column=Column(Text))
    new: Optional[str] = Field(default=None, sa_column=Column(Text))


# Version 2: what advisers record about a claim.


class RagRating(SQLModel, table=True):
    """A red-amber-green rating. History is kept: the latest row per claim is the current rating."""

    __tablename__ = "rag_rating"
    __table_args__ = (Index("ix_rag_claim", "claim_id", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id")
    rating: str  # R | A | G
    reason: str = Field(sa_column=Column(Text, nullable=False))
    set_by: str
    set_at: dt.datetime
    set_on: dt.date
    set_day: int
    next_review: dt.date
    next_review_day: int
    source: str = "adviser"  # adviser | conference


class Note(SQLModel, table=True):
    __tablename__ = "note"
    __table_args__ = (Index("ix_note_claim", "claim_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id")
    body: str = Field(sa_column=Column(Text, nullable=False))
    author: str
    written_at: dt.datetime
    status: str = "active"  # active | withdrawn
    change_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    changed_at: Optional[dt.datetime] = None
    version: int = 1


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_claim", "claim_id", "contact_day"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id")
    contact_on: dt.date
    contact_day: int
    kind: str  # appointment | phone | group_session | job_search_review | decision_maker_referral
    attended: bool = True
    recorded_by: str
    recorded_at: dt.datetime
    status: str = "active"
    change_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    changed_at: Optional[dt.datetime] = None
    version: int = 1


class Action(SQLModel, table=True):
    __tablename__ = "action"
    __table_args__ = (Index("ix_action_claim", "claim_id"), Index("ix_action_owner", "owner", "status"))
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id")
    description: str = Field(sa_column=Column(Text, nullable=False))
    owner: str = Field(foreign_key="staff.id")
    due_on: dt.date
    due_day: int
    created_by: str
    created_at: dt.datetime
    status: str = "open"  # open | done | withdrawn
    done_on: Optional[dt.date] = None
    done_by: Optional[str] = None
    change_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    changed_at: Optional[dt.datetime] = None
    version: int = 1
    # Version 3: an action set at a caseload conference names it, and is carried to the next until done.
    conference_id: Optional[int] = Field(default=None, foreign_key="conference.id")
    conference_item_id: Optional[int] = Field(default=None, foreign_key="conference_item.id")


class Destination(SQLModel, table=True):
    """A destination an adviser confirmed for an ended claim, kept beside the extract's reason."""

    __tablename__ = "destination"
    __table_args__ = (Index("ix_destination_claim", "claim_id", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id")
    code: str
    source: str  # customer | employer | central_system | other
    confirmed_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime


class ClaimState(SQLModel, table=True):
    """The current state of a claim's records, kept by store.records in the same transaction as each edit.

    Derived, so it can always be rebuilt from the history (store.records.refresh_state); a test
    holds it equal to a full recomputation. It makes the caseload a plain join, filterable and
    sortable in SQL.
    """

    __tablename__ = "claim_state"
    claim_id: str = Field(foreign_key="claim.id", primary_key=True)
    rag: Optional[str] = None
    rated_on: Optional[dt.date] = None
    rated_day: Optional[int] = None
    next_review: Optional[dt.date] = None
    next_review_day: Optional[int] = None
    red_since_day: Optional[int] = None
    last_contact_on: Optional[dt.date] = None
    last_contact_day: Optional[int] = None
    next_action: Optional[str] = Field(default=None, sa_column=Column(Text))
    next_action_due: Optional[dt.date] = None
    next_action_day: Optional[int] = None
    # Version 3, from discussed conference items (of finished and unfinished conferences alike).
    last_conference_on: Optional[dt.date] = None
    last_conference_day: Optional[int] = None
    expected_offflow: Optional[dt.date] = None  # the last discussion's estimate; NULL for "don't know"
    last_plan_day: Optional[int] = None  # the last discussed item with a plan


# Version 3: the caseload conference.


class Conference(SQLModel, table=True):
    """One team manager (or team leader), one adviser, one date. Resumable: `position` is the item it is at."""

    __tablename__ = "conference"
    __table_args__ = (
        UniqueConstraint("adviser_id", "held_on"),
        Index("ix_conference_adviser_day", "adviser_id", "held_day"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    manager_id: str  # who ran it: a staff id, or "admin" (like rag_rating.set_by)
    adviser_id: str = Field(foreign_key="staff.id")
    team_id: Optional[int] = Field(default=None, foreign_key="team.id")  # the adviser's team on the day
    held_on: dt.date
    held_day: int
    status: str = "in_progress"  # in_progress | finished
    position: int = 0  # the item the conference is at (0-based, in item order)
    started_at: dt.datetime
    finished_at: Optional[dt.datetime] = None
    attendees: Optional[str] = Field(default=None, sa_column=Column(Text))
    version: int = 1


class ConferenceItem(SQLModel, table=True):
    """One customer (claim) on a conference's agenda, and what was recorded for it."""

    __tablename__ = "conference_item"
    __table_args__ = (
        UniqueConstraint("conference_id", "claim_id"),
        Index("ix_conference_item_claim", "claim_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id")
    claim_id: str = Field(foreign_key="claim.id")
    position: int
    reasons: str = Field(sa_column=Column(Text, nullable=False))  # e.g. "approaching 13w; open action"
    status: str = "pending"  # pending | discussed | skipped
    skip_reason: Optional[str] = Field(default=None, sa_column=Column(Text))
    done_so_far: Optional[str] = Field(default=None, sa_column=Column(Text))
    plan: Optional[str] = Field(default=None, sa_column=Column(Text))
    expected_offflow: Optional[dt.date] = None
    expected_offflow_day: Optional[int] = None
    expected_offflow_unknown: bool = False
    offflow_note: Optional[str] = Field(default=None, sa_column=Column(Text))
    rag_review: Optional[str] = None  # confirm | change | NULL (not reviewed: an ended claim)
    rag_before: Optional[str] = None
    rag_rating_id: Optional[int] = Field(default=None, foreign_key="rag_rating.id")
    version: int = 1
    updated_at: Optional[dt.datetime] = None


class ConferenceActionReview(SQLModel, table=True):
    """What a conference item decided about an action set at an earlier conference: done, or carried."""

    __tablename__ = "conference_action_review"
    __table_args__ = (UniqueConstraint("conference_item_id", "action_id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    conference_item_id: int = Field(foreign_key="conference_item.id", index=True)
    action_id: int = Field(foreign_key="action.id", index=True)
    outcome: str  # done | carried


# Version 4: cohort summaries behind the team view and the off-flow export, and context notes.
# The summaries are derived data kept by store.summary in the same transaction as every change to
# the claims and destinations they count, and rebuildable from them at any time (a property test
# holds them equal to a full recomputation). Team and office keys are 0 where the claim has none,
# because a primary key column cannot be NULL. Their columns are many and regular, so they are
# plain tables rather than models.


class CohortSegment(SQLModel, table=True):
    """A calendar helper: the segment of each day. A segment is where a calendar month and a
    reporting month overlap, so every cohort period of every kind (calendar month, reporting month,
    quarter, year) is a run of whole segments."""

    __tablename__ = "cohort_segment"
    __table_args__ = ({"sqlite_with_rowid": False},)
    day: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    seg_day: int
    seg_end: int


# The milestones (weeks) the summaries count off-flows at; a roll-up at others scans the claims.
SUMMARY_WEEKS: tuple[int, ...] = (13, 26, 52, 65)
# Per milestone N: off-flows by N weeks, by destination category (confirmed, else the extract's), and OPtE.
SUMMARY_MEASURES: tuple[str, ...] = (
    "off", "employment", "other_benefit", "education", "other", "other_known", "sanction", "failed_to_sign",
    "not_known", "opte",
)


def _summary_columns() -> list[Column]:
    cols = [Column("n", Integer, nullable=False), Column("confirmed", Integer, nullable=False)]
    cols += [Column(f"{m}_{w}", Integer, nullable=False) for w in SUMMARY_WEEKS for m in SUMMARY_MEASURES]
    return cols


# Claims per on-flow team, cohort segment, on-flow adviser and benefit: how many (n), how many have a
# confirmed destination, and per summary milestone the off-flows by then with their destinations.
CohortSummaryTable = Table(
    "cohort_summary", SQLModel.metadata,
    Column("team_key", Integer, primary_key=True, autoincrement=False),
    Column("seg_day", Integer, primary_key=True, autoincrement=False),
    Column("office_key", Integer, primary_key=True, autoincrement=False),
    Column("adviser_id", String, primary_key=True),
    Column("benefit", String, primary_key=True),
    *_summary_columns(),
    sqlite_with_rowid=False,
)

# cohort_summary added up over advisers and ordered by segment first, so a whole office's or
# district's cohorts are one short range of it.
CohortSummaryTeamTable = Table(
    "cohort_summary_team", SQLModel.metadata,
    Column("seg_day", Integer, primary_key=True, autoincrement=False),
    Column("office_key", Integer, primary_key=True, autoincrement=False),
    Column("team_key", Integer, primary_key=True, autoincrement=False),
    Column("benefit", String, primary_key=True),
    *_summary_columns(),
    sqlite_with_rowid=False,
)

# Claims started per day, on-flow team and benefit: how many members of a cohort have not yet reached
# a milestone, in the one cohort period each milestone's cut-off day falls inside.
CohortStartTable = Table(
    "cohort_start", SQLModel.metadata,
    Column("start_day", Integer, primary_key=True, autoincrement=False),
    Column("office_key", Integer, primary_key=True, autoincrement=False),
    Column("team_key", Integer, primary_key=True, autoincrement=False),
    Column("benefit", String, primary_key=True),
    Column("n", Integer, nullable=False),
    sqlite_with_rowid=False,
)


class SummaryInfo(SQLModel, table=True):
    """What the summaries were last brought up to date with: an off-flow query uses them only when
    they match the latest import, its rule set and its milestones."""

    __tablename__ = "summary_info"
    id: int = Field(default=1, primary_key=True)
    batch_id: Optional[int] = None
    rule_set: str
    weeks: str  # the summary milestones, comma-separated


class ContextNote(SQLModel, table=True):
    """A free-text note per office and cohort period (local labour market, staffing), shown beside
    the figures and carried into exports. One current text per period; the audit keeps the old ones."""

    __tablename__ = "context_note"
    __table_args__ = (UniqueConstraint("office_id", "cohort_kind", "period_label"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    cohort_kind: str
    period_label: str
    text: str = Field(sa_column=Column(Text, nullable=False))
    author: str
    at: dt.datetime
    version: int = 1


# Version 5: temporary cover, and extracts that disagree with a local reassignment (store.reassign).


class Cover(SQLModel, table=True):
    """An adviser's caseload visible to a colleague between two dates (inclusive), the holder unchanged.
    Ending it early (ended_at) cancels it."""

    __tablename__ = "cover"
    __table_args__ = (Index("ix_cover_colleague", "cover_id", "from_date"), Index("ix_cover_adviser", "adviser_id"))
    id: Optional[int] = Field(default=None, primary_key=True)
    adviser_id: str = Field(foreign_key="staff.id")  # whose caseload is covered
    cover_id: str = Field(foreign_key="staff.id")  # the colleague who covers it
    from_date: dt.date
    to_date: dt.date
    reason: str = Field(default="", sa_column=Column(Text, nullable=False))
    created_by: str
    created_at: dt.datetime
    ended_at: Optional[dt.datetime] = None
    ended_by: Optional[str] = None


class AssignmentConflict(SQLModel, table=True):
    """An extract named another holder for a claim while a local reassignment was in force: reported, not
    applied. Open until resolved (the local holder kept, the extract's taken, or a later extract agreeing)."""

    __tablename__ = "assignment_conflict"
    __table_args__ = (Index("ix_assignment_conflict_claim", "claim_id", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    claim_id: str = Field(foreign_key="claim.id")
    batch_id: int = Field(foreign_key="import_batch.id")
    extract_adviser_id: str = Field(foreign_key="staff.id")
    local_adviser_id: str = Field(foreign_key="staff.id")
    reported_at: dt.datetime
    resolved_at: Optional[dt.datetime] = None
    resolved_by: Optional[str] = None
    resolution: Optional[str] = Field(default=None, sa_column=Column(Text))



# The schema version this caseload creates and opens: store/migrations' newest revision (a test holds them equal).
# Version 6 added staff.login; on PostgreSQL versions 6 and 7 install the group roles, their grants and row-level
# security (store/policies.py); version 7 has no DDL of its own.
SCHEMA_VERSION = 9
