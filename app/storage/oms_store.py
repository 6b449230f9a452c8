"""The OMS's books in SQLite: orders, the append-only event journal, trades, positions, cash.

Implements `app.core.ports.OmsStore`. Writes are staged in memory and written by `commit` in
one transaction with executemany (group commit): a burst of thousands of order intents costs
one commit, and a crash leaves either all of a batch on disk or none of it.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
from collections.abc import Sequence
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring as _json_string  # C-accelerated
from typing import Any

from app.core.planning.ledger import StrategyPosition
from app.core.planning.model import AuditEntry, PlanLine, PlanStatus, StrategySettings
from app.domain.clock import CN_TZ
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.instruments import classify
from app.domain.orders import Order, OrderEvent, OrderFilled, OrderStatus, PriceType
from app.domain.positions import Position
from app.domain.reports import TradeReport
from app.domain.side import Side
from app.domain.signals import SignalBatch, SignalLine
from app.storage.checkpoint import THRESHOLD_BYTES, WRITER_BACKSTOP_PAGES, WalCheckpointer
from app.storage.database import Database
from app.storage.errors import StorageBugError
from app.storage.money import from_db, to_db
from app.storage.plan_rows import PlanRows
from app.storage.transactions import sqlite_transaction, translated_errors

log = logging.getLogger(__name__)
_BASE36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORDER_COLUMNS = (
    "client_order_id, broker_order_id, order_sysid, code, side, price_type, price, qty, filled_qty, "
    "filled_amount, fees, status, status_msg, strategy_id, signal_id, external, trading_day, created_at, "
    "updated_at, reserve_price"
)
_UPDATED_COLUMNS = (
    "broker_order_id",
    "order_sysid",
    "filled_qty",
    "filled_amount",
    "fees",
    "status",
    "status_msg",
    "updated_at",
)
# A new intent is an INSERT: an id handed out twice fails loudly (UNIQUE) instead of overwriting the
# first order's code, side and quantity. A known order is an UPDATE of the columns that can change.
_INSERT_ORDER = f"INSERT INTO orders ({_ORDER_COLUMNS}) VALUES ({', '.join('?' * 20)})"
_UPDATE_ORDER = (
    "UPDATE orders SET " + ", ".join(f"{c} = ?" for c in _UPDATED_COLUMNS) + " WHERE client_order_id = ?"
)
_SQLITE_INT_MAX = 2**63 - 1
_INSERT_EVENT = "INSERT INTO order_events (client_order_id, kind, ts, payload) VALUES (?, ?, ?, ?)"
# The OMS books a fill once per identity (trading day, broker order id, traded id; see schema.py), so
# a second row for one identity is a bug: a plain INSERT makes it fail loudly.
_INSERT_TRADE = (
    "INSERT INTO trades (traded_id, client_order_id, broker_order_id, code, side, price, qty, "
    "amount, fees, traded_at, trading_day, strategy_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_TRADE_COLUMNS = (
    "traded_id, client_order_id, broker_order_id, code, side, price, qty, amount, fees, traded_at"
)
# A batch is stored once (on fetch, or when taken in); taking it in later marks it "taken" and keeps
# what the fetch recorded; a re-fetch changes nothing.
_INSERT_SIGNAL_BATCH = (
    "INSERT INTO signal_batches (batch_id, strategy_id, trading_day, source, fetched_at, "
    "line_count, status) VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (batch_id) DO UPDATE SET status = 'taken' WHERE excluded.status = 'taken'"
)
_INSERT_SIGNAL_LINE = (
    "INSERT INTO signal_lines (strategy_id, trading_day, signal_id, batch_id, code, name, side, qty, "
    "ref_price, exec_window, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_POSITION = (
    "INSERT OR REPLACE INTO positions (code, strategy_id, total, settled, frozen, avg_cost, realized_pnl, "
    "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_OMITTED_FROM_PAYLOAD = {"client_order_id", "ts"}
_iso_cache: dict[tuple[object, object], str] = {}


def _iso(value: datetime | date) -> str:
    """isoformat(), remembered: the events of one engine batch mostly share a few timestamps."""
    key = (value, getattr(value, "tzinfo", None))  # equal instants in two zones print differently
    text = _iso_cache.get(key)
    if text is None:
        if len(_iso_cache) > 4096:
            _iso_cache.clear()
        text = _iso_cache[key] = value.isoformat()
    return text


def _fill_payload(e: OrderFilled) -> str:
    broker = "" if e.broker_order_id is None else f',"broker_order_id":{_json_string(e.broker_order_id)}'
    return f'{{"trade_id":{_json_string(e.trade_id)},"qty":{e.qty},"price":"{e.price}","fees":"{e.fees}"{broker}}}'


_payload_fields: dict[type, tuple[str, ...]] = {}


def _payload(event: OrderEvent) -> str:
    """The event's fields (less id and time) as a JSON object: built by hand, because json.dumps of a
    dict is most of the cost of journaling an event on the hot path. Strings go through the C
    string encoder, so any text (a broker's reason, say) is escaped exactly as json.dumps does."""
    if type(event) is OrderFilled:  # the commonest event, formatted directly
        return _fill_payload(event)
    names = _payload_fields.get(type(event))
    if names is None:
        names = tuple(f.name for f in fields(event) if f.name not in _OMITTED_FROM_PAYLOAD)
        _payload_fields[type(event)] = names
    parts = []
    for name in names:
        value = getattr(event, name)
        if value is None or value == "":
            continue
        text = str(value) if type(value) is not int else None
        parts.append(f'"{name}":{value}' if text is None else f'"{name}":{_json_string(text)}')
    return "{" + ",".join(parts) + "}"


class SqliteOmsStore(PlanRows):
    def __init__(self, database: Database) -> None:
        self.database = database
        self.conn = database.conn
        self._orders: dict[ClientOrderId, Order] = {}
        self._new_orders: set[ClientOrderId] = set()
        self._signal_batches: list[tuple[Any, ...]] = []
        self._signal_lines: list[tuple[Any, ...]] = []
        self._events: list[tuple[str, str, str, str]] = []
        self._trades: list[tuple[Any, ...]] = []
        self._positions: dict[tuple[str, str], Position] = {}
        self._cash: Decimal | None = None
        self._meta: dict[str, str] = {}
        self._alerts: list[tuple[str, str, str, str]] = []
        self._risk_audit: list[tuple[str, str, str, str | None, str | None]] = []
        self._live_audit: list[tuple[str, str, str, str]] = []
        self._plan_init()
        # WAL checkpoints move to a thread of their own once the WAL first grows (app/storage/checkpoint.py)
        self._checkpointer: WalCheckpointer | None = None
        self._commits = 0

    # ------------------------------------------------------------------ metadata
    def load_meta(self, key: str) -> str | None:
        if key in self._meta:
            return self._meta[key]
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def stage_meta(self, key: str, value: str) -> None:
        self._meta[key] = value

    def install_tag(self) -> str:
        tag = self.load_meta("install_tag")
        if tag is None:
            tag = "".join(secrets.choice(_BASE36) for _ in range(2))
            with sqlite_transaction(self.conn, path=self.database.path):
                self.conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('install_tag', ?)", (tag,))
            tag = self.load_meta("install_tag") or tag
        return tag

    def reserve_order_seqs(self, day: date, count: int) -> int:
        """Reserve `count` order sequence numbers of `day` in a transaction of their own, committed
        before any of them is used; returns the first. A number reserved and never used is lost, which
        is fine; one handed out twice (a reservation undone by a failed batch) can never happen."""
        if count <= 0:
            raise ValueError(f"count must be positive, was {count}")
        key = f"order_seq:{day.isoformat()}"
        with sqlite_transaction(self.conn, path=self.database.path):
            row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            first = 1 if row is None else int(row[0])
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(first + count))
            )
        return first

    # ------------------------------------------------------------------ loading
    def load_cash(self) -> Decimal | None:
        row = self.conn.execute("SELECT cash FROM account WHERE id = 1").fetchone()
        return None if row is None else from_db(row[0])

    def load_positions(self) -> list[Position]:
        rows = self.conn.execute(
            "SELECT code, strategy_id, total, settled, avg_cost, realized_pnl FROM positions"
        ).fetchall()
        positions = []
        for code, strategy_id, total, settled, avg_cost, realized in rows:
            try:
                t0 = classify(code).t_plus_zero
            except ValueError:
                t0 = False
            positions.append(
                Position(
                    code,
                    strategy_id,
                    total,
                    settled,
                    0,
                    from_db(avg_cost) or Decimal(0),
                    from_db(realized) or Decimal(0),
                    t0,
                )
            )
        return positions

    def load_orders(self, day: date) -> list[Order]:
        working = [s.value for s in OrderStatus if s.is_working or s is OrderStatus.INITIALIZED]
        marks = ", ".join("?" * len(working))
        rows = self.conn.execute(
            f"SELECT {_ORDER_COLUMNS} FROM orders WHERE trading_day = ? OR status IN ({marks})",
            (day.isoformat(), *working),
        ).fetchall()
        orders = [_order_from_row(row) for row in rows]
        by_id = {o.client_order_id: o for o in orders}
        for traded_id, client_order_id in self.conn.execute(
            "SELECT traded_id, client_order_id FROM trades WHERE client_order_id IS NOT NULL"
        ):
            order = by_id.get(client_order_id)
            if order is not None:
                order.trade_ids.add(TradeId(traded_id))
        return orders

    def load_trades(self, day: date) -> list[TradeReport]:
        rows = self.conn.execute(
            f"SELECT {_TRADE_COLUMNS} FROM trades WHERE trading_day = ? ORDER BY rowid", (day.isoformat(),)
        )
        return [
            TradeReport(
                TradeId(traded_id),
                BrokerOrderId(broker_order_id),
                ClientOrderId(cid) if cid else None,
                code,
                Side(side),
                qty,
                from_db(price) or Decimal(0),
                from_db(amount) or Decimal(0),
                from_db(fees) or Decimal(0),
                datetime.fromisoformat(traded_at),
            )
            for traded_id, cid, broker_order_id, code, side, price, qty, amount, fees, traded_at in rows
        ]

    def load_signal_ids(self, strategy_id: str, day: date) -> set[str]:
        rows = self.conn.execute(
            "SELECT signal_id FROM signal_lines WHERE strategy_id = ? AND trading_day = ?",
            (strategy_id, day.isoformat()),
        )
        return {r[0] for r in rows}

    def load_signal_batch_ids(self, day: date) -> set[str]:
        rows = self.conn.execute(
            "SELECT batch_id FROM signal_batches WHERE trading_day = ?", (day.isoformat(),)
        )
        return {r[0] for r in rows}

    # ------------------------------------------------------------------ staging
    def stage_signal_batch(self, batch: SignalBatch, source: str, fetched_at: datetime) -> None:
        self._signal_batches.append(
            (batch.batch_id, batch.strategy_id, _iso(batch.trading_day), source, _iso(fetched_at),
             len(batch.lines), "fetched")
        )  # fmt: skip

    def stage_new_order(self, order: Order) -> None:
        self._orders[order.client_order_id] = order
        self._new_orders.add(order.client_order_id)

    def stage_order(self, order: Order) -> None:
        self._orders[order.client_order_id] = order

    def stage_signal_lines(self, batch: SignalBatch, lines: Sequence[SignalLine], taken_at: datetime) -> None:
        day = _iso(batch.trading_day)
        self._signal_batches.append(
            (batch.batch_id, batch.strategy_id, day, "", _iso(taken_at), len(batch.lines), "taken")
        )
        for line in lines:
            self._signal_lines.append(
                (
                    batch.strategy_id,
                    day,
                    line.signal_id,
                    batch.batch_id,
                    line.code,
                    line.name,
                    line.side.value,
                    line.qty if type(line.qty) is int and 0 <= line.qty <= _SQLITE_INT_MAX else None,
                    None
                    if line.ref_price is None or not line.ref_price.is_finite()
                    else format(line.ref_price, "f"),
                    line.exec_time.isoformat(),
                    "taken",
                )
            )

    def stage_event(self, event: OrderEvent) -> None:
        self._events.append((event.client_order_id, type(event).__name__, _iso(event.ts), _payload(event)))

    def stage_trade(
        self, report: TradeReport, client_order_id: ClientOrderId, strategy_id: str, day: date
    ) -> None:
        self._trades.append(
            (
                report.trade_id,
                client_order_id,
                report.broker_order_id,
                report.code,
                report.side.value,
                to_db(report.price),
                report.qty,
                to_db(report.amount),
                to_db(report.fees),
                _iso(report.ts),
                _iso(day),
                strategy_id,
            )
        )

    def stage_position(self, position: Position) -> None:
        self._positions[(position.code, position.strategy_id)] = position

    def stage_cash(self, cash: Decimal) -> None:
        self._cash = cash

    def stage_alert(self, ts: datetime, level: str, category: str, message: str) -> None:
        self._alerts.append((ts.isoformat(), level, category, message))

    def load_alerts(self, start: datetime, end: datetime, limit: int) -> list[tuple[datetime, str, str, str]]:
        """Read by time as the engine writes it (the clock's zone); the index on ts serves the range."""
        if limit <= 0:
            return []
        lo, hi = start.astimezone(CN_TZ).isoformat(), end.astimezone(CN_TZ).isoformat()
        with translated_errors(path=self.database.path):
            rows = self.conn.execute(
                "SELECT ts, level, category, message FROM alerts WHERE ts >= ? AND ts < ?"
                " ORDER BY ts DESC, id DESC LIMIT ?",
                (lo, hi, limit),
            ).fetchall()
        return [(datetime.fromisoformat(r[0]), r[1], r[2] or "", r[3]) for r in rows]

    def stage_risk_audit(self, ts: datetime, who: str, key: str, old: str | None, new: str | None) -> None:
        self._risk_audit.append((ts.isoformat(), who, key, old, new))

    def load_last_fetches(self) -> dict[str, datetime]:
        with translated_errors(path=self.database.path):
            rows = self.conn.execute(
                "SELECT strategy_id, MAX(fetched_at) FROM signal_batches "
                "WHERE source != '' AND fetched_at IS NOT NULL GROUP BY strategy_id"
            ).fetchall()
        return {r[0]: datetime.fromisoformat(r[1]) for r in rows}

    def load_risk_audit(self) -> list[tuple[datetime, str, str, str | None, str | None]]:
        with translated_errors(path=self.database.path):
            rows = self.conn.execute(
                "SELECT ts, who, key, old_value, new_value FROM risk_audit ORDER BY id"
            ).fetchall()
        return [(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    def stage_live_audit(self, ts: datetime, who: str, action: str, detail: str) -> None:
        self._live_audit.append((ts.isoformat(), who, action, detail))

    def load_live_audit(self) -> list[tuple[datetime, str, str, str]]:
        with translated_errors(path=self.database.path):
            rows = self.conn.execute("SELECT ts, who, action, detail FROM live_audit ORDER BY id").fetchall()
        return [(datetime.fromisoformat(r[0]), r[1], r[2], r[3]) for r in rows]

    def discard(self) -> None:
        self._orders.clear()
        self._new_orders.clear()
        self._signal_batches.clear()
        self._signal_lines.clear()
        self._events.clear()
        self._trades.clear()
        self._positions.clear()
        self._cash = None
        self._meta.clear()
        self._alerts.clear()
        self._risk_audit.clear()
        self._live_audit.clear()
        self._plan_discard()

    def commit(self) -> None:
        if not (
            self._orders
            or self._events
            or self._trades
            or self._positions
            or self._meta
            or self._alerts
            or self._risk_audit
            or self._live_audit
            or self._signal_lines
            or self._signal_batches
            or self._plan_staged()
        ) and (self._cash is None):
            return
        conn = self.conn
        with sqlite_transaction(conn, path=self.database.path):
            if self._signal_batches:
                conn.executemany(_INSERT_SIGNAL_BATCH, self._signal_batches)
            if self._signal_lines:
                conn.executemany(_INSERT_SIGNAL_LINE, self._signal_lines)
            if self._orders:
                new = self._new_orders
                if new:
                    conn.executemany(_INSERT_ORDER, [_order_row(self._orders[c]) for c in new])
                known = [_update_row(o) for c, o in self._orders.items() if c not in new]
                if known:
                    updated = conn.executemany(_UPDATE_ORDER, known).rowcount
                    if updated != len(known):
                        raise StorageBugError(
                            f"{len(known) - updated} 笔委托更新时不在数据库中 (orders updated but not on disk): "
                            f"{[r[-1] for r in known][:5]}",
                            path=self.database.path,
                        )
            if self._events:
                conn.executemany(_INSERT_EVENT, self._events)
            if self._trades:
                conn.executemany(_INSERT_TRADE, self._trades)
            if self._positions:
                conn.executemany(_UPSERT_POSITION, [_position_row(p) for p in self._positions.values()])
            if self._cash is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO account (id, cash, frozen, updated_at) VALUES (1, ?, '0', NULL)",
                    (to_db(self._cash),),
                )
            if self._meta:
                conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", self._meta.items())
            if self._alerts:
                conn.executemany(
                    "INSERT INTO alerts (ts, level, category, message) VALUES (?, ?, ?, ?)", self._alerts
                )
            if self._risk_audit:
                conn.executemany(
                    "INSERT INTO risk_audit (ts, who, key, old_value, new_value) VALUES (?, ?, ?, ?, ?)",
                    self._risk_audit,
                )
            if self._live_audit:
                conn.executemany(
                    "INSERT INTO live_audit (ts, who, action, detail) VALUES (?, ?, ?, ?)", self._live_audit
                )
            if self._plan_staged():
                self._plan_commit_sql(conn)
        self.discard()
        self._commits += 1
        if self._checkpointer is None and self._commits % 32 == 0:
            self._start_checkpointer()

    def _start_checkpointer(self) -> None:
        """Once the WAL has grown past the checkpointer's threshold, checkpoints leave the commits."""
        database = self.database
        if database.read_only:
            return
        try:
            if os.stat(database.path.with_name(database.path.name + "-wal")).st_size < THRESHOLD_BYTES:
                return
            self._checkpointer = WalCheckpointer(database.path)
        except (OSError, sqlite3.Error):
            log.warning("no checkpoint thread for %s; SQLite checkpoints in the commits", database.path)
            self._commits = -(10**9)  # do not try again
            return
        with translated_errors(path=database.path):
            self.conn.execute(f"PRAGMA wal_autocheckpoint = {WRITER_BACKSTOP_PAGES}")

    # ------------------------------------------------------------------ the plan (schema v5)
    def load_strategies(self) -> list[StrategySettings]:
        with translated_errors(path=self.database.path):
            return self._sql_load_strategies(self.conn)

    def load_strategy_positions(self) -> list[StrategyPosition]:
        with translated_errors(path=self.database.path):
            return self._sql_load_strategy_positions(self.conn)

    def load_plan(self, day: date) -> tuple[PlanStatus | None, list[PlanLine]]:
        with translated_errors(path=self.database.path):
            return self._sql_load_plan(self.conn, day)

    def load_plan_audit(self, day: date) -> list[AuditEntry]:
        with translated_errors(path=self.database.path):
            return self._sql_load_plan_audit(self.conn, day)

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None
        with translated_errors(path=self.database.path):
            self.database.close()


def _update_row(o: Order) -> tuple[Any, ...]:
    return (
        o.broker_order_id,
        o.order_sysid,
        o.filled_qty,
        format(o.filled_amount, "f"),
        format(o.fees, "f"),
        o.status.value,
        o.status_msg,
        None if o.updated_at is None else _iso(o.updated_at),
        o.client_order_id,
    )


def _order_row(o: Order) -> tuple[Any, ...]:
    # A denied intent may carry what could not be a real order (2**63 shares): what SQLite cannot hold
    # is stored as unknown (quantity 0, no price); its reason, stored with it, names the value.
    return (
        o.client_order_id,
        o.broker_order_id,
        o.order_sysid,
        o.code,
        o.side.value,
        o.price_type.value,
        None if o.price is None or not o.price.is_finite() else format(o.price, "f"),
        o.qty if 0 <= o.qty <= _SQLITE_INT_MAX else 0,
        o.filled_qty,
        format(o.filled_amount, "f"),
        format(o.fees, "f"),
        o.status.value,
        o.status_msg,
        o.strategy_id,
        o.signal_id,
        int(o.external),
        _iso(o.trading_day),
        _iso(o.created_at),
        None if o.updated_at is None else _iso(o.updated_at),
        None if o.reserve_price is None else format(o.reserve_price, "f"),
    )


def _order_from_row(row: tuple[Any, ...]) -> Order:
    (
        cid,
        bid,
        sysid,
        code,
        side,
        price_type,
        price,
        qty,
        filled_qty,
        filled_amount,
        fees,
        status,
        msg,
        strategy_id,
        signal_id,
        external,
        day,
        created,
        updated,
        reserve,
    ) = row
    return Order(
        client_order_id=ClientOrderId(cid),
        code=code,
        side=Side(side),
        qty=qty,
        price=from_db(price),
        price_type=PriceType(price_type),
        created_at=datetime.fromisoformat(created),
        trading_day=date.fromisoformat(day),
        strategy_id=strategy_id or "",
        signal_id=signal_id or "",
        external=bool(external),
        status=OrderStatus(status),
        broker_order_id=BrokerOrderId(bid) if bid else None,
        order_sysid=sysid or "",
        filled_qty=filled_qty,
        filled_amount=from_db(filled_amount) or Decimal(0),
        fees=from_db(fees) or Decimal(0),
        status_msg=msg or "",
        updated_at=datetime.fromisoformat(updated) if updated else None,
        reserve_price=from_db(reserve),
    )


def _position_row(p: Position) -> tuple[Any, ...]:
    return (
        p.code,
        p.strategy_id,
        p.total,
        p.settled,
        p.frozen,
        format(p.avg_cost, "f"),
        format(p.realized_pnl, "f"),
        None,
    )
