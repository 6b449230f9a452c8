"""Damaged files: detected at open, explained in plain words, and never modified."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.storage import DatabaseCorruptError, KnownStorageError, open_database, transaction
from app.storage.paths import backup_dir

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
ROWS = 400


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_real_database(path: Path) -> int:
    """A closed (checkpointed) Tiller database spanning many pages; returns its page size."""
    with open_database(path, now=NOW) as database:
        with transaction(database):
            database.db["orders"].insert_all(
                {
                    "client_order_id": f"c{index:05d}",
                    "code": "600000.SH",
                    "side": "buy",
                    "price": "10.50",
                    "qty": 100,
                    "status": "new",
                    "status_msg": "x" * 100,
                    "trading_day": "2025-03-03",
                }
                for index in range(ROWS)
            )
        page_size = int(database.conn.execute("PRAGMA page_size").fetchone()[0])
    assert not Path(f"{path}-wal").exists()  # everything is in the main file
    return page_size


def overwrite_page(path: Path, page_number: int, page_size: int) -> None:
    with path.open("r+b") as file:
        file.seek((page_number - 1) * page_size)
        file.write(random.Random(page_number).randbytes(page_size))


def assert_refused_untouched(path: Path) -> DatabaseCorruptError:
    before = sha256(path)
    folder_before = sorted(entry.name for entry in path.parent.iterdir())

    with pytest.raises(DatabaseCorruptError) as caught:
        open_database(path, now=NOW)

    assert sha256(path) == before
    assert sorted(entry.name for entry in path.parent.iterdir()) == folder_before
    return caught.value


def test_random_garbage_file_is_refused_as_not_a_database(tmp_path):
    path = tmp_path / "tiller.db"
    path.write_bytes(random.Random(1).randbytes(8192))

    error = assert_refused_untouched(path)

    assert "not a database" in error.detail


def test_text_file_is_refused_as_not_a_database(tmp_path):
    path = tmp_path / "tiller.db"
    path.write_text("账户,现金\n12345,1000.00\n", encoding="utf-8")

    error = assert_refused_untouched(path)

    assert "not a database" in error.detail


@pytest.mark.parametrize("keep_fraction", [0.5, 0.02])
def test_truncated_real_database_is_refused(tmp_path, keep_fraction):
    path = tmp_path / "tiller.db"
    make_real_database(path)
    with path.open("r+b") as file:
        file.truncate(int(path.stat().st_size * keep_fraction))

    assert_refused_untouched(path)


def test_database_cut_inside_its_header_is_refused(tmp_path):
    path = tmp_path / "tiller.db"
    make_real_database(path)
    with path.open("r+b") as file:
        file.truncate(50)

    assert_refused_untouched(path)


@pytest.mark.parametrize("where", ["second", "middle", "last"])
def test_database_with_one_page_overwritten_is_refused(tmp_path, where):
    path = tmp_path / "tiller.db"
    page_size = make_real_database(path)
    page_count = path.stat().st_size // page_size
    page_number = {"second": 2, "middle": page_count // 2, "last": page_count}[where]
    overwrite_page(path, page_number, page_size)

    assert_refused_untouched(path)


def test_quick_check_finds_a_damaged_index_page_that_opening_alone_would_not(tmp_path):
    path = tmp_path / "tiller.db"
    page_size = make_real_database(path)
    probe = sqlite3.connect(path)
    try:
        leaf_pages = probe.execute(
            "SELECT pageno FROM dbstat WHERE name = 'orders_day_status' AND pagetype = 'leaf'"
        ).fetchall()
    except sqlite3.OperationalError:
        pytest.skip("this SQLite build has no dbstat table to locate an index page")
    finally:
        probe.close()
    overwrite_page(path, leaf_pages[-1][0], page_size)
    # The damage sits in an index only quick_check walks: plain reads of the table still work.
    plain = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    assert plain.execute("SELECT count(*) FROM orders").fetchone()[0] == ROWS
    plain.close()

    error = assert_refused_untouched(path)

    assert error.detail.startswith("integrity check failed")
    assert f"Page {leaf_pages[-1][0]}" in error.detail


def test_corrupt_error_message_names_file_sqlite_words_backup_folder_and_no_change(tmp_path):
    path = tmp_path / "tiller.db"
    make_real_database(path)
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)

    error = assert_refused_untouched(path)
    message = str(error)

    assert isinstance(error, KnownStorageError)
    assert error.path == path
    assert str(path) in message
    assert error.detail in message
    assert str(backup_dir(tmp_path)) in message
    assert "Tiller did NOT modify this file" in message
    assert "Tiller 没有修改这个文件" in message
    assert "restore the latest backup" in message and "move this file aside" in message


def test_corrupt_file_is_refused_again_on_every_open(tmp_path):
    path = tmp_path / "tiller.db"
    path.write_bytes(random.Random(2).randbytes(4096))

    assert_refused_untouched(path)
    assert_refused_untouched(path)


def test_corrupt_file_with_create_false_is_still_reported_as_corrupt(tmp_path):
    path = tmp_path / "tiller.db"
    path.write_bytes(random.Random(3).randbytes(4096))
    before = sha256(path)

    with pytest.raises(DatabaseCorruptError):
        open_database(path, create=False)

    assert sha256(path) == before


def test_corrupt_file_in_read_only_open_is_refused(tmp_path):
    path = tmp_path / "tiller.db"
    page_size = make_real_database(path)
    overwrite_page(path, 2, page_size)
    before = sha256(path)

    with pytest.raises(DatabaseCorruptError):
        open_database(path, read_only=True)

    assert sha256(path) == before
