"""The cache the window draws from (vn.py's OMS cache): filled from a snapshot, then kept by events.

It lives on the GUI thread and is changed only by `load(snapshot)` (at start and after a reconnect,
from `EngineBridge.snapshot_arrived`) and `apply(batch)` (`EngineBridge.events_arrived`, at most once
a frame). Views never ask the engine: they read these dicts and follow these signals. Everything kept
is bounded (orders, trades, alerts, the equity curve).

Signals, for the panels (ui10b's quotes and charts panels included):
- `reloaded()` — a snapshot was loaded: read everything again;
- `orders_changed(list[OrderSnapshot])`, `trades_added(list[TradeReport])`;
- `account_changed(AccountSnapshot)`, `positions_changed(list[PositionSnapshot])`;
- `plan_lines_changed(list[PlanLine])`, `plan_status_changed(PlanStatus)`;
- `alerts_added(list[AlertRaised])`;
- `quotes_updated(list[Quote])` — the last quote of each code that moved this frame;
- `instruments_changed(list[InstrumentInfo])`;
- `equity_updated(datetime, Decimal)` — total assets at each account update (equity curve);
- `status_changed()` — connection, trading state, signal source: the status bar reads `status`;
- `reconnected()`, `snapshot_wanted()` — the broker came back, or quotes of codes it has no
  instrument for arrived (a new day): the window asks the bridge for a new snapshot.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.messages import (
    AccountSnapshot,
    AlertRaised,
    ConnectionStateChanged,
    ExecutionUpdated,
    OrderSnapshot,
    OrderUpdated,
    PositionSnapshot,
    SignalsReceived,
    TradeBooked,
)
from app.core.planning.model import (
    PlanLine,
    PlanLineAdded,
    PlanLineChanged,
    PlanLineSkipped,
    PlanStateChanged,
    PlanStatus,
)
from app.core.snapshot import TerminalSnapshot
from app.domain.market import InstrumentInfo, Quote
from app.domain.reports import TradeReport
from app.ui.words import core_text, tr

MAX_ORDERS = 5000  # ended orders beyond this are dropped, oldest first (working ones are always kept)
MAX_TRADES = 5000
MAX_ALERTS = 1000
MAX_EQUITY_POINTS = 20000


@dataclass(frozen=True, slots=True)
class Status:
    """What the status bar shows."""

    broker_connected: bool = False
    broker_reason: str = ""
    quotes_ts: datetime | None = None  # the last quote's time
    signals: str = ""  # the signal source's last word: "" (nothing yet), ok text or the failure
    signals_ok: bool | None = None
    trading_state: str = ""
    halted: str | None = None
    now: datetime | None = None  # the engine clock at the last update


@dataclass(frozen=True, slots=True)
class LineFill:
    sent: int = 0
    filled: int = 0
    working: bool = False


class ReadModel(QObject):
    reloaded = Signal()
    orders_changed = Signal(list)
    trades_added = Signal(list)
    account_changed = Signal(object)
    positions_changed = Signal(list)
    plan_lines_changed = Signal(list)
    plan_status_changed = Signal(object)
    alerts_added = Signal(list)
    quotes_updated = Signal(list)
    instruments_changed = Signal(list)
    equity_updated = Signal(object, object)
    status_changed = Signal()
    reconnected = Signal()  # the broker came back: the window takes a new snapshot
    snapshot_wanted = Signal()  # codes arrived the read model has no instrument for (a new day): refresh

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.account: AccountSnapshot | None = None
        self.positions: dict[str, PositionSnapshot] = {}
        self.orders: dict[str, OrderSnapshot] = {}
        self.trades: deque[TradeReport] = deque(maxlen=MAX_TRADES)
        self.alerts: deque[AlertRaised] = deque(maxlen=MAX_ALERTS)
        self.plan_status: PlanStatus | None = None
        self.plan_lines: dict[str, PlanLine] = {}
        self.line_fills: dict[str, LineFill] = {}
        self.quotes: dict[str, Quote] = {}
        self.instruments: dict[str, InstrumentInfo] = {}
        self.equity: deque[tuple[datetime, Decimal]] = deque(maxlen=MAX_EQUITY_POINTS)
        self.status = Status()
        self.strategy_names: dict[str, str] = {}  # id -> the name the user gave it (the snapshot's)
        self.loaded = False
        self._asked: set[str] = set()  # codes a snapshot was asked for (once each)

    # ------------------------------------------------------------------ queries for the views
    def name_of(self, code: str) -> str:
        info = self.instruments.get(code)
        return info.name if info is not None else ""

    def prev_close(self, code: str) -> Decimal | None:
        info = self.instruments.get(code)
        if info is not None:
            return info.prev_close
        quote = self.quotes.get(code)
        return None if quote is None else quote.prev_close

    def strategy_name(self, strategy_id: str) -> str:
        """The strategy as the user knows it: the name given in the settings, else its id."""
        return self.strategy_names.get(strategy_id) or strategy_id

    def strategy_of_code(self, code: str) -> str:
        """The strategies whose lines trade `code` today (for the positions table), by name."""
        ids = sorted({x.strategy_id for x in self.plan_lines.values() if x.code == code})
        return ",".join(self.strategy_name(sid) for sid in ids)

    def order_of_trade(self, trade: TradeReport) -> OrderSnapshot | None:
        if trade.client_order_id is not None:
            found = self.orders.get(trade.client_order_id)
            if found is not None:
                return found
        for order in self.orders.values():
            if order.broker_order_id == trade.broker_order_id:
                return order
        return None

    # ------------------------------------------------------------------ filling
    def load(self, snapshot: TerminalSnapshot) -> None:
        """Replace everything with `snapshot` (GUI thread)."""
        self.account = snapshot.account
        self.positions = {p.code: p for p in snapshot.positions}
        self.orders = {str(o.client_order_id): o for o in snapshot.orders}
        self._bound_orders()
        self.trades = deque(snapshot.trades, maxlen=MAX_TRADES)
        self.alerts = deque(snapshot.alerts, maxlen=MAX_ALERTS)
        self.plan_status = snapshot.plan.status
        self.plan_lines = {x.line_id: x for x in snapshot.plan.lines}
        self.line_fills = {}
        for line_id in self.plan_lines:
            self._refill_line(line_id)
        self.quotes = {q.code: q for q in snapshot.quotes}
        self.instruments = {i.code: i for i in snapshot.instruments}
        self.strategy_names = dict(snapshot.strategy_names)
        last_quote = max((q.ts for q in snapshot.quotes), default=None)
        self.status = replace(
            self.status,
            broker_connected=snapshot.connected,
            trading_state=snapshot.trading_state,
            halted=snapshot.halted,
            now=snapshot.ts,
            quotes_ts=last_quote or self.status.quotes_ts,
        )
        self._add_equity(snapshot.account)
        self.loaded = True
        self.reloaded.emit()
        self.instruments_changed.emit(list(self.instruments.values()))
        self.status_changed.emit()

    def apply(self, batch: Any) -> None:
        """One frame of events (an EventBatch from the bridge), in order."""
        orders: dict[str, OrderSnapshot] = {}
        trades: list[TradeReport] = []
        lines: dict[str, PlanLine] = {}
        alerts: list[AlertRaised] = []
        status = self.status
        plan_status: PlanStatus | None = None
        reconnected = False
        for event in batch.events:
            if isinstance(event, OrderUpdated):
                o = event.order
                self.orders[str(o.client_order_id)] = o
                orders[str(o.client_order_id)] = o
            elif isinstance(event, TradeBooked):
                self.trades.append(event.trade)
                trades.append(event.trade)
            elif isinstance(event, PlanLineAdded | PlanLineChanged | PlanLineSkipped):
                self.plan_lines[event.line.line_id] = event.line
                lines[event.line.line_id] = event.line
            elif isinstance(event, PlanStateChanged):
                self.plan_status = plan_status = event.status
            elif isinstance(event, AlertRaised):
                self.alerts.append(event)
                alerts.append(event)
                status = self._status_from_alert(status, event)
            elif isinstance(event, ConnectionStateChanged):
                status = replace(status, broker_connected=event.connected, broker_reason=event.reason)
                reconnected = reconnected or event.connected
            elif isinstance(event, SignalsReceived):
                n = sum(len(getattr(b, "lines", ())) for b in event.batches)
                status = replace(
                    status,
                    signals=tr("{time} 取得 {batches} 批 {lines} 条").format(
                        time=f"{event.ts:%H:%M}", batches=len(event.batches), lines=n
                    ),
                    signals_ok=True,
                )
            elif isinstance(event, ExecutionUpdated):
                p = event.progress
                self.line_fills[p.line_id] = LineFill(p.sent_qty, p.filled_qty, p.working)
                line = self.plan_lines.get(p.line_id)
                if line is not None:
                    lines[p.line_id] = line
        if orders:
            self._bound_orders()
            for line_id in {o.signal_id for o in orders.values() if o.signal_id in self.plan_lines}:
                self._refill_line(line_id)
                lines[line_id] = self.plan_lines[line_id]
            self.orders_changed.emit(list(orders.values()))
        if trades:
            self.trades_added.emit(trades)
        if lines:
            self.plan_lines_changed.emit(list(lines.values()))
        if plan_status is not None:
            self.plan_status_changed.emit(plan_status)
        if alerts:
            self.alerts_added.emit(alerts)
        if batch.account is not None:
            account = batch.account.account
            self.account = account
            self.positions = {p.code: p for p in batch.account.positions}
            status = replace(status, now=account.ts)
            self._add_equity(account)
            self.account_changed.emit(account)
            self.positions_changed.emit(list(batch.account.positions))
            self.equity_updated.emit(account.ts, account.total_asset)
        quotes_ts = getattr(batch, "quotes_ts", None)  # the newest quote, kept or dropped by the bridge
        if quotes_ts is not None and (status.quotes_ts is None or quotes_ts > status.quotes_ts):
            status = replace(status, quotes_ts=quotes_ts)
        if batch.quotes:
            unknown = batch.quotes.keys() - self.instruments.keys() - self._asked
            if unknown:
                self._asked |= unknown
                self.snapshot_wanted.emit()
            self.quotes.update(batch.quotes)
            newest = max(q.ts for q in batch.quotes.values())
            if status.quotes_ts is None or newest > status.quotes_ts:
                status = replace(status, quotes_ts=newest)
            self.quotes_updated.emit(list(batch.quotes.values()))
        if status != self.status:
            self.status = status
            self.status_changed.emit()
        if reconnected:
            self.reconnected.emit()

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _status_from_alert(status: Status, alert: AlertRaised) -> Status:
        if alert.category == "fetch" or alert.category == "signals":
            ok = alert.level == "info"
            message = core_text(alert.message)  # the English alone once translated
            words = message.split(" (", 1)[0] if ok else message
            return replace(status, signals=f"{alert.ts:%H:%M} {words}", signals_ok=ok)
        if alert.category == "risk" and "交易状态" in alert.message and "→" in alert.message:
            new = alert.message.split("→", 1)[1].strip().split(" ", 1)[0]
            return replace(status, trading_state=new)
        if alert.category == "storage" and alert.level == "critical":
            return replace(status, halted=alert.message)
        return status

    def _refill_line(self, line_id: str) -> None:
        line = self.plan_lines.get(line_id)
        if line is None:
            return
        sent = filled = 0
        working = False
        for o in self.orders.values():
            if o.signal_id == line_id and o.strategy_id == line.strategy_id:
                sent += o.qty if o.status.is_working else o.filled_qty
                filled += o.filled_qty
                working = working or o.status.is_working
        self.line_fills[line_id] = LineFill(sent, filled, working)

    def _bound_orders(self) -> None:
        extra = len(self.orders) - MAX_ORDERS
        if extra <= 0:
            return
        for key in [k for k, o in self.orders.items() if not o.status.is_working][:extra]:
            del self.orders[key]

    def _add_equity(self, account: AccountSnapshot | None) -> None:
        if account is not None:
            self.equity.append((account.ts, account.total_asset))

    def working_orders(self) -> Iterable[OrderSnapshot]:
        return (o for o in self.orders.values() if o.status.is_working)
