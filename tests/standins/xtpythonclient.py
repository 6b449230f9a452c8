"""A stand-in for `xtquant.xtpythonclient`, miniQMT's native client (Windows-only .pyd), for the tests.

xtquant's real `xttrader.py` runs on top of it: `install()` puts this module into `sys.modules` as
`xtquant.xtpythonclient` before xttrader is imported. It is written from the surface xttrader.py uses
(RULES.md A4), not copied from it or from the native client:

- request classes with settable attributes (__slots__: a name xttrader does not use fails loudly);
- `XtQuantAsyncClient(path_bytes, 'xtquant', session)`: init/start/stop/connect/nextSeq/setTimeout,
  the stock `...WithSeq(seq, req)` calls, and every `bindOn...Callback(fn)`;
- every answer and push is delivered from the stand-in's own thread ("xtpythonclient-push"), as the
  native client's come from its own, and every seq is answered (or deliberately not, by a fault).

Behind it is an `Exchange` per userdata folder: the simulated broker (app/gateways/sim), so quotes,
limits, lots, fees and T+1 behave as in the simulated setup, with its books in
`<userdata>/standin-counter.db` (plus `standin-refused.json` for orders the fault switches refused),
so they outlive a restart of the process. Reports of the simulated broker become xttype objects
(XtOrder, XtTrade, XtOrderError, XtCancelError) with the xtconstant codes: statuses 50/55/56,
51/52 (pending cancel), 53/54, 57; price types per exchange.

Fault switches (`Exchange.faults`, each counts down or stays on):
    reject_next        [msg, ...]  the counter refuses the next orders: response, status 57, order error
    error_first        n   ... and pushes the order error BEFORE the response (xttrader holds it)
    silent_next        n   the next orders vanish: nothing booked, nothing answered
    mute_next          n   the next orders are booked but nothing about them is pushed or answered
    hold_cancels       on  cancels wait (the order shows 51/52) until release_cancels()
    refuse_cancels     [msg, ...] the next cancels are refused (response -1 and a cancel error)
    duplicate_trades   on  every trade is pushed twice
    connect_code       int connect() returns this instead of 0
    unanswered_queries on  queries (and subscribe) are never answered
    algo_permission    on  smart_algo orders are accepted (off: refused, as without the permission)
`disconnect()` / `restore()` drop and bring back the link: pushes of the meantime are lost (as the
simulated broker's are), connect() fails while it is down.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

from app.core.clock import LiveClock
from app.domain.clock import Clock
from app.domain.identifiers import BrokerOrderId, ClientOrderId
from app.domain.orders import OrderStatus, PriceType
from app.domain.reports import (
    CancelErrorReport,
    CancelOrder,
    ConnectionChanged,
    OrderErrorReport,
    OrderReport,
    SubmitOrder,
    SubmitResponse,
    TradeReport,
)
from app.domain.side import Side
from app.gateways.sim.broker import SimulatedBroker

BOOKS_FILE = "standin-counter.db"
REFUSED_FILE = "standin-refused.json"
REFUSED_BASE = 900_000_000  # order ids of orders the fault switches refused (never the counter's)
PUSH_THREAD = "xtpythonclient-push"

# ---------------------------------------------------------------------------------- request classes


class _Req:
    __slots__: tuple[str, ...] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self) -> None:
        for name in self.__slots__:
            setattr(self, name, self._defaults.get(name, 0 if name.startswith(("m_n", "m_d")) else ""))


def _req(name: str, *fields: str, **defaults: Any) -> type[_Req]:
    base = ("m_nAccountType", "m_strAccountID")
    return type(name, (_Req,), {"__slots__": base + fields, "_defaults": defaults})


SubscribeReq = _req("SubscribeReq")
UnsubscribeReq = _req("UnsubscribeReq")
OrderStockReq = _req(
    "OrderStockReq", "m_strStockCode", "m_nOrderType", "m_nOrderVolume", "m_nPriceType", "m_dPrice",
    "m_strStrategyName", "m_strOrderRemark", "m_strOrderRemarkNew", "m_dOrderAmount", "m_strStockCode1",
    "m_strAccountID1",
)  # fmt: skip
CancelOrderStockReq = _req("CancelOrderStockReq", "m_nOrderID", "m_nMarket", "m_strMarket", "m_strOrderSysID")
QueryStockAssetReq = _req("QueryStockAssetReq")
QueryStockOrdersReq = _req("QueryStockOrdersReq", "m_nOrderID", "m_bCanCancel", m_bCanCancel=False)
QueryStockTradesReq = _req("QueryStockTradesReq")
QueryStockPositionsReq = _req("QueryStockPositionsReq", "m_strStockCode", "m_strStockCode1")
OperateSmartAlgoTaskReq = _req("OperateSmartAlgoTaskReq", "m_strTaskID", "m_nOperateType")


# Requests of flows the stand-in does not serve (credit, banking, ...): constructible, never served.
def __getattr__(name: str) -> Any:
    if name.endswith(("Req", "Param")):
        cls = type(name, (), {})
        globals()[name] = cls
        return cls
    raise AttributeError(name)


# ---------------------------------------------------------------------------------- payloads


@dataclass
class _OrderResp:
    m_strAccountID: str
    m_nOrderID: int
    m_strStrategyName: str
    m_strOrderRemark: str
    m_strErrorMsg: str


@dataclass
class _CancelResp:
    m_strAccountID: str
    m_nCancelResult: int
    m_nOrderID: int
    m_strOrderSysID: str
    m_strErrorMsg: str


@dataclass
class _AccountStatus:
    m_strAccountID: str
    m_nAccountType: int
    m_nStatus: int


# ---------------------------------------------------------------------------------- faults


@dataclass
class Faults:
    reject_next: list[str] = field(default_factory=list)
    error_first: int = 0
    silent_next: int = 0
    mute_next: int = 0
    hold_cancels: bool = False
    refuse_cancels: list[str] = field(default_factory=list)
    duplicate_trades: bool = False
    connect_code: int = 0
    unanswered_queries: bool = False
    algo_permission: bool = False


def _xt() -> tuple[Any, Any]:
    from xtquant import xtconstant, xttype

    return xtconstant, xttype


# ---------------------------------------------------------------------------------- the exchange


class Exchange:
    """miniQMT and its counter for one userdata folder: the simulated broker behind the native API.

    It is also the day driver's venue (SimulatedVenue): set_instruments, on_quotes, begin_day,
    end_day, wait_idle (which also waits until every push has been handed to xttrader),
    work_received."""

    def __init__(
        self,
        path: Path,
        clock: Clock,
        *,
        account_id: str = "8800001234",
        broker_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.clock = clock
        self.account_id = account_id
        self.faults = Faults()
        self.broker = SimulatedBroker(
            self.path / BOOKS_FILE, clock, account_id=account_id, **(broker_kwargs or {})
        )
        self.broker.set_report_handler(self._from_broker)
        self.up = True
        self._lock = threading.RLock()
        self._clients: list[XtQuantAsyncClient] = []
        self._pending: dict[
            str, tuple[XtQuantAsyncClient, int, str, str]
        ] = {}  # sim cid -> client, seq, remark, strat
        self._seq_of_order: dict[int, tuple[XtQuantAsyncClient, int]] = {}
        self._orders: dict[int, tuple[str, str, str]] = {}  # order id -> (remark, strategy, code)
        self._muted: set[str] = set()
        self._held_cancels: list[tuple[CancelOrder, datetime]] = []
        self._hand_seq = itertools.count(1)
        self._refused: list[dict[str, Any]] = self._load_refused()
        self.sessions_seen: list[int] = []
        self._last_quotes: dict[str, Any] = {}
        self.orders_received = 0
        # the push thread
        self._cond = threading.Condition()
        self._queue: deque[tuple[Callable[..., Any], tuple[Any, ...]]] = deque()
        self._busy = False
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=PUSH_THREAD, daemon=True)
        self._thread.start()
        self.broker.connect()
        for report in self.broker.query_orders():
            self._orders[int(report.broker_order_id)] = (
                _remark_of(report.client_order_id), report.strategy_id, report.code,
            )  # fmt: skip

    # ------------------------------------------------------------------ the venue (day driver)
    def set_instruments(self, infos: Sequence[Any]) -> None:
        self.broker.set_instruments(infos)

    def on_quotes(self, quotes: Sequence[Any]) -> None:
        for quote in quotes:
            self._last_quotes[quote.code] = quote
        self.broker.on_quotes(quotes)

    def begin_day(self, day: Any) -> None:
        self.broker.begin_day(day)

    def end_day(self) -> None:
        self.release_cancels()
        self.broker.end_day()

    def work_received(self) -> int:
        return self.broker.work_received()

    def wait_idle(self, timeout: float = 5.0) -> None:
        self.broker.wait_idle(timeout)
        self.drain(timeout)

    def drain(self, timeout: float = 5.0) -> None:
        """Return once every push queued so far has been handed to xttrader's callbacks."""
        with self._cond:
            if not self._cond.wait_for(lambda: not self._queue and not self._busy, timeout):
                raise TimeoutError(f"xtpythonclient stand-in: {len(self._queue)} pushes still queued")

    # ------------------------------------------------------------------ switches
    def disconnect(self) -> None:
        """The link to miniQMT drops: every client hears on_disconnected; what happens meanwhile is lost."""
        with self._lock:
            self.up = False
            clients, self._clients = self._clients, []
            for client in clients:
                client._connected = False
        self.broker.drop_connection()
        for client in clients:
            self._push(client, "bindOnDisconnectedCallback")

    def restore(self) -> None:
        with self._lock:
            self.up = True
        self.broker.restore_connection()

    def release_cancels(self) -> None:
        with self._lock:
            held, self._held_cancels = self._held_cancels, []
        for request, _ in held:
            self.broker.cancel(request)

    def place_by_hand(self, code: str, side: Side, qty: int, price: Decimal, strategy: str = "") -> None:
        """An order typed into QMT by hand: no remark, no seq; Tiller sees it only in pushes and queries."""
        cid = ClientOrderId(f"~H{next(self._hand_seq)}-{int(self.clock.now().timestamp()) % 100000}")
        with self._lock:
            self._pending[cid] = (None, 0, "", strategy)  # type: ignore[assignment]
        self.broker.submit([SubmitOrder(cid, code, side, qty, price, PriceType.LIMIT, strategy)])

    def close(self) -> None:
        try:
            self.broker.close()
        finally:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            self._thread.join(10)

    # ------------------------------------------------------------------ from the clients
    def attach(self, client: XtQuantAsyncClient) -> int:
        with self._lock:
            if self.faults.connect_code:
                return self.faults.connect_code
            if not self.up:
                return -1
            if any(c.session == client.session for c in self._clients):
                return -1  # the session id is taken by another program
            self._clients.append(client)
            self.sessions_seen.append(client.session)
            return 0

    def detach(self, client: XtQuantAsyncClient) -> None:
        with self._lock:
            if client in self._clients:
                self._clients.remove(client)

    def subscribe(self, client: XtQuantAsyncClient, seq: int, req: Any) -> None:
        if self.faults.unanswered_queries:
            return
        ok = client._connected and req.m_strAccountID == self.account_id
        if ok:
            client._subscribed = True
        self._push(client, "bindOnSubscribeRespCallback", seq, 0 if ok else -1)

    def order(self, client: XtQuantAsyncClient, seq: int, req: Any) -> None:
        xtconstant, _ = _xt()
        remark, strategy, code = req.m_strOrderRemark, req.m_strStrategyName, req.m_strStockCode
        with self._lock:
            self.orders_received += 1
            if not client._connected or not self.up:
                self._push(client, "bindOnOrderStockRespCallback", seq,
                           _OrderResp(req.m_strAccountID, -1, strategy, remark, "未连接 (not connected)"))  # fmt: skip
                return
            faults = self.faults
            if faults.silent_next:
                faults.silent_next -= 1
                return  # vanished: nothing booked, nothing answered
            if faults.reject_next:
                message = faults.reject_next.pop(0)
                first = faults.error_first > 0
                faults.error_first -= 1 if first else 0
                self._refuse(client, seq, req, message, error_first=first)
                return
            mute = faults.mute_next > 0
            faults.mute_next -= 1 if mute else 0
            try:
                side = {xtconstant.STOCK_BUY: Side.BUY, xtconstant.STOCK_SELL: Side.SELL}[req.m_nOrderType]
                price_type = _price_type_from(req.m_nPriceType, code)
                cid = ClientOrderId(remark) if remark and remark not in self._pending else None
            except (KeyError, ValueError) as exc:
                self._refuse(client, seq, req, f"参数错误 (bad order: {exc})", error_first=False)
                return
            cid = cid or ClientOrderId(f"~R{seq}-{client.session % 100000}")
            self._pending[cid] = (client, seq, remark, strategy)
            if mute:
                self._muted.add(cid)
        price = Decimal(repr(req.m_dPrice)) if price_type is PriceType.LIMIT else None
        self.broker.submit(
            [SubmitOrder(cid, code, side, int(req.m_nOrderVolume), price, price_type, strategy)]
        )

    def cancel(self, client: XtQuantAsyncClient, seq: int, req: Any) -> None:
        order_id = int(req.m_nOrderID or 0)
        with self._lock:
            if not order_id and req.m_strOrderSysID:
                order_id = next(
                    (int(r.broker_order_id) for r in self.broker.query_orders() if r.order_sysid == req.m_strOrderSysID),
                    0,
                )  # fmt: skip
            known = self._orders.get(order_id)
            if not client._connected or not self.up:
                refusal: str | None = "未连接 (not connected)"
            elif self.faults.refuse_cancels:
                refusal = self.faults.refuse_cancels.pop(0)
            elif known is None and order_id < REFUSED_BASE:
                refusal = None  # the counter answers "no such order" itself
            else:
                refusal = None
            if refusal is not None:
                self._push(client, "bindOnCancelOrderStockRespCallback", seq,
                           _CancelResp(self.account_id, -1, order_id, "", refusal))  # fmt: skip
                _, xttype = _xt()
                self._push(client, "bindOnCancelErrorCallback",
                           xttype.XtCancelError(self.account_id, order_id, -1, "", -1, refusal))  # fmt: skip
                return
            self._push(client, "bindOnCancelOrderStockRespCallback", seq,
                       _CancelResp(self.account_id, 0, order_id, "", ""))  # fmt: skip
            request = CancelOrder(None, BrokerOrderId(str(order_id)), known[2] if known else "")
            if self.faults.hold_cancels and known is not None:
                report = next(
                    (r for r in self.broker.query_orders() if int(r.broker_order_id) == order_id), None
                )
                if report is not None and report.status.is_working:
                    self._held_cancels.append((request, self.clock.now()))
                    pending = OrderReport(**{**_fields(report), "status": OrderStatus.PENDING_CANCEL})
                    self._broadcast_order(pending)
                    return
        self.broker.cancel(request)

    def query(self, client: XtQuantAsyncClient, kind: str, seq: int, req: Any) -> None:
        if self.faults.unanswered_queries:
            return
        _, xttype = _xt()
        acc = self.account_id
        if kind == "orders":
            reports = self.broker.query_orders()
            rows = [self._xt_order(r) for r in reports] + [self._xt_refused(r) for r in self._refused]
            if req.m_nOrderID:
                rows = [r for r in rows if r.order_id == req.m_nOrderID]
            if req.m_bCanCancel:
                rows = [r for r in rows if r.order_status in (48, 49, 50, 51, 52, 55)]
            self._push(client, "bindOnQueryStockOrdersCallback", seq, rows)
        elif kind == "trades":
            rows = [self._xt_trade(t) for t in self.broker.query_trades()]
            self._push(client, "bindOnQueryStockTradesCallback", seq, rows)
        elif kind == "positions":
            rows = []
            for p in self.broker.query_positions():
                code = req.m_strStockCode
                if code and p.code != code:
                    continue
                last = p.last_price if p.last_price is not None else p.avg_price
                rows.append(xttype.XtPosition(
                    acc, p.code, p.total, p.sellable, float(p.avg_price), float(last * p.total), p.frozen, 0,
                    p.total - p.sellable, float(p.avg_price), 48,
                    float(last), 0.0, "", "",
                ))  # fmt: skip
            self._push(client, "bindOnQueryStockPositionsCallback", seq, rows)
        elif kind == "asset":
            a = self.broker.query_asset()
            row = xttype.XtAsset(acc, float(a.available), float(a.frozen), float(a.market_value),
                                 float(a.total_asset), float(a.available))  # fmt: skip
            self._push(client, "bindOnQueryStockAssetCallback", seq, [row])

    def smart_order(self, client: XtQuantAsyncClient, seq: int, order_param: Any, algo_param: Any) -> None:
        from xtquant import xtbson

        order = xtbson.BSON(order_param).decode() if isinstance(order_param, bytes) else dict(order_param)
        answer = {
            "account_id": order.get("account_id", ""),
            "task_id": 0,
            "strategy_name": order.get("strategy_name", ""),
            "order_remark": order.get("order_remark", ""),
            "error_msg": "",
        }
        if self.faults.algo_permission:
            task = answer["task_id"] = 700_000 + seq
            payload = answer
            self._push(
                client, "bindOnSmartOrderStockRespCallback", seq, json.dumps(payload, ensure_ascii=False)
            )
            # the algorithm works the order as the broker's own child order, carrying the task's remark
            # (the stand-in's whole algorithm: one limit child at the opposite best, within the task's cap)
            xtconstant, _ = _xt()
            code = order["stock_code"]
            side = Side.BUY if order["order_type"] == xtconstant.STOCK_BUY else Side.SELL
            cid = ClientOrderId(f"~A{task}")
            with self._lock:
                self._pending[cid] = (None, 0, answer["order_remark"], answer["strategy_name"])  # type: ignore[assignment]
            cap = Decimal(repr(float(order["price"])))
            quote = self._last_quotes.get(code)
            best = None if quote is None else (quote.best_ask if side is Side.BUY else quote.best_bid)
            price = cap if best is None else (min(cap, best) if side is Side.BUY else max(cap, best))
            self.broker.submit([SubmitOrder(cid, code, side, int(order["order_volume"]), price, PriceType.LIMIT,
                                            answer["strategy_name"])])  # fmt: skip
            return
        else:
            answer["error_msg"] = "资金账号没有智能算法交易权限 (no permission for smart algorithms)"
            payload = {"error": answer}
        self._push(client, "bindOnSmartOrderStockRespCallback", seq, json.dumps(payload, ensure_ascii=False))

    # ------------------------------------------------------------------ from the simulated broker
    def _from_broker(self, report: Any) -> None:
        """On the simulated broker's thread: translate and queue the pushes (never call xttrader here)."""
        kind = type(report)
        if kind is SubmitResponse:
            with self._lock:
                pending = self._pending.pop(report.client_order_id, None)
                if pending is None:
                    return
                client, seq, remark, strategy = pending
                if report.broker_order_id is not None:
                    oid = int(report.broker_order_id)
                    self._orders[oid] = (remark, strategy, "")
                    if client is not None:
                        self._seq_of_order[oid] = (client, seq)
                if client is None or report.client_order_id in self._muted:
                    return
            order_id = int(report.broker_order_id) if report.broker_order_id is not None else -1
            self._push(client, "bindOnOrderStockRespCallback", seq,
                       _OrderResp(self.account_id, order_id, strategy, remark, report.error))  # fmt: skip
        elif kind is OrderReport:
            oid = int(report.broker_order_id)
            with self._lock:
                remark, strategy, _ = self._orders.get(
                    oid, (_remark_of(report.client_order_id), report.strategy_id, "")
                )
                self._orders[oid] = (remark, strategy, report.code)
                if report.client_order_id in self._muted:
                    return
            self._broadcast_order(report)
            if report.status is OrderStatus.REJECTED:
                _, xttype = _xt()
                error = xttype.XtOrderError(self.account_id, oid, -61, report.status_msg, strategy, remark)
                error.seq = self._seq_of_order.get(oid, (None, -1))[1]
                self._broadcast("bindOnOrderErrorCallback", error)
        elif kind is TradeReport:
            with self._lock:
                if report.client_order_id in self._muted:
                    return
            trade = self._xt_trade(report)
            self._broadcast("bindOnStockTradeCallback", trade)
            if self.faults.duplicate_trades:
                self._broadcast("bindOnStockTradeCallback", self._xt_trade(report))
        elif kind is CancelErrorReport:
            _, xttype = _xt()
            oid = int(report.broker_order_id) if str(report.broker_order_id).isdigit() else -1
            self._broadcast("bindOnCancelErrorCallback",
                            xttype.XtCancelError(self.account_id, oid, -1, "", -1, report.message))  # fmt: skip
        elif kind in (ConnectionChanged, OrderErrorReport):
            return

    def _broadcast_order(self, report: OrderReport) -> None:
        self._broadcast("bindOnStockOrderCallback", self._xt_order(report))

    def _broadcast(self, name: str, *args: Any) -> None:
        with self._lock:
            clients = [c for c in self._clients if c._subscribed]
        for client in clients:
            self._push(client, name, *args)

    # ------------------------------------------------------------------ xttype objects
    def _xt_order(self, r: OrderReport) -> Any:
        xtconstant, xttype = _xt()
        oid = int(r.broker_order_id)
        remark, strategy, _ = self._orders.get(oid, (_remark_of(r.client_order_id), r.strategy_id, r.code))
        return xttype.XtOrder(
            self.account_id, r.code, oid, r.order_sysid, int(r.ts.timestamp()),
            xtconstant.STOCK_BUY if r.side is Side.BUY else xtconstant.STOCK_SELL, r.qty,
            _xt_price_type(r.price_type, r.code), float(r.price) if r.price is not None else 0.0, r.filled_qty,
            float(r.avg_price) if r.avg_price is not None else 0.0, _xt_status(r.status, r.filled_qty),
            r.status_msg, strategy or r.strategy_id, remark, 48, 48, "", "",
        )  # fmt: skip

    def _xt_trade(self, t: TradeReport) -> Any:
        xtconstant, xttype = _xt()
        oid = int(t.broker_order_id)
        remark, strategy, _ = self._orders.get(oid, (_remark_of(t.client_order_id), "", t.code))
        return xttype.XtTrade(
            self.account_id, t.code, xtconstant.STOCK_BUY if t.side is Side.BUY else xtconstant.STOCK_SELL,
            str(t.trade_id), int(t.ts.timestamp()), float(t.price), t.qty, float(t.amount), oid, t.order_sysid,
            strategy, remark, 48, 48, float(t.fees), "", "",
        )  # fmt: skip

    def _xt_refused(self, row: dict[str, Any]) -> Any:
        _, xttype = _xt()
        return xttype.XtOrder(
            self.account_id, row["code"], row["order_id"], "", row["time"], row["order_type"], row["volume"],
            row["price_type"], row["price"], 0, 0.0, 57, row["message"], row["strategy"], row["remark"], 48, 48,
            "", "",
        )  # fmt: skip

    # ------------------------------------------------------------------ refusals by the fault switches
    def _refuse(
        self, client: XtQuantAsyncClient, seq: int, req: Any, message: str, *, error_first: bool
    ) -> None:
        _, xttype = _xt()
        order_id = REFUSED_BASE + len(self._refused) + 1
        row = {
            "order_id": order_id, "code": req.m_strStockCode, "order_type": req.m_nOrderType,
            "volume": int(req.m_nOrderVolume), "price_type": req.m_nPriceType, "price": float(req.m_dPrice),
            "strategy": req.m_strStrategyName, "remark": req.m_strOrderRemark, "message": message,
            "time": int(self.clock.now().timestamp()),
        }  # fmt: skip
        self._refused.append(row)
        self._save_refused()
        response = _OrderResp(self.account_id, order_id, req.m_strStrategyName, req.m_strOrderRemark, "")
        error = xttype.XtOrderError(
            self.account_id, order_id, -61, message, req.m_strStrategyName, req.m_strOrderRemark
        )
        error.seq = seq
        if error_first:
            self._push(client, "bindOnOrderErrorCallback", error)
            self._push(client, "bindOnOrderStockRespCallback", seq, response)
        else:
            self._push(client, "bindOnOrderStockRespCallback", seq, response)
        self._broadcast("bindOnStockOrderCallback", self._xt_refused(row))
        if not error_first:
            self._push(client, "bindOnOrderErrorCallback", error)

    def _load_refused(self) -> list[dict[str, Any]]:
        path = self.path / REFUSED_FILE
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else []

    def _save_refused(self) -> None:
        path = self.path / REFUSED_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._refused, ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    # ------------------------------------------------------------------ the push thread
    def _push(self, client: XtQuantAsyncClient | None, name: str, *args: Any) -> None:
        if client is None:
            return
        with self._cond:
            self._queue.append((client._deliver, (name, *args)))
            self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if not self._queue:
                    return
                fn, args = self._queue.popleft()
                self._busy = True
            try:
                fn(*args)
            except Exception as exc:  # a native client never lets an exception into its thread
                print(f"xtpythonclient stand-in: push {args[0]} failed: {exc!r}", file=sys.stderr)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()


