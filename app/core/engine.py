"""The engine: one thread that owns all core state and the SQLite connection (ARCHITECTURE.md, Threads).

Everything that changes state is a message on one queue: broker reports pushed from the
gateway's thread, quotes, commands from the user or the scheduler. The loop takes a batch
of messages, handles each (an error becomes an alert, never the end of the loop), commits
everything the batch changed in ONE transaction (group commit), and only then sends the
orders the batch created and publishes events. So an order is on disk before it leaves,
and nobody hears of a change that a crash could still undo.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.core.execution.hooks import Execution
from app.core.messages import (
    AccountSnapshot,
    AccountUpdated,
    AlertRaised,
    Call,
    CancelAllOrders,
    CancelOrder,
    ConnectionStateChanged,
    EngineEvent,
    OrderSnapshot,
    OrderUpdated,
    PositionSnapshot,
    QuotesArrived,
    QuotesUpdated,
    Resync,
    SignalsFetched,
    SignalsReceived,
    StartDay,
    SubmitOrders,
    TradeBooked,
)
from app.core.oms import NewOrder, OrderManager
from app.core.planning.desk import PlanDesk
from app.core.ports import BrokerGateway, OmsStore
from app.core.risk import WHO, RiskGate, RiskMonitor, RiskSettingError, TradingState, arming
from app.core.snapshot import DayFlows
from app.domain.calendar import DEFAULT_CALENDAR, TradingCalendar, unknown_day_warning
from app.domain.clock import TimedClock, TimerHandle
from app.domain.fees import FeeSchedule
from app.domain.identifiers import ClientOrderId
from app.domain.market import Quote
from app.domain.orders import Order, OrderStatus
from app.domain.reports import (
    BrokerAlgo,
    CancelErrorReport,
    ConnectionChanged,
    OrderErrorReport,
    OrderReport,
    SubmitOrder,
    SubmitResponse,
    TradeReport,
)
from app.domain.reports import CancelOrder as BrokerCancel
from app.domain.side import Side
from app.domain.signals import SignalBatch, SignalLine

log = logging.getLogger(__name__)

Listener = Callable[[EngineEvent], None]
_STOP = object()
_CANCEL_WANTED = "cancel_wanted"  # meta key: cancels asked before the acknowledgement, space-separated
_RISK_STATE = "risk_state"  # meta key: the trading state (active | reducing | halted), kept across restarts
_RISK_OVERRIDES = "risk_overrides"  # meta key: risk settings changed at run time, JSON {key: text}


@dataclass(frozen=True, slots=True)
class _IdleMarker:
    done: threading.Event


@dataclass(frozen=True, slots=True)
class _SendFailed:
    """The gateway raised while sending (after the commit): handled as a message of the next batch,
    so the orders' doubt is committed before anyone hears of it."""

    what: str  # "submit" | "cancel"
    client_order_ids: tuple[ClientOrderId, ...]
    error: str


BATCH_MAX = 4096
# A batch whose sending left messages already waiting (the simulated broker, in the engine's thread,
# answers inside `gateway.submit`) publishes with the next batch: one publication (one account
# event) per order in flight instead of two. At most this many batches in a row hold theirs back.
HOLD_MAX = 1
ANSWER_TIMEOUT = timedelta(seconds=10)  # a sent order the broker has not answered by then is queried
FILLS_GRACE = timedelta(seconds=3)  # an order report ahead of its trades: the trades are queried after this
SETTLE_TIME = timedelta(seconds=30)  # an order the broker does not list is asked about again after this


class TradingHaltedError(RuntimeError):
    """New orders are refused: a commit failed and the books are not yet rebuilt and resynced."""


