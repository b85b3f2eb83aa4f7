"""The team screen's dialogs for moving an adviser's claims to colleagues, and for temporary cover.

Both are EditDialogs (store work in thread workers, refusals shown inside, everything typed kept).
The reassignment dialog reads its preview (how many claims, and who would get how many) in a worker
each time the filter or the advisers change, and asks once more before it moves anything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.widgets import Input, Select, SelectionList, Static

from caseload.screens.dialogs import EditDialog, Invalid, _label, parse_date, required
from caseload.store.access import Actor
from caseload.store.reassign import ClaimFilter, CoverRow
from caseload.widgets.literal import literal
from caseload.widgets.find import FindSelectionList

# The filters the dialog offers (the command line combines any of them).
FILTERS: tuple[tuple[str, ClaimFilter], ...] = (
    ("All open claims", ClaimFilter()),
    ("Red", ClaimFilter(rag=("red",))),
    ("Amber", ClaimFilter(rag=("amber",))),
    ("Green", ClaimFilter(rag=("green",))),
    ("Not rated yet", ClaimFilter(rag=("none",))),
    ("Approaching a milestone", ClaimFilter(approaching=True)),
    ("Beyond 52 weeks", ClaimFilter(beyond_52=True)),
)
COVER_DAYS = 4  # a new cover's default last day: today and the four days after (a working week)


def _who(staff_id: str, name: str) -> str:
    return f"{name or staff_id} ({staff_id})"


def preview_text(count: int, shares: dict[str, int], names: dict[str, str]) -> str:
    if not shares:
        return f"{count} claims match. Tick who they go to (space)."
    moves = " · ".join(f"{_who(t, names.get(t, ''))} {n}" for t, n in shares.items())
    return f"{count} claims would move: {moves}."


class ReassignDialog(EditDialog):
    DIALOG_TITLE = "Reassign claims"
    KEYS_HINT = "space ticks an adviser · ctrl+s reassigns (asks once more) · escape cancels"
    DOING = "Moving the claims"

    def __init__(self, adviser_id: str, name: str, colleagues: Sequence[tuple[str, str]]) -> None:
        super().__init__("", f"From {_who(adviser_id, name)}: the claims move, with their open actions, as "
                             "transfers dated the day given.")
        self.adviser_id = adviser_id
        self.names = dict(colleagues)
        self.colleagues = [(sid, n) for sid, n in colleagues if sid != adviser_id]
        self.confirming: tuple | None = None  # the choice the user was asked to confirm
        self.preview = ""
        self.result = None

    def compose_fields(self) -> ComposeResult:
        yield _label("Which claims")
        yield Select([(label, i) for i, (label, _) in enumerate(FILTERS)], value=0, allow_blank=False,
                     id="reassign-filter", compact=True)
        yield _label("To (shared out evenly in claim-start order)")
        yield FindSelectionList(*[(literal(_who(sid, n)), sid) for sid, n in self.colleagues], id="reassign-to",
                                 compact=True)
        yield Static("Reading the caseload…", id="reassign-preview", markup=False)
        yield _label("Reason (required; kept on each claim's record)")
        yield Input(id="reason", placeholder="Why?", compact=True)
        yield _label("Transfer date (YYYY-MM-DD)")
        yield Input(self.today().isoformat(), id="reassign-on", compact=True)

    def on_mount(self) -> None:
        self._changed()

    def _choice(self) -> tuple[ClaimFilter, tuple[str, ...]]:
        flt = FILTERS[int(self.query_one("#reassign-filter", Select).value)][1]
        return flt, tuple(self.query_one("#reassign-to", SelectionList).selected)

    @on(Select.Changed, "#reassign-filter")
    @on(SelectionList.SelectedChanged, "#reassign-to")
    def _changed(self) -> None:
        identity = self.caseload.identity
        if identity is not None:
            self._preview(identity.actor, *self._choice())

    @work(thread=True, exclusive=True, group="reassign-preview")
    def _preview(self, actor: Actor, flt: ClaimFilter, targets: tuple[str, ...]) -> None:
        from caseload.store.reassign import preview, share_out

        def read() -> str:
            with self.caseload.engine.connect() as conn:
                claims = preview(conn, actor, self.adviser_id, flt)
            shares = {t: len(cs) for t, cs in share_out(claims, targets).items()} if targets else {}
            return preview_text(len(claims), shares, self.names)

        self.read_and_post(read, tag=(flt, targets))

    def on_reads_loaded(self, message: EditDialog.Loaded) -> None:
        self._previewed(message.data, message.tag)

    def on_reads_failed(self, message: EditDialog.Failed) -> None:
        self._previewed(f"⚠ {message.text}", message.tag)

    def _previewed(self, text: str, choice: object) -> None:
        if choice == self._choice():
            self.preview = text
            self.query_one("#reassign-preview", Static).update(text)

    def values(self) -> dict[str, Any]:
        flt, targets = self._choice()
        if not targets:
            raise Invalid("Tick at least one adviser to move the claims to (space).")
        reason = required(self.query_one("#reason", Input).value, "A reason for the reassignment")
        on_day = parse_date(self.query_one("#reassign-on", Input).value, "The transfer date")
        return {"flt": flt, "targets": targets, "reason": reason, "on": on_day}

    def action_save(self) -> None:
        try:
            values = self.values()
        except Invalid as exc:
            self.say(f"⚠ {exc}")
            return
        key = tuple(values.values())
        if self.confirming != key:
            # Asked once more: what was typed may have changed since the last question.
            self.confirming = key
            self.say(f"{self.preview or 'Reading the caseload…'} Press ctrl+s again to move them; escape cancels.")
            return
        super().action_save()

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.reassign import reassign

        self.result = reassign(conn, clock, actor, self.adviser_id, values["targets"], values["flt"],
                               values["reason"], values["on"])

    def saved(self) -> None:
        self.dismiss(self.result)  # the result, not EditDialog's True


class CoverDialog(EditDialog):
    DIALOG_TITLE = "Cover"
    NEW = "new"

    def __init__(self, adviser_id: str, name: str, colleagues: Sequence[tuple[str, str]]) -> None:
        super().__init__("", f"{_who(adviser_id, name)}'s caseload shown to a colleague between two dates "
                             "(both included); the claims stay theirs.")
        self.adviser_id = adviser_id
        self.colleagues = [(sid, n) for sid, n in colleagues if sid != adviser_id]
        self.outcome = ""

    def compose_fields(self) -> ComposeResult:
        yield _label("Arrange new cover, or end a current one")
        yield Select([("New cover", self.NEW)], value=self.NEW, allow_blank=False, id="cover-which", compact=True)
        yield _label("Covered by")
        yield Select([(literal(_who(sid, n)), sid) for sid, n in self.colleagues], id="cover-by", compact=True,
                     prompt="Choose the colleague")
        yield _label("From (YYYY-MM-DD)")
        yield Input(self.today().isoformat(), id="cover-from", compact=True)
        yield _label("To (YYYY-MM-DD), the last day")
        yield Input((self.today() + dt.timedelta(days=COVER_DAYS)).isoformat(), id="cover-to", compact=True)
        yield _label("Reason")
        yield Input(id="cover-reason", placeholder="e.g. annual leave", compact=True)

    def on_mount(self) -> None:
        identity = self.caseload.identity
        if identity is not None:
            self._load(identity.actor)

    @work(thread=True, exclusive=True, group="cover-load")
    def _load(self, actor: Actor) -> None:
        from caseload.store.reassign import list_covers

        def read() -> list[CoverRow]:
            with self.caseload.engine.connect() as conn:
                return [c for c in list_covers(conn, actor, self.today()) if c.adviser_id == self.adviser_id]

        self.read_and_post(read)

    def on_reads_loaded(self, message: EditDialog.Loaded) -> None:
        covers: list[CoverRow] = message.data
        options = [("New cover", self.NEW)] + [(f"End cover {c.id}: {c.describe()}", str(c.id)) for c in covers]
        self.query_one("#cover-which", Select).set_options(options)
        self.query_one("#cover-which", Select).value = self.NEW
        if covers:
            self.say(f"{len(covers)} current or coming cover for this caseload: choose one above to end it.")

    def on_reads_failed(self, message: EditDialog.Failed) -> None:
        self.say(f"⚠ {message.text}")

    def values(self) -> dict[str, Any]:
        which = self.query_one("#cover-which", Select).value
        if which != self.NEW:
            return {"end_cover": int(which)}
        by = self.query_one("#cover-by", Select).value
        if by is Select.NULL:
            raise Invalid("Choose the colleague who covers.")
        start = parse_date(self.query_one("#cover-from", Input).value, "The first day")
        end = parse_date(self.query_one("#cover-to", Input).value, "The last day")
        return {"by": by, "start": start, "end": end, "reason": self.query_one("#cover-reason", Input).value}

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.reassign import add_cover, end_cover

        if "end_cover" in values:
            self.outcome = f"Ended: {end_cover(conn, clock, actor, values['end_cover']).describe()}"
            return
        add_cover(conn, clock, actor, self.adviser_id, values["by"], values["start"], values["end"], values["reason"])
        self.outcome = (f"{values['by']} sees {self.adviser_id}'s caseload from {values['start'].isoformat()} to "
                        f"{values['end'].isoformat()}.")

    def saved(self) -> None:
        self.dismiss(self.outcome)
