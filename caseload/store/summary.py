"""Cohort summaries: the off-flow roll-up's counts, kept current as claims and destinations change.

A scan of every claim in twelve cohort periods cannot answer in well under a second on a large
district, so the counts an off-flow roll-up needs are kept in three derived tables, written in the
same transaction as every change to what they count:

- ``cohort_summary``: claims per on-flow team, cohort *segment*, on-flow adviser and benefit: how
  many, how many have a confirmed destination, and for each of SUMMARY_WEEKS the off-flows by then
  with their counts by destination category and OPtE;
- ``cohort_summary_team``: the same added up over advisers, ordered by segment, for team, office
  and district roll-ups;
- ``cohort_start``: claims started per day, on-flow team and benefit, for the members of a cohort
  not yet at a milestone.

A *segment* is the overlap of a calendar month and a reporting month (``cohort_segment`` maps
each day to its segment), so a cohort period of any kind is a run of whole segments. Any
milestones among SUMMARY_WEEKS can be answered. The counts per milestone are columns rather than
rows, because what a roll-up costs is the rows it reads: twelve months of a 112-team district are
about 11,000 summary rows.

Everything in a summary row is what the roll-up counts *at the latest import's as-at date*: every
end and every re-claim is then known (an extract never carries a date after its as-at date, and
extracts come in date order). A roll-up at an earlier date, by current holder, by another
grouping, with other milestones or another rule set scans the claims instead (store.offflow).

An import counts the change in: a claim's OPtE status depends on the same customer's other claims
(a re-claim within 7 days), so it reads what every claim of each customer it adds or changes counts
for before the write and again after, and adds the difference into the rows those claims count in
(`before_import`, `after_import`). Any other change (a destination recorded) is counted in *blocks*
of (on-flow team, segment, on-flow adviser), a few claims each: it marks the blocks of the claims it
can affect, and each marked block is counted again from the claims, then its team's row. ``rebuild_summaries`` counts everything again from scratch; a property test holds the kept
summaries equal to it. A first load (no claim yet) is counted as its rows are read instead
(``FirstLoadTally``), which another property test holds equal to the same recount.
"""

from __future__ import annotations

import operator
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select
from sqlalchemy import text as sa_text

from caseload.measures.cohorts import CohortKind, Period, period_of
from caseload.measures.destinations import DEFAULT_RULE_SET, END_REASONS, Category, category
from caseload.measures.destinations import rule_set as get_rule_set
from caseload.store import schema
from caseload.store.db import analyze

SUMMARY_WEEKS = schema.SUMMARY_WEEKS
# OPtE in the summaries follows this rule set (its exclusions and its re-claim window).
SUMMARY_RULE_SET = DEFAULT_RULE_SET
# An import that changes more than this share of the customers counts everything again, which is
# quicker than marking nearly every block.
FULL_REBUILD_SHARE = 0.3

CATEGORY_COLUMNS: dict[Category, str] = {
    Category.EMPLOYMENT: "employment",
    Category.OTHER_BENEFIT: "other_benefit",
    Category.EDUCATION_TRAINING: "education",
    Category.OTHER: "other",
    Category.OTHER_KNOWN: "other_known",
    Category.SANCTION: "sanction",
    Category.FAILED_TO_SIGN: "failed_to_sign",
    Category.NOT_KNOWN: "not_known",
}
MEASURES = schema.SUMMARY_MEASURES  # per milestone: off, the categories in CATEGORY_COLUMNS' order, opte
assert MEASURES == ("off", *CATEGORY_COLUMNS.values(), "opte")
COLUMNS = ("n", "confirmed", *(f"{m}_{w}" for w in SUMMARY_WEEKS for m in MEASURES))


def _weeks_text(weeks: Iterable[int] = SUMMARY_WEEKS) -> str:
    return ",".join(str(w) for w in weeks)


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in sorted(values))


# ---------------------------------------------------------------------------------------------
# Segments


def segment_of(day: int) -> tuple[int, int]:
    """The first and last day (day numbers) of the segment holding ``day``."""
    d = schema.from_day_number(day)
    cm = period_of(CohortKind.CALENDAR_MONTH, d)
    rm = period_of(CohortKind.REPORTING_MONTH, d)
    return schema.day_number(max(cm.start, rm.start)), schema.day_number(min(cm.end, rm.end))


