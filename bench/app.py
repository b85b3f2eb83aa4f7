"""The app's speed on a large database: fresh process to an adviser's caseload painted (headless),
the next customer's record, and a filter keystroke to updated rows.

    .venv/bin/python bench/app.py --db PATH [--adviser STAFF_ID] [--runs 5]

PATH is a database built by bench/run.py (--keep DIR keeps DIR/import.sqlite3, 1,000,000
claims at --rows 1000000). Each figure is the median of --runs, beside its floor measured in
the same run: a bare Textual app to first paint, in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r'''
import asyncio, json, sys, time
t_spawn = float(sys.argv[1])
mode = sys.argv[2]

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
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        print(json.dumps({"paint": time.time() - t_spawn}))

async def caseload(db, adviser):
    import datetime as dt
    import tempfile
    from pathlib import Path
    from caseload.app import create_app
    from caseload.clock import FixedClock
    from caseload.screens.caseload import CaseloadScreen
    with tempfile.TemporaryDirectory() as cfg:
        app = create_app(db, adviser, FixedClock.on(dt.date(2026, 11, 2)), config_dir=Path(cfg), theme="textual-dark")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            assert isinstance(app.screen, CaseloadScreen), app.screen
            paint = time.time() - t_spawn
            await pilot.press("enter")
            await settle(pilot)
            t = time.perf_counter()
            await pilot.press("right_square_bracket")
            await settle(pilot)
            next_record = time.perf_counter() - t
            await pilot.press("escape")
            await settle(pilot)
            await pilot.press("slash")
            await settle(pilot)
            t = time.perf_counter()
            await pilot.press("a")
            await settle(pilot)
            keystroke = time.perf_counter() - t
            print(json.dumps({"paint": paint, "next_record": next_record, "keystroke": keystroke}))

if mode == "bare":
    asyncio.run(bare())
else:
    asyncio.run(caseload(sys.argv[3], sys.argv[4]))
'''


def child(*args: str) -> dict:
    t = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD, repr(t), *args], capture_output=True, text=True, check=True,
                         env={"TZ": "UTC", "LANG": "C.UTF-8", "PATH": "/usr/bin:/bin"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", required=True, type=Path)
    ap.add_argument("--adviser", default="A0001")
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    runs = [child("caseload", str(a.db), a.adviser) for _ in range(a.runs)]
    bare = [child("bare")["paint"] for _ in range(a.runs)]
    med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
    print(f"{a.runs} runs, medians; database {a.db} ({a.db.stat().st_size / 1e6:.0f} MB), adviser {a.adviser}\n")
    print("| what | median | floor | goal |")
    print("|---|---:|---:|---|")
    print(f"| fresh process to the caseload painted | {med['paint']:.3f} s | {statistics.median(bare):.3f} s (bare Textual app) | < 1 s |")
    print(f"| next customer's record (`]`) | {med['next_record'] * 1000:.0f} ms | | < 100 ms |")
    print(f"| filter keystroke to updated rows | {med['keystroke'] * 1000:.0f} ms | | < 100 ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
