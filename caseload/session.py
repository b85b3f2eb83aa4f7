"""Who is using the app and the date its figures are at: the values every screen reads.

Plain values and the reads that make them, so screens and widgets need nothing from `caseload.app`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from caseload.store.access import ADMIN, Actor, actor_for
from caseload.store.errors import UnknownStaff
from caseload.store.info import ImportRow, latest_import, office_name


@dataclass(frozen=True)
class Identity:
    """Who is using the app, and the office the header names."""

    actor: Actor
    office: str


@dataclass(frozen=True)
class DataDate:
    """The latest import (None before the first one): the as-at date every figure is computed at."""

    latest: ImportRow | None

    @property
    def as_at(self) -> dt.date | None:
        return self.latest.as_at if self.latest else None


def load_identity(conn: Connection, staff_id: str, today: dt.date | None = None) -> Identity:
    """The identity for a staff id; the administrator's id means the database owner, as on the command line.
    `today` is the app's clock's: the caseloads the person covers that day are theirs to see too."""
    try:
        actor = actor_for(conn, staff_id, today)
    except UnknownStaff:
        if staff_id == ADMIN.id:
            return Identity(ADMIN, "every office")
        raise
    return Identity(actor, office_name(conn, actor.office_id) or "")


def read_data_date(engine: Engine) -> DataDate:
    with engine.connect() as conn:
        return DataDate(latest_import(conn))
