"""Regenerate the README's screenshots of the demo office: .venv/bin/python scripts/screenshot.py

Builds demo office 1 in a temporary folder, opens the app headless with the demo's frozen
clock and a fixed theme, and writes docs/caseload.svg (an adviser's caseload) and
docs/customer.svg (a customer record), as Textual exports them.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADVISER = "A0001"


async def _settle(pilot) -> None:  # noqa: ANN001
    for _ in range(50):
        await pilot.pause()
        if all(w.is_finished for w in pilot.app.workers):
            await pilot.pause()
            return
        await pilot.app.workers.wait_for_complete()


async def main() -> int:
    from caseload.app import create_app
    from caseload.demo import build_demo, demo_dates
    from caseload.clock import FixedClock
    from caseload.store.db import open_database

    with tempfile.TemporaryDirectory(prefix="caseload-shots-") as tmp:
        db = str(Path(tmp) / "demo.sqlite3")
        office = build_demo(open_database(db, FixedClock.on(demo_dates(1)[1])), seed=1)
        app = create_app(db, ADVISER, office.clock, config_dir=Path(tmp), theme="textual-dark")
        async with app.run_test(size=(120, 36)) as pilot:
            await _settle(pilot)
            shots = ROOT / "docs"
            shots.mkdir(exist_ok=True)
            (shots / "caseload.svg").write_text(app.export_screenshot(title="caseload: an adviser's caseload"))
            await pilot.press("enter")
            await _settle(pilot)
            (shots / "customer.svg").write_text(app.export_screenshot(title="caseload: a customer record"))
    print("wrote docs/caseload.svg and docs/customer.svg")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
