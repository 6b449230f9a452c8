"""Schema v1 (tables, exact column types, constraints, append-only journals) and migrations."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.storage import (
    MIGRATIONS,
    Migration,
    SchemaTooNewError,
    StorageBugError,
    open_database,
    transaction,
)
from app.storage import schema as schema_module

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)

TXT, INT = "TEXT", "INTEGER"
EXPECTED_COLUMNS: dict[str, dict[str, str]] = {
    "meta": {"key": TXT, "value": TXT},
    "instruments": {
        "code": TXT, "name": TXT, "exchange": TXT, "board": TXT, "tick": TXT, "prev_close": TXT, "up_limit": TXT,
        "down_limit": TXT, "status": TXT, "listing_date": TXT, "trading_day": TXT,
    },
    "signal_batches": {
        "batch_id": TXT, "strategy_id": TXT, "trading_day": TXT, "source": TXT, "fetched_at": TXT,
        "line_count": INT, "status": TXT,
    },
    "signal_lines": {
        "strategy_id": TXT, "trading_day": TXT, "signal_id": TXT, "batch_id": TXT, "code": TXT, "name": TXT,
        "side": TXT, "qty": INT, "ref_price": TXT, "exec_window": TXT, "target_weight": TXT, "state": TXT, "reason": TXT,
    },
    "orders": {
        "client_order_id": TXT, "broker_order_id": TXT, "order_sysid": TXT, "code": TXT, "side": TXT,
        "price_type": TXT, "price": TXT, "qty": INT, "filled_qty": INT, "filled_amount": TXT, "fees": TXT,
        "status": TXT, "status_msg": TXT, "strategy_id": TXT, "signal_id": TXT, "external": INT,
        "trading_day": TXT, "created_at": TXT, "updated_at": TXT, "reserve_price": TXT,
    },
    "order_events": {"seq": INT, "client_order_id": TXT, "kind": TXT, "ts": TXT, "payload": TXT},
    "trades": {
        "trading_day": TXT, "broker_order_id": TXT, "traded_id": TXT, "client_order_id": TXT, "code": TXT,
        "side": TXT, "price": TXT, "qty": INT, "amount": TXT, "fees": TXT, "traded_at": TXT, "strategy_id": TXT,
    },
    "positions": {
        "code": TXT, "strategy_id": TXT, "total": INT, "settled": INT, "frozen": INT, "avg_cost": TXT,
        "realized_pnl": TXT, "updated_at": TXT,
    },
    "account": {"id": INT, "cash": TXT, "frozen": TXT, "updated_at": TXT},
    "daily_cash": {
        "trading_day": TXT, "balance": TXT, "available": TXT, "frozen": TXT, "market_value": TXT,
        "total_asset": TXT, "net_transfer": TXT,
    },
    "daily_positions": {
        "trading_day": TXT, "code": TXT, "strategy_id": TXT, "qty": INT, "sellable": INT, "today_qty": INT,
        "avg_cost": TXT, "last_price": TXT, "market_value": TXT, "realized_pnl": TXT, "unrealized_pnl": TXT,
    },
    "settlements": {"trading_day": TXT, "status": TXT, "differences": TXT, "settled_at": TXT},
    "sync_outbox": {
        "sync_id": TXT, "trading_day": TXT, "revision": INT, "payload": TXT, "created_at": TXT, "attempts": INT,
        "last_error": TXT, "delivered_at": TXT,
    },
    "alerts": {"id": INT, "ts": TXT, "level": TXT, "category": TXT, "message": TXT, "details": TXT},
    "risk_audit": {"id": INT, "ts": TXT, "who": TXT, "key": TXT, "old_value": TXT, "new_value": TXT},
    # v4: the day's performance
    "daily_performance": {"trading_day": TXT, "equity": TXT, "pnl": TXT, "daily_return": TXT,
                          "cumulative_return": TXT, "max_drawdown": TXT, "sharpe": TXT, "attribution": TXT,
                          "computed_at": TXT},
    # v5: the plan
    "strategies": {
        "strategy_id": TXT, "name": TXT, "paper_capital": TXT, "allot_kind": TXT, "allot_value": TXT,
        "followed": INT, "policy": TXT, "price_offset": TXT, "updated_at": TXT, "updated_by": TXT,
    },
    "strategy_positions": {
        "strategy_id": TXT, "code": TXT, "total": INT, "settled": INT, "avg_cost": TXT, "realized_pnl": TXT,
        "t_plus_zero": INT,
    },
    "plan_days": {
        "trading_day": TXT, "approved_at": TXT, "approved_by": TXT, "paused_buys": INT, "paused_sells": INT,
        "auto_approve_at": TXT,
    },
    "plan_lines": {
        "trading_day": TXT, "strategy_id": TXT, "line_id": TXT, "seq": INT, "code": TXT, "name": TXT, "side": TXT,
        "requested_qty": INT, "qty": INT, "price": TXT, "policy": TXT, "price_offset": TXT, "exec_time": TXT,
        "state": TXT, "source": TXT, "changes": TXT,
    },
    "plan_audit": {
        "id": INT, "trading_day": TXT, "ts": TXT, "who": TXT, "action": TXT, "line_id": TXT, "detail": TXT,
    },
    # v6: arming of a real account and every order sent to it
    "live_audit": {"id": INT, "ts": TXT, "who": TXT, "action": TXT, "detail": TXT},
}  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def database(tmp_path):
    opened = open_database(tmp_path / "tiller.db", now=NOW)
    yield opened
    opened.close()


def columns(database, table: str) -> dict[str, str]:
    return {row[1]: row[2] for row in database.conn.execute(f"PRAGMA table_info({table})")}


def insert_order(database, **overrides) -> None:
    row = {"client_order_id": "c1", "code": "600000.SH", "side": "buy", "qty": 100, "status": "new"}
    with transaction(database):
        database.db["orders"].insert(row | overrides)


def test_v1_has_exactly_the_designed_tables(database):
    tables = set(database.db.table_names()) - {"sqlite_sequence"}

    assert tables == set(EXPECTED_COLUMNS)


@pytest.mark.parametrize("table", sorted(EXPECTED_COLUMNS))
def test_v1_columns_have_exactly_the_designed_types(database, table):
    assert columns(database, table) == EXPECTED_COLUMNS[table]


def test_v1_has_no_floating_point_column_anywhere(database):
    for table in database.db.table_names():
        for name, declared in columns(database, table).items():
            assert declared.upper() not in {"REAL", "FLOAT", "DOUBLE", "NUMERIC"}, f"{table}.{name}"


def test_v1_tables_are_strict(database):
    strict = {
        row[1] for row in database.conn.execute("PRAGMA table_list") if row[0] == "main" and row[5] == 1
    }

    assert strict == set(EXPECTED_COLUMNS)


def test_v1_primary_keys_are_as_designed(database):
    def primary_key(table: str) -> list[str]:
        rows = sorted(
            (row[5], row[1]) for row in database.conn.execute(f"PRAGMA table_info({table})") if row[5]
        )
        return [name for _, name in rows]

    assert primary_key("positions") == ["code", "strategy_id"]
    assert primary_key("daily_positions") == ["trading_day", "code", "strategy_id"]
    assert primary_key("orders") == ["client_order_id"]
    # v3: a fill is (day, broker order, trade number), a planned line (strategy, day, signal id)
    assert primary_key("trades") == ["trading_day", "broker_order_id", "traded_id"]
    assert primary_key("signal_lines") == ["strategy_id", "trading_day", "signal_id"]


def test_v1_has_the_lookup_indexes(database):
    indexes = {
        row["name"] for row in database.db.query("SELECT name FROM sqlite_master WHERE type = 'index'")
    }

    assert {
        "orders_broker_order_id",
        "orders_day_status",
        "order_events_client_order_id",
        "signal_lines_batch",
    } <= indexes


def test_orders_default_filled_qty_and_external_to_zero(database):
    insert_order(database)

    row = database.db["orders"].get("c1")

    assert row["filled_qty"] == 0
    assert row["external"] == 0
    assert row["price"] is None  # a market order has no price


@pytest.mark.parametrize(
    "bad_price",
    ["1E+2", "abc", " 10.5", "", 1e-7],
    ids=["exponent", "word", "leading-space", "empty", "float-with-exponent"],
)
def test_decimal_columns_refuse_text_that_is_not_plain_decimal(database, bad_price):
    with pytest.raises(StorageBugError, match="price_is_decimal_text"):
        insert_order(database, price=bad_price)

    assert database.db["orders"].count == 0


def test_integer_columns_refuse_fractional_quantities(database):
    with pytest.raises(StorageBugError, match="INTEGER"):
        insert_order(database, qty=100.5)

    assert database.db["orders"].count == 0


def test_signal_lines_need_an_existing_batch(database):
    with pytest.raises(StorageBugError, match="FOREIGN KEY"), transaction(database):
        database.db["signal_lines"].insert({"signal_id": "s1", "batch_id": "missing", "qty": 100})

    assert database.db["signal_lines"].count == 0


def test_account_holds_exactly_one_row(database):
    with transaction(database):
        database.db["account"].insert({"id": 1, "cash": "100000.00", "frozen": "0"})

    with pytest.raises(StorageBugError, match="CHECK"), transaction(database):
        database.db["account"].insert({"id": 2, "cash": "1.00", "frozen": "0"})

    assert database.db["account"].count == 1


def test_json_columns_refuse_text_that_is_not_json(database):
    with pytest.raises(StorageBugError, match="payload_is_json"), transaction(database):
        database.db["order_events"].insert(
            {
                "client_order_id": "c1",
                "kind": "submitted",
                "ts": "2025-03-03T09:30:00+08:00",
                "payload": "{oops",
            }
        )

    assert database.db["order_events"].count == 0


@pytest.mark.parametrize(
    ("table", "row"),
    [
        (
            "order_events",
            {"client_order_id": "c1", "kind": "submitted", "ts": "t1", "payload": '{"qty": 100}'},
        ),
        (
            "risk_audit",
            {"ts": "t1", "who": "user", "key": "max_order_value", "old_value": "1", "new_value": "2"},
        ),
        (
            "plan_audit",
            {"trading_day": "2026-11-23", "ts": "t1", "who": "user", "action": "pause_buys"},
        ),
        ("live_audit", {"ts": "t1", "who": "cli", "action": "arm", "detail": "armed for 2026-11-23"}),
    ],
)
def test_journal_tables_are_append_only(database, table, row):
    with transaction(database):
        database.db[table].insert(row)
        database.db[table].insert(row)
    before = list(database.db.query(f"SELECT * FROM {table} ORDER BY 1"))

    with pytest.raises(StorageBugError, match="append-only: rows cannot be updated"), transaction(database):
        database.conn.execute(f"UPDATE {table} SET ts = 'rewritten'")
    with pytest.raises(StorageBugError, match="append-only: rows cannot be deleted"), transaction(database):
        database.conn.execute(f"DELETE FROM {table}")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        database.conn.execute(f"DELETE FROM {table} WHERE rowid = 1")

    assert list(database.db.query(f"SELECT * FROM {table} ORDER BY 1")) == before
    assert len(before) == 2


def test_trades_refuse_a_second_fill_with_the_same_identity(database):
    # v3: the identity is (trading day, broker order id, traded id); trade numbers repeat across days
    trade = {"trading_day": "2026-11-23", "broker_order_id": "B1", "traded_id": "T1", "code": "600000.SH",
             "side": "buy", "price": "10.50", "qty": 100}  # fmt: skip
    with transaction(database):
        database.db["trades"].insert(trade)

    with pytest.raises(StorageBugError, match="UNIQUE"), transaction(database):
        database.db["trades"].insert(trade | {"qty": 200})
    with transaction(database):
        database.db["trades"].insert(trade | {"trading_day": "2026-11-24"})  # the same number next day
        database.db["trades"].insert(trade | {"broker_order_id": "B2", "code": "000001.SZ"})  # another order

    assert sorted(row["qty"] for row in database.db.query("SELECT qty FROM trades")) == [100, 100, 100]


# --- migrations ------------------------------------------------------------------------------


def add_order_note(db) -> None:
    db.conn.execute("ALTER TABLE orders ADD COLUMN note TEXT")
    db.conn.execute("UPDATE orders SET note = 'from v1'")


def add_column_then_fail(db) -> None:
    db.conn.execute("ALTER TABLE orders ADD COLUMN note TEXT")
    db.conn.execute("UPDATE orders SET note = 'half done'")
    db.conn.execute("THIS IS NOT SQL")


def add_column_then_raise_python_error(db) -> None:
    db.conn.execute("ALTER TABLE orders ADD COLUMN note TEXT")
    raise ValueError("a data migration met a row it cannot convert, was 'x'")


LATEST = len(MIGRATIONS)  # the version a new file has today
NEXT = Migration(LATEST + 1, "orders.note", add_order_note)  # a test-only step after it


def make_v1_file_with_an_order(path: Path) -> None:
    with open_database(path, now=NOW) as database:
        insert_order(database)


def test_fresh_database_is_at_the_latest_version(database):
    assert database.schema_version == len(MIGRATIONS) == MIGRATIONS[-1].version


def test_current_file_upgrades_to_the_next_version_and_keeps_its_data(tmp_path):
    path = tmp_path / "tiller.db"
    make_v1_file_with_an_order(path)

    with open_database(path, now=NOW, migrations=[*MIGRATIONS, NEXT]) as database:
        assert database.schema_version == LATEST + 1
        assert "note" in columns(database, "orders")
        assert [
            (row["client_order_id"], row["note"]) for row in database.db.query("SELECT * FROM orders")
        ] == [("c1", "from v1")]


def test_module_level_migrations_list_drives_open_database(tmp_path, monkeypatch):
    path = tmp_path / "tiller.db"
    make_v1_file_with_an_order(path)
    monkeypatch.setattr(schema_module, "MIGRATIONS", [*MIGRATIONS, NEXT])

    with open_database(path, now=NOW) as database:
        assert database.schema_version == LATEST + 1


def test_fresh_file_runs_every_migration_in_order(tmp_path):
    with open_database(tmp_path / "tiller.db", now=NOW, migrations=[*MIGRATIONS, NEXT]) as database:
        assert database.schema_version == LATEST + 1
        assert "note" in columns(database, "orders")


@pytest.mark.parametrize(
    ("failing", "error", "message"),
    [
        (add_column_then_fail, StorageBugError, f"rolled back; the database stays at version {LATEST}"),
        (add_column_then_raise_python_error, ValueError, "cannot convert"),
    ],
)
def test_failing_migration_rolls_back_and_leaves_the_file_where_it_was(tmp_path, failing, error, message):
    path = tmp_path / "tiller.db"
    make_v1_file_with_an_order(path)

    with pytest.raises(error, match=message):
        open_database(path, now=NOW, migrations=[*MIGRATIONS, Migration(LATEST + 1, "broken", failing)])

    with open_database(path, now=NOW) as database:
        assert database.schema_version == LATEST
        assert "note" not in columns(database, "orders")
        assert database.db["orders"].count == 1


def test_database_from_a_newer_tiller_is_refused_and_untouched(tmp_path):
    path = tmp_path / "tiller.db"
    make_v1_file_with_an_order(path)
    with open_database(path, now=NOW, migrations=[*MIGRATIONS, NEXT]):
        pass
    before = sha256(path)
    folder_before = sorted(entry.name for entry in tmp_path.iterdir())

    with pytest.raises(SchemaTooNewError) as caught:
        open_database(path, now=NOW)

    assert caught.value.found_version == LATEST + 1
    assert caught.value.known_version == LATEST
    assert "newer Tiller version" in str(caught.value) and "更新版本" in str(caught.value)
    assert str(path) in str(caught.value)
    assert sha256(path) == before
    assert sorted(entry.name for entry in tmp_path.iterdir()) == folder_before


def test_misnumbered_migrations_are_a_bug_and_change_nothing(tmp_path):
    path = tmp_path / "tiller.db"
    make_v1_file_with_an_order(path)
    before = sha256(path)

    expected = rf"MIGRATIONS\[{LATEST}\] must upgrade to version {LATEST + 1}, was {LATEST + 2}"
    with pytest.raises(StorageBugError, match=expected):
        open_database(
            path, now=NOW, migrations=[*MIGRATIONS, Migration(LATEST + 2, "skips one", add_order_note)]
        )

    assert sha256(path) == before


def test_a_version_1_file_gains_the_order_reserve_price_and_keeps_its_orders(tmp_path):
    path = tmp_path / "tiller.db"
    with open_database(path, now=NOW, migrations=MIGRATIONS[:1]) as database:
        insert_order(database)
        assert "reserve_price" not in columns(database, "orders")

    with open_database(path, now=NOW, migrations=MIGRATIONS[:2]) as database:
        assert database.schema_version == 2
        assert columns(database, "orders")["reserve_price"] == "TEXT"
        rows = database.db.query("SELECT client_order_id, reserve_price FROM orders")
        assert [(r["client_order_id"], r["reserve_price"]) for r in rows] == [("c1", None)]


def test_a_version_2_file_gains_the_trade_identity_and_keeps_every_trade_and_signal_line(tmp_path):
    path = tmp_path / "tiller.db"
    with open_database(path, now=NOW, migrations=MIGRATIONS[:2]) as database:
        with transaction(database):
            for traded_id, day, broker in (("T1", "2026-11-23", "B1"), ("T2", "2026-11-23", "B1"),
                                           ("1001", "2026-11-24", "B7")):  # fmt: skip
                database.db["trades"].insert(
                    {
                        "traded_id": traded_id,
                        "client_order_id": "c1",
                        "broker_order_id": broker,
                        "code": "600000.SH",
                        "side": "buy",
                        "price": "10.50",
                        "qty": 100,
                        "amount": "1050.00",
                        "fees": "5.00",
                        "traded_at": f"{day}T09:31:00+08:00",
                        "trading_day": day,
                        "strategy_id": "s",
                    }
                )
            database.db["signal_batches"].insert(
                {"batch_id": "b1", "strategy_id": "s", "trading_day": "2026-11-23"}
            )
            database.db["signal_lines"].insert(
                {
                    "signal_id": "145909290",
                    "batch_id": "b1",
                    "strategy_id": "s",
                    "trading_day": "2026-11-23",
                    "qty": 100,
                }
            )
        before = list(database.db.query("SELECT * FROM trades ORDER BY traded_id"))

    with open_database(path, now=NOW) as database:
        assert database.schema_version == len(MIGRATIONS)  # 3, then v4 and v5 on top
        after = list(database.db.query("SELECT * FROM trades ORDER BY traded_id"))
        assert after == before  # every row and value kept, only the key changed
        with transaction(database):  # "1001" again, on another day: another fill
            database.db["trades"].insert(before[1] | {"traded_id": "1001"})  # T1's day and order
        with pytest.raises(StorageBugError, match="UNIQUE"), transaction(database):
            database.db["trades"].insert(before[2])
        lines = list(database.db.query("SELECT strategy_id, trading_day, signal_id FROM signal_lines"))
        assert lines == [{"strategy_id": "s", "trading_day": "2026-11-23", "signal_id": "145909290"}]
        indexes = {
            r["name"] for r in database.db.query("SELECT name FROM sqlite_master WHERE type = 'index'")
        }
        assert {"trades_day", "trades_client_order_id", "signal_lines_batch", "signal_lines_day"} <= indexes
