"""Orders: a state machine driven by a transition table, changed only through events.

Follows nautilus_trader's `_ORDER_STATE_TABLE` (STYLE.md §1): `Order.apply(event)`
looks up `(status, trigger)`; a move the table does not list raises
`InvalidTransitionError`, and a fill whose trade id was already applied raises
`DuplicateFillError`. The OMS catches both, logs them and carries on.

xtquant's order statuses 48–57 (RULES.md A3) map onto `OrderStatus` with
`status_from_xt`; 51/52 are PENDING_CANCEL, never CANCELLED.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum, unique

from app.domain.errors import DomainError
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.records import fast_init
from app.domain.side import Side

ZERO = Decimal(0)


class InvalidTransitionError(DomainError, ValueError):
    """An event that the order's current status does not allow."""


class DuplicateFillError(DomainError, ValueError):
    """A fill whose trade id the order has already applied."""


@unique
class OrderStatus(StrEnum):
    INITIALIZED = "initialized"  # intent committed locally, not yet sent
    DENIED = "denied"  # refused by the pre-trade risk engine; never sent
    SUBMITTED = "submitted"  # handed to the gateway, no broker acknowledgement yet
    ACCEPTED = "accepted"  # acknowledged by the broker, working (xt 48/49/50)
    PARTIALLY_FILLED = "partially_filled"  # xt 55
    PENDING_CANCEL = "pending_cancel"  # cancel asked, not confirmed (xt 51/52)
    FILLED = "filled"  # xt 56
    CANCELLED = "cancelled"  # xt 54, or 53 with some quantity filled
    REJECTED = "rejected"  # xt 57, or refused by the gateway
    EXPIRED = "expired"  # never reached the broker (found absent at recovery) or ended by the day
    # Fate unknown: sent (or cancelled) without an answer, or not listed by the broker. Still held and
    # shown with its reason; asked about again after a settle time. Any broker report settles it.
    IN_DOUBT = "in_doubt"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_working(self) -> bool:
        """At the broker (or on its way) and able to fill."""
        return self in _WORKING


_FINAL = frozenset(
    {OrderStatus.DENIED, OrderStatus.FILLED, OrderStatus.CANCELLED, OrderStatus.REJECTED, OrderStatus.EXPIRED}
)
_WORKING = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.IN_DOUBT,
    }
)
# The same sets by public name, for hot paths that test membership without the property call.
FINAL_STATUSES = _FINAL
WORKING_STATUSES = _WORKING


@unique
class PriceType(StrEnum):
    """How the order is priced; the QMT gateway maps each to xtconstant per exchange (RULES.md A3)."""

    LIMIT = "limit"  # FIX_PRICE 11
    BEST5_IOC = "best5_ioc"  # best five, rest cancelled: SH/BJ 42, SZ 47
    BEST5_TO_LIMIT = "best5_to_limit"  # SH/BJ 43
    PEER_BEST = "peer_best"  # 44
    OWN_BEST = "own_best"  # 45
    IOC = "ioc"  # SZ 46
    FOK = "fok"  # SZ 48

    @property
    def is_market(self) -> bool:
        return self is not PriceType.LIMIT


@unique
class Trigger(StrEnum):
    DENY = "deny"
    SUBMIT = "submit"
    ACCEPT = "accept"
    REJECT = "reject"
    CANCEL_REQUEST = "cancel_request"
    CANCEL_REJECT = "cancel_reject"
    CANCEL = "cancel"
    EXPIRE = "expire"
    FILL_PARTIAL = "fill_partial"
    FILL_FULL = "fill_full"
    DOUBT = "doubt"


