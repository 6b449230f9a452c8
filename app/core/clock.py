"""A live clock and a simulated one that a driver moves forward at any speed."""

from __future__ import annotations

import threading
from datetime import datetime

from app.domain.clock import CN_TZ


class LiveClock:
    def now(self) -> datetime:
        return datetime.now(CN_TZ)


class SimClock:
    """Simulated time. Only moves forward; `advance_to` is called by the simulation driver."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError(f"SimClock needs a timezone-aware start time, was {start!r}")
        self._now = start.astimezone(CN_TZ)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def advance_to(self, when: datetime) -> None:
        when = when.astimezone(CN_TZ)
        with self._lock:
            if when < self._now:
                raise ValueError(f"simulated time cannot go back: now {self._now}, was asked {when}")
            self._now = when
