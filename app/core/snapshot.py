"""What the window draws from, taken in one go on the engine thread: the terminal as it stands.

`take_snapshot(engine)` runs on the engine thread (through `Terminal.snapshot()`, a `Call`) and copies
everything a view needs into immutable values — the account with today's P&L, positions, today's
orders and trades, the newest alerts, today's plan, the last quote of every code, the day's
instruments, the connection and the trading state. The window fills its read model from it at start
and after a reconnect, then follows the engine's events.

`day_pnl` is today's P&L of the account: what it is worth now less what it was worth at yesterday's
close (the positions carried in at their previous close, and the cash before today's fills). It is
computed from today's fills, so it is the same after a restart.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.core.messages import AccountSnapshot, AlertRaised, OrderSnapshot, PositionSnapshot
from app.core.planning.model import PlanSnapshot
from app.domain.market import InstrumentInfo, Quote
from app.domain.reports import TradeReport
from app.domain.side import Side

if TYPE_CHECKING:
    from app.core.engine import Engine

ZERO = Decimal(0)


def day_pnl(
    positions: Iterable[PositionSnapshot],
    trades: Iterable[TradeReport],
    prev_close: Mapping[str, InstrumentInfo],
) -> Decimal:
    """Today's P&L: Σ (shares now × last − shares carried in × previous close) + today's net cash
    from fills (sells less fees, minus buys and their fees). A code with no previous close known is
    taken at its last price (so only today's trades in it count)."""
    flows = DayFlows()
    flows.fold(trades)
    return flows.pnl(positions, prev_close)


class DayFlows:
    """Today's fills folded into the net cash they moved and the net shares bought per code: what
    `day_pnl` needs of the trades. `follow(trades)` keeps it up to date with the OMS's dict of the
    day's fills (`OrderManager.trade_ids`), which only ever grows by new keys at its end or is
    replaced whole: only the fills added since the last call are folded, so the account event
    published after every batch costs the same at the day's first fill and its ten-thousandth.
    Anything else (a fill removed or replaced in place) is noticed by the count and the newest key
    and folded again from the start."""

    __slots__ = ("_last", "_seen", "_source", "bought", "net_cash")

    def __init__(self) -> None:
        self._source: object = None
        self._seen = 0
        self._last: object = None
        self.net_cash = ZERO
        self.bought: dict[str, int] = {}

    def fold(self, trades: Iterable[TradeReport]) -> None:
        net_cash = self.net_cash
        bought = self.bought
        for t in trades:
            if t.side is Side.BUY:
                net_cash -= t.amount + t.fees
                bought[t.code] = bought.get(t.code, 0) + t.qty
            else:
                net_cash += t.amount - t.fees
                bought[t.code] = bought.get(t.code, 0) - t.qty
        self.net_cash = net_cash

    def follow(self, trades: Mapping[Any, TradeReport]) -> None:
        n = len(trades)
        last = next(reversed(trades.keys()), None) if n else None  # type: ignore[call-overload]
        if trades is not self._source or n < self._seen or (n == self._seen and last != self._last):
            self._source, self._seen = trades, 0
            self.net_cash, self.bought = ZERO, {}
        if n > self._seen:  # the newest n - seen, taken from the end (islice from the start walks them all)
            added = list(itertools.islice(reversed(trades.values()), n - self._seen))  # type: ignore[call-overload]
            added.reverse()
            self.fold(added)
        self._seen, self._last = n, last

    def pnl(self, positions: Iterable[PositionSnapshot], prev_close: Mapping[str, InstrumentInfo]) -> Decimal:
        bought = self.bought
        held = {p.code: p for p in positions}
        total = self.net_cash
        for code in held.keys() | bought.keys():
            p = held.get(code)
            qty = p.total if p is not None else 0
            last = None if p is None else (p.last_price if p.last_price is not None else p.avg_cost)
            info = prev_close.get(code)
            ref = info.prev_close if info is not None else last
            if last is None:
                last = ref if ref is not None else ZERO
            if ref is None:
                ref = last
            total += qty * last - (qty - bought.get(code, 0)) * ref
        return total


@dataclass(frozen=True, slots=True)
class TerminalSnapshot:
    ts: datetime
    trading_day: date
    account: AccountSnapshot
    positions: tuple[PositionSnapshot, ...]
    orders: tuple[OrderSnapshot, ...]
    trades: tuple[TradeReport, ...]  # today's, client order id filled in where the OMS knows it
    alerts: tuple[AlertRaised, ...]  # the newest, oldest first
    plan: PlanSnapshot
    quotes: tuple[Quote, ...]
    instruments: tuple[InstrumentInfo, ...]
    connected: bool
    trading_state: str  # active | reducing | halted ("" without a risk gate)
    halted: str | None  # why new orders are refused after a failed commit, or None
    mark: Any = None  # what the caller's `mark()` returned on the engine thread (app/ui/bridge.py)
    strategy_names: Mapping[str, str] = field(default_factory=dict)  # id -> the name the user gave it


def trades_of_day(engine: Engine) -> tuple[TradeReport, ...]:
    """Today's fills in booking order (engine thread), each with its client order id where known."""
    by_broker = engine.oms.by_broker_id
    return tuple(
        t if t.client_order_id is not None else replace(t, client_order_id=by_broker.get(t.broker_order_id))
        for t in engine.oms.trade_ids.values()
    )


def take_snapshot(
    engine: Engine, alerts: int = 500, mark: Callable[[], Any] | None = None
) -> TerminalSnapshot:
    """Everything the window shows, copied on the engine thread; `mark()` runs there too, in the same
    step (the bridge counts the events handed on so far, so none is lost or applied twice)."""
    oms = engine.oms
    positions = engine.position_snapshots()
    orders = tuple(OrderSnapshot.of(o) for o in sorted(oms.orders.values(), key=lambda o: o.created_at))
    recent = tuple(engine.alerts)[-alerts:] if alerts > 0 else ()
    risk = engine.risk
    return TerminalSnapshot(
        ts=engine.clock.now(),
        trading_day=oms.trading_day,
        account=engine.account_snapshot(positions),
        positions=positions,
        orders=orders,
        trades=trades_of_day(engine),
        alerts=recent,
        plan=engine.plan.snapshot(),
        quotes=tuple(engine.quotes.values()),
        instruments=tuple(oms.instruments[c] for c in sorted(oms.instruments)),
        connected=bool(engine.gateway.connected),
        trading_state="" if risk is None else risk.state.value,
        halted=engine.halted,
        mark=None if mark is None else mark(),
        strategy_names={sid: st.name for sid, st in engine.plan.strategies.items() if st.name},
    )
