"""The demo office: a realistic office built through the real importer, the same for the same seed.

Never imports Textual: `caseload demo --no-open` builds it without the app.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, select

from caseload.clock import FixedClock
from caseload.store import schema, staff
from caseload.store.access import ADMIN, Actor, Role
from caseload.store.db import write
from caseload.store.errors import StoreError
from caseload.store.importer import Progress, import_claims

DEMO_ROWS = 20_000
EXTRACTS = 3
EXTRACT_INTERVAL_DAYS = 28
MARKER = "demo"

MANAGER_NAMES = ("Grace Holloway", "Tom Adeyemi", "Fiona Marsh", "Imran Qureshi", "Helen Doyle", "Kwame Mensah")
LEADER_NAME = "Ruth Callaghan"


@dataclass(frozen=True)
class DemoOffice:
    seed: int
    as_at: dt.date
    today: dt.date
    first_manager: str
    leader: str
    claims: int
    built: bool  # False when an existing demo of this seed was reused

    @property
    def clock(self) -> FixedClock:
        return FixedClock.on(self.today)


def demo_dates(seed: int) -> tuple[dt.date, dt.date]:
    """The as-at date of the last extract, and the demo's 'today' (two working days later)."""
    as_at = dt.date(2026, 10, 30) + dt.timedelta(days=7 * (seed % 4))  # always a Friday
    return as_at, as_at + dt.timedelta(days=3)


def _marker(engine: Engine) -> dict | None:
    t = schema.Setting.__table__
    with engine.connect() as conn:
        v = conn.execute(select(t.c.value).where(t.c.key == MARKER)).scalar()
    return json.loads(v) if v else None


def _claim_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(schema.Claim.__table__)).scalar_one()


def _wipe(engine: Engine) -> None:
    """Empty an earlier demo (only ever called on a database marked as a demo)."""
    order = ("conference_action_review", "action", "conference_item", "conference", "rag_rating", "note", "contact",
             "destination", "claim_state", "audit", "assignment", "cohort_summary", "cohort_summary_team",
             "cohort_start", "summary_info", "context_note", "claim", "customer", "import_batch", "staff", "team",
             "office", "setting")
    with write(engine) as conn:
        for name in order:
            conn.execute(schema.SQLModel.metadata.tables[name].delete())


def build_demo(engine: Engine, seed: int = 1, rows: int = DEMO_ROWS, progress: Progress | None = None) -> DemoOffice:
    """The demo office in `engine`'s database (built once, then reused). `progress` is told each
    extract's import stages, with the rows of all extracts so far."""
    from fixtures.generator import DEMO_SHAPE, iter_successive_extracts, write_extract

    as_at, today = demo_dates(seed)
    mark = _marker(engine)
    if mark is None and _claim_count(engine) > 0:
        raise StoreError(
            "This database holds real data, so the demo will not touch it. Build the demo in a "
            "database of its own: caseload demo --db ~/caseload-demo.sqlite3"
        )
    if mark is not None and mark.get("seed") == seed and mark.get("rows") == rows:
        return _describe(engine, seed, as_at, today, built=False)
    if mark is not None:
        _wipe(engine)
    clock = FixedClock.on(today)
    dates = [as_at - dt.timedelta(days=EXTRACT_INTERVAL_DAYS * k) for k in range(EXTRACTS - 1, -1, -1)]
    with tempfile.TemporaryDirectory(prefix="caseload-demo-") as tmp:
        # Teams that vary in pace, so the demo shows some cohorts meeting the expected level and some not.
        shape = DEMO_SHAPE
        extracts = iter_successive_extracts(rows, seed=seed, as_at_dates=dates, shape=shape)
        done = 0
        for n, (d, recs) in enumerate(extracts, start=1):
            path = Path(tmp) / f"demo-extract-{n}-{d.isoformat()}.csv"
            write_extract(path, recs)
            tell = None
            if progress is not None:
                def tell(stage: str, read: int, share: float | None, n: int = n, before: int = done) -> None:
                    progress(f"extract {n}/{EXTRACTS}: {stage}", before + read, share)
            r = import_claims(engine, path, as_at=d, actor=ADMIN, clock=FixedClock.on(d + dt.timedelta(days=1)),
                              progress=tell)
            done += r.rows_read
    if progress is not None:
        progress("adding notes, conferences", done, None)
    with write(engine) as conn:
        teams = conn.execute(
            select(schema.Team.name, schema.Office.name.label("office"))
            .join(schema.Office, schema.Office.id == schema.Team.office_id)
            .order_by(schema.Office.name, schema.Team.name)
        ).all()
        for i, t in enumerate(teams):
            staff.add(conn, clock, ADMIN, f"M{i + 1:03d}", MANAGER_NAMES[i % len(MANAGER_NAMES)], "team_manager",
                      team=t.name, office=t.office)
        staff.add(conn, clock, ADMIN, "L001", LEADER_NAME, "team_leader", office=teams[0].office)
        _records(conn, seed, as_at)
        _conferences(conn, seed, as_at)
        conn.execute(schema.Setting.__table__.insert().values(
            key=MARKER, value=json.dumps({"seed": seed, "rows": rows, "as_at": as_at.isoformat()}), version=1))
    return _describe(engine, seed, as_at, today, built=True)


