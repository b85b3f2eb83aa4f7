"""The caseload: one row per open claim with its runway, RAG, contacts, actions and flags.

Filtering, sorting and paging run in SQL with bound parameters; the flags are SQL
expressions over integer day numbers (DOMAIN.md sections 3 and 7), tested against the
pure rules in measures/.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection, and_, case, exists, func, literal, or_, select

from caseload.measures.clock import APPROACHING_DAYS, JUST_PASSED_DAYS, RED_PLAN_DAYS
from caseload.measures.people import mask_nino
from caseload.store import schema
from caseload.store.access import Actor, Role, covers
from caseload.store.errors import AccessDenied, StoreError

FLAGS = ("approaching", "just passed", "review due", "red no plan", "beyond 52", "churn")
# How the caseload shows each flag; the filter finds a flag by the word shown as well as by its name.
FLAG_WORDS = {
    "approaching": "appr",
    "just passed": "passed",
    "review due": "review",
    "red no plan": "red!",
    "beyond 52": "52+",
    "churn": "churn",
}
QUICK_FILTERS = ("all", "approaching", "red", "review due", "beyond 52")
SORTS = ("urgency", "customer", "benefit", "start", "weeks", "milestone", "rag", "contact", "action", "conference")
MILESTONE_WEEKS = (13, 26, 52)


@dataclass(frozen=True)
class CaseloadQuery:
    adviser_id: str | None = None  # None: every open claim the actor may see
    text: str = ""
    quick: str = "all"
    sort: str = "urgency"
    descending: bool = False
    offset: int = 0
    limit: int = 200


@dataclass(frozen=True)
class CaseloadRow:
    claim_id: str
    customer_id: str
    customer_name: str
    nino: str  # masked to its last 3 characters
    benefit: str
    claim_start: dt.date
    weeks: int
    next_milestone: int | None
    days_to_milestone: int | None
    rag: str | None
    rag_set_on: dt.date | None
    next_review: dt.date | None
    last_contact: dt.date | None
    next_action: str | None
    next_action_due: dt.date | None
    last_conference: dt.date | None
    expected_offflow: dt.date | None
    flags: tuple[str, ...]
    adviser_id: str

    @property
    def runway(self) -> str:
        """A compact runway such as `13w in 9d`; `52w+` once past the last milestone."""
        if self.next_milestone is None:
            return "52w+"
        return f"{self.next_milestone}w in {self.days_to_milestone}d"


@dataclass(frozen=True)
class CaseloadSummary:
    size: int
    red: int
    amber: int
    green: int
    unrated: int
    approaching: dict[int, int] = field(default_factory=dict)
    beyond_52: int = 0


@dataclass(frozen=True)
class CaseloadPage:
    rows: list[CaseloadRow]
    total: int  # rows matching the filter, over all pages
    summary: CaseloadSummary


def claim_columns(as_at: dt.date, approaching_days: int = APPROACHING_DAYS):  # noqa: ANN202
    """The derived columns of every caseload row, as SQL expressions over claim and claim_state."""
    c = schema.Claim.__table__.c
    st = schema.ClaimState.__table__.c
    D = schema.day_number(as_at)
    s = c.start_day
    next_ms = case(*[(s + 7 * w >= D, literal(w)) for w in MILESTONE_WEEKS], else_=None)
    days_to = case(*[(s + 7 * w >= D, s + 7 * w - D) for w in MILESTONE_WEEKS], else_=None)
    passed_day = case(*[(and_(D - (s + 7 * w) >= 1, D - (s + 7 * w) <= JUST_PASSED_DAYS), s + 7 * w)
                        for w in MILESTONE_WEEKS], else_=None)
    last_passed = case(*[(s + 7 * w <= D, s + 7 * w) for w in reversed(MILESTONE_WEEKS)], else_=None)
    n = schema.Claim.__table__.alias("prev")
    # The plan update (DOMAIN 7): the later of the day Red was set and the last conference item with a plan.
    plan_update = case((and_(st.last_plan_day.is_not(None), st.last_plan_day > st.red_since_day), st.last_plan_day),
                       else_=st.red_since_day)
    flags = {
        "approaching": and_(days_to >= 0, days_to <= approaching_days),
        # Reviewed since the milestone (on its day counts) by a RAG rating or a discussed conference item.
        "just passed": and_(passed_day.is_not(None),
                            or_(st.rated_day.is_(None), st.rated_day < passed_day),
                            or_(st.last_conference_day.is_(None), st.last_conference_day < passed_day)),
        "review due": or_(st.rated_day.is_(None), st.next_review_day <= D,
                          and_(last_passed.is_not(None), st.rated_day < last_passed)),
        "red no plan": and_(st.rag == "R", or_(plan_update.is_(None), D - plan_update > RED_PLAN_DAYS)),
        "beyond 52": D - s >= 365,
        "churn": exists().where(
            n.c.customer_id == c.customer_id, n.c.id != c.id, n.c.end_day.is_not(None),
            s - n.c.end_day >= 0, s - n.c.end_day <= 91,
        ),
    }
    cols = {
        "next_ms": next_ms, "days_to": days_to, "rag": st.rag, "rated_on": st.rated_on,
        "review_on": st.next_review, "contact_on": st.last_contact_on, "contact_day": st.last_contact_day,
        "action_text": st.next_action, "action_due": st.next_action_due, "action_day": st.next_action_day,
        "conference_on": st.last_conference_on, "conference_day": st.last_conference_day,
        "expected_on": st.expected_offflow,
    }
    return cols, flags


def _state():  # noqa: ANN202
    return schema.ClaimState.__table__


def base_where(actor: Actor, q: CaseloadQuery, as_at: dt.date) -> list:
    c = schema.Claim.__table__
    where = [c.c.end_day.is_(None), c.c.start_day <= schema.day_number(as_at), actor.claim_filter(c)]
    if q.adviser_id:
        where.append(c.c.adviser_id == q.adviser_id)
    return where


def _text_terms(text: str, flags: dict) -> list:
    """Every word must match: a name, an id, the end of an NI number, or a flag."""
    c, cu = schema.Claim.__table__.c, schema.Customer.__table__.c
    out = []
    for typed in text.lower().split():
        # A flag word as shown ("red!", "52+") finds what the word without its mark finds, and the flag.
        word = typed.rstrip("!+") or typed
        like = f"%{word}%"
        options = [func.lower(cu.name).like(like), func.lower(c.id).like(like), func.lower(c.customer_id).like(like),
                   func.lower(cu.nino).like(f"%{word}")]
        for name, cond in flags.items():
            shown = FLAG_WORDS[name]
            if (len(word) >= 3 and name.replace(" ", "").startswith(word.replace("-", ""))) \
                    or typed == shown or (len(typed) >= 3 and shown.startswith(typed)):
                options.append(cond)
        out.append(or_(*options))
    return out


def _quick(q: CaseloadQuery, flags: dict, cols: dict) -> list:
    if q.quick == "all":
        return []
    if q.quick == "red":
        return [cols["rag"] == "R"]
    if q.quick in flags:
        return [flags[q.quick]]
    raise StoreError(f"Unknown quick filter {q.quick!r}; use one of {', '.join(QUICK_FILTERS)}.")


def caseload(conn: Connection, actor: Actor, as_at: dt.date, q: CaseloadQuery,
             approaching_days: int = APPROACHING_DAYS) -> CaseloadPage:
    if q.adviser_id and actor.role is Role.ADVISER and q.adviser_id != actor.id and not covers(conn, actor, q.adviser_id):
        raise AccessDenied("An adviser sees their own caseload only, and those they cover.")
    if q.sort not in SORTS:
        raise StoreError(f"Unknown sort {q.sort!r}; use one of {', '.join(SORTS)}.")
    t, cu = schema.Claim.__table__, schema.Customer.__table__
    c = t.c
    cols, flags = claim_columns(as_at, approaching_days)
    where = base_where(actor, q, as_at) + _quick(q, flags, cols) + _text_terms(q.text, flags)
    frm = t.join(cu, cu.c.id == c.customer_id).outerjoin(_state(), _state().c.claim_id == c.id)
    total = conn.execute(select(func.count()).select_from(frm).where(*where)).scalar_one()
    D = schema.day_number(as_at)
    rag_rank = case((cols["rag"] == "R", 0), (cols["rag"] == "A", 1), (cols["rag"] == "G", 2), else_=None)
    keys = {
        "urgency": [cols["days_to"], case((flags["review due"], 0), else_=1), c.start_day],
        "customer": [func.lower(cu.c.name)],
        "benefit": [c.benefit],
        "start": [c.start_day],
        "weeks": [D - c.start_day],
        "milestone": [cols["days_to"]],
        "rag": [rag_rank],
        "contact": [cols["contact_day"]],
        "action": [cols["action_day"]],
        "conference": [cols["conference_day"]],
    }[q.sort]
    # Blanks (no milestone left, never rated, no contact) sort last either way round.
    order = [(k.desc() if q.descending else k.asc()).nulls_last() for k in keys] + [c.id]
    stmt = (
        select(
            c.id, c.customer_id, cu.c.name, cu.c.nino, c.benefit, c.claim_start, c.start_day, c.adviser_id,
            *[v.label(k) for k, v in cols.items()],
            *[v.label("f_" + k.replace(" ", "_")) for k, v in flags.items()],
        )
        .select_from(frm).where(*where).order_by(*order).offset(max(0, q.offset)).limit(max(1, q.limit))
    )
    rows = []
    for r in conn.execute(stmt):
        m = r._mapping
        rows.append(CaseloadRow(
            claim_id=r.id, customer_id=r.customer_id, customer_name=r.name or "", nino=mask_nino(r.nino),
            benefit=r.benefit, claim_start=r.claim_start, weeks=(D - r.start_day) // 7,
            next_milestone=r.next_ms, days_to_milestone=r.days_to, rag=r.rag, rag_set_on=as_date(r.rated_on),
            next_review=as_date(r.review_on), last_contact=as_date(r.contact_on), next_action=r.action_text,
            next_action_due=as_date(r.action_due), last_conference=as_date(r.conference_on),
            expected_offflow=as_date(r.expected_on),
            flags=tuple(f for f in FLAGS if m["f_" + f.replace(" ", "_")]), adviser_id=r.adviser_id,
        ))
    return CaseloadPage(rows=rows, total=total, summary=summary(conn, actor, as_at, q.adviser_id, approaching_days))


def as_date(v) -> dt.date | None:  # noqa: ANN001
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])


def summary(conn: Connection, actor: Actor, as_at: dt.date, adviser_id: str | None,
            approaching_days: int = APPROACHING_DAYS) -> CaseloadSummary:
    """The summary line: size, counts by RAG, approaching per milestone, beyond 52 (unfiltered)."""
    t = schema.Claim.__table__
    c = t.c
    cols, flags = claim_columns(as_at, approaching_days)
    where = base_where(actor, CaseloadQuery(adviser_id=adviser_id), as_at)
    D = schema.day_number(as_at)

    def count(cond):  # noqa: ANN001, ANN202
        return func.sum(case((cond, 1), else_=0))

    approaching = {w: count(and_(c.start_day + 7 * w - D >= 0, c.start_day + 7 * w - D <= approaching_days))
                   for w in MILESTONE_WEEKS}
    r = conn.execute(select(
        func.count(), count(cols["rag"] == "R"), count(cols["rag"] == "A"), count(cols["rag"] == "G"),
        count(cols["rag"].is_(None)), *approaching.values(), count(flags["beyond 52"]),
    ).select_from(t.outerjoin(_state(), _state().c.claim_id == c.id)).where(*where)).one()
    vals = [int(v or 0) for v in r]
    return CaseloadSummary(size=vals[0], red=vals[1], amber=vals[2], green=vals[3], unrated=vals[4],
                           approaching=dict(zip(MILESTONE_WEEKS, vals[5:8])), beyond_52=vals[8])
