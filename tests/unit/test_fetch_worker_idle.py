"""SignalFetchWorker.wait_idle: a simulated day moves on only once every requested fetch is delivered;
a deliver that raises does not end the worker."""

from __future__ import annotations

import threading
from datetime import date

from app.clients.fetch_worker import SignalFetchWorker
from app.core.messages import SignalsFetched
from app.domain.signals import SignalBatch

DAY = date(2026, 11, 23)


class GatedSource:
    def __init__(self) -> None:
        self.gate = threading.Event()

    def fetch(self, day: date) -> list[SignalBatch]:
        assert self.gate.wait(30.0)
        return [SignalBatch("s", day, ())]


def test_wait_idle_waits_for_the_delivery_and_survives_a_deliver_that_raises() -> None:
    source = GatedSource()
    got: list[SignalsFetched] = []

    def deliver(message: SignalsFetched) -> None:
        got.append(message)
        if len(got) == 1:
            raise RuntimeError("a deliver that fails")

    worker = SignalFetchWorker(source, deliver).start()
    try:
        assert worker.wait_idle(0) is True  # nothing asked yet
        worker.request(DAY)
        assert worker.wait_idle(0.05) is False  # still fetching: the gate is shut
        source.gate.set()
        assert worker.wait_idle(30.0) is True
        worker.request(DAY)  # the worker lives on after the raising deliver
        assert worker.wait_idle(30.0) is True
    finally:
        worker.stop()
    assert [m.day for m in got] == [DAY, DAY]
