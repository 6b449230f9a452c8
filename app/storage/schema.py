"""The database schema and its numbered migrations (ARCHITECTURE.md, Persistence).

`MIGRATIONS[i]` upgrades `PRAGMA user_version` i -> i+1. Each runs in its own transaction together
with the user_version bump, so a failed migration leaves the file at the version before it.
Never edit a released migration: add a new one.

Tables are written as explicit SQL, never through sqlite-utils' type inference, which maps
Decimal to REAL (COLUMN_TYPE_MAPPING, STYLE.md §5). Prices and money are TEXT holding exact
decimal strings (see money.py), quantities INTEGER. Tables are STRICT, so an INTEGER column
refuses 1.5 or "abc"; a STRICT TEXT column still turns a float into text, which is why the
decimal columns also carry a CHECK that they hold plain decimal text (no exponent, no spaces).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from app.storage.errors import StorageBugError
from app.storage.transactions import sqlite_transaction

# PRAGMA application_id marks the file as Tiller's: "TILL" in ASCII.
TILLER_APPLICATION_ID = 0x54494C4C


class Connected(Protocol):
    """What a migration is given: the open connection (app.storage.database.Database has it).
    sqlite-utils is not imported on the way (it imports pandas and numpy where they are installed)."""

    @property
    def conn(self) -> sqlite3.Connection: ...


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step; `version` is the user_version the database has after it."""

    version: int
    description: str
    apply: Callable[[Connected], None]


def _decimal(column: str, *, not_null: bool = False) -> str:
    """A TEXT column that only accepts plain decimal text such as "-1480.50"."""
    shape = f"{column} GLOB '*[0-9]*' AND {column} NOT GLOB '*[^0-9.-]*'"
    if not_null:
        return f"{column} TEXT NOT NULL CONSTRAINT {column}_is_decimal_text CHECK ({shape})"
    return f"{column} TEXT CONSTRAINT {column}_is_decimal_text CHECK ({column} IS NULL OR ({shape}))"


def _json(column: str, *, not_null: bool = False) -> str:
    if not_null:
        return f"{column} TEXT NOT NULL CONSTRAINT {column}_is_json CHECK (json_valid({column}))"
    return f"{column} TEXT CONSTRAINT {column}_is_json CHECK ({column} IS NULL OR json_valid({column}))"


def _append_only(table: str) -> list[str]:
    """Triggers that make a journal table append-only: rows can be added, never changed or removed."""
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: rows cannot be updated'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: rows cannot be deleted'); END",
    ]


