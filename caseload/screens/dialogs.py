"""The edit dialogs of the customer record, and the adviser chooser.

Each dialog checks what it can (a reason is there, a date reads as YYYY-MM-DD) and then saves at once
in a thread worker through store.records, which audits the change and checks the row's version. A
refusal, including a stale edit (ConflictError), is shown inside the dialog and everything typed stays
where it is, so the user can look again and re-apply. Dates come from the app's clock only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from sqlalchemy import Connection
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, RadioButton, RadioSet, Select, Static, TextArea

from caseload.export.files import FORMAT_BY_SUFFIX, FORMAT_NAMES, export_format, suffix_of
from caseload.measures.clock import REVIEW_DAYS
from caseload.measures.destinations import END_REASONS, category, destination_name
from caseload.screens.reading import Reads
from caseload.store.access import Actor
from caseload.store.errors import DatabaseBusy, StoreError
from caseload.store.records import CONTACT_KINDS, DESTINATION_SOURCES
from caseload.widgets.literal import literal
from caseload.widgets.find import PickerTable
from caseload.widgets.working import Working

if TYPE_CHECKING:
    from caseload.screens.caseload import Target

ACTION_DUE_DAYS = 7
RAG_CHOICES = (("R", "Red", "a long way from work; needs far more help"),
               ("A", "Amber", "on a journey; with some help, likely to move into work"),
               ("G", "Green", "ready for work; needs little help"))


class Fields(VerticalScroll, can_focus=False):
    """The dialog's fields; scrolls when the terminal is short, but is never a stop for tab."""


class Choice(RadioButton):
    """A radio button whose dot shows only when chosen, so the choice reads without colour."""

    @property
    def BUTTON_INNER(self) -> str:  # noqa: N802 - the name ToggleButton renders
        return "●" if self.value else " "


class ChoiceSet(RadioSet):
    """A radio set whose highlight starts on the chosen button, not always on the first."""

    def on_mount(self) -> None:
        if self.pressed_index >= 0:
            self._selected = self.pressed_index


class Invalid(Exception):
    """What the user typed cannot be saved as it is; str() says what to change."""


def parse_date(text: str, what: str) -> dt.date:
    value = text.strip()
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{what} must be a date written YYYY-MM-DD, such as 2026-11-30.") from None


def required(text: str, what: str) -> str:
    value = text.strip()
    if not value:
        raise Invalid(f"{what} is required.")
    return value


@dataclass(frozen=True)
class Editable:
    """A note, contact or action as it stands, for a correction: its id, version and fields."""

    kind: str
    id: int
    version: int
    status: str
    summary: str
    fields: dict[str, Any] = field(default_factory=dict)


