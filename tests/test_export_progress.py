"""A long export shows that it is working on a terminal (issue 14): a live line with what it is doing and the time
so far, shown only once the export has taken a second, so a quick one prints its summary line alone; what the
export writes to standard output (the figures themselves, with `--output -`) is never mixed with it."""

from __future__ import annotations

import io
import re
import sys
import time

from caseload.cli.progress import working


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def test_a_slow_export_shows_its_line_and_what_it_says_goes_above_it(monkeypatch) -> None:
    screen, out = Terminal(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", screen)
    with working(True, "exporting offflow", after=0.05, stream=screen):
        time.sleep(0.6)
        print("figure,rows")  # standard output: the export itself
        print("Wrote 12 rows to x.csv.", file=sys.stderr)
    shown = plain(screen.getvalue())
    assert "exporting offflow…" in shown and "0:00" in shown
    assert "Wrote 12 rows to x.csv." in shown
    assert out.getvalue() == "figure,rows\n"  # nothing of the line in the figures
    assert sys.stderr is screen  # handed back after the line has gone


def test_a_quick_export_prints_only_its_own_lines() -> None:
    screen = Terminal()
    with working(True, "exporting offflow", after=1.0, stream=screen):
        pass
    time.sleep(1.2)  # the line's timer, had it not been stopped, would have fired by now
    assert screen.getvalue() == ""


def test_piped_or_quiet_no_line_is_ever_shown() -> None:
    screen = Terminal()
    with working(False, "exporting offflow", after=0.0, stream=screen):
        time.sleep(0.2)
    assert screen.getvalue() == ""