def ensure_days(conn: Connection, lo: int | None, hi: int | None) -> None:
    """Make cohort_segment cover the days lo..hi (it is kept as one unbroken run of days)."""
    if lo is None or hi is None:
        return
    t = schema.CohortSegment.__table__
    have_lo, have_hi = conn.execute(sa_text("SELECT MIN(day), MAX(day) FROM cohort_segment")).one()
    wanted: list[range] = []
    if have_lo is None:
        wanted.append(range(lo, hi + 1))
    else:
        if lo < have_lo:
            wanted.append(range(lo, have_lo))
        if hi > have_hi:
            wanted.append(range(have_hi + 1, hi + 1))
    rows = []
    for days in wanted:
        for day in days:
            seg, end = segment_of(day)
            rows.append({"day": day, "seg_day": seg, "seg_end": end})
    if rows:
        conn.execute(t.insert(), rows)


# ---------------------------------------------------------------------------------------------
# Counting claims into the summaries


def _end_class() -> str:
    whens = " ".join(f"WHEN c.end_day - c.start_day <= {7 * w} THEN {w}" for w in SUMMARY_WEEKS)
    return f"CASE WHEN c.end_day IS NULL THEN -1 {whens} ELSE 0 END"


def _claim_facts_sql(frm: str) -> str:
    """Per claim: its keys, end class (the first summary milestone by which it ended: -1 while open,
    0 after the last), effective reason (confirmed, else the extract's), quick re-claim and whether
    a destination was confirmed. Every end and start is on or before the latest as-at date, so no
    date cut is needed."""
    days = get_rule_set(SUMMARY_RULE_SET).reclaim_days
    return (
        "SELECT c.onflow_team_id AS team_id, c.onflow_office_id AS office_id, c.onflow_adviser_id AS adviser_id, "
        f"c.benefit AS benefit, c.start_day AS start_day, g.seg_day AS seg_day, {_end_class()} AS end_class, "
        "CASE WHEN c.end_day IS NULL THEN NULL ELSE COALESCE("
        "(SELECT x.code FROM destination x WHERE x.claim_id = c.id ORDER BY x.id DESC LIMIT 1), "
        "NULLIF(c.end_reason, ''), 'not_known') END AS reason, "
        "CASE WHEN c.end_day IS NOT NULL AND EXISTS (SELECT 1 FROM claim r WHERE r.customer_id = c.customer_id "
        f"AND r.id <> c.id AND r.start_day >= c.end_day AND r.start_day <= c.end_day + {days}) THEN 1 ELSE 0 END AS quick, "
        "CASE WHEN c.end_day IS NOT NULL AND EXISTS (SELECT 1 FROM destination x WHERE x.claim_id = c.id) "
        "THEN 1 ELSE 0 END AS confirmed "
        f"{frm}"
    )


def _materialise_facts(conn: Connection, froms: Sequence[str], name: str = "summary_facts") -> None:
    """The claims' facts into a temporary table, once: the sums below refer to the reason dozens of
    times, and SQL would otherwise work out the confirmed destination and the re-claim each time."""
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.execute(sa_text(_facts_sql(froms, name)))


def _facts_sql(froms: Sequence[str], name: str = "summary_facts") -> str:
    rules = get_rule_set(SUMMARY_RULE_SET)
    cat = " ".join(f"WHEN k.reason IN ({_sql_list(code for code in END_REASONS if category(code) is c)}) THEN {i}"
                   for i, c in enumerate(CATEGORY_COLUMNS))
    inner = " UNION ALL ".join(_claim_facts_sql(frm) for frm in froms)
    return (
        f"CREATE TEMPORARY TABLE {name} AS SELECT COALESCE(k.team_id, 0) AS team_key, k.seg_day AS seg_day, "
        "COALESCE(k.office_id, 0) AS office_key, k.adviser_id AS adviser_id, k.benefit AS benefit, "
        f"k.start_day AS start_day, k.end_class AS end_class, CASE {cat} ELSE -1 END AS cat, "
        f"CASE WHEN k.reason NOT IN ({_sql_list(rules.excluded)}) AND k.quick = 0 THEN 1 ELSE 0 END AS opte, "
        f"k.confirmed AS confirmed FROM ({inner}) k"
    )


def _count_facts(conn: Connection) -> None:
    """summary_facts into cohort_summary."""
    conn.execute(sa_text(_count_sql()))
    conn.exec_driver_sql("DROP TABLE summary_facts")


def _sums(weight: str = "") -> list[str]:
    """COLUMNS' sums over facts `f`, each fact counted `weight` times (an expression with its `*`; once if empty)."""
    sums = [f"SUM({weight}1)", f"SUM({weight}f.confirmed)"]
    for w in SUMMARY_WEEKS:
        by = f"(CASE WHEN f.end_class BETWEEN 1 AND {w} THEN 1 ELSE 0 END)"
        for m in MEASURES:
            if m == "off":
                sums.append(f"SUM({weight}{by})")
            elif m == "opte":
                sums.append(f"SUM({weight}{by} * f.opte)")
            else:
                sums.append(f"SUM({weight}{by} * (CASE WHEN f.cat = {list(CATEGORY_COLUMNS.values()).index(m)} "
                            "THEN 1 ELSE 0 END))")
    return sums


