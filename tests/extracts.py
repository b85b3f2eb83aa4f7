"""Writing small claims extracts for tests."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = [
    "claim_id", "customer_id", "customer_name", "date_of_birth", "nino", "sex", "disability", "ethnicity",
    "benefit", "claim_start", "claim_end", "end_reason", "adviser_id", "adviser_name", "team", "office",
]


def row(claim_id: str, **kw: str) -> dict[str, str]:
    """One extract row with sensible defaults."""
    base = {
        "claim_id": claim_id, "customer_id": "P" + claim_id[1:], "customer_name": f"Customer {claim_id}",
        "date_of_birth": "1990-06-15", "nino": "AB123456C", "sex": "female", "disability": "no",
        "ethnicity": "White", "benefit": "JSA", "claim_start": "2026-01-05", "claim_end": "", "end_reason": "",
        "adviser_id": "A1", "adviser_name": "Asha Patel", "team": "Team A", "office": "Northgate",
    }
    base.update(kw)
    return base


def write_extract(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or HEADER
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(h, "") for h in header])
    return path


def cohort_of_40(path: Path) -> Path:
    """DOMAIN.md section 13: 40 claims starting Mon 2011-04-04; 18 off by day 91, 26 by 182, 33 by 364.

    Of the 18: 10 found work, 3 sanction, 2 other benefit, 3 not known. Day 91 and day 364 are
    the last days that count; days 92 and 365 are the first that don't.
    """
    import datetime as dt

    start = dt.date(2011, 4, 4)
    reasons13 = ["found_work"] * 10 + ["sanction"] * 3 + ["other_benefit"] * 2 + ["not_known"] * 3
    rows = []
    for i in range(40):
        if i < 18:
            days, reason = (91 if i == 0 else 30 + i), reasons13[i]
        elif i < 26:
            days, reason = (92 if i == 18 else 150), "failed_to_sign"
        elif i < 33:
            days, reason = (364 if i == 26 else 300), "found_work"
        else:
            days, reason = (365 if i == 33 else None), "found_work"
        end = "" if days is None else (start + dt.timedelta(days=days)).isoformat()
        rows.append(row(f"C{i:03d}", claim_start=start.isoformat(), claim_end=end,
                        end_reason=reason if end else "", date_of_birth="1980-01-01"))
    return write_extract(path / "forty.csv", rows)