def _fields(report: OrderReport) -> dict[str, Any]:
    return {name: getattr(report, name) for name in report.__dataclass_fields__}


def _remark_of(cid: object) -> str:
    return "" if cid is None or str(cid).startswith("~") else str(cid)


def _xt_status(status: OrderStatus, filled: int) -> int:
    return {
        OrderStatus.SUBMITTED: 50,
        OrderStatus.ACCEPTED: 50,
        OrderStatus.PARTIALLY_FILLED: 55,
        OrderStatus.FILLED: 56,
        OrderStatus.PENDING_CANCEL: 52 if filled else 51,
        OrderStatus.CANCELLED: 53 if filled else 54,
        OrderStatus.EXPIRED: 53 if filled else 54,
        OrderStatus.REJECTED: 57,
    }.get(status, 255)


def _xt_price_type(price_type: PriceType, code: str) -> int:
    xtconstant, _ = _xt()
    sz = code.endswith(".SZ")
    return {
        PriceType.LIMIT: xtconstant.FIX_PRICE,
        PriceType.BEST5_IOC: xtconstant.MARKET_SZ_CONVERT_5_CANCEL
        if sz
        else xtconstant.MARKET_SH_CONVERT_5_CANCEL,
        PriceType.BEST5_TO_LIMIT: xtconstant.MARKET_SH_CONVERT_5_LIMIT,
        PriceType.PEER_BEST: xtconstant.MARKET_PEER_PRICE_FIRST,
        PriceType.OWN_BEST: xtconstant.MARKET_MINE_PRICE_FIRST,
        PriceType.IOC: xtconstant.MARKET_SZ_INSTBUSI_RESTCANCEL,
        PriceType.FOK: xtconstant.MARKET_SZ_FULL_OR_CANCEL,
    }[price_type]


