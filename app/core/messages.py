"""What goes into the engine's queue (commands, market data) and what comes out (events).

Commands are imperative, events past tense (STYLE.md §5). Events carry immutable
snapshots, so a listener on another thread never sees an object the engine still changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from app.core.execution.base import ExecutionProgress
from app.domain.identifiers import BrokerOrderId, ClientOrderId
from app.domain.market import InstrumentInfo, Quote
from app.domain.orders import Order, OrderStatus, PriceType
from app.domain.positions import Position
from app.domain.records import fast_init
from app.domain.reports import TradeReport
from app.domain.side import Side


# ---------------------------------------------------------------------------- commands
@fast_init
@dataclass(frozen=True, slots=True)
class SubmitOrders:
    requests: Sequence[Any]  # Sequence[NewOrder]; Any keeps this module free of oms imports
    reply: Future[list[ClientOrderId]] | None = None


@dataclass(frozen=True, slots=True)
class CancelOrder:
    client_order_id: ClientOrderId


@dataclass(frozen=True, slots=True)
class CancelAllOrders:
    side: Side | None = None


@dataclass(frozen=True, slots=True)
class StartDay:
    day: date
    instruments: Sequence[InstrumentInfo] = ()


@dataclass(frozen=True, slots=True)
class QuotesArrived:
    quotes: Sequence[Quote]


@dataclass(frozen=True, slots=True)
class Resync:
    """Query the broker and catch up (after a reconnect, or on demand)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SignalsFetched:
    """A fetch of a day's planned orders, from the fetch worker's thread (the engine never waits on
    HTTP): the validated batches, or why the fetch failed (then no batch: a partial day makes no order)."""

    day: date
    source: str
    batches: Sequence[Any] = ()  # Sequence[SignalBatch]
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Call:
    """Run `fn(engine)` on the engine thread and hand back its result (queries from other threads)."""

    fn: Callable[[Any], Any]
    reply: Future[Any] = field(default_factory=Future)


# ---------------------------------------------------------------------------- events
class OrderSnapshot(NamedTuple):
    """An order as it stood after a commit. A NamedTuple: immutable like the other events, and
    cheap to build, since one is made for every order that changed in every engine batch."""

    client_order_id: ClientOrderId
    broker_order_id: BrokerOrderId | None
    code: str
    side: Side
    qty: int
    price: Decimal | None
    price_type: PriceType
    status: OrderStatus
    filled_qty: int
    avg_price: Decimal | None
    fees: Decimal
    status_msg: str
    strategy_id: str
    signal_id: str
    external: bool
    created_at: datetime
    updated_at: datetime | None

    @classmethod
    def of(cls, order: Order) -> OrderSnapshot:
        filled = order.filled_qty
        return _new_snapshot(
            cls,
            (
                order.client_order_id,
                order.broker_order_id,
                order.code,
                order.side,
                order.qty,
                order.price,
                order.price_type,
                order.status,
                filled,
                order.filled_amount / filled if filled else None,
                order.fees,
                order.status_msg,
                order.strategy_id,
                order.signal_id,
                order.external,
                order.created_at,
                order.updated_at,
            ),
        )


_new_snapshot = tuple.__new__


@fast_init
@dataclass(frozen=True, slots=True)
class PositionSnapshot:
    code: str
    total: int
    sellable: int
    today_qty: int
    frozen: int
    avg_cost: Decimal
    realized_pnl: Decimal
    last_price: Decimal | None

    @classmethod
    def of(cls, position: Position, last: Decimal | None) -> PositionSnapshot:
        return cls(
            position.code,
            position.total,
            position.sellable,
            position.today_qty,
            position.frozen,
            position.avg_cost,
            position.realized_pnl,
            last,
        )

    @property
    def market_value(self) -> Decimal:
        return (self.last_price if self.last_price is not None else self.avg_cost) * self.total

    @property
    def unrealized_pnl(self) -> Decimal:
        return self.market_value - self.avg_cost * self.total


@fast_init
@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    cash: Decimal
    frozen: Decimal
    available: Decimal
    market_value: Decimal
    ts: datetime
    day_pnl: Decimal | None = None  # today's P&L (app/core/snapshot.day_pnl); None where not known

    @property
    def total_asset(self) -> Decimal:
        return self.cash + self.market_value


@fast_init
@dataclass(frozen=True, slots=True)
class OrderUpdated:
    order: OrderSnapshot


@fast_init
@dataclass(frozen=True, slots=True)
class TradeBooked:
    trade: TradeReport


@fast_init
@dataclass(frozen=True, slots=True)
class AccountUpdated:
    account: AccountSnapshot
    positions: tuple[PositionSnapshot, ...]


@dataclass(frozen=True, slots=True)
class QuotesUpdated:
    quotes: Sequence[Quote]


@dataclass(frozen=True, slots=True)
class AlertRaised:
    level: str  # info | warning | error | critical
    category: str
    message: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class ConnectionStateChanged:
    connected: bool
    reason: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class LiveStateChanged:
    """A live account armed, disarmed or its arming expired (app/core/risk/arming.py). `state` is a
    LiveState value: simulated | observe_only | armed."""

    state: str
    by: str
    reason: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class SignalsReceived:
    """Batches of planned orders stored (not yet taken in: the planner decides); `new_batch_ids` are
    the ones not seen before (fetching the same batch twice changes nothing)."""

    day: date
    batches: tuple[Any, ...]  # tuple[SignalBatch, ...]
    new_batch_ids: tuple[str, ...]
    ts: datetime


@dataclass(frozen=True, slots=True)
class ExecutionUpdated:
    """A plan line's execution moved on (app/core/execution): for the window to follow."""

    progress: ExecutionProgress


EngineEvent = (
    OrderUpdated
    | TradeBooked
    | AccountUpdated
    | QuotesUpdated
    | AlertRaised
    | ConnectionStateChanged
    | LiveStateChanged
    | SignalsReceived
    | ExecutionUpdated
)
