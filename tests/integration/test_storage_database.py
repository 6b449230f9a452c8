"""open_database on real files: creation, connection settings, refusals, crashes, threads, metadata."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from app.storage import (
    MIGRATIONS,
    DatabaseAccessError,
    DatabaseCorruptError,
    DatabaseMissingError,
    DatabaseReadOnlyError,
    KnownStorageError,
    Meta,
    NotATillerDatabaseError,
    StorageBugError,
    open_database,
    transaction,
)
from app.storage.schema import TILLER_APPLICATION_ID

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
REPO_ROOT = Path(__file__).resolve().parents[2]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def insert_order(database, client_order_id: str = "c1") -> None:
    with transaction(database):
        database.db["orders"].insert(
            {
                "client_order_id": client_order_id,
                "code": "600000.SH",
                "side": "buy",
                "price": "10.50",
                "qty": 100,
                "status": "new",
            }
        )


def order_ids(database) -> list[str]:
    return [
        row["client_order_id"] for row in database.db.query("SELECT client_order_id FROM orders ORDER BY 1")
    ]


def test_open_missing_file_with_create_makes_folders_and_a_migrated_wal_database(tmp_path):
    path = tmp_path / "nested" / "folder" / "tiller.db"

    with open_database(path, now=NOW) as database:
        assert path.is_file()
        assert database.path == path
        assert database.schema_version == len(MIGRATIONS)
        assert database.journal_mode == "wal"
        assert database.conn.execute("PRAGMA application_id").fetchone()[0] == TILLER_APPLICATION_ID


def test_open_sets_foreign_keys_synchronous_normal_and_busy_timeout(tmp_path):
    with open_database(tmp_path / "tiller.db", now=NOW, busy_timeout=2.5) as database:
        assert database.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert database.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert database.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 2500


def test_open_with_synchronous_full_sets_full(tmp_path):
    with open_database(tmp_path / "tiller.db", now=NOW, synchronous="FULL") as database:
        assert database.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"synchronous": "OFF"}, "synchronous must be one of"),
        ({"busy_timeout": 0}, "busy_timeout must be a positive number"),
        ({"now": datetime(2025, 3, 3, 9, 0)}, "now must be timezone-aware"),
    ],
)
def test_open_with_bad_argument_raises_value_error_and_creates_nothing(tmp_path, arguments, message):
    path = tmp_path / "tiller.db"

    with pytest.raises(ValueError, match=message):
        open_database(path, **arguments)

    assert list(tmp_path.iterdir()) == []


def test_reopen_keeps_data_and_schema_version(tmp_path):
    path = tmp_path / "tiller.db"
    with open_database(path, now=NOW) as database:
        insert_order(database, "c1")

    with open_database(path, now=NOW + timedelta(days=1)) as database:
        assert order_ids(database) == ["c1"]
        assert database.schema_version == len(MIGRATIONS)


def test_open_missing_file_without_create_raises_missing_and_creates_nothing(tmp_path):
    path = tmp_path / "absent" / "tiller.db"

    with pytest.raises(DatabaseMissingError) as caught:
        open_database(path, create=False)

    assert isinstance(caught.value, KnownStorageError)
    assert str(path) in str(caught.value)
    assert not path.parent.exists()


@pytest.mark.parametrize("create", [True, False])
def test_open_zero_length_file_is_refused_as_damaged_and_left_empty(tmp_path, create):
    # Tiller creates a database whole (under a temporary name, then moved into place), so an empty
    # file where one should be means its content was lost: refused, never silently started over.
    path = tmp_path / "tiller.db"
    path.touch()

    with pytest.raises(DatabaseCorruptError, match="the file is empty"):
        open_database(path, create=create)

    assert path.stat().st_size == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiller.db"]


def test_new_database_is_made_whole_under_a_temporary_name_then_moved_into_place(tmp_path):
    path = tmp_path / "tiller.db"
    # A leftover of a creation that was killed half-way is cleared, never taken for the database.
    (tmp_path / "tiller.db.creating").write_bytes(b"half made")

    with open_database(path, now=NOW) as database:
        assert database.schema_version == len(MIGRATIONS)
        assert "orders" in database.db.table_names()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiller.db"]


def test_open_directory_path_raises_access_error(tmp_path):
    with pytest.raises(DatabaseAccessError, match="not a file"):
        open_database(tmp_path)


def test_open_foreign_sqlite_database_refuses_and_leaves_it_untouched(tmp_path):
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.execute("INSERT INTO notes VALUES ('keep me')")
    other.commit()
    other.close()
    before = sha256(path)

    with pytest.raises(NotATillerDatabaseError, match="not a Tiller one"):
        open_database(path)

    assert sha256(path) == before


def test_open_sqlite_file_with_another_application_id_refuses_it(tmp_path):
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("PRAGMA application_id = 1234")
    other.execute("PRAGMA user_version = 1")
    other.commit()
    other.close()
    before = sha256(path)

    with pytest.raises(NotATillerDatabaseError, match="application_id is 0x4d2"):
        open_database(path)

    assert sha256(path) == before


def test_read_only_open_reads_data_and_refuses_writes_with_known_error(tmp_path):
    # Tests run as root, where chmod does not stop writes; a mode=ro connection gets the same
    # SQLITE_READONLY that a read-only file gives an ordinary user.
    path = tmp_path / "tiller.db"
    with open_database(path, now=NOW) as database:
        insert_order(database, "c1")
    before = sha256(path)

    with open_database(path, read_only=True) as database:
        assert database.read_only
        assert order_ids(database) == ["c1"]
        with pytest.raises(DatabaseReadOnlyError) as caught:
            insert_order(database, "c2")

    assert isinstance(caught.value, KnownStorageError)
    assert str(path) in str(caught.value)
    assert "read-only" in str(caught.value) and "只读" in str(caught.value)
    assert sha256(path) == before


def test_read_only_open_of_missing_file_raises_missing(tmp_path):
    with pytest.raises(DatabaseMissingError):
        open_database(tmp_path / "tiller.db", read_only=True)

    assert list(tmp_path.iterdir()) == []


def can_write_read_only_files(folder: Path) -> bool:
    # Root (or any process with CAP_DAC_OVERRIDE) ignores file permissions.
    probe = folder / "probe.txt"
    probe.write_text("x")
    probe.chmod(0o444)
    try:
        with probe.open("a"):
            return True
    except PermissionError:
        return False
    finally:
        probe.chmod(0o644)
        probe.unlink()


def test_open_read_only_file_raises_known_read_only_error(tmp_path):
    if can_write_read_only_files(tmp_path):
        pytest.skip("this process ignores file permissions (root), so chmod cannot make a file read-only")
    path = tmp_path / "tiller.db"
    open_database(path, now=NOW).close()
    path.chmod(0o444)
    before = sha256(path)
    try:
        with pytest.raises(DatabaseReadOnlyError) as caught:
            open_database(path, now=NOW)
    finally:
        path.chmod(0o644)

    assert str(path) in str(caught.value)
    assert "read-only" in str(caught.value)
    assert sha256(path) == before


@pytest.mark.skipif(
    sys.platform == "win32",
    reason="Windows ignores a folder's read-only attribute: chmod cannot make it read-only",
)
def test_open_database_in_read_only_folder_raises_known_error(tmp_path):
    if can_write_read_only_files(tmp_path):
        pytest.skip("this process ignores file permissions (root), so chmod cannot make a folder read-only")
    folder = tmp_path / "data"
    path = folder / "tiller.db"
    open_database(path, now=NOW).close()
    folder.chmod(0o555)
    try:
        with pytest.raises(KnownStorageError) as caught:
            open_database(path, now=NOW)
    finally:
        folder.chmod(0o755)

    assert str(path) in str(caught.value)


def test_committed_data_survives_a_process_crash(tmp_path):
    # synchronous=NORMAL in WAL: a commit is in the WAL before the process dies without closing.
    path = tmp_path / "tiller.db"
    open_database(path, now=NOW).close()
    crash = f"""
