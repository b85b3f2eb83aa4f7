"""The fairness view (issue 7): where attention goes, shown plainly, never ranked.

Six tabs: attention balance, Red without a plan, beyond 52, sanctions and referrals, equality, and
destination quality. `w` switches the attention window between 28 and 91 days, `g` the grouping
(per team, per office, per adviser: as the role allows). Every table is the one the exports print
(export/fairness.py), with a line under it saying what it means; a tab's tables share its height. Groups
are in name order, customers by group and claim start. The figures are read in a thread worker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static, TabbedContent, TabPane

from caseload.export.files import FAIRNESS_FORMATS, FORMAT_NAMES, export_format, write_fairness, wrote
from caseload.export.fairness import (
    TITLES, Table, attention_tables, beyond_tables, equality_tables, quality_tables, red_tables, sanction_tables,
)
from caseload.screens.base import FiguresScreen
from caseload.screens.dialogs import ExportDialog
from caseload.store.access import Actor
from caseload.store.fairness import WINDOWS, allowed_by
from caseload.widgets.table import KeyedTable

TABS = (("attention", "1 Attention"), ("red", "2 Red without a plan"), ("beyond", "3 Beyond 52"),
        ("sanctions", "4 Sanctions & referrals"), ("equality", "5 Equality"), ("quality", "6 Destination quality"))
BY_WORDS = {"team": "per team", "office": "per office", "adviser": "per adviser"}
MIN_HEIGHT = 6  # a table keeps its header and a few rows; when the tab cannot give every table this, it scrolls


class FairnessTable(KeyedTable):
    """1fr of the height its tab leaves, never taller than its rows: a short table takes what it needs and
    the longer ones share the rest."""

    def fit(self) -> None:
        need = self.header_height + self.row_count + self.scrollbar_size_horizontal
        self.styles.max_height, self.styles.min_height = need, min(need, MIN_HEIGHT)

    def watch_show_horizontal_scrollbar(self) -> None:
        self.fit()


@dataclass(frozen=True)
class Choice:
    by: str
    window: int


@dataclass(frozen=True)
class FairnessData:
    choice: Choice
    as_at: dt.date
    periods: str  # the cohort periods the cohort figures cover, in words
    tables: dict[str, list[Table]]  # by tab


# The export each tab's tables belong to (export/fairness.py); destination quality is part of the sanctions one.
REPORT_OF_TAB = {"attention": "attention", "beyond": "beyond52", "sanctions": "sanctions", "quality": "sanctions",
                 "equality": "equality"}


def fairness_query(conf, choice: Choice):  # noqa: ANN001, ANN201
    """The screen's choice as the store's query: its grouping and window, the settings' cohort periods."""
    from caseload.measures.cohorts import CohortKind
    from caseload.store import fairness
    from caseload.store.offflow import OffflowQuery

    return fairness.FairnessQuery(by=choice.by, window=choice.window,
                                  period=OffflowQuery(cohort=CohortKind(conf.cohort_kind),
                                                      attribution=conf.attribution, rule_set=conf.rule_set))


def export_fairness(engine, clock, actor: Actor, name: str, choice: Choice, path: Path) -> str:  # noqa: ANN001
    """Write the export of the tab on screen (its grouping and window) to `path`, in the format its name
    gives, customers by claim id (a named list is `caseload export ... --named`); what was written."""
    from caseload.export.fairness import TITLES, build_report
    from caseload.store import settings

    fmt = export_format(str(path), None, FAIRNESS_FORMATS)
    with engine.connect() as conn:
        report = build_report(conn, actor, name, fairness_query(settings.load(conn), choice), named=False,
                              generated_at=clock.now(), generated_by=actor.id)
    return wrote(TITLES[name], f"{len(report.csv_rows)} rows, {FORMAT_NAMES[fmt]}", write_fairness(report, path, fmt))


