"""Delivering the outbox: every payload until it is acknowledged, once per sync_id.

The payload is committed to `sync_outbox` before any attempt (with the rest of the close). An entry is
marked delivered only after the receiver acknowledged it, and an entry marked delivered is never sent
again, across restarts. A crash between the acknowledgement and the mark sends that sync_id once more
after the restart: the receiver upserts by sync_id (BIGQUANT.md: "sync_id … upsert key", sent also as
the `Idempotency-Key` header), so the account receives each sync_id exactly once in effect.

Only temporary failures (no connection, a timeout, HTTP 408/425/429/5xx) are retried, with exponential
backoff; a refusal (another 4xx, an envelope `code` other than 0) is recorded with its message and
raised as an alert, and the entry waits for the investor (`python -m app sync --day`) instead of
being hammered. Runs on a worker thread: HTTP never blocks the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    TEMPORARY = "temporary"  # worth trying again later
    PERMANENT = "permanent"  # refused: trying again sends the same refusal


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    message: str = ""


class SyncTransport(Protocol):
    """Sends one payload (app/clients/sync.py over HTTP); never raises: every failure is a SendResult."""

    def send(self, sync_id: str, body: bytes) -> SendResult: ...


class PendingEntry(Protocol):
    sync_id: str
    trading_day: str
    revision: int
    body: bytes
    attempts: int


class OutboxPort(Protocol):
    """The delivery side of the outbox (app/storage/eod_store.Outbox)."""

    def pending(self) -> list[PendingEntry]: ...

    def record_attempt(self, sync_id: str, error: str | None) -> None: ...

    def mark_delivered(self, sync_id: str, now: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class Backoff:
    first_s: float = 2.0
    factor: float = 2.0
    cap_s: float = 300.0
    attempts_per_round: int = 6  # then the entry waits for the next round (the worker's retry timer)

    def __post_init__(self) -> None:
        if not (
            self.first_s > 0
            and self.factor >= 1
            and self.cap_s >= self.first_s
            and self.attempts_per_round >= 1
        ):
            raise ValueError(f"backoff settings out of range: {self}")

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1, 2, …)."""
        return min(self.cap_s, self.first_s * self.factor ** (failures - 1))


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sync_id: str
    trading_day: str
    outcome: Outcome
    attempts: int  # made in this round
    message: str = ""


AlertFn = Callable[[str, str, str], None]


def deliver_pending(
    outbox: OutboxPort,
    transport: SyncTransport,
    *,
    now: Callable[[], datetime],
    wait: Callable[[float], bool],
    backoff: Backoff = Backoff(),
    alert: AlertFn | None = None,
    only_day: str | None = None,
) -> list[DeliveryReport]:
    """One round over every entry not yet delivered (oldest first). `wait(seconds)` sleeps between
    retries and returns True when the caller wants to stop (then the round ends at once)."""
    reports = []
    for entry in outbox.pending():
        if only_day is not None and entry.trading_day != only_day:
            continue
        failures = 0
        while True:
            result = transport.send(entry.sync_id, entry.body)
            if result.outcome is Outcome.ACKNOWLEDGED:
                outbox.mark_delivered(entry.sync_id, now())
                reports.append(DeliveryReport(entry.sync_id, entry.trading_day, result.outcome, failures + 1))
                log.info("sync %s (%s r%d) delivered", entry.sync_id, entry.trading_day, entry.revision)
                break
            failures += 1
            outbox.record_attempt(entry.sync_id, result.message or result.outcome.value)
            if result.outcome is Outcome.PERMANENT or failures >= backoff.attempts_per_round:
                reports.append(
                    DeliveryReport(entry.sync_id, entry.trading_day, result.outcome, failures, result.message)
                )
                if alert is not None:
                    what = "被拒绝 (refused)" if result.outcome is Outcome.PERMANENT else "暂时失败 (failing)"
                    alert(
                        "error" if result.outcome is Outcome.PERMANENT else "warning",
                        "sync",
                        f"{entry.trading_day} 日终同步{what}, {failures} 次 (attempts): {result.message}",
                    )
                break
            if wait(backoff.delay(failures)):
                reports.append(
                    DeliveryReport(entry.sync_id, entry.trading_day, result.outcome, failures, result.message)
                )
                return reports
    return reports


class DeliveryWorker:
    """A thread that delivers the outbox: at start, when kicked (a new entry), and again after
    `retry_s` while something is still pending. The outbox is opened on the worker's own thread."""

    def __init__(
        self,
        outbox_factory: Callable[[], OutboxPort],
        transport: SyncTransport,
        *,
        now: Callable[[], datetime],
        backoff: Backoff = Backoff(),
        retry_s: float = 300.0,
        alert: AlertFn | None = None,
        on_round: Callable[[list[DeliveryReport]], None] | None = None,
    ) -> None:
        self._factory = outbox_factory
        self._transport = transport
        self._now = now
        self._backoff = backoff
        self._retry_s = retry_s
        self._alert = alert
        self._on_round = on_round
        self._stop = threading.Event()
        self._kick = threading.Event()
        self._rounds = threading.Condition()
        self._wanted = 1  # the first round at start
        self._done = 0
        self._thread = threading.Thread(target=self._run, name="tiller-sync", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def kick(self) -> None:
        with self._rounds:
            self._wanted += 1
        self._kick.set()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until a round has run after the last kick (e.g. before stopping at the end of a run)."""
        with self._rounds:
            wanted = self._wanted
            return self._rounds.wait_for(lambda: self._done >= wanted or not self._thread.is_alive(), timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            outbox = self._factory()
        except Exception as exc:
            log.exception("the sync outbox could not be opened")
            if self._alert is not None:
                self._alert(
                    "error", "sync", f"无法打开同步发件箱 (the sync outbox could not be opened): {exc}"
                )
            return
        try:
            while not self._stop.is_set():
                self._kick.clear()
                with self._rounds:
                    starting = self._wanted
                try:
                    reports = deliver_pending(
                        outbox, self._transport, now=self._now, wait=self._stop.wait,
                        backoff=self._backoff, alert=self._alert,
                    )  # fmt: skip
                except Exception as exc:  # a storage error: say it, try again later
                    log.exception("sync delivery round failed")
                    reports = []
                    if self._alert is not None:
                        self._alert("error", "sync", f"日终同步出错 (sync delivery failed): {exc}")
                if self._on_round is not None:
                    self._on_round(reports)
                with self._rounds:
                    self._done = starting
                    self._rounds.notify_all()
                still = any(r.outcome is not Outcome.ACKNOWLEDGED for r in reports)
                self._kick.wait(self._retry_s if still else None)
        finally:
            with self._rounds:
                self._rounds.notify_all()
            close = getattr(outbox, "close", None)
            if callable(close):
                close()