import os, sys
sys.path.insert(0, {str(REPO_ROOT)!r})
from app.storage import open_database, transaction
database = open_database({str(path)!r})
with transaction(database):
    database.db["orders"].insert({{"client_order_id": "crash-1", "code": "600000.SH", "side": "buy",
                                   "qty": 100, "status": "new"}})
database.conn.execute("BEGIN IMMEDIATE")
database.db["orders"].insert({{"client_order_id": "never-committed", "code": "600000.SH",
                               "side": "buy", "qty": 100, "status": "new"}})
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", crash], check=True, timeout=30)
    assert Path(f"{path}-wal").stat().st_size > 0  # the crash left the WAL behind

    with open_database(path, now=NOW) as database:
        assert order_ids(database) == ["crash-1"]


def test_open_after_crash_with_hot_rollback_journal_recovers_last_committed_state(tmp_path):
    # A read-only check cannot replay a hot journal (SQLITE_READONLY_ROLLBACK); the writer does.
    path = tmp_path / "tiller.db"
    with open_database(path, now=NOW) as database:
        insert_order(database, "c1")
    plain = sqlite3.connect(path)
    plain.execute("PRAGMA journal_mode = DELETE")
    plain.close()
    crash = f"""
import os, sqlite3
conn = sqlite3.connect({str(path)!r}, isolation_level=None)
conn.execute("PRAGMA cache_size = 1")
conn.execute("BEGIN")
conn.executemany("INSERT INTO alerts (ts, level, message) VALUES ('t', 'info', ?)",
                 [("x" * 500,) for _ in range(2000)])
os._exit(0)
"""
    subprocess.run([sys.executable, "-c", crash], check=True, timeout=30)
    assert Path(f"{path}-journal").stat().st_size > 0

    with open_database(path, now=NOW) as database:
        assert order_ids(database) == ["c1"]
        assert database.db["alerts"].count == 0
        assert database.journal_mode == "wal"


