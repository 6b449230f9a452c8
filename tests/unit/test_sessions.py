from datetime import UTC, datetime, time

import pytest

from app.domain.instruments import Exchange
from app.domain.sessions import (
    OPENING_CANCEL_CUTOFF,
    SESSION_BOUNDARIES,
    Phase,
    accepts_market_orders,
    accepts_orders,
    can_cancel_at,
    is_auction,
    phase_at,
    trading_day_boundaries,
)

JUST_BEFORE = 59, 999_999  # seconds, microseconds


@pytest.mark.parametrize(
    ("t", "phase"),
    [
        (time(0, 0), Phase.CLOSED),
        (time(9, 14, *JUST_BEFORE), Phase.CLOSED),
        (time(9, 15), Phase.OPENING_AUCTION),
        (time(9, 20), Phase.OPENING_AUCTION),
        (time(9, 24, *JUST_BEFORE), Phase.OPENING_AUCTION),
        (time(9, 25), Phase.PRE_OPEN_HALT),
        (time(9, 29, *JUST_BEFORE), Phase.PRE_OPEN_HALT),
        (time(9, 30), Phase.CONTINUOUS),
        (time(11, 29, *JUST_BEFORE), Phase.CONTINUOUS),
        (time(11, 30), Phase.LUNCH_BREAK),
        (time(12, 59, *JUST_BEFORE), Phase.LUNCH_BREAK),
        (time(13, 0), Phase.CONTINUOUS),
        (time(14, 56, *JUST_BEFORE), Phase.CONTINUOUS),
        (time(14, 57), Phase.CLOSING_AUCTION),
        (time(14, 59, *JUST_BEFORE), Phase.CLOSING_AUCTION),
        (time(15, 0), Phase.CLOSED),
        (time(23, 59, *JUST_BEFORE), Phase.CLOSED),
    ],
)
@pytest.mark.parametrize("exchange", list(Exchange))
def test_phase_at_each_boundary(t, phase, exchange):
    assert phase_at(t, exchange) is phase


def test_phase_at_defaults_to_sse():
    assert phase_at(time(10, 0)) is Phase.CONTINUOUS


@pytest.mark.parametrize(
    ("t", "allowed"),
    [
        (time(9, 14, *JUST_BEFORE), False),  # closed
        (time(9, 15), True),
        (time(9, 19, *JUST_BEFORE), True),
        (time(9, 20), False),  # 9:20-9:25 no cancels
        (time(9, 24, *JUST_BEFORE), False),
        (time(9, 25), True),  # accepted, processed at 9:30
        (time(9, 30), True),
        (time(11, 29, *JUST_BEFORE), True),
        (time(11, 30), False),  # lunch: the exchange accepts nothing
        (time(13, 0), True),
        (time(14, 56, *JUST_BEFORE), True),
        (time(14, 57), False),  # closing auction: no cancels
        (time(14, 59, *JUST_BEFORE), False),
        (time(15, 0), False),
    ],
)
def test_can_cancel_at_windows(t, allowed):
    assert can_cancel_at(t, Exchange.SZ) is allowed
    assert can_cancel_at(t) is allowed


def test_opening_cancel_cutoff_is_nine_twenty():
    assert time(9, 20) == OPENING_CANCEL_CUTOFF


@pytest.mark.parametrize(
    ("phase", "orders", "market_orders", "auction"),
    [
        (Phase.CLOSED, False, False, False),
        (Phase.OPENING_AUCTION, True, False, True),
        (Phase.PRE_OPEN_HALT, True, False, False),
        (Phase.CONTINUOUS, True, True, False),
        (Phase.LUNCH_BREAK, False, False, False),
        (Phase.CLOSING_AUCTION, True, False, True),
    ],
)
def test_phase_permissions(phase, orders, market_orders, auction):
    assert accepts_orders(phase) is orders
    assert accepts_market_orders(phase) is market_orders
    assert is_auction(phase) is auction


def test_phase_permissions_accept_phase_values_as_strings():
    assert accepts_orders("continuous") is True
    assert is_auction("closing_auction") is True


@pytest.mark.parametrize("function", [accepts_orders, accepts_market_orders, is_auction])
def test_phase_permissions_refuse_unknown_phase(function):
    with pytest.raises(ValueError, match="after_hours"):
        function("after_hours")


def test_trading_day_boundaries_start_at_midnight_and_increase():
    boundaries = trading_day_boundaries(Exchange.BJ)

    starts = [start for start, _ in boundaries]
    assert starts[0] == time(0, 0)
    assert starts == sorted(starts)
    assert len(set(starts)) == len(starts)
    assert {phase for _, phase in boundaries} == set(Phase)
    assert boundaries[-1] == (time(15, 0), Phase.CLOSED)


def test_trading_day_boundaries_agree_with_phase_at():
    for start, phase in trading_day_boundaries():
        assert phase_at(start) is phase


def test_trading_day_boundaries_returns_a_copy():
    boundaries = trading_day_boundaries()
    boundaries.clear()

    assert len(trading_day_boundaries()) == len(SESSION_BOUNDARIES) == 8


def test_phase_at_refuses_timezone_aware_time():
    with pytest.raises(ValueError, match="naive"):
        phase_at(time(9, 30, tzinfo=UTC))


@pytest.mark.parametrize("t", [datetime(2026, 7, 6, 9, 30), "09:30", 930])
def test_phase_at_refuses_non_time(t):
    with pytest.raises(TypeError, match=r"datetime\.time"):
        phase_at(t)


def test_phase_at_refuses_unknown_exchange():
    with pytest.raises(ValueError, match="HK"):
        phase_at(time(10, 0), "HK")