def _price_type_from(value: int, code: str) -> PriceType:
    """What the exchange of `code` makes of an xtquant price type; ValueError if it has none such."""
    xtconstant, _ = _xt()
    exchange = code.rsplit(".", 1)[-1]
    table = {
        xtconstant.FIX_PRICE: (PriceType.LIMIT, "SH SZ BJ"),
        xtconstant.MARKET_SH_CONVERT_5_CANCEL: (PriceType.BEST5_IOC, "SH BJ"),
        xtconstant.MARKET_SH_CONVERT_5_LIMIT: (PriceType.BEST5_TO_LIMIT, "SH BJ"),
        xtconstant.MARKET_PEER_PRICE_FIRST: (PriceType.PEER_BEST, "SH SZ BJ"),
        xtconstant.MARKET_MINE_PRICE_FIRST: (PriceType.OWN_BEST, "SH SZ BJ"),
        xtconstant.MARKET_SZ_INSTBUSI_RESTCANCEL: (PriceType.IOC, "SZ"),
        xtconstant.MARKET_SZ_CONVERT_5_CANCEL: (PriceType.BEST5_IOC, "SZ"),
        xtconstant.MARKET_SZ_FULL_OR_CANCEL: (PriceType.FOK, "SZ"),
    }
    entry = table.get(value)
    if entry is None or exchange not in entry[1].split():
        raise ValueError(f"报价类型 {value} 不适用于 {code} (price type {value} is not valid on {exchange})")
    return entry[0]


