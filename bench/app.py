"""The app's speed on a large database, timed inside the app: fresh process to an adviser's caseload
painted (headless), the next customer's record, and a filter keystroke to the updated rows painted.

    .venv/bin/python bench/app.py --db PATH [--adviser STAFF_ID] [--runs 5]

PATH is a database built by bench/district.py or bench/run.py (``--keep DIR`` keeps
DIR/import.sqlite3). Each run is a fresh child process driving the app headless at 120x40 with
Textual's Pilot, but the figures are not the Pilot's: a probe in the child takes the time the app
receives the key event (``App.on_event``) and the time the screen has next been painted with the
new content (``App.post_display_hook``, which Textual calls after every compositor update, headless
too). Start-up is from just before the spawn to the first paint with the caseload's rows. Floor: a
bare Textual app with a 150-row DataTable, spawn to first paint, in the same way. Each figure is the
median of --runs; the peak RSS of each child comes from bench/run.py's launcher.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from run import run_child

ADVISER = "A0001"
TODAY = "2026-11-02"  # the app's clock: a Monday after the extract's as-at date

CHILD = r'''
import asyncio, json, sys, time
from textual import events

t_spawn = float(sys.argv[1])  # time.time() in the parent just before it spawned this process
mode = sys.argv[2]


class Probe:
    """Times inside the app: when a key event reaches it, and the first paint at which `ready()` holds."""

    def __init__(self, app):
        self.key = self.painted = self.painted_wall = self.ready = None
        on_event = app.on_event

        async def on_event_probe(event):
            if isinstance(event, events.Key) and self.ready is not None and self.key is None:
                self.key = time.perf_counter()
            await on_event(event)

        app.on_event = on_event_probe
        app.post_display_hook = self._painted

    def _painted(self):
        if self.ready is not None and self.ready():
            self.painted, self.painted_wall, self.ready = time.perf_counter(), time.time(), None

    def expect(self, ready):
        self.key = self.painted = None
        self.ready = ready

    def latency(self):
        assert self.key is not None and self.painted is not None, "the probe saw no key or no paint"
        return self.painted - self.key


async def settle(pilot):
    for _ in range(200):
        await pilot.pause()
        if all(w.is_finished for w in pilot.app.workers):
            await pilot.pause()
            return
        await pilot.app.workers.wait_for_complete()


async def bare():
    from textual.app import App
    from textual.widgets import DataTable

    class Bare(App):
        def compose(self):
            yield DataTable()

        def on_mount(self):
            t = self.query_one(DataTable)
            t.add_columns("a", "b")
            t.add_rows([(i, i) for i in range(150)])

    app = Bare()
    probe = Probe(app)
    probe.expect(lambda: True)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
    print(json.dumps({"paint": probe.painted_wall - t_spawn}))


async def caseload(db, adviser, today):
    import datetime as dt
    import tempfile
    from pathlib import Path
    from caseload.app import create_app
    from caseload.clock import FixedClock
    from caseload.screens.caseload import CaseloadScreen
    from caseload.screens.customer import CustomerScreen

    with tempfile.TemporaryDirectory() as cfg:
        app = create_app(db, adviser, FixedClock.on(dt.date.fromisoformat(today)), config_dir=Path(cfg),
                         theme="textual-dark")
        probe = Probe(app)
        probe.expect(lambda: isinstance(app.screen, CaseloadScreen) and app.screen.loaded)
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert probe.painted is not None, app.screen
            out = {"paint": probe.painted_wall - t_spawn, "rows": len(app.screen.rows)}
            order = app.screen.table.row_keys
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, CustomerScreen), app.screen
            screen = app.screen
            probe.expect(lambda: screen.view is not None and screen.view.record.claim_id == order[1])
            await pilot.press("right_square_bracket")
            await settle(pilot)
            out["next_record"] = probe.latency()
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("slash")
            await settle(pilot)
            screen = app.screen
            before = screen.rows
            probe.expect(lambda: screen.text == "a" and screen.rows is not before)
            await pilot.press("a")
            await settle(pilot)
            out["keystroke"] = probe.latency()
            out["filtered_rows"] = len(screen.rows)
            print(json.dumps(out))

if mode == "bare":
    asyncio.run(bare())
else:
    asyncio.run(caseload(*sys.argv[3:6]))
'''


def app_child(*args: str) -> dict:
    """One child process; its figures, and its peak RSS as `peak_mb`."""
    import json
    import time

    r = run_child([sys.executable, "-c", CHILD, repr(time.time()), *args])
    return {**json.loads(r["stdout"].strip().splitlines()[-1]), "peak_mb": r["peak_mb"]}


def bench_app(db: Path, runs: int, log, adviser: str = ADVISER) -> dict:  # noqa: ANN001
    """--runs fresh processes on the caseload, then --runs bare Textual apps; every figure of every run."""
    out: dict[str, list] = {"paint": [], "next_record": [], "keystroke": [], "peak_mb": [], "bare_paint": [],
                            "bare_peak_mb": []}
    for k in range(runs):
        r = app_child("caseload", str(db), adviser, TODAY)
        for key in ("paint", "next_record", "keystroke", "peak_mb"):
            out[key].append(r[key])
        out["rows"], out["filtered_rows"] = r["rows"], r["filtered_rows"]
        log(f"  app run {k + 1}: caseload painted {r['paint']:.3f} s ({r['rows']} rows), next record "
            f"{r['next_record'] * 1000:.0f} ms, keystroke {r['keystroke'] * 1000:.0f} ms, peak {r['peak_mb']:.0f} MB")
    for k in range(runs):
        r = app_child("bare")
        out["bare_paint"].append(r["paint"])
        out["bare_peak_mb"].append(r["peak_mb"])
        log(f"  bare Textual app run {k + 1}: first paint {r['paint']:.3f} s")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--adviser", default=ADVISER)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    r = bench_app(a.db.resolve(), a.runs, lambda msg: print(msg, file=sys.stderr), a.adviser)
    med = {k: statistics.median(v) for k, v in r.items() if isinstance(v, list)}
    print(f"{a.runs} runs, medians; database {a.db} ({a.db.stat().st_size / 1e6:.0f} MB), adviser {a.adviser}\n")
    print("| what | median | floor | goal |")
    print("|---|---:|---:|---|")
    print(f"| fresh process to the caseload painted | {med['paint']:.3f} s | {med['bare_paint']:.3f} s "
          "(bare Textual app) | < 1 s |")
    print(f"| next customer's record (`]`), key to paint | {med['next_record'] * 1000:.0f} ms | | < 100 ms |")
    print(f"| filter keystroke to updated rows painted | {med['keystroke'] * 1000:.0f} ms | | < 100 ms |")
    print(f"| peak RSS | {max(r['peak_mb']):.0f} MB | {max(r['bare_peak_mb']):.0f} MB | < 250 MB |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
