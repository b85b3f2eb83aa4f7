"""The injected clock. Nothing else in caseload asks the system for today's date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    def today(self) -> dt.date: ...

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The real clock, used only by the command line entry points."""

    def today(self) -> dt.date:
        return dt.date.today()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class FixedClock:
    """A clock frozen at one instant, for tests, snapshots and the demo office."""

    instant: dt.datetime

    @classmethod
    def on(cls, day: dt.date) -> "FixedClock":
        return cls(dt.datetime(day.year, day.month, day.day, 9, 0, tzinfo=dt.timezone.utc))

    def today(self) -> dt.date:
        return self.instant.date()

    def now(self) -> dt.datetime:
        return self.instant