# ---------------------------------------------------------------------------------- the native client

_EXCHANGES: dict[Path, Exchange] = {}
_EXCHANGES_LOCK = threading.Lock()
_DEFAULT_CLOCK: list[Clock] = []


def configure(path: Path, clock: Clock, **kwargs: Any) -> Exchange:
    """Set up (or replace) the exchange behind the userdata folder `path`; kwargs: account_id,
    broker_kwargs (SimulatedBroker's: fees, initial_cash, seed, participation, latencies ...)."""
    key = Path(path).resolve()
    with _EXCHANGES_LOCK:
        old = _EXCHANGES.pop(key, None)
        if old is not None:
            old.close()
        exchange = _EXCHANGES[key] = Exchange(key, clock, **kwargs)
        return exchange


def exchange_for(path: Path | str) -> Exchange:
    key = Path(path).resolve()
    with _EXCHANGES_LOCK:
        exchange = _EXCHANGES.get(key)
        if exchange is None:
            if not _DEFAULT_CLOCK:
                _DEFAULT_CLOCK.append(LiveClock())
            exchange = _EXCHANGES[key] = Exchange(key, _DEFAULT_CLOCK[0])
        return exchange


def reset() -> None:
    """Close every exchange (the end of a test)."""
    with _EXCHANGES_LOCK:
        exchanges = list(_EXCHANGES.values())
        _EXCHANGES.clear()
    for exchange in exchanges:
        exchange.close()


