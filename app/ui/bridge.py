"""The only adapter between the engine and Qt (STYLE.md §5): events in, commands out, never blocking.

**Events.** `EngineBridge.listener` is subscribed to the Terminal; it runs on the engine thread after
each commit and only appends the event to a buffer under a lock. The first event into an empty buffer
emits a queued signal to the GUI thread, which flushes the buffer no more often than once a frame
(`fps`, vn.py's event engine feeding its monitors, qutebrowser's throttle): quotes are coalesced to
the last one of each code and account updates to the last one, so a burst of thousands of events is
one `events_arrived(EventBatch)` per frame.

**The interest set.** The engine publishes every quote of the market (5,500 instruments every few
seconds); the window shows a few hundred. `set_interest(codes)` (GUI thread; the main window keeps it:
the watchlist, the holdings, the plan's and the working orders' codes, the charted instrument) makes
the listener drop every other quote on the engine thread, before anything crosses threads. The engine
still keeps every last quote (`Terminal.quotes()` reads any). The newest quote time still crosses
(`EventBatch.quotes_ts`: the status bar's "quotes are flowing"). Codes that join the set get their
last quote at once from a read off the GUI thread (`Terminal.quotes(codes)`), and every quote from
then on. Until `set_interest` is first called every quote crosses (`interest` is None).

**Snapshots.** `refresh()` asks the Terminal for a `TerminalSnapshot` on the command thread. The
snapshot is taken on the engine thread together with the number of events handed on so far, so the
events already inside it are dropped and none after it is lost: `snapshot_arrived(snapshot)`.

**Commands.** `run(fn, done, failed)` calls `fn()` (a Terminal method) on one worker thread, in the
order asked (a pause is never overtaken by a resume); `done(result)` or `failed(message in words)`
then run on the GUI thread. The GUI thread never waits on the engine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from app.core.messages import AccountUpdated, AlertRaised, QuotesUpdated
from app.core.planning.model import PlanError
from app.core.risk import ArmingError, RiskSettingError
from app.core.snapshot import TerminalSnapshot
from app.domain.market import Quote
from app.ui.words import tr

log = logging.getLogger(__name__)

DEFAULT_FPS = 20
_PLAIN = PlanError | RiskSettingError | ArmingError  # refusals already in words: no traceback logged


@dataclass
class EventBatch:
    """What arrived during one frame: the events in order, with quotes and account updates taken out
    and coalesced (the last quote of each code; the last account update)."""

    events: list[Any] = field(default_factory=list)
    quotes: dict[str, Quote] = field(default_factory=dict)
    account: AccountUpdated | None = None
    quotes_ts: datetime | None = None  # the newest quote the engine saw, kept or dropped

    def __bool__(self) -> bool:
        return bool(self.events or self.quotes or self.account is not None or self.quotes_ts is not None)


@dataclass(frozen=True, slots=True)
class _Quotes:
    """A QuotesUpdated cut down to the interest set on the engine thread."""

    quotes: tuple[Quote, ...]
    newest: datetime | None


DAY_ALERTS = 500  # the day's alerts a snapshot carries at most


def _day_alerts(terminal: Any) -> tuple[AlertRaised, ...]:
    """The day's committed alerts, newest first (command thread); () when the store cannot be read
    (the snapshot still comes) or the terminal has no store (stand-ins in tests)."""
    read = getattr(terminal, "day_alerts", None)
    if read is None:
        return ()
    try:
        return tuple(read(DAY_ALERTS))
    except Exception:
        log.warning("the day's earlier alerts could not be read", exc_info=True)
        return ()


def with_earlier_alerts(snapshot: TerminalSnapshot, stored: Sequence[AlertRaised]) -> TerminalSnapshot:
    """The snapshot's alerts (this session's, oldest first) with the day's stored ones (newest
    first, this session's committed ones among them) in front: each alert once, oldest first, at
    most DAY_ALERTS."""
    if not stored:
        return snapshot
    seen = Counter(snapshot.alerts)
    earlier: list[AlertRaised] = []
    for alert in stored:
        if seen[alert] > 0:
            seen[alert] -= 1
        else:
            earlier.append(alert)
    if not earlier:
        return snapshot
    merged = sorted([*reversed(earlier), *snapshot.alerts], key=lambda a: a.ts)  # stable: ties keep order
    return replace(snapshot, alerts=tuple(merged[-DAY_ALERTS:]))


def words(exc: BaseException) -> str:
    """An error of a command in words a user understands (the core's own messages already are)."""
    if isinstance(exc, _PLAIN):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return tr("引擎未及时响应，请稍后再试 (the engine did not answer in time; try again)")
    name = type(exc).__name__
    if name == "TradingHaltedError":
        return str(exc)
    return tr("操作未完成 (the command failed): {error}").format(error=exc or name)


class _Relay(QObject):
    """Lives on the GUI thread: a result emitted from the worker arrives here queued."""

    finished = Signal(object, object)  # callback, result
    errored = Signal(object, object)  # callback, message

    def __init__(self) -> None:
        super().__init__()
        self.finished.connect(self._finish)
        self.errored.connect(self._finish)

    @Slot(object, object)
    def _finish(self, callback: Any, value: Any) -> None:
        if callback is not None:
            callback(value)


class _Command(QRunnable):
    def __init__(self, fn: Callable[[], Any], done: Any, failed: Any, relay: _Relay) -> None:
        super().__init__()
        self._fn, self._done, self._failed, self._relay = fn, done, failed, relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # handed to the GUI thread in words, never raised in Qt's frames
            log.warning("command failed: %s", exc, exc_info=not isinstance(exc, _PLAIN))
            self._relay.errored.emit(self._failed, words(exc))
        else:
            self._relay.finished.emit(self._done, result)


class EngineBridge(QObject):
    events_arrived = Signal(object)  # EventBatch, at most once a frame
    snapshot_arrived = Signal(object)  # TerminalSnapshot
    command_failed = Signal(str)  # every failed command, in words (for the status bar and the log panel)
    _woken = Signal()

    def __init__(self, terminal: Any, *, fps: int = DEFAULT_FPS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.terminal = terminal
        self.frame_ms = max(1, int(1000 / max(1, fps)))
        self._lock = threading.Lock()
        self._buffer: list[tuple[int, Any]] = []
        self._seq = 0  # events handed on so far (engine thread only)
        self._floor = 0  # events at or below this are inside the last snapshot
        # snapshots asked for and not yet loaded: events stay buffered meanwhile, for an event newer
        # than the snapshot that reached the read model before it would be wiped by its load
        self._snapshots_pending = 0
        self._woke = False
        self._last_flush = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._woken.connect(self._on_woken)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # commands in the order asked
        self._relay = _Relay()
        self._relay.setParent(self)
        self.flushes = 0  # frames delivered (for tests and the benchmark)
        self.applied = 0  # the number of the last event delivered (or inside a loaded snapshot)
        self._interest: frozenset[str] | None = None  # None: every quote crosses
        self._delivered: dict[str, datetime] = {}  # the time of the last quote handed on, per code
        self.quotes_crossed = 0  # quotes handed to the GUI thread (engine thread; tests, benchmark)
        self.quotes_dropped = 0  # quotes dropped by the interest set (engine thread)

    # ------------------------------------------------------------------ the engine thread
    def listener(self, event: Any) -> None:
        """Subscribed to the Terminal: runs on the engine thread, only hands the event on (quotes
        outside the interest set are dropped here)."""
        if isinstance(event, QuotesUpdated):
            interest = self._interest  # one read of the reference: the GUI thread swaps it whole
            quotes = event.quotes
            if interest is None:
                self.quotes_crossed += len(quotes)
            else:
                kept = tuple(q for q in quotes if q.code in interest)
                newest = max((q.ts for q in quotes), default=None)
                self.quotes_crossed += len(kept)
                self.quotes_dropped += len(quotes) - len(kept)
                event = _Quotes(kept, newest)
        with self._lock:
            self._seq += 1
            self._buffer.append((self._seq, event))
            wake = not self._woke
            self._woke = True
        if wake:
            self._woken.emit()  # queued: the receiver lives on the GUI thread

    def _mark(self) -> int:
        with self._lock:
            return self._seq

    # ------------------------------------------------------------------ the GUI thread
    @Slot()
    def _on_woken(self) -> None:
        wait = self.frame_ms - int((time.monotonic() - self._last_flush) * 1000)
        if wait <= 0:
            self.flush()
        elif not self._timer.isActive():
            self._timer.start(wait)

    @Slot()
    def flush(self) -> None:
        """Deliver what arrived since the last frame (GUI thread); nothing while a snapshot is on its
        way (it is loaded first, then what came after it)."""
        if self._snapshots_pending:
            return
        with self._lock:
            buffered, self._buffer = self._buffer, []
            self._woke = False
        self._last_flush = time.monotonic()
        batch = EventBatch()
        floor = self._floor
        for seq, event in buffered:
            if seq <= floor:
                continue
            if isinstance(event, QuotesUpdated | _Quotes):
                for quote in event.quotes:
                    batch.quotes[quote.code] = quote
                newest = event.newest if isinstance(event, _Quotes) else None
                if newest is not None and (batch.quotes_ts is None or newest > batch.quotes_ts):
                    batch.quotes_ts = newest
            elif isinstance(event, AccountUpdated):
                batch.account = event
            else:
                batch.events.append(event)
        if batch:
            delivered = self._delivered
            for code, quote in batch.quotes.items():
                delivered[code] = quote.ts
            self.flushes += 1
            self.events_arrived.emit(batch)
        if buffered:
            self.applied = max(self.applied, buffered[-1][0])

    @property
    def interest(self) -> frozenset[str] | None:
        return self._interest

    def set_interest(self, codes: Iterable[str]) -> None:
        """Only quotes of `codes` cross to the GUI thread from now on (GUI thread). Codes that were
        not in the set get their last quote at once, read off the GUI thread."""
        new = frozenset(codes)
        old = self._interest
        if new == old:
            return
        with self._lock:  # the listener reads the reference once per event; the lock orders the swap
            self._interest = new
        added = set() if old is None else new - old  # None: every quote was crossing already
        for code in old - new if old is not None else ():
            self._delivered.pop(code, None)
        if not added:
            return
        terminal, wanted = self.terminal, sorted(added)
        self.run(lambda: terminal.quotes(wanted), self._on_quotes_read)

    def clear_interest(self) -> None:
        """Every quote crosses again."""
        with self._lock:
            self._interest = None

    def _on_quotes_read(self, quotes: dict[str, Quote]) -> None:
        """The last quotes of codes that joined the interest set (GUI thread): newer ones delivered
        meanwhile (or still buffered) win."""
        self.flush()
        interest, delivered = self._interest, self._delivered
        fresh = {
            code: q
            for code, q in quotes.items()
            if (interest is None or code in interest) and (code not in delivered or q.ts > delivered[code])
        }
        if fresh:
            for code, q in fresh.items():
                delivered[code] = q.ts
            self.flushes += 1
            self.events_arrived.emit(EventBatch(quotes=fresh))

    def refresh(self) -> None:
        """Take a new snapshot off the GUI thread; `snapshot_arrived` follows."""
        terminal = self.terminal

        def take() -> TerminalSnapshot:
            earlier = _day_alerts(terminal)  # first: what commits meanwhile is in the snapshot
            return with_earlier_alerts(terminal.snapshot(mark=self._mark), earlier)

        self._snapshots_pending += 1
        self.run(take, self._on_snapshot, self._snapshot_failed)

    def _on_snapshot(self, snapshot: TerminalSnapshot) -> None:
        self._snapshots_pending = max(0, self._snapshots_pending - 1)
        self._floor = max(self._floor, int(snapshot.mark or 0))
        self.snapshot_arrived.emit(snapshot)
        self.applied = max(self.applied, self._floor)
        self.flush()  # what came after the snapshot, on top of it

    def _snapshot_failed(self, words: str) -> None:
        self._snapshots_pending = max(0, self._snapshots_pending - 1)
        self.flush()

    def run(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[str], None] | None = None,
    ) -> None:
        """Call `fn()` on the command thread; `done(result)` / `failed(words)` on the GUI thread."""

        def fail(message: str) -> None:
            self.command_failed.emit(message)
            if failed is not None:
                failed(message)

        self._pool.start(_Command(fn, done, fail, self._relay))

    def wait_commands(self, msecs: int = 30000) -> bool:
        """Wait for the commands asked so far to finish (tests, closing the window)."""
        return self._pool.waitForDone(msecs)
