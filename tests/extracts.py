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
