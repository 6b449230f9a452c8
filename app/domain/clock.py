"""Time: China Standard Time and the Clock interface. Core code never reads the wall clock itself."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Protocol

# China has had no daylight saving since 1991; a fixed offset needs no tz database
# (Windows Python ships none, so zoneinfo would need the tzdata package).
CN_TZ = timezone(timedelta(hours=8), "CST")


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in CN_TZ."""
        ...
