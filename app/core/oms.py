"""The order management system: orders, fills, cash and positions, owned by the engine thread.

Invariants (ARCHITECTURE.md): an order intent is staged for commit before it is sent
(the engine commits, then sends); a fill is applied once per identity (trading day, broker order
id, traded id: see app/storage/schema.py); client order ids are reserved on disk before they are
handed out, so none is ever used twice; sells never exceed
the sellable (T+1) quantity and buys never exceed available cash including fees.
Broker reports that contradict the local state are logged and turned into alerts, never
raised out of the loop (nautilus_trader's `_apply_event_to_order`, STYLE.md §1.5).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from app.core.planning.ledger import StrategyLedger
from app.core.ports import OmsStore
from app.core.risk.gate import Deny, Resize, RiskGate
from app.core.risk.view import OmsAccountView
from app.domain.account import CashBook, InsufficientCashError
from app.domain.bounds import BoundsError, check_price, check_qty
from app.domain.errors import DomainError
from app.domain.fees import FeeSchedule
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, InstrumentStatus
from app.domain.orders import (
    FINAL_STATUSES,
    DuplicateFillError,
    InvalidTransitionError,
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderInDoubt,
    OrderPendingCancel,
    OrderRejected,
    OrderStatus,
    OrderSubmitted,
    PriceType,
)
from app.domain.positions import InsufficientSharesError, Position
from app.domain.prices import is_on_tick
from app.domain.quantity import check_quantity
from app.domain.records import fast_init
from app.domain.reports import (
    BrokerAsset,
    BrokerPosition,
    CancelErrorReport,
    OrderErrorReport,
    OrderReport,
    SubmitOrder,
    SubmitResponse,
    TradeReport,
)
from app.domain.side import Side
from app.domain.signals import SignalBatch, SignalLine

log = logging.getLogger(__name__)
ZERO = Decimal(0)
# Statuses Tiller only assumed; a broker report of the order overrides them (adoption).
_ADOPTABLE = frozenset({OrderStatus.IN_DOUBT, OrderStatus.EXPIRED})
# Client order ids are reserved durably in blocks (one small committed transaction per block).
ID_BLOCK = 256
_BUY_FEES_KEPT = 4096  # fees of buy turnovers remembered (OrderManager._buy_fee); forgotten all at once
# A fill's identity within the OMS's trading day: (broker order id, traded id); with the day, the
# primary key of the trades table. Why these and not the bare traded id: see app/storage/schema.py.
TradeKey = tuple[BrokerOrderId, TradeId]


@fast_init
@dataclass(frozen=True, slots=True)
class NewOrder:
    """A request to place one order (from the planner, an execution policy or the user)."""

    code: str
    side: Side
    qty: int
    price: Decimal | None
    price_type: PriceType = PriceType.LIMIT
    strategy_id: str = ""
    signal_id: str = ""


Alert = Callable[[str, str, str], None]  # (level, category, message)


class OrderManager:
    def __init__(
        self,
        *,
        store: OmsStore,
        fees: FeeSchedule,
        trading_day: date,
        alert: Alert,
        id_prefix: str = "T",
        risk: RiskGate | None = None,
    ) -> None:
        self.store = store
        # The risk gate every new order passes after the exchange rules and before the hold.
        self.risk = risk
        self._view = OmsAccountView(self)
        self.working_buys: dict[str, set[ClientOrderId]] = {}  # code -> buys holding cash (risk caps)
        # code -> the cash its working buys hold (the sum of their reservations), kept as they change:
        # the risk gate's per-instrument cap reads it in O(1) instead of summing every working buy
        self.buy_held: dict[str, Decimal] = {}
        self.fees = fees  # (a property: replacing the schedule forgets the fees worked out with the old one)
        self.trading_day = trading_day
        self._alert = alert
        self.orders: dict[ClientOrderId, Order] = {}
        self.by_broker_id: dict[BrokerOrderId, ClientOrderId] = {}
        self.positions: dict[str, Position] = {}
        self.cash = CashBook(cash=ZERO)
        self.trade_ids: dict[TradeKey, TradeReport] = {}  # the fills booked today, by identity
        self.instruments: dict[str, InstrumentInfo] = {}
        self.last_prices: dict[str, Decimal] = {}
        self._id_base = id_prefix
        self._tag = store.install_tag()
        self._changed: set[ClientOrderId] = set()
        self._fee_estimates: dict[ClientOrderId, Decimal] = {}
        self._taken: dict[tuple[str, date], set[str]] = {}  # lines taken in, staged or committed
        self._intake: list[tuple[SignalBatch, list[SignalLine], datetime]] = []  # what take_in recorded
        self.ledger = StrategyLedger()  # the per-strategy sub-ledger beside `positions` (planning/ledger.py)
        self._use_day(trading_day)

    @property
    def fees(self) -> FeeSchedule:
        return self._fees

    @fees.setter
    def fees(self, fees: FeeSchedule) -> None:
        self._fees = fees
        # (code, turnover) -> the whole fee of a buy of that turnover under `fees`: orders of a burst
        # or a plan repeat a few turnovers, and the fee schedule is not cheap
        self._buy_fees: dict[tuple[str, Decimal], Decimal] = {}

    def _buy_fee(self, code: str, turnover: Decimal) -> Decimal:
        key = (code, turnover)
        fee = self._buy_fees.get(key)
        if fee is None:
            fee = self._fees.cost_for_amount(code, Side.BUY, turnover)
            if len(self._buy_fees) >= _BUY_FEES_KEPT:
                self._buy_fees.clear()
            self._buy_fees[key] = fee
        return fee

    def _use_day(self, day: date) -> None:
        # A client order id is prefix + yymmdd + install tag + base-36 sequence of the day:
        # "T2611235K0001", 13 characters, unique forever for this database (RULES.md A2 remark).
        self.trading_day = day
        self._id_prefix = self._id_base + day.strftime("%y%m%d") + self._tag
        prefix = self._id_prefix
        self._id_prefix_ok = (
            type(prefix) is str and prefix.isascii() and prefix.strip() == prefix and " " not in prefix
        )
        self._next_seq = self._seq_end = 0  # no block of the day reserved yet
        # the fills of the day: trade numbers start again every day, so yesterday's are not kept
        self.trade_ids = {_trade_key(t): t for t in self.store.load_trades(day)}

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Load the books as last committed and rebuild what is derived (frozen cash and shares)."""
        cash = self.store.load_cash()
        self.cash = CashBook(cash=cash if cash is not None else ZERO)
        self.positions = {p.code: p for p in self.store.load_positions()}
        self.ledger = StrategyLedger(self.store.load_strategy_positions())
        for order in self.store.load_orders(self.trading_day):
            self._track(order)
        self.trade_ids = {_trade_key(t): t for t in self.store.load_trades(self.trading_day)}
        for order in self.orders.values():
            if order.status.is_working and not order.external:
                self._hold(order)

    def adopt_opening_books(
        self, asset: BrokerAsset, positions: Iterable[BrokerPosition], trades: Iterable[TradeReport]
    ) -> list[str]:
        """First start on a new database: the broker's cash and positions are the opening books.

        Today's trades are already inside the broker's positions, so they are recorded as known
        (never booked again by recovery)."""
        self.set_cash(asset.cash)
        notes = [f"首次启动：以券商账户为期初 (opening books from the broker): 资金 {asset.cash}"]
        for p in positions:
            if p.total <= 0:
                continue
            settled = min(p.total, p.sellable + p.frozen)
            position = Position(p.code, "", p.total, settled, 0, p.avg_price, ZERO, _t_plus_zero(p.code))
            self.set_position(position)
            notes.append(f"期初持仓 {p.code} {p.total} 股 (可卖 {p.sellable})")
        for trade in trades:
            if self.is_booked(trade):
                continue
            self.trade_ids[_trade_key(trade)] = trade
            self.store.stage_trade(
                trade, ClientOrderId(f"X{trade.broker_order_id}"[:20]), "", self.trading_day
            )
        return notes

    def set_cash(self, cash: Decimal) -> None:
        self.cash.cash = cash
        self.store.stage_cash(self.cash.cash)

    def set_position(self, position: Position) -> None:
        self.positions[position.code] = position
        self.store.stage_position(position)

    def roll_day(self, day: date) -> None:
        """Start a new trading day: yesterday's buys settle (T+1)."""
        for position in self.positions.values():
            position.roll_day()
            self.store.stage_position(position)
        for row in self.ledger.roll_day():
            self.store.stage_strategy_position(row)
        self._use_day(day)

    def _track(self, order: Order) -> None:
        self.orders[order.client_order_id] = order
        if order.broker_order_id is not None:
            self.by_broker_id[order.broker_order_id] = order.client_order_id

    # ------------------------------------------------------------------ new orders
    def reserve_ids(self, count: int) -> None:
        """Make sure `count` client order ids are reserved on disk before any is handed out (raises the
        store's error if the reservation cannot be written; then nothing was handed out)."""
        if self._seq_end - self._next_seq < count:
            reserved = max(count, ID_BLOCK)
            first = self.store.reserve_order_seqs(self.trading_day, reserved)
            self._next_seq, self._seq_end = first, first + reserved

    def new_client_order_id(self) -> ClientOrderId:
        """The next id of a block reserved durably: never the same twice, whatever a commit does later."""
        if self._next_seq >= self._seq_end:
            self.reserve_ids(1)
        seq = self._next_seq
        self._next_seq = seq + 1
        if 0 <= seq < _BASE36_4_END:
            high, low = divmod(seq, 1296)
            text = self._id_prefix + _PAIRS[high] + _PAIRS[low]
        else:
            text = f"{self._id_prefix}{_base36(seq, 4)}"
        if self._id_prefix_ok and len(text) <= ClientOrderId.MAX_LEN:
            # valid by construction (an ASCII prefix without spaces, base-36 digits): the checks of
            # ClientOrderId(...) once per day in _use_day, not once per order
            return str.__new__(ClientOrderId, text)  # type: ignore[return-value]
        return ClientOrderId(text)

    def create(self, request: NewOrder, now: datetime) -> Order:
        """Make an order intent and stage it. A request that breaks a rule becomes a DENIED order.

        Each request stands alone: values out of bounds (app.domain.bounds), a broken rule, or any
        unexpected error deny this order only, and leave nothing held (cash, shares) for it. Only a
        failure to reserve its id raises, before anything is made."""
        cid = self.new_client_order_id()
        try:
            problem = _bounds_problem(request)
        except Exception as exc:  # not even a NewOrder
            problem = f"委托无效 (invalid request): {type(exc).__name__}: {exc}"
        if problem is not None:
            return self._deny_unusable(cid, request, problem, now)
        try:
            order = Order(
                client_order_id=cid,
                code=request.code,
                side=request.side,
                qty=request.qty,
                price=request.price,
                price_type=request.price_type,
                created_at=now,
                trading_day=self.trading_day,
                strategy_id=request.strategy_id,
                signal_id=request.signal_id,
                updated_at=now,
            )
        except Exception as exc:  # a request no Order can be made of
            return self._deny_unusable(cid, request, f"委托无效 (invalid order): {exc}", now)
        reason: str | None = None
        try:
            reason = self._pre_trade_check(order)
            if reason is None and self.risk is not None:
                reason = self._risk_check(order, now)
            if reason is None:
                if order.side is Side.BUY and order.price is None:
                    order.reserve_price = self._reserve_price(order)
                self._hold(order)
                if self.risk is not None:
                    price = self._reserve_price(order) if order.side is Side.BUY else order.price
                    self.risk.accepted(order, now, None if price is None else price * order.qty)
        except (InsufficientCashError, InsufficientSharesError) as exc:
            reason = str(exc)
        except Exception as exc:
            log.exception("creating order %s failed", cid)
            self._release_hold(order)
            reason = f"内部错误，未发送 (internal error, not sent): {type(exc).__name__}: {exc}"
        self._track(order)
        self.store.stage_new_order(order)  # staged whole: a later stage_order of it adds nothing
        if reason is not None:
            self._apply(order, OrderDenied(order.client_order_id, reason, now))
        else:
            self._changed.add(order.client_order_id)
        return order

    def _risk_check(self, order: Order, now: datetime) -> str | None:
        """The risk gate's answer: a reason to deny, or None. A resize cuts the order's quantity
        here, before anything is held; the note stays on the order (status_msg) and is alerted."""
        assert self.risk is not None
        decision = self.risk.check(order, self._view, now)
        if type(decision) is Deny:
            self._alert(
                "warning",
                "risk",
                f"{order.client_order_id} {order.code} {order.side.value} {order.qty}: {decision.reason}",
            )
            return decision.reason
        if type(decision) is Resize:
            order.qty = decision.qty
            order.status_msg = decision.note
            problem = self._pre_trade_check(order)  # the smaller order meets the exchange rules too
            if problem is not None:
                return f"{decision.note}; {problem}"
            self._alert("warning", "risk", f"{order.client_order_id} {order.code}: {decision.note}")
        return None

    def _release_hold(self, order: Order) -> None:
        """Undo whatever `_hold` may have done for an order that is not going to be made after all."""
        self._fee_estimates.pop(order.client_order_id, None)
        if order.side is Side.BUY:
            self._held_change(order.code, -self.cash.release(order.client_order_id))
            self.working_buys.get(order.code, set()).discard(order.client_order_id)

    def _held_change(self, code: str, delta: Decimal) -> None:
        if delta:
            self.buy_held[code] = self.buy_held.get(code, ZERO) + delta

    def _deny_unusable(self, cid: ClientOrderId, request: NewOrder, reason: str, now: datetime) -> Order:
        """A DENIED order for a request whose values cannot be an order: kept with what can be stored
        (nothing is clamped: an unusable quantity is kept as 0 and an unusable price as none, and the
        reason names the value the request had)."""
        code, side, price_type = (getattr(request, n, None) for n in ("code", "side", "price_type"))
        strategy_id, signal_id = getattr(request, "strategy_id", ""), getattr(request, "signal_id", "")
        order = Order(
            client_order_id=cid,
            code=code if isinstance(code, str) else repr(code)[:40],
            side=side if isinstance(side, Side) else Side.BUY,  # unknown: the reason says what it was
            qty=_storable_qty(getattr(request, "qty", 0)),
            price=_storable_price(getattr(request, "price", None)),
            price_type=price_type if isinstance(price_type, PriceType) else PriceType.LIMIT,
            created_at=now,
            trading_day=self.trading_day,
            strategy_id=strategy_id if isinstance(strategy_id, str) else "",
            signal_id=signal_id if isinstance(signal_id, str) else "",
            status=OrderStatus.DENIED,
            status_msg=reason,
            updated_at=now,
        )
        self._track(order)
        self.store.stage_new_order(order)
        self._stage(order, OrderDenied(cid, reason, now))
        return order

    def _pre_trade_check(self, order: Order) -> str | None:
        """Exchange rules the order must meet before it may leave. The risk gate comes on top."""
        try:
            instrument = classify(order.code)
            info = self.instruments.get(order.code)
            if info is not None and info.status is InstrumentStatus.SUSPENDED:
                return f"{order.code} 停牌 (suspended today)"
            position = self.positions.get(order.code)
            holding = 0
            if order.side is Side.SELL:
                if position is None or order.qty > position.sellable:
                    return _not_sellable(order.code, order.qty, position)
                holding = position.sellable
                if order.strategy_id and self.ledger.holders(order.code):  # never another strategy's shares
                    own = self.ledger.sellable(order.strategy_id, order.code, position, self.working_orders())
                    if order.qty > own:
                        return (
                            f"策略可卖数量不足 (not enough sellable shares of strategy {order.strategy_id}): "
                            f"{order.code} 可卖 {own}, was {order.qty}"
                        )
            check_quantity(
                order.code, order.side, order.qty, holding=holding, market=order.price_type.is_market
            )
            if order.price is not None:
                if not is_on_tick(order.price, instrument.tick):
                    return f"价格不是最小变动价位的整数倍 (price {order.price} is off the tick {instrument.tick})"
                down, up = (None, None) if info is None else (info.down_limit, info.up_limit)
                if down is not None and up is not None and not down <= order.price <= up:
                    return f"价格超出涨跌停限制 (price {order.price} outside {down}–{up})"
            elif order.side is Side.BUY and self._reserve_price(order) is None:
                return "市价买单需要今日涨停价以冻结资金 (a market buy needs today's up limit)"
        except DomainError as exc:
            return str(exc)
        return None

    def _reserve_price(self, order: Order) -> Decimal | None:
        if order.price is not None:
            return order.price
        if order.reserve_price is not None:  # fixed when the order was made: the hold never drifts
            return order.reserve_price
        info = self.instruments.get(order.code)
        if info is not None and info.up_limit is not None:
            return info.up_limit
        return self.last_prices.get(order.code)

    def _buy_reservation(self, order: Order) -> Decimal:
        price = self._reserve_price(order)
        if price is None:  # a market buy from before reserve prices were kept, with no quote yet
            self._alert(
                "warning",
                "reserve",
                f"{order.client_order_id} {order.code}: 无价格可冻结资金 (no price to hold cash at)",
            )
            return ZERO
        estimated = self._fee_estimates.get(order.client_order_id)
        if estimated is None:  # the whole order's fees, once: the fee schedule is not cheap
            estimated = self._fee_estimates[order.client_order_id] = self._buy_fee(
                order.code, price * order.qty
            )
        leaves = order.qty - order.filled_qty
        return leaves * price + max(ZERO, estimated - order.fees)

    def _hold(self, order: Order) -> None:
        """Freeze cash (buys, with fees) or shares (sells) for a working order."""
        if order.side is Side.BUY:
            amount = self._buy_reservation(order)
            self.cash.reserve(order.client_order_id, amount)
            self.working_buys.setdefault(order.code, set()).add(order.client_order_id)
            self._held_change(order.code, amount)
        else:
            position = self.positions.get(order.code)
            if position is None:
                raise InsufficientSharesError(f"{order.code}: no position to sell")
            position.freeze(order.qty - order.filled_qty)

    def _rehold(self, order: Order) -> None:
        """An ended order adopted again: hold its rest once more (the broker holds it too)."""
        try:
            self._hold(order)
        except (InsufficientCashError, InsufficientSharesError) as exc:
            self._alert(
                "error",
                "reconcile",
                f"{order.client_order_id} {order.code}: 接管的委托无法冻结 (cannot hold the adopted order): {exc}",
            )

    def _unhold(self, order: Order) -> None:
        if order.external:
            return
        if order.side is Side.BUY:
            self._held_change(order.code, -self.cash.release(order.client_order_id))
            self._fee_estimates.pop(order.client_order_id, None)
            self.working_buys.get(order.code, set()).discard(order.client_order_id)
        elif order.code in self.positions:
            self.positions[order.code].unfreeze(order.qty - order.filled_qty)

    def reject_unsent(self, order: Order, reason: str, now: datetime) -> None:
        """An intent that will not be sent after all (no connection, not saved): rejected, hold released."""
        self._apply(order, OrderRejected(order.client_order_id, reason, now))

    def record_unsent(self, order: Order, reason: str, now: datetime) -> None:
        """Record as REJECTED an intent of another OrderManager that never reached the disk nor the
        broker (its batch's commit failed): its id was reserved, so it is kept, never used again."""
        if order.client_order_id in self.orders:
            return
        record = replace(order, status=OrderStatus.REJECTED, status_msg=reason, updated_at=now,
                         broker_order_id=None, order_sysid="", trade_ids=set())  # fmt: skip
        self._track(record)
        self.store.stage_new_order(record)
        self._stage(record, OrderRejected(record.client_order_id, reason, now))

    def mark_submitted(self, order: Order, now: datetime) -> SubmitOrder:
        self._apply(order, OrderSubmitted(order.client_order_id, now))
        return SubmitOrder(
            order.client_order_id,
            order.code,
            order.side,
            order.qty,
            order.price,
            order.price_type,
            order.strategy_id,
        )

    def put_in_doubt(self, order: Order, reason: str, now: datetime) -> None:
        """The order's fate is unknown: it stays held and working until the broker says otherwise."""
        self._apply(order, OrderInDoubt(order.client_order_id, reason, now))

    def expire_lost(self, order: Order, reason: str, now: datetime) -> None:
        """In doubt, and still not at the broker after the settle time: lost in transit. Should the
        broker report it after all, it is adopted (EXPIRED -> ACCEPTED)."""
        self._apply(order, OrderExpired(order.client_order_id, reason, now))

    def in_doubt_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if o.status is OrderStatus.IN_DOUBT]

    # ------------------------------------------------------------------ broker reports
    def _adopt(self, order: Order, broker_order_id: BrokerOrderId, ts: datetime, sysid: str = "") -> None:
        """An order put in doubt or expired as lost turns out to be at the broker: booked again as
        working (held again), whatever the broker reports next."""
        was = order.status
        self._apply(order, OrderAccepted(order.client_order_id, broker_order_id, ts, sysid))
        if order.status is not was:
            self._alert(
                "warning",
                "recovery",
                f"{order.client_order_id} {order.code}: 券商处有此委托，已接管 "
                f"(found at the broker after all, was {was.value}: adopted)",
            )

    def on_submit_response(self, report: SubmitResponse) -> None:
        order = self.orders.get(report.client_order_id)
        if order is None:
            log.warning("submit response for unknown order %s", report.client_order_id)
            return
        if report.broker_order_id is None:
            if order.status is not OrderStatus.EXPIRED:  # an expired one stays so: it never got there
                self._apply(
                    order, OrderRejected(order.client_order_id, report.error or "券商未接受委托", report.ts)
                )
            return
        self.by_broker_id[report.broker_order_id] = order.client_order_id
        if order.status is OrderStatus.SUBMITTED:
            self._apply(order, OrderAccepted(order.client_order_id, report.broker_order_id, report.ts))
        elif order.status in _ADOPTABLE and not order.external:
            self._adopt(order, report.broker_order_id, report.ts)
        elif order.broker_order_id is None:
            order.broker_order_id = report.broker_order_id
            self._stage(order, None)

    def on_order_report(self, report: OrderReport) -> None:
        order = self._order_for(report.client_order_id, report.broker_order_id)
        if order is None:
            order = self._external_order(report)
        elif (
            order.status in _ADOPTABLE
            and not order.external
            and (order.status is OrderStatus.IN_DOUBT or report.status is not OrderStatus.EXPIRED)
        ):
            self._adopt(order, report.broker_order_id, report.ts, report.order_sysid)
        if order.broker_order_id is None:
            self.by_broker_id[report.broker_order_id] = order.client_order_id
            if order.status is OrderStatus.SUBMITTED:
                self._apply(
                    order,
                    OrderAccepted(
                        order.client_order_id, report.broker_order_id, report.ts, report.order_sysid
                    ),
                )
            else:
                order.broker_order_id = report.broker_order_id
        cid, ts, status = order.client_order_id, report.ts, report.status
        if status is OrderStatus.PENDING_CANCEL:
            self._apply(order, OrderPendingCancel(cid, ts))
        elif status is OrderStatus.CANCELLED:
            self._apply(order, OrderCancelled(cid, ts, report.status_msg))
        elif status is OrderStatus.REJECTED:
            self._apply(order, OrderRejected(cid, report.status_msg or "废单", ts, report.broker_order_id))
        elif status is OrderStatus.EXPIRED:
            self._apply(order, OrderExpired(cid, report.status_msg or "expired", ts))
        elif report.status_msg and order.status.is_working and report.status_msg != order.status_msg:
            # What the exchange says of a working order (e.g. held outside the price cage, then
            # released) is shown with it.
            order.status_msg = report.status_msg
            self._stage(order, None)
        # ACCEPTED needs nothing more; (PARTIALLY_)FILLED is driven by trade reports, which carry the
        # trade id that makes a fill count once.

    def is_booked(self, report: TradeReport) -> bool:
        """Whether a fill with this identity (today, broker order id, traded id) is already booked."""
        return _trade_key(report) in self.trade_ids

    def on_trade_report(self, report: TradeReport) -> None:
        key = _trade_key(report)
        booked = self.trade_ids.get(key)
        if booked is not None:
            if _trade_content(booked) != _trade_content(report):
                self._alert(
                    "error",
                    "trade",
                    f"成交 {report.trade_id} (委托 {report.broker_order_id}) 再次报告但内容不同，未记账 "
                    f"(a second report of this fill differs; not booked): 已记 {_describe(booked)}，"
                    f"新报 {_describe(report)}",
                )
            else:
                log.info("trade %s of %s already booked; ignored", report.trade_id, report.broker_order_id)
            return
        order = self._order_for(report.client_order_id, report.broker_order_id)
        if order is None:
            order = self._external_from_trade(report)
        self.trade_ids[key] = report
        self.store.stage_trade(report, order.client_order_id, order.strategy_id, self.trading_day)
        held = order.status.is_working and not order.external  # its shares/cash were frozen
        self._apply(
            order,
            OrderFilled(
                order.client_order_id,
                report.trade_id,
                report.qty,
                report.price,
                report.fees,
                report.ts,
                report.broker_order_id,
            ),
        )
        self._book_fill(order, report, held)

    def _book_fill(self, order: Order, report: TradeReport, held: bool) -> None:
        """The trade is a fact at the broker: cash and positions follow it whatever the order's state."""
        position = self.positions.get(report.code)
        if position is None:
            position = self.positions[report.code] = Position(
                report.code, t_plus_zero=_t_plus_zero(report.code)
            )
        if report.side is Side.BUY:
            position.apply_buy(report.qty, report.price, report.fees)
            # the order's reservation shrinks to what its rest can still cost (released if it ended)
            still = self._buy_reservation(order) if order.status.is_working and not order.external else ZERO
            reservations = self.cash.reservations
            before = reservations.get(order.client_order_id, ZERO)
            self.cash.apply_buy_fill(order.client_order_id, report.amount, report.fees, still)
            self._held_change(order.code, reservations.get(order.client_order_id, ZERO) - before)
        else:
            try:
                position.apply_sell(report.qty, report.price, report.fees, frozen=held)
            except InsufficientSharesError as exc:
                self._alert("error", "reconcile", f"卖出成交超过本地可卖数量: {exc}")
                position.settled = max(position.settled, report.qty)
                position.total = max(position.total, report.qty)
                position.apply_sell(report.qty, report.price, report.fees, frozen=False)
            self.cash.apply_sell_fill(report.amount, report.fees)
        self.store.stage_position(position)
        if order.strategy_id and not order.external:  # the strategy's sub-ledger follows its own fills
            row = self.ledger.on_fill(
                order.strategy_id, report.code, report.side, report.qty, report.price, report.fees,
                position.t_plus_zero,
            )  # fmt: skip
            if row is not None:
                self.store.stage_strategy_position(row)
        elif report.side is Side.SELL and self.ledger.holders(report.code):
            clipped = self.ledger.clip_to_account(report.code, position)
            for row in clipped:
                self.store.stage_strategy_position(row)
            if clipped:
                self._alert(
                    "warning",
                    "attribution",
                    f"非策略卖出动用了策略持仓 (a sell no strategy made used strategy shares): {report.code} "
                    + ", ".join(f"{r.strategy_id} -> {r.total}" for r in clipped),
                )
        self.store.stage_cash(self.cash.cash)

    def on_order_error(self, report: OrderErrorReport) -> None:
        order = self._order_for(report.client_order_id, report.broker_order_id)
        if order is None:
            self._alert("warning", "order", f"委托失败 (order error for an unknown order): {report.message}")
            return
        self._apply(
            order, OrderRejected(order.client_order_id, report.message, report.ts, report.broker_order_id)
        )

    def on_cancel_error(self, report: CancelErrorReport) -> None:
        order = self._order_for(report.client_order_id, report.broker_order_id)
        if order is None:
            return
        if order.status is OrderStatus.PENDING_CANCEL:
            self._apply(order, OrderCancelRejected(order.client_order_id, report.message, report.ts))
        self._alert("warning", "cancel", f"撤单失败 {order.code} {order.client_order_id}: {report.message}")

    # ------------------------------------------------------------------ recovery
    def recover(
        self,
        broker_orders: Iterable[OrderReport],
        broker_trades: Iterable[TradeReport],
        now: datetime,
        *,
        at_start: bool = True,
    ) -> list[str]:
        """Resolve every unacknowledged intent against the broker's own books, before anything is sent.

        Orders are matched by remark (client order id). Returns what was found, in words.
        """
        notes: list[str] = []
        broker_orders = list(broker_orders)
        for trade in broker_trades:
            if not self.is_booked(trade):
                self.on_trade_report(trade)
                notes.append(f"补记成交 {trade.trade_id} {trade.code} {trade.side} {trade.qty}@{trade.price}")
        seen: set[ClientOrderId] = set()
        for report in broker_orders:
            known = self._order_for(report.client_order_id, report.broker_order_id)
            self.on_order_report(report)
            order = self._order_for(report.client_order_id, report.broker_order_id)
            if order is not None:
                seen.add(order.client_order_id)
                if known is None:
                    notes.append(f"外部委托 {report.broker_order_id} {report.code} (not sent by Tiller)")
        for order in list(self.orders.values()):
            if order.external or order.client_order_id in seen or order.status.is_final:
                continue
            status = order.status
            if status is OrderStatus.INITIALIZED:
                # never handed to the gateway (the engine marks an order submitted before it sends it)
                if at_start:
                    reason = "重启后核对：券商无此委托，未送达 (not at the broker after restart: never sent)"
                    self._apply(order, OrderExpired(order.client_order_id, reason, now))
                    notes.append(f"{order.client_order_id} {order.code}: {reason}")
                continue
            if status is OrderStatus.IN_DOUBT:
                continue  # already in doubt: the settle re-query decides
            if status is OrderStatus.SUBMITTED:
                if not at_start:
                    continue  # may still be on its way: the answer timeout asks about it
                reason = (
                    "重启后核对：券商无此委托，状态未知，稍后复查 "
                    "(not at the broker after restart: in doubt, asked again after the settle time)"
                )
            else:
                reason = (
                    "券商列表中没有此委托，状态未知，稍后复查 "
                    "(not listed by the broker: in doubt, asked again after the settle time)"
                )
            self.put_in_doubt(order, reason, now)
            notes.append(f"{order.client_order_id} {order.code}: {reason}")
        return notes

    # ------------------------------------------------------------------ helpers
    def _order_for(
        self, client_order_id: ClientOrderId | None, broker_order_id: BrokerOrderId | None
    ) -> Order | None:
        if client_order_id is not None:
            order = self.orders.get(client_order_id)
            if order is not None:
                return order
        if broker_order_id is not None:
            cid = self.by_broker_id.get(broker_order_id)
            if cid is not None:
                return self.orders.get(cid)
        return None

    def _external_order(self, report: OrderReport) -> Order:
        # with the day: a new order is an INSERT, and a broker's order numbers may start again each day
        cid = ClientOrderId(f"X{self.trading_day:%y%m%d}{report.broker_order_id}"[: ClientOrderId.MAX_LEN])
        order = Order(
            client_order_id=cid,
            code=report.code,
            side=report.side,
            qty=report.qty,
            price=report.price if report.price_type is PriceType.LIMIT else None,
            price_type=report.price_type,
            created_at=report.ts,
            trading_day=self.trading_day,
            strategy_id=report.strategy_id,
            external=True,
            status=OrderStatus.SUBMITTED,
            updated_at=report.ts,
        )
        self._track(order)
        self.store.stage_new_order(order)
        self._apply(order, OrderAccepted(cid, report.broker_order_id, report.ts, report.order_sysid))
        self._alert(
            "warning",
            "external",
            f"发现非 Tiller 委托 {report.code} {report.side} {report.qty}（仅显示，不管理）",
        )
        return order

    def _external_from_trade(self, report: TradeReport) -> Order:
        return self._external_order(
            OrderReport(
                report.broker_order_id,
                None,
                report.code,
                report.side,
                report.qty,
                report.price,
                PriceType.LIMIT,
                OrderStatus.ACCEPTED,
                0,
                None,
                report.ts,
            )
        )

    def _apply(self, order: Order, event: OrderEvent) -> None:
        was_final = order.status in FINAL_STATUSES
        try:
            order.apply(event)
        except (InvalidTransitionError, DuplicateFillError) as exc:
            log.info("order %s: %s ignored: %s", order.client_order_id, type(event).__name__, exc)
            return
        cid = order.client_order_id
        if order.broker_order_id is not None:
            self.by_broker_id[order.broker_order_id] = cid
        final = order.status in FINAL_STATUSES
        if final and not was_final and not isinstance(event, OrderDenied):
            self._unhold(order)
        elif was_final and not final and not order.external:
            self._rehold(order)
        # as _stage(order, event), inlined: three of these per order
        store = self.store
        store.stage_order(order)
        store.stage_event(event)
        self._changed.add(cid)

    def _stage(self, order: Order, event: OrderEvent | None) -> None:
        self.store.stage_order(order)
        if event is not None:
            self.store.stage_event(event)
        self._changed.add(order.client_order_id)

    def mark_all_changed(self) -> None:
        """Every order counts as changed (after the books were rebuilt, the window shows them all)."""
        self._changed.update(self.orders)

    def changed_orders(self) -> list[Order]:
        """Orders changed since the last take_changed, without taking them (the execution policies)."""
        return [self.orders[c] for c in self._changed]

    def take_changed(self) -> list[Order]:
        """Orders changed since the last call (for events to the UI after commit)."""
        changed = [self.orders[c] for c in self._changed]
        self._changed.clear()
        return changed

    # ------------------------------------------------------------------ planned orders
    def take_in(self, batch: SignalBatch, now: datetime) -> tuple[list[SignalLine], list[SignalLine]]:
        """Take in a batch of planned orders: returns (new lines, lines already taken in earlier).

        A line is identified by (strategy, trading day, signal id). The new ones are recorded as taken
        in (staged; on disk with the batch's commit, before or with the orders made from them), so a
        planned order becomes orders at most once, across restarts and re-runs: the caller makes
        orders only for the new lines. Orders that continue a line already taken in (a re-send of an
        unfilled rest with the same signal id) are not intake and are not affected."""
        done_ids = self.store.load_signal_ids(batch.strategy_id, batch.trading_day)
        done_ids |= self._taken.get((batch.strategy_id, batch.trading_day), set())
        new: list[SignalLine] = []
        done: list[SignalLine] = []
        seen: set[str] = set()
        for line in batch.lines:
            if line.signal_id in done_ids or line.signal_id in seen:
                done.append(line)
            else:
                seen.add(line.signal_id)
                new.append(line)
        if new:
            self.store.stage_signal_lines(batch, new, now)
            self._taken.setdefault((batch.strategy_id, batch.trading_day), set()).update(seen)
            self._intake.append((batch, new, now))
        return new, done

    def carry_intake(self, other: OrderManager) -> None:
        """After a rebuild: lines `other` said were new stay taken in (its caller may have made orders
        of them), so any of them that a failed commit lost is staged again."""
        for batch, lines, now in other._intake:
            stored = self.store.load_signal_ids(batch.strategy_id, batch.trading_day)
            key = (batch.strategy_id, batch.trading_day)
            lost = [line for line in lines if line.signal_id not in stored | self._taken.get(key, set())]
            if lost:
                self.store.stage_signal_lines(batch, lost, now)
                self._taken.setdefault(key, set()).update(line.signal_id for line in lost)
            self._intake.append((batch, lines, now))

    # ------------------------------------------------------------------ views
    def working_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if o.status.is_working]