def read_fairness(engine, actor: Actor, choice: Choice) -> FairnessData:  # noqa: ANN001
    """Every tab's tables, as at the latest import. Customers are named: the lists hold only claims the
    viewer may open on their own caseload screens."""
    from caseload.store import fairness, settings

    with engine.connect() as conn:
        conf = settings.load(conn)
        q = fairness_query(conf, choice)
        att = fairness.attention(conn, actor, q)
        san = fairness.sanctions(conn, actor, q)
        tables = {
            "attention": attention_tables(att),
            "red": red_tables(fairness.red_without_plan(conn, actor, q), named=True),
            "beyond": beyond_tables(fairness.beyond_52(conn, actor, q), named=True),
            "sanctions": sanction_tables(san, named=True),
            "equality": equality_tables(fairness.equality(conn, actor, q)),
            "quality": quality_tables(san.quality),
        }
    p = san.periods
    words = f"{len(p)} {str(conf.cohort_kind).replace('-', ' ')}s {p[0].label} to {p[-1].label}" if p else "none"
    return FairnessData(choice, att.as_at, words, tables)


class FairnessScreen(FiguresScreen):
    SCREEN_NAME = "Fairness"
    HELP_TEXT = (
        "Where attention goes, shown plainly: nothing here ranks advisers or customers. Groups are in name "
        "order; customers by group, then claim start.\n\n"
        "1 Attention: contacts, conference coverage (the share discussed at a conference) and open actions per "
        "RAG band and duration band over the last 28 or 91 days, and the share of contacts that went to customers "
        "within 28 days of a milestone beside their share of the caseload. 2 Red without a plan: Red customers "
        "whose plan update is more than 62 days old, and how long each has waited. 3 Beyond 52: customers on "
        "benefit 365 days or more, with their last contact and conference. 4 Sanctions & referrals: sanction "
        "off-flows beside the off-flow rate, and decision maker referrals made 0 to 14 days before a milestone, "
        "flagged for review. 5 Equality: off-flow and into-employment rates, RAG mix and coverage by age band, "
        "sex, disability and ethnicity; counts under 5 show as <5. 6 Destination quality: off-flows whose "
        "reason is not known or failed to sign, and how many advisers later confirmed.\n\n"
        "Keys: w window 28 or 91 days; g grouping (per team, office or adviser, as your role allows); x exports "
        "the tab on screen (its grouping and window; customers by claim id) to a file ending in .csv, .md or "
        ".html, and says where it went; 1-6 tabs; "
        "r refreshes. A team manager sees their team and each adviser; a team leader each team and the office; "
        "an adviser their own caseload and their team's totals."
    )
    BINDINGS = [
        Binding("w", "window", "28/91 days", id="fairness_window"),
        Binding("g", "grouping", "Grouping", id="fairness_grouping"),
        Binding("x", "export", "Export", id="fairness_export"),
        *[Binding(str(i), f"show_tab('{key}')", label.split(" ", 1)[1], show=False, id=f"fairness_tab_{key}")
          for i, (key, label) in enumerate(TABS, start=1)],
        Binding("r", "refresh", "Refresh", show=False, id="fairness_refresh"),
    ]
    DEFAULT_CSS = """
    #fairness-status { height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis; }
    #fairness-tabs { height: 1fr; }
    #fairness-tabs ContentSwitcher { height: 1fr; }
    #fairness-tabs TabPane { padding: 0; height: 1fr; }
    .fairness-heading { height: 1; padding: 0 1; text-style: bold; }
    .fairness-note { height: auto; padding: 0 1 1 1; color: $text-muted; }
    .fairness-table { height: 1fr; }
    .fairness-sliver { height: 0.001fr; max-height: 0.5; }
    """

    def __init__(self, actor: Actor | None = None) -> None:
        super().__init__(actor)
        self.data: FairnessData | None = None
        self.choice: Choice | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("Reading the figures…", id="fairness-status", markup=False)
        with TabbedContent(id="fairness-tabs", initial="attention"):
            for key, label in TABS:
                with TabPane(label, id=key):
                    yield VerticalScroll(id=f"fairness-{key}")

    def on_mount(self) -> None:
        actor = self.actor
        if actor is None:
            self._status("Choose who you are first.")
            return
        self.choice = Choice(allowed_by(actor)[0], WINDOWS[0])
        self.load()

    def load(self) -> None:
        if self.actor is not None and self.choice is not None:
            self._read(self.actor, self.choice)

    @work(thread=True, exclusive=True, group="fairness")
    def _read(self, actor: Actor, choice: Choice) -> None:
        self.read_and_post(lambda: read_fairness(self.caseload.engine, actor, choice))

    def on_reads_failed(self, message: FiguresScreen.Failed) -> None:
        self._status(f"⚠ {message.text}")

    async def on_reads_loaded(self, message: FiguresScreen.Loaded) -> None:
        data = message.data
        if data.choice != self.choice:
            return  # a stale read: the user has changed the choice since
        self.data = data
        c = data.choice
        self._status(f"as at {data.as_at.isoformat()} · last {c.window} days (w) · {BY_WORDS[c.by]} (g) · "
                     f"cohort figures: {data.periods}")
        self.set_title(f"Fairness · {BY_WORDS[c.by]} · last {c.window} days")
        for key, _ in TABS:
            await self._show(key, data.tables[key])

    async def _show(self, key: str, tables: list[Table]) -> None:
        box = self.query_one(f"#fairness-{key}", VerticalScroll)
        await box.remove_children()
        widgets = []
        for t in tables:
            table = FairnessTable(id=f"fx-{t.key}", classes="fairness-table")
            widgets += [Static(t.heading, classes="fairness-heading", markup=False), table,
                        Static(t.note if t.rows else f"None. {t.note}", classes="fairness-note", markup=False)]
        # Textual makes 1fr the whole space when every 1fr table is held at its min-height
        # (_resolve.resolve_fraction_unit): a sliver of fr, under a row high, keeps 1fr what is left. It goes
        # first: after the last table, the rounding down of its fraction would cost that table a row.
        await box.mount_all([Static(classes="fairness-sliver"), *widgets])
        for t in tables:
            table = self.query_one(f"#fx-{t.key}", FairnessTable)
            for i, col in enumerate(t.columns):
                table.add_column(col, key=f"c{i}")
            table.set_rows([(str(n), tuple(Text(v, justify="right") if i in t.right else v
                                           for i, v in enumerate(row))) for n, row in enumerate(t.rows)])
            table.fit()

    def _status(self, text: str) -> None:
        self.query_one("#fairness-status", Static).update(text)

    # Actions

    def _rechoose(self, choice: Choice) -> None:
        self.choice = choice
        self._status(f"Reading the last {choice.window} days, {BY_WORDS[choice.by]}…")
        self.load()

    def action_window(self) -> None:
        if self.choice is not None:
            i = WINDOWS.index(self.choice.window)
            self._rechoose(Choice(self.choice.by, WINDOWS[(i + 1) % len(WINDOWS)]))

    def action_grouping(self) -> None:
        if self.choice is None or self.actor is None:
            return
        options = allowed_by(self.actor)
        i = options.index(self.choice.by) if self.choice.by in options else -1
        self._rechoose(Choice(options[(i + 1) % len(options)], self.choice.window))

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def action_export(self) -> None:
        if self.data is None or self.actor is None:
            return
        tab = self.query_one(TabbedContent).active
        name = REPORT_OF_TAB.get(tab)
        if name is None:
            self.notify("The Red-without-a-plan list is shown here only: x exports the attention, beyond 52, "
                        "sanctions, equality and destination quality tabs.")
            return
        actor, choice = self.actor, self.data.choice
        default = Path.cwd() / f"fairness-{name}-{choice.by}-{self.data.as_at.isoformat()}.csv"

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.export(lambda: export_fairness(self.caseload.engine, self.caseload.clock, actor, name, choice,
                                                    path), f"Writing {path.name}")

        self.app.push_screen(ExportDialog(
            f"Export {TITLES[name]} {BY_WORDS[choice.by]}, {choice.window}-day window, as on screen "
            "(customers by claim id)", default, FAIRNESS_FORMATS), chosen)

    def action_refresh(self) -> None:
        self.load()
