"""The close of a day in SQLite (implements app.core.eod.service.EodStore) and the sync outbox.

`SqliteEodStore` works on the engine's own connection (the engine thread is the one writer of the
books); `save_day` writes the settlement, the day's cash and positions, its performance and the new
outbox entry in ONE transaction. `Outbox` is the delivery side of `sync_outbox`: its own connection
(WAL; the busy timeout serialises it with the engine), used by the delivery worker and by
`python -m app sync`. It only ever touches the bookkeeping columns of rows already written
(attempts, last_error, delivered_at), so it never competes with the books.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.core.eod.payload import payload_json
from app.core.eod.performance import DayEquity
from app.core.eod.reconcile import SettlementStatus
from app.core.eod.service import DayRecord, OutboxEntry
from app.core.eod.settlement import Settlement
from app.storage.database import Database, open_database
from app.storage.money import from_db, to_db
from app.storage.transactions import sqlite_transaction


class SqliteEodStore:
    def __init__(self, database: Database) -> None:
        self.database = database
        self.conn = database.conn

    def load_settlements(self) -> list[Settlement]:
        rows = self.conn.execute(
            "SELECT trading_day, status, differences, settled_at FROM settlements ORDER BY trading_day"
        ).fetchall()
        return [
            Settlement(
                date.fromisoformat(day),
                SettlementStatus(status),
                tuple(json.loads(diffs or "[]")),
                None if at is None else datetime.fromisoformat(at),
            )
            for day, status, diffs, at in rows
        ]

    def load_equity(self) -> list[DayEquity]:
        rows = self.conn.execute(
            "SELECT trading_day, total_asset, net_transfer FROM daily_cash "
            "WHERE total_asset IS NOT NULL ORDER BY trading_day"
        ).fetchall()
        return [
            DayEquity(date.fromisoformat(d), from_db(total) or Decimal(0), from_db(transfer) or Decimal(0))
            for d, total, transfer in rows
        ]

    def latest_outbox(self, day: date) -> OutboxEntry | None:
        row = self.conn.execute(
            "SELECT sync_id, revision, payload FROM sync_outbox WHERE trading_day = ? "
            "ORDER BY revision DESC LIMIT 1",
            (day.isoformat(),),
        ).fetchone()
        if row is None:
            return None
        return OutboxEntry(row[0], day, row[1], json.loads(row[2]))

    def save_day(self, record: DayRecord, now: datetime) -> None:
        s = record.settlement
        d = s.day.isoformat()
        conn = self.conn
        with sqlite_transaction(conn, path=self.database.path):
            conn.execute(
                "INSERT OR REPLACE INTO settlements (trading_day, status, differences, settled_at) "
                "VALUES (?, ?, ?, ?)",
                (d, s.status.value, json.dumps(list(s.differences), ensure_ascii=False), now.isoformat()),
            )
            if record.asset is not None:
                a = record.asset
                conn.execute(
                    "INSERT OR REPLACE INTO daily_cash (trading_day, balance, available, frozen, market_value, "
                    "total_asset, net_transfer) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (d, to_db(a.cash), to_db(a.available), to_db(a.frozen), to_db(a.market_value),
                     to_db(a.total_asset), to_db(record.net_transfer)),
                )  # fmt: skip
                conn.execute("DELETE FROM daily_positions WHERE trading_day = ?", (d,))
                conn.executemany(
                    "INSERT INTO daily_positions (trading_day, code, strategy_id, qty, sellable, today_qty, "
                    "avg_cost, last_price, market_value, realized_pnl, unrealized_pnl) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (d, p.code, p.strategy_id, p.qty, p.sellable, p.today_qty, to_db(p.avg_cost),
                         to_db(p.last_price), to_db(p.market_value), to_db(p.realized_pnl),
                         to_db(p.unrealized_pnl))
                        for p in record.positions
                    ],
                )  # fmt: skip
            if record.performance is not None:
                p = record.performance
                attribution = {
                    a.strategy_id: {
                        "orders": a.orders,
                        "trades": a.trades,
                        "bought": str(a.bought),
                        "sold": str(a.sold),
                        "fees": str(a.fees),
                        "pnl": str(a.pnl),
                    }
                    for a in record.attribution
                }
                conn.execute(
                    "INSERT OR REPLACE INTO daily_performance (trading_day, equity, pnl, daily_return, "
                    "cumulative_return, max_drawdown, sharpe, attribution, computed_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (d, to_db(p.equity), to_db(p.pnl), to_db(p.daily_return), to_db(p.cumulative_return),
                     to_db(p.max_drawdown), to_db(p.sharpe), json.dumps(attribution, ensure_ascii=False),
                     now.isoformat()),
                )  # fmt: skip
            if record.outbox is not None:
                o = record.outbox
                # a sync_id is written once: the same id again is the same payload, never replaced
                conn.execute(
                    "INSERT OR IGNORE INTO sync_outbox (sync_id, trading_day, revision, payload, created_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (o.sync_id, d, o.revision, payload_json(o.payload), now.isoformat()),
                )

    def resolve(self, day: date, now: datetime) -> bool:
        with sqlite_transaction(self.conn, path=self.database.path):
            cursor = self.conn.execute(
                "UPDATE settlements SET status = ?, settled_at = ? WHERE trading_day = ? AND status IN (?, ?)",
                (SettlementStatus.RESOLVED.value, now.isoformat(), day.isoformat(),
                 SettlementStatus.DIFFERENCES.value, SettlementStatus.FAILED.value),
            )  # fmt: skip
        return cursor.rowcount > 0

    def load_performance(self, day: date) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT equity, pnl, daily_return, cumulative_return, max_drawdown, sharpe, attribution "
            "FROM daily_performance WHERE trading_day = ?",
            (day.isoformat(),),
        ).fetchone()
        if row is None:
            return None
        keys = ("equity", "pnl", "daily_return", "cumulative_return", "max_drawdown", "sharpe")
        out: dict[str, Any] = {k: from_db(v) for k, v in zip(keys, row[:6], strict=True)}
        out["attribution"] = json.loads(row[6])
        return out


@dataclass(frozen=True, slots=True)
class PendingSync:
    sync_id: str
    trading_day: str
    revision: int
    body: bytes  # exactly the stored payload text, UTF-8: what goes on the wire
    attempts: int


class Outbox:
    """The delivery side of sync_outbox, on its own connection. One per process; not thread-safe:
    use it from one thread (the delivery worker)."""

    def __init__(self, path: Path, *, now: datetime | None = None) -> None:
        self.database = open_database(path, create=False, now=now)
        self.conn = self.database.conn

    def pending(self) -> list[PendingSync]:
        rows = self.conn.execute(
            "SELECT sync_id, trading_day, revision, payload, attempts FROM sync_outbox "
            "WHERE delivered_at IS NULL ORDER BY created_at, trading_day, revision"
        ).fetchall()
        return [PendingSync(r[0], r[1], r[2], r[3].encode("utf-8"), r[4]) for r in rows]

    def entry(self, sync_id: str) -> tuple[str, str | None, int, str | None] | None:
        """(payload, delivered_at, attempts, last_error) of one entry."""
        return self.conn.execute(
            "SELECT payload, delivered_at, attempts, last_error FROM sync_outbox WHERE sync_id = ?",
            (sync_id,),
        ).fetchone()

    def for_day(self, day: date) -> list[tuple[str, int, str, str | None]]:
        """(sync_id, revision, payload, delivered_at) of every revision of a day."""
        return self.conn.execute(
            "SELECT sync_id, revision, payload, delivered_at FROM sync_outbox WHERE trading_day = ? "
            "ORDER BY revision",
            (day.isoformat(),),
        ).fetchall()

    def record_attempt(self, sync_id: str, error: str | None) -> None:
        with sqlite_transaction(self.conn, path=self.database.path):
            self.conn.execute(
                "UPDATE sync_outbox SET attempts = attempts + 1, last_error = ? WHERE sync_id = ?",
                (error, sync_id),
            )

    def mark_delivered(self, sync_id: str, now: datetime) -> None:
        with sqlite_transaction(self.conn, path=self.database.path):
            self.conn.execute(
                "UPDATE sync_outbox SET attempts = attempts + 1, last_error = NULL, delivered_at = ? "
                "WHERE sync_id = ? AND delivered_at IS NULL",
                (now.isoformat(), sync_id),
            )

    def close(self) -> None:
        self.database.close()