V1_STATEMENTS: tuple[str, ...] = (
    # App metadata: first start, app version, counters (schema version is PRAGMA user_version).
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT) STRICT",
    f"""CREATE TABLE instruments (
        code TEXT PRIMARY KEY NOT NULL,
        name TEXT,
        exchange TEXT,
        board TEXT,
        {_decimal("tick")},
        {_decimal("prev_close")},
        {_decimal("up_limit")},
        {_decimal("down_limit")},
        status TEXT,
        listing_date TEXT,
        trading_day TEXT
    ) STRICT""",
    """CREATE TABLE signal_batches (
        batch_id TEXT PRIMARY KEY NOT NULL,
        strategy_id TEXT NOT NULL,
        trading_day TEXT NOT NULL,
        source TEXT,
        fetched_at TEXT,
        line_count INTEGER,
        status TEXT
    ) STRICT""",
    "CREATE INDEX signal_batches_day_strategy ON signal_batches (trading_day, strategy_id)",
    f"""CREATE TABLE signal_lines (
        signal_id TEXT PRIMARY KEY NOT NULL,
        batch_id TEXT NOT NULL REFERENCES signal_batches (batch_id),
        strategy_id TEXT,
        trading_day TEXT,
        code TEXT,
        name TEXT,
        side TEXT,
        qty INTEGER,
        {_decimal("ref_price")},
        exec_window TEXT,
        {_decimal("target_weight")},
        state TEXT,
        reason TEXT
    ) STRICT""",
    "CREATE INDEX signal_lines_batch ON signal_lines (batch_id)",
    "CREATE INDEX signal_lines_day ON signal_lines (trading_day)",
    f"""CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY NOT NULL,
        broker_order_id TEXT,
        order_sysid TEXT,
        code TEXT NOT NULL,
        side TEXT NOT NULL,
        price_type TEXT,
        {_decimal("price")},
        qty INTEGER NOT NULL,
        filled_qty INTEGER NOT NULL DEFAULT 0,
        {_decimal("filled_amount")},
        {_decimal("fees")},
        status TEXT NOT NULL,
        status_msg TEXT,
        strategy_id TEXT,
        signal_id TEXT,
        external INTEGER NOT NULL DEFAULT 0,
        trading_day TEXT,
        created_at TEXT,
        updated_at TEXT
    ) STRICT""",
    "CREATE INDEX orders_broker_order_id ON orders (broker_order_id)",
    "CREATE INDEX orders_day_status ON orders (trading_day, status)",
    # The order journal: one row per thing that happened to an order, in order, never rewritten.
    f"""CREATE TABLE order_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        client_order_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        ts TEXT NOT NULL,
        {_json("payload")}
    ) STRICT""",
    "CREATE INDEX order_events_client_order_id ON order_events (client_order_id)",
    *_append_only("order_events"),
    # ARCHITECTURE.md invariant 2: a fill is applied once, keyed by the broker's traded_id.
    f"""CREATE TABLE trades (
        traded_id TEXT PRIMARY KEY NOT NULL UNIQUE,
        client_order_id TEXT,
        broker_order_id TEXT,
        code TEXT NOT NULL,
        side TEXT NOT NULL,
        {_decimal("price", not_null=True)},
        qty INTEGER NOT NULL,
        {_decimal("amount")},
        {_decimal("fees")},
        traded_at TEXT,
        trading_day TEXT,
        strategy_id TEXT
    ) STRICT""",
    "CREATE INDEX trades_client_order_id ON trades (client_order_id)",
    "CREATE INDEX trades_day ON trades (trading_day)",
    # The live position book; strategy_id '' is the account-level (unattributed) book.
    f"""CREATE TABLE positions (
        code TEXT NOT NULL,
        strategy_id TEXT NOT NULL DEFAULT '',
        total INTEGER NOT NULL DEFAULT 0,
        settled INTEGER NOT NULL DEFAULT 0,
        frozen INTEGER NOT NULL DEFAULT 0,
        {_decimal("avg_cost")},
        {_decimal("realized_pnl")},
        updated_at TEXT,
        PRIMARY KEY (code, strategy_id)
    ) STRICT""",
    # The live cash book: exactly one row.
    f"""CREATE TABLE account (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        {_decimal("cash", not_null=True)},
        {_decimal("frozen", not_null=True)},
        updated_at TEXT
    ) STRICT""",
    f"""CREATE TABLE daily_cash (
        trading_day TEXT PRIMARY KEY NOT NULL,
        {_decimal("balance")},
        {_decimal("available")},
        {_decimal("frozen")},
        {_decimal("market_value")},
        {_decimal("total_asset")},
        {_decimal("net_transfer")}
    ) STRICT""",
    f"""CREATE TABLE daily_positions (
        trading_day TEXT NOT NULL,
        code TEXT NOT NULL,
        strategy_id TEXT NOT NULL DEFAULT '',
        qty INTEGER,
        sellable INTEGER,
        today_qty INTEGER,
        {_decimal("avg_cost")},
        {_decimal("last_price")},
        {_decimal("market_value")},
        {_decimal("realized_pnl")},
        {_decimal("unrealized_pnl")},
        PRIMARY KEY (trading_day, code, strategy_id)
    ) STRICT""",
    f"""CREATE TABLE settlements (
        trading_day TEXT PRIMARY KEY NOT NULL,
        status TEXT NOT NULL,
        {_json("differences")},
        settled_at TEXT
    ) STRICT""",
    f"""CREATE TABLE sync_outbox (
        sync_id TEXT PRIMARY KEY NOT NULL,
        trading_day TEXT NOT NULL,
        revision INTEGER NOT NULL,
        {_json("payload", not_null=True)},
        created_at TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at TEXT
    ) STRICT""",
    "CREATE INDEX sync_outbox_day ON sync_outbox (trading_day)",
    "CREATE INDEX sync_outbox_pending ON sync_outbox (created_at) WHERE delivered_at IS NULL",
    """CREATE TABLE alerts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        level TEXT NOT NULL,
        category TEXT,
        message TEXT NOT NULL,
        details TEXT
    ) STRICT""",
    "CREATE INDEX alerts_ts ON alerts (ts)",
    # ARCHITECTURE.md, Persistence: an audit of risk-setting changes, append-only like the journal.
    """CREATE TABLE risk_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        who TEXT NOT NULL,
        key TEXT NOT NULL,
        old_value TEXT,
        new_value TEXT
    ) STRICT""",
    *_append_only("risk_audit"),
    f"PRAGMA application_id = {TILLER_APPLICATION_ID}",
)


