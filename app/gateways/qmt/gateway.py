"""QmtGateway: the BrokerGateway port on xtquant's own `xttrader.XtQuantTrader` (RULES.md A1-A4).

Lifecycle: `XtQuantTrader(userdata_mini, session)` → `register_callback` → `start` → `connect` (0 is
success; anything else is explained in words) → `subscribe(StockAccount)`. A session id that clashes
with another program shows as a failed connect: with no configured id another one is tried.

Threads (trap A1): xttrader runs every push, and the responses that complete its synchronous calls,
on ONE executor thread. So:
- the callbacks only convert the xttype object and hand the report to the engine's queue
  (`handler` = `Engine.post`); they never call xttrader, never wait, never raise;
- `submit` and `cancel` use `order_stock_async` / `cancel_order_stock_async` only;
- queries use the `*_async` variants with a Future and a timeout, because the synchronous ones wait
  with no timeout (l.419) and would hang the engine thread for good if miniQMT never answered;
  `subscribe`, which has no async variant, runs on a helper thread with the same timeout.

Orders carry Tiller's client order id as `order_remark` and the strategy as `strategy_name`, which is
how recovery (OrderManager.recover) finds Tiller's orders among the broker's and shows the others
(typed by hand in QMT) as external. An order error that xttrader holds until its response (A3,
l.238-252) arrives after it, as xttrader orders them.

Whose a push is: the remark is not trusted to come back whole (QMT keeps remarks short; another
miniQMT may echo it cut or empty), and an order's pushes, even its trades, may come before the
response that names its order_id. So once a response (or a push carrying a whole remark this gateway
sent) ties an order_id to a client order id, that order_id decides for every later push and query
row; a push with neither is held while an order sent is still unanswered (at most the call timeout,
and no longer than the engine's next query), then goes on as it is (its remark, or external).
`order_stock_async` answering -1 is not called a refusal (the request may be at the counter): the
engine's answer timeout asks about it. A disconnect fails the queries in flight at once.

Staying up: `on_disconnected` (the only connection push xttrader wires; `on_connected` never fires)
marks the link down, pushes ConnectionChanged(False) and wakes the reconnect thread, which opens a
new session with backoff, subscribes again and pushes ConnectionChanged(True): the engine then queries
orders and trades and reconciles (Engine._on_connection). Nothing is ever resent because of a
reconnect; an order the broker never answered is the engine's answer-timeout machinery's to ask
about. `state()` is the connection state for the window and the command line.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from app.core.ports import ReportHandler
from app.domain.clock import Clock
from app.domain.identifiers import BrokerOrderId, ClientOrderId
from app.domain.orders import OrderStatus, PriceType
from app.domain.reports import (
    BrokerAsset,
    BrokerPosition,
    BrokerReport,
    CancelErrorReport,
    CancelOrder,
    ConnectionChanged,
    OrderReport,
    SubmitOrder,
    SubmitResponse,
    TradeReport,
)
from app.gateways.qmt import convert
from app.gateways.qmt.errors import QmtError, connect_failure, masked, subscribe_failure
from app.gateways.qmt.paths import choose_session_id

__all__ = ["ConnectionState", "QmtGateway", "load_xtquant"]

log = logging.getLogger(__name__)

DEFAULT_RECONNECT_DELAYS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)
NOT_CONNECTED = "未连接 miniQMT，未发送 (not connected to miniQMT: not sent)"
OBSERVE_ONLY = (
    "观察模式，未发送：设置 qmt.live_trading_enabled 未开启 (observe-only: qmt.live_trading_enabled is off, "
    "nothing is sent to the real account)"
)
SESSION_TRIES = 3  # with no configured session id: this many ids before giving up on a connect


def load_xtquant() -> tuple[Any, Any]:
    """xtquant's own (xttrader, xttype) modules. xttrader imports `xtquant.xtpythonclient`, the native
    client (Windows only); whatever is importable under that name is used."""
    try:
        from xtquant import xttrader, xttype
    except Exception as exc:  # ImportError, or the native module failing to load
        raise QmtError(
            f"无法加载 xtquant 的交易模块 (xtquant's xttrader could not be loaded: {type(exc).__name__}: {exc}). "
            "miniQMT 的原生客户端只支持 Windows；请用 pip 安装与 miniQMT 匹配的 xtquant "
            "(the native client ships for Windows only; install the xtquant that matches your miniQMT)"
        ) from exc
    return xttrader, xttype


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """What the window and the command line show: connected, reconnecting, or down since when."""

    connected: bool
    reconnecting: bool
    down_since: datetime | None
    attempts: int
    last_error: str
    session_id: int | None

    def describe(self) -> str:
        if self.connected:
            return f"已连接 (connected, session {self.session_id})"
        since = f"{self.down_since:%H:%M:%S}" if self.down_since else "?"
        if self.reconnecting:
            return (
                f"重连中，自 {since} 断开，已试 {self.attempts} 次 (reconnecting, down since {since}, "
                f"{self.attempts} attempts){': ' + self.last_error if self.last_error else ''}"
            )
        return f"未连接 (not connected){': ' + self.last_error if self.last_error else ''}"


class QmtGateway:
    """A QMT stock account through xttrader (see the module docstring)."""

    broker_algos = True  # SubmitOrder.algo goes out as smart_algo_order_async

    def __init__(
        self,
        account_id: str,
        userdata_path: Path,
        clock: Clock,
        *,
        session_id: int = 0,
        trader_factory: Callable[[str, int], Any] | None = None,
        call_timeout: float = 10.0,
        reconnect_delays: Sequence[float] = DEFAULT_RECONNECT_DELAYS,
        sending_enabled: bool = False,
    ) -> None:
        if not isinstance(account_id, str) or not account_id.strip():
            raise QmtError(
                "未设置 QMT 资金账号 (no QMT account id): python -m app secrets set qmt.account_id"
            )
        if not reconnect_delays or any(d < 0 for d in reconnect_delays):
            raise ValueError(f"reconnect_delays must be non-negative seconds, was {reconnect_delays!r}")
        self._account_id = account_id.strip()
        self._path = Path(userdata_path)
        self._clock = clock
        self._configured_session = session_id
        self._factory = trader_factory
        self._call_timeout = call_timeout
        self._delays = tuple(float(d) for d in reconnect_delays)
        self._handler: ReportHandler | None = None
        # qmt.live_trading_enabled: off, nothing new reaches the account (cancels and queries still go)
        self.sending_enabled = sending_enabled

        self._lock = threading.RLock()  # the session's fields and the seq maps
        self._connecting = threading.Lock()  # one connect at a time (the caller's or the reconnect thread's)
        self._trader: Any = None
        self._account: Any = None
        self._generation = 0
        self._session: int | None = None
        self._connected = False
        self._closed = False
        self._order_seqs: dict[int, ClientOrderId] = {}
        # whose order a push is (see _whose): Tiller's ids sent by this gateway, the broker's id of each
        # once known, its counter number (order_sysid), and the pushes held until their order is known
        self._sent: set[ClientOrderId] = set()
        self._cid_by_boid: dict[BrokerOrderId, ClientOrderId] = {}
        self._boid_by_sysid: dict[str, BrokerOrderId] = {}
        self._unanswered: dict[int, float] = {}  # order seq -> monotonic time sent (no response yet)
        self._held: list[OrderReport | TradeReport] = []
        self._ids_day = clock.now().date()  # the day the order_id maps are of
        self._queries: set[Future[Any]] = set()  # queries in flight (failed at once on a disconnect)
        self._cancel_seqs: dict[int, tuple[ClientOrderId | None, BrokerOrderId]] = {}
        self._algo_seqs: dict[int, SubmitOrder] = {}
        # accepted broker-algorithm tasks by Tiller's id ("A<task>"), and the remarks they carry: the
        # broker's own child orders of a task are not Tiller's orders (their trades are the task's)
        self._algo_tasks: dict[BrokerOrderId, SubmitOrder] = {}
        self._algo_cids: set[ClientOrderId] = set()
        self._used_sessions: set[int] = set()

        self._wake = threading.Event()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self._reconnecting = False
        self._down_since: datetime | None = None
        self._down_since_before_reconnect: datetime | None = None
        self._attempts = 0
        self._last_error = ""
        self.pushes = 0  # callbacks received (diagnostics)
        self.unreadable = 0  # pushes that could not be converted (logged)

    # ================================================================== the BrokerGateway port
    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    @property
    def connected(self) -> bool:
        return self._connected

    @property
    def trader(self) -> Any:
        """The current XtQuantTrader (None when not connected); for diagnostics and tests."""
        return self._trader

    def state(self) -> ConnectionState:
        with self._lock:
            return ConnectionState(
                self._connected, self._reconnecting, self._down_since, self._attempts, self._last_error,
                self._session,
            )  # fmt: skip

    def connect(self) -> None:
        """Open the session (start, connect, subscribe) and push ConnectionChanged(True); raises
        QmtError saying why not (outside trading hours miniQMT still connects for queries)."""
        if self._closed:
            raise QmtError("QMT 接口已关闭 (the QMT gateway is closed)")
        with self._connecting:
            if self._connected:
                return
            self._open_session()
        self._start_watchdog()
        session = self._session
        self._push(
            ConnectionChanged(True, f"已连接 miniQMT (connected, session {session})", self._clock.now())
        )

    def close(self) -> None:
        """Stop reconnecting and stop the session; nothing is pushed after this returns."""
        self._closed = True
        self._stop.set()
        self._wake.set()
        watchdog = self._watchdog
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.join(30)
        with self._connecting, self._lock:
            trader, self._trader = self._trader, None
            self._connected = False
        if trader is not None:
            _stop_trader(trader)

    def submit(self, orders: Sequence[SubmitOrder]) -> None:
        for order in orders:
            self._send(order)

    def cancel(self, request: CancelOrder) -> None:
        now = self._clock.now()
        if request.broker_order_id in self._algo_tasks:
            self._push(CancelErrorReport(request.client_order_id, request.broker_order_id,
                                         "券商算法单请在 QMT 中撤销 (a broker algorithm is cancelled in QMT itself)", now))  # fmt: skip
            return
        try:
            order_id = int(request.broker_order_id)
        except ValueError:
            self._push(CancelErrorReport(request.client_order_id, request.broker_order_id,
                                         f"委托编号无效，无法撤单 (bad broker order id {request.broker_order_id!r})", now))  # fmt: skip
            return
        with self._lock:
            if not self._connected:
                failure: CancelErrorReport | None = CancelErrorReport(
                    request.client_order_id, request.broker_order_id,
                    "未连接 miniQMT，撤单未发送 (not connected to miniQMT: cancel not sent)", now,
                )  # fmt: skip
            else:
                failure = None
                seq = self._trader.cancel_order_stock_async(self._account, order_id)
                if isinstance(seq, int) and seq > 0:
                    self._cancel_seqs[seq] = (request.client_order_id, request.broker_order_id)
                else:
                    failure = CancelErrorReport(request.client_order_id, request.broker_order_id,
                                                f"撤单未发出 (cancel_order_stock_async returned {seq!r})", now)  # fmt: skip
        if failure is not None:
            self._push(failure)

    def query_orders(self) -> list[OrderReport]:
        now = self._clock.now()
        rows = self._query("query_stock_orders_async", "委托 (orders)")
        reports = [
            r for r in (self._convert(convert.order_report, o, now) for o in rows or ()) if r is not None
        ]
        with self._lock:
            self._roll()
            for r in reports:  # a row with a whole remark this gateway sent ties its order_id too
                if r.client_order_id in self._sent and r.broker_order_id not in self._cid_by_boid:
                    self._cid_by_boid[r.broker_order_id] = r.client_order_id
            reports = [self._known(r) for r in reports]
            algo_cids, tasks = set(self._algo_cids), dict(self._algo_tasks)
        self._release()  # (and an answer overdue longer than the call timeout holds nothing up any more)
        # a broker algorithm's child orders are the broker's; the task stands for them (working)
        reports = [r for r in reports if r.client_order_id not in algo_cids]
        for boid, order in tasks.items():
            reports.append(OrderReport(boid, order.client_order_id, order.code, order.side, order.qty,
                                       order.price, order.price_type, OrderStatus.ACCEPTED, 0, None, now,
                                       strategy_id=order.strategy_id))  # fmt: skip
        return reports

    def query_trades(self) -> list[TradeReport]:
        now = self._clock.now()
        rows = self._query("query_stock_trades_async", "成交 (trades)")
        reports = [
            r for r in (self._convert(convert.trade_report, t, now) for t in rows or ()) if r is not None
        ]
        with self._lock:
            return [self._known(r) for r in reports]

    def query_positions(self) -> list[BrokerPosition]:
        rows = self._query("query_stock_positions_async", "持仓 (positions)")
        return [convert.position(p) for p in rows or ()]

    def query_asset(self) -> BrokerAsset:
        row = self._query("query_stock_asset_async", "资金 (asset)")
        if row is None:
            raise QmtError("miniQMT 未返回资金 (miniQMT returned no asset for the account)")
        return convert.asset(row)

    # ================================================================== broker-side algorithms
    def submit_smart_algo(
        self, order: SubmitOrder, algo_name: str, start: str, end: str, params: dict[str, Any] | None = None
    ) -> None:
        """QMT's smart algorithm (smart_algo_order_async, broker permission needed): `start`/`end` are
        "HH:MM:SS". The answer comes as a SubmitResponse: the task id, or the broker's refusal in words."""
        now = self._clock.now()
        try:
            price_type = convert.xt_price_type(order.price_type, order.code)
        except ValueError as exc:
            self._push(SubmitResponse(order.client_order_id, None, now, str(exc)))
            return
        with self._lock:
            if not self._connected:
                refusal: str | None = NOT_CONNECTED
            else:
                refusal = None
                try:
                    seq = self._trader.smart_algo_order_async(
                        self._account, order.code, convert.xt_side(order.side), order.qty, price_type,
                        float(order.price) if order.price is not None else 0.0, order.strategy_id,
                        str(order.client_order_id), algo_name, start, end, dict(params or {}),
                    )  # fmt: skip
                except Exception as exc:  # xttrader raises on start >= end, or a bad time
                    refusal = f"智能算法单未发出 (smart algo order not sent): {exc}"
                else:
                    self._algo_seqs[seq] = order
                    self._algo_cids.add(order.client_order_id)
        if refusal is not None:
            self._push(SubmitResponse(order.client_order_id, None, now, refusal))

    # ================================================================== sending
    def _send(self, order: SubmitOrder) -> None:
        if not self.sending_enabled:
            self._push(SubmitResponse(order.client_order_id, None, self._clock.now(), OBSERVE_ONLY))
            return
        if order.algo is not None:
            algo = order.algo
            self.submit_smart_algo(order, algo.name, algo.start, algo.end, dict(algo.params))
            return
        now = self._clock.now()
        try:
            price_type = convert.xt_price_type(order.price_type, order.code)
        except ValueError as exc:
            self._push(SubmitResponse(order.client_order_id, None, now, str(exc)))
            return
        price = float(order.price) if order.price_type is PriceType.LIMIT and order.price is not None else 0.0
        with self._lock:
            if not self._connected:
                refusal: str | None = NOT_CONNECTED
            else:
                refusal = None
                seq = self._trader.order_stock_async(
                    self._account, order.code, convert.xt_side(order.side), order.qty, price_type, price,
                    order.strategy_id, str(order.client_order_id),
                )  # fmt: skip
                self._sent.add(order.client_order_id)
                if isinstance(seq, int) and seq > 0:
                    self._order_seqs[seq] = order.client_order_id
                    self._unanswered[seq] = time.monotonic()
                else:
                    # xttrader has handed the request to the native client already: whether it reached
                    # the counter is unknown, so it is not called refused; the engine's answer timeout
                    # asks the broker about it (and adopts or expires it), never assumes
                    log.warning("qmt: order_stock_async returned %r for %s; its answer is awaited",
                                seq, order.client_order_id)  # fmt: skip
        if refusal is not None:
            self._push(SubmitResponse(order.client_order_id, None, now, refusal))

    # ================================================================== queries
    def _query(self, method: str, what: str) -> Any:
        with self._lock:
            if not self._connected:
                raise QmtError(f"未连接 miniQMT，无法查询{what} (not connected to miniQMT: cannot query)")
            trader, account = self._trader, self._account
        answer: Future[Any] = Future()

        def done(result: Any) -> None:  # on xttrader's executor: only hand the result over
            with contextlib.suppress(InvalidStateError):  # failed already (a disconnect)
                answer.set_result(result)

        with self._lock:
            self._queries.add(answer)
        try:
            getattr(trader, method)(account, done)
            return answer.result(self._call_timeout)
        except FutureTimeout:
            raise QmtError(
                f"miniQMT {self._call_timeout:g} 秒内未返回{what} (miniQMT did not answer the query within "
                f"{self._call_timeout:g}s)"
            ) from None
        finally:
            with self._lock:
                self._queries.discard(answer)

    # ================================================================== the session
    def _open_session(self) -> None:
        """start, connect, subscribe; on success the new trader replaces the old one. Raises QmtError."""
        factory = self._factory or _default_factory
        _, xttype = load_xtquant()
        account = xttype.StockAccount(self._account_id)
        tries = 1 if self._configured_session else SESSION_TRIES
        failure = ""
        for _ in range(tries):
            session = choose_session_id(self._configured_session, avoid=self._used_sessions)
            self._used_sessions.add(session)
            generation = self._generation + 1
            # made on a helper thread: XtQuantTrader.__init__ swaps the calling thread's asyncio event
            # loop (and on the main thread keeps the old one for its __del__), which must not touch
            # the caller's thread
            trader = None
            try:
                trader = self._bounded(lambda s=session: factory(str(self._path), s), "XtQuantTrader()")
                trader.register_callback(_Callbacks(self, generation))
                trader.start()
                code = trader.connect()
                if code == 0:
                    code = self._bounded(lambda t=trader: t.subscribe(account), "subscribe")
                    if code != 0:
                        raise QmtError(subscribe_failure(code, masked(self._account_id)))
            except Exception as exc:
                if trader is not None:
                    _stop_trader(trader)
                if isinstance(exc, QmtError):
                    raise
                raise QmtError(connect_failure(f"{type(exc).__name__}: {exc}", self._path, session)) from exc
            if code != 0:
                _stop_trader(trader)
                failure = connect_failure(code, self._path, session)
                log.warning("qmt: %s", failure)
                continue
            with self._lock:
                old, self._trader = self._trader, trader
                self._account, self._generation, self._session = account, generation, session
                # the old session's answers will never come (and the new one counts its seqs from 1
                # again): its unanswered orders are the engine's answer timeout's to ask about
                self._order_seqs.clear()
                self._unanswered.clear()
                self._cancel_seqs.clear()
                self._connected = True
                self._reconnecting, self._attempts, self._last_error = False, 0, ""
                self._down_since = None
            if old is not None:
                _stop_trader(old)
            log.info("qmt: connected, session %s, account %s", session, masked(self._account_id))
            return
        raise QmtError(failure)

    def _bounded(self, fn: Callable[[], Any], what: str) -> Any:
        """A synchronous xttrader call that has no async variant, bounded by the call timeout."""
        box: Future[Any] = Future()

        def run() -> None:
            try:
                box.set_result(fn())
            except BaseException as exc:
                box.set_exception(exc)

        threading.Thread(target=run, name=f"qmt-{what}", daemon=True).start()
        try:
            return box.result(self._call_timeout)
        except FutureTimeout:
            raise QmtError(
                f"miniQMT {self._call_timeout:g} 秒内未应答 {what} (miniQMT did not answer {what} within "
                f"{self._call_timeout:g}s)"
            ) from None

    def _start_watchdog(self) -> None:
        with self._lock:
            if self._watchdog is None and not self._closed:
                self._watchdog = threading.Thread(target=self._watch, name="qmt-reconnect", daemon=True)
                self._watchdog.start()

    def _watch(self) -> None:
        """The reconnect thread: woken by on_disconnected; reconnects with backoff until it is up."""
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            while not self._stop.is_set() and not self._connected:
                with self._lock:
                    attempt = self._attempts
                delay = self._delays[min(attempt, len(self._delays) - 1)]
                if self._stop.wait(delay):
                    return
                try:
                    with self._connecting:
                        if self._stop.is_set():
                            return
                        self._open_session()
                except Exception as exc:
                    with self._lock:
                        self._attempts += 1
                        self._last_error = str(exc)
                        attempts = self._attempts
                    log.warning("qmt: reconnect attempt %d failed: %s", attempts, exc)
                    if attempts == len(self._delays):  # once, when the backoff reaches its longest
                        since = self._down_since
                        self._push(ConnectionChanged(
                            False,
                            f"仍未连上 miniQMT，自 {since:%H:%M:%S} 断开，继续重试 (still down since "
                            f"{since:%H:%M:%S} after {attempts} attempts; retrying): {exc}" if since else str(exc),
                            self._clock.now(),
                        ))  # fmt: skip
                    continue
                since = self._down_since_before_reconnect
                self._push(ConnectionChanged(
                    True,
                    f"已重新连接 miniQMT (reconnected, session {self._session}"
                    + (f"; down since {since:%H:%M:%S}" if since else "") + ")",
                    self._clock.now(),
                ))  # fmt: skip

    def _on_disconnected(self, generation: int) -> None:
        """From xttrader's executor: mark down, tell the engine, wake the reconnect thread. Nothing else."""
        with self._lock:
            if generation != self._generation or not self._connected or self._closed:
                return  # an old session's, or already down
            self._connected = False
            self._reconnecting = True
            self._down_since = self._down_since_before_reconnect = self._clock.now()
            queries, self._queries = self._queries, set()
            self._unanswered.clear()  # the answers of this session will not come
        for query in queries:  # their answers will not come: the caller hears why at once
            if not query.done():
                query.set_exception(QmtError(
                    "查询途中与 miniQMT 的连接断开 (lost the connection to miniQMT while a query was in flight)"
                ))  # fmt: skip
        self._release(force=True)
        self._push(ConnectionChanged(
            False, "与 miniQMT 的连接断开，正在重连 (lost the connection to miniQMT; reconnecting)", self._clock.now()
        ))  # fmt: skip
        self._wake.set()

    # ================================================================== pushes
    def _push(self, report: BrokerReport) -> None:
        handler = self._handler
        if handler is None:
            log.debug("qmt: no handler for %r", report)
            return
        try:
            handler(report)
        except Exception:
            log.exception("qmt: report handler failed on %r", report)

    def _convert(self, fn: Callable[..., Any], obj: Any, *args: Any) -> Any:
        try:
            return fn(obj, *args)
        except Exception as exc:
            self.unreadable += 1
            log.error(
                "qmt: could not read %s %r: %s",
                type(obj).__name__,
                vars(obj) if hasattr(obj, "__dict__") else obj,
                exc,
            )
            return None

    # called by _Callbacks on xttrader's executor: convert and enqueue, nothing else
    def _on_order(self, order: Any) -> None:
        report = self._convert(convert.order_report, order, self._clock.now())
        if report is not None:
            self._deliver(report)

    def _on_trade(self, trade: Any) -> None:
        report = self._convert(convert.trade_report, trade, self._clock.now())
        if report is not None:
            self._deliver(report)

    def _deliver(self, report: OrderReport | TradeReport) -> None:
        """An order or trade push, told whose it is (see _whose); held while that cannot be told yet."""
        with self._lock:  # pushed under the lock: a release of held pushes cannot overtake it
            self._roll()
            if report.order_sysid:
                self._boid_by_sysid[report.order_sysid] = report.broker_order_id
            whose = self._whose(report)
            if whose is None:
                self._held.append(report)
            elif whose.client_order_id not in self._algo_cids or isinstance(whose, TradeReport):
                self._push(whose)  # (a broker algorithm's own child orders are not Tiller's orders)

    def _whose(self, report: OrderReport | TradeReport) -> OrderReport | TradeReport | None:
        """The report with the client order id of the order it belongs to, or None to hold it (lock held).

        The remark QMT echoes is not to be trusted to come back whole: it may be cut short or empty,
        and an order's pushes may come before the response that names its order_id. So the broker's
        order_id decides once a response (or a push with a whole remark this gateway sent) has tied it
        to a client order id; a push with neither is held while orders sent are still unanswered (it
        may be one of theirs), and goes on as it is (the remark, or external) once none is."""
        known = self._known(report)
        if known.client_order_id is not None and (
            known.broker_order_id in self._cid_by_boid
            or known.client_order_id in self._sent
            or known.client_order_id in self._algo_cids
        ):
            self._cid_by_boid[known.broker_order_id] = known.client_order_id
            return known
        if self._waiting():
            return None
        return known

    def _known(self, report: Any) -> Any:
        """The report with the client order id this gateway knows for its broker order id (lock held)."""
        self._roll()
        cid = self._cid_by_boid.get(report.broker_order_id)
        if cid is None or cid == report.client_order_id:
            return report
        return replace(report, client_order_id=cid)

    def _roll(self) -> None:
        """A new day: a broker's order numbers may start again, so yesterday's ties go (lock held)."""
        today = self._clock.now().date()
        if today != self._ids_day:
            self._ids_day = today
            self._cid_by_boid.clear()
            self._boid_by_sysid.clear()

    def _waiting(self) -> bool:
        """Whether an order sent is still unanswered (within the call timeout); lock held."""
        oldest = time.monotonic() - self._call_timeout
        for seq, sent in list(self._unanswered.items()):
            if sent < oldest:
                del self._unanswered[seq]  # the engine's answer timeout asks about it
        return bool(self._unanswered)

    def _release(self, *, force: bool = False) -> None:
        """Pushes held until their order was known: on, in their order, those now told (all if `force`)."""
        with self._lock:
            if not self._held:
                return
            ready: list[OrderReport | TradeReport] = []
            still: list[OrderReport | TradeReport] = []
            for report in self._held:
                whose = self._known(report) if force else self._whose(report)
                if whose is None:
                    still.append(report)
                else:
                    ready.append(whose)
            self._held = still
            for report in ready:
                if report.client_order_id not in self._algo_cids or isinstance(report, TradeReport):
                    self._push(report)

    def _on_order_response(self, resp: Any) -> None:
        seq = getattr(resp, "seq", -1)
        with self._lock:
            cid = self._order_seqs.pop(seq, None)
            self._unanswered.pop(seq, None)
            boid = convert.broker_id(getattr(resp, "order_id", None))
            self._roll()
            if cid is not None and boid is not None:
                self._cid_by_boid[boid] = cid
        report = self._convert(convert.submit_response, resp, cid, self._clock.now())
        if report is not None:
            if cid is None and report.broker_order_id is not None and report.client_order_id in self._sent:
                with self._lock:  # an answer to a seq not ours (seq -1): its whole remark tells
                    self._cid_by_boid[report.broker_order_id] = report.client_order_id
            self._push(report)
        self._release()

    def _on_order_error(self, err: Any) -> None:
        with self._lock:
            boid = convert.broker_id(getattr(err, "order_id", None))
            cid = self._order_seqs.get(getattr(err, "seq", -1)) or (
                self._cid_by_boid.get(boid) if boid is not None else None
            )
        report = self._convert(convert.order_error, err, cid, self._clock.now())
        if report is not None and report.client_order_id in self._algo_cids:
            # a broker algorithm's own child order was refused: the task goes on (the broker's to decide)
            log.warning(
                "qmt: a child order of broker algorithm %s was refused: %s",
                report.client_order_id,
                report.message,
            )
            return
        if report is not None:
            self._push(report)

    def _on_cancel_response(self, resp: Any) -> None:
        with self._lock:
            cid, boid = self._cancel_seqs.pop(getattr(resp, "seq", -1), (None, None))
        result = getattr(resp, "cancel_result", 0)
        if result == 0:
            return  # sent; the outcome comes as the order's status (51/52, then 53/54)
        message = str(getattr(resp, "error_msg", "") or "") or f"撤单失败 (cancel refused, result {result})"
        report = self._convert(convert.cancel_error, _Refusal(getattr(resp, "order_id", None), message), cid, boid,
                               self._clock.now())  # fmt: skip
        if report is not None:
            self._push(report)

    def _on_cancel_error(self, err: Any) -> None:
        with self._lock:  # a cancel error may name the order by its counter number only
            boid = self._boid_by_sysid.get(convert.text(getattr(err, "order_sysid", None)))
            cid = self._cid_by_boid.get(boid) if boid is not None else None
        report = self._convert(convert.cancel_error, err, cid, boid, self._clock.now())
        if report is not None:
            self._push(report)

    def _on_algo_response(self, resp: Any) -> None:
        with self._lock:
            order = self._algo_seqs.pop(getattr(resp, "seq", -1), None)
        cid = (
            order.client_order_id
            if order is not None
            else convert.remark_id(getattr(resp, "order_remark", ""))
        )
        if cid is None:
            return
        now = self._clock.now()
        task = getattr(resp, "task_id", 0)
        error = str(getattr(resp, "error_msg", "") or "")
        if error or not task:
            with self._lock:
                self._algo_cids.discard(cid)
            self._push(SubmitResponse(cid, None, now, algo_refusal(error)))
        else:
            boid = BrokerOrderId(f"A{task}")
            if order is not None:
                with self._lock:
                    self._algo_tasks[boid] = order
            self._push(SubmitResponse(cid, boid, now))