def install() -> Any:
    """Make this module `xtquant.xtpythonclient` (before xttrader is imported) and return it."""
    import xtquant

    module = sys.modules[__name__]
    current = sys.modules.get("xtquant.xtpythonclient")
    if current is not None and current is not module:
        raise RuntimeError(f"another xtquant.xtpythonclient is already loaded: {current!r}")
    sys.modules["xtquant.xtpythonclient"] = module
    xtquant.xtpythonclient = module  # type: ignore[attr-defined]
    return module


_STOCK_QUERIES = {
    "queryStockAssetWithSeq": "asset",
    "queryStockOrdersWithSeq": "orders",
    "queryStockTradesWithSeq": "trades",
    "queryStockPositionsWithSeq": "positions",
}


class XtQuantAsyncClient:
    """The native client's stock surface (RULES.md A4)."""

    def __init__(self, path: bytes, name: str, session: int) -> None:
        if not isinstance(path, bytes):
            raise TypeError(f"path must be bytes (xttrader encodes it as gb18030), was {type(path).__name__}")
        if not isinstance(session, int):
            raise TypeError(f"session must be an int, was {session!r}")
        self.path = Path(path.decode("gb18030"))
        self.name = name
        self.session = session
        self._bound: dict[str, Callable[..., Any]] = {}
        self._seq = itertools.count(1)
        self._seq_lock = threading.Lock()
        self._started = False
        self._connected = False
        self._subscribed = False
        self.timeout = 0
        self._exchange: Exchange | None = None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("bindOn") and name.endswith("Callback"):
            return lambda fn: self._bound.__setitem__(name, fn)
        if name.endswith("WithSeq"):
            raise NotImplementedError(f"xtpythonclient stand-in: {name} (not a stock flow) is not served")
        raise AttributeError(name)

    # lifecycle
    def init(self) -> int:
        return 0

    def start(self) -> int:
        self._started = True
        return 0

    def stop(self) -> int:
        self._started = False
        self._connected = self._subscribed = False
        if self._exchange is not None:
            self._exchange.detach(self)
        return 0

    def connect(self) -> int:
        if not self._started:
            return -1
        exchange = exchange_for(self.path)
        code = exchange.attach(self)
        if code == 0:
            self._exchange = exchange
            self._connected = True
        return code

    def nextSeq(self) -> int:
        with self._seq_lock:
            return next(self._seq)

    def setTimeout(self, timeout: int) -> None:
        self.timeout = timeout

    # requests
    def _ex(self) -> Exchange:
        return self._exchange or exchange_for(self.path)

    def subscribeWithSeq(self, seq: int, req: Any) -> None:
        self._ex().subscribe(self, seq, req)

    def unsubscribeWithSeq(self, seq: int, req: Any) -> None:
        self._subscribed = False
        self._ex()._push(self, "bindOnUnsubscribeRespCallback", seq, 0)

    def orderStockWithSeq(self, seq: int, req: Any) -> None:
        self._ex().order(self, seq, req)

    def cancelOrderStockWithSeq(self, seq: int, req: Any) -> None:
        self._ex().cancel(self, seq, req)

    def queryStockAssetWithSeq(self, seq: int, req: Any) -> None:
        self._ex().query(self, "asset", seq, req)

    def queryStockOrdersWithSeq(self, seq: int, req: Any) -> None:
        self._ex().query(self, "orders", seq, req)

    def queryStockTradesWithSeq(self, seq: int, req: Any) -> None:
        self._ex().query(self, "trades", seq, req)

    def queryStockPositionsWithSeq(self, seq: int, req: Any) -> None:
        self._ex().query(self, "positions", seq, req)

    def smartOrderStockWithSeq(self, seq: int, order_param: Any, algo_param: Any) -> None:
        self._ex().smart_order(self, seq, order_param, algo_param)

    # the push thread hands each answer or push to what xttrader bound
    def _deliver(self, name: str, *args: Any) -> None:
        if not self._connected and name != "bindOnDisconnectedCallback":
            return  # a dropped or stopped client hears nothing more
        fn = self._bound.get(name)
        if fn is not None:
            fn(*args)