def test_connection_belongs_to_the_opening_thread(tmp_path):
    with open_database(tmp_path / "tiller.db", now=NOW) as database:
        errors: list[BaseException] = []

        def use_from_other_thread() -> None:
            try:
                Meta(database).get("first_start")
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=use_from_other_thread)
        worker.start()
        worker.join()

        assert len(errors) == 1
        assert isinstance(errors[0], StorageBugError)
        assert isinstance(errors[0].__cause__, sqlite3.ProgrammingError)
        assert Meta(database).get("first_start") is not None  # the owner thread still works


def test_first_open_records_first_start_and_app_version(tmp_path):
    with open_database(tmp_path / "tiller.db", now=NOW, app_version="0.1.0") as database:
        meta = Meta(database)
        assert meta.first_start == NOW
        assert meta.get("app_version") == "0.1.0"
        assert meta.schema_version == len(MIGRATIONS)


def test_reopen_keeps_first_start_and_updates_app_version(tmp_path):
    path = tmp_path / "tiller.db"
    open_database(path, now=NOW, app_version="0.1.0").close()
    later = datetime(2025, 4, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))

    with open_database(path, now=later, app_version="0.2.0") as database:
        meta = Meta(database)
        assert meta.first_start == NOW
        assert meta.get("last_start") == later.isoformat()
        assert meta.get("app_version") == "0.2.0"


def test_open_without_now_records_the_wall_clock_in_utc(tmp_path):
    before = datetime.now(UTC)

    with open_database(tmp_path / "tiller.db") as database:
        first_start = Meta(database).first_start

    assert first_start is not None
    assert before <= first_start <= datetime.now(UTC)


def test_meta_set_get_and_default(tmp_path):
    with open_database(tmp_path / "tiller.db", now=NOW) as database:
        meta = Meta(database)
        meta.set("bigquant_cursor", "2025-03-03")
        meta.set("bigquant_cursor", "2025-03-04")

        assert meta.get("bigquant_cursor") == "2025-03-04"
        assert meta.get("absent") is None
        assert meta.get("absent", "fallback") == "fallback"


def test_meta_increment_counts_from_zero_and_is_kept(tmp_path):
    path = tmp_path / "tiller.db"
    with open_database(path, now=NOW) as database:
        meta = Meta(database)
        assert meta.increment("client_order_seq") == 1
        assert meta.increment("client_order_seq") == 2
        assert meta.increment("client_order_seq", by=10) == 12

    with open_database(path, now=NOW) as database:
        assert Meta(database).increment("client_order_seq") == 13


def test_meta_increment_inside_a_rolled_back_transaction_is_undone(tmp_path):
    with open_database(tmp_path / "tiller.db", now=NOW) as database:
        meta = Meta(database)
        meta.increment("client_order_seq")
        with pytest.raises(RuntimeError), transaction(database):
            meta.increment("client_order_seq")
            raise RuntimeError("order rejected before commit")

        assert meta.get("client_order_seq") == "1"


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda meta: meta.set("", "x"), ValueError, "non-empty string, was ''"),
        (lambda meta: meta.set("k", 5), TypeError, "must be a str"),
        (lambda meta: meta.increment("k", by=0), ValueError, "positive int, was 0"),
        (lambda meta: meta.increment("app_version"), ValueError, "is not a counter"),
    ],
)
def test_meta_bad_input_raises_and_changes_nothing(tmp_path, call, error, message):
    with open_database(tmp_path / "tiller.db", now=NOW, app_version="0.1.0") as database:
        meta = Meta(database)
        rows_before = list(database.db.query("SELECT * FROM meta ORDER BY key"))

        with pytest.raises(error, match=message):
            call(meta)

        assert list(database.db.query("SELECT * FROM meta ORDER BY key")) == rows_before
