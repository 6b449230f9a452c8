"""One alert stream out of Tiller (issue item 8): every alert is kept in the database by the engine;
those serious enough are also sent to the investor's channels (e-mail, WeCom, DingTalk, Feishu).

Sending never blocks the engine: the engine's listener only puts the alert on a queue and a worker
thread sends. A storm is rate-limited: per window, the first `max_per_window` alerts go one by one,
the rest are counted and go as ONE summary when the window ends. A channel that fails is logged (not
alerted again: that would feed the storm) and the other channels still get the message.
"""

from __future__ import annotations

import logging
import queue
import threading
import time as wall
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.core.messages import AlertRaised

log = logging.getLogger(__name__)

LEVELS = {"info": 0, "warning": 1, "error": 2, "critical": 3}


class AlertChannel(Protocol):
    name: str

    def send(self, subject: str, text: str) -> None:
        """Deliver one message; raise on failure (the dispatcher logs it)."""
        ...


@dataclass(frozen=True, slots=True)
class Outgoing:
    subject: str
    text: str
    summary: bool = False


def _line(alert: AlertRaised) -> str:
    return f"[{alert.level}] {alert.ts:%Y-%m-%d %H:%M:%S} {alert.category}: {alert.message}"


@dataclass
class RateLimiter:
    """Pure: which alerts go out now, and the summary of those held back once their window ends."""

    max_per_window: int = 5
    window_s: float = 300.0
    min_level: str = "warning"
    _window_start: float | None = None
    _sent: int = 0
    _held: list[AlertRaised] = field(default_factory=list)

    def wants(self, alert: AlertRaised) -> bool:
        return LEVELS.get(alert.level, 3) >= LEVELS[self.min_level]

    def offer(self, alert: AlertRaised, now: float) -> list[Outgoing]:
        out = self.flush(now)
        if not self.wants(alert):
            return out
        if self._window_start is None:
            self._window_start, self._sent = now, 0
        if self._sent < self.max_per_window:
            self._sent += 1
            out.append(Outgoing(f"Tiller {alert.level}: {alert.category}", _line(alert)))
        else:
            self._held.append(alert)
        return out

    def next_flush_at(self) -> float | None:
        return None if self._window_start is None else self._window_start + self.window_s

    def flush(self, now: float) -> list[Outgoing]:
        """At or after the window's end: the summary of what was held (if anything), and a new window."""
        due = self.next_flush_at()
        if due is None or now < due:
            return []
        held, self._held = self._held, []
        self._window_start, self._sent = None, 0
        if not held:
            return []
        counts = Counter(f"{a.level}/{a.category}" for a in held)
        kinds = ", ".join(f"{k} ×{n}" for k, n in counts.most_common())
        shown = "\n".join(_line(a) for a in held[:10])
        more = f"\n… (+{len(held) - 10})" if len(held) > 10 else ""
        return [
            Outgoing(
                f"Tiller: {len(held)} 条告警已合并 ({len(held)} more alerts)",
                f"{self.window_s:g} 秒内另有 {len(held)} 条告警 (another {len(held)} alerts within "
                f"{self.window_s:g} s): {kinds}\n{shown}{more}\n"
                f"全部告警 (all alerts): python -m app alerts",
                summary=True,
            )
        ]


class AlertDispatcher:
    """The worker thread that sends alerts to the channels. `offer` is safe from any thread and never
    blocks (use it as, or from, an engine listener)."""

    def __init__(
        self,
        channels: Sequence[AlertChannel],
        limiter: RateLimiter,
        *,
        monotonic: Callable[[], float] = wall.monotonic,
    ) -> None:
        self.channels = list(channels)
        self.limiter = limiter
        self._monotonic = monotonic
        self._queue: queue.SimpleQueue[AlertRaised | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tiller-alerts", daemon=True)
        self.sent: list[tuple[str, Outgoing]] = []  # (channel, message) delivered, for the curious
        self.failures: list[tuple[str, str]] = []  # (channel, error)
        self._idle = threading.Condition()
        self._pending = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)

    def listener(self, event: object) -> None:
        """An engine listener: hands alerts on, ignores every other event."""
        if isinstance(event, AlertRaised):
            self.offer(event)

    def offer(self, alert: AlertRaised) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(alert)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while True:
            due = self.limiter.next_flush_at()
            wait = None if due is None else max(0.0, due - self._monotonic())
            try:
                item = self._queue.get(timeout=wait)
            except queue.Empty:
                self._send_all(self.limiter.flush(self._monotonic()))
                continue
            if item is None:
                # stopping: what is held still goes, as its summary
                self._send_all(self.limiter.flush(float("inf")))
                return
            try:
                self._send_all(self.limiter.offer(item, self._monotonic()))
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

    def _send_all(self, messages: Sequence[Outgoing]) -> None:
        for message in messages:
            for channel in self.channels:
                try:
                    channel.send(message.subject, message.text)
                    self.sent.append((channel.name, message))
                except Exception as exc:  # a channel down never stops the others, nor the engine
                    log.warning("alert channel %s failed: %s", channel.name, exc)
                    self.failures.append((channel.name, f"{type(exc).__name__}: {exc}"))
