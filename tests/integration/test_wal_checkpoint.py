"""WAL checkpoints off the order path (app/storage/checkpoint.py): once the WAL grows, a thread of
its own checkpoints it while the engine's connection goes on committing; nothing is lost."""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime
from pathlib import Path

from app.domain.clock import CN_TZ
from app.storage import open_database
from app.storage.checkpoint import THRESHOLD_BYTES, WRITER_BACKSTOP_PAGES, WalCheckpointer
from app.storage.oms_store import SqliteOmsStore

TS = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)


def _wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def _commit_alerts(store: SqliteOmsStore, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        store.stage_alert(TS, "info", "bench", f"{i:08d} " + "x" * 2000)  # about a page each
        store.commit()


def test_a_growing_wal_is_checkpointed_by_its_own_thread_and_nothing_is_lost(tmp_path: Path) -> None:
    path = tmp_path / "tiller.db"
    store = SqliteOmsStore(open_database(path, now=TS))
    assert store._checkpointer is None  # a small WAL: no thread at all
    _commit_alerts(store, 300)
    checkpointer = store._checkpointer
    assert checkpointer is not None  # the WAL passed the threshold: the thread took over
    assert store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WRITER_BACKSTOP_PAGES
    assert _wait_for(lambda: checkpointer.checkpoints > 0)
    _commit_alerts(store, 300, start=300)  # the writer goes on while the thread checkpoints
    # another reader sees every row while the thread runs
    probe = sqlite3.connect(f"file:{path.as_posix()}?mode=ro", uri=True)
    try:
        assert probe.execute("SELECT COUNT(*) FROM alerts WHERE category = 'bench'").fetchone()[0] == 600
    finally:
        probe.close()
    store.close()
    assert not checkpointer._thread.is_alive()
    again = open_database(path)
    try:
        messages = [
            r[0][:8]
            for r in again.conn.execute("SELECT message FROM alerts WHERE category = 'bench' ORDER BY id")
        ]
    finally:
        again.close()
    assert messages == [f"{i:08d}" for i in range(600)]
    assert not (tmp_path / "tiller.db-wal").exists() or (tmp_path / "tiller.db-wal").stat().st_size == 0


def test_the_checkpointer_moves_frames_into_the_file_and_stops_on_close(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # only the thread checkpoints
    writer.execute("PRAGMA synchronous = NORMAL")
    writer.execute("CREATE TABLE t (x TEXT)")
    checkpointer = WalCheckpointer(path, threshold_bytes=THRESHOLD_BYTES, poll_s=0.01)
    try:
        for _ in range(400):
            writer.execute("INSERT INTO t VALUES (?)", ("y" * 1000,))
        # the writer has stopped: the thread catches up, every frame moved into the file
        assert _wait_for(
            lambda: checkpointer.last is not None and checkpointer.last[1] == checkpointer.last[2] > 0
        )
        probe = sqlite3.connect(path)
        try:
            assert probe.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 400
        finally:
            probe.close()
    finally:
        checkpointer.close()
        writer.close()
    assert not checkpointer._thread.is_alive()


def _wal_writer(path: Path) -> sqlite3.Connection:
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode = WAL")
    writer.execute("PRAGMA wal_autocheckpoint = 0")  # only the thread checkpoints
    writer.execute("PRAGMA synchronous = NORMAL")
    writer.execute("CREATE TABLE t (x TEXT)")
    return writer


def test_a_wal_below_the_threshold_is_left_alone_and_one_above_it_is_checkpointed(tmp_path: Path) -> None:
    """Every complete checkpoint makes the writer's next commit sync the WAL's header: the thread
    checkpoints only once the WAL holds `threshold_bytes` of frames, not at every poll."""
    path = tmp_path / "t.db"
    writer = _wal_writer(path)
    checkpointer = WalCheckpointer(path, threshold_bytes=200 * 4096, poll_s=0.005, max_age_s=3600)
    try:
        for _ in range(20):  # about 20 frames: far below 200
            writer.execute("INSERT INTO t VALUES (?)", ("y" * 1000,))
        frames, backfilled, page = checkpointer._frames()
        assert page == writer.execute("PRAGMA page_size").fetchone()[0]
        assert 20 <= frames < 200 and backfilled == 0
        polls = checkpointer.polls
        assert _wait_for(lambda: checkpointer.polls >= polls + 5)
        assert checkpointer.checkpoints == 0
        for _ in range(300):
            writer.execute("INSERT INTO t VALUES (?)", ("y" * 1000,))
        assert _wait_for(lambda: checkpointer.checkpoints > 0)
        assert _wait_for(lambda: checkpointer._frames()[1] > 0)  # frames moved into the file
    finally:
        checkpointer.close()
        writer.close()


def test_frames_left_waiting_are_checkpointed_after_max_age_however_few(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    writer = _wal_writer(path)
    checkpointer = WalCheckpointer(path, threshold_bytes=1 << 40, poll_s=0.005, max_age_s=0.05)
    try:
        writer.execute("INSERT INTO t VALUES ('one row')")
        assert _wait_for(
            lambda: checkpointer.last is not None and checkpointer.last[1] == checkpointer.last[2] > 0
        )
        count = checkpointer.checkpoints
        polls = checkpointer.polls
        assert _wait_for(lambda: checkpointer.polls >= polls + 20)
        assert checkpointer.checkpoints == count  # nothing new in the WAL: no checkpoint, however old
    finally:
        checkpointer.close()
        writer.close()


def test_without_a_readable_wal_index_the_wal_files_size_decides(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    writer = _wal_writer(path)
    checkpointer = WalCheckpointer(path, threshold_bytes=64 * 1024, poll_s=0.005, max_age_s=3600)
    checkpointer._shm = tmp_path / "absent-shm"  # as where the -shm file cannot be read
    try:
        assert checkpointer._frames() is None
        for _ in range(100):
            writer.execute("INSERT INTO t VALUES (?)", ("y" * 1000,))
        assert _wait_for(lambda: checkpointer.checkpoints > 0)
    finally:
        checkpointer.close()
        writer.close()


def test_the_simulated_brokers_writer_leaves_checkpoints_to_the_thread(tmp_path: Path) -> None:
    from app.gateways.sim.store import SimStore

    store = SimStore(tmp_path / "broker.db")
    try:
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == WRITER_BACKSTOP_PAGES
    finally:
        store.close()
