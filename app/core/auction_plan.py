"""The simplest honest execution of a signal batch: each line goes into its call auction.

Lines due at the open enter the opening call auction (9:15–9:25) as limit orders priced a
few percent through the previous close, capped at the daily limits; lines due at the close
enter the closing call auction (14:57–15:00) priced through the last trade. Sells go before
buys. Sells are capped at what is sellable now (T+1) and buys are rounded down to the board's
lot; a line that ends at zero is skipped with its reason. The planner and the execution
policies of the roadmap replace this with the full plan; the summary shows every adjustment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from app.core.oms import NewOrder
from app.domain.errors import DomainError
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, InstrumentStatus
from app.domain.prices import round_to_tick
from app.domain.quantity import round_down_to_lot
from app.domain.side import Side
from app.domain.signals import SignalLine

DEFAULT_OFFSET = Decimal("0.02")


@dataclass(frozen=True, slots=True)
class PlannedLine:
    line: SignalLine
    order: NewOrder | None  # None: skipped
    note: str  # what was changed and why, or why it was skipped ("" when sent as given)


def plan_auction_orders(
    lines: Sequence[SignalLine],
    instruments: Mapping[str, InstrumentInfo],
    sellable: Mapping[str, int],
    last_prices: Mapping[str, Decimal],
    *,
    offset: Decimal = DEFAULT_OFFSET,
) -> list[PlannedLine]:
    planned = [_plan_line(line, instruments, sellable, last_prices, offset) for line in lines]
    return sorted(planned, key=lambda p: p.line.side is Side.BUY)  # sells first: they free cash


def clamp_to_limits(price: Decimal, info: InstrumentInfo | None) -> Decimal:
    """The price, moved inside the day's limits when it lies outside them (no limits: unchanged)."""
    if info is not None and info.up_limit is not None and price > info.up_limit:
        return info.up_limit
    if info is not None and info.down_limit is not None and price < info.down_limit:
        return info.down_limit
    return price


def _plan_line(
    line: SignalLine,
    instruments: Mapping[str, InstrumentInfo],
    sellable: Mapping[str, int],
    last_prices: Mapping[str, Decimal],
    offset: Decimal,
) -> PlannedLine:
    info = instruments.get(line.code)
    if info is None:
        return PlannedLine(line, None, "跳过：今日无此证券行情 (no market data for the instrument today)")
    if info.status is InstrumentStatus.SUSPENDED:
        return PlannedLine(line, None, "跳过：停牌 (suspended today)")
    try:
        instrument = classify(line.code, line.name)
    except DomainError as exc:
        return PlannedLine(line, None, f"跳过：{exc}")
    notes: list[str] = []
    qty = line.qty
    if line.side is Side.SELL:
        can_sell = sellable.get(line.code, 0)
        if qty > can_sell:
            notes.append(f"卖出数量按可卖 (T+1) 由 {qty} 调整为 {can_sell}")
            qty = can_sell
    else:
        rounded = round_down_to_lot(line.code, qty)
        if rounded != qty:
            notes.append(f"买入数量按交易单位由 {qty} 调整为 {rounded}")
            qty = rounded
    if qty <= 0:
        return PlannedLine(line, None, "；".join([*notes, "跳过：数量为零 (nothing left to trade)"]))
    base = last_prices.get(line.code, info.prev_close) if line.at_close else info.prev_close
    factor = 1 + offset if line.side is Side.BUY else 1 - offset
    price = clamp_to_limits(round_to_tick(base * factor, instrument.tick), info)
    order = NewOrder(line.code, line.side, qty, price, strategy_id=line.strategy_id, signal_id=line.signal_id)
    return PlannedLine(line, order, "；".join(notes))
