"""Home: the teams and advisers you may see, with caseload sizes, approaching counts and the latest import."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from caseload.screens.base import FrameScreen
from caseload.session import DataDate, Identity
from caseload.store.access import Actor, Role
from caseload.store.conference import AdviserConference
from caseload.store.info import AdviserSummary, ImportRow, TeamSummary
from caseload.widgets.table import NARROW_BELOW, KeyedTable, is_narrow


@dataclass(frozen=True)
class Overview:
    actor: Actor
    latest: ImportRow | None
    as_at: dt.date
    window: int
    teams: tuple[TeamSummary, ...]
    conferences: dict[str, AdviserConference] = field(default_factory=dict)  # by adviser id


def read_overview(engine, actor: Actor, today: dt.date) -> Overview:  # noqa: ANN001
    from caseload.store import settings
    from caseload.store.conference import last_conferences
    from caseload.store.info import latest_import, office_overview

    with engine.connect() as conn:
        latest = latest_import(conn)
        as_at = latest.as_at if latest else today
        window = settings.load(conn).approaching_days
        teams = office_overview(conn, actor, as_at, window)
        # Conferences are held on real days, so "overdue" is against today, not the extract's date.
        conferences = {c.adviser_id: c for c in last_conferences(conn, actor, today)}
    return Overview(actor, latest, as_at, window, tuple(teams), conferences)


def title_for(actor: Actor, teams: tuple[TeamSummary, ...]) -> str:
    team = teams[0].name if len(teams) == 1 else ""
    if actor.role is Role.ADVISER:
        return f"Your caseload · {team}" if team else "Your caseload"
    if actor.role is Role.TEAM_MANAGER:
        return f"Your team · {team}" if team else "Your team"
    if actor.role is Role.TEAM_LEADER:
        offices = sorted({t.office for t in teams})
        return f"Teams in {offices[0]}" if len(offices) == 1 else "Teams in your office"
    return "Every office's teams"


def import_text(latest: ImportRow | None) -> str:
    if latest is None:
        return "No claims imported yet: run  caseload import claims PATH --as-at DATE"
    partial = ", partial" if latest.partial else ""
    return (f"Latest import: {latest.file_name}, as at {latest.as_at.isoformat()} "
            f"({latest.rows_read:,} rows{partial}; imported {latest.imported_at:%Y-%m-%d %H:%M} "
            f"by {latest.imported_by})")


def _num(n: int | str) -> Text:
    return Text(str(n), justify="right")


def conference_text(c: AdviserConference | None, narrow: bool = False) -> str:
    """The adviser's last finished conference: its date or "never", "overdue" past 31 days, and
    "in progress" ("started", narrow) when one is started and not finished."""
    if c is None:
        return ""
    words = [c.last_on.isoformat() if c.last_on else "never"]
    if c.overdue:
        words.append("overdue")
    text = " ".join(words)
    if c.unfinished_on is not None:
        text += " · started" if narrow else " · in progress"
    return text


def table_rows(overview: Overview, narrow: bool = False) -> list[tuple[str, tuple]]:
    many_offices = len({t.office for t in overview.teams}) > 1
    rows: list[tuple[str, tuple]] = []
    for t in overview.teams:
        name = f"{t.name} ({t.office})" if many_offices else t.name
        rows.append((f"team:{t.id}", (Text(f"{name}: team total", style="bold"), "", _num(t.caseload),
                                      _num(t.approaching), "")))
        for a in t.advisers:
            rows.append((f"adviser:{a.id}", (f"  {a.name}", a.id, _num(a.caseload), _num(a.approaching),
                                             conference_text(overview.conferences.get(a.id), narrow))))
    return rows


class TeamTable(KeyedTable):
    BINDINGS = [Binding("enter", "select_cursor", "Open caseload", id="open")]


class HomeScreen(FrameScreen):
    SCREEN_NAME = "Teams and advisers"
    HELP_TEXT = (
        "The teams and advisers you may see, with each one's open claims (caseload) and how many "
        "are approaching a 13, 26 or 52-week milestone, counted as at the latest import's date. "
        "Team managers see their team; team leaders see every team in their office (an adviser's "
        "home is their own caseload instead).\n\n"
        "Last conference: the date of the adviser's last finished caseload conference (or \"never\"), "
        "marked \"overdue\" when it is more than 31 days before today (conferences are at least monthly), "
        "and \"in progress\" (\"started\" in a terminal under 100 columns, where the headers shorten to ID, Open, "
        "Near and Last conf.) when one has been started and not finished.\n\n"
        "Choose an adviser's row and press enter to open their caseload; c starts their conference (or "
        "resumes the unfinished one) after asking its date; o lists their past conferences and summaries; "
        "v opens the team view of off-flow rates by cohort and milestone. "
        "r reassigns the adviser's claims (all, or Red, Amber, Green, unrated, approaching or beyond 52) to one "
        "or more colleagues, shared out evenly, after a preview and a reason; C arranges or ends cover (a "
        "colleague sees the adviser's caseload between two dates; the claims stay theirs); ctrl+r refreshes. "
        "From the command palette (ctrl+p): find a customer, your actions, switch adviser (every adviser "
        "you may see, or all their claims at once), switch identity and theme."
    )
    BINDINGS = [
        Binding("ctrl+r", "refresh", "Refresh", show=False, id="refresh"),
        Binding("r", "reassign", "Reassign", id="home_reassign"),
        Binding("C", "cover", "Cover", id="home_cover"),
        Binding("c", "conference", "Conference", id="home_conference"),
        Binding("o", "conferences", "Past conferences", id="home_conferences"),
        Binding("v", "team_view", "Off-flow view", id="home_team_view"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.overview: Overview | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="home-import", markup=False)
        yield TeamTable(id="teams")
        yield Static("", id="home-note", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(TeamTable)
        table.add_column("Team / adviser", key="name")
        table.add_column("Staff ID", key="id")
        table.add_column("Open claims", key="caseload")
        table.add_column("Approaching", key="approaching")
        table.add_column("Last conference", key="conference")
        # Narrower than 100 columns the headers shorten and "in progress" reads "started", so every cell stays
        # whole at 80 (the help says them in full).
        table.short_labels({"id": "ID", "caseload": "Open", "approaching": "Near", "conference": "Last conf."},
                           below=NARROW_BELOW)
        self.watch(self.app, "identity", self._identity_changed)

    @property
    def narrow(self) -> bool:
        return is_narrow(self)

    def on_resize(self) -> None:
        if self.overview is not None:
            self.query_one(TeamTable).set_rows(table_rows(self.overview, self.narrow), refit=True)

    def on_screen_resume(self) -> None:
        # Back from a conference: its column may have changed.
        if self.overview is not None and self.caseload.identity is not None:
            self.load(self.caseload.identity.actor)

    def _identity_changed(self, identity: Identity | None) -> None:
        if identity is None:
            self.set_title("Who are you?")
            self._note("Choose who you are to see your teams and caseloads.")
            return
        self._note("Loading…")
        self.load(identity.actor)

    def action_refresh(self) -> None:
        if self.caseload.identity is not None:
            self.load(self.caseload.identity.actor)
            self.caseload.load_data_date()

    @work(thread=True, exclusive=True, group="home")
    def load(self, actor: Actor) -> None:
        self.read_and_post(lambda: read_overview(self.caseload.engine, actor, self.caseload.clock.today()), tag=actor)

    def _current(self, actor: Actor) -> bool:
        # A result read for someone else (before an identity switch) is never shown.
        identity = self.caseload.identity
        return identity is not None and identity.actor == actor

    def on_reads_failed(self, message: FrameScreen.Failed) -> None:
        if self._current(message.tag):
            self._note(f"⚠ {message.text}")

    def on_reads_loaded(self, message: FrameScreen.Loaded) -> None:
        o: Overview = message.data
        if not self._current(o.actor):
            return
        self.overview = o
        self.caseload.data_date = DataDate(o.latest)
        self.set_title(title_for(o.actor, o.teams))
        self.query_one("#home-import", Static).update(import_text(o.latest))
        table = self.query_one(TeamTable)
        before = table.cursor_key
        rows = table_rows(o, self.narrow)
        table.set_rows(rows)
        if before not in table.row_keys:
            # Start on the first adviser (yourself, for an adviser): a team's total row opens nothing.
            first = next((i for i, (key, _) in enumerate(rows) if key.startswith("adviser:")), 0)
            table.move_cursor(row=first, animate=False)
        if not o.teams:
            self._note("No teams yet: teams and advisers arrive with the first claims extract.")
        else:
            self._note(f"Approaching: a 13, 26 or 52-week milestone in the next {o.window} days, "
                       f"as at {o.as_at.isoformat()}. Enter on an adviser opens their caseload; c their conference.")

    def _note(self, text: str) -> None:
        self.query_one("#home-note", Static).update(text)

    def adviser(self, key: str) -> AdviserSummary | None:
        if self.overview is None or not key.startswith("adviser:"):
            return None
        staff_id = key.split(":", 1)[1]
        return next((a for t in self.overview.teams for a in t.advisers if a.id == staff_id), None)

    def _cursor_adviser(self, doing: str) -> AdviserSummary | None:
        adviser = self.adviser(self.query_one(TeamTable).cursor_key or "")
        if adviser is None:
            self.notify(f"That row is a team's total: choose an adviser's row to {doing}.")
        return adviser

    def action_conference(self) -> None:
        from caseload.screens.conference_summary import start_conference

        adviser = self._cursor_adviser("start their conference")
        if adviser is None or self.overview is None:
            return
        line = self.overview.conferences.get(adviser.id)
        start_conference(self.app, adviser.id, adviser.name, line.unfinished_on if line else None)

    def action_team_view(self) -> None:
        self.app.action_team_view()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Reassignment and cover are for team managers, team leaders and the administrator.
        if action in ("reassign", "cover"):
            identity = self.caseload.identity
            return identity is not None and identity.actor.role is not Role.ADVISER
        return True

    def _colleagues(self) -> list[tuple[str, str]]:
        return [(a.id, a.name) for t in (self.overview.teams if self.overview else ()) for a in t.advisers]

    def action_reassign(self) -> None:
        from caseload.screens.reassign import ReassignDialog

        adviser = self._cursor_adviser("reassign their claims")
        if adviser is not None:
            self.app.push_screen(ReassignDialog(adviser.id, adviser.name, self._colleagues()), self._reassigned)

    def _reassigned(self, result) -> None:  # noqa: ANN001
        if result:
            moved = ", ".join(f"{t} {n}" for t, n in result.shares.items())
            self.notify(f"Moved {result.total} claims from {result.from_adviser} on {result.on.isoformat()}: {moved}.")
            self.action_refresh()

    def action_cover(self) -> None:
        from caseload.screens.reassign import CoverDialog

        adviser = self._cursor_adviser("arrange cover for their caseload")
        if adviser is not None:
            self.app.push_screen(CoverDialog(adviser.id, adviser.name, self._colleagues()),
                                 lambda outcome: outcome and self.notify(outcome))

    def action_conferences(self) -> None:
        from caseload.screens.conference_summary import ConferenceListScreen

        adviser = self._cursor_adviser("list their conferences")
        if adviser is not None:
            self.app.push_screen(ConferenceListScreen(adviser.id, adviser.name))

    @on(DataTable.RowSelected, "#teams")
    def open_row(self, event: DataTable.RowSelected) -> None:
        from caseload.screens.caseload import CaseloadScreen, Target

        key = event.row_key.value or ""
        adviser = self.adviser(key)
        if adviser is None:
            self.notify("That row is a team's total: choose an adviser's row to open their caseload.")
            return
        self.app.push_screen(CaseloadScreen(Target(adviser.id, adviser.name)))
