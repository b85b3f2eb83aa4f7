"""Settings that change figures. They live in the database so everyone on it sees the same numbers.

Personal preferences (theme, keys, the remembered identity) live in the user's config file instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from caseload.clock import Clock
from caseload.store import schema
from caseload.store.access import Actor, Role
from caseload.store.audit import record
from caseload.store.errors import StoreError

DEFAULTS: dict[str, Any] = {
    # Expected levels (per cent) per benefit and milestone; JSA's are the published levels.
    "expected_levels": {"JSA": {"13": 56, "26": 78, "52": 92}},
    "milestones": [13, 26, 52],
    "approaching_days": 28,
    "just_passed_days": 14,
    "rule_set": "opte-2010",
    "cohort_kind": "reporting-month",
    "attribution": "onflow",
    "suppress_below": 5,
}

DESCRIPTIONS = {
    "expected_levels": "expected off-flow level in per cent, per benefit and milestone weeks",
    "milestones": "claim milestones in weeks",
    "approaching_days": "days before a milestone that count as approaching",
    "just_passed_days": "days after a milestone that count as just passed",
    "rule_set": "destination rule set used for OPtE",
    "cohort_kind": "default cohort period: calendar-month, reporting-month, quarter or year",
    "attribution": "who a cohort is credited to: onflow (holder at claim start) or current",
    "suppress_below": "equality breakdowns print counts below this as <N",
}


@dataclass(frozen=True)
class Settings:
    expected_levels: dict[str, dict[int, int]] = field(default_factory=dict)
    milestones: tuple[int, ...] = (13, 26, 52)
    approaching_days: int = 28
    just_passed_days: int = 14
    rule_set: str = "opte-2010"
    cohort_kind: str = "reporting-month"
    attribution: str = "onflow"
    suppress_below: int = 5


def load(conn: Connection) -> Settings:
    values = dict(DEFAULTS)
    for key, value in conn.execute(select(schema.Setting.key, schema.Setting.value)):
        if key in values:
            values[key] = json.loads(value)
    return Settings(
        expected_levels={b: {int(w): int(p) for w, p in m.items()} for b, m in values["expected_levels"].items()},
        milestones=tuple(int(w) for w in values["milestones"]),
        approaching_days=int(values["approaching_days"]),
        just_passed_days=int(values["just_passed_days"]),
        rule_set=str(values["rule_set"]),
        cohort_kind=str(values["cohort_kind"]),
        attribution=str(values["attribution"]),
        suppress_below=int(values["suppress_below"]),
    )


def put(conn: Connection, clock: Clock, actor: Actor, key: str, value: Any) -> None:
    """Change a shared setting (team leaders and the administrator only), audited."""
    if key not in DEFAULTS:
        raise StoreError(f"There is no setting {key!r}. Settings: {', '.join(sorted(DEFAULTS))}.")
    actor.require(Role.TEAM_LEADER, doing="change shared settings")
    t = schema.Setting.__table__
    new = json.dumps(value, sort_keys=True)
    old_row = conn.execute(select(t.c.value, t.c.version).where(t.c.key == key)).first()
    if old_row is None:
        conn.execute(t.insert().values(key=key, value=new, version=1))
        old = json.dumps(DEFAULTS[key], sort_keys=True)
    else:
        old = old_row.value
        conn.execute(t.update().where(t.c.key == key).values(value=new, version=old_row.version + 1))
    if old != new:
        record(conn, clock, actor, "set", "setting", key, "value", old, new)
