"""Child sizes and slice schedules: pure functions, no engine (RULES B3 lots).

A child is always a valid single order for the exchange: buys in whole lots (STAR: at least 200,
then steps of 1), sells in whole lots where only the LAST child of a line (the one that empties
it) may carry the odd remainder of an odd-lot holding. A child never makes what is left of the
line unsendable (a STAR remainder below 200 is folded into the child that would leave it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from app.domain.errors import QuantityError
from app.domain.quantity import check_quantity, lot_size, max_order_qty, quantity_step
from app.domain.side import Side

__all__ = ["child_qty", "slice_times", "u_shape_weights"]


def child_qty(
    code: str, side: Side, want: int, remaining: int, *, holding: int = 0, market: bool = False
) -> int:
    """The largest valid child of at most `want` shares out of the line's `remaining` shares (0: none).

    `holding` is the sellable quantity (sells only). `remaining` is what the line may still send;
    a child equal to it is the last one and may carry the odd lot of a sell."""
    if want <= 0 or remaining <= 0:
        return 0
    want = min(want, remaining, max_order_qty(code, market=market))
    minimum, step = lot_size(code), quantity_step(code)
    if want == remaining and _valid(code, side, want, holding, market):
        return want  # the last child: everything that is left (odd lot of a sell included)
    qty = want - want % step if step > 1 else want
    if step == minimum:
        qty -= qty % minimum  # lot boards: whole lots (the odd remainder only in the last child)
    elif qty < minimum:
        return 0
    rest = remaining - qty
    if 0 < rest < minimum and step != minimum:  # STAR/BSE: never leave a rest below the minimum
        qty = remaining - minimum if remaining - minimum >= minimum else 0
        if qty == 0 and remaining <= want:
            qty = remaining
    if qty <= 0 or not _valid(code, side, qty, holding, market):
        return 0
    return qty


def _valid(code: str, side: Side, qty: int, holding: int, market: bool) -> bool:
    try:
        check_quantity(code, side, qty, holding=holding, market=market)
    except QuantityError:
        return False
    return True


def slice_times(start: datetime, end: datetime, slices: int, *, lunch: tuple[time, time]) -> list[datetime]:
    """`slices` moments spread evenly over the TRADING time of [start, end): the lunch break
    (`lunch` = (11:30, 13:00)) does not count, so no slice falls into it."""
    if slices < 1 or end <= start:
        return [start]
    lunch_start = start.replace(hour=lunch[0].hour, minute=lunch[0].minute, second=0, microsecond=0)
    lunch_end = start.replace(hour=lunch[1].hour, minute=lunch[1].minute, second=0, microsecond=0)

    def trading_seconds(a: datetime, b: datetime) -> float:
        total = (b - a).total_seconds()
        overlap = (min(b, lunch_end) - max(a, lunch_start)).total_seconds()
        return total - max(overlap, 0.0)

    def at_offset(seconds: float) -> datetime:
        moment = start + timedelta(seconds=seconds)
        if start < lunch_start and moment >= lunch_start:
            moment += lunch_end - lunch_start
        elif lunch_start <= start < lunch_end:
            moment = lunch_end + timedelta(seconds=seconds)
        return moment

    span = trading_seconds(start, end)
    return [at_offset(span * k / slices) for k in range(slices)]


def u_shape_weights(moments: Sequence[datetime]) -> list[float]:
    """An intraday volume profile for VWAP: heavy at the open and before the close, light at
    midday (A-share volume is U-shaped). One weight per slice moment, summing to 1."""
    if not moments:
        return []
    open_s, close_s = 9.5 * 3600, 15 * 3600
    mid, half = (open_s + close_s) / 2, (close_s - open_s) / 2
    raw = []
    for m in moments:
        t = m.hour * 3600 + m.minute * 60 + m.second
        x = max(-1.0, min(1.0, (t - mid) / half))
        raw.append(1.0 + 2.0 * x * x)
    total = sum(raw)
    return [w / total for w in raw]
