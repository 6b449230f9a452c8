"""A live clock and a simulated one that a driver moves forward at any speed; both keep timers.

A timer is delivered as a message: the clock posts its `TimerHandle` to what `bind` gave it (the
engine's queue), and the engine runs the callback on its own thread unless it was cancelled.
LiveClock posts from one scheduler thread when the wall clock reaches the time. SimClock keeps a
heap and posts, as `advance_to` moves time, every timer that falls due, in time order (ties in
scheduling order), with `now()` at the timer's time as it is posted; a timer scheduled at or
before the present is posted at once. A driver that waits for the engine after each timer
(`next_timer_at`, then `advance_to` that moment, then wait) gets a deterministic day.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from app.domain.clock import CN_TZ, TimerHandle

Post = Callable[[TimerHandle], None]


def _aware(when: datetime) -> datetime:
    if not isinstance(when, datetime) or when.tzinfo is None:
        raise ValueError(f"a timer needs a timezone-aware datetime, was {when!r}")
    return when.astimezone(CN_TZ)


class _Timers:
    """The heap both clocks share: handles ordered by (time, scheduling order)."""

    def __init__(self) -> None:
        self._heap: list[TimerHandle] = []
        self._seq = itertools.count()
        self._lock = threading.Lock()
        self._post: Post | None = None

    def bind(self, post: Post) -> None:
        with self._lock:
            self._post = post

    def cancel(self, handle: TimerHandle) -> None:
        handle.cancelled = True  # dropped from the heap lazily; the engine skips it if already posted

    def _push(self, when: datetime, callback: Callable[[], None], name: str) -> TimerHandle:
        if not callable(callback):
            raise ValueError(f"a timer needs a callable, was {callback!r}")
        handle = TimerHandle(_aware(when), next(self._seq), callback, name)
        heapq.heappush(self._heap, handle)
        return handle

    def _pop_due(self, now: datetime) -> TimerHandle | None:
        """The next live timer due at or before `now` (lock held by the caller)."""
        heap = self._heap
        while heap and (heap[0].cancelled or heap[0].when <= now):
            handle = heapq.heappop(heap)
            if not handle.cancelled:
                return handle
        return None

    def _next_live(self) -> TimerHandle | None:
        heap = self._heap
        while heap and heap[0].cancelled:
            heapq.heappop(heap)
        return heap[0] if heap else None


class LiveClock(_Timers):
    def __init__(self) -> None:
        super().__init__()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._closed = False

    def now(self) -> datetime:
        return datetime.now(CN_TZ)

    def bind(self, post: Post) -> None:
        with self._wake:
            self._post = post
            self._wake.notify()

    def schedule_at(self, when: datetime, callback: Callable[[], None], name: str = "") -> TimerHandle:
        with self._wake:
            handle = self._push(when, callback, name)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="tiller-timers", daemon=True)
                self._thread.start()
            self._wake.notify()
        return handle

    def schedule_after(self, delay: timedelta, callback: Callable[[], None], name: str = "") -> TimerHandle:
        return self.schedule_at(self.now() + delay, callback, name)

    def close(self) -> None:
        """Stop the scheduler thread; timers not yet due are dropped."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            thread = self._thread
        if thread is not None:
            thread.join(5.0)

    def _run(self) -> None:
        while True:
            with self._wake:
                while True:
                    if self._closed:
                        return
                    post = self._post
                    handle = self._pop_due(self.now()) if post is not None else None
                    if handle is not None:
                        break
                    head = self._next_live()
                    wait = None if head is None else (head.when - self.now()).total_seconds()
                    # at most a second at a time: the wall clock may be set while we wait
                    self._wake.wait(1.0 if wait is None or post is None else min(max(wait, 0.0), 1.0))
            assert post is not None
            handle.fired = True
            post(handle)


class SimClock(_Timers):
    """Simulated time. Only moves forward; `advance_to` is called by the simulation driver."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError(f"SimClock needs a timezone-aware start time, was {start!r}")
        super().__init__()
        self._now = start.astimezone(CN_TZ)
        self._advance = threading.Lock()  # one driver moves time at a time

    def now(self) -> datetime:
        return self._now

    def bind(self, post: Post) -> None:
        super().bind(post)
        self._fire_due()  # timers that came due before anyone listened

    def schedule_at(self, when: datetime, callback: Callable[[], None], name: str = "") -> TimerHandle:
        with self._lock:
            handle = self._push(when, callback, name)
        if handle.when <= self._now:
            self._fire_due()
        return handle

    def schedule_after(self, delay: timedelta, callback: Callable[[], None], name: str = "") -> TimerHandle:
        return self.schedule_at(self._now + delay, callback, name)

    def next_timer_at(self) -> datetime | None:
        """When the earliest live timer is due (None: no timers)."""
        with self._lock:
            head = self._next_live()
            return None if head is None else head.when

    def advance_to(self, when: datetime) -> None:
        when = when.astimezone(CN_TZ)
        with self._advance:
            if when < self._now:
                raise ValueError(f"simulated time cannot go back: now {self._now}, was asked {when}")
            while True:
                with self._lock:
                    head = self._next_live()
                    if head is None or head.when > when or self._post is None:
                        break
                    if head.when > self._now:
                        self._now = head.when
                self._fire_due()
            self._now = when

    def _fire_due(self) -> None:
        """Post every live timer due now, in order (a timer is posted with `now()` at its time)."""
        while True:
            with self._lock:
                post = self._post
                handle = self._pop_due(self._now) if post is not None else None
            if handle is None:
                return
            assert post is not None
            handle.fired = True
            post(handle)
