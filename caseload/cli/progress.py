"""Progress on a terminal for the command line's long commands (an import, the demo's build, an export).

On a terminal the command shows one live line on standard error: the stage in words, a bar (the share
of the file checked while checking; a moving bar in the set-based stages after it, whose share is not
known), the rows read, their rate and the time so far. Piped, redirected or with `--quiet`, nothing is
shown and only the command's summary and its errors are printed.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, SpinnerColumn, Task, TaskProgressColumn, TextColumn
from rich.text import Text

from caseload.store.importer import Progress as ImportProgress


class _SinceStart(ProgressColumn):
    """The time since the command began (rich's own column restarts with each stage's task)."""

    def __init__(self, started: float) -> None:
        super().__init__()
        self.started = started

    def render(self, task: Task) -> Text:
        seconds = int(time.monotonic() - self.started)
        return Text(f"{seconds // 60}:{seconds % 60:02d}", style="progress.elapsed")


def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
    """Whether to show progress: not asked to be quiet, and standard error is a terminal."""
    stream = stream or sys.stderr
    return not quiet and stream.isatty()


@contextmanager
def import_bar(show: bool, label: str = "", stream: TextIO | None = None) -> Iterator[ImportProgress | None]:
    """A callback for `import_claims(progress=...)` that drives a progress line, or None when not shown.
    `label` goes before the stage (the demo's "extract 2 of 5")."""
    if not show:
        yield None
        return
    console = Console(file=stream or sys.stderr)
    started = time.monotonic()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(bar_width=12),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows, {task.fields[rate]:,}/s"),
        _SinceStart(started),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = [bar.add_task(f"{label}checking", total=1.0, rows=0, rate=0)]

        def tell(stage: str, rows: int, share: float | None) -> None:
            elapsed = time.monotonic() - started
            rate = int(rows / elapsed) if elapsed > 0 else 0
            description = f"{label}{stage}"
            if share is None or bar.tasks[-1].total is None:
                # rich cannot take a task's total back to "unknown", so each such stage is a task of its own.
                if bar.tasks[-1].description != description:
                    bar.remove_task(task[0])
                    task[0] = bar.add_task(description, total=None if share is None else 1.0, rows=rows, rate=rate)
            bar.update(task[0], description=description, completed=share or 0, rows=rows, rate=rate)

        yield tell


@contextmanager
def working(show: bool, what: str, after: float = 1.0, stream: TextIO | None = None) -> Iterator[None]:
    """A live line ("exporting offflow…", a spinner and the time so far) for a command whose share done is not
    known, shown only once it has taken `after` seconds, so a quick command prints its summary alone. Standard
    output is left alone (it may carry the export itself); what the command writes to standard error meanwhile
    is printed above the line."""
    if not show:
        yield
        return
    started = time.monotonic()
    bar = Progress(SpinnerColumn(), TextColumn("{task.description}"), _SinceStart(started),
                   console=Console(file=stream or sys.stderr), transient=True, redirect_stdout=False)
    bar.add_task(f"{what}…", total=None)
    lock = threading.Lock()
    state = {"shown": False, "done": False}

    def show_line() -> None:
        with lock:
            if not state["done"]:
                bar.start()
                state["shown"] = True

    timer = threading.Timer(after, show_line)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            if state["shown"]:
                bar.stop()