def _v1_initial_schema(db: Connected) -> None:
    # One statement at a time on the open transaction: sqlite3's executescript() would COMMIT first.
    for statement in V1_STATEMENTS:
        db.conn.execute(statement)


def _v2_order_reserve_price(db: Connected) -> None:
    # The price a buy's cash is frozen at (a market buy's up limit): needed to rebuild the hold at
    # a restart, before the day's instruments are known again.
    db.conn.execute(f"ALTER TABLE orders ADD COLUMN {_decimal('reserve_price')}")


# A fill's identity (ARCHITECTURE.md invariant 2), from what QMT guarantees about XtTrade (RULES.md A3):
# `traded_id` is the exchange's or the counter's trade number, which starts again every trading day
# and is numbered per market (the same number appears on SH and SZ), so on its own it is not an
# identity. `order_id` (XtTrade.order_id) is the number QMT gave the order, unique in the account for
# the day; an order belongs to one code, so it also fixes the market. A fill is therefore
# (trading_day, broker_order_id, traded_id): two days, two markets, or the two sides of a
# self-trade are different fills; the same fill pushed and then queried is the same row.
V3_TRADES = f"""CREATE TABLE trades (
        trading_day TEXT NOT NULL,
        broker_order_id TEXT NOT NULL,
        traded_id TEXT NOT NULL,
        client_order_id TEXT,
        code TEXT NOT NULL,
        side TEXT NOT NULL,
        {_decimal("price", not_null=True)},
        qty INTEGER NOT NULL,
        {_decimal("amount")},
        {_decimal("fees")},
        traded_at TEXT,
        strategy_id TEXT,
        PRIMARY KEY (trading_day, broker_order_id, traded_id)
    ) STRICT"""
# A planned order is taken in once: (strategy, trading day, signal id) is its identity (signal ids
# are the strategy's own numbers, so two strategies may use the same one).
V3_SIGNAL_LINES = f"""CREATE TABLE signal_lines (
        strategy_id TEXT NOT NULL DEFAULT '',
        trading_day TEXT NOT NULL DEFAULT '',
        signal_id TEXT NOT NULL,
        batch_id TEXT NOT NULL REFERENCES signal_batches (batch_id),
        code TEXT,
        name TEXT,
        side TEXT,
        qty INTEGER,
        {_decimal("ref_price")},
        exec_window TEXT,
        {_decimal("target_weight")},
        state TEXT,
        reason TEXT,
        PRIMARY KEY (strategy_id, trading_day, signal_id)
    ) STRICT"""