S = OrderStatus
T = Trigger
# (status, trigger) -> next status. CANCEL_REJECT's target is resolved from the filled quantity.
TRANSITIONS: dict[tuple[OrderStatus, Trigger], OrderStatus] = {
    (S.INITIALIZED, T.DENY): S.DENIED,
    (S.INITIALIZED, T.SUBMIT): S.SUBMITTED,
    (S.INITIALIZED, T.REJECT): S.REJECTED,
    (S.INITIALIZED, T.CANCEL): S.CANCELLED,
    (S.INITIALIZED, T.EXPIRE): S.EXPIRED,
    (S.SUBMITTED, T.ACCEPT): S.ACCEPTED,
    (S.SUBMITTED, T.REJECT): S.REJECTED,
    (S.SUBMITTED, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.SUBMITTED, T.CANCEL): S.CANCELLED,
    (S.SUBMITTED, T.EXPIRE): S.EXPIRED,
    # A fill may overtake the acceptance: xtquant pushes orders and trades separately.
    (S.SUBMITTED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.SUBMITTED, T.FILL_FULL): S.FILLED,
    (S.ACCEPTED, T.ACCEPT): S.ACCEPTED,  # 48 -> 49 -> 50 are all "accepted"
    (S.ACCEPTED, T.REJECT): S.REJECTED,
    (S.ACCEPTED, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.ACCEPTED, T.CANCEL): S.CANCELLED,
    (S.ACCEPTED, T.EXPIRE): S.EXPIRED,
    (S.ACCEPTED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.ACCEPTED, T.FILL_FULL): S.FILLED,
    (S.PARTIALLY_FILLED, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, T.FILL_FULL): S.FILLED,
    (S.PARTIALLY_FILLED, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, T.CANCEL): S.CANCELLED,
    (S.PARTIALLY_FILLED, T.EXPIRE): S.EXPIRED,
    (S.PENDING_CANCEL, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.CANCEL): S.CANCELLED,
    (S.PENDING_CANCEL, T.CANCEL_REJECT): S.ACCEPTED,  # or PARTIALLY_FILLED, see Order.apply
    (S.PENDING_CANCEL, T.FILL_PARTIAL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, T.FILL_FULL): S.FILLED,
    (S.PENDING_CANCEL, T.EXPIRE): S.EXPIRED,
    # A trade pushed after the cancel confirmation (xt 53, part-cancelled) is still a fact.
    (S.CANCELLED, T.FILL_PARTIAL): S.CANCELLED,
    (S.CANCELLED, T.FILL_FULL): S.FILLED,
    (S.EXPIRED, T.FILL_PARTIAL): S.EXPIRED,
    (S.EXPIRED, T.FILL_FULL): S.FILLED,
    # In doubt: sent with no answer, a send that raised, or not listed by the broker.
    (S.SUBMITTED, T.DOUBT): S.IN_DOUBT,
    (S.ACCEPTED, T.DOUBT): S.IN_DOUBT,
    (S.PARTIALLY_FILLED, T.DOUBT): S.IN_DOUBT,
    (S.PENDING_CANCEL, T.DOUBT): S.IN_DOUBT,
    # Whatever the broker reports settles it (ACCEPT lands on PARTIALLY_FILLED if fills came first).
    (S.IN_DOUBT, T.ACCEPT): S.ACCEPTED,
    (S.IN_DOUBT, T.REJECT): S.REJECTED,
    (S.IN_DOUBT, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.IN_DOUBT, T.CANCEL): S.CANCELLED,
    (S.IN_DOUBT, T.EXPIRE): S.EXPIRED,
    (S.IN_DOUBT, T.FILL_PARTIAL): S.PARTIALLY_FILLED,
    (S.IN_DOUBT, T.FILL_FULL): S.FILLED,
    # An order expired because the broker did not know it, found there after all: adopted.
    (S.EXPIRED, T.ACCEPT): S.ACCEPTED,
    (S.EXPIRED, T.CANCEL_REQUEST): S.PENDING_CANCEL,
    (S.EXPIRED, T.CANCEL): S.CANCELLED,
    (S.EXPIRED, T.REJECT): S.REJECTED,
}
del S, T


# ---------------------------------------------------------------------------- events
# Immutable, past tense (STYLE.md §1.2). `ts` is the time the event happened, from a Clock.


@fast_init
@dataclass(frozen=True, slots=True)
class OrderDenied:
    client_order_id: ClientOrderId
    reason: str
    ts: datetime
    trigger = Trigger.DENY


@fast_init
@dataclass(frozen=True, slots=True)
class OrderSubmitted:
    client_order_id: ClientOrderId
    ts: datetime
    trigger = Trigger.SUBMIT


