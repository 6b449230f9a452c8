"""The simulated counter's own SQLite file: its books survive a restart of Tiller, as a broker's do.

One writer (the broker thread) commits each inbox batch in one transaction; queries read the
committed state through a second connection (WAL lets them run beside the writer). Money is TEXT.
`MemoryBooks` keeps the same books in memory only (path MEMORY, `open_store`), without SQLite.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import TypeVar

from app.domain.market import InstrumentInfo, InstrumentStatus
from app.domain.orders import OrderStatus
from app.domain.reports import BrokerAsset, BrokerPosition, OrderReport, TradeReport
from app.gateways.sim.state import (
    ORDER_COLUMNS,
    POSITION_COLUMNS,
    TRADE_COLUMNS,
    ZERO,
    SimOrder,
    SimPosition,
    dec,
    text,
    trade_report,
)

T = TypeVar("T")
# open_store(MEMORY): the books in memory only (MemoryBooks), no file and no SQLite at all (the
# benchmark's "no persistence" set-up, as vn.py's paper account without saving).
MEMORY = ":memory:"
SCHEMA_VERSION = 1
# PRAGMA application_id of a simulated broker file: "TSIM" in ASCII (Tiller's own file is "TILL").
# Files made before it was set carry 0 and are accepted.
APPLICATION_ID = 0x5453494D
CREATING_SUFFIX = ".creating"
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE orders (
    broker_order_id INTEGER PRIMARY KEY, client_order_id TEXT, code TEXT NOT NULL, side TEXT NOT NULL,
    qty INTEGER NOT NULL, price TEXT, price_type TEXT NOT NULL, status TEXT NOT NULL,
    filled_qty INTEGER NOT NULL, filled_amount TEXT NOT NULL, fees TEXT NOT NULL, frozen_cash TEXT NOT NULL,
    frozen_shares INTEGER NOT NULL, status_msg TEXT NOT NULL, order_sysid TEXT NOT NULL,
    strategy_id TEXT NOT NULL, trading_day TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    work_price TEXT, freeze_price TEXT, session TEXT NOT NULL, held INTEGER NOT NULL
);
CREATE TABLE trades (
    trade_id INTEGER PRIMARY KEY, broker_order_id INTEGER NOT NULL, client_order_id TEXT,
    code TEXT NOT NULL, side TEXT NOT NULL, qty INTEGER NOT NULL, price TEXT NOT NULL, amount TEXT NOT NULL,
    fees TEXT NOT NULL, ts TEXT NOT NULL, trading_day TEXT NOT NULL, order_sysid TEXT NOT NULL
);
CREATE TABLE positions (
    code TEXT PRIMARY KEY, total INTEGER NOT NULL, settled INTEGER NOT NULL, frozen INTEGER NOT NULL,
    avg_price TEXT NOT NULL
);
CREATE TABLE instruments (
    code TEXT PRIMARY KEY, name TEXT NOT NULL, trading_day TEXT NOT NULL, prev_close TEXT NOT NULL,
    up_limit TEXT, down_limit TEXT, tick TEXT NOT NULL, status TEXT NOT NULL, st INTEGER NOT NULL,
    listing_day INTEGER
);
CREATE TABLE marks (
    code TEXT PRIMARY KEY, last TEXT, volume INTEGER NOT NULL, opened INTEGER NOT NULL,
    closed INTEGER NOT NULL, call_base INTEGER
);
"""
MARK_COLUMNS = ("code", "last", "volume", "opened", "closed", "call_base")
INSTRUMENT_COLUMNS = (
    "code", "name", "trading_day", "prev_close", "up_limit", "down_limit", "tick", "status", "st", "listing_day",
)  # fmt: skip
_WORKING = tuple(s.value for s in OrderStatus if s.is_working)
_IN_WORKING = f"({', '.join('?' * len(_WORKING))})"


def _upsert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT OR REPLACE INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


_UPSERT_ORDER = _upsert("orders", ORDER_COLUMNS)
_INSERT_TRADE = (
    f"INSERT INTO trades ({', '.join(TRADE_COLUMNS)}) VALUES ({', '.join('?' * len(TRADE_COLUMNS))})"
)
_UPSERT_POSITION = _upsert("positions", POSITION_COLUMNS)
_UPSERT_MARK = _upsert("marks", MARK_COLUMNS)
_UPSERT_INSTRUMENT = _upsert("instruments", INSTRUMENT_COLUMNS)
_UPSERT_META = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"