RAG_REASONS = {
    "R": ("Long way from work: no recent work history and low confidence",
          "Housing crisis; needs referral before job search can start",
          "Health condition limits hours; exploring what work fits",
          "Literacy support needed before applications"),
    "A": ("On a journey: CV done, needs interview practice",
          "Applying steadily; would benefit from a sector-based work academy",
          "Some barriers with childcare; looking at part-time roles",
          "Recent work history; needs help targeting applications"),
    "G": ("Job ready: strong CV, applying widely",
          "Interview booked next week with local employer",
          "Recently left work; skills in demand locally",
          "Needs little help; monitoring job search"),
}
NOTES = (
    "Discussed job goal: warehouse or retail. Agreed to widen search to 10 miles.",
    "Customer reports interview went well; waiting to hear back.",
    "Referred to CV workshop on Tuesday.",
    "Agreed to apply for three care assistant roles before next appointment.",
    "Customer asked about travel costs for interviews; explained Flexible Support Fund.",
    "Updated Universal Jobmatch profile together.",
)
ACTIONS = (
    "Send CV to local agency", "Book place on CV workshop", "Check travel-to-interview support",
    "Follow up on care assistant applications", "Refer to skills check", "Review job search record",
)


def _records(conn, seed: int, as_at: dt.date) -> None:  # noqa: ANN001
    """RAG histories with reasons, notes, contacts and actions on the first team's open claims,
    and current ratings across the office, so every screen has something real to show."""
    import random

    from caseload.store import records

    rng = random.Random(seed * 7919)
    c = schema.Claim.__table__
    teams = sorted(r.team_id for r in conn.execute(select(c.c.team_id).distinct()) if r.team_id is not None)
    claims = conn.execute(
        select(c.c.id, c.c.claim_start, c.c.team_id, c.c.adviser_id).where(c.c.end_day.is_(None))
        .order_by(c.c.id)
    ).all()
    for cl in claims:
        who = Actor(id=cl.adviser_id, role=Role.ADVISER, team_id=cl.team_id)
        rich = cl.team_id == teams[0]
        if rng.random() > (0.85 if rich else 0.6):
            continue
        # First interview within a week of the claim start, then a review at each milestone passed.
        days_on = (as_at - cl.claim_start).days
        points = [min(days_on, rng.randint(0, 7))] + [w * 7 + rng.randint(-10, 10) for w in (13, 26, 52)
                                                       if w * 7 + 10 < days_on and rich]
        rating = rng.choices("RAG", weights=(2, 5, 3))[0]
        for day in sorted(set(points)):
            on = cl.claim_start + dt.timedelta(days=max(0, day))
            clock = FixedClock.on(on)
            if day != points[0]:
                rating = rng.choices("RAG", weights=(1, 4, 3) if rating != "R" else (4, 4, 1))[0]
            review = on + dt.timedelta(days=rng.choice((14, 28, 28, 42)))
            records.set_rag(conn, clock, who, cl.id, rating, rng.choice(RAG_REASONS[rating]), review)
        if not rich:
            continue
        for _ in range(rng.randint(0, 4)):
            back = rng.randint(1, min(70, max(1, days_on)))
            on = as_at - dt.timedelta(days=back)
            if on < cl.claim_start:
                continue
            kind = rng.choices(("appointment", "phone", "job_search_review", "group_session", "decision_maker_referral"),
                               weights=(5, 3, 3, 1, 0.3))[0]
            records.log_contact(conn, FixedClock.on(as_at), who, cl.id, on, kind, rng.random() > 0.12)
        if rng.random() < 0.35:
            records.add_note(conn, FixedClock.on(as_at - dt.timedelta(days=rng.randint(0, 20))), who, cl.id,
                             rng.choice(NOTES))
        if rng.random() < 0.45:
            due = as_at + dt.timedelta(days=rng.randint(-10, 21))
            records.add_action(conn, FixedClock.on(as_at - dt.timedelta(days=14)), who, cl.id, rng.choice(ACTIONS),
                               cl.adviser_id, due)
    _other_teams(conn, seed, as_at, [cl for cl in claims if cl.team_id != teams[0]])
    _referrals_and_destinations(conn, seed, as_at)