def algo_refusal(error: str) -> str:
    return (
        f"券商拒绝智能算法单 (the broker refused the smart algorithm order): {error or '无说明 (no reason given)'}. "
        "智能算法需要券商开通权限；可改用 Tiller 自己的 twap/vwap 执行策略 "
        "(QMT's smart algorithms need the broker's permission; Tiller's own twap/vwap policies need none)"
    )


@dataclass(frozen=True, slots=True)
class _Refusal:
    order_id: Any
    error_msg: str
    error_id: int = 0


class _Callbacks:
    """The object xttrader calls (XtQuantTraderCallback's methods). Each one converts and enqueues."""

    def __init__(self, gateway: QmtGateway, generation: int) -> None:
        self._gw = gateway
        self._generation = generation

    def _guard(self, fn: Callable[..., None], *args: Any) -> None:
        self._gw.pushes += 1
        try:
            fn(*args)
        except Exception:  # never into xttrader's executor
            log.exception("qmt: callback %s failed", getattr(fn, "__name__", fn))

    def on_connected(self) -> None:  # never invoked by xttrader (trap A1)
        pass

    def on_disconnected(self) -> None:
        self._guard(self._gw._on_disconnected, self._generation)

    def on_account_status(self, status: Any) -> None:
        log.info("qmt: account status %s", getattr(status, "status", status))

    def on_stock_asset(self, asset: Any) -> None:
        pass  # queried when needed

    def on_stock_position(self, position: Any) -> None:
        pass  # queried when needed; positions follow the trades

    def on_stock_order(self, order: Any) -> None:
        self._guard(self._gw._on_order, order)

    def on_stock_trade(self, trade: Any) -> None:
        self._guard(self._gw._on_trade, trade)

    def on_order_error(self, order_error: Any) -> None:
        self._guard(self._gw._on_order_error, order_error)

    def on_cancel_error(self, cancel_error: Any) -> None:
        self._guard(self._gw._on_cancel_error, cancel_error)

    def on_order_stock_async_response(self, response: Any) -> None:
        self._guard(self._gw._on_order_response, response)

    def on_cancel_order_stock_async_response(self, response: Any) -> None:
        self._guard(self._gw._on_cancel_response, response)

    def on_smart_algo_order_async_response(self, response: Any) -> None:
        self._guard(self._gw._on_algo_response, response)

    def on_operate_smart_task_async_response(self, response: Any) -> None:
        pass

    def on_smt_appointment_async_response(self, response: Any) -> None:
        pass

    def on_bank_transfer_async_response(self, response: Any) -> None:
        pass

    def on_ctp_internal_transfer_async_response(self, response: Any) -> None:
        pass


