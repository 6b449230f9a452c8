"""The day's performance: equity, daily and cumulative return, maximum drawdown, Sharpe, and the
day's P&L attributed to strategies (orders and trades carry strategy_id).

Exact arithmetic in Decimal (ARCHITECTURE.md invariant 5); ratios are kept to 8 decimal places.
A day's return is time-weighted over money moved in or out: (E_t - transfer_t - E_{t-1}) / E_{t-1}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal

from app.domain.side import Side

RATIO = Decimal("0.00000001")
FEN = Decimal("0.01")
TRADING_DAYS_PER_YEAR = 252
_CTX = Context(prec=34)
ZERO = Decimal(0)
ONE = Decimal(1)


def _ratio(value: Decimal) -> Decimal:
    return value.quantize(RATIO, rounding=ROUND_HALF_UP, context=_CTX)


@dataclass(frozen=True, slots=True)
class DayEquity:
    day: date
    equity: Decimal  # total asset at the close: cash + market value
    net_transfer: Decimal = ZERO  # money moved into (+) or out of (-) the account that day


@dataclass(frozen=True, slots=True)
class DayPerformance:
    day: date
    equity: Decimal
    pnl: Decimal
    daily_return: Decimal
    cumulative_return: Decimal
    max_drawdown: Decimal  # the largest fall from a peak so far, as a positive fraction
    sharpe: Decimal | None  # annualised; None until two returns exist or when they do not vary


def performance_series(
    days: Sequence[DayEquity], *, opening_equity: Decimal | None = None, risk_free_daily: Decimal = ZERO
) -> list[DayPerformance]:
    """One DayPerformance per day, in day order. The first day's return is against `opening_equity`
    (the account's starting money) if given, else 0 (it is the base)."""
    out: list[DayPerformance] = []
    ordered = sorted(days, key=lambda d: d.day)
    if len({d.day for d in ordered}) != len(ordered):
        raise ValueError("each day may appear only once in an equity series")
    previous = opening_equity
    nav = ONE
    peak = ONE
    worst = ZERO
    returns: list[Decimal] = []
    for item in ordered:
        if previous is None:
            pnl, r = ZERO, ZERO
        else:
            pnl = item.equity - item.net_transfer - previous
            r = _CTX.divide(pnl, previous) if previous > 0 else ZERO
            returns.append(r)
        nav = _CTX.multiply(nav, ONE + r)
        peak = max(peak, nav)
        worst = max(worst, _CTX.divide(peak - nav, peak) if peak > 0 else ZERO)
        out.append(
            DayPerformance(
                day=item.day,
                equity=item.equity,
                pnl=pnl,
                daily_return=_ratio(r),
                cumulative_return=_ratio(nav - ONE),
                max_drawdown=_ratio(worst),
                sharpe=sharpe(returns, risk_free_daily=risk_free_daily),
            )
        )
        previous = item.equity
    return out


def sharpe(returns: Sequence[Decimal], *, risk_free_daily: Decimal = ZERO) -> Decimal | None:
    """mean(r - rf) / sample stdev(r) × √252; None with fewer than two returns or no variation."""
    n = len(returns)
    if n < 2:
        return None
    excess = [r - risk_free_daily for r in returns]
    mean = _CTX.divide(sum(excess, ZERO), Decimal(n))
    variance = _CTX.divide(sum(((x - mean) ** 2 for x in excess), ZERO), Decimal(n - 1))
    if variance == 0:
        return None
    return _ratio(_CTX.divide(mean, variance.sqrt(_CTX)) * Decimal(TRADING_DAYS_PER_YEAR).sqrt(_CTX))


@dataclass(frozen=True, slots=True)
class AttributedTrade:
    strategy_id: str  # "" when not from a strategy (a hand-typed or external order)
    code: str
    side: Side
    qty: int
    price: Decimal
    fees: Decimal


@dataclass(frozen=True, slots=True)
class StrategyAttribution:
    strategy_id: str
    orders: int
    trades: int
    bought: Decimal  # turnover of buys
    sold: Decimal
    fees: Decimal
    pnl: Decimal  # the day's trades marked to the close, fees included; "" also holds what was carried


@dataclass(slots=True)
class _Line:
    trades: int = 0
    bought: Decimal = ZERO
    sold: Decimal = ZERO
    fees: Decimal = ZERO
    pnl: Decimal = ZERO


def attribute(
    trades: Sequence[AttributedTrade],
    closes: Mapping[str, Decimal],
    day_pnl: Decimal,
    orders_per_strategy: Mapping[str, int] | None = None,
) -> list[StrategyAttribution]:
    """Each strategy's share of the day's P&L: its fills marked to the close price, minus its fees.

    The rest of the day's P&L — positions carried from earlier days, trades of no strategy — goes to
    the account line `""`, so the lines always add up to `day_pnl` exactly. A code with no close price
    is marked at its fill price (no P&L until it has one)."""
    orders_per_strategy = orders_per_strategy or {}
    lines: dict[str, _Line] = {sid: _Line() for sid in orders_per_strategy}
    for t in trades:
        line = lines.setdefault(t.strategy_id, _Line())
        close = closes.get(t.code, t.price)
        amount = t.price * t.qty
        line.trades += 1
        line.fees += t.fees
        if t.side is Side.BUY:
            line.bought += amount
            line.pnl += (close - t.price) * t.qty - t.fees
        else:
            line.sold += amount
            line.pnl += (t.price - close) * t.qty - t.fees
    for line in lines.values():
        line.pnl = line.pnl.quantize(FEN, rounding=ROUND_HALF_UP)
    account = lines.setdefault("", _Line())
    account.pnl = day_pnl - sum((v.pnl for k, v in lines.items() if k != ""), ZERO)
    return [
        StrategyAttribution(sid, orders_per_strategy.get(sid, 0), v.trades, v.bought, v.sold, v.fees, v.pnl)
        for sid, v in sorted(lines.items())
    ]
