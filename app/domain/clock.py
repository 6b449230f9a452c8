"""Time: China Standard Time, the Clock interface and timers. Core code never reads the wall clock itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol

# China has had no daylight saving since 1991; a fixed offset needs no tz database
# (Windows Python ships none, so zoneinfo would need the tzdata package).
CN_TZ = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in CN_TZ."""
        ...


@dataclass(eq=False, slots=True)
class TimerHandle:
    """One scheduled callback. `seq` orders timers due at the same moment (scheduling order)."""

    when: datetime
    seq: int
    callback: Callable[[], None]
    name: str = ""
    cancelled: bool = False
    fired: bool = False

    def __lt__(self, other: TimerHandle) -> bool:  # heap order: time, then scheduling order
        return (self.when, self.seq) < (other.when, other.seq)


class TimerService(Protocol):
    """Timers the core uses: the callback runs on the engine thread, delivered as a message on its
    queue (`bind` says where to post). A cancelled timer never runs, even if already delivered."""

    def bind(self, post: Callable[[TimerHandle], None]) -> None:
        """Where fired timers are posted (the engine's queue)."""
        ...

    def schedule_at(self, when: datetime, callback: Callable[[], None], name: str = "") -> TimerHandle: ...

    def schedule_after(
        self, delay: timedelta, callback: Callable[[], None], name: str = ""
    ) -> TimerHandle: ...

    def cancel(self, handle: TimerHandle) -> None: ...


class TimedClock(Clock, TimerService, Protocol):
    """A clock that also keeps timers (LiveClock, SimClock)."""