_KEYS = ("team_key", "seg_day", "office_key", "adviser_id", "benefit")


def _count_sql() -> str:
    keys = ", ".join(f"f.{k}" for k in _KEYS)
    return (f"INSERT INTO cohort_summary ({', '.join(_KEYS)}, {', '.join(COLUMNS)}) "
            f"SELECT {keys}, {', '.join(_sums())} FROM summary_facts f GROUP BY {keys}")


_STARTS = (
    "INSERT INTO cohort_start (start_day, office_key, team_key, benefit, n) "
    "SELECT c.start_day, COALESCE(c.onflow_office_id, 0), COALESCE(c.onflow_team_id, 0), c.benefit, COUNT(*) "
    "{frm} GROUP BY c.start_day, COALESCE(c.onflow_office_id, 0), COALESCE(c.onflow_team_id, 0), c.benefit"
)


_TEAM_FROM_ADVISERS = (
    f"INSERT INTO cohort_summary_team (seg_day, office_key, team_key, benefit, {', '.join(COLUMNS)}) "
    f"SELECT s.seg_day, s.office_key, s.team_key, s.benefit, {', '.join(f'SUM(s.{m})' for m in COLUMNS)} "
    "FROM cohort_summary s {where} GROUP BY s.seg_day, s.office_key, s.team_key, s.benefit"
)



def _block_claims(table: str, join: str = "JOIN") -> tuple[str, str]:
    """FROM clauses for the claims of the blocks listed in `table`: found by on-flow team and start
    day (the claim index's order), claims with no team being the blocks of team key 0. `join` is
    CROSS JOIN on SQLite, whose planner, without statistics, would otherwise scan every claim."""
    who = " AND c.onflow_adviser_id = d.adviser_id"
    return (
        f"FROM {table} d {join} claim c ON c.onflow_team_id = d.team_key "
        f"AND c.start_day >= d.seg_day AND c.start_day <= d.seg_end{who} JOIN cohort_segment g ON g.day = c.start_day",
        f"FROM {table} d {join} claim c ON d.team_key = 0 AND c.onflow_team_id IS NULL "
        f"AND c.start_day >= d.seg_day AND c.start_day <= d.seg_end{who} JOIN cohort_segment g ON g.day = c.start_day",
    )


def _fixed_join(conn: Connection) -> str:
    return "CROSS JOIN" if conn.dialect.name == "sqlite" else "JOIN"


def _record_state(conn: Connection, batch_id: int | None) -> None:
    t = schema.SummaryInfo.__table__
    conn.execute(t.delete())
    conn.execute(t.insert().values(id=1, batch_id=batch_id, rule_set=SUMMARY_RULE_SET, weeks=_weeks_text()))


def _latest_batch(conn: Connection) -> int | None:
    bt = schema.ImportBatch.__table__
    return conn.execute(select(bt.c.id).order_by(bt.c.as_at.desc(), bt.c.id.desc()).limit(1)).scalar()


def rebuild_summaries(conn: Connection) -> None:
    """Count every claim into the summaries again, from nothing. Call inside a write transaction."""
    lo, hi = conn.execute(sa_text("SELECT MIN(start_day), MAX(start_day) FROM claim")).one()
    ensure_days(conn, lo, hi)
    for table in ("cohort_summary", "cohort_summary_team", "cohort_start"):
        conn.execute(sa_text(f"DELETE FROM {table}"))
    _materialise_facts(conn, ["FROM claim c JOIN cohort_segment g ON g.day = c.start_day"])
    _count_facts(conn)
    conn.execute(sa_text(_TEAM_FROM_ADVISERS.format(where="")))
    conn.execute(sa_text(_STARTS.format(frm="FROM claim c")))
    _record_state(conn, _latest_batch(conn))


# ---------------------------------------------------------------------------------------------
# A first load, counted as its rows are read

_WIDTH = len(COLUMNS)
# Per duration in days (end day - start day), where its milestone's measures start in a row of COLUMNS:
# the first of SUMMARY_WEEKS it ended by. A longer claim counts towards no milestone.
_MILESTONE_AT = [2 + len(MEASURES) * next(j for j, w in enumerate(SUMMARY_WEEKS) if d <= 7 * w)
                 for d in range(7 * max(SUMMARY_WEEKS) + 1)]
_CATEGORY_INDEX = {c: i for i, c in enumerate(CATEGORY_COLUMNS)}