def _other_teams(conn, seed: int, as_at: dt.date, claims) -> None:  # noqa: ANN001
    """Fewer records on the other teams' open claims (a contact or two, some notes and actions), from an
    RNG of their own so the first team's records stay as they were. Enough for every team to show in the
    fairness views, beyond-52 customers with and without a recent contact included, at little build time."""
    import random

    from caseload.store import records

    rng = random.Random(seed * 6271)
    today = FixedClock.on(as_at)
    for cl in claims:
        if rng.random() > 0.4:
            continue
        who = Actor(id=cl.adviser_id, role=Role.ADVISER, team_id=cl.team_id)
        days_on = (as_at - cl.claim_start).days
        on = as_at - dt.timedelta(days=rng.randint(1, min(80, max(1, days_on))))
        if on >= cl.claim_start:
            kind = rng.choices(("appointment", "phone", "job_search_review"), weights=(5, 3, 3))[0]
            records.log_contact(conn, today, who, cl.id, on, kind, rng.random() > 0.12)
        if rng.random() < 0.15:
            records.add_note(conn, FixedClock.on(as_at - dt.timedelta(days=rng.randint(0, 20))), who, cl.id,
                             rng.choice(NOTES))
        if rng.random() < 0.2:
            records.add_action(conn, FixedClock.on(as_at - dt.timedelta(days=14)), who, cl.id, rng.choice(ACTIONS),
                               cl.adviser_id, as_at + dt.timedelta(days=rng.randint(-10, 21)))


REFERRAL_SHARE = 0.025  # claims given a decision maker referral shortly before one of their milestones
CONFIRM_SHARE = 0.08  # ended claims of unknown destination that an adviser later confirmed


def _referrals_and_destinations(conn, seed: int, as_at: dt.date) -> None:  # noqa: ANN001
    """On every team: decision maker referrals 0 to 28 days before a milestone passed in the last year
    (so some fall within the 14 days the fairness view flags, and some just outside), and destinations
    confirmed by advisers for some off-flows the extract had as not known or failed to sign."""
    import random

    from caseload.store import records

    rng = random.Random(seed * 3571)
    c = schema.Claim.__table__
    year_ago = as_at - dt.timedelta(days=364)
    rows = conn.execute(select(c.c.id, c.c.claim_start, c.c.claim_end, c.c.end_reason, c.c.team_id, c.c.adviser_id)
                        .where(c.c.claim_start >= year_ago - dt.timedelta(days=364)).order_by(c.c.id)).all()
    today = FixedClock.on(as_at)
    for cl in rows:
        who = Actor(id=cl.adviser_id, role=Role.ADVISER, team_id=cl.team_id)
        last = min(as_at, cl.claim_end or as_at)
        if rng.random() < REFERRAL_SHARE:
            milestones = [cl.claim_start + dt.timedelta(days=7 * w) for w in (13, 26, 52)]
            due = [m for m in milestones if year_ago <= m <= last + dt.timedelta(days=28)]
            if due:
                on = rng.choice(due) - dt.timedelta(days=rng.randint(0, 28))
                if cl.claim_start <= on <= last:
                    records.log_contact(conn, today, who, cl.id, on, "decision_maker_referral", True)
        if (cl.claim_end is not None and cl.claim_end >= year_ago and (cl.end_reason or "not_known") in
                ("not_known", "failed_to_sign") and rng.random() < CONFIRM_SHARE):
            confirmed = min(as_at, cl.claim_end + dt.timedelta(days=rng.randint(3, 40)))
            records.record_destination(conn, today, who, cl.id, rng.choice(("found_work", "found_work", "other_benefit",
                                                                             "ceased_claiming", "education")),
                                       rng.choice(("customer", "employer", "central_system")), confirmed)


DONE_SO_FAR = (
    "CV rewritten with the adviser; two applications sent to local warehouses",
    "Attended the CV workshop; job search record up to date",
    "Referred to housing support; appointment kept",
    "Skills check done: needs help with digital applications",
    "Three care assistant applications; one interview, not successful",
    "Travel costs for interviews agreed from the Flexible Support Fund",
)
PLANS = (
    "Widen the search to 10 miles and apply for five roles a week",
    "Book a sector-based work academy place in retail",
    "Weekly job search reviews until the housing referral is settled",
    "Practice interviews with the adviser; apply for care roles",
    "Digital skills course first, then online applications",
    "Keep applying; follow up the agency registration",
)
OFFFLOW_NOTES = (
    "Depends on the housing referral", "Health condition: waiting for the GP's fit-for-work view",
    "Too early to say: first applications only just sent",
)
SKIP_REASONS = ("Customer on holiday this week", "Seen at a review this week; nothing new", "Out of time")
CHANGE_REASONS = {
    "R": "Circumstances changed: needs far more help before work is realistic",
    "A": "Progress made: with some help, likely to move into work",
    "G": "Job ready: interviews coming in, needs little help",
}