class EditDialog(Reads, ModalScreen[bool]):
    """A form over the screen below. Subclasses give compose_fields(), values() and write()."""

    DIALOG_TITLE = ""
    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="dialog_save"),
        Binding("escape", "cancel", "Cancel", id="dialog_cancel"),
    ]

    def __init__(self, claim_id: str, about: str = "") -> None:
        super().__init__()
        self.claim_id = claim_id
        self.about = about
        self.saving = False

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box"):
            yield Static(self.DIALOG_TITLE, id="dialog-title", markup=False)
            if self.about:
                yield Static(self.about, id="dialog-about", markup=False)
            with Fields(id="dialog-fields"):
                yield from self.compose_fields()
            yield Static("", id="dialog-message", markup=False)
            yield Static(self.KEYS_HINT, id="dialog-keys", markup=False)
            yield Working()

    KEYS_HINT = "enter or ctrl+s saves · escape cancels"
    DOING = "Saving"  # what the working line says while a save is waited on

    def compose_fields(self) -> ComposeResult:
        yield from ()

    def values(self) -> dict[str, Any]:
        """The typed values, checked; raises Invalid with what to change."""
        return {}

    def write(self, conn: Connection, clock, actor: Actor, values: dict[str, Any]) -> None:  # noqa: ANN001
        raise NotImplementedError

    def say(self, text: str) -> None:
        message = self.query_one("#dialog-message", Static)
        message.update(text)
        message.set_class(text.startswith("⚠"), "-problem")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Single-letter shortcuts (the RAG letters) are for when nothing is being typed.
        if action == "rate" and isinstance(self.focused, (Input, TextArea)):
            return False
        return True

    def action_save(self) -> None:
        if self.saving:
            return
        try:
            values = self.values()
        except Invalid as exc:
            self.say(f"⚠ {exc}")
            return
        identity = self.caseload.identity
        if identity is None:
            self.say("⚠ Choose who you are first (ctrl+p, Switch identity).")
            return
        self.saving = True
        self.say("Saving…")
        self._save(identity.actor, values)

    @work(thread=True, exclusive=True, group="dialog-save")
    def _save(self, actor: Actor, values: dict[str, Any]) -> None:
        self.write_and_post(lambda conn: self.write(conn, self.caseload.clock, actor, values), doing=self.DOING)

    def wrote(self, message: Reads.Wrote) -> None:
        if message.saved:
            self.saved()
            return
        # Everything typed stays: the user reads why and saves again, or escapes.
        self.saving = False
        kept = " What you typed is kept here." if isinstance(message.error, DatabaseBusy) else ""
        self.say(f"⚠ {message.text}{kept}")

    def saved(self) -> None:
        """Saved: close the dialog (a subclass dismisses with what it made instead)."""
        self.dismiss(True)

    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted)
    def _enter(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def today(self) -> dt.date:
        return self.caseload.clock.today()


def _label(text: str) -> Label:
    return Label(text, classes="dialog-label", markup=False)


def _reason_field(what: str) -> ComposeResult:
    yield _label(f"Reason for {what} (required)")
    yield Input(id="reason", placeholder="Why?", compact=True)


def _reason(screen: ModalScreen, what: str) -> str:
    return required(screen.query_one("#reason", Input).value, f"A reason for {what}")


def _amendment(dialog, values: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
    """The fields a correction changes, with its required reason; refused when nothing changed."""
    reason = _reason(dialog, "the correction")
    changes = {k: v for k, v in values.items() if v != dialog.amend.fields.get(k)}
    if not changes:
        raise Invalid("Nothing has changed: correct a field, or press escape to leave it as it is.")
    return {"changes": changes, "reason": reason}


class RagDialog(EditDialog):
    DIALOG_TITLE = "Set RAG rating"
    BINDINGS = [
        Binding("r,R", "rate('R')", "Red", show=False, id="rate_r"),
        Binding("a,A", "rate('A')", "Amber", show=False, id="rate_a"),
        Binding("g,G", "rate('G')", "Green", show=False, id="rate_g"),
    ]

    def __init__(self, claim_id: str, about: str = "", current: str | None = None,
                 review: dt.date | None = None, seen: int | None = None) -> None:
        super().__init__(claim_id, about)
        self.current = current
        self.review = review
        self.seen = seen  # the latest rating on screen (0: none): one set since is a stale edit

    def compose_fields(self) -> ComposeResult:
        yield _label("Rating: press R, A or G (or move with the arrows and press space)")
        with ChoiceSet(id="rag-rating", compact=True):
            for letter, word, meaning in RAG_CHOICES:
                yield Choice(f"{letter}  {word}: {meaning}", value=letter == self.current, id=f"rag-{letter}")
        yield _label("Reason (required)")
        yield Input(id="rag-reason", placeholder="Why this rating?", compact=True)
        yield _label("Next review (YYYY-MM-DD)")
        review = self.review or self.today() + dt.timedelta(days=REVIEW_DAYS)
        yield Input(review.isoformat(), id="rag-review", compact=True)

    def action_rate(self, letter: str) -> None:
        self.query_one(f"#rag-{letter}", RadioButton).value = True

    def values(self) -> dict[str, Any]:
        index = self.query_one("#rag-rating", RadioSet).pressed_index
        if index < 0:
            raise Invalid("Choose a rating: press R, A or G.")
        reason = required(self.query_one("#rag-reason", Input).value, "A reason for the rating")
        review = parse_date(self.query_one("#rag-review", Input).value, "The next review date")
        if review < self.today():
            raise Invalid(f"The next review date {review.isoformat()} is in the past; pick today or later.")
        return {"rating": RAG_CHOICES[index][0], "reason": reason, "review": review}

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.records import set_rag

        self.created = set_rag(conn, clock, actor, self.claim_id, values["rating"], values["reason"], values["review"],
                               seen=self.seen)


class NoteDialog(EditDialog):
    DIALOG_TITLE = "Add a note"
    KEYS_HINT = "ctrl+s saves (enter starts a new line) · escape cancels"

    def __init__(self, claim_id: str, about: str = "", amend: Editable | None = None) -> None:
        super().__init__(claim_id, about)
        self.amend = amend
        if amend is not None:
            self.DIALOG_TITLE = "Correct a note"

    def compose_fields(self) -> ComposeResult:
        if self.amend is not None:
            yield from _reason_field("the correction")
        yield _label("Note")
        yield TextArea(self.amend.fields["body"] if self.amend else "", id="note-body", soft_wrap=True,
                       show_line_numbers=False)

    def on_mount(self) -> None:
        if self.amend is not None:
            # A correction usually adds to or fixes the end: start there.
            body = self.query_one("#note-body", TextArea)
            body.move_cursor(body.document.end)

    def values(self) -> dict[str, Any]:
        body = required(self.query_one("#note-body", TextArea).text, "A note")
        if self.amend is None:
            return {"body": body}
        reason = _reason(self, "the correction")
        if body == self.amend.fields["body"].strip():
            raise Invalid("The note is unchanged: edit it, or press escape to leave it as it is.")
        return {"body": body, "reason": reason}

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.records import add_note, amend

        if self.amend is None:
            add_note(conn, clock, actor, self.claim_id, values["body"])
        else:
            amend(conn, clock, actor, "note", self.amend.id, self.amend.version, values["reason"], body=values["body"])


def _contact_kinds() -> list[tuple[str, str]]:
    return [(k.replace("_", " "), k) for k in CONTACT_KINDS]


class ContactDialog(EditDialog):
    DIALOG_TITLE = "Log a contact"

    def __init__(self, claim_id: str, about: str = "", amend: Editable | None = None) -> None:
        super().__init__(claim_id, about)
        self.amend = amend
        if amend is not None:
            self.DIALOG_TITLE = "Correct a contact"

    def compose_fields(self) -> ComposeResult:
        f = self.amend.fields if self.amend else {}
        if self.amend is not None:
            yield from _reason_field("the correction")
        yield _label("Date (YYYY-MM-DD)")
        yield Input(f.get("contact_on", self.today()).isoformat(), id="contact-on", compact=True)
        yield _label("Kind")
        yield Select(_contact_kinds(), value=f.get("kind", CONTACT_KINDS[0]), allow_blank=False, id="contact-kind",
                     compact=True)
        yield _label("Did the customer attend?")
        attended = f.get("attended", True)
        with ChoiceSet(id="contact-attended", compact=True):
            yield Choice("Attended", value=attended, id="contact-yes")
            yield Choice("Failed to attend", value=not attended, id="contact-no")

    def values(self) -> dict[str, Any]:
        on = parse_date(self.query_one("#contact-on", Input).value, "The contact date")
        if on > self.today():
            raise Invalid(f"The contact date {on.isoformat()} is in the future; log contacts that happened.")
        values = {"contact_on": on, "kind": self.query_one("#contact-kind", Select).value,
                  "attended": self.query_one("#contact-attended", RadioSet).pressed_index != 1}
        if self.amend is None:
            return values
        return _amendment(self, values)

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.records import amend, log_contact

        if self.amend is None:
            log_contact(conn, clock, actor, self.claim_id, values["contact_on"], values["kind"], values["attended"])
        else:
            amend(conn, clock, actor, "contact", self.amend.id, self.amend.version, values["reason"],
                  **values["changes"])


def _owner_options(owners: Sequence[tuple[str, str]]) -> list[tuple[Text, str]]:
    return [(literal(f"{name or sid} ({sid})"), sid) for sid, name in owners]


class ActionDialog(EditDialog):
    DIALOG_TITLE = "Add an action"

    def __init__(self, claim_id: str, about: str = "", owners: Sequence[tuple[str, str]] = (),
                 owner: str | None = None, amend: Editable | None = None) -> None:
        super().__init__(claim_id, about)
        self.owners = list(owners)
        self.owner = owner
        self.amend = amend
        if amend is not None:
            self.DIALOG_TITLE = "Correct an action"
            self.owner = amend.fields["owner"]
        if self.owner and self.owner not in {sid for sid, _ in self.owners}:
            self.owners.insert(0, (self.owner, ""))

    def compose_fields(self) -> ComposeResult:
        f = self.amend.fields if self.amend else {}
        if self.amend is not None:
            yield from _reason_field("the correction")
        yield _label("What is to be done")
        yield Input(f.get("description", ""), id="action-description", placeholder="e.g. send CV to local agency",
                    compact=True)
        yield _label("Owner")
        yield Select(_owner_options(self.owners), value=self.owner or Select.NULL, allow_blank=not self.owner,
                     id="action-owner", compact=True, prompt="Choose who does it")
        yield _label("Due (YYYY-MM-DD)")
        due = f.get("due_on", self.today() + dt.timedelta(days=ACTION_DUE_DAYS))
        yield Input(due.isoformat(), id="action-due", compact=True)

    def values(self) -> dict[str, Any]:
        description = required(self.query_one("#action-description", Input).value, "What is to be done")
        owner = self.query_one("#action-owner", Select).value
        if owner is Select.NULL:
            raise Invalid("Choose who owns the action.")
        due = parse_date(self.query_one("#action-due", Input).value, "The due date")
        values = {"description": description, "owner": owner, "due_on": due}
        if self.amend is None:
            return values
        return _amendment(self, values)

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.records import add_action, amend

        if self.amend is None:
            self.created = add_action(conn, clock, actor, self.claim_id, values["description"], values["owner"],
                                      values["due_on"])
        else:
            amend(conn, clock, actor, "action", self.amend.id, self.amend.version, values["reason"],
                  **values["changes"])


class ReassignDialog(EditDialog):
    DIALOG_TITLE = "Reassign an action"

    def __init__(self, claim_id: str, about: str, action: Editable, owners: Sequence[tuple[str, str]]) -> None:
        super().__init__(claim_id, about)
        self.action = action
        self.owners = list(owners)

    def compose_fields(self) -> ComposeResult:
        yield _label(f"Action: {self.action.summary}")
        yield _label("New owner")
        current = self.action.fields.get("owner")
        options = _owner_options([o for o in self.owners if o[0] != current])
        yield Select(options, id="reassign-owner", compact=True, prompt="Choose the new owner")

    def values(self) -> dict[str, Any]:
        owner = self.query_one("#reassign-owner", Select).value
        if owner is Select.NULL:
            raise Invalid("Choose the new owner.")
        return {"owner": owner}

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.records import reassign_action

        reassign_action(conn, clock, actor, self.action.id, self.action.version, values["owner"])


class WithdrawDialog(EditDialog):
    DIALOG_TITLE = "Withdraw"

    def __init__(self, claim_id: str, about: str, entry: Editable) -> None:
        super().__init__(claim_id, about)
        self.entry = entry
        self.DIALOG_TITLE = f"Withdraw this {entry.kind}"

    def compose_fields(self) -> ComposeResult:
        yield _label(f"{self.entry.kind.capitalize()}: {self.entry.summary}")
        yield _label("It stays on the record, marked withdrawn with your reason.")
        yield from _reason_field("withdrawing it")

    def values(self) -> dict[str, Any]:
        return {"reason": _reason(self, "withdrawing it")}

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.records import withdraw

        withdraw(conn, clock, actor, self.entry.kind, self.entry.id, self.entry.version, values["reason"])


class DestinationDialog(EditDialog):
    DIALOG_TITLE = "Record a confirmed destination"

    def __init__(self, claim_id: str, about: str = "", extract_reason: str | None = None) -> None:
        super().__init__(claim_id, about)
        self.extract_reason = extract_reason

    def compose_fields(self) -> ComposeResult:
        yield _label(f"The extract says: {self.extract_reason or 'no reason'}; the extract's reason is kept.")
        yield _label("Destination")
        yield Select([(f"{destination_name(c)} ({category(c)})", c) for c in END_REASONS], id="destination-code",
                     compact=True, prompt="Choose where the customer went")
        yield _label("Source")
        yield Select([(s.replace("_", " "), s) for s in DESTINATION_SOURCES], value=DESTINATION_SOURCES[0],
                     allow_blank=False, id="destination-source", compact=True)
        yield _label("Date confirmed (YYYY-MM-DD)")
        yield Input(self.today().isoformat(), id="destination-on", compact=True)

    def values(self) -> dict[str, Any]:
        code = self.query_one("#destination-code", Select).value
        if code is Select.NULL:
            raise Invalid("Choose the destination.")
        return {"code": code, "source": self.query_one("#destination-source", Select).value,
                "on": parse_date(self.query_one("#destination-on", Input).value, "The date confirmed")}

    def write(self, conn, clock, actor, values) -> None:  # noqa: ANN001
        from caseload.store.records import record_destination

        record_destination(conn, clock, actor, self.claim_id, values["code"], values["source"], values["on"])


# Switch adviser


def read_advisers(engine, actor: Actor, clock) -> list:  # noqa: ANN001
    """The teams and their advisers the actor may see, as at the latest extract."""
    from caseload.store.info import latest_import, office_overview

    with engine.connect() as conn:
        latest = latest_import(conn)
        return office_overview(conn, actor, latest.as_at if latest else clock.today())


class AdviserTable(PickerTable):
    BINDINGS = [Binding("enter", "select_cursor", "Show caseload", id="choose_adviser")]


class AdviserChooser(Reads, ModalScreen["Target | None"]):
    """Advisers in the user's scope, by team; enter shows that caseload."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="chooser_cancel")]

    def __init__(self, current: str | None = None) -> None:
        super().__init__()
        self.current = current
        self.names: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog-box", classes="chooser"):
            yield Static("Switch adviser", id="dialog-title", markup=False)
            yield Static("Loading the advisers you can see…", id="dialog-message", markup=False)
            yield AdviserTable(id="advisers")
            yield Static("enter shows that caseload · escape cancels", id="dialog-keys", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(AdviserTable)
        table.add_column("Adviser", key="name")
        table.add_column("Team", key="team")
        table.add_column("Open claims", key="caseload")
        identity = self.caseload.identity
        if identity is not None:
            self.load(identity.actor)

    @work(thread=True, exclusive=True, group="advisers")
    def load(self, actor: Actor) -> None:
        self.read_and_post(lambda: read_advisers(self.caseload.engine, actor, self.caseload.clock))

    def on_reads_loaded(self, message: Reads.Loaded) -> None:
        rows: list[tuple[str, tuple]] = [("all", ("Every open claim you can see", "", ""))]
        for t in message.data:
            for a in t.advisers:
                self.names[a.id] = a.name
                rows.append((a.id, (f"{a.name} ({a.id})", t.name, str(a.caseload))))
        table = self.query_one(AdviserTable)
        table.set_rows(rows)
        keys = [k for k, _ in rows]
        if self.current in keys:
            table.move_cursor(row=keys.index(self.current), animate=False)
        self.query_one("#dialog-message", Static).update("Choose an adviser and press enter.")
        table.focus()

    def on_reads_failed(self, message: Reads.Failed) -> None:
        self.query_one("#dialog-message", Static).update(f"⚠ The advisers could not be read: {message.text}")

    @on(DataTable.RowSelected, "#advisers")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        from caseload.screens.caseload import Target  # at run time: caseload.py imports this module

        key = event.row_key.value or ""
        self.dismiss(Target(None) if key == "all" else Target(key, self.names.get(key, "")))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ExportDialog(ModalScreen["Path | None"]):
    """Where to write what the screen shows: a file name whose extension picks the format. Enter writes,
    escape leaves it."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export_cancel")]
    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    #export-box { width: 90%; max-width: 100; height: auto; border: round $accent; background: $surface;
                  padding: 0 1; }
    #export-title, #export-hint, #export-message { height: auto; }
    #export-title { text-style: bold; }
    #export-hint { color: $text-muted; }
    #export-message { color: $error; }
    """

    def __init__(self, title: str, default: Path, formats: tuple[str, ...]) -> None:
        super().__init__()
        self.title_text = title
        self.default = default
        self.formats = formats

    @property
    def endings(self) -> str:
        """The endings it takes, in words: ".xlsx (XLSX), .csv (CSV) or .md (Markdown)"."""
        words = [f"{suffix_of(f)} ({FORMAT_NAMES[f]})" for f in self.formats]
        return ", ".join(words[:-1]) + " or " + words[-1]

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(self.title_text, id="export-title", markup=False)
            yield Input(str(self.default), id="export-path")
            yield Static(f"The file name's ending picks the format: {self.endings}; a CSV has its metadata "
                         "beside it in .meta.json. Enter writes it · escape cancels", id="export-hint", markup=False)
            yield Static("", id="export-message", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        try:
            if not text:
                raise StoreError(f"Give a file name ending in {self.endings}.")
            path = Path(text).expanduser()
            if path.suffix.lower() not in FORMAT_BY_SUFFIX:
                raise StoreError(f"{path.name} does not say a format: end the name in {self.endings}.")
            export_format(str(path), None, self.formats)
        except StoreError as exc:
            self.query_one("#export-message", Static).update(str(exc))
            return
        self.dismiss(path if path.is_absolute() else Path.cwd() / path)

    def action_cancel(self) -> None:
        self.dismiss(None)
