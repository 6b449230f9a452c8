"""Commands to a broker and the facts it reports back, broker-neutral.

The simulated broker and the QMT gateway both speak these; the QMT gateway translates
xtquant's XtOrder/XtTrade/XtPosition/XtAsset and errors (RULES.md A3) into them.
Every value is immutable: a gateway never changes an object after pushing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.orders import OrderStatus, PriceType
from app.domain.records import fast_init
from app.domain.side import Side


# ---------------------------------------------------------------------------- commands
@fast_init
@dataclass(frozen=True, slots=True)
class BrokerAlgo:
    """Execute the order with the broker's own algorithm (QMT's smart_algo_order_async), not as one
    order: `name` (e.g. "VWAP", "TWAP"), its window as "HH:MM:SS", extra parameters as text."""

    name: str
    start: str
    end: str
    params: tuple[tuple[str, str], ...] = ()


@fast_init
@dataclass(frozen=True, slots=True)
class SubmitOrder:
    """Send one order. `client_order_id` travels as QMT's order_remark."""

    client_order_id: ClientOrderId
    code: str
    side: Side
    qty: int
    price: Decimal | None  # None for market price types
    price_type: PriceType = PriceType.LIMIT
    strategy_id: str = ""
    algo: BrokerAlgo | None = None  # None: a plain order; else a broker-side algorithm task


@fast_init
@dataclass(frozen=True, slots=True)
class CancelOrder:
    client_order_id: ClientOrderId | None
    broker_order_id: BrokerOrderId
    code: str


# ---------------------------------------------------------------------------- reports
@fast_init
@dataclass(frozen=True, slots=True)
class SubmitResponse:
    """The answer to a submit (xtquant on_order_stock_async_response): broker id, or why not."""

    client_order_id: ClientOrderId
    broker_order_id: BrokerOrderId | None  # None: the broker never took the order
    ts: datetime
    error: str = ""


@fast_init
@dataclass(frozen=True, slots=True)
class OrderReport:
    """The broker's view of one order (xtquant XtOrder)."""

    broker_order_id: BrokerOrderId
    client_order_id: ClientOrderId | None  # from the remark; None: not one of Tiller's
    code: str
    side: Side
    qty: int
    price: Decimal | None
    price_type: PriceType
    status: OrderStatus
    filled_qty: int
    avg_price: Decimal | None
    ts: datetime
    status_msg: str = ""
    order_sysid: str = ""
    strategy_id: str = ""


@fast_init
@dataclass(frozen=True, slots=True)
class TradeReport:
    """One fill (xtquant XtTrade). `fees` is everything the broker charged for it."""

    trade_id: TradeId
    broker_order_id: BrokerOrderId
    client_order_id: ClientOrderId | None
    code: str
    side: Side
    qty: int
    price: Decimal
    amount: Decimal
    fees: Decimal
    ts: datetime
    order_sysid: str = ""


@fast_init
@dataclass(frozen=True, slots=True)
class OrderErrorReport:
    """An order refused (xtquant on_order_error); the order is rejected."""

    client_order_id: ClientOrderId | None
    broker_order_id: BrokerOrderId | None
    message: str
    ts: datetime
    error_id: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class CancelErrorReport:
    """A cancel refused (xtquant on_cancel_error); the order keeps working."""

    client_order_id: ClientOrderId | None
    broker_order_id: BrokerOrderId
    message: str
    ts: datetime
    error_id: int = 0


@fast_init
@dataclass(frozen=True, slots=True)
class ConnectionChanged:
    connected: bool
    reason: str
    ts: datetime


@fast_init
@dataclass(frozen=True, slots=True)
class BrokerPosition:
    code: str
    total: int
    sellable: int  # xtquant can_use_volume
    frozen: int
    avg_price: Decimal
    last_price: Decimal | None = None


@fast_init
@dataclass(frozen=True, slots=True)
class BrokerAsset:
    cash: Decimal  # balance, including frozen
    frozen: Decimal
    available: Decimal
    market_value: Decimal
    total_asset: Decimal


BrokerReport = (
    SubmitResponse | OrderReport | TradeReport | OrderErrorReport | CancelErrorReport | ConnectionChanged
)