def _reason_columns() -> dict[str | None, tuple[int | None, bool]]:
    """Per effective reason, as _facts_sql counts it: its category column (after `off`) and whether it
    counts towards OPtE when no re-claim follows. An ended claim with no reason is not_known."""
    excluded = get_rule_set(SUMMARY_RULE_SET).excluded
    out: dict[str | None, tuple[int | None, bool]] = {}
    for code in END_REASONS:
        at = _CATEGORY_INDEX.get(category(code))
        out[code] = (None if at is None else 1 + at, code not in excluded)
    out[None] = out["not_known"]
    return out


class FirstLoadTally:
    """A first load's cohort_summary, counted by the importer while it reads the rows: into an empty
    claim table every claim is new, none has a confirmed destination, and a row carries all the
    facts but one that a summary row counts (on-flow adviser, segment, benefit, end class, reason).
    The one it lacks, a re-claim within the rule set's days (the customer's other claims), is read once
    the claims are written (`write_first_load`), as are the advisers' teams and offices.

    Counts are kept per (adviser, segment, benefit) in one flat array of 16-bit counters, each
    milestone's off-flows by the milestone the claim ended by, and added up over the milestones when
    written; a block of more than 65,535 claims leaves the tally unusable (`usable`), and the caller
    counts from scratch. A block is found by one integer made of its segment and its adviser's and
    benefit's numbers: about 40 MB in all for a million claims."""

    def __init__(self) -> None:
        self._slot: dict[int, int] = {}  # block -> where its counts start in _counts
        self._counts = array("H")
        self._advisers: dict[str, int] = {}
        self._benefits: dict[str, int] = {}
        self._segment: dict[int, int] = {}
        self._reasons = _reason_columns()
        self.usable = True

    def _key(self, adviser: str, benefit: str, start: int) -> int:
        seg = self._segment.get(start)
        if seg is None:
            seg = self._segment[start] = segment_of(start)[0]
        a = self._advisers.setdefault(adviser, len(self._advisers))
        b = self._benefits.setdefault(benefit, len(self._benefits))
        return (seg << 48) | (a << 16) | b

    def add(self, rows: Iterable[Sequence], at: Sequence[int], sign: int = 1) -> None:
        """Count rows (sign -1: take them out again); `at` gives the positions in a row of its adviser
        id, benefit, start day, end day and end reason."""
        slot, counts, segment, reasons, milestone = self._slot, self._counts, self._segment, self._reasons, _MILESTONE_AT
        advisers, benefits = self._advisers, self._benefits
        last, opte_at = len(milestone), len(MEASURES) - 1
        zeros = array("H", [0]) * _WIDTH
        a, b, s, e, r = at
        try:
            for row in rows:
                start = row[s]
                seg = segment.get(start)
                if seg is None:
                    seg = segment[start] = segment_of(start)[0]
                adviser = advisers.get(row[a])
                if adviser is None:
                    adviser = advisers[row[a]] = len(advisers)
                benefit = benefits.get(row[b])
                if benefit is None:
                    benefit = benefits[row[b]] = len(benefits)
                key = (seg << 48) | (adviser << 16) | benefit
                i = slot.get(key)
                if i is None:
                    i = slot[key] = len(counts)
                    counts.extend(zeros)
                counts[i] += sign
                end = row[e]
                if end is None or end - start >= last:
                    continue
                i += milestone[end - start]
                counts[i] += sign  # off
                cat, opte = reasons[row[r]]
                if cat is not None:
                    counts[i + cat] += sign
                if opte:
                    counts[i + opte_at] += sign
        except OverflowError:  # a block of more than 65,535 claims (or one taken out that was never in)
            self.usable = False

    def reclaimed(self, rows: Iterable[Sequence]) -> bool:
        """Take out of OPtE the claims (adviser, benefit, start day, end day) that a re-claim follows;
        False if one of them was never counted."""
        counts, slot, milestone, opte_at = self._counts, self._slot, _MILESTONE_AT, len(MEASURES) - 1
        for adviser, benefit, start, end in rows:
            i = slot.get(self._key(adviser, benefit, start))
            if i is None or not counts[i + milestone[end - start] + opte_at]:
                return False
            counts[i + milestone[end - start] + opte_at] -= 1
        return True

    def release(self) -> None:
        """Let the counts go (they are no longer needed once written)."""
        self._slot, self._counts, self._advisers, self._benefits, self._segment = {}, array("H"), {}, {}, {}

    def claims(self) -> int:
        return sum(self._counts[i] for i in self._slot.values())

    def summary_rows(self, places: dict[str, tuple[int, int]]) -> Iterator[tuple]:
        """cohort_summary's rows; `places` gives each adviser's (team key, office key). Adds the counts
        up over the milestones in place, so it is called once, last."""
        counts, step, add = self._counts, len(MEASURES), operator.add
        for j in range(2 + step, _WIDTH):  # by a later milestone: every off-flow by the earlier one too
            counts[j::_WIDTH] = array("H", map(add, counts[j::_WIDTH], counts[j - step::_WIDTH]))
        advisers, benefits = list(self._advisers), list(self._benefits)
        for key, i in self._slot.items():
            if counts[i]:  # else every claim of the block was taken out again
                adviser = advisers[(key >> 16) & 0xFFFFFFFF]
                team, office = places[adviser]
                yield (team, key >> 48, office, adviser, benefits[key & 0xFFFF], *counts[i:i + _WIDTH])


