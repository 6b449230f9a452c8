"""SQLite errors sorted into Known (the user acts) and Bug (Tiller is wrong), and transactions."""

from __future__ import annotations

import errno
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.storage import (
    DatabaseAccessError,
    DatabaseBusyError,
    DatabaseCorruptError,
    DatabaseReadOnlyError,
    DiskFullError,
    DiskIOError,
    KnownStorageError,
    OutOfMemoryError,
    StorageBugError,
    open_database,
    transaction,
    translate_os_error,
    translate_sqlite_error,
)

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
ORDER = {"client_order_id": "c1", "code": "600000.SH", "side": "buy", "qty": 100, "status": "new"}


@pytest.fixture
def database(tmp_path):
    opened = open_database(tmp_path / "tiller.db", now=NOW, busy_timeout=0.05)
    yield opened
    opened.close()


def sqlite_error(code: int, name: str, kind: type[sqlite3.Error] = sqlite3.OperationalError) -> sqlite3.Error:
    error = kind(f"sqlite said {name}")
    error.sqlite_errorcode = code
    error.sqlite_errorname = name
    return error


@pytest.mark.parametrize(
    ("code", "name", "expected"),
    [
        (13, "SQLITE_FULL", DiskFullError),
        (5, "SQLITE_BUSY", DatabaseBusyError),
        (517, "SQLITE_BUSY_SNAPSHOT", DatabaseBusyError),
        (6, "SQLITE_LOCKED", DatabaseBusyError),
        (8, "SQLITE_READONLY", DatabaseReadOnlyError),
        (14, "SQLITE_CANTOPEN", DatabaseAccessError),
        (3, "SQLITE_PERM", DatabaseAccessError),
        (266, "SQLITE_IOERR_READ", DiskIOError),
        (7, "SQLITE_NOMEM", OutOfMemoryError),
        (11, "SQLITE_CORRUPT", DatabaseCorruptError),
        (26, "SQLITE_NOTADB", DatabaseCorruptError),
        (1, "SQLITE_ERROR", StorageBugError),
        (2067, "SQLITE_CONSTRAINT_UNIQUE", StorageBugError),
        (21, "SQLITE_MISUSE", StorageBugError),
        (25, "SQLITE_RANGE", StorageBugError),
    ],
)
def test_translate_sorts_by_primary_result_code(code, name, expected):
    path = Path("/data/tiller.db")

    translated = translate_sqlite_error(sqlite_error(code, name), path=path)

    assert type(translated) is expected
    assert translated.sqlite_errorcode == code
    assert translated.sqlite_errorname == name
    assert translated.path == path
    assert str(path) in str(translated)


def test_known_errors_speak_chinese_and_english_and_keep_sqlite_words():
    translated = translate_sqlite_error(sqlite_error(13, "SQLITE_FULL"), path=Path("/data/tiller.db"))

    assert isinstance(translated, KnownStorageError)
    assert "磁盘已满" in str(translated)
    assert "The disk is full" in str(translated)
    assert "SQLITE_FULL" in str(translated)


def test_translate_without_code_is_a_bug():
    translated = translate_sqlite_error(sqlite3.ProgrammingError("Cannot operate on a closed database."))

    assert type(translated) is StorageBugError
    assert "closed database" in str(translated)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), DiskFullError),
        (PermissionError(errno.EACCES, "Permission denied"), DatabaseAccessError),
        (OSError(errno.EROFS, "Read-only file system"), DatabaseReadOnlyError),
        (OSError(errno.EIO, "Input/output error"), KnownStorageError),
    ],
)
def test_translate_os_error_gives_known_errors(error, expected):
    translated = translate_os_error(error, path=Path("/data/backups"))

    assert type(translated) is expected
    assert "/data/backups" in str(translated)


def test_real_disk_full_is_a_known_disk_full_error_and_rolls_back(database):
    pages = database.conn.execute("PRAGMA page_count").fetchone()[0]
    database.conn.execute(f"PRAGMA max_page_count = {pages}")

    with pytest.raises(DiskFullError) as caught, transaction(database):
        database.db["alerts"].insert({"ts": "t", "level": "info", "message": "x" * 100_000})

    assert caught.value.sqlite_errorname == "SQLITE_FULL"
    assert database.db["alerts"].count == 0
    assert not database.conn.in_transaction


def test_real_lock_held_by_another_connection_is_a_known_busy_error(database):
    other = sqlite3.connect(database.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusyError, match="locked by another program"), transaction(database):
            database.db["orders"].insert(ORDER)
    finally:
        other.execute("ROLLBACK")
        other.close()

    assert database.db["orders"].count == 0


def test_real_syntax_error_is_a_bug(database):
    with pytest.raises(StorageBugError, match="syntax error"), transaction(database):
        database.conn.execute("SELEC 1")


def test_transaction_commits_all_writes_together(database):
    with transaction(database) as same:
        same.db["orders"].insert(ORDER)
        same.db["order_events"].insert({"client_order_id": "c1", "kind": "created", "ts": "t"})

    assert database.db["orders"].count == 1
    assert database.db["order_events"].count == 1
    assert not database.conn.in_transaction


def test_transaction_rolls_back_everything_and_reraises_a_non_sqlite_error(database):
    with pytest.raises(RuntimeError, match="broker said no"), transaction(database):
        database.db["orders"].insert(ORDER)
        database.db["order_events"].insert({"client_order_id": "c1", "kind": "created", "ts": "t"})
        raise RuntimeError("broker said no")

    assert database.db["orders"].count == 0
    assert database.db["order_events"].count == 0
    assert not database.conn.in_transaction


def test_failed_statement_rolls_back_earlier_writes_of_the_transaction(database):
    with pytest.raises(StorageBugError, match="UNIQUE"), transaction(database):
        database.db["orders"].insert(ORDER)
        database.conn.execute(
            "INSERT INTO orders (client_order_id, code, side, qty, status) VALUES ('c1', 'x', 'buy', 1, 'new')"
        )

    assert database.db["orders"].count == 0


def test_nested_transaction_failure_undoes_only_the_inner_work(database):
    with transaction(database):
        database.db["orders"].insert(ORDER)
        with pytest.raises(RuntimeError), transaction(database):
            database.db["orders"].insert(ORDER | {"client_order_id": "c2"})
            raise RuntimeError("inner step failed")

    assert [row["client_order_id"] for row in database.db.query("SELECT client_order_id FROM orders")] == [
        "c1"
    ]


def test_database_transaction_method_is_the_same_context_manager(database):
    with database.transaction():
        database.db["orders"].insert(ORDER)

    assert database.db["orders"].count == 1


def test_using_a_closed_database_is_a_bug(tmp_path):
    database = open_database(tmp_path / "tiller.db", now=NOW)
    database.close()

    with pytest.raises(StorageBugError, match="closed"), transaction(database):
        pass
