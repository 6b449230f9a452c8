"""The OMS's books kept in memory only: an `OmsStore` (app.core.ports) without any I/O.

For benchmarks and tests of the path without durability. Same contract as `SqliteOmsStore`:
`stage_*` collects writes and `commit` makes them visible to `load_*` in one step, so an
OrderManager built on the same store later (a "restart" inside one process) finds exactly
what was committed. Nothing survives the process: never use it for real trading.

Committed orders and positions are snapshots taken at commit time (their field values as a tuple,
cheap to take), because the OMS keeps changing its own objects after staging them: a staged but
uncommitted change must stay invisible. `load_*` rebuilds fresh objects from the snapshots.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from app.domain.identifiers import ClientOrderId, TradeId
from app.domain.orders import Order, OrderEvent, OrderStatus
from app.domain.positions import Position
from app.domain.reports import TradeReport
from app.domain.signals import SignalBatch, SignalLine
from app.storage.plan_rows import MemoryPlanRows

_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOADED_STATUSES = frozenset(s for s in OrderStatus if s.is_working or s is OrderStatus.INITIALIZED)


# Every init field, in declaration order, so that Order(*values) / Position(*values) rebuild them.
_ORDER_FIELDS = tuple(f.name for f in fields(Order) if f.init)
_POSITION_FIELDS = tuple(f.name for f in fields(Position) if f.init)
_order_values = attrgetter(*_ORDER_FIELDS)
_position_values = attrgetter(*_POSITION_FIELDS)
_TRADE_IDS = _ORDER_FIELDS.index("trade_ids")
_TRADING_DAY = _ORDER_FIELDS.index("trading_day")
_STATUS = _ORDER_FIELDS.index("status")


def _order_snapshot(order: Order) -> tuple[Any, ...]:
    values = _order_values(order)
    # trade_ids is the only mutable value inside an Order: freeze a copy of it
    return (*values[:_TRADE_IDS], frozenset(values[_TRADE_IDS]), *values[_TRADE_IDS + 1 :])


def _order_from(values: tuple[Any, ...]) -> Order:
    order = Order(*values)
    order.trade_ids = set(values[_TRADE_IDS])
    return order


class MemoryOmsStore(MemoryPlanRows):
    def __init__(self, install_tag: str | None = None) -> None:
        if install_tag is None:
            install_tag = "".join(secrets.choice(_BASE36) for _ in range(2))
        if (
            not isinstance(install_tag, str)
            or len(install_tag) != 2
            or any(c not in _BASE36 for c in install_tag)
        ):
            raise ValueError(f"install_tag must be two base-36 characters (0-9, A-Z), was {install_tag!r}")
        # committed
        self._meta: dict[str, str] = {"install_tag": install_tag}
        self._orders: dict[ClientOrderId, tuple[Any, ...]] = {}
        self._events: list[OrderEvent] = []
        # keyed by a fill's identity: (trading day, broker order id, traded id), see schema.py
        self._trades: dict[tuple[date, str, TradeId], tuple[TradeReport, ClientOrderId, str, date]] = {}
        self._signal_ids: set[tuple[str, date, str]] = set()
        self._batch_ids: set[tuple[date, str]] = set()
        self._fetches: dict[str, datetime] = {}
        self._s_fetches: list[tuple[str, datetime]] = []
        self._positions: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._cash: Decimal | None = None
        self._alerts: list[tuple[datetime, str, str, str]] = []
        self._risk_audit: list[tuple[datetime, str, str, str | None, str | None]] = []
        self._live_audit: list[tuple[datetime, str, str, str]] = []
        # staged
        self._s_meta: dict[str, str] = {}
        self._s_orders: dict[ClientOrderId, Order] = {}
        self._s_new: set[ClientOrderId] = set()
        self._s_signal_ids: list[tuple[str, date, str]] = []
        self._s_batch_ids: list[tuple[date, str]] = []
        self._s_events: list[OrderEvent] = []
        self._s_trades: list[tuple[TradeReport, ClientOrderId, str, date]] = []
        self._s_positions: dict[tuple[str, str], Position] = {}
        self._s_cash: Decimal | None = None
        self._s_alerts: list[tuple[datetime, str, str, str]] = []
        self._s_risk_audit: list[tuple[datetime, str, str, str | None, str | None]] = []
        self._s_live_audit: list[tuple[datetime, str, str, str]] = []
        self._closed = False
        self._plan_memory_init()

    # ------------------------------------------------------------------ metadata
    def install_tag(self) -> str:
        return self._meta["install_tag"]

    def load_meta(self, key: str) -> str | None:
        # like SqliteOmsStore: the engine thread sees its own staged metadata
        if key in self._s_meta:
            return self._s_meta[key]
        return self._meta.get(key)

    def stage_meta(self, key: str, value: str) -> None:
        self._s_meta[key] = value

    def reserve_order_seqs(self, day: date, count: int) -> int:
        """Like SqliteOmsStore: reserved at once (committed), never undone by a discarded batch."""
        if count <= 0:
            raise ValueError(f"count must be positive, was {count}")
        if self._closed:
            raise ValueError("the in-memory OMS store is closed, was asked to reserve order ids")
        key = f"order_seq:{day.isoformat()}"
        value = self._meta.get(key)
        first = 1 if value is None else int(value)
        self._meta[key] = str(first + count)
        return first

    # ------------------------------------------------------------------ loading (committed state)
    def load_cash(self) -> Decimal | None:
        return self._cash

    def load_positions(self) -> list[Position]:
        return [Position(*values) for values in self._positions.values()]

    def load_orders(self, day: date) -> list[Order]:
        return [
            _order_from(values)
            for values in self._orders.values()
            if values[_TRADING_DAY] == day or values[_STATUS] in _LOADED_STATUSES
        ]

    def load_trades(self, day: date) -> list[TradeReport]:
        return [report for report, _, _, d in self._trades.values() if d == day]

    def load_signal_ids(self, strategy_id: str, day: date) -> set[str]:
        return {s for st, d, s in self._signal_ids if st == strategy_id and d == day}

    def events(self) -> list[OrderEvent]:
        """The committed order-event journal, oldest first."""
        return list(self._events)

    def alerts(self) -> list[tuple[datetime, str, str, str]]:
        """Committed alerts as (ts, level, category, message), oldest first."""
        return list(self._alerts)

    def load_alerts(self, start: datetime, end: datetime, limit: int) -> list[tuple[datetime, str, str, str]]:
        return [a for a in reversed(self._alerts) if start <= a[0] < end][: max(0, limit)]

    # ------------------------------------------------------------------ staging
    def stage_new_order(self, order: Order) -> None:
        self._s_orders[order.client_order_id] = order
        self._s_new.add(order.client_order_id)

    def stage_order(self, order: Order) -> None:
        self._s_orders[order.client_order_id] = order

    def load_signal_batch_ids(self, day: date) -> set[str]:
        return {batch_id for batch_day, batch_id in self._batch_ids if batch_day == day}

    def stage_signal_batch(self, batch: SignalBatch, source: str, fetched_at: datetime) -> None:
        self._s_batch_ids.append((batch.trading_day, batch.batch_id))
        self._s_fetches.append((batch.strategy_id, fetched_at))

    def load_last_fetches(self) -> dict[str, datetime]:
        return dict(self._fetches)

    def stage_signal_lines(self, batch: SignalBatch, lines: Sequence[SignalLine], taken_at: datetime) -> None:
        self._s_batch_ids.append((batch.trading_day, batch.batch_id))
        self._s_signal_ids.extend((batch.strategy_id, batch.trading_day, line.signal_id) for line in lines)

    def stage_event(self, event: OrderEvent) -> None:
        self._s_events.append(event)

    def stage_trade(
        self, report: TradeReport, client_order_id: ClientOrderId, strategy_id: str, day: date
    ) -> None:
        self._s_trades.append((report, client_order_id, strategy_id, day))

    def stage_position(self, position: Position) -> None:
        self._s_positions[(position.code, position.strategy_id)] = position

    def stage_cash(self, cash: Decimal) -> None:
        self._s_cash = cash

    def stage_alert(self, ts: datetime, level: str, category: str, message: str) -> None:
        self._s_alerts.append((ts, level, category, message))

    def stage_risk_audit(self, ts: datetime, who: str, key: str, old: str | None, new: str | None) -> None:
        self._s_risk_audit.append((ts, who, key, old, new))

    def load_risk_audit(self) -> list[tuple[datetime, str, str, str | None, str | None]]:
        return list(self._risk_audit)

    def stage_live_audit(self, ts: datetime, who: str, action: str, detail: str) -> None:
        self._s_live_audit.append((ts, who, action, detail))

    def load_live_audit(self) -> list[tuple[datetime, str, str, str]]:
        return list(self._live_audit)

    def discard(self) -> None:
        # only what holds something is cleared (a batch stages a few of these thirteen)
        for staged in (
            self._s_meta, self._s_orders, self._s_new, self._s_signal_ids, self._s_batch_ids,
            self._s_fetches, self._s_events, self._s_trades, self._s_positions, self._s_alerts,
            self._s_risk_audit, self._s_live_audit,
        ):  # fmt: skip
            if staged:
                staged.clear()
        self._s_cash = None
        if self._plan_staged():
            self._plan_discard()

    def commit(self) -> None:
        if self._closed:
            raise ValueError("the in-memory OMS store is closed, was asked to commit")
        self._check_unique()  # like SQLite's INSERTs: all or nothing, a duplicate fails loudly
        if self._s_signal_ids:
            self._signal_ids.update(self._s_signal_ids)
        if self._s_batch_ids:
            self._batch_ids.update(self._s_batch_ids)
        if self._s_fetches:
            for strategy_id, fetched_at in self._s_fetches:
                if strategy_id not in self._fetches or self._fetches[strategy_id] < fetched_at:
                    self._fetches[strategy_id] = fetched_at
        if self._s_orders:
            orders = self._orders
            for cid, order in self._s_orders.items():
                orders[cid] = _order_snapshot(order)
        if self._s_events:
            self._events.extend(self._s_events)
        if self._s_trades:
            trades = self._trades
            for entry in self._s_trades:
                trades[_trade_key(entry)] = entry
        if self._s_positions:
            positions = self._positions
            for key, position in self._s_positions.items():
                positions[key] = _position_values(position)
        if self._s_cash is not None:
            self._cash = self._s_cash
        if self._s_meta:
            self._meta.update(self._s_meta)
        if self._s_alerts:
            self._alerts.extend(self._s_alerts)
        if self._s_risk_audit:
            self._risk_audit.extend(self._s_risk_audit)
        if self._s_live_audit:
            self._live_audit.extend(self._s_live_audit)
        if self._plan_staged():
            self._plan_commit_memory()
        self.discard()

    def _check_unique(self) -> None:
        orders = self._orders
        new = self._s_new
        for cid in new:
            if cid in orders:
                raise ValueError(f"order {cid} is already stored: a new intent must not reuse its id")
        for cid in self._s_orders:
            if cid not in new and cid not in orders:
                raise ValueError(f"order {cid} updated but never stored")
        if self._s_trades:
            keys = [_trade_key(entry) for entry in self._s_trades]
            if len(set(keys)) != len(keys) or any(k in self._trades for k in keys):
                raise ValueError(
                    "a fill with the same identity (day, broker order id, traded id) is stored already"
                )
        signals = self._s_signal_ids
        if signals and (len(set(signals)) != len(signals) or any(k in self._signal_ids for k in signals)):
            raise ValueError("a planned order line is already taken in")

    def close(self) -> None:
        self._closed = True


def _trade_key(entry: tuple[TradeReport, ClientOrderId, str, date]) -> tuple[date, str, TradeId]:
    report, _, _, day = entry
    return (day, report.broker_order_id, report.trade_id)