def _insert_rows(conn: Connection, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Many rows into a table: PostgreSQL's COPY through psycopg, else the driver's executemany."""
    names = ", ".join(columns)
    if conn.dialect.driver == "psycopg":
        with conn.connection.driver_connection.cursor() as cur:
            with cur.copy(f"COPY {table} ({names}) FROM STDIN") as out:
                for row in rows:
                    out.write_row(row)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join([mark] * len(columns))})"
    if conn.dialect.driver == "pysqlite":
        # sqlite3 takes the rows as they are made, so they are never all in memory at once.
        cur = conn.connection.driver_connection.cursor()
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()
        return
    rows = list(rows)
    if rows:
        conn.exec_driver_sql(sql, rows)


def _reclaim_sql() -> str:
    """The staged rows of a first load (exactly its claims) that ended within the last milestone for a
    reason that counts towards OPtE, and that the same customer's re-claim follows within the rule
    set's days (as _claim_facts_sql's `quick`; no claim has a confirmed destination yet)."""
    rules = get_rule_set(SUMMARY_RULE_SET)
    return (
        "SELECT s.adviser_id, s.benefit, s.start_day, s.end_day FROM import_staging s "
        f"WHERE s.end_day IS NOT NULL AND s.end_day - s.start_day <= {7 * max(SUMMARY_WEEKS)} "
        f"AND COALESCE(NULLIF(s.end_reason, ''), 'not_known') NOT IN ({_sql_list(rules.excluded)}) "
        "AND EXISTS (SELECT 1 FROM import_staging r WHERE r.customer_id = s.customer_id AND r.line <> s.line "
        f"AND r.start_day >= s.end_day AND r.start_day <= s.end_day + {rules.reclaim_days})"
    )


def write_first_load(conn: Connection, marks: ImportMarks, tally: FirstLoadTally) -> None:
    """Called by the importer once a first load's claims are written and before their indexes are
    built: cohort_summary's rows from the tally, the same as rebuild_summaries would count them, with
    the re-claims read from the staged extract (which then holds exactly the written claims). The tally
    is let go either way, before the index builds want memory. Checked first: the claim table was empty
    before the import, no claim has a destination, no block overflowed and the tally counted every
    written claim; when not, after_import counts everything from scratch."""
    try:
        if not (marks.full and marks.first_load and tally.usable):
            return
        if conn.execute(sa_text("SELECT 1 FROM destination LIMIT 1")).first() is not None:
            return
        claims = conn.execute(sa_text("SELECT COUNT(*) FROM claim")).scalar_one()
        staged = conn.execute(sa_text("SELECT COUNT(*) FROM import_staging")).scalar_one()
        if not claims == staged == tally.claims():
            return
        conn.execute(sa_text("DELETE FROM cohort_summary"))
        if not tally.reclaimed(conn.execute(sa_text(_reclaim_sql()))):
            return
        places = {r[0]: (r[1] or 0, r[2] or 0)
                  for r in conn.execute(sa_text("SELECT id, team_id, office_id FROM staff"))}
        _insert_rows(conn, "cohort_summary", ("team_key", "seg_day", "office_key", "adviser_id", "benefit", *COLUMNS),
                     tally.summary_rows(places))
        marks.counted = True
    finally:
        tally.release()


def _finish_first_load(conn: Connection) -> None:
    """After write_first_load: the team rows and cohort_start from it and the claims, as rebuild_summaries."""
    lo, hi = conn.execute(sa_text("SELECT MIN(start_day), MAX(start_day) FROM claim")).one()
    ensure_days(conn, lo, hi)
    for table in ("cohort_summary_team", "cohort_start"):
        conn.execute(sa_text(f"DELETE FROM {table}"))
    conn.execute(sa_text(_TEAM_FROM_ADVISERS.format(where="")))
    conn.execute(sa_text(_STARTS.format(frm="FROM claim c")))
    _record_state(conn, _latest_batch(conn))


# Blocks are (on-flow team, segment, on-flow adviser): a few claims each, so a change to a claim here
# and there counts again only those few.
_MARKS = ("CREATE TEMPORARY TABLE summary_mark (team_key INTEGER NOT NULL, seg_day INTEGER NOT NULL, "
          "seg_end INTEGER NOT NULL, adviser_id TEXT NOT NULL)")


def _new_marks(conn: Connection) -> None:
    conn.exec_driver_sql("DROP TABLE IF EXISTS summary_mark")
    conn.exec_driver_sql(_MARKS)


def _drop_marks(conn: Connection) -> None:
    for name in ("summary_mark", "summary_dirty", "summary_customer", "summary_changed"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def _refresh_marked(conn: Connection) -> None:
    """Count the marked blocks again from the claims; then their teams' rows."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS summary_dirty")
    conn.exec_driver_sql("CREATE TEMPORARY TABLE summary_dirty (team_key INTEGER NOT NULL, seg_day INTEGER NOT NULL, "
                         "adviser_id TEXT NOT NULL, seg_end INTEGER NOT NULL, PRIMARY KEY (team_key, seg_day, adviser_id))")
    conn.execute(sa_text(
        "INSERT INTO summary_dirty (team_key, seg_day, adviser_id, seg_end) "
        "SELECT m.team_key, m.seg_day, m.adviser_id, MAX(m.seg_end) FROM summary_mark m "
        "GROUP BY m.team_key, m.seg_day, m.adviser_id"
    ))
    lo, hi = conn.execute(sa_text("SELECT MIN(seg_day), MAX(seg_end) FROM summary_dirty")).one()
    if lo is not None:
        conn.execute(sa_text(
            "DELETE FROM cohort_summary WHERE (team_key, seg_day, adviser_id) IN "
            "(SELECT d.team_key, d.seg_day, d.adviser_id FROM summary_dirty d)"))
        _materialise_facts(conn, _block_claims("summary_dirty", join=_fixed_join(conn)))
        _count_facts(conn)
        teams = "(SELECT DISTINCT d.team_key, d.seg_day FROM summary_dirty d)"
        conn.execute(sa_text(f"DELETE FROM cohort_summary_team WHERE seg_day >= :lo AND seg_day <= :hi AND "
                             f"(team_key, seg_day) IN {teams}"), {"lo": lo, "hi": hi})
        conn.execute(sa_text(_TEAM_FROM_ADVISERS.format(where=f"WHERE (s.team_key, s.seg_day) IN {teams}")))
    _drop_marks(conn)