def _v3_trade_and_signal_identity(db: Connected) -> None:
    # SQLite cannot change a primary key in place: build the new table, copy, swap. Every row is kept;
    # a v2 row always has its trading day and broker order id (the store wrote both), the COALESCEs
    # only guard a hand-edited file.
    conn = db.conn
    conn.execute(V3_TRADES.replace("CREATE TABLE trades", "CREATE TABLE trades_v3", 1))
    conn.execute(
        "INSERT INTO trades_v3 (trading_day, broker_order_id, traded_id, client_order_id, code, side, price, "
        "qty, amount, fees, traded_at, strategy_id) SELECT COALESCE(trading_day, substr(traded_at, 1, 10), ''), "
        "COALESCE(broker_order_id, ''), traded_id, client_order_id, code, side, price, qty, amount, fees, "
        "traded_at, strategy_id FROM trades"
    )
    conn.execute("DROP TABLE trades")
    conn.execute("ALTER TABLE trades_v3 RENAME TO trades")
    conn.execute("CREATE INDEX trades_client_order_id ON trades (client_order_id)")
    conn.execute("CREATE INDEX trades_day ON trades (trading_day)")
    conn.execute(V3_SIGNAL_LINES.replace("CREATE TABLE signal_lines", "CREATE TABLE signal_lines_v3", 1))
    conn.execute(
        "INSERT INTO signal_lines_v3 (strategy_id, trading_day, signal_id, batch_id, code, name, side, qty, "
        "ref_price, exec_window, target_weight, state, reason) SELECT COALESCE(strategy_id, ''), "
        "COALESCE(trading_day, ''), signal_id, batch_id, code, name, side, qty, ref_price, exec_window, "
        "target_weight, state, reason FROM signal_lines"
    )
    conn.execute("DROP TABLE signal_lines")
    conn.execute("ALTER TABLE signal_lines_v3 RENAME TO signal_lines")
    conn.execute("CREATE INDEX signal_lines_batch ON signal_lines (batch_id)")
    conn.execute("CREATE INDEX signal_lines_day ON signal_lines (trading_day)")


# The day's performance, kept per day (issue "Signals in, account out", item 6). Ratios as decimal text;
# the per-strategy attribution of the day's P&L as JSON (strategy -> orders, trades, turnover, fees, pnl).
V4_DAILY_PERFORMANCE = f"""CREATE TABLE daily_performance (
        trading_day TEXT PRIMARY KEY NOT NULL,
        {_decimal("equity", not_null=True)},
        {_decimal("pnl", not_null=True)},
        {_decimal("daily_return", not_null=True)},
        {_decimal("cumulative_return", not_null=True)},
        {_decimal("max_drawdown", not_null=True)},
        {_decimal("sharpe")},
        {_json("attribution", not_null=True)},
        computed_at TEXT NOT NULL
    ) STRICT"""


def _v4_daily_performance(db: Connected) -> None:
    db.conn.execute(V4_DAILY_PERFORMANCE)


# v5: the plan (app/core/planning): followed strategies and their allotments, the per-strategy
# sub-ledger beside the account-level positions, each day's plan lines with every change and its
# reason, the plan's state, and an append-only record of who did what to the plan and when.
V5_STATEMENTS: tuple[str, ...] = (
    f"""CREATE TABLE strategies (
        strategy_id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        {_decimal("paper_capital", not_null=True)},
        allot_kind TEXT NOT NULL CHECK (allot_kind IN ('ratio', 'amount')),
        {_decimal("allot_value", not_null=True)},
        followed INTEGER NOT NULL CHECK (followed IN (0, 1)),
        policy TEXT NOT NULL,
        {_decimal("price_offset", not_null=True)},
        updated_at TEXT,
        updated_by TEXT
    ) STRICT""",
    f"""CREATE TABLE strategy_positions (
        strategy_id TEXT NOT NULL,
        code TEXT NOT NULL,
        total INTEGER NOT NULL CHECK (total >= 0),
        settled INTEGER NOT NULL CHECK (settled >= 0),
        {_decimal("avg_cost", not_null=True)},
        {_decimal("realized_pnl", not_null=True)},
        t_plus_zero INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (strategy_id, code)
    ) STRICT""",
    """CREATE TABLE plan_days (
        trading_day TEXT PRIMARY KEY NOT NULL,
        approved_at TEXT,
        approved_by TEXT NOT NULL DEFAULT '',
        paused_buys INTEGER NOT NULL DEFAULT 0,
        paused_sells INTEGER NOT NULL DEFAULT 0,
        auto_approve_at TEXT
    ) STRICT""",
    f"""CREATE TABLE plan_lines (
        trading_day TEXT NOT NULL,
        strategy_id TEXT NOT NULL,
        line_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        code TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        side TEXT NOT NULL,
        requested_qty INTEGER NOT NULL,
        qty INTEGER NOT NULL CHECK (qty >= 0),
        {_decimal("price")},
        policy TEXT NOT NULL,
        {_decimal("price_offset", not_null=True)},
        exec_time TEXT NOT NULL,
        state TEXT NOT NULL,
        source TEXT NOT NULL,
        {_json("changes", not_null=True)},
        PRIMARY KEY (trading_day, strategy_id, line_id)
    ) STRICT""",
    """CREATE TABLE plan_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        trading_day TEXT NOT NULL,
        ts TEXT NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        line_id TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT ''
    ) STRICT""",
    "CREATE INDEX plan_audit_day ON plan_audit (trading_day)",
    *_append_only("plan_audit"),
)


