"""Fetching never blocks the engine; batches are stored once, not taken in; a failed fetch is an
alert and no order. Real engine, real SQLite file, the dev server over real HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import SimSetup
from app.clients.fetch_worker import SignalFetchWorker
from app.core.engine import Engine
from app.core.messages import SignalsReceived
from app.devserver.server import DevState
from app.feeds import InstrumentSpec
from tests.helpers.bigquant import DAY, FIXTURE_IDS, STRATEGY, dev_server, source_for
from tests.helpers.engine_day import CODES, make_setup, open_day

WAIT = 30.0
# the sample's instruments, so that every line of it is known on the day
SAMPLE_CODES = [
    InstrumentSpec(code, prev_close=D(price))
    for code, price in [("600519.SH", "1480.50"), ("000001.SZ", "11.37"), ("300750.SZ", "251.20"),
                        ("688981.SH", "89.66"), ("600767.SH", "0.42"), ("430047.BJ", "9.80")]
]  # fmt: skip


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[SimSetup]:
    running = open_day(make_setup(tmp_path / "data", codes=SAMPLE_CODES))
    try:
        yield running
    finally:
        running.close()


def _rows(engine: Engine, sql: str) -> list[tuple[Any, ...]]:
    return engine.call(lambda e: e.store.conn.execute(sql).fetchall())


def _received(setup: SimSetup) -> list[SignalsReceived]:
    events: list[SignalsReceived] = []
    setup.engine.subscribe(lambda event: events.append(event) if isinstance(event, SignalsReceived) else None)
    return events


def test_fetch_when_server_slow_then_engine_keeps_serving_and_batch_arrives_as_message(
    setup: SimSetup, tmp_path: Path
) -> None:
    events = _received(setup)
    with dev_server() as server:
        server.state.slow_seconds = 120.0
        server.state.set_fault("slow", times=1)
        worker = SignalFetchWorker(
            source_for(server, timeout=60.0), setup.engine.post, raw_dir=tmp_path / "raw"
        )
        worker.start()
        try:
            worker.request(DAY)
            wait_for(lambda: server.state.count() >= 1, "the fetch to be under way")
            # the HTTP request hangs at the server; the engine answers meanwhile
            assert setup.engine.call(lambda e: len(e.signal_batches)) == 0
            server.state.slow_release.set()
            wait_for(lambda: setup.engine.call(lambda e: len(e.signal_batches)) == 1, "the batch")
        finally:
            worker.stop()

    (batch,) = setup.engine.call(lambda e: list(e.signal_batches.values()))
    assert [line.signal_id for line in batch.lines] == FIXTURE_IDS
    assert _rows(
        setup.engine,
        "SELECT batch_id, strategy_id, trading_day, source, line_count, status FROM signal_batches",
    ) == [(batch.batch_id, STRATEGY, DAY.isoformat(), "bigquant", 6, "fetched")]
    # stored, not taken in: the planner decides; and no order was made by the fetch
    assert _rows(setup.engine, "SELECT count(*) FROM signal_lines") == [(0,)]
    assert setup.engine.call(lambda e: len(e.oms.orders)) == 0
    new, done = setup.engine.take_in(batch)
    assert (len(new), done) == (6, [])
    raw = json.loads(
        (tmp_path / "raw" / DAY.isoformat() / f"{batch.batch_id}.json").read_text(encoding="utf-8")
    )
    assert raw["batch_id"] == batch.batch_id
    assert [item["planned_order_id"] for item in json.loads(raw["pages"][0])["data"]["items"]] == FIXTURE_IDS
    assert [e.new_batch_ids for e in events] == [(batch.batch_id,)]


def test_same_batch_fetched_twice_then_stored_once(setup: SimSetup, tmp_path: Path) -> None:
    events = _received(setup)
    with dev_server() as server:
        worker = SignalFetchWorker(source_for(server), setup.engine.post, raw_dir=tmp_path / "raw").start()
        try:
            worker.request(DAY)
            worker.request(DAY)
            wait_for(lambda: len(events) == 2, "two fetches")
        finally:
            worker.stop()
    assert _rows(setup.engine, "SELECT count(*) FROM signal_batches") == [(1,)]
    assert len(list((tmp_path / "raw" / DAY.isoformat()).iterdir())) == 1
    assert [len(e.new_batch_ids) for e in events] == [1, 0]
    assert events[0].batches == events[1].batches


@pytest.mark.parametrize(("fault", "words"), [("http500", "HTTP 500"), ("page_missing", "a page is missing"),
                                              ("truncated", "not JSON"), ("auth", "the key was refused")])  # fmt: skip
def test_failed_or_partial_fetch_then_alert_and_no_batch_no_order(
    setup: SimSetup, fault: str, words: str
) -> None:
    events = _received(setup)
    with dev_server() as server:
        server.state.set_fault(fault)
        worker = SignalFetchWorker(source_for(server, retries=1, page_size=4), setup.engine.post).start()
        try:
            worker.request(DAY)
            wait_for(
                lambda: any(a.category == "signals" for a in setup.engine.call(lambda e: list(e.alerts))),
                "the alert",
            )
        finally:
            worker.stop()
    (alert,) = [a for a in setup.engine.call(lambda e: list(e.alerts)) if a.category == "signals"]
    assert alert.level == "error"
    assert "no order is placed" in alert.message and words in alert.message
    assert _rows(setup.engine, "SELECT count(*) FROM signal_batches") == [(0,)]
    assert setup.engine.call(lambda e: (len(e.signal_batches), len(e.oms.orders))) == (0, 0)
    assert events == []


def test_bad_line_then_warning_and_the_rest_of_the_batch_stored(setup: SimSetup) -> None:
    state = DevState()
    state.items[2] = dict(state.items[2], order_qty=0)
    with dev_server(state) as server:
        worker = SignalFetchWorker(source_for(server), setup.engine.post).start()
        try:
            worker.request(DAY)
            wait_for(lambda: setup.engine.call(lambda e: len(e.signal_batches)) == 1, "the batch")
        finally:
            worker.stop()
    assert _rows(setup.engine, "SELECT line_count FROM signal_batches") == [(5,)]
    (alert,) = [a for a in setup.engine.call(lambda e: list(e.alerts)) if a.category == "signals"]
    assert alert.level == "warning" and "145909292: order_qty" in alert.message


def test_worker_when_source_raises_a_bug_then_failed_fetch_named_not_a_dead_thread(setup: SimSetup) -> None:
    class Broken:
        def fetch(self, day: object) -> list[object]:
            raise ZeroDivisionError("a bug")

    worker = SignalFetchWorker(Broken(), setup.engine.post, name="broken").start()
    try:
        worker.request(DAY)
        worker.request(DAY)
        wait_for(
            lambda: sum(a.category == "signals" for a in setup.engine.call(lambda e: list(e.alerts))) == 2,
            "two alerts",
        )
    finally:
        worker.stop()
    alerts = [a for a in setup.engine.call(lambda e: list(e.alerts)) if a.category == "signals"]
    assert all("ZeroDivisionError: a bug" in a.message for a in alerts)


def test_demo_batch_comes_over_http_from_the_local_server(tmp_path: Path) -> None:
    import io

    from app.config import load_settings
    from app.demo import run_demo

    settings = load_settings(env={"TILLER_DATA_DIR": str(tmp_path)}, path=tmp_path / "none.toml")
    result = run_demo(settings, seed=7, speed=0, data_dir=tmp_path / "d", out=io.StringIO(), progress=False)
    assert result.fetched_from.startswith("http://127.0.0.1:")
    assert result.fetched_from.endswith("/bigapis/trading/v1")
    assert sorted(len(b.lines) for b in result.batches) == [5, 6]  # both followed strategies' batches
    assert len({b.strategy_id for b in result.batches}) == 2


def test_line_for_an_instrument_the_day_does_not_list_then_rejected(tmp_path: Path) -> None:
    setup = open_day(make_setup(tmp_path / "data", codes=CODES))  # 600000.SH and 000001.SZ only
    try:
        with dev_server() as server:
            worker = SignalFetchWorker(source_for(server), setup.engine.post).start()
            try:
                worker.request(DAY)
                wait_for(lambda: setup.engine.call(lambda e: len(e.signal_batches)) == 1, "the batch")
            finally:
                worker.stop()
        (batch,) = setup.engine.call(lambda e: list(e.signal_batches.values()))
    finally:
        setup.close()
    assert [line.code for line in batch.lines] == ["000001.SZ"]
    assert ("145909290", "当日未知证券 (unknown instrument on 2026-11-23): 600519.SH") in batch.rejected
    assert len(batch.rejected) == 5


def test_same_batch_after_a_restart_then_still_stored_once(tmp_path: Path) -> None:
    for _ in range(2):
        setup = open_day(make_setup(tmp_path / "data", codes=SAMPLE_CODES))
        events = _received(setup)
        try:
            with dev_server() as server:
                worker = SignalFetchWorker(source_for(server), setup.engine.post).start()
                try:
                    worker.request(DAY)
                    wait_for(lambda events=events: len(events) == 1, "the fetch")
                finally:
                    worker.stop()
            rows = _rows(setup.engine, "SELECT count(*) FROM signal_batches")
        finally:
            setup.close()
        assert rows == [(1,)]
    assert events[0].new_batch_ids == ()  # the second run: known from the file