# ---------------------------------------------------------------------------------------------
# Keeping them current: the importer and record_destination call these in their transactions.


@dataclass
class ImportMarks:
    """What an import's write has marked before it changed the claims."""

    full: bool
    customers: int = 0
    first_load: bool = False  # no claim stood before the import
    counted: bool = False  # cohort_summary written from a first load's tally (write_first_load)


_STAGED_DIFFERS = " OR ".join(
    f"c.{col} IS DISTINCT FROM s.{col}" for col in ("claim_end", "end_reason", "benefit", "claim_start", "customer_id")
)


def before_import(conn: Connection) -> ImportMarks:
    """Called by the importer after staging and before it changes any claim: reads what every claim of
    each customer whose claims the extract adds or changes counts for now (summary_before), so that
    after_import can take it out and count the same customers' claims in again as they then stand.

    A claim's summary facts depend only on its own values, its confirmed destination (which an import
    never changes) and its customer's other claims (the re-claim rule), so these customers' claims are
    the only ones whose counts an import can change."""
    state = conn.execute(sa_text("SELECT batch_id FROM summary_info WHERE id = 1")).first()
    has_claims = conn.execute(sa_text("SELECT 1 FROM claim LIMIT 1")).first() is not None
    if state is None or not has_claims:
        # No claims yet (or summaries of unknown state): count everything after the write.
        return ImportMarks(full=True, first_load=not has_claims)
    # One pass over the extract: the claims it adds or changes, and their customers before and after (import_claim:
    # the staged lines' claims as the importer read them before writing any).
    conn.exec_driver_sql("DROP TABLE IF EXISTS summary_changed")
    conn.execute(sa_text(
        "CREATE TEMPORARY TABLE summary_changed AS SELECT s.customer_id AS new_customer, c.customer_id AS old_customer "
        f"FROM import_staging s LEFT JOIN import_claim c ON c.line = s.line WHERE c.id IS NULL OR {_STAGED_DIFFERS}"
    ))
    conn.exec_driver_sql("DROP TABLE IF EXISTS summary_customer")
    conn.exec_driver_sql("CREATE TEMPORARY TABLE summary_customer (customer_id TEXT PRIMARY KEY)")
    conn.execute(sa_text(
        "INSERT INTO summary_customer (customer_id) SELECT x.new_customer FROM summary_changed x "
        "UNION SELECT x.old_customer FROM summary_changed x WHERE x.old_customer IS NOT NULL"
    ))
    conn.exec_driver_sql("DROP TABLE summary_changed")
    analyze(conn, "summary_customer")
    touched = conn.execute(sa_text("SELECT COUNT(*) FROM summary_customer")).scalar_one()
    customers = conn.execute(sa_text("SELECT COUNT(*) FROM customer")).scalar_one()
    if touched > FULL_REBUILD_SHARE * max(customers, 1):
        _drop_marks(conn)
        return ImportMarks(full=True)
    lo, hi = conn.execute(sa_text("SELECT MIN(start_day), MAX(start_day) FROM import_staging")).one()
    ensure_days(conn, lo, hi)
    if touched:
        # What these customers' claims count for now, to be taken out once they are written.
        _customer_facts(conn, "summary_before")
        analyze(conn, "summary_before")
    return ImportMarks(full=False, customers=touched)


