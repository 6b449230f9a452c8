"""A simulated trading day driven on its own thread at a speed that can change while it runs (the
window's speed control), and that can be stopped at any moment.

Like `DayRunner` (app/core/simulation.py): the day's quote batches in time order; before each, every
timer due fires one moment at a time with the broker and the engine settled around it; then the clock
moves, the simulated exchange matches on the snapshot and the engine gets it. At 15:00 the exchange
closes (what still works is cancelled); timers go on to `until`. `hold()` lets the composition root
keep the clock still while work it started off the engine thread (a fetch over HTTP) is on its way.
"""

from __future__ import annotations

import logging
import threading
import time as wall
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

from app.core.clock import SimClock
from app.core.engine import Engine
from app.core.messages import QuotesArrived, StartDay
from app.domain.clock import CN_TZ

log = logging.getLogger(__name__)
CLOSE = time(15, 0)
WAIT = 30.0


class PacedDay:
    def __init__(
        self,
        *,
        engine: Engine,
        venue: Any,  # SimulatedVenue with wait_idle / work_received / end_day
        feed: Any,  # QuoteSource: instruments(day), batches(day)
        clock: SimClock,
        day: date,
        until: time = time(15, 35),
        speed: float | None = 60.0,
        on_started: Callable[[], None] | None = None,
    ) -> None:
        self.engine, self.venue, self.feed, self.clock, self.day = engine, venue, feed, clock, day
        self.until = datetime.combine(day, until, CN_TZ)
        self._speed = speed or None
        self._stop = threading.Event()
        self._holds = 0
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self.on_started = on_started
        self.done = threading.Event()
        self.error: BaseException | None = None
        # pacing: the wall time and simulated time the current speed was set at
        self._anchor = (wall.perf_counter(), clock.now())

    # ------------------------------------------------------------------ control (any thread)
    @property
    def speed(self) -> float | None:
        return self._speed

    def set_speed(self, speed: float | None) -> None:
        """Simulated seconds per real second; None or 0: as fast as it goes."""
        with self._cond:
            self._speed = speed or None
            self._anchor = (wall.perf_counter(), self.clock.now())
            self._cond.notify_all()

    def hold(self) -> None:
        with self._cond:
            self._holds += 1

    def release(self) -> None:
        with self._cond:
            self._holds = max(0, self._holds - 1)
            self._cond.notify_all()

    def start(self) -> PacedDay:
        self._thread = threading.Thread(target=self._run, name="tiller-sim-day", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    # ------------------------------------------------------------------ the day's thread
    def _run(self) -> None:
        try:
            self._drive()
        except _Stopped:
            pass
        except BaseException as exc:  # said, never silent; the window shows it
            log.exception("the simulated day stopped on an error")
            self.error = exc
        finally:
            self.done.set()

    def _settle(self) -> None:
        for _ in range(1000):
            self._wait_holds()
            before = self.venue.work_received()
            self.venue.wait_idle(WAIT)
            self.engine.wait_idle(WAIT)
            if self.venue.work_received() == before and not self._holds:
                return
        raise RuntimeError("the simulated day does not settle")

    def _wait_holds(self) -> None:
        with self._cond:
            deadline = wall.monotonic() + WAIT
            while self._holds and not self._stop.is_set():
                left = deadline - wall.monotonic()
                if left <= 0:
                    log.warning("simulated day: waited %ss for held work; going on", WAIT)
                    self._holds = 0
                    break
                self._cond.wait(min(left, 0.1))
        if self._stop.is_set():
            raise _Stopped

    def _pace(self, to: datetime) -> None:
        while True:
            if self._stop.is_set():
                raise _Stopped
            with self._cond:
                speed = self._speed
                wall0, sim0 = self._anchor
                if not speed:
                    return
                ahead = (to - sim0).total_seconds() / speed - (wall.perf_counter() - wall0)
                if ahead <= 0:
                    return
                self._cond.wait(min(ahead, 0.1))

    def _timers(self, upto: datetime) -> None:
        while (due := self.clock.next_timer_at()) is not None and due <= upto:
            self._settle()
            self._pace(due)
            self.clock.advance_to(max(due, self.clock.now()))
            self._settle()

    def _drive(self) -> None:
        engine, venue, feed, clock, day = self.engine, self.venue, self.feed, self.clock, self.day
        infos = feed.instruments(day)
        venue.set_instruments(infos)
        venue.begin_day(day)
        engine.post(StartDay(day, infos))
        self._settle()
        if self.on_started is not None:
            self.on_started()
        self._settle()
        start = clock.now()
        close = datetime.combine(day, CLOSE, CN_TZ)
        with self._cond:
            self._anchor = (wall.perf_counter(), start)
        for ts, quotes in feed.batches(day):
            if ts > self.until or ts > close:
                break
            if ts <= start:
                continue
            self._timers(ts)
            self._pace(ts)
            if ts > clock.now():
                clock.advance_to(ts)
            venue.on_quotes(quotes)
            venue.wait_idle(WAIT)
            engine.post(QuotesArrived(quotes))
            self._settle()
        if self.until >= close and clock.now() <= close:
            self._timers(close)
            self._settle()
            venue.end_day()
            self._settle()
        self._timers(self.until)
        self._settle()
        if self.until > clock.now():
            self._pace(self.until)
            clock.advance_to(self.until)
            self._settle()


class _Stopped(Exception):
    pass
