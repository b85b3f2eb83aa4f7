"""The team view: off-flow figures for a team manager's team, or for every team in a team leader's
office and the office as a whole (DOMAIN.md sections 5, 6 and 9).

A cohort-by-milestone matrix over the last 12 (or 24) cohort periods, each rate beside its
into-employment rate and OPtE count and, for the cell under the cursor, the destinations of its
off-flows; a trend chart of the rates per cohort against the expected levels; and for a team
manager, each adviser's caseload, RAG mix, approaching counts and rates. Groups and advisers are
ordered by name: nothing is ranked, and nothing is sorted by a rate. Any cell explains itself (e):
the claims of its cohort, which of them count, and the rule set. The office's note on the
period travels beside the figures. All database work runs in thread workers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static, TabbedContent, TabPane, TextArea

from caseload.export.files import FORMAT_NAMES, OFFFLOW_FORMATS, export_format, write_offflow, wrote
from caseload.measures.cohorts import CohortKind, Period
from caseload.measures.destinations import BENEFITS, Category, destination_name
from caseload.measures.offflow import OffflowRow
from caseload.measures.rates import SMALL_N, truncated_pct
from caseload.screens.base import FiguresScreen
from caseload.screens.dialogs import ExportDialog
from caseload.screens.team_funnel import FUNNEL_HELP, FunnelCurveMixin
from caseload.store.access import Actor, Role
from caseload.store.caseload import CaseloadSummary
from caseload.store.errors import StoreError
from caseload.store.notes import ContextNote
from caseload.store.offflow import Explanation, OffflowQuery
from caseload.widgets.cohort_matrix import CellKey, CohortMatrix, can_still_make_it, target_word
from caseload.widgets.funnel_chart import FunnelChart
from caseload.widgets.header import STALE_AFTER_DAYS
from caseload.widgets.offflow_curve import OffflowCurve
from caseload.widgets.table import KeyedTable
from caseload.widgets.trend_chart import TrendChart
from caseload.widgets.trend_chart import legend as trend_legend

DESCRIPTION = "Team view: off-flow rates by cohort and milestone, with destinations, trend and advisers"
KINDS = (CohortKind.REPORTING_MONTH, CohortKind.CALENDAR_MONTH, CohortKind.QUARTER)
KIND_WORDS = {CohortKind.REPORTING_MONTH: "reporting months", CohortKind.CALENDAR_MONTH: "calendar months",
              CohortKind.QUARTER: "quarters", CohortKind.YEAR: "years"}
PERIOD_CHOICES = (12, 24)
# The destination mix, in the words and order the team view shows it (other and other known together).
MIX = (("employment", (Category.EMPLOYMENT,)), ("other benefit", (Category.OTHER_BENEFIT,)),
       ("education and training", (Category.EDUCATION_TRAINING,)), ("sanction", (Category.SANCTION,)),
       ("failed to sign", (Category.FAILED_TO_SIGN,)), ("not known", (Category.NOT_KNOWN,)),
       ("other", (Category.OTHER, Category.OTHER_KNOWN)))


# ---------------------------------------------------------------------------------------------
# What the screen shows, read in a worker


@dataclass(frozen=True)
class Choice:
    """What the user has chosen to look at."""

    kind: CohortKind
    benefit: str | None
    periods: int


@dataclass(frozen=True)
class GroupView:
    key: str  # "office:Northgate" or "team:Team A"
    label: str
    group_by: str
    name: str  # the group's value in the roll-up rows
    rows: tuple[OffflowRow, ...]
    mix: dict  # (period start, milestone) -> {Category: off-flows}


@dataclass(frozen=True)
class AdviserLine:
    id: str
    name: str
    caseload: CaseloadSummary
    # milestone -> (off-flows, cohort size) pooled over the cohorts in the window final at that milestone
    pooled: dict[int, tuple[int, int]]


@dataclass(frozen=True)
class TeamViewData:
    actor: Actor
    choice: Choice
    query: OffflowQuery  # group_by is set per group when explaining
    as_at: dt.date
    periods: tuple[Period, ...]
    milestones: tuple[int, ...]
    groups: tuple[GroupView, ...]
    notes: dict[str, ContextNote]  # by period label, the actor's office's
    advisers: tuple[AdviserLine, ...] = ()
    rule_set: str = ""
    source_file: str = ""
    has_levels: bool = True
    unit_rows: tuple[OffflowRow, ...] = ()  # a team manager's roll-up by adviser, for the funnel plot


def default_benefit(levels: dict) -> str | None:
    """The first benefit with expected levels (JSA by default), so Red and Green can be shown."""
    return next((b for b in BENEFITS if levels.get(b)), None)


def _group_views(result, group_by: str, label) -> list[GroupView]:  # noqa: ANN001
    names = sorted({r.group for r in result.rows})
    out = []
    for name in names:
        rows = tuple(r for r in result.rows if r.group == name)
        mix = {(r.period.start, r.milestone_weeks): result.mix_of(r) for r in rows}
        out.append(GroupView(f"{group_by}:{name}", label(name), group_by, name, rows, mix))
    return out


def read_team_view(engine, actor: Actor, choice: Choice | None, today: dt.date) -> TeamViewData:  # noqa: ANN001
    from caseload.store import settings
    from caseload.store.caseload import summary as caseload_summary
    from caseload.store.info import team_name
    from caseload.store.offflow import offflow

    with engine.connect() as conn:
        conf = settings.load(conn)
        if choice is None:
            kind = CohortKind(conf.cohort_kind)
            choice = Choice(kind if kind in KINDS else CohortKind.REPORTING_MONTH,
                            default_benefit(conf.expected_levels), PERIOD_CHOICES[0])
        base = OffflowQuery(cohort=choice.kind, milestones=tuple(sorted(set(conf.milestones))),
                            last_n=choice.periods, benefit=choice.benefit, attribution="onflow",
                            rule_set=conf.rule_set)
        groups: list[GroupView] = []
        if actor.role in (Role.TEAM_LEADER, Role.ADMIN):
            by_office = offflow(conn, actor, replace(base, group_by="office"))
            groups += _group_views(by_office, "office", lambda n: f"{n} (whole office)")
        by_team = offflow(conn, actor, replace(base, group_by="team"))
        groups += _group_views(by_team, "team", lambda n: n)
        if not groups and actor.role in (Role.TEAM_MANAGER, Role.ADVISER) and actor.team_id is not None:
            name = team_name(conn, actor.team_id) or "your team"
            groups.append(GroupView(f"team:{name}", name, "team", name, (), {}))
        advisers: list[AdviserLine] = []
        unit_rows: list[OffflowRow] = []
        if actor.role is Role.TEAM_MANAGER:
            advisers = _adviser_lines(conn, actor, base, by_team.as_at, conf.approaching_days, caseload_summary,
                                      unit_rows)
        notes = {n.period_label: n for n in by_team.context_notes
                 if actor.office_id is None or n.office_id == actor.office_id}
        if actor.role is Role.ADMIN:
            notes = {}
        latest = by_team.latest_import or {}
        return TeamViewData(
            actor=actor, choice=choice, query=base, as_at=by_team.as_at, periods=tuple(by_team.periods),
            milestones=base.milestones, groups=tuple(groups), notes=notes, advisers=tuple(advisers),
            rule_set=by_team.rule_set.name, source_file=latest.get("file_name", ""),
            has_levels=bool(choice.benefit and conf.expected_levels.get(choice.benefit)),
            unit_rows=tuple(unit_rows),
        )


def _adviser_lines(conn, actor: Actor, base: OffflowQuery, as_at: dt.date, window: int, caseload_summary,  # noqa: ANN001, ANN202
                   rows_out: list | None = None):
    from caseload.store.info import team_advisers
    from caseload.store.offflow import offflow

    staff = team_advisers(conn, actor.team_id)
    by_adviser = offflow(conn, actor, replace(base, group_by="adviser"))
    if rows_out is not None:
        rows_out.extend(by_adviser.rows)
    pooled: dict[str, dict[int, list[int]]] = {}
    for r in by_adviser.rows:
        if r.status != "final":
            continue
        acc = pooled.setdefault(r.group, {}).setdefault(r.milestone_weeks, [0, 0])
        acc[0] += r.offflows
        acc[1] += r.cohort_size
    lines = []
    for sid, name in staff:
        display = name or sid
        counts = pooled.get(name or "", {})
        lines.append(AdviserLine(
            id=sid, name=display, caseload=caseload_summary(conn, actor, as_at, sid, window),
            pooled={w: tuple(counts.get(w, (0, 0))) for w in base.milestones},
        ))
    # Ordered by name, never by a figure.
    return sorted(lines, key=lambda a: (a.name.casefold(), a.id))


def read_explanation(engine, actor: Actor, query: OffflowQuery, group: GroupView, cell: CellKey) -> Explanation:  # noqa: ANN001
    from caseload.store.offflow import explain

    with engine.connect() as conn:
        return explain(conn, actor, replace(query, group_by=group.group_by), group.name, cell.period, cell.milestone)


def save_note(conn, clock, actor: Actor, kind: CohortKind, label: str, text: str, version: int | None) -> None:  # noqa: ANN001
    from caseload.store import notes

    if actor.office_id is None:
        raise StoreError("The administrator belongs to no office: write the note with "
                         "caseload note set PERIOD TEXT --office NAME.")
    notes.set_note(conn, clock, actor, actor.office_id, str(kind), label, text, version)


# ---------------------------------------------------------------------------------------------
# Words


def age_text(as_at: dt.date, today: dt.date) -> tuple[str, bool]:
    days = (today - as_at).days
    if days > STALE_AFTER_DAYS:
        return f"as at {as_at.isoformat()} ⚠ extract {days} days old", True
    if days <= 0:
        return f"as at {as_at.isoformat()}", False
    return f"as at {as_at.isoformat()} ({days} day{'s' if days != 1 else ''} old)", False


def status_text(data: TeamViewData, today: dt.date) -> tuple[str, bool]:
    age, stale = age_text(data.as_at, today)
    c = data.choice
    parts = [f"{c.periods} {KIND_WORDS[c.kind]} (c)", f"{c.benefit or 'all benefits'} (b)", age,
             "on-flow attribution", f"rule set {data.rule_set}"]
    return " · ".join(parts), stale


def groups_text(data: TeamViewData, current: int) -> Text:
    text = Text("Group (g): ", style="bold", no_wrap=True, overflow="ellipsis")
    for i, g in enumerate(data.groups):
        if i:
            text.append(" · ")
        text.append(f"▸ {g.label}" if i == current else g.label, style="reverse bold" if i == current else "")
    return text


def mix_text(mix: dict, offflows: int) -> str:
    if not offflows:
        return "none yet"
    return " · ".join(f"{word} {sum(mix.get(c, 0) for c in cats)}" for word, cats in MIX)


def detail_text(data: TeamViewData, group: GroupView, cell: CellKey | None, row: OffflowRow | None) -> Text:
    """The cell under the cursor in full: the rate against its level, its destinations, the note."""
    text = Text()
    if cell is None:
        text.append("Move to a milestone's column to see that rate in full.", style="dim")
        return text
    p, w = cell.period, cell.milestone
    text.append(f"{p.label} ({p.start.isoformat()} to {p.end.isoformat()}) · {w} weeks · {group.label} · "
                f"as at {data.as_at.isoformat()}", style="bold")
    text.append("\n")
    if row is None:
        text.append("No claims started in this period.\n\n")
    else:
        text.append(f"{row.offflows} of {row.cohort_size} ended within {w} weeks: {row.rate_pct}%")
        word, style = target_word(row)
        if word:
            text.append(" ")
            text.append(word, style=style)
            text.append(f" against {row.target_pct}%")
            if row.meets_target is False:
                text.append(f", {row.still_needed} more needed")
        elif not data.has_levels:
            text.append(" (no expected level for this benefit mix)")
        if row.status == "interim":
            text.append(f" · interim: {row.not_yet_at} not yet at {w} weeks")
            if row.meets_target is False and not can_still_make_it(row):
                text.append(", too few to close the gap")
        else:
            text.append(" · final")
        if row.cohort_size < SMALL_N:
            text.append(f" · small n: fewer than {SMALL_N} claims", style="bold")
        text.append("\n")
        emp = truncated_pct(row.employment, row.cohort_size) or "n/a"
        text.append(f"Into employment {row.employment}/{row.cohort_size} = {emp}% · OPtE {row.opte} "
                    f"(rule set {data.rule_set})\n")
        text.append(f"Destinations of the {row.offflows} off-flows: "
                    f"{mix_text(group.mix.get((p.start, w), {}), row.offflows)}")
    text.append("\n")
    note = data.notes.get(p.label)
    if note is not None:
        text.append(f"Note on {p.label} ({note.office}, {note.author}): ", style="bold")
        text.append(note.text)
    else:
        text.append(f"No context note on {p.label}.", style="dim")
    return text


def pooled_text(off: int, size: int) -> Text:
    if size == 0:
        return Text("none final yet", style="dim")
    text = Text(f"{off}/{size} {truncated_pct(off, size)}%", justify="right")
    if size < SMALL_N:
        text.append(" small n", style="reverse")
    return text


def adviser_rows(data: TeamViewData) -> list[tuple[str, tuple]]:
    rows = []
    for a in data.advisers:
        s = a.caseload
        rag = f"R {s.red} · A {s.amber} · G {s.green} · – {s.unrated}"
        approaching = " / ".join(str(s.approaching.get(w, 0)) for w in (13, 26, 52))
        rows.append((a.id, (a.name, Text(str(s.size), justify="right"), rag, approaching,
                            *(pooled_text(*a.pooled.get(w, (0, 0))) for w in data.milestones))))
    return rows


# ---------------------------------------------------------------------------------------------
# Explain this number, and the note


class ExplainScreen(ModalScreen[None]):
    """The claims behind one cell: its denominator, which are in the numerator, and the rule set."""

    BINDINGS = [Binding("escape", "close", "Close", id="explain_close")]
    DEFAULT_CSS = """
    ExplainScreen { align: center middle; }
    #explain-box { width: 96%; height: 90%; border: round $accent; background: $surface; padding: 0 1; }
    #explain-head { height: auto; }
    #explain-table { height: 1fr; }
    #explain-foot { height: 1; color: $text-muted; }
    """

    def __init__(self, explanation: Explanation, label: str) -> None:
        super().__init__()
        self.explanation = explanation
        self.label = label

    def compose(self) -> ComposeResult:
        e = self.explanation
        head = Text()
        head.append(f"Explain: {e.period.label} · {e.milestone_weeks} weeks · {self.label} · as at "
                    f"{e.as_at.isoformat()}\n", style="bold")
        rate = truncated_pct(e.numerator, e.denominator)
        head.append(f"{e.numerator} of the {e.denominator} claims that started from {e.period.start.isoformat()} to "
                    f"{e.period.end.isoformat()} ended within {e.milestone_weeks} weeks"
                    + (f" ({rate}%)" if rate else "") + f"; {e.opte} count as OPtE.\n")
        head.append(f"Rule set {e.rule_set}: {e.rule_set_description}. The confirmed destination, where an adviser "
                    "recorded one, takes the place of the extract's reason in the reason-based figures.")
        with Vertical(id="explain-box"):
            yield Static(head, id="explain-head", markup=False)
            yield KeyedTable(id="explain-table")
            yield Static("escape closes", id="explain-foot")

    def on_mount(self) -> None:
        table = self.query_one("#explain-table", KeyedTable)
        for key, label in (("claim", "Claim"), ("start", "Started"), ("end", "Ended"), ("days", "Days"),
                           ("extract", "Extract reason"), ("confirmed", "Confirmed"), ("counts", "Counts"),
                           ("opte", "OPtE")):
            table.add_column(label, key=key)
        table.set_rows([(r.claim_id, (
            r.claim_id, r.start.isoformat(), r.end.isoformat() if r.end else "open",
            Text(str(r.days), justify="right"), (destination_name(r.extract_reason) or "(none)") if r.end else "",
            destination_name(r.confirmed_reason), "✓ counts" if r.counts else "– no", "yes" if r.opte else "",
        )) for r in self.explanation.rows])
        table.focus()

    def action_close(self) -> None:
        self.dismiss(None)


class NoteDialog(ModalScreen[str | None]):
    """Write the office's note on a cohort period; ctrl+s saves, escape leaves it as it was."""

    BINDINGS = [Binding("ctrl+s", "save", "Save", id="note_save", priority=True),
                Binding("escape", "cancel", "Cancel", id="note_cancel")]
    DEFAULT_CSS = """
    NoteDialog { align: center middle; }
    #note-box { width: 80; height: 16; border: round $accent; background: $surface; padding: 0 1; }
    #note-title { height: auto; text-style: bold; }
    #note-text { height: 1fr; }
    #note-foot { height: 1; color: $text-muted; }
    """

    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        self.title_text = title
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="note-box"):
            yield Static(self.title_text, id="note-title", markup=False)
            yield TextArea(self.text, id="note-text", soft_wrap=True)
            yield Static("ctrl+s saves (empty text removes the note) · escape cancels", id="note-foot")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_save(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


def export_team_view(engine, clock, actor: Actor, query: OffflowQuery, path: Path) -> str:  # noqa: ANN001
    """Write the off-flow figures the screen shows (its benefit, periods, cohort kind and milestones, at its
    grouping) to `path`, in the format its name gives; what was written, in a sentence."""
    from caseload.export.offflow import metadata
    from caseload.store.offflow import offflow

    fmt = export_format(str(path), None, OFFFLOW_FORMATS)
    with engine.connect() as conn:
        result = offflow(conn, actor, query)
    meta = metadata(result, generated_at=clock.now(), generated_by=actor.id)
    return wrote(f"{len(result.rows)} rows", FORMAT_NAMES[fmt], write_offflow(result, meta, path, fmt))


# ---------------------------------------------------------------------------------------------
# The screen


class TeamViewScreen(FunnelCurveMixin, FiguresScreen):
    SCREEN_NAME = "Team view"
    HELP_TEXT = (
        "Off-flow rates by cohort and milestone for your team (a team manager) or for every team in your "
        "office and the office as a whole (a team leader; g moves between them). Every figure is as at the "
        "latest import's date, with a warning when that extract is more than 7 days old.\n\n"
        "Each cell: off-flows/cohort size and the rate, truncated, never rounded up; ✓ Green when it meets the "
        "expected level, ✗ Red when it misses it (exact whole-number comparison); interim while members have not "
        "yet reached the milestone, with the off-flows still needed when they could still make it; small n under "
        "10 claims. Beside each rate: the into-employment rate and OPtE (off-flows potentially to employment); "
        "the line below the matrix gives the cell's destinations in full and the office's note on the period.\n\n"
        "Keys: c cohort kind (reporting months, calendar months, quarters); b benefit; p 12 or 24 periods; "
        "e explains the rate under the cursor (the claims in its cohort, which count, and the rule set); "
        "n writes the office's note on the period (team managers and team leaders); x exports the figures "
        "as on screen (benefit, periods, cohort kind, milestones, grouping) to a file whose name ends in .xlsx, "
        ".csv, .md or .html, and says where it went; 1 cohorts, 2 trend, "
        "3 advisers (team managers: caseload, RAG mix, approaching and rates per adviser); f fairness (where "
        "attention goes: contacts by RAG and duration band, Red without a plan, beyond 52, sanctions, equality); "
        "r refreshes.\n\n"
        + FUNNEL_HELP + " Curve (5): the share still on benefit at each week for the group (g), or for a team "
        "leader an equality group (y), with the 13, 26 and 52-week marks and the count at risk.\n\n"
        "Teams and advisers are in name order. Nothing is ranked: a rate is read with its size, its "
        "destinations and its context, never against a league table."
    )
    BINDINGS = [
        Binding("c", "cohort_kind", "Kind", id="team_view_kind"),
        Binding("b", "benefit", "Benefit", id="team_view_benefit"),
        Binding("g", "next_group", "Group", id="team_view_group"),
        Binding("G", "previous_group", "Previous group", show=False, id="team_view_group_back"),
        Binding("p", "periods", "12/24", id="team_view_periods"),
        Binding("e", "explain", "Explain", id="team_view_explain"),
        Binding("n", "note", "Note", id="team_view_note"),
        Binding("x", "export", "Export", id="team_view_export"),
        Binding("1", "show_tab('cohorts')", "Cohorts", show=False, id="team_view_tab_cohorts"),
        Binding("2", "show_tab('trend')", "Trend", show=False, id="team_view_tab_trend"),
        Binding("3", "show_tab('advisers')", "Advisers", show=False, id="team_view_tab_advisers"),
        Binding("r", "refresh", "Refresh", show=False, id="team_view_refresh"),
        Binding("f", "app.fairness", "Fairness", id="team_view_fairness"),
        Binding("4", "show_tab('funnel')", "Funnel", show=False, id="team_view_tab_funnel"),
        Binding("u", "show_tab('funnel')", "Funnel", show=False, id="team_view_funnel"),
        Binding("5", "show_tab('curve')", "Curve", show=False, id="team_view_tab_curve"),
        Binding("m", "funnel_milestone", "Milestone", show=False, id="team_view_funnel_milestone"),
        Binding("y", "equality_group", "Equality group", show=False, id="team_view_equality"),
    ]
    DEFAULT_CSS = """
    #team-status, #team-groups { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    #team-status.-stale { background: $warning; color: $background; text-style: bold; }
    #team-status.-stale:nocolor { text-style: bold reverse; }
    #team-tabs { height: 1fr; }
    #team-tabs TabPane { padding: 0; }
    #team-detail { height: 6; padding: 0 1; }
    #team-legend { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    #trend-legend, #advisers-note { height: auto; padding: 0 1; color: $text-muted; }
    #team-advisers { height: 1fr; }
    #funnel-row { height: 1fr; }
    #funnel-key { width: 41; height: 1fr; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    #funnel-legend { height: auto; padding: 0 1; color: $text-muted; }
    #curve-groups { height: 1; padding: 0 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    #curve-key { height: 2; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    class Explained(Message):
        def __init__(self, explanation: Explanation, label: str) -> None:
            super().__init__()
            self.explanation = explanation
            self.label = label

    def __init__(self, actor: Actor | None = None) -> None:
        super().__init__(actor)
        self.data: TeamViewData | None = None
        self.choice: Choice | None = None
        self.group_index = 0

    def compose_body(self) -> ComposeResult:
        yield Static("Reading the figures…", id="team-status", markup=False)
        yield Static("", id="team-groups", markup=False)
        with TabbedContent(id="team-tabs", initial="cohorts"):
            with TabPane("1 Cohorts", id="cohorts"):
                yield CohortMatrix(id="team-matrix")
                yield Static("", id="team-detail", markup=False)
                yield Static(
                    "✓ Green meets, ✗ Red misses the expected level · interim: can still rise; need N: off-flows "
                    "still needed · emp: into employment · e explains", id="team-legend", markup=False)
            with TabPane("2 Trend", id="trend"):
                yield TrendChart(id="team-trend")
                yield Static("", id="trend-legend", markup=False)
            with TabPane("3 Advisers", id="advisers"):
                yield KeyedTable(id="team-advisers", cursor_type="row")
                yield Static("", id="advisers-note", markup=False)
            with TabPane("4 Funnel", id="funnel"):
                with Horizontal(id="funnel-row"):
                    yield FunnelChart(id="team-funnel")
                    yield Static("", id="funnel-key")
                yield Static(FUNNEL_HELP, id="funnel-legend", markup=False)
            with TabPane("5 Curve", id="curve"):
                yield Static("", id="curve-groups")
                yield OffflowCurve(id="team-curve")
                yield Static("", id="curve-key")

    def on_mount(self) -> None:
        actor = self.actor
        if actor is None or actor.role is not Role.TEAM_MANAGER:
            self.query_one(TabbedContent).hide_tab("advisers")
        self.hide_extra_tabs()
        table = self.query_one("#team-advisers", KeyedTable)
        for key, label in (("name", "Adviser"), ("size", "Caseload"), ("rag", "RAG mix"),
                           ("approaching", "Approaching 13/26/52w")):
            table.add_column(label, key=key)
        self.query_one("#team-groups", Static).display = False
        self.query_one(CohortMatrix).focus()
        self.load()

    # Loading

    def load(self) -> None:
        actor = self.actor
        if actor is None:
            self._status("Choose who you are first.", False)
            return
        self._read(actor, self.choice)

    @work(thread=True, exclusive=True, group="team-view")
    def _read(self, actor: Actor, choice: Choice | None) -> None:
        self.read_and_post(lambda: read_team_view(self.caseload.engine, actor, choice, self.caseload.clock.today()))

    def on_reads_failed(self, message: FiguresScreen.Failed) -> None:
        self._status(f"⚠ {message.text}", False)

    def on_reads_loaded(self, message: FiguresScreen.Loaded) -> None:
        data = message.data
        if self.choice is not None and data.choice != self.choice:
            return  # a stale read: the user has changed the choice since
        self.data = data
        self.choice = data.choice
        self.group_index = min(self.group_index, max(0, len(data.groups) - 1))
        text, stale = status_text(data, self.caseload.clock.today())
        self._status(text, stale)
        self._show_group()
        self._show_advisers()
        self.show_funnel()
        if self.curve_tab_active():
            self.load_curve()

    def _status(self, text: str, stale: bool) -> None:
        status = self.query_one("#team-status", Static)
        status.update(text)
        status.set_class(stale, "-stale")

    @property
    def group(self) -> GroupView | None:
        if self.data is None or not self.data.groups:
            return None
        return self.data.groups[self.group_index]

    def _show_group(self) -> None:
        data, group = self.data, self.group
        if data is None:
            return
        groups = self.query_one("#team-groups", Static)
        groups.display = len(data.groups) > 1
        if len(data.groups) > 1:
            groups.update(groups_text(data, self.group_index))
        if group is None:
            self.set_title("Team view")
            self.query_one("#team-detail", Static).update("No cohorts to show: no claims have been imported "
                                                          "for your team yet.")
            return
        self.set_title(f"Team view · {group.label}")
        matrix = self.query_one(CohortMatrix)
        matrix.show(group.rows, data.periods, data.milestones)
        self._show_detail()
        chart_title = (f"{group.label}: off-flow rate by cohort ({KIND_WORDS[data.choice.kind]}, "
                       f"{data.choice.benefit or 'all benefits'}), as at {data.as_at.isoformat()}")
        self.query_one(TrendChart).show(chart_title, group.rows, data.periods, data.milestones)
        levels = "" if data.has_levels else " · no expected level for all benefits together (b chooses one)"
        self.query_one("#trend-legend", Static).update(
            trend_legend(group.rows, data.milestones) + levels + ". Interim rates can still rise; the matrix (1) "
            "has every count behind these points.")

    def _show_detail(self) -> None:
        if self.data is None or self.group is None:
            return
        matrix = self.query_one(CohortMatrix)
        cell = matrix.cell
        self.query_one("#team-detail", Static).update(detail_text(self.data, self.group, cell, matrix.row_for(cell)))

    def _show_advisers(self) -> None:
        data = self.data
        if data is None or self.actor is None or self.actor.role is not Role.TEAM_MANAGER:
            return
        table = self.query_one("#team-advisers", KeyedTable)
        wanted = [f"w{w}" for w in data.milestones]
        have = [str(c.key.value) for c in table.ordered_columns][4:]
        if have != wanted:
            for key in have:
                table.remove_column(key)
            for w in data.milestones:
                table.add_column(f"{w} weeks", key=f"w{w}")
        table.set_rows(adviser_rows(data))
        self.query_one("#advisers-note", Static).update(
            f"Ordered by name. Caseload, RAG mix (R Red · A Amber · G Green · – not rated) and approaching "
            f"(a milestone within the window) count open claims as at {data.as_at.isoformat()}. Rates pool the "
            f"cohorts of these {data.choice.periods} {KIND_WORDS[data.choice.kind]} that are final at each "
            f"milestone ({data.choice.benefit or 'all benefits'}); small n: fewer than {SMALL_N} claims.")

    @on(DataTable.CellHighlighted, "#team-matrix")
    def _cell_moved(self, event: DataTable.CellHighlighted) -> None:
        self._show_detail()
        self._funnel_milestone = None  # the funnel follows the cursor's period and milestone again
        self.show_funnel()

    # Actions

    def _rechoose(self, **change) -> None:  # noqa: ANN003
        if self.choice is None:
            return
        self.choice = replace(self.choice, **change)
        self._status(f"Reading {self.choice.periods} {KIND_WORDS[self.choice.kind]}, "
                     f"{self.choice.benefit or 'all benefits'}…", False)
        self.load()

    def action_cohort_kind(self) -> None:
        if self.choice is not None:
            i = KINDS.index(self.choice.kind) if self.choice.kind in KINDS else -1
            self._rechoose(kind=KINDS[(i + 1) % len(KINDS)])

    def action_benefit(self) -> None:
        if self.choice is not None:
            options: list[str | None] = [*BENEFITS, None]
            i = options.index(self.choice.benefit) if self.choice.benefit in options else -1
            self._rechoose(benefit=options[(i + 1) % len(options)])

    def action_periods(self) -> None:
        if self.choice is not None:
            i = PERIOD_CHOICES.index(self.choice.periods) if self.choice.periods in PERIOD_CHOICES else -1
            self._rechoose(periods=PERIOD_CHOICES[(i + 1) % len(PERIOD_CHOICES)])

    def _move_group(self, step: int) -> None:
        if self.data is None or len(self.data.groups) < 2:
            self.notify("There is one group here: a team leader moves between the office and its teams.")
            return
        self.group_index = (self.group_index + step) % len(self.data.groups)
        self._show_group()
        if self.curve_tab_active():
            self.load_curve()

    def action_next_group(self) -> None:
        self._move_group(1)

    def action_previous_group(self) -> None:
        self._move_group(-1)

    def action_show_tab(self, tab: str) -> None:
        tabs = self.query_one(TabbedContent)
        if tab == "advisers" and (self.actor is None or self.actor.role is not Role.TEAM_MANAGER):
            self.notify("The advisers' figures are for their team manager.")
            return
        self.reveal_tab(tab)
        tabs.active = tab
        target = {"cohorts": "#team-matrix", "advisers": "#team-advisers", "funnel": "#team-funnel"}.get(tab)
        if target:
            self.query_one(target).focus()

    def action_refresh(self) -> None:
        self.load()
        self.caseload.load_data_date()

    def action_explain(self) -> None:
        if self.data is None or self.group is None:
            return
        matrix = self.query_one(CohortMatrix)
        cell = matrix.cell
        if cell is None:
            self.notify("Move to a milestone's column first: e explains the rate under the cursor.")
            return
        if matrix.row_for(cell) is None:
            self.notify(f"No claims started in {cell.period.label}: there is nothing to explain.")
            return
        self._explain(self.data.actor, self.data.query, self.group, cell)

    @work(thread=True, exclusive=True, group="team-view-explain")
    def _explain(self, actor: Actor, query: OffflowQuery, group: GroupView, cell: CellKey) -> None:
        self.read_and_post(lambda: read_explanation(self.caseload.engine, actor, query, group, cell),
                           lambda e: self.Explained(e, group.label))

    def on_team_view_screen_explained(self, message: Explained) -> None:
        self.app.push_screen(ExplainScreen(message.explanation, message.label))

    def action_export(self) -> None:
        if self.data is None or self.group is None:
            return
        data, group = self.data, self.group
        query = replace(data.query, group_by=group.group_by)
        benefit = query.benefit or "all benefits"
        name = f"offflow-{group.group_by}-{(query.benefit or 'all').lower()}-{data.as_at.isoformat()}.xlsx"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.export(lambda: export_team_view(self.caseload.engine, self.caseload.clock, data.actor, query,
                                                     path), f"Writing {path.name}")

        self.app.push_screen(ExportDialog(
            f"Export the off-flow figures by {group.group_by} as on screen: {benefit}, {len(data.periods)} "
            f"{KIND_WORDS[data.choice.kind]}, milestones {', '.join(f'{m}w' for m in data.milestones)}",
            Path.cwd() / name, OFFFLOW_FORMATS), chosen)

    def action_note(self) -> None:
        actor = self.actor
        if self.data is None or actor is None:
            return
        if actor.role not in (Role.TEAM_MANAGER, Role.TEAM_LEADER):
            self.notify("Context notes are written by team managers and team leaders; you can read them here.")
            return
        matrix = self.query_one(CohortMatrix)
        row = matrix.cursor_coordinate.row
        if not self.data.periods or row >= len(self.data.periods):
            return
        period = self.data.periods[row]
        note = self.data.notes.get(period.label)
        kind = self.data.choice.kind

        def done(text: str | None) -> None:
            if text is None or (note is not None and text.strip() == note.text) or (note is None and not text.strip()):
                return
            self._save_note(actor, kind, period.label, text, note.version if note else None)

        self.app.push_screen(NoteDialog(f"Note on {KIND_WORDS[kind][:-1]} {period.label} for your office "
                                        f"(local labour market, staffing): shown beside the figures and in exports",
                                        note.text if note else ""), done)

    @work(thread=True, exclusive=True, group="team-view-note")
    def _save_note(self, actor: Actor, kind: CohortKind, label: str, text: str, version: int | None) -> None:
        self.write_and_post(lambda conn: save_note(conn, self.caseload.clock, actor, kind, label, text, version),
                            f"Saved the note on {label}.", "note", doing=f"Saving the note on {label}")

    def wrote(self, message: FiguresScreen.Wrote) -> None:
        super().wrote(message)
        if message.tag == "note" and message.saved:
            self.load()