class Engine:
    def __init__(
        self,
        *,
        clock: TimedClock,
        gateway: BrokerGateway,
        store_factory: Callable[[], OmsStore],
        fees: FeeSchedule,
        trading_day: date,
        calendar: TradingCalendar = DEFAULT_CALENDAR,
        answer_timeout: timedelta = ANSWER_TIMEOUT,
        settle_time: timedelta = SETTLE_TIME,
        risk: RiskGate | None = None,
    ) -> None:
        if answer_timeout <= timedelta(0) or settle_time <= timedelta(0):
            raise ValueError(
                f"answer_timeout and settle_time must be positive, were {answer_timeout} and {settle_time}"
            )
        self.clock = clock
        self.calendar = calendar
        self.answer_timeout = answer_timeout
        self.settle_time = settle_time
        self.gateway = gateway
        self.fees = fees
        self.trading_day = trading_day
        self._store_factory = store_factory
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self.oms: OrderManager  # set on the engine thread
        self.store: OmsStore
        self.recovery_notes: list[str] = []
        self.alerts: deque[AlertRaised] = deque(maxlen=1000)  # the newest; all are in the database
        self._outgoing: list[SubmitOrder] = []
        self._cancels: list[BrokerCancel] = []
        self._events: list[EngineEvent] = []
        self._account_dirty = False
        self._trades: list[TradeReport] = []
        self._replies: list[tuple[Future[Any], Any]] = []
        # a publication held back for the next batch's (committed already; see HOLD_MAX)
        self._held = 0
        self._held_orders: dict[ClientOrderId, Order] = {}
        self._held_trades: list[TradeReport] = []
        self._held_events: list[EngineEvent] = []
        self._cancel_wanted: set[ClientOrderId] = set()  # cancels asked before the broker's acknowledgement
        # every cancel asked (by anyone) of an order not yet ended: the broker says PENDING_CANCEL only
        # later, and the execution policies must not take someone else's cancel for their own
        self.cancel_asked: set[ClientOrderId] = set()
        self._cancel_wanted_changed = False
        self._doubt_timer: TimerHandle | None = None
        # sends waiting for their answer timeout, oldest first: (due, the send's client order ids);
        # one timer for all of them (a timer per order cost a heap push per order, and a wake of the
        # live clock's thread)
        self._position_snapshots: dict[str, PositionSnapshot] = {}  # code -> the last one made
        self._awaiting: deque[tuple[datetime, str, tuple[ClientOrderId, ...]]] = (
            deque()
        )  # kind: submit | cancel
        self._answer_timer: TimerHandle | None = None
        self._fills_behind: dict[ClientOrderId, int] = {}  # order -> filled qty the broker reported
        self._fills_timer: TimerHandle | None = None
        self._cancel_resent: set[ClientOrderId] = set()  # cancels sent again once, after their timeout
        # Why new orders are refused (a commit failed and the books are not yet rebuilt), or None.
        self.halted: str | None = None
        self._rebuild_requested = False
        self._diverged = False  # memory is ahead of the file and could not be reloaded: write nothing
        # The risk gate every new order passes (inside OrderManager.create) and its monitors.
        self.risk = risk
        self.risk_monitor = RiskMonitor()
        # the settings file's limits and the start state: what run-time changes on disk apply over
        self._risk_base = None if risk is None else (risk.limits, risk.state)
        # the fetched batches of planned orders by batch id, for the planner (not yet taken in)
        self.signal_batches: dict[str, SignalBatch] = {}
        self.quotes: dict[str, Quote] = {}  # the last quote of each code, for the window's snapshot
        self._day_flows = DayFlows()  # today's fills folded for the day's P&L (engine thread)
        # The execution policies (app/core/execution), set by the composition root before start: they
        # execute approved plan lines, hear quotes, order reports and the orders each batch changed, and
        # place children from timers. The plan desk is made on the engine thread with the books
        # (app/core/planning/desk.py).
        self.execution: Execution | None = None
        self.plan: PlanDesk

    # ------------------------------------------------------------------ life cycle
    def subscribe(self, listener: Listener) -> None:
        """Listeners run on the engine thread and must only hand the event on (e.g. enqueue)."""
        self._listeners.append(listener)

    def start(self, timeout: float = 30.0) -> None:
        """Open the store, connect, recover against the broker, then start serving the queue."""
        self.gateway.set_report_handler(self.post)
        self.clock.bind(self.post)  # fired timers arrive on the queue as TimerHandle messages
        self._thread = threading.Thread(target=self._run, name="tiller-engine", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("the engine did not start in time")
        if self._start_error is not None:
            raise self._start_error

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def post(self, message: Any) -> None:
        """Thread-safe: put a message on the engine's queue."""
        self._queue.put(message)

    def call(self, fn: Callable[[Engine], Any], timeout: float = 10.0) -> Any:
        """Run `fn(engine)` on the engine thread and return its result."""
        message = Call(fn)
        self.post(message)
        return message.reply.result(timeout)

    def submit(self, requests: Sequence[NewOrder], timeout: float = 10.0) -> list[ClientOrderId]:
        reply: Future[list[ClientOrderId]] = Future()
        self.post(SubmitOrders(list(requests), reply))
        return reply.result(timeout)

    # ------------------------------------------------------------------ timers (any thread)
    def schedule_at(self, when: datetime, callback: Callable[[], None], name: str = "") -> TimerHandle:
        """Run `callback()` on the engine thread at `when` (at once if that has passed)."""
        return self.clock.schedule_at(when, callback, name)

    def schedule_after(self, delay: timedelta, callback: Callable[[], None], name: str = "") -> TimerHandle:
        return self.clock.schedule_at(self.clock.now() + delay, callback, name)

    def cancel_timer(self, handle: TimerHandle) -> None:
        """The callback will not run (if it was already delivered, the engine skips it)."""
        self.clock.cancel(handle)

    def take_in(self, batch: SignalBatch, timeout: float = 10.0) -> tuple[list[SignalLine], list[SignalLine]]:
        """Take in a batch of planned orders: (new lines, lines already taken in on an earlier run).
        Make orders for the new lines only; see OrderManager.take_in."""
        return self.call(lambda e: e.oms.take_in(batch, e.clock.now()), timeout)

    def resume_trading(self, timeout: float = 30.0) -> str | None:
        """After a failed commit: rebuild the books from the file, resync with the broker and, if that
        is written, take new orders again. Returns None when trading is on, else why it is still halted."""
        self.call(lambda e: e._request_rebuild(), timeout)
        self.wait_idle(timeout)  # the rebuild runs after the batch's commit
        return self.call(lambda e: e.halted, timeout)

    def _request_rebuild(self) -> None:
        if self.halted is not None:
            self._rebuild_requested = True

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Block until every message posted so far has been handled and committed.

        A marker goes through the queue behind them (FIFO) and is answered after its batch's
        commit, so post() itself counts nothing."""
        marker = _IdleMarker(threading.Event())
        self._queue.put(marker)
        if not marker.done.wait(timeout):
            raise TimeoutError(f"engine busy: messages still queued after {timeout}s")

    # ------------------------------------------------------------------ the loop
    def _run(self) -> None:
        try:
            self.store = self._store_factory()
            self.oms = self._loaded_oms(self.trading_day)
            self.plan = PlanDesk(self)
            self.plan.load(self.trading_day)
            self._cancel_wanted = set((self.store.load_meta(_CANCEL_WANTED) or "").split())
            self._restore_risk()
            self._handlers = self._handler_table()
            if not self.gateway.connected:
                self.gateway.connect()
            if self.store.load_cash() is None:  # first start on this database
                self.recovery_notes = self.oms.adopt_opening_books(
                    self.gateway.query_asset(), self.gateway.query_positions(), self.gateway.query_trades()
                )
            self.recovery_notes += self._resync(at_start=True)
            self._restore_execution()
            self._commit_and_flush()
        except BaseException as exc:  # reported to start()'s caller
            self._start_error = exc
            self._ready.set()
            return
        self._ready.set()
        get, get_nowait = self._queue.get, self._queue.get_nowait
        while True:
            batch = [get()]
            try:
                while len(batch) < BATCH_MAX:
                    batch.append(get_nowait())
            except queue.Empty:
                pass
            stop = False
            markers: list[_IdleMarker] = []
            handlers = self._handlers
            for message in batch:
                handler = handlers.get(type(message))
                try:
                    if handler is not None:
                        handler(message)
                    elif message is _STOP:
                        stop = True
                    elif type(message) is _IdleMarker:
                        markers.append(message)
                    else:
                        raise TypeError(f"unknown message {message!r}")
                except Exception as exc:  # a handler never takes the loop down
                    log.exception("engine: %s failed", type(message).__name__)
                    self._alert("error", "engine", f"处理 {type(message).__name__} 出错: {exc}")
            if self.cancel_asked:
                self.cancel_asked.difference_update(
                    o.client_order_id for o in self.oms.changed_orders() if o.status.is_final
                )
            if self.execution is not None:
                try:
                    self.execution.on_orders(self.oms.changed_orders())
                except Exception as exc:
                    log.exception("engine: execution failed")
                    self._alert("error", "execution", f"执行策略出错 (execution policies failed): {exc}")
            if self._cancel_wanted:
                try:
                    self._release_wanted_cancels()
                except Exception as exc:
                    log.exception("engine: releasing cancels failed")
                    self._alert("error", "cancel", f"发送待撤单出错 (releasing waiting cancels): {exc}")
            try:
                self._commit_and_flush(may_hold=not markers and not stop)
            except Exception as exc:  # nor does sending, answering or publishing
                log.exception("engine: after the batch")
                self._alert("error", "engine", f"批处理后出错 (after the batch): {exc}")
            for marker in markers:
                marker.done.set()
            if stop:
                self.store.close()
                return

    def _handler_table(self) -> dict[type, Callable[[Any], None]]:
        """Message type -> handler: one dict lookup per message instead of an isinstance chain."""
        oms = self.oms
        return {
            TradeReport: self._on_trade,
            OrderReport: self._on_order_report,
            SubmitResponse: oms.on_submit_response,
            QuotesArrived: self._on_quotes,
            SubmitOrders: self._on_submit,
            Call: self._on_call,
            OrderErrorReport: self._on_order_error,
            CancelErrorReport: oms.on_cancel_error,
            CancelOrder: lambda m: self._cancel(m.client_order_id),
            CancelAllOrders: self._on_cancel_all,
            ConnectionChanged: self._on_connection,
            Resync: self._on_resync,
            StartDay: self._start_day,
            SignalsFetched: self._on_signals_fetched,
            TimerHandle: self._on_timer,
            _SendFailed: self._on_send_failed,
        }

    def _on_signals_fetched(self, message: SignalsFetched) -> None:
        """Store the fetched batches once each; a failed fetch is an alert and nothing else."""
        day = message.day.isoformat()
        if message.error is not None:
            self._alert(
                "error", "signals",
                f"{day} 的计划订单获取失败，不下任何单 (fetching {message.source} failed; no order is placed): "
                f"{message.error}",
            )  # fmt: skip
            return
        known = self.store.load_signal_batch_ids(message.day)
        now = self.clock.now()
        new: list[str] = []
        batches: list[SignalBatch] = []
        for fetched in message.batches:
            batch = self._known_instruments_only(fetched)
            batch_id = batch.batch_id
            if batch_id not in known and batch_id not in self.signal_batches:
                self.store.stage_signal_batch(batch, message.source, now)
                new.append(batch_id)
                if batch.rejected:
                    shown = "; ".join(f"{ident}: {reason}" for ident, reason in batch.rejected[:5])
                    more = (
                        f"; … 另有 {len(batch.rejected) - 5} 条 (and more)" if len(batch.rejected) > 5 else ""
                    )
                    self._alert(
                        "warning", "signals",
                        f"策略 {batch.strategy_id} {day}: {len(batch.rejected)} 条计划订单被拒绝，不下单 "
                        f"(planned orders rejected, no order from them): {shown}{more}",
                    )  # fmt: skip
            self.signal_batches[batch_id] = batch
            batches.append(batch)
        self._events.append(SignalsReceived(message.day, tuple(batches), tuple(new), now))

    def _known_instruments_only(self, batch: SignalBatch) -> SignalBatch:
        """A line for an instrument the day does not list is rejected with its reason (once the day's
        instruments are known: before StartDay there is nothing to check against)."""
        instruments = self.oms.instruments
        if not instruments or batch.trading_day != self.oms.trading_day:
            return batch
        unknown = [line for line in batch.lines if line.code not in instruments]
        if not unknown:
            return batch
        day = batch.trading_day.isoformat()
        return replace(
            batch,
            lines=tuple(line for line in batch.lines if line.code in instruments),
            rejected=(
                *batch.rejected,
                *(
                    (line.signal_id, f"当日未知证券 (unknown instrument on {day}): {line.code}")
                    for line in unknown
                ),
            ),
        )

    def _on_trade(self, message: TradeReport) -> None:
        self.oms.on_trade_report(message)
        self._trades.append(message)
        self._account_dirty = True

    def _on_order_report(self, message: OrderReport) -> None:
        self.oms.on_order_report(message)
        if message.filled_qty:
            cid = message.client_order_id or self.oms.by_broker_id.get(message.broker_order_id)
            order = self.oms.orders.get(cid) if cid is not None else None
            if order is not None and message.filled_qty > order.filled_qty:
                self._note_fills_behind(order, message.filled_qty)
        if self.execution is not None:
            self.execution.on_order_report(message)
        self._account_dirty = True

    def _on_resync(self, message: Resync) -> None:
        if self.halted is not None:
            self._rebuild_requested = True  # the rebuild resyncs too
            return
        self._resync(at_start=False)

    def _on_call(self, message: Call) -> None:
        try:
            message.reply.set_result(message.fn(self))
        except Exception as exc:
            message.reply.set_exception(exc)

    def _on_order_error(self, message: OrderErrorReport) -> None:
        self.oms.on_order_error(message)
        self._alert("warning", "order", f"委托被拒: {message.message}")

    def _on_cancel_all(self, message: CancelAllOrders) -> None:
        for order in self.oms.working_orders():
            if message.side is None or order.side is message.side:
                self._cancel(order.client_order_id)

    # ------------------------------------------------------------------ on the engine thread (timers)
    def place(self, requests: Sequence[NewOrder]) -> list[ClientOrderId]:
        """Place orders from the engine thread (a timer's callback): committed, then sent, at the end
        of the batch like any SubmitOrders."""
        return self._place(requests)

    def place_broker_algo(self, request: NewOrder, algo: BrokerAlgo) -> ClientOrderId:
        """Place one order to be worked by the broker's own algorithm (engine thread). It passes the same
        rules, risk gate and holds as any order; a gateway without broker algorithms (the simulated
        broker) refuses it in words and nothing is sent."""
        (cid,) = self._place([request])
        for i, outgoing in enumerate(self._outgoing):
            if outgoing.client_order_id != cid:
                continue
            if getattr(self.gateway, "broker_algos", False):
                self._outgoing[i] = replace(outgoing, algo=algo)
            else:
                del self._outgoing[i]
                self.oms.reject_unsent(
                    self.oms.orders[cid],
                    "此券商接口不提供券商算法，未发送 (this broker connection has no broker-side algorithms: not sent)",
                    self.clock.now(),
                )
            break
        return cid

    def cancel(self, client_order_id: ClientOrderId) -> None:
        """Cancel from the engine thread (a timer's callback)."""
        self._cancel(client_order_id)

    def cancel_all(self, message: CancelAllOrders | None = None) -> None:
        self._on_cancel_all(message or CancelAllOrders())

    # ------------------------------------------------------------------ handlers
    def _on_submit(self, command: SubmitOrders) -> None:
        """Each request becomes an order on its own (sent, or denied with its reason); the caller always
        gets an answer: the ids after the commit, or the error that stopped all of them."""
        try:
            created = self._place(command.requests)
        except Exception as exc:
            if command.reply is not None:
                command.reply.set_exception(exc)
            return
        if command.reply is not None:
            # answered after the commit, see _commit_and_flush
            self._replies.append((command.reply, created))

    def _place(self, requests: Sequence[NewOrder]) -> list[ClientOrderId]:
        """Make and stage the orders (sent after the commit). Raises, after an alert, when none of them
        may go: trading is halted, the ids could not be reserved, or a bug struck halfway."""
        try:
            if self.halted is not None:
                raise TradingHaltedError(
                    f"交易已暂停，委托未受理 (trading halted, orders refused): {self.halted}"
                )
            self.oms.reserve_ids(len(requests))  # durably, before any id is handed out
        except Exception as exc:
            self._alert("error", "order", f"{len(requests)} 笔委托未受理 (orders refused): {exc}")
            raise
        now = self.clock.now()
        created: list[ClientOrderId] = []
        connected = self.gateway.connected
        live = self.risk is not None and self.risk.live_guard is not None  # a real account: audited
        first_outgoing = len(self._outgoing)
        made: list[Order] = []
        try:
            for request in requests:
                order = self.oms.create(request, now)  # never raises once ids are reserved
                made.append(order)
                created.append(order.client_order_id)
                if order.status is not OrderStatus.INITIALIZED:
                    continue  # denied: recorded, never sent
                if not connected:
                    self.oms.reject_unsent(order, "券商未连接，未发送 (broker not connected)", now)
                    continue
                self._outgoing.append(self.oms.mark_submitted(order, now))
                if live:
                    arming.audit_order(self.store, order, now)
        except Exception as exc:  # a bug: none of this submit leaves, and the caller hears why
            log.exception("engine: submit failed")
            del self._outgoing[first_outgoing:]
            for order in made:  # nothing half-made stays: each ends, its cash or shares released
                if order.status in (OrderStatus.INITIALIZED, OrderStatus.SUBMITTED):
                    self.oms.reject_unsent(order, f"内部错误，未发送 (internal error, not sent): {exc}", now)
            self._alert("error", "order", f"{len(requests)} 笔委托未发送 (orders not sent): {exc}")
            raise
        self._account_dirty = True
        return created

    def _cancel(self, client_order_id: ClientOrderId) -> None:
        order = self.oms.orders.get(client_order_id)
        if order is None or not order.status.is_working or order.external:
            self._alert("warning", "cancel", f"无法撤单 {client_order_id}: 不是可撤的 Tiller 委托")
            return
        self.cancel_asked.add(client_order_id)
        if order.broker_order_id is None or order.status is OrderStatus.IN_DOUBT:
            # In flight: remembered (on disk) and sent once the broker acknowledges the order.
            self._cancel_wanted.add(order.client_order_id)
            self._cancel_wanted_changed = True  # staged once per batch, see _release_wanted_cancels
            self._alert(
                "info",
                "cancel",
                f"{client_order_id} 尚未被券商确认，确认后即撤 (cancel sent once the broker acknowledges)",
            )
            return
        self._cancels.append(BrokerCancel(order.client_order_id, order.broker_order_id, order.code))

    def _release_wanted_cancels(self) -> None:
        """Cancels asked before the acknowledgement: sent now that the broker has the order."""
        before = len(self._cancel_wanted)
        for cid in sorted(self._cancel_wanted):
            order = self.oms.orders.get(cid)
            if order is None or not order.status.is_working:
                self._cancel_wanted.discard(cid)
            elif order.broker_order_id is not None and order.status is not OrderStatus.IN_DOUBT:
                self._cancel_wanted.discard(cid)
                if order.status is not OrderStatus.PENDING_CANCEL:
                    self._cancels.append(BrokerCancel(cid, order.broker_order_id, order.code))
        if len(self._cancel_wanted) != before or self._cancel_wanted_changed:
            self._cancel_wanted_changed = False
            self.store.stage_meta(_CANCEL_WANTED, " ".join(sorted(self._cancel_wanted)))

    # ------------------------------------------------------------------ the risk engine (engine thread)
    def _restore_risk(self) -> None:
        """At start: the trading state and the settings changed at run time, as last committed."""
        risk = self.risk
        if risk is None or self._risk_base is None:
            return
        risk.limits, risk.state = self._risk_base
        state = self.store.load_meta(_RISK_STATE)
        if state:
            try:
                risk.state = TradingState(state)
            except ValueError:
                self._alert(
                    "error", "risk", f"无法识别的交易状态，保持停止 (unknown trading state {state!r}: halted)"
                )
                risk.state = TradingState.HALTED
        overrides = self.store.load_meta(_RISK_OVERRIDES)
        if overrides:
            limits = risk.limits
            try:
                for key, value in json.loads(overrides).items():
                    limits = limits.with_value(key, value)
            except (ValueError, TypeError, AttributeError) as exc:
                self._alert(
                    "error",
                    "risk",
                    f"运行时风控参数无法恢复，使用配置文件的值 (run-time risk settings not restored): {exc}",
                )
            else:
                risk.limits = limits
        risk.restore_day(self.oms.trading_day, self.oms.orders.values())
        if risk.state is not TradingState.ACTIVE:
            self._alert("warning", "risk", f"交易状态 (trading state): {risk.state.value}")
        arming.restore(self)  # a live account's arming for the day, as on disk

    def _require_risk(self) -> RiskGate:
        if self.risk is None:
            raise RiskSettingError("没有风控引擎 (no risk engine in this session)")
        return self.risk

    def set_risk(self, key: str, value: object, who: str) -> tuple[str, str]:
        """Change one risk setting, validated; audited (when, who, old, new) in this batch's commit.
        Returns (old, new) as text."""
        risk = self._require_risk()
        _check_who(who)
        limits = risk.limits.with_value(key, value)  # raises RiskSettingError, nothing changed
        old, new = risk.limits.as_text(key), limits.as_text(key)
        now = self.clock.now()
        risk.limits = limits
        overrides = json.loads(self.store.load_meta(_RISK_OVERRIDES) or "{}")
        overrides[key] = new
        self.store.stage_meta(_RISK_OVERRIDES, json.dumps(overrides, sort_keys=True))
        self.store.stage_risk_audit(now, who, key, old, new)
        self._alert("info", "risk", f"风控参数 risk.{key}: {old} → {new} ({who})")
        return old, new

    def set_trading_state(self, state: TradingState | str, who: str, why: str = "") -> tuple[str, str]:
        risk = self._require_risk()
        _check_who(who)
        try:
            state = TradingState(state)
        except ValueError:
            raise RiskSettingError(
                f"交易状态无效 (trading state must be one of {', '.join(s.value for s in TradingState)}), was {state!r}"
            ) from None
        old = risk.state
        risk.state = state
        self.store.stage_meta(_RISK_STATE, state.value)
        self.store.stage_risk_audit(self.clock.now(), who, "trading_state", old.value, state.value)
        level = "critical" if state is TradingState.HALTED else "warning"
        self._alert(
            level, "risk", f"交易状态 (trading state): {old.value} → {state.value} ({who}) {why}".rstrip()
        )
        return old.value, state.value

    def kill_switch(self, who: str) -> int:
        """Halt new orders and cancel every working order, those not yet acknowledged included
        (their cancels go when the acknowledgement arrives). Returns how many were asked to cancel."""
        self.set_trading_state(TradingState.HALTED, who, "一键停止 (kill switch)")
        working = [o for o in self.oms.working_orders() if not o.external]
        # the plan's part: every side paused (its lines send nothing more, even once trading is active
        # again, until resumed) and its working children cancelled by the policies themselves
        self.plan.kill(who)
        asked = {c.client_order_id for c in self._cancels} | self._cancel_wanted
        for order in working:
            if order.client_order_id not in asked and order.status.is_working:
                self._cancel(order.client_order_id)
        return len(working)

    def _monitor(self, message: QuotesArrived) -> None:
        """Stop-loss / take-profit sells (once each, through the normal order path and the gate)
        and the drawdown alert."""
        risk = self.risk
        assert risk is not None
        oms, now = self.oms, self.clock.now()
        exits = self.risk_monitor.exits(
            risk.limits, message.quotes, oms.positions, oms.instruments, oms.trading_day, now
        )
        for exit_ in exits:
            self._alert(
                "warning", "risk", f"{exit_.code} {exit_.reason}: 卖出 {exit_.qty} 股 @ {exit_.price}"
            )
            request = NewOrder(
                exit_.code, Side.SELL, exit_.qty, exit_.price, strategy_id="risk", signal_id=exit_.kind
            )
            try:
                (cid,) = self._place([request])
            except Exception as exc:  # halted after a failed commit: said by _place's alert
                log.warning("risk exit %s %s not placed: %s", exit_.kind, exit_.code, exc)
                continue
            order = oms.orders[cid]
            if order.status is OrderStatus.DENIED:
                self._alert(
                    "error",
                    "risk",
                    f"{exit_.code} {exit_.kind} 卖单被拒 (exit sell denied): {order.status_msg}",
                )
        text = self.risk_monitor.drawdown(risk.limits, oms._view.total_assets(), oms.trading_day)
        if text is not None:
            self._alert("warning", "risk", text)

    # ------------------------------------------------------------------ orders in flight
    def _on_timer(self, handle: TimerHandle) -> None:
        if not handle.cancelled:
            handle.callback()

    def _on_send_failed(self, message: _SendFailed) -> None:
        now = self.clock.now()
        reason = (
            f"发送{'委托' if message.what == 'submit' else '撤单'}时券商接口出错，状态未知，查询中 "
            f"(the gateway raised on {message.what}: {message.error}; in doubt, asking the broker)"
        )
        for cid in message.client_order_ids:
            order = self.oms.orders.get(cid)
            if order is None or order.status is OrderStatus.IN_DOUBT or not order.status.is_working:
                continue
            if message.what == "cancel" or order.status is OrderStatus.SUBMITTED:  # not answered since
                self.oms.put_in_doubt(order, reason, now)
        self._alert(
            "error",
            "gateway",
            f"券商接口出错，{len(message.client_order_ids)} 笔委托状态未知，正在查询 "
            f"(gateway raised on {message.what}: {message.error})",
        )
        self._schedule_doubt_check(now)  # ask at once; what is not listed is asked again later

    def _on_answer_timeout(self) -> None:
        """The answer timer: the sends whose timeout has come are checked (all in one go), and the
        timer is set again for the next send still waiting."""
        self._answer_timer = None
        awaiting = self._awaiting
        now = self.clock.now()
        due: list[ClientOrderId] = []
        cancels: list[ClientOrderId] = []
        while awaiting and awaiting[0][0] <= now:
            _, kind, ids = awaiting.popleft()
            (due if kind == "submit" else cancels).extend(ids)
        if awaiting:
            self._answer_timer = self.clock.schedule_at(
                awaiting[0][0], self._on_answer_timeout, "answer timeout"
            )
        if due:
            self._check_answers(due)
        if cancels:
            self._check_cancels(cancels)

    def _note_fills_behind(self, order: Order, broker_filled: int) -> None:
        """The broker says more of this order was filled than the trade reports booked: its trade
        reports are usually a moment behind (xtquant pushes the order and its trades separately). If
        they have not come after FILLS_GRACE, the broker's trades are queried (the missing fills are
        booked from there); never assumed."""
        self._fills_behind[order.client_order_id] = max(
            broker_filled, self._fills_behind.get(order.client_order_id, 0)
        )
        if self._fills_timer is None:
            self._fills_timer = self.clock.schedule_at(
                self.clock.now() + FILLS_GRACE, self._check_fills_behind, "fills behind"
            )

    def _check_fills_behind(self) -> None:
        self._fills_timer = None
        behind, self._fills_behind = self._fills_behind, {}
        orders = self.oms.orders

        def short() -> list[tuple[Order, int]]:
            return [
                (o, n) for c, n in behind.items() if (o := orders.get(c)) is not None and o.filled_qty < n
            ]

        if not short():
            return
        self._ask_broker()
        still = short()
        if still:
            what = ", ".join(f"{o.code} {o.client_order_id} {o.filled_qty}/{n}" for o, n in still[:5])
            self._alert(
                "warning",
                "trade",
                f"券商报告的成交多于已收到的成交回报，查询后仍缺：{what} "
                f"(the broker reports more filled than the trades received, still after asking it)",
            )

    def _await_answer(self, kind: str, client_order_ids: tuple[ClientOrderId, ...]) -> None:
        due = self.clock.now() + self.answer_timeout
        self._awaiting.append((due, kind, client_order_ids))
        if self._answer_timer is None:
            self._answer_timer = self.clock.schedule_at(due, self._on_answer_timeout, "answer timeout")

    def _check_cancels(self, client_order_ids: Sequence[ClientOrderId]) -> None:
        """The answer timeout of sent cancels: an order whose cancel is still unanswered (it has not
        ended) is looked up at the broker. One the broker still lists as working without a cancel in
        hand (not PENDING_CANCEL: the cancel may have been lost) has its cancel sent once more; the
        investor is told either way. Never assumed cancelled."""
        orders = self.oms.orders
        asked = self.cancel_asked
        waiting = [
            o
            for c in client_order_ids
            if c in asked and (o := orders.get(c)) is not None and not o.status.is_final
        ]
        if not waiting:
            return
        self._ask_broker()
        still = [o for o in waiting if not o.status.is_final]
        if not still:
            return
        again = [
            o
            for o in still
            if o.status is not OrderStatus.PENDING_CANCEL
            and o.status is not OrderStatus.IN_DOUBT
            and o.broker_order_id is not None
            and o.client_order_id not in self._cancel_resent
        ]
        for order in again:
            self._cancel_resent.add(order.client_order_id)
            assert order.broker_order_id is not None
            self._cancels.append(BrokerCancel(order.client_order_id, order.broker_order_id, order.code))
        seconds = int(self.answer_timeout.total_seconds())
        codes = ", ".join(f"{o.code} {o.client_order_id}" for o in still[:5])
        self._alert(
            "warning",
            "cancel",
            f"{len(still)} 笔撤单 {seconds} 秒内未获确认{'，已再次撤单' if again else ''}：{codes} "
            f"(cancel not confirmed within {seconds}s{'; cancel sent again' if again else ''})",
        )

    def _check_answers(self, client_order_ids: Sequence[ClientOrderId]) -> None:
        """The answer timeout of one send: orders still unanswered are asked about, never assumed."""
        orders = self.oms.orders
        waiting = [
            o
            for c in client_order_ids
            if (o := orders.get(c)) is not None and o.status is OrderStatus.SUBMITTED
        ]
        if not waiting:
            return
        seconds = int(self.answer_timeout.total_seconds())
        self._alert(
            "warning",
            "order",
            f"{len(waiting)} 笔委托 {seconds} 秒内券商未应答，查询中 (no answer within {seconds}s: asking the broker)",
        )
        self._ask_broker()
        now = self.clock.now()
        for order in waiting:
            if order.status is OrderStatus.SUBMITTED:  # not listed (or the broker could not be asked)
                self.oms.put_in_doubt(
                    order,
                    f"券商 {seconds} 秒内未应答且查无此委托，稍后复查 "
                    f"(no answer within {seconds}s and not listed by the broker: asked again later)",
                    now,
                )
        self._schedule_doubt_check()

    def _check_in_doubt(self) -> None:
        """The settle re-query: ask the broker again; an order it still does not list after the settle
        time is lost in transit (expired; adopted should it ever turn up)."""
        self._doubt_timer = None
        if not self.oms.in_doubt_orders():
            return
        if not self._ask_broker():  # not connected, or the query raised: ask again later
            self._schedule_doubt_check(self.clock.now() + self.settle_time)
            return
        now = self.clock.now()
        for order in self.oms.in_doubt_orders():
            since = order.updated_at or now
            if now - since >= self.settle_time:
                reason = (
                    "复查后券商仍无此委托，视为未送达 (still not at the broker after the settle time: "
                    "lost in transit)"
                )
                self.oms.expire_lost(order, reason, now)
                self._alert("warning", "order", f"{order.client_order_id} {order.code}: {reason}")
        self._schedule_doubt_check()

    def _schedule_doubt_check(self, at: datetime | None = None) -> None:
        """One timer for all orders in doubt: at `at`, else when the oldest doubt has settled."""
        if at is None:
            doubts = [o.updated_at or self.clock.now() for o in self.oms.in_doubt_orders()]
            if not doubts:
                return
            at = max(min(doubts) + self.settle_time, self.clock.now())
        timer = self._doubt_timer
        if timer is not None and not timer.cancelled:
            if timer.when <= at:
                return
            self.clock.cancel(timer)
        self._doubt_timer = self.clock.schedule_at(at, self._check_in_doubt, "in-doubt re-query")

    def _ask_broker(self) -> bool:
        """Query the broker and catch up; False if it could not be asked (not connected, or it raised)."""
        if not self.gateway.connected:
            return False
        try:
            self._resync(at_start=False)
        except Exception as exc:
            log.exception("engine: querying the broker failed")
            self._alert("error", "gateway", f"查询券商失败 (querying the broker failed): {exc}")
            return False
        return True

    def _on_quotes(self, message: QuotesArrived) -> None:
        last = self.oms.last_prices
        quotes = self.quotes
        for quote in message.quotes:
            last[quote.code] = quote.last
            quotes[quote.code] = quote
        risk = self.risk
        if risk is not None:
            risk.on_quotes(message.quotes)
            limits = risk.limits
            if limits.stop_loss_pct or limits.take_profit_pct or limits.drawdown_alert_pct:
                self._monitor(message)
        if self.execution is not None:
            self.execution.on_quotes(message.quotes)
        if self._listeners:
            self._events.append(QuotesUpdated(message.quotes))
            self._account_dirty = True

    def _on_connection(self, message: ConnectionChanged) -> None:
        self._events.append(ConnectionStateChanged(message.connected, message.reason, message.ts))
        if message.connected:
            self._alert("info", "connection", f"券商已连接 {message.reason}")
            self._resync(at_start=False)
        else:
            self._alert("error", "connection", f"券商连接断开: {message.reason}")

    def _start_day(self, message: StartDay) -> None:
        # A day the calendar does not know (past its range: a holiday would trade) or says is closed.
        warning = unknown_day_warning(self.calendar, message.day)
        if warning is not None:
            self._alert(warning[0], "calendar", warning[1])
        book_day = self.store.load_meta("book_day")
        if book_day != message.day.isoformat():
            if book_day is not None and book_day < message.day.isoformat():
                self.oms.roll_day(message.day)  # yesterday's buys settle (T+1)
            elif message.day != self.oms.trading_day:
                self.oms._use_day(message.day)
            self.store.stage_meta("book_day", message.day.isoformat())
        new_day = message.day != self.trading_day
        if new_day:  # a later day in a running session: yesterday's quotes price nothing today
            self.trading_day = message.day
            self.quotes.clear()
            if self.risk is not None:
                self.risk.quotes.clear()
        for info in message.instruments:
            self.oms.instruments[info.code] = info
            if new_day:
                self.oms.last_prices[info.code] = info.prev_close
            else:
                self.oms.last_prices.setdefault(info.code, info.prev_close)
        if self.plan.day != message.day:
            self.plan.load(message.day)
        if new_day:
            self._restore_execution()  # the new day's lines (none yet), on the new day's clock

    def _restore_execution(self) -> None:
        """The execution lines of the day go on after a restart (their state is in the database);
        one that cannot be restored is an alert, never a failed start."""
        if self.execution is None:
            return
        try:
            self.execution.restore()
        except Exception as exc:
            log.exception("engine: restoring the execution lines failed")
            self._alert("error", "execution", f"执行状态恢复失败 (execution lines not restored): {exc}")

    def _resync(self, *, at_start: bool) -> list[str]:
        """Catch up with the broker's books (at start and after a reconnect); nothing is resent.

        Only at start, when nothing can still be on its way, are unacknowledged intents that the
        broker does not have expired as never sent."""
        if not self.gateway.connected:
            return []
        orders = self.gateway.query_orders()
        trades = self.gateway.query_trades()
        notes = self.oms.recover(orders, trades, self.clock.now(), at_start=at_start)
        for note in notes:
            self._alert("warning", "recovery", note)
        self._account_dirty = True
        self._schedule_doubt_check()
        return notes

    # ------------------------------------------------------------------ commit, send, publish
    def _commit_and_flush(self, may_hold: bool = False) -> None:
        """Commit the batch, then send its orders and cancels, answer its callers and publish its events.

        With `may_hold`, a batch after whose sending messages are already waiting (the simulated
        broker's reports to the orders just sent) leaves its events to be published with the next
        batch's, which starts at once: what it published is committed either way. A batch with an
        idle marker never holds (wait_idle's caller hears everything published)."""
        replies, self._replies = self._replies, []
        if self._diverged:  # a write now would put half of a lost batch on disk: rebuild first
            self.store.discard()
            self._outgoing, self._cancels, self._trades = [], [], []
            for reply, _ in replies:
                reply.set_exception(TradingHaltedError(f"交易已暂停 (trading halted): {self.halted}"))
            self._rebuild()
            if self._diverged:
                self._publish()
            return
        try:
            self.store.commit()
        except Exception as exc:
            self._on_commit_failed(exc, replies)
            return
        if self._outgoing:
            outgoing, self._outgoing = self._outgoing, []
            sent = tuple(r.client_order_id for r in outgoing)
            try:
                self.gateway.submit(outgoing)
            except Exception as exc:  # an adapter never takes the engine down (ARCHITECTURE.md inv. 8)
                log.exception("engine: gateway.submit raised")
                self.post(_SendFailed("submit", sent, f"{type(exc).__name__}: {exc}"))
            else:
                self._await_answer("submit", sent)
        if self._cancels:
            cancels, self._cancels = self._cancels, []
            if self.risk is not None:  # orders and cancels count together (RULES.md B8)
                self.risk.note_cancels(len(cancels), self.clock.now())
            cancelled: list[ClientOrderId] = []
            for cancel in cancels:
                cid = cancel.client_order_id or self.oms.by_broker_id.get(cancel.broker_order_id)
                try:
                    self.gateway.cancel(cancel)
                except Exception as exc:
                    log.exception("engine: gateway.cancel raised")
                    if cid is not None:
                        self.post(_SendFailed("cancel", (cid,), f"{type(exc).__name__}: {exc}"))
                else:
                    if cid is not None:
                        cancelled.append(cid)
            if cancelled:
                self._await_answer("cancel", tuple(cancelled))
        for reply, value in replies:
            if not reply.done():  # a caller may have given up (cancelled) meanwhile
                reply.set_result(value)
        if may_hold and self._held < HOLD_MAX and not self._rebuild_requested and not self._queue.empty():
            self._hold_publication()
        else:
            self._publish()
        if self._rebuild_requested:
            self._rebuild_requested = False
            if self.halted is not None:
                self._rebuild()

    # ------------------------------------------------------------------ a failed commit
    def _on_commit_failed(self, exc: Exception, replies: list[tuple[Future[Any], Any]]) -> None:
        """Nothing of this batch is on disk, but memory has it all: stop taking new orders, throw the
        memory away, rebuild it from the file and let the broker's books bring it up to date (its
        fills are booked once, from the broker's truth). Nothing of the batch is sent."""
        log.exception("engine: commit failed", exc_info=exc)
        self.store.discard()
        refused = [self.oms.orders[r.client_order_id] for r in self._outgoing]
        self._outgoing, self._cancels, self._trades = [], [], []
        for reply, _ in replies:
            reply.set_exception(exc)
        self.halted = f"数据库写入失败 (a commit to the database failed): {exc}"
        self._alert(
            "critical",
            "storage",
            f"写入数据库失败，{len(refused)} 笔委托未发送；暂停新委托，从数据库重建并与券商核对 "
            f"(commit failed, {len(refused)} orders not sent; new orders halted, rebuilding from the file "
            f"and resyncing with the broker): {exc}",
        )
        self._rebuild(refused, f"数据库写入失败，未发送 (not saved, not sent): {exc}")

    def _loaded_oms(self, day: date) -> OrderManager:
        oms = OrderManager(
            store=self.store, fees=self.fees, trading_day=day, alert=self._alert, risk=self.risk
        )
        oms.load()
        return oms

    def _reload(self) -> bool:
        """Replace the OMS with one loaded from the file (what is committed, nothing else)."""
        old = self.oms
        try:
            oms = self._loaded_oms(old.trading_day)
            plan_memory = self.plan.memory()
            self.plan.load(old.trading_day)  # the plan as committed, like the books
            book_day = self.store.load_meta("book_day")
            if book_day is not None and book_day < old.trading_day.isoformat():
                oms.roll_day(old.trading_day)  # the day's roll was in what was lost
                self.store.stage_meta("book_day", old.trading_day.isoformat())
        except Exception as exc:
            log.exception("engine: reloading the books failed")
            if not self._diverged:  # said once; tried again after every batch, which writes nothing
                self._diverged = True
                self._alert(
                    "critical", "storage", f"无法从数据库读取账本 (cannot read the books back): {exc}"
                )
            return False
        self._diverged = False
        oms.instruments = old.instruments  # market data of the day, never stored
        oms.last_prices = old.last_prices
        oms.carry_intake(old)  # planned lines already answered as new stay taken in
        self.plan.carry(plan_memory)  # and the plan stays what its callers were told
        if self.execution is not None:
            self.execution.resave()  # the execution lines' state went with the lost batch: stage it again
        oms.mark_all_changed()  # the window shows the books as rebuilt
        self._held_orders.clear()  # the old books' orders: all of the new ones are published instead
        self.oms = oms
        # cancels asked before an acknowledgement: what the file holds (one asked in the lost batch is
        # asked again by the user; it was never sent)
        self._cancel_wanted = set((self.store.load_meta(_CANCEL_WANTED) or "").split())
        self._cancel_wanted_changed = False
        self._handlers = self._handler_table()
        self._account_dirty = True
        try:  # the risk state and settings as on disk (a change in the lost batch is undone)
            self._restore_risk()
        except Exception as exc:
            log.exception("engine: restoring the risk state failed")
            self._alert("error", "risk", f"风控状态无法从数据库恢复 (risk state not restored): {exc}")
        return True

    def _rebuild(self, refused: Sequence[Order] = (), reason: str = "") -> None:
        """Reload from the file, record `refused` as never sent, resync, commit; on success trade again."""
        if not self._reload():
            return
        now = self.clock.now()
        for order in refused:
            self.oms.record_unsent(order, reason, now)
        try:
            self._resync(at_start=False)
            self.store.commit()
        except Exception as exc:
            log.exception("engine: rebuild failed")
            self.store.discard()
            if self._reload():  # memory again exactly what is on disk, and the unsent on their way to it
                for order in refused:
                    self.oms.record_unsent(order, reason, now)
            self._alert(
                "critical",
                "storage",
                f"重建后仍无法写入数据库，新委托保持暂停；排除故障后请恢复交易 (still cannot write after the "
                f"rebuild: new orders stay halted; resume trading once the disk is fixed): {exc}",
            )
            self._publish()
            return
        self.halted = None
        self._alert(
            "warning",
            "storage",
            "已从数据库重建账本并与券商核对，恢复接受新委托 (books rebuilt from the file and resynced with "
            "the broker; new orders are accepted again)",
        )
        self._publish()

    def _hold_publication(self) -> None:
        """Keep this batch's (committed) events for the next batch's publication; the next batch sees
        only its own changed orders (execution hooks)."""
        self._held += 1
        for order in self.oms.take_changed():
            self._held_orders[order.client_order_id] = order
        self._held_trades += self._trades
        self._trades = []
        self._held_events += self._events
        self._events = []

    def _publish(self) -> None:
        changed = self.oms.take_changed()
        trades, self._trades = self._trades, []
        if self._held:  # the held batch's first: its orders (as they stand now), trades and events
            self._held = 0
            held, self._held_orders = self._held_orders, {}
            if held:
                held.update((o.client_order_id, o) for o in changed)
                changed = list(held.values())
            if self._held_trades:
                trades = self._held_trades + trades
                self._held_trades = []
            if self._held_events:
                self._events = self._held_events + self._events
                self._held_events = []
        if not self._listeners:
            self._events.clear()
            self._account_dirty = False
            return
        events: list[EngineEvent] = [OrderUpdated(OrderSnapshot.of(o)) for o in changed]
        events.extend(TradeBooked(t) for t in trades)
        events.extend(self._events)
        self._events = []
        if self._account_dirty:
            events.append(self._account_event())
            self._account_dirty = False
        for event in events:
            for listener in self._listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("engine listener failed on %s", type(event).__name__)

    def _account_event(self) -> AccountUpdated:
        positions = self.position_snapshots()
        return AccountUpdated(self.account_snapshot(positions), positions)

    def account_snapshot(self, positions: tuple[PositionSnapshot, ...] | None = None) -> AccountSnapshot:
        cash = self.oms.cash
        if positions is None:
            positions = self.position_snapshots()
        market_value = sum((p.market_value for p in positions), Decimal(0))
        flows = self._day_flows
        flows.follow(self.oms.trade_ids)  # only the fills since the last account event are folded
        pnl = flows.pnl(positions, self.oms.instruments)
        return AccountSnapshot(cash.cash, cash.frozen, cash.available, market_value, self.clock.now(), pnl)

    def position_snapshots(self) -> tuple[PositionSnapshot, ...]:
        """Every position held (or closed today with a P&L), as published with each account event: a
        position whose figures and last price are the same objects as at its last snapshot reuses
        that snapshot (an account event per batch rebuilt every position before)."""
        last = self.oms.last_prices
        cache = self._position_snapshots
        snapshots = []
        for p in self.oms.positions.values():
            total = p.total
            realized = p.realized_pnl
            if not total and not realized:
                continue
            price = last.get(p.code)
            snap = cache.get(p.code)
            if (
                snap is None
                or snap.total != total
                or snap.last_price is not price
                or snap.frozen != p.frozen
                or snap.today_qty != total - p.settled
                or snap.avg_cost is not p.avg_cost
                or snap.realized_pnl is not realized
            ):
                snap = cache[p.code] = PositionSnapshot.of(p, price)
            snapshots.append(snap)
        return tuple(snapshots)

    def emit(self, event: Any) -> None:
        """Publish an event (a plan event, say) to subscribers after this batch's commit."""
        self._events.append(event)

    def _alert(self, level: str, category: str, message: str) -> None:
        event = AlertRaised(level, category, message, self.clock.now())
        log.log(logging.WARNING if level in ("warning", "error", "critical") else logging.INFO, "%s", message)
        self.alerts.append(event)
        self._events.append(event)
        self.store.stage_alert(event.ts, level, category, message)

    def alert(self, level: str, category: str, message: str) -> None:
        """Raise an alert from the engine thread (a Call or a timer): stored with the batch, published."""
        self._alert(level, category, message)


def _check_who(who: str) -> None:
    if who not in WHO:
        raise RiskSettingError(f"变更来源无效 (who must be one of {', '.join(WHO)}), was {who!r}")
