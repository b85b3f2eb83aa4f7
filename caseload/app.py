"""The caseload App, built by a factory so tests can give it a temporary database, a frozen clock,
their own config folder and a fixed theme.

Database work runs in thread workers and reaches widgets as plain objects, by message.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Input, TextArea

from caseload import config as config_mod
from caseload.clock import Clock
from caseload.screens.actions import MyActionsScreen
from caseload.screens.base import FrameScreen
from caseload.screens.caseload import CaseloadScreen, adviser_home
from caseload.screens.conference_summary import ConferenceListScreen
from caseload.screens.customer import FindCustomer, open_find_customer
from caseload.screens.dialogs import AdviserChooser, EditDialog
from caseload.screens.help import HelpScreen, binding_ids
from caseload.screens.home import HomeScreen
from caseload.screens.identity import IdentityScreen
from caseload.session import DataDate, Identity, load_identity, read_data_date
from caseload.store.access import Actor, Role
from caseload.store.audit import record
from caseload.store.db import describe, open_database, resolve_url, write
from caseload.store.info import office_name
from caseload.store.logins import connected_actor, is_owner
from caseload.store.errors import StoreError, UnknownStaff
from caseload.widgets.literal import show_controls, visible

__all__ = ["CaseloadApp", "DataDate", "Identity", "create_app", "load_identity", "read_data_date", "run_app"]

DEFAULT_THEME = "textual-dark"
FULL_GC_IDLE = 2.0  # seconds without a keystroke before a full garbage collection may run
FULL_GC_NEVER = 1_000_000  # the oldest generation's threshold while the app runs: no automatic full collection
KEY_SETTLE_MAX = 0.5  # seconds a typed-ahead key waits, at most, for the previous key's effects to finish
HIGH_CONTRAST_THEME = "caseload-high-contrast"

HIGH_CONTRAST = Theme(
    name=HIGH_CONTRAST_THEME,
    primary="#ffff00",
    secondary="#ffffff",
    accent="#ffff00",
    warning="#ffff00",
    error="#ff6060",
    success="#00ff00",
    foreground="#ffffff",
    background="#000000",
    surface="#000000",
    panel="#000000",
    boost="#000000",
    dark=True,
    luminosity_spread=0.0,
    text_alpha=1.0,
    variables={
        "block-cursor-background": "#ffff00",
        "block-cursor-foreground": "#000000",
        "block-cursor-text-style": "bold",
        "block-cursor-blurred-background": "#ffffff",
        "block-cursor-blurred-foreground": "#000000",
        "footer-background": "#000000",
        "footer-key-foreground": "#ffff00",
        "footer-description-foreground": "#ffffff",
        "border": "#ffffff",
        "border-blurred": "#ffffff",
        "scrollbar": "#ffffff",
        "scrollbar-background": "#000000",
        "foreground-muted": "#ffffff",
        "text-muted": "#ffffff",
    },
)


@dataclass
class _KeyTrip:
    """One key from the terminal on its way: the screen it was typed on and the widgets it passes."""

    screen: Screen
    path: list
    arrived: bool = False


class CaseloadApp(App[None]):
    TITLE = "caseload"
    CSS_PATH = "app.tcss"
    # Typing in the palette also searches customers (within the user's scope).
    COMMANDS = App.COMMANDS | {FindCustomer}
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="quit"),
        Binding("q", "quit_key", "Quit", show=False, id="quit_q"),
        Binding("f1", "help", "Help", key_display="F1/?", id="help"),
        Binding("question_mark", "help_key", "Help", show=False, id="help_question_mark"),
    ]

    identity: reactive[Identity | None] = reactive(None)
    data_date: reactive[DataDate | None] = reactive(None)

    class KeyDone(Message):
        """Follows a key from the terminal along its path; see on_event."""

        def __init__(self, trip: _KeyTrip) -> None:
            super().__init__()
            self.trip = trip

    class DataDateLoaded(Message):
        def __init__(self, data_date: DataDate) -> None:
            super().__init__()
            self.data_date = data_date

    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        *,
        identity: Identity | None,
        config: config_mod.Config,
        config_path: Path,
        db_key: str,
        theme: str | None = None,
        notices: Iterable[str] = (),
    ) -> None:
        super().__init__()
        show_controls()
        self.engine = engine
        self.clock = clock
        self.config = config
        self.config_path = config_path
        self.db_key = db_key
        self._notices = list(notices)
        self.register_theme(HIGH_CONTRAST)
        chosen = theme if theme in self.available_themes else DEFAULT_THEME
        self.theme = chosen
        # The theme we started with is not a choice to save; only a change made in the app is.
        self._saved_theme = chosen
        self.set_reactive(CaseloadApp.identity, identity)
        if config.keymap:
            self._apply_keymap(config.keymap)
        # Keys typed ahead, waiting for the previous key's effects (a focus move, a dialog) to finish.
        self._typed_ahead: deque[events.Key] = deque()
        self._key_in_flight = False
        self._settle_task: asyncio.Task | None = None

    def _apply_keymap(self, keymap: dict[str, str]) -> None:
        """The user's own keys (config.json's "keymap"); names caseload does not have are said, not applied."""
        known = binding_ids(self.BINDINGS)
        unknown = sorted(set(keymap) - known)
        if unknown:
            self._notices.append(f"Your keymap in {self.config_path} names keys caseload does not have: "
                                 f"{', '.join(unknown)}. F1 shows each key's name; the rest of your keymap applies.")
        self.set_keymap({name: keys for name, keys in keymap.items() if name in known})

    def notify(self, message: str, *, title: str = "", severity: str = "information",  # type: ignore[override]
               timeout: float | None = None, markup: bool = False) -> None:
        """Notifications carry names and reasons from the data: shown as they are, never read as markup."""
        super().notify(visible(str(message)), title=visible(title), severity=severity, timeout=timeout, markup=markup)

    # The frame

    def get_default_screen(self) -> Screen:
        return self.home_screen(self.identity)

    @staticmethod
    def home_screen(identity: Identity | None) -> Screen:
        """An adviser's home is their own caseload; everyone else's is the teams and advisers they may see."""
        if adviser_home(identity):
            return CaseloadScreen(home=True)
        return HomeScreen()

    @staticmethod
    def _is_home_for(screen: Screen, identity: Identity | None) -> bool:
        if adviser_home(identity):
            return isinstance(screen, CaseloadScreen) and screen.home
        return isinstance(screen, HomeScreen)

    def on_mount(self) -> None:
        # A full garbage collection stalls whatever is running for 50-90 ms (a keystroke's repaint).
        # What start-up made (modules, SQLAlchemy's and Textual's objects: ~150,000) lives as long as
        # the app, so it is frozen out of the collector's way; full collections of the rest run when
        # nobody has typed for a while, not when allocations happen to cross the threshold.
        gc.freeze()
        self._gc_threshold = gc.get_threshold()
        gc.set_threshold(self._gc_threshold[0], self._gc_threshold[1], FULL_GC_NEVER)
        self._last_key = time.monotonic()
        self.set_interval(FULL_GC_IDLE, self._collect_when_idle, name="full-gc")
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.load_data_date()
        for notice in self._notices:
            self.notify(notice, severity="warning", timeout=10)
        if self.identity is None:
            self.push_screen(self._picker(required=True), self._identity_chosen)

    def on_unmount(self) -> None:
        gc.set_threshold(*self._gc_threshold)
        gc.unfreeze()
        if self._settle_task is not None:
            self._settle_task.cancel()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key):
            self._last_key = time.monotonic()
            if not event.is_forwarded:
                # A key from the terminal. Textual hands it to the focused widget's queue and runs a
                # screen's binding for it only when it has bubbled back here, so the keys typed straight
                # after `/`, `tab` or a key that opens a form reached the old focus before it moved. One
                # key at a time instead: the next waits until this one, and what it started (its action,
                # a focus move, a screen it opened), has run, then goes wherever the focus is by then.
                if self._key_in_flight:
                    self._typed_ahead.append(event)
                    return
                await self._send_key(event)
                return
        await super().on_event(event)

    async def _send_key(self, event: events.Key) -> None:
        self._key_in_flight = True
        screen = self.screen
        target = self.focused or screen
        trip = _KeyTrip(screen, [target, *(n for n in target.ancestors if n is not self)])
        try:
            await super().on_event(event)
        finally:
            # Behind the key, along the path it takes: when this reaches the app, the key has been
            # handled by every widget on the way and its binding has run.
            target.post_message(self.KeyDone(trip))
            self._settle_task = asyncio.get_running_loop().create_task(self._release_when_done(trip))

    def on_caseload_app_key_done(self, message: KeyDone) -> None:
        message.stop()
        message.trip.arrived = True

    async def _release_when_done(self, trip: _KeyTrip) -> None:
        deadline = time.monotonic() + KEY_SETTLE_MAX
        spins = 0

        def done() -> bool:
            # A widget on the way closed (the key dismissed a dialog): the marker will not come.
            lost = any(node._closing or node._closed or not node.is_attached for node in trip.path)
            # The screen this key opened (if any) has mounted and shown its focus.
            screen = self.screen
            opened = screen is trip.screen or (screen.is_mounted and screen._message_queue.empty())
            return (trip.arrived or lost) and opened

        try:
            while time.monotonic() < deadline:
                try:
                    if done():
                        break
                except Exception:  # noqa: BLE001 - mid-way between screens (no screen to ask): look again
                    pass
                spins += 1
                await asyncio.sleep(0 if spins < 50 else 0.001)
        finally:
            # Behind whatever the key's action queued here (a focus move is a callback on the app).
            # Whatever happened above, the next key goes: a key is never held for good.
            if not self.call_later(self._release_key):
                self._key_in_flight = False

    async def _release_key(self) -> None:
        self._settle_task = None
        if not self._typed_ahead:
            self._key_in_flight = False
            return
        await self._send_key(self._typed_ahead.popleft())

    def _collect_when_idle(self) -> None:
        if time.monotonic() - self._last_key >= FULL_GC_IDLE:
            gc.collect()

    @work(thread=True, exclusive=True, group="data-date")
    def load_data_date(self) -> None:
        try:
            data_date = read_data_date(self.engine)
        except StoreError:
            return  # the home screen says what went wrong; the header keeps "reading…"
        self.post_message(self.DataDateLoaded(data_date))

    def on_caseload_app_data_date_loaded(self, message: DataDateLoaded) -> None:
        self.data_date = message.data_date

    # Keys

    def _typing(self) -> bool:
        # In a dialog every letter may be someone's answer: q and ? never quit or open help there.
        return isinstance(self.focused, (Input, TextArea)) or isinstance(self.screen, EditDialog)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("quit_key", "help_key") and self._typing():
            return False
        return True

    async def action_quit_key(self) -> None:
        await self.action_quit()

    def action_help_key(self) -> None:
        self.action_help()

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
        elif isinstance(self.screen, FrameScreen):
            self.push_screen(HelpScreen.for_screen(self.screen))

    # Identity

    def _picker(self, required: bool) -> Screen:
        current = self.identity.actor.id if self.identity else None
        return IdentityScreen(current=current, required=required)

    def action_switch_identity(self) -> None:
        if isinstance(self.screen, IdentityScreen):
            return
        if self.engine.dialect.name == "postgresql" and not (self.identity and self.identity.actor.is_admin):
            self.notify("On a shared database you are who your login is: to act as someone else, connect "
                        "with their login.", severity="warning")
            return
        self.push_screen(self._picker(required=False), self._identity_chosen)

    def _audit_switch(self, identity: Identity) -> None:
        """Every choice of identity goes into the audit: who was acting, and who is now."""
        before = self.identity.actor if self.identity else None
        if before is None or before.id != identity.actor.id:
            self._write_switch(before, identity.actor)

    @work(thread=True, group="identity-audit")
    def _write_switch(self, before: Actor | None, after: Actor) -> None:
        try:
            with write(self.engine) as conn:
                record(conn, self.clock, before or after, "switch_identity", "staff", after.id,
                       None, before.id if before else None, after.id)
        except StoreError as exc:
            self.call_from_thread(self.notify, f"The switch could not be written to the audit: {exc}",
                                  severity="error")

    def _identity_chosen(self, identity: Identity | None) -> None:
        if identity is None:
            return
        self._audit_switch(identity)
        self.config = self.config.with_identity(self.db_key, identity.actor.id)
        self._save_config()
        # Screens opened as someone else show what they were allowed to see: back to home,
        # which is the caseload for an adviser and the teams for everyone else.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.identity = identity
        if not self._is_home_for(self.screen, identity):
            # The first screen of the stack was never pushed, so it has no result callback for
            # switch_screen to pop: give it an empty one, then replace it.
            if not self.screen._result_callbacks:
                self.screen._push_result_callback(self, None)
            self.switch_screen(self.home_screen(identity))
        self.load_data_date()

    # Caseloads, customers and actions

    def action_find_customer(self) -> None:
        open_find_customer(self)

    def action_my_actions(self) -> None:
        if self.identity is not None and not isinstance(self.screen, MyActionsScreen):
            self.push_screen(MyActionsScreen())

    def action_my_conferences(self) -> None:
        if self.identity is None or isinstance(self.screen, ConferenceListScreen):
            return
        actor = self.identity.actor
        self.push_screen(ConferenceListScreen(actor.id, actor.name))

    # The figure screens are imported when first opened: with their charts and exports they are about a tenth
    # of the app's start-up (python -X importtime), which an adviser who never opens them should not wait for.
    def action_team_view(self) -> None:
        from caseload.screens.team_view import TeamViewScreen

        if self.identity is not None and not isinstance(self.screen, TeamViewScreen):
            self.push_screen(TeamViewScreen())

    def action_fairness(self) -> None:
        from caseload.screens.fairness import FairnessScreen

        if self.identity is not None and not isinstance(self.screen, FairnessScreen):
            self.push_screen(FairnessScreen())

    def action_switch_adviser(self) -> None:
        if self.identity is None:
            return
        current = self.screen.target.adviser_id if isinstance(self.screen, CaseloadScreen) else None
        self.push_screen(AdviserChooser(current), self._adviser_chosen)

    def _adviser_chosen(self, target) -> None:  # noqa: ANN001
        if target is None:
            return
        # One caseload at a time: the chosen one replaces whatever was open above home.
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(CaseloadScreen(target))

    # Themes

    def _theme_changed(self, theme: Theme) -> None:
        if theme.name == self._saved_theme:
            return
        self._saved_theme = theme.name
        self.config = self.config.with_theme(theme.name)
        self._save_config()

    def _save_config(self) -> None:
        try:
            config_mod.save(self.config_path, self.config)
        except OSError as exc:
            self.notify(f"Your settings could not be saved to {self.config_path} ({exc.strerror}); "
                        "they apply until you quit.", severity="warning", timeout=10)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield SystemCommand("Switch identity", "Choose who you are acting as", self.action_switch_identity)
        if self.identity is not None:
            yield SystemCommand("Find customer", "By name, customer id, claim id or the last 3 of the NI number",
                                self.action_find_customer)
            yield SystemCommand("My actions", "Your open actions by due date, overdue first", self.action_my_actions)
            yield SystemCommand("Team view", "Off-flow rates by cohort and milestone, with destinations, trend "
                                "and context", self.action_team_view)
            yield SystemCommand("Fairness", "Where attention goes: contacts by RAG and duration band, Red without a "
                                "plan, beyond 52, sanctions, equality, destination quality", self.action_fairness)
            if self.identity.actor.role is Role.ADVISER:
                yield SystemCommand("My conferences", "Your caseload conferences and their summaries (read only)",
                                    self.action_my_conferences)
            else:
                yield SystemCommand("Switch adviser", "Show another adviser's caseload", self.action_switch_adviser)
        yield SystemCommand("Theme: high contrast", "White on black with yellow highlights",
                            lambda: setattr(self, "theme", HIGH_CONTRAST_THEME))
        yield SystemCommand("Theme: standard", f"The default theme ({DEFAULT_THEME})",
                            lambda: setattr(self, "theme", DEFAULT_THEME))
        yield from super().get_system_commands(screen)


def create_app(
    db_url: str | None,
    as_staff: str | None,
    clock: Clock,
    *,
    config_dir: Path | None = None,
    theme: str | None = None,
    default_staff: str | None = None,
) -> CaseloadApp:
    """The app on db_url, acting as as_staff, else the identity remembered for this database, else
    default_staff (the demo's team manager, the first time), else asking.

    Raises StoreError (with a sentence for the user) when as_staff is not on the staff list.
    """

    config_path = config_mod.config_dir(config_dir) / config_mod.FILE_NAME
    loaded = config_mod.load(config_path)
    notices = [loaded.problem] if loaded.problem else []
    db_key = describe(resolve_url(db_url))
    engine = open_database(db_url, clock)
    identity = None
    # Before the app runs, so reading here blocks no event loop.
    if engine.dialect.name == "postgresql":
        # The login is the person (store/logins.py): no picker, and --as for the database owner only (audited).
        with engine.connect() as conn:
            owner = is_owner(conn)
        wanted = (as_staff or loaded.config.identity_for(db_key) or default_staff) if owner else as_staff
        try:
            actor = connected_actor(engine, clock, wanted or None, clock.today())
        except UnknownStaff:
            if as_staff or not owner:
                raise
            actor = connected_actor(engine, clock, None, clock.today())
        with engine.connect() as conn:
            identity = (Identity(actor, "every office") if actor.is_admin
                        else Identity(actor, office_name(conn, actor.office_id) or ""))
        return CaseloadApp(engine, clock, identity=identity, config=loaded.config, config_path=config_path,
                           db_key=db_key, theme=theme or loaded.config.theme, notices=notices)
    with engine.connect() as conn:
        if as_staff:
            identity = load_identity(conn, as_staff, clock.today())
        elif (remembered := loaded.config.identity_for(db_key)) is not None:
            try:
                identity = load_identity(conn, remembered, clock.today())
            except UnknownStaff:
                notices.append(f"{remembered}, who you were last time, is no longer on the staff list: "
                               "choose who you are.")
        elif default_staff:
            identity = load_identity(conn, default_staff, clock.today())
    return CaseloadApp(engine, clock, identity=identity, config=loaded.config, config_path=config_path,
                       db_key=db_key, theme=theme or loaded.config.theme, notices=notices)


def run_app(db_url: str | None, as_staff: str | None, clock: Clock, default_staff: str | None = None) -> int:
    app = create_app(db_url, as_staff, clock, default_staff=default_staff)
    try:
        app.run()
    finally:
        app.engine.dispose()
    return app.return_code or 0
