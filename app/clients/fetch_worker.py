"""Fetching never blocks the engine: HTTP runs on this worker's own thread.

`SignalFetchWorker.request(day)` returns at once; the worker fetches from its source and hands the
engine one `SignalsFetched` message (validated batches, or the plain reason the fetch failed) through
`deliver` — normally `Engine.post`. A raw copy of what BigQuant answered is kept in `raw_dir`, one
file per batch, written once (fetching the same batch twice changes nothing).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from app.clients.bigquant import BigQuantError
from app.clients.planned_orders import PlannedOrdersError
from app.core.messages import SignalsFetched
from app.core.ports import SignalSource
from app.domain.signals import SignalBatch

log = logging.getLogger(__name__)
_STOP = object()


class SignalFetchWorker:
    def __init__(
        self,
        source: SignalSource,
        deliver: Callable[[SignalsFetched], None],
        *,
        name: str = "bigquant",
        raw_dir: Path | None = None,
    ) -> None:
        self.source = source
        self.deliver = deliver
        self.name = name
        self.raw_dir = raw_dir
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pending = 0  # requests not yet delivered
        self._idle = threading.Condition()

    def start(self) -> SignalFetchWorker:
        self._thread = threading.Thread(target=self._run, name=f"tiller-fetch-{self.name}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def request(self, day: date) -> None:
        """Fetch `day`'s batches in the background (thread-safe, never waits)."""
        with self._idle:
            self._pending += 1
        self._queue.put(day)

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Until every request so far has been delivered (a simulated day moves on only then)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            day = self._queue.get()
            if day is _STOP:
                return
            try:
                self.deliver(self.fetch_once(day))
            except Exception:  # a deliver that raises must not end the worker
                log.exception("delivering the fetch of %s for %s", self.name, day)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def fetch_once(self, day: date) -> SignalsFetched:
        """One fetch as a message; never raises (a bug in a source is a failed fetch, named)."""
        try:
            batches = self.source.fetch(day)
        except (BigQuantError, PlannedOrdersError) as exc:
            return SignalsFetched(day, self.name, (), str(exc))
        except Exception as exc:
            log.exception("fetching %s for %s", self.name, day)
            return SignalsFetched(day, self.name, (), f"{type(exc).__name__}: {exc}")
        try:
            self._keep_raw(batches)
        except OSError as exc:  # the copy is for the record: its failure is said, the batch goes on
            log.warning("cannot keep the raw copy of %s for %s: %s", self.name, day, exc)
        return SignalsFetched(day, self.name, tuple(batches))

    def _keep_raw(self, batches: list[SignalBatch]) -> None:
        pages = getattr(self.source, "raw_pages", None)
        if self.raw_dir is None or not isinstance(pages, dict):
            return
        for batch in batches:
            folder = self.raw_dir / batch.trading_day.isoformat()
            path = folder / f"{batch.batch_id}.json"
            if path.exists():
                continue
            folder.mkdir(parents=True, exist_ok=True)
            copy = {
                "source": self.name,
                "strategy_id": batch.strategy_id,
                "trading_day": batch.trading_day.isoformat(),
                "batch_id": batch.batch_id,
                "pages": pages.get(batch.strategy_id, []),  # the answers' text, exactly as received
                "rejected": [list(entry) for entry in batch.rejected],
            }
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text(json.dumps(copy, ensure_ascii=False, indent=1), encoding="utf-8")
            temporary.replace(path)
