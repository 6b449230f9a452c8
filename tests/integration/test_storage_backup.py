"""Online backups of an open WAL database, their names, their integrity and their retention."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.storage import BackupExistsError, StorageBugError, open_database, transaction

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
BACKUP_TIME = datetime(2025, 3, 3, 15, 40, 5)


def add_orders(database, count: int, start: int = 0) -> None:
    with transaction(database):
        database.db["orders"].insert_all(
            {"client_order_id": f"c{index}", "code": "600000.SH", "side": "buy", "qty": 100, "status": "new"}
            for index in range(start, start + count)
        )


@pytest.fixture
def database(tmp_path):
    opened = open_database(tmp_path / "tiller-sim-demo.db", now=NOW)
    yield opened
    opened.close()


def test_backup_while_open_copies_committed_data_to_the_default_folder(tmp_path, database):
    add_orders(database, 50)
    assert Path(f"{database.path}-wal").stat().st_size > 0  # the rows are still only in the WAL

    backup = database.backup(now=BACKUP_TIME)

    assert backup == tmp_path / "backups" / "tiller-sim-demo-20250303-154005.db"
    with open_database(backup, read_only=True) as copy:
        assert copy.db["orders"].count == 50
        assert copy.schema_version == database.schema_version
        assert copy.conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"


def test_backup_is_a_single_self_contained_file(database):
    add_orders(database, 5)

    backup = database.backup(now=BACKUP_TIME)

    assert sorted(entry.name for entry in backup.parent.iterdir()) == [backup.name]
    plain = sqlite3.connect(f"{backup.as_uri()}?mode=ro", uri=True)
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert plain.execute("SELECT count(*) FROM orders").fetchone()[0] == 5
    plain.close()


def test_database_keeps_working_after_a_backup(database):
    add_orders(database, 3)
    database.backup(now=BACKUP_TIME)

    add_orders(database, 2, start=3)

    assert database.db["orders"].count == 5


def test_backup_to_an_explicit_destination(tmp_path, database):
    add_orders(database, 2)
    dest = tmp_path / "usb" / "copy.db"

    assert database.backup(dest) == dest

    with open_database(dest, read_only=True) as copy:
        assert copy.db["orders"].count == 2


def test_retention_keeps_only_the_newest_backups_of_this_database(tmp_path, database):
    folder = tmp_path / "backups"
    folder.mkdir()
    unrelated = [
        folder / "tiller-sim-other-20200101-000000.db",
        folder / "tiller-sim-demo-old-20200101-000000.db",
        folder / "notes.txt",
    ]
    for path in unrelated:
        path.write_text("not ours")

    made = [database.backup(now=BACKUP_TIME + timedelta(days=day), keep=3) for day in range(5)]

    ours = sorted(path for path in folder.iterdir() if path not in unrelated)
    assert ours == made[-3:]
    assert all(path.read_text() == "not ours" for path in unrelated)


def test_backup_without_destination_or_time_is_refused_and_writes_nothing(tmp_path, database):
    with pytest.raises(ValueError, match="now is required"):
        database.backup()

    assert not (tmp_path / "backups").exists()


@pytest.mark.parametrize("keep", [0, -1, True, 2.5])
def test_backup_with_bad_keep_is_refused_and_writes_nothing(tmp_path, database, keep):
    with pytest.raises(ValueError, match="keep must be an int of at least 1"):
        database.backup(now=BACKUP_TIME, keep=keep)

    assert not (tmp_path / "backups").exists()


def test_backup_never_overwrites_an_existing_file(tmp_path, database):
    first = database.backup(now=BACKUP_TIME)
    before = hashlib.sha256(first.read_bytes()).hexdigest()
    add_orders(database, 1)

    with pytest.raises(BackupExistsError, match="never overwritten"):
        database.backup(now=BACKUP_TIME)

    assert hashlib.sha256(first.read_bytes()).hexdigest() == before
    assert sorted(entry.name for entry in first.parent.iterdir()) == [first.name]


def test_backup_inside_a_transaction_is_a_bug(tmp_path, database):
    with pytest.raises(StorageBugError, match="uncommitted"), transaction(database):
        add_orders(database, 1)
        database.backup(now=BACKUP_TIME)

    assert not (tmp_path / "backups").exists()


def test_backup_onto_the_database_itself_is_refused(database):
    before = database.db["orders"].count

    with pytest.raises(ValueError, match="must not replace the database itself"):
        database.backup(database.path)

    assert database.db["orders"].count == before
    assert database.conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
