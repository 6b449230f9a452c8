"""Trading-day phases and what each phase allows (RULES B5).

Times are naive China Standard Time wall-clock times. Each phase includes its start and excludes
its end: 9:15:00 is the opening auction, 9:25:00 the pre-open halt, 9:30:00 continuous trading,
11:30:00 the lunch break, 13:00:00 continuous, 14:57:00 the closing auction, 15:00:00 closed.
"""

from bisect import bisect_right
from datetime import time
from enum import StrEnum, unique

from app.domain.instruments import Exchange


@unique
class Phase(StrEnum):
    CLOSED = "closed"
    OPENING_AUCTION = "opening_auction"  # 9:15–9:25 call auction
    PRE_OPEN_HALT = "pre_open_halt"  # 9:25–9:30 orders and cancels accepted, processed at 9:30
    CONTINUOUS = "continuous"  # 9:30–11:30 and 13:00–14:57
    LUNCH_BREAK = "lunch_break"  # 11:30–13:00 the exchange accepts nothing
    CLOSING_AUCTION = "closing_auction"  # 14:57–15:00 call auction


# Each entry is the time a phase starts; it lasts until the next entry's time.
# SSE trading rules 2.4.2 / SZSE trading rules 2.3.2 (RULES B5). BSE: its timetable is
# [UNVERIFIED] in RULES; secondary sources give the same times, so the same table is used.
SESSION_BOUNDARIES: tuple[tuple[time, Phase], ...] = (
    (time(0, 0), Phase.CLOSED),
    (time(9, 15), Phase.OPENING_AUCTION),
    (time(9, 25), Phase.PRE_OPEN_HALT),
    (time(9, 30), Phase.CONTINUOUS),
    (time(11, 30), Phase.LUNCH_BREAK),
    (time(13, 0), Phase.CONTINUOUS),
    (time(14, 57), Phase.CLOSING_AUCTION),
    (time(15, 0), Phase.CLOSED),
)

# RULES B5: in the opening auction cancels are accepted only 9:15–9:20 (9:20:00 is too late).
OPENING_CANCEL_CUTOFF = time(9, 20)

_STARTS = tuple(start for start, _ in SESSION_BOUNDARIES)
_PHASES = tuple(phase for _, phase in SESSION_BOUNDARIES)

_ACCEPTS_ORDERS = frozenset(
    {Phase.OPENING_AUCTION, Phase.PRE_OPEN_HALT, Phase.CONTINUOUS, Phase.CLOSING_AUCTION}
)
_AUCTIONS = frozenset({Phase.OPENING_AUCTION, Phase.CLOSING_AUCTION})


def trading_day_boundaries(exchange: Exchange = Exchange.SH) -> list[tuple[time, Phase]]:
    """(start time, phase) for each phase of a trading day, in order, starting at 00:00."""
    Exchange(exchange)
    return list(SESSION_BOUNDARIES)


def phase_at(t: time, exchange: Exchange = Exchange.SH) -> Phase:
    """The phase on a trading day at wall-clock time `t` (the calendar decides if it is one)."""
    _check_time(t)
    Exchange(exchange)
    return _PHASES[bisect_right(_STARTS, t) - 1]


def can_cancel_at(t: time, exchange: Exchange = Exchange.SH) -> bool:
    """True if the exchange accepts a cancel at `t`: not 9:20–9:25, not in the closing auction
    14:57–15:00 (RULES B5), not in the lunch break or when closed. Brokers may queue cancels
    outside these windows; this is the exchange's rule."""
    phase = phase_at(t, exchange)
    if phase is Phase.OPENING_AUCTION:
        return t < OPENING_CANCEL_CUTOFF
    return phase is Phase.PRE_OPEN_HALT or phase is Phase.CONTINUOUS


def accepts_orders(phase: Phase) -> bool:
    """True if the exchange accepts new orders in `phase` (auctions, pre-open halt, continuous)."""
    return Phase(phase) in _ACCEPTS_ORDERS


def accepts_market_orders(phase: Phase) -> bool:
    """Market orders only in continuous trading; call auctions take limit orders only (RULES B5)."""
    return Phase(phase) is Phase.CONTINUOUS


def is_auction(phase: Phase) -> bool:
    """True for the opening and closing call auctions (no price cage, no market orders)."""
    return Phase(phase) in _AUCTIONS


def _check_time(t: time) -> None:
    if not isinstance(t, time):
        raise TypeError(f"t must be a datetime.time, was {type(t).__name__} {t!r}")
    if t.tzinfo is not None:
        raise ValueError(f"t must be a naive China Standard Time wall-clock time, was {t!r}")