def instrument_row(info: InstrumentInfo) -> tuple:
    return (
        info.code, info.name, info.trading_day.isoformat(), str(info.prev_close), text(info.up_limit),
        text(info.down_limit), str(info.tick), info.status.value, int(info.st), info.listing_day,
    )  # fmt: skip


def instrument_from_row(row: tuple) -> InstrumentInfo:
    code, name, day, prev_close, up, down, tick, status, st, listing_day = row
    return InstrumentInfo(
        code, name, date.fromisoformat(day), Decimal(prev_close), dec(up), dec(down), Decimal(tick),
        InstrumentStatus(status), bool(st), listing_day,
    )  # fmt: skip


@dataclass(slots=True)
class Batch:
    """Everything one inbox batch changed, written in one transaction."""

    orders: dict[int, SimOrder] = field(default_factory=dict)
    trades: list[tuple] = field(default_factory=list)
    positions: dict[str, SimPosition] = field(default_factory=dict)
    deleted_positions: set[str] = field(default_factory=set)
    marks: dict[str, tuple] = field(default_factory=dict)
    instruments: list[tuple] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(
            self.orders or self.trades or self.positions or self.deleted_positions or self.marks
            or self.instruments or self.meta
        )  # fmt: skip


@dataclass(slots=True)
class Loaded:
    meta: dict[str, str]
    positions: list[SimPosition]
    orders: list[SimOrder]  # of the current trading day
    working: list[SimOrder]  # of the current or, before its begin_day, the previous day
    marks: list[tuple]
    instruments: list[InstrumentInfo]


class SimStoreError(ValueError):
    """The simulated broker's file cannot be used as it is; it was left unchanged."""


