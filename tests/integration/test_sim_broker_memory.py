"""The simulated broker with its books in memory (SimStore(":memory:")): no file anywhere, the same
counter, and queries that read committed batches only while the broker thread writes."""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import pytest

from app.domain.orders import OrderStatus
from app.gateways.sim.store import MEMORY
from tests.integration.test_sim_broker_kit import CASH, SH, D, Sim, quote, start_sim

S = OrderStatus


@pytest.fixture
def memory_sim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Sim:
    monkeypatch.chdir(tmp_path)  # a file made by mistake would land here
    built = start_sim(Path(MEMORY))
    yield built
    built.broker.close()


def test_a_memory_broker_fills_books_and_answers_queries_and_leaves_no_file(
    memory_sim: Sim, tmp_path: Path
) -> None:
    memory_sim.quotes(
        quote(
            SH,
            memory_sim.clock.now(),
            last="10.00",
            volume=10**8,
            bids=[("10.00", 5000)],
            asks=[("10.01", 5000)],
        )
    )
    coid = memory_sim.buy(SH, 1000, "10.01")
    assert memory_sim.statuses(coid) == [S.ACCEPTED, S.FILLED]
    assert memory_sim.order(coid).filled_qty == 1000
    (position,) = memory_sim.broker.query_positions()
    assert (position.code, position.total) == (SH, 1000)
    assert memory_sim.broker.query_asset().cash < CASH
    cash, expected = memory_sim.broker.cash_identity()
    assert cash == expected
    assert os.listdir(tmp_path) == []  # no file, no sidecar, not even one named ":memory:"


def test_two_memory_brokers_do_not_share_books(memory_sim: Sim) -> None:
    other = start_sim(Path(MEMORY))
    try:
        other.broker.set_position(SH, 500, D("9.00"))
        assert memory_sim.broker.query_positions() == []
        assert [p.total for p in other.broker.query_positions()] == [500]
    finally:
        other.broker.close()


def test_queries_from_another_thread_see_whole_batches_while_the_broker_writes(memory_sim: Sim) -> None:
    """Shared-cache memory databases lock tables instead of waiting: a query racing the writer must
    neither fail (SQLITE_LOCKED) nor see half a batch (cash moved, position not yet)."""
    memory_sim.quotes(
        quote(
            SH,
            memory_sim.clock.now(),
            last="10.00",
            volume=10**8,
            bids=[("10.00", 10**7)],
            asks=[("10.01", 10**7)],
        )
    )
    store = memory_sim.broker._reader()

    def both(db: sqlite3.Connection) -> tuple[int, int]:  # one snapshot: the position and its trades
        held = db.execute("SELECT COALESCE(SUM(total), 0) FROM positions").fetchone()[0]
        bought = db.execute("SELECT COALESCE(SUM(qty), 0) FROM trades").fetchone()[0]
        return held, bought

    errors: list[BaseException] = []
    seen: list[tuple] = []
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                seen.append(store._read(both))
                memory_sim.broker.query_positions()
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for _ in range(60):
            memory_sim.buy(SH, 100, "10.01")
    finally:
        stop.set()
        reader.join(10)
    assert errors == []
    assert len(seen) > 1 and all(held == bought for held, bought in seen)
    assert max(held for held, _ in seen) > 0  # it read while buys were being booked
    (position,) = memory_sim.broker.query_positions()
    assert position.total == 6000