def _v5_plan(db: Connected) -> None:
    for statement in V5_STATEMENTS:
        db.conn.execute(statement)


# v6: live trading armed on purpose (app/core/risk/arming.py): every arm, disarm and expiry of a real
# account, and every order sent to it, with who and when; append-only like the order journal.
V6_LIVE_AUDIT: tuple[str, ...] = (
    """CREATE TABLE live_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('arm', 'disarm', 'expire', 'order')),
        detail TEXT NOT NULL DEFAULT ''
    ) STRICT""",
    "CREATE INDEX live_audit_ts ON live_audit (ts)",
    *_append_only("live_audit"),
)


def _v6_live_audit(db: Connected) -> None:
    for statement in V6_LIVE_AUDIT:
        db.conn.execute(statement)


MIGRATIONS: list[Migration] = [
    Migration(1, "initial schema", _v1_initial_schema),
    Migration(2, "orders.reserve_price", _v2_order_reserve_price),
    Migration(
        3,
        "trade identity (day, broker order, traded id); signal lines per strategy and day",
        _v3_trade_and_signal_identity,
    ),
    Migration(4, "daily_performance", _v4_daily_performance),
    Migration(5, "the plan: strategies, per-strategy sub-ledger, plan lines, plan state and audit", _v5_plan),
    Migration(6, "live_audit: arming of a real account and every order sent to it", _v6_live_audit),
]


def latest_version(migrations: Sequence[Migration]) -> int:
    return len(migrations)


def _check_numbering(migrations: Sequence[Migration]) -> None:
    for index, migration in enumerate(migrations):
        if migration.version != index + 1:
            raise StorageBugError(
                f"MIGRATIONS[{index}] must upgrade to version {index + 1}, was {migration.version} "
                f"({migration.description!r})"
            )


def read_user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def upgrade(db: Connected, migrations: Sequence[Migration], *, path: Path | None = None) -> int:
    """Apply the migrations the file lacks, each with its user_version bump in one transaction.

    The caller has already refused a file newer than `migrations` (the file is then untouched).
    Returns the version the database is at afterwards.
    """
    _check_numbering(migrations)
    conn = db.conn
    current = read_user_version(conn)
    for migration in migrations[current:]:
        try:
            with sqlite_transaction(conn, path=path):
                migration.apply(db)
                conn.execute(f"PRAGMA user_version = {migration.version:d}")
        except StorageBugError as exc:
            raise StorageBugError(
                f"Migration to schema version {migration.version} ({migration.description}) failed "
                f"and was rolled back; the database stays at version {migration.version - 1}: {exc}",
                path=path,
                sqlite_errorcode=exc.sqlite_errorcode,
                sqlite_errorname=exc.sqlite_errorname,
            ) from exc
    return read_user_version(conn)