class SimStore:
    """The counter's books on disk. A new file is made whole (under a temporary name, then moved
    into place), so an empty or half-made file at `path` is never Tiller's own doing. An existing
    file is integrity-checked by the composition root before it gets here (bootstrap, with the
    same check as Tiller's database); this class still refuses one that is not a counter's file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if str(path) == MEMORY:
            raise ValueError("SimStore keeps a file; the books in memory are MemoryBooks (open_store)")
        if not self.path.exists():
            _create_whole(self.path)
        self._writer = self._connect()
        try:
            self._reader = self._connect()
            version = self._writer.execute("PRAGMA user_version").fetchone()[0]
            application_id = self._writer.execute("PRAGMA application_id").fetchone()[0]
        except BaseException:
            self._writer.close()
            raise
        self._read_lock = threading.Lock()
        problem = ""
        if version != SCHEMA_VERSION:
            problem = f"has schema version {version}, expected {SCHEMA_VERSION}"
        elif application_id not in (0, APPLICATION_ID):
            problem = f"has application_id {application_id:#x}, not a simulated broker file's"
        if problem:
            self.close()
            raise SimStoreError(f"simulated broker file {self.path} {problem}; it was left unchanged")

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            # A damaged or foreign file fails here, on the first read, before anything is written.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                _configure(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def close(self) -> None:
        self._writer.close()
        with self._read_lock:
            self._reader.close()

    # ------------------------------------------------------------------ writer (broker thread)
    def is_new(self) -> bool:
        return self._writer.execute("SELECT COUNT(*) FROM meta").fetchone()[0] == 0

    def load(self) -> Loaded:
        db = self._writer
        meta = dict(db.execute("SELECT key, value FROM meta"))
        day = meta.get("trading_day", "")
        first = int(meta.get("day_first_order_id", "0"))
        cols = ", ".join(ORDER_COLUMNS)
        # Orders before the current day's first are all final: begin_day expires what still works.
        recent = [
            SimOrder.from_row(r)
            for r in db.execute(
                f"SELECT {cols} FROM orders WHERE broker_order_id >= ? ORDER BY broker_order_id", (first,)
            )
        ]
        orders = [o for o in recent if o.day.isoformat() == day]
        working = [o for o in recent if o.status.is_working]
        return Loaded(
            meta,
            [
                SimPosition.from_row(r)
                for r in db.execute(f"SELECT {', '.join(POSITION_COLUMNS)} FROM positions")
            ],
            orders,
            working,
            list(db.execute(f"SELECT {', '.join(MARK_COLUMNS)} FROM marks")),
            [
                instrument_from_row(r)
                for r in db.execute(f"SELECT {', '.join(INSTRUMENT_COLUMNS)} FROM instruments")
            ],
        )

    def write(self, batch: Batch) -> None:
        """Commit one batch atomically; on any error nothing of it is written and the error propagates."""
        self._write(batch)

    def _write(self, batch: Batch) -> None:
        db = self._writer
        db.execute("BEGIN IMMEDIATE")
        try:
            if batch.orders:
                db.executemany(_UPSERT_ORDER, [o.row() for o in batch.orders.values()])
            if batch.trades:
                db.executemany(_INSERT_TRADE, batch.trades)
            if batch.positions:
                db.executemany(_UPSERT_POSITION, [p.row() for p in batch.positions.values()])
            if batch.deleted_positions:
                db.executemany(
                    "DELETE FROM positions WHERE code = ?", [(c,) for c in batch.deleted_positions]
                )
            if batch.marks:
                db.executemany(_UPSERT_MARK, batch.marks.values())
            if batch.instruments:
                db.executemany(_UPSERT_INSTRUMENT, batch.instruments)
            if batch.meta:
                db.executemany(_UPSERT_META, batch.meta.items())
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    # ------------------------------------------------------------------ readers (any thread)
    def _read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._read_lock:
            db = self._reader
            db.execute("BEGIN")  # one snapshot for every SELECT of the query
            try:
                return fn(db)
            finally:
                db.execute("COMMIT")

    def query_orders(self) -> list[OrderReport]:
        cols = ", ".join(ORDER_COLUMNS)

        def read(db: sqlite3.Connection) -> list[OrderReport]:
            day = _meta(db, "trading_day")
            first = int(_meta(db, "day_first_order_id"))
            rows = db.execute(
                f"SELECT {cols} FROM orders WHERE broker_order_id >= ? AND trading_day = ? ORDER BY broker_order_id",
                (first, day),
            )
            return [SimOrder.from_row(r).report() for r in rows]

        return self._read(read)

    def query_trades(self) -> list[TradeReport]:
        cols = ", ".join(TRADE_COLUMNS)

        def read(db: sqlite3.Connection) -> list[TradeReport]:
            day = _meta(db, "trading_day")
            first = int(_meta(db, "day_first_trade_id"))
            rows = db.execute(
                f"SELECT {cols} FROM trades WHERE trade_id >= ? AND trading_day = ? ORDER BY trade_id",
                (first, day),
            )
            return [trade_report(r) for r in rows]

        return self._read(read)

    def query_positions(self) -> list[BrokerPosition]:
        return self._read(lambda db: [p.report(last) for p, last in _positions_with_marks(db)])

    def query_asset(self) -> BrokerAsset:
        def read(db: sqlite3.Connection) -> BrokerAsset:
            cash = Decimal(_meta(db, "cash"))
            # Working orders are all of the current (or, before begin_day, the previous) day.
            first = int(_meta(db, "day_first_order_id"))
            sql = f"SELECT frozen_cash FROM orders WHERE broker_order_id >= ? AND status IN {_IN_WORKING}"
            frozen = sum((Decimal(v) for (v,) in db.execute(sql, (first, *_WORKING))), ZERO)
            market_value = sum(
                (
                    p.total * (last if last is not None else p.avg_price)
                    for p, last in _positions_with_marks(db)
                ),
                ZERO,
            )
            return BrokerAsset(cash, frozen, cash - frozen, market_value, cash + market_value)

        return self._read(read)

    def sum_trades(self) -> Iterable[tuple[str, Decimal, Decimal]]:
        """(side, turnover, fees) summed over every trade ever: for checking the cash identity."""

        def read(db: sqlite3.Connection) -> list[tuple[str, Decimal, Decimal]]:
            sums: dict[str, list[Decimal]] = {}
            for side, amount, fees in db.execute("SELECT side, amount, fees FROM trades"):
                acc = sums.setdefault(side, [ZERO, ZERO])
                acc[0] += Decimal(amount)
                acc[1] += Decimal(fees)
            return [(side, a, f) for side, (a, f) in sums.items()]

        return self._read(read)

    def meta(self, key: str) -> str | None:
        return self._read(lambda db: _meta(db, key, None))


class MemoryBooks:
    """The counter's books in Python dicts only, for the path MEMORY (`open_store`): no
    file and no SQLite at all, like vn.py's paper account without persistence. The same contract as
    SimStore: `write` applies a batch whole or not at all (a trade id already booked fails it, as the
    file's primary key would), and a query sees whole batches only (one lock for writer and readers).
    Rows are kept as the file keeps them (enums and id types as their plain text), so what is read
    back is what the file would give."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._meta: dict[str, str] = {}
        self._orders: dict[int, tuple] = {}
        self._trades: dict[int, tuple] = {}
        self._positions: dict[str, tuple] = {}
        self._marks: dict[str, tuple] = {}
        self._instruments: dict[str, tuple] = {}

    def close(self) -> None:
        """Nothing to release; the books stay readable until the object goes."""

    def is_new(self) -> bool:
        return not self._meta

    def load(self) -> Loaded:
        with self._lock:
            meta = dict(self._meta)
            day = meta.get("trading_day", "")
            first = int(meta.get("day_first_order_id", "0"))
            recent = [SimOrder.from_row(self._orders[k]) for k in sorted(self._orders) if k >= first]
            return Loaded(
                meta,
                [SimPosition.from_row(r) for r in self._positions.values()],
                [o for o in recent if o.day.isoformat() == day],
                [o for o in recent if o.status.is_working],
                list(self._marks.values()),
                [instrument_from_row(r) for r in self._instruments.values()],
            )

    def write(self, batch: Batch) -> None:
        """Apply one batch atomically: checked first, then applied (nothing in applying can fail)."""
        trades = [_plain_at(row, _TRADE_TYPED) for row in batch.trades]
        ids = [row[0] for row in trades]
        with self._lock:
            if len(set(ids)) != len(ids) or any(i in self._trades for i in ids):
                raise ValueError(f"the simulated broker booked a trade id twice: {ids}")
            for order in batch.orders.values():
                row = _plain_at(order.row(), _ORDER_TYPED)
                self._orders[row[0]] = row
            for tid, row in zip(ids, trades, strict=True):
                self._trades[tid] = row
            for position in batch.positions.values():
                row = _plain(position.row())
                self._positions[row[0]] = row
            for code in batch.deleted_positions:
                self._positions.pop(code, None)
            for row in batch.marks.values():
                self._marks[row[0]] = _plain(row)
            for row in batch.instruments:
                self._instruments[row[0]] = _plain(row)
            self._meta.update(batch.meta)

    def _read(self, fn: Callable[[MemoryBooks], T]) -> T:
        with self._lock:
            return fn(self)

    def _day(self, first_key: str) -> tuple[str, int]:
        meta = self._meta
        if "trading_day" not in meta or first_key not in meta:
            raise LookupError(f"the simulated broker's books have no {first_key!r} entry")
        return meta["trading_day"], int(meta[first_key])

    def query_orders(self) -> list[OrderReport]:
        with self._lock:
            day, first = self._day("day_first_order_id")
            rows = [self._orders[k] for k in sorted(self._orders) if k >= first]
        return [SimOrder.from_row(r).report() for r in rows if r[_ORDER_DAY] == day]

    def query_trades(self) -> list[TradeReport]:
        with self._lock:
            day, first = self._day("day_first_trade_id")
            rows = [self._trades[k] for k in sorted(self._trades) if k >= first]
        return [trade_report(r) for r in rows if r[_TRADE_DAY] == day]

    def _positions_with_marks(self) -> list[tuple[SimPosition, Decimal | None]]:
        marks = self._marks
        return [
            (SimPosition.from_row(r), dec(marks[code][1]) if code in marks else None)
            for code, r in sorted(self._positions.items())
            if r[1] > 0
        ]

    def query_positions(self) -> list[BrokerPosition]:
        with self._lock:
            held = self._positions_with_marks()
        return [p.report(last) for p, last in held]

    def query_asset(self) -> BrokerAsset:
        with self._lock:
            if "cash" not in self._meta:
                raise LookupError("the simulated broker's books have no 'cash' entry")
            cash = Decimal(self._meta["cash"])
            first = int(self._meta.get("day_first_order_id", "0"))
            frozen = sum(
                (Decimal(r[_ORDER_FROZEN_CASH]) for k, r in self._orders.items()
                 if k >= first and r[_ORDER_STATUS] in _WORKING),
                ZERO,
            )  # fmt: skip
            held = self._positions_with_marks()
        market_value = sum((p.total * (last if last is not None else p.avg_price) for p, last in held), ZERO)
        return BrokerAsset(cash, frozen, cash - frozen, market_value, cash + market_value)

    def sum_trades(self) -> Iterable[tuple[str, Decimal, Decimal]]:
        """(side, turnover, fees) summed over every trade ever: for checking the cash identity."""
        sums: dict[str, list[Decimal]] = {}
        with self._lock:
            rows = list(self._trades.values())
        for row in rows:
            acc = sums.setdefault(row[_TRADE_SIDE], [ZERO, ZERO])
            acc[0] += Decimal(row[_TRADE_AMOUNT])
            acc[1] += Decimal(row[_TRADE_FEES])
        return [(side, a, f) for side, (a, f) in sums.items()]

    def meta(self, key: str) -> str | None:
        with self._lock:
            return self._meta.get(key)


_ORDER_DAY = ORDER_COLUMNS.index("trading_day")
_ORDER_STATUS = ORDER_COLUMNS.index("status")
_ORDER_FROZEN_CASH = ORDER_COLUMNS.index("frozen_cash")
_TRADE_DAY = TRADE_COLUMNS.index("trading_day")
_TRADE_SIDE = TRADE_COLUMNS.index("side")
_TRADE_AMOUNT = TRADE_COLUMNS.index("amount")
_TRADE_FEES = TRADE_COLUMNS.index("fees")


# the columns of an order's and a trade's row that hold an enum or an id type (the rest are plain)
_ORDER_TYPED = tuple(
    ORDER_COLUMNS.index(c) for c in ("client_order_id", "side", "price_type", "status", "session")
)
_TRADE_TYPED = tuple(TRADE_COLUMNS.index(c) for c in ("client_order_id", "side"))


def _plain_at(row: tuple, typed: tuple[int, ...]) -> tuple:
    """`_plain` for a row whose typed columns are known (an order's or a trade's: one per fill)."""
    values = list(row)
    for i in typed:
        v = values[i]
        if isinstance(v, Enum):
            values[i] = v.value
        elif isinstance(v, str) and type(v) is not str:
            values[i] = str.__str__(v)
    return tuple(values)


def _plain(row: tuple) -> tuple:
    """A row as SQLite would give it back: enums as their values, id types as plain text."""
    return tuple(
        v.value
        if isinstance(v, Enum)
        else (str.__str__(v) if isinstance(v, str) and type(v) is not str else v)
        for v in row
    )


def open_store(path: Path) -> SimStore | MemoryBooks:
    """The counter's books: in their file, or (MEMORY) in memory only, without SQLite."""
    return MemoryBooks() if str(path) == MEMORY else SimStore(path)


_MISSING = object()


def _meta(db: sqlite3.Connection, key: str, default: object = _MISSING) -> str:
    row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    if row is None:
        if default is _MISSING:
            raise LookupError(f"the simulated broker file has no {key!r} entry")
        return default  # type: ignore[return-value]
    return row[0]


def _positions_with_marks(db: sqlite3.Connection) -> list[tuple[SimPosition, Decimal | None]]:
    cols = ", ".join(f"p.{c}" for c in POSITION_COLUMNS)
    rows = db.execute(
        f"SELECT {cols}, m.last FROM positions p LEFT JOIN marks m ON m.code = p.code WHERE p.total > 0 ORDER BY p.code"
    )
    return [(SimPosition.from_row(r[:-1]), dec(r[-1])) for r in rows]


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode, as Tiller's own file: a committed batch survives a crash of the process
    # (the WAL is in the OS's hands). Only a power cut may lose the last batches, and then both
    # files lose them alike; FULL would add an fsync to every batch of a simulation.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA busy_timeout = 5000")
    # The WAL is checkpointed by a thread of its own (app/storage/checkpoint.py, wired by bootstrap):
    # the writer's own checkpoint (which syncs, inside an order's batch) only as a backstop, at
    # checkpoint.WRITER_BACKSTOP_PAGES, as Tiller's own file.
    conn.execute("PRAGMA wal_autocheckpoint = 20000")


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN")
    for statement in _statements(SCHEMA):
        conn.execute(statement)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("COMMIT")


def _create_whole(path: Path) -> None:
    """Make a new file with its schema under a temporary name, then move it into place."""
    temporary = path.with_name(path.name + CREATING_SUFFIX)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        temporary.with_name(temporary.name + suffix).unlink(missing_ok=True)
    conn = sqlite3.connect(temporary, isolation_level=None)
    try:
        _configure(conn)
        _create_schema(conn)
    finally:
        conn.close()  # the last close folds the WAL into the file
    if os.name == "nt":
        os.rename(temporary, path)  # never replaces an existing file on Windows
        return
    try:
        os.link(temporary, path)  # never replaces a file that appeared meanwhile
    except FileExistsError:
        pass
    except OSError:
        os.rename(temporary, path)  # a file system without hard links
        return
    temporary.unlink()