def _not_sellable(code: str, qty: int, position: Position | None) -> str:
    if position is None or position.total == 0:
        return f"可卖数量不足 (nothing to sell): 未持有 {code}, was {qty}"
    return (
        f"可卖数量不足 (not enough sellable shares): {code} 可卖 {position.sellable} "
        f"(held {position.total}, bought today {position.today_qty}, frozen {position.frozen}), was {qty}"
    )


def _t_plus_zero(code: str) -> bool:
    try:
        return classify(code).t_plus_zero
    except DomainError:
        return False


def _trade_key(report: TradeReport) -> TradeKey:
    return (report.broker_order_id, report.trade_id)


def _trade_content(report: TradeReport) -> tuple[object, ...]:
    return (report.code, report.side, report.qty, report.price)


def _describe(report: TradeReport) -> str:
    return f"{report.code} {report.side.value} {report.qty}@{report.price}"


def _bounds_problem(request: NewOrder) -> str | None:
    """Why the request's values cannot be an order at all (app.domain.bounds), or None."""
    try:
        check_qty(request.qty, name="数量 (qty)")
        if request.price is not None:
            check_price(request.price, name="价格 (price)")
    except BoundsError as exc:
        return str(exc)
    if not isinstance(request.side, Side):
        return f"买卖方向无效 (side must be buy or sell), was {request.side!r}"
    if not isinstance(request.price_type, PriceType):
        return f"价格类型无效 (unknown price type), was {request.price_type!r}"
    if not isinstance(request.code, str):
        return f"证券代码无效 (code must be text), was {request.code!r}"
    return None


def _storable_qty(value: object) -> int:
    return value if type(value) is int and 0 <= value <= 2**63 - 1 else 0


def _storable_price(value: object) -> Decimal | None:
    try:
        return check_price(value)
    except BoundsError:
        return None


_DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 36)
        out = _DIGITS[r] + out
    return out.rjust(width, "0")


# Four base-36 digits by table: two digits at a time (the sequence of a day's ids, 0 .. 36**4 - 1).
_PAIRS = tuple(a + b for a in _DIGITS for b in _DIGITS)
_BASE36_4_END = 36**4