_TRADER_CLASS: list[type] = []


def _default_factory(path: str, session: int) -> Any:
    """xtquant's own XtQuantTrader, with one fix: its __del__ reads `self.oldloop`, which __init__ sets
    only on the main thread, so a trader made on the engine thread and freed on the main thread
    raised AttributeError there (and ImportError at interpreter exit)."""
    if not _TRADER_CLASS:
        xttrader, _ = load_xtquant()

        def __del__(self: Any) -> None:
            if hasattr(self, "oldloop"):
                with contextlib.suppress(Exception):
                    xttrader.XtQuantTrader.__del__(self)

        _TRADER_CLASS.append(type("XtQuantTrader", (xttrader.XtQuantTrader,), {"__del__": __del__}))
    return _TRADER_CLASS[0](path, session)


def _stop_trader(trader: Any) -> None:
    """Stop a session; never raises (it may be half started). Its event loop is closed too."""
    try:
        if getattr(trader, "executor", None) is not None:
            trader.stop()
        else:
            trader.async_client.stop()
    except Exception:
        log.exception("qmt: stopping a session failed")
    loop = getattr(trader, "loop", None)
    try:
        if loop is not None and not loop.is_running() and not loop.is_closed():
            loop.close()
    except Exception:
        log.debug("qmt: closing a session's loop failed", exc_info=True)
