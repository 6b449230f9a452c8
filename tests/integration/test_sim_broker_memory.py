"""The simulated broker with its books in memory (path MEMORY: `store.MemoryBooks`, Python dicts, no
SQLite): no file anywhere, the same counter, the same answers as its file would give, and queries
that read whole batches only while the broker thread writes."""

from __future__ import annotations

import os
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.identifiers import ClientOrderId
from app.domain.orders import OrderStatus
from app.domain.reports import ConnectionChanged
from app.domain.side import Side
from app.gateways.sim.state import POSITION_COLUMNS, TRADE_COLUMNS
from app.gateways.sim.store import MEMORY, MemoryBooks
from tests.integration.test_sim_broker_kit import CASH, SH, SZ, D, Sim, ladder, quote, start_sim

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
    """A query racing the writer must neither fail nor see half a batch (cash moved, position not yet)."""
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

    def both(books: MemoryBooks) -> tuple[int, int]:  # one snapshot: the position and its trades
        held = sum(row[POSITION_COLUMNS.index("total")] for row in books._positions.values())
        bought = sum(row[TRADE_COLUMNS.index("qty")] for row in books._trades.values())
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


# ---------------------------------------------------------------------------- the same as the file
_CODES = (SH, SZ)
_op = st.one_of(
    st.tuples(st.just("quote"), st.sampled_from(_CODES), st.integers(-30, 30), st.integers(0, 3000)),
    st.tuples(st.just("buy"), st.sampled_from(_CODES), st.integers(1, 30), st.integers(-5, 5)),
    st.tuples(st.just("sell"), st.sampled_from(_CODES), st.integers(1, 30), st.integers(-5, 5)),
    st.tuples(st.just("cancel"), st.integers(0, 20)),
    st.tuples(st.just("later"), st.integers(1, 600)),
    st.tuples(st.just("position"), st.sampled_from(_CODES), st.integers(0, 50)),
)


def _apply(sim: Sim, op: tuple, placed: list) -> None:
    kind = op[0]
    if kind == "quote":
        _, code, ticks, lots = op
        base = {SH: D("10.00"), SZ: D("12.00")}[code] + D("0.01") * ticks
        sim.quotes(
            quote(
                code, sim.clock.now(), last=str(base), volume=10**6,
                bids=ladder(str(base), "-0.01", lots * 100), asks=ladder(str(base + D("0.01")), "0.01", lots * 100),
            )
        )  # fmt: skip
    elif kind in ("buy", "sell"):
        _, code, lots, ticks = op
        price = {SH: D("10.00"), SZ: D("12.00")}[code] + D("0.01") * ticks
        placed.append(sim.submit(code, Side.BUY if kind == "buy" else Side.SELL, lots * 100, str(price)))
    elif kind == "cancel":
        ids = [c for c in placed if isinstance(c, ClientOrderId)]
        if ids:
            coid = ids[op[1] % len(ids)]
            if sim.order(coid).status.is_working:
                sim.cancel(coid)
    elif kind == "later":
        sim.advance(sim.clock.now() + timedelta(seconds=op[1]))
        sim.broker.wait_idle()
    else:
        _, code, lots = op
        try:
            sim.broker.set_position(code, lots * 100, D("10.50"))
        except ValueError as exc:  # working orders on the code: refused, on both sides alike
            placed.append(str(exc))


def _seen(sim: Sim) -> tuple:
    broker = sim.broker
    return (
        broker.query_orders(), broker.query_trades(), broker.query_positions(), broker.query_asset(),
        broker.cash_identity(), [r for r in sim.reports if not isinstance(r, ConnectionChanged)],
    )  # fmt: skip


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_op, min_size=1, max_size=25))
def test_the_books_in_memory_answer_exactly_as_the_file_does(tmp_path: Path, ops: list[tuple]) -> None:
    """The same orders, quotes, cancels and time against a broker on its file and one in memory:
    every report pushed and every query answered is the same, and so are the books rebuilt from what
    each committed (the path of a failed batch)."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    on_file, in_memory = start_sim(folder / "sim.sqlite"), start_sim(Path(MEMORY))
    try:
        placed_file: list = []
        placed_memory: list = []
        for op in ops:
            _apply(on_file, op, placed_file)
            _apply(in_memory, op, placed_memory)
            assert _seen(in_memory) == _seen(on_file), op
        assert placed_memory == placed_file
        for sim in (on_file, in_memory):
            with sim.broker._proc_lock:
                sim.broker._load()
        assert _seen(in_memory) == _seen(on_file)
        assert in_memory.broker._counter.meta() == on_file.broker._counter.meta()
    finally:
        on_file.broker.close()
        in_memory.broker.close()
    assert os.listdir(folder) != []  # the file side wrote its file; the memory side none (above)