def _customer_facts(conn: Connection, name: str) -> None:
    """The facts of every claim of the customers in summary_customer, as the claims stand now, into `name`."""
    _materialise_facts(conn, [f"FROM summary_customer sc {_fixed_join(conn)} claim c ON c.customer_id = sc.customer_id "
                              "JOIN cohort_segment g ON g.day = c.start_day"], name)


def _upsert(table: str, keys: Sequence[str], columns: Sequence[str], select: str) -> str:
    """Add `select`'s rows (keys, then columns) into `table`'s counts: a new key is inserted, a known one
    has the counts added to its own. (`WHERE true` keeps SQLite's parser from reading ON CONFLICT as a join's ON.)"""
    names = ", ".join((*keys, *columns))
    adds = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in columns)
    return (f"INSERT INTO {table} ({names}) SELECT {names} FROM ({select}) u WHERE true "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {adds}")


def _apply_delta(conn: Connection) -> None:
    """The changed customers' claims as they were (summary_before) taken out of the three summaries and
    as they stand now (summary_after) counted in; a row left counting no claim goes. Only the rows these
    claims count in are read or written, however many blocks they are spread over."""
    both = ("SELECT 1 AS sign, a.* FROM summary_after a UNION ALL SELECT -1 AS sign, b.* FROM summary_before b")
    keys = ", ".join(f"f.{k}" for k in _KEYS)
    named = ", ".join(f"{sql} AS {col}" for sql, col in zip(_sums("f.sign * "), COLUMNS))
    conn.exec_driver_sql("DROP TABLE IF EXISTS summary_delta")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE summary_delta AS SELECT {keys}, {named} FROM ({both}) f GROUP BY {keys}")
    conn.exec_driver_sql(_upsert("cohort_summary", _KEYS, COLUMNS, "SELECT * FROM summary_delta"))
    team_keys = ("seg_day", "office_key", "team_key", "benefit")
    conn.exec_driver_sql(_upsert(
        "cohort_summary_team", team_keys, COLUMNS,
        f"SELECT {', '.join(team_keys)}, {', '.join(f'SUM({c}) AS {c}' for c in COLUMNS)} FROM summary_delta "
        f"GROUP BY {', '.join(team_keys)}"))
    start_keys = ("start_day", "office_key", "team_key", "benefit")
    conn.exec_driver_sql(_upsert(
        "cohort_start", start_keys, ("n",),
        f"SELECT {', '.join(start_keys)}, SUM(f.sign) AS n FROM ({both}) f GROUP BY {', '.join(start_keys)} "
        "HAVING SUM(f.sign) <> 0"))
    conn.exec_driver_sql(f"DELETE FROM cohort_summary WHERE n = 0 AND ({', '.join(_KEYS)}) IN "
                         f"(SELECT {', '.join(_KEYS)} FROM summary_delta)")
    conn.exec_driver_sql(f"DELETE FROM cohort_summary_team WHERE n = 0 AND ({', '.join(team_keys)}) IN "
                         f"(SELECT {', '.join(team_keys)} FROM summary_delta)")
    conn.exec_driver_sql(f"DELETE FROM cohort_start WHERE n = 0 AND ({', '.join(start_keys)}) IN "
                         f"(SELECT {', '.join(start_keys)} FROM ({both}) f)")
    for name in ("summary_delta", "summary_before", "summary_after", "summary_customer"):
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def after_import(conn: Connection, marks: ImportMarks, batch_id: int) -> None:
    """Called by the importer after it has written the claims, in the same transaction (after
    write_first_load, on a first load counted as its rows were read)."""
    if marks.full:
        if marks.counted:
            _finish_first_load(conn)
        else:
            rebuild_summaries(conn)
        return
    if marks.customers:
        _customer_facts(conn, "summary_after")  # the same customers' claims as they stand now
        analyze(conn, "summary_after")
        _apply_delta(conn)
    _record_state(conn, batch_id)


UPKEEP_FUNCTION = "caseload_refresh_claims"


def upkeep_function_sql() -> str:
    """refresh_claims as a PostgreSQL function (store/policies.py makes it SECURITY DEFINER, owned by the owner).

    A block is counted again from *all* its claims (the on-flow adviser's, the customer's other claims for
    the re-claim rule) and its team's row is rebuilt, whoever records the change: as a person's login, under
    row-level security, the same statements would see only that login's claims and summary rows and write
    wrong totals (or none). The function returns nothing, so it shows the caller nothing they may not see;
    what it writes is the summaries' one true value, the recount of the claims as they stand."""
    teams = "(SELECT DISTINCT d.team_key, d.seg_day FROM summary_dirty d)"
    steps = [
        "DROP TABLE IF EXISTS summary_mark", _MARKS,
        "INSERT INTO summary_mark (team_key, seg_day, seg_end, adviser_id) "
        "SELECT DISTINCT COALESCE(c.onflow_team_id, 0), g.seg_day, g.seg_end, c.onflow_adviser_id "
        "FROM claim c JOIN cohort_segment g ON g.day = c.start_day WHERE c.id = ANY($1)",
        "DROP TABLE IF EXISTS summary_dirty",
        "CREATE TEMPORARY TABLE summary_dirty (team_key INTEGER NOT NULL, seg_day INTEGER NOT NULL, "
        "adviser_id TEXT NOT NULL, seg_end INTEGER NOT NULL, PRIMARY KEY (team_key, seg_day, adviser_id))",
        "INSERT INTO summary_dirty (team_key, seg_day, adviser_id, seg_end) "
        "SELECT m.team_key, m.seg_day, m.adviser_id, MAX(m.seg_end) FROM summary_mark m "
        "GROUP BY m.team_key, m.seg_day, m.adviser_id",
        "DELETE FROM cohort_summary WHERE (team_key, seg_day, adviser_id) IN "
        "(SELECT d.team_key, d.seg_day, d.adviser_id FROM summary_dirty d)",
        "DROP TABLE IF EXISTS summary_facts",
        _facts_sql(_block_claims("summary_dirty")),
        _count_sql(),
        "DROP TABLE summary_facts",
        f"DELETE FROM cohort_summary_team WHERE (team_key, seg_day) IN {teams}",
        _TEAM_FROM_ADVISERS.format(where=f"WHERE (s.team_key, s.seg_day) IN {teams}"),
        "DROP TABLE summary_mark", "DROP TABLE summary_dirty",
    ]
    body = "\n".join(f"  EXECUTE $s${sql}$s${' USING ids' if '$1' in sql else ''};" for sql in steps)
    return (f"CREATE OR REPLACE FUNCTION {UPKEEP_FUNCTION}(ids text[]) RETURNS void LANGUAGE plpgsql "
            f"SECURITY DEFINER SET search_path = CURRENT_SCHEMA AS $f$\nBEGIN\n{body}\nEND $f$")


def _has_upkeep_function(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" and conn.execute(
        sa_text(f"SELECT to_regprocedure('{UPKEEP_FUNCTION}(text[])') IS NOT NULL")).scalar()


def refresh_claims(conn: Connection, claim_ids: Sequence[str]) -> None:
    """Count again the blocks of these claims (after a change to their destination, say)."""
    if _has_upkeep_function(conn):
        # On PostgreSQL with row-level security: as the owner, whoever is connected (see upkeep_function_sql).
        conn.execute(sa_text(f"SELECT {UPKEEP_FUNCTION}(CAST(:ids AS text[]))"), {"ids": list(claim_ids)})
        return
    _new_marks(conn)
    conn.execute(
        sa_text("INSERT INTO summary_mark (team_key, seg_day, seg_end, adviser_id) "
                "SELECT DISTINCT COALESCE(c.onflow_team_id, 0), g.seg_day, g.seg_end, c.onflow_adviser_id "
                "FROM claim c JOIN cohort_segment g ON g.day = c.start_day WHERE c.id IN :ids")
        .bindparams(bindparam("ids", expanding=True)),
        {"ids": list(claim_ids)},
    )
    _refresh_marked(conn)


# ---------------------------------------------------------------------------------------------
# Reading them


@dataclass(frozen=True)
class SummaryState:
    batch_id: int | None
    rule_set: str
    weeks: tuple[int, ...]


def state(conn: Connection) -> SummaryState | None:
    row = conn.execute(sa_text("SELECT batch_id, rule_set, weeks FROM summary_info WHERE id = 1")).first()
    if row is None:
        return None
    return SummaryState(row.batch_id, row.rule_set, tuple(int(w) for w in row.weeks.split(",") if w))


def _period_case(periods: Sequence[Period], column: str) -> str:
    whens = " ".join(f"WHEN {column} <= {schema.day_number(p.end)} THEN {i}" for i, p in enumerate(periods))
    return f"CASE {whens} ELSE {len(periods)} END"
