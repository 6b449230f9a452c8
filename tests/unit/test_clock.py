from datetime import UTC, datetime, timedelta

import pytest

from app.core.clock import LiveClock, SimClock
from app.domain.clock import CN_TZ


def test_sim_clock_moves_only_forward() -> None:
    clock = SimClock(datetime(2026, 11, 23, 9, 15, tzinfo=CN_TZ))
    clock.advance_to(datetime(2026, 11, 23, 9, 30, tzinfo=CN_TZ))
    assert clock.now().hour == 9 and clock.now().minute == 30
    with pytest.raises(ValueError, match="cannot go back"):
        clock.advance_to(datetime(2026, 11, 23, 9, 0, tzinfo=CN_TZ))
    assert clock.now().minute == 30


def test_sim_clock_needs_a_timezone_and_speaks_china_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(datetime(2026, 11, 23, 9, 15))
    clock = SimClock(datetime(2026, 11, 23, 1, 15, tzinfo=UTC))
    assert clock.now().utcoffset() == timedelta(hours=8) and clock.now().hour == 9


def test_live_clock_is_china_time() -> None:
    assert LiveClock().now().utcoffset() == timedelta(hours=8)