@fast_init
@dataclass(frozen=True, slots=True)
class OrderAccepted:
    client_order_id: ClientOrderId
    broker_order_id: BrokerOrderId
    ts: datetime
    order_sysid: str = ""
    trigger = Trigger.ACCEPT


@fast_init
@dataclass(frozen=True, slots=True)
class OrderRejected:
    client_order_id: ClientOrderId
    reason: str
    ts: datetime
    broker_order_id: BrokerOrderId | None = None
    trigger = Trigger.REJECT


@fast_init
@dataclass(frozen=True, slots=True)
class OrderPendingCancel:
    client_order_id: ClientOrderId
    ts: datetime
    trigger = Trigger.CANCEL_REQUEST


@fast_init
@dataclass(frozen=True, slots=True)
class OrderCancelRejected:
    client_order_id: ClientOrderId
    reason: str
    ts: datetime
    trigger = Trigger.CANCEL_REJECT


@fast_init
@dataclass(frozen=True, slots=True)
class OrderCancelled:
    client_order_id: ClientOrderId
    ts: datetime
    reason: str = ""
    trigger = Trigger.CANCEL


@fast_init
@dataclass(frozen=True, slots=True)
class OrderExpired:
    client_order_id: ClientOrderId
    reason: str
    ts: datetime
    trigger = Trigger.EXPIRE


@fast_init
@dataclass(frozen=True, slots=True)
class OrderInDoubt:
    client_order_id: ClientOrderId
    reason: str
    ts: datetime
    trigger = Trigger.DOUBT


@fast_init
@dataclass(frozen=True, slots=True)
class OrderFilled:
    client_order_id: ClientOrderId
    trade_id: TradeId
    qty: int
    price: Decimal
    fees: Decimal
    ts: datetime
    broker_order_id: BrokerOrderId | None = None


OrderEvent = (
    OrderDenied
    | OrderSubmitted
    | OrderAccepted
    | OrderRejected
    | OrderPendingCancel
    | OrderCancelRejected
    | OrderCancelled
    | OrderExpired
    | OrderInDoubt
    | OrderFilled
)


