"""Run a whole trading day on the simulated clock: quotes into the simulated exchange and the engine.

The driver steps through the day's quote batches in time order. At each step it first fires,
one moment at a time, every timer due by then (the scheduled actions are timers, and so are the
engine's own: answer timeouts, re-queries), waiting for the broker and the engine to be idle after
each; then it moves the clock, lets the simulated broker match on the new snapshot and hands the
snapshot to the engine. So a day is deterministic for a seed whatever the machine's speed. `speed` paces the day against
the wall clock (simulated seconds per real second); None runs it as fast as it goes.
"""

from __future__ import annotations

import time as wall
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import partial

from app.core.clock import SimClock
from app.core.engine import Engine
from app.core.messages import QuotesArrived, StartDay
from app.core.ports import QuoteSource, SimulatedVenue
from app.domain.clock import CN_TZ
from app.domain.market import InstrumentInfo


@dataclass(frozen=True, slots=True)
class ScheduledAction:
    at: time
    name: str
    run: Callable[[Engine], None]  # a timer: runs on the engine thread at `at`


@dataclass(frozen=True, slots=True)
class CallerAction:
    """Something the caller does at a set simulated time on its own thread (through the Terminal),
    e.g. an intervention: the day stops there, everything settles, `run()` runs, and the day goes on."""

    at: time
    name: str
    run: Callable[[], None]


@dataclass(frozen=True, slots=True)
class Progress:
    now: datetime
    fraction: float  # of the trading day, 0..1
    quotes: int


OPEN_OF_DAY = time(9, 15)
END_OF_DAY = time(15, 0)


class DayRunner:
    def __init__(
        self,
        *,
        engine: Engine,
        venue: SimulatedVenue,
        source: QuoteSource,
        clock: SimClock,
        day: date,
        actions: Sequence[ScheduledAction] = (),
        calls: Sequence[CallerAction] = (),
        speed: float | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        progress_every: float = 0.02,
    ) -> None:
        self.engine = engine
        self.venue = venue
        self.source = source
        self.clock = clock
        self.day = day
        self.actions = sorted(actions, key=lambda a: a.at)
        self.calls = sorted(calls, key=lambda a: a.at)  # stable: same time, given order
        self.speed = speed
        self.on_progress = on_progress
        self.progress_every = progress_every
        self.quotes = 0
        self.instruments: list[InstrumentInfo] = []

    def _at(self, t: time) -> datetime:
        return datetime.combine(self.day, t, CN_TZ)

    def settle(self) -> None:
        """Wait until the broker and the engine have both handled everything and the engine's
        reactions (an order sent on a fill, a re-send on a confirmed cancel) have nothing more on the
        wire: round after round until a round gave the broker nothing new."""
        for _ in range(1000):
            before = self.venue.work_received()
            self.venue.wait_idle(30.0)
            self.engine.wait_idle(30.0)
            if self.venue.work_received() == before:
                return
        raise RuntimeError(
            "the simulated day does not settle: the engine and the broker keep answering each other"
        )

    def start(self) -> list[InstrumentInfo]:
        self.instruments = self.source.instruments(self.day)
        self.venue.set_instruments(self.instruments)
        self.venue.begin_day(self.day)
        self.engine.post(StartDay(self.day, self.instruments))
        self.settle()
        for action in self.actions:
            self.engine.schedule_at(self._at(action.at), partial(action.run, self.engine), action.name)
        return self.instruments

    def run(self) -> None:
        if not self.instruments:
            self.start()
        day_start, day_end = self._at(OPEN_OF_DAY), self._at(END_OF_DAY)
        span = (day_end - day_start).total_seconds()
        wall_start, sim_start = wall.perf_counter(), self.clock.now()
        next_report = 0.0
        for ts, quotes in self.source.batches(self.day):
            self._run_timers(ts)
            if ts > self.clock.now():
                self.clock.advance_to(ts)
            self.venue.on_quotes(quotes)
            self.venue.wait_idle(30.0)
            self.engine.post(QuotesArrived(quotes))
            # everything this snapshot set off (fills, the orders the engine sends in answer, their
            # acks) is done before the clock moves on: an answer is never stamped with, nor matched
            # against, the next moment's market
            self.settle()
            self.quotes += len(quotes)
            if self.speed:
                self._pace(wall_start, sim_start, ts)
            fraction = min(1.0, max(0.0, (ts - day_start).total_seconds() / span))
            if self.on_progress is not None and fraction >= next_report:
                self.engine.wait_idle(30.0)
                self.on_progress(Progress(ts, fraction, self.quotes))
                next_report = fraction + self.progress_every
        self._run_timers(self._at(time(23, 59)))
        self.settle()
        self.venue.end_day()
        self.settle()
        if self.on_progress is not None:
            self.on_progress(Progress(self.clock.now(), 1.0, self.quotes))

    def _run_timers(self, until: datetime) -> None:
        """Fire the timers due by `until`, one moment at a time, settling before and after each; the
        caller's actions due by then run in time order with them (after the timers of their moment)."""
        while True:
            due = self.clock.next_timer_at()
            call_at = self._at(self.calls[0].at) if self.calls else None
            if call_at is not None and call_at <= until and (due is None or call_at < due):
                self.settle()
                if call_at > self.clock.now():
                    self.clock.advance_to(call_at)
                self.settle()
                self.calls.pop(0).run()
                self.settle()
                continue
            if due is None or due > until:
                return
            self.settle()
            self.clock.advance_to(max(due, self.clock.now()))
            self.settle()

    def _pace(self, wall_start: float, sim_start: datetime, ts: datetime) -> None:
        assert self.speed
        due = (ts - sim_start).total_seconds() / self.speed
        ahead = due - (wall.perf_counter() - wall_start)
        if ahead > 0:
            wall.sleep(min(ahead, 1.0))
