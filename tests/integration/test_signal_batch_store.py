"""Fetched batches in the OMS stores (SQLite and in-memory alike): stored once, lines not taken in."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import pytest

from app.core.ports import OmsStore
from app.domain.clock import CN_TZ
from app.domain.side import Side
from app.domain.signals import SignalBatch, SignalLine
from app.storage.database import open_database
from app.storage.memory_store import MemoryOmsStore
from app.storage.oms_store import SqliteOmsStore

DAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 8, 50, tzinfo=CN_TZ)
LINE = SignalLine("1", "s", DAY, "600000.SH", "", Side.BUY, 100, None, time(9, 30))
BATCH = SignalBatch("s", DAY, (LINE,), (("2", "direction 应为 '1'(买) 或 '2'(卖), was '9'"),))


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> OmsStore:
    if request.param == "memory":
        return MemoryOmsStore()
    return SqliteOmsStore(open_database(tmp_path / "tiller.db"))


def test_fetched_batch_when_staged_twice_then_stored_once_and_not_taken_in(store: OmsStore) -> None:
    store.stage_signal_batch(BATCH, "bigquant", NOW)
    store.commit()
    store.stage_signal_batch(BATCH, "bigquant", NOW)
    store.commit()

    assert store.load_signal_batch_ids(DAY) == {BATCH.batch_id}
    assert store.load_signal_batch_ids(date(2026, 11, 24)) == set()
    assert store.load_signal_ids("s", DAY) == set()  # the planner takes lines in, not the fetch
    store.close()


def test_fetched_batch_when_discarded_then_not_stored(store: OmsStore) -> None:
    store.stage_signal_batch(BATCH, "bigquant", NOW)
    store.discard()
    store.commit()
    assert store.load_signal_batch_ids(DAY) == set()
    store.close()


def test_fetched_then_taken_in_then_one_batch_row_marked_taken(tmp_path: Path) -> None:
    store = SqliteOmsStore(open_database(tmp_path / "tiller.db"))
    store.stage_signal_batch(BATCH, "bigquant", NOW)
    store.commit()
    store.stage_signal_lines(BATCH, BATCH.lines, NOW)
    store.commit()
    store.stage_signal_batch(BATCH, "bigquant", NOW)  # fetched again after it was taken in
    store.commit()
    rows = store.conn.execute("SELECT batch_id, source, line_count, status FROM signal_batches").fetchall()
    assert rows == [(BATCH.batch_id, "bigquant", 1, "taken")]
    assert store.load_signal_ids("s", DAY) == {"1"}
    store.close()