def _first_tuesday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(1 - first.weekday()) % 7)


def conference_dates(as_at: dt.date, months: int = 3) -> list[dt.date]:
    """The first Tuesday of each of the last `months` months, the last on or before `as_at`."""
    year, month = as_at.year, as_at.month
    out: list[dt.date] = []
    while len(out) < months:
        d = _first_tuesday(year, month)
        if d <= as_at:
            out.append(d)
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return sorted(out)


MAX_DISCUSSED = 24  # a conference is an hour or so: the rest of a long agenda is skipped as "out of time"


def _conferences(conn, seed: int, as_at: dt.date) -> None:  # noqa: ANN001
    """Monthly conferences (first Tuesdays) between the first team's manager and each of their advisers,
    written through store.conference as that manager: plans, estimates, RAG reviews, actions done and
    carried. In the latest month one adviser's conference is left unfinished (to resume) and one adviser
    has not had theirs (overdue)."""
    import random

    from caseload.store import conference
    from caseload.store.access import actor_for

    rng = random.Random(seed * 104729)
    manager = actor_for(conn, "M001")
    st, cs, c = schema.Staff.__table__, schema.ClaimState.__table__, schema.Claim.__table__
    advisers = [r.id for r in conn.execute(select(st.c.id).where(st.c.team_id == manager.team_id,
                                                                 st.c.role == "adviser").order_by(st.c.id))]
    dates = conference_dates(as_at)
    for n, held in enumerate(dates):
        clock = FixedClock.on(held)
        latest = n == len(dates) - 1
        for k, adviser in enumerate(advisers):
            if latest and k == len(advisers) - 1:
                continue  # overdue: no conference this month
            cid = conference.start_or_resume(conn, clock, manager, adviser, held)
            detail = conference.conference_detail(conn, manager, cid)
            unfinished = latest and k == len(advisers) - 2
            for i, item in enumerate(detail.items):
                if (unfinished and i == 3) or i >= MAX_DISCUSSED:
                    break
                claim = conn.execute(select(c.c.end_day, cs.c.rag, cs.c.rated_day)
                                     .select_from(c.outerjoin(cs, cs.c.claim_id == c.c.id))
                                     .where(c.c.id == item.claim_id)).one()
                if rng.random() < 0.12 or (claim.rated_day is not None and claim.rated_day > schema.day_number(held)):
                    conference.skip_item(conn, clock, manager, item.id, item.version, rng.choice(SKIP_REASONS))
                    continue
                review = rating = reason = None
                if claim.end_day is None:
                    if claim.rag is not None and rng.random() < 0.75:
                        review = "confirm"
                    else:
                        review = "change"
                        rating = rng.choice([r for r in "RAG" if r != claim.rag])
                        reason = CHANGE_REASONS[rating]
                known = rng.random() < 0.7
                updates = {a.id: ("done" if rng.random() < 0.6 else "carry") for a in item.earlier_actions
                           if a.status == "open"}
                new_actions = []
                if rng.random() < 0.45:
                    new_actions.append((rng.choice(ACTIONS), adviser, held + dt.timedelta(days=rng.randint(7, 21))))
                conference.record_item(
                    conn, clock, manager, item.id, item.version,
                    done_so_far=rng.choice(DONE_SO_FAR), plan=rng.choice(PLANS),
                    expected_offflow=held + dt.timedelta(days=rng.randint(14, 120)) if known else None,
                    unknown_note=None if known else rng.choice(OFFFLOW_NOTES),
                    rag_review=review, rag=rating, rag_reason=reason, new_actions=new_actions, action_updates=updates,
                )
            if unfinished:
                conference.move_to(conn, manager, cid, min(3, max(0, len(detail.items) - 1)))
            else:
                conference.finish(conn, clock, manager, cid, [manager.name, adviser_name(conn, adviser)],
                                  skip_pending_reason="Out of time")


def adviser_name(conn, staff_id: str) -> str:  # noqa: ANN001
    st = schema.Staff.__table__
    return conn.execute(select(st.c.name).where(st.c.id == staff_id)).scalar() or staff_id


def _describe(engine: Engine, seed: int, as_at: dt.date, today: dt.date, built: bool) -> DemoOffice:
    return DemoOffice(seed=seed, as_at=as_at, today=today, first_manager="M001", leader="L001",
                      claims=_claim_count(engine), built=built)