# ---------------------------------------------------------------------------- the order
@dataclass(slots=True, eq=False)
class Order:
    client_order_id: ClientOrderId
    code: str
    side: Side
    qty: int
    price: Decimal | None  # None for market price types
    price_type: PriceType
    created_at: datetime
    trading_day: date
    strategy_id: str = ""
    signal_id: str = ""
    external: bool = False  # found at the broker, not sent by Tiller: shown, counted, not managed
    status: OrderStatus = OrderStatus.INITIALIZED
    broker_order_id: BrokerOrderId | None = None
    order_sysid: str = ""
    filled_qty: int = 0
    filled_amount: Decimal = ZERO  # sum of price × qty over fills
    fees: Decimal = ZERO
    status_msg: str = ""
    updated_at: datetime | None = None
    reserve_price: Decimal | None = None  # the price a buy's cash is frozen at (market buys: the up limit)
    trade_ids: set[TradeId] = field(default_factory=set)

    def __post_init__(self) -> None:
        if self.status is OrderStatus.DENIED:
            return  # a denied request is kept as asked (what could be stored of it), never traded
        if not isinstance(self.qty, int) or isinstance(self.qty, bool) or self.qty <= 0:
            raise ValueError(f"order quantity must be a positive whole number of shares, was {self.qty!r}")
        if self.price_type is PriceType.LIMIT and (self.price is None or self.price <= 0):
            raise ValueError(f"a limit order needs a positive price, was {self.price!r}")

    @property
    def leaves_qty(self) -> int:
        """Quantity still able to fill."""
        return 0 if self.status.is_final else self.qty - self.filled_qty

    @property
    def avg_price(self) -> Decimal | None:
        return None if self.filled_qty == 0 else self.filled_amount / self.filled_qty

    def can_apply(self, event: OrderEvent) -> bool:
        return (self.status, _trigger_of(self, event)) in TRANSITIONS

    def apply(self, event: OrderEvent) -> OrderStatus:
        """Apply one event; return the new status. Raises, changing nothing, on a refused event."""
        if event.client_order_id != self.client_order_id:
            raise ValueError(f"event for {event.client_order_id!r} applied to order {self.client_order_id!r}")
        kind = type(event)
        if kind is OrderFilled or isinstance(event, OrderFilled):
            fill: OrderFilled = event  # type: ignore[assignment]
            if fill.trade_id in self.trade_ids:
                raise DuplicateFillError(
                    f"trade {fill.trade_id} already applied to order {self.client_order_id}"
                )
            filled = self.filled_qty + fill.qty
            if fill.qty <= 0 or filled > self.qty:
                raise InvalidTransitionError(
                    f"fill of {fill.qty} on order {self.client_order_id} would exceed its quantity "
                    f"{self.qty} (filled {self.filled_qty})"
                )
            trigger = Trigger.FILL_FULL if filled >= self.qty else Trigger.FILL_PARTIAL
            target = _TRANSITIONS_GET((self.status, trigger))
            if target is None:
                raise InvalidTransitionError(
                    f"order {self.client_order_id}: {trigger.value} is not allowed when {self.status.value}"
                )
            self.trade_ids.add(fill.trade_id)
            self.filled_qty = filled
            self.filled_amount += fill.price * fill.qty
            self.fees += fill.fees
            if fill.broker_order_id is not None and self.broker_order_id is None:
                self.broker_order_id = fill.broker_order_id
        else:
            trigger = event.trigger
            target = _TRANSITIONS_GET((self.status, trigger))
            if target is None:
                raise InvalidTransitionError(
                    f"order {self.client_order_id}: {trigger.value} is not allowed when {self.status.value}"
                )
            if kind is OrderSubmitted:
                pass
            elif kind is OrderAccepted or isinstance(event, OrderAccepted):
                if self.status is OrderStatus.IN_DOUBT or self.status is OrderStatus.EXPIRED:
                    self.status_msg = ""  # adopted: the doubt is over
                    if self.filled_qty:
                        target = OrderStatus.PARTIALLY_FILLED
                self.broker_order_id = event.broker_order_id  # type: ignore[union-attr]
                if event.order_sysid:  # type: ignore[union-attr]
                    self.order_sysid = event.order_sysid  # type: ignore[union-attr]
            elif isinstance(event, OrderCancelRejected):
                target = OrderStatus.PARTIALLY_FILLED if self.filled_qty else OrderStatus.ACCEPTED
                self.status_msg = event.reason
            elif isinstance(event, OrderRejected):
                self.status_msg = event.reason
                if event.broker_order_id is not None:
                    self.broker_order_id = event.broker_order_id
            elif isinstance(event, OrderDenied | OrderExpired | OrderInDoubt) or (
                isinstance(event, OrderCancelled) and event.reason
            ):
                self.status_msg = event.reason  # type: ignore[union-attr]
        self.status = target
        self.updated_at = event.ts
        return target


_TRANSITIONS_GET = TRANSITIONS.get


def _trigger_of(order: Order, event: OrderEvent) -> Trigger:
    if isinstance(event, OrderFilled):
        return Trigger.FILL_FULL if order.filled_qty + event.qty >= order.qty else Trigger.FILL_PARTIAL
    return event.trigger


# ---------------------------------------------------------------------------- xtquant statuses
# RULES.md A3: 48 未报, 49 待报, 50 已报, 51 已报待撤, 52 部成待撤, 53 部撤, 54 已撤, 55 部成, 56 已成, 57 废单.
XT_STATUS: dict[int, OrderStatus] = {
    48: OrderStatus.ACCEPTED,
    49: OrderStatus.ACCEPTED,
    50: OrderStatus.ACCEPTED,
    51: OrderStatus.PENDING_CANCEL,
    52: OrderStatus.PENDING_CANCEL,
    53: OrderStatus.CANCELLED,
    54: OrderStatus.CANCELLED,
    55: OrderStatus.PARTIALLY_FILLED,
    56: OrderStatus.FILLED,
    57: OrderStatus.REJECTED,
}


def status_from_xt(code: int) -> OrderStatus | None:
    """Map an xtquant order status; None for 255 (unknown) or anything unlisted."""
    return XT_STATUS.get(code)
