"""Timers on the clocks: the simulated one fires in time order as it advances, the live one on its thread."""

import threading
from datetime import datetime, timedelta

import pytest

from app.core.clock import LiveClock, SimClock
from app.domain.clock import CN_TZ, TimerHandle

START = datetime(2026, 11, 23, 9, 30, tzinfo=CN_TZ)


def fire_into(delivered: list[tuple[str, datetime]], clock: SimClock):
    def post(handle: TimerHandle) -> None:  # what the engine does with a delivered timer
        if not handle.cancelled:
            delivered.append((handle.name, clock.now()))
            handle.callback()

    return post


def test_sim_timers_fire_in_time_order_ties_in_scheduling_order_each_at_its_time() -> None:
    clock = SimClock(START)
    delivered: list[tuple[str, datetime]] = []
    clock.bind(fire_into(delivered, clock))
    noop = lambda: None  # noqa: E731
    clock.schedule_at(START + timedelta(seconds=30), noop, "c")
    clock.schedule_at(START + timedelta(seconds=10), noop, "a")
    clock.schedule_after(timedelta(seconds=30), noop, "d")  # same time as c, scheduled after it
    clock.schedule_at(START + timedelta(seconds=20), noop, "b")
    clock.schedule_at(START + timedelta(hours=1), noop, "later")

    assert clock.next_timer_at() == START + timedelta(seconds=10)
    clock.advance_to(START + timedelta(minutes=1))

    assert delivered == [
        ("a", START + timedelta(seconds=10)),
        ("b", START + timedelta(seconds=20)),
        ("c", START + timedelta(seconds=30)),
        ("d", START + timedelta(seconds=30)),
    ]
    assert clock.now() == START + timedelta(minutes=1)
    assert clock.next_timer_at() == START + timedelta(hours=1)


def test_a_cancelled_sim_timer_never_fires_and_a_past_one_fires_at_once() -> None:
    clock = SimClock(START)
    delivered: list[tuple[str, datetime]] = []
    clock.bind(fire_into(delivered, clock))
    gone = clock.schedule_after(timedelta(seconds=5), lambda: None, "gone")
    clock.schedule_after(timedelta(seconds=6), lambda: None, "kept")
    clock.cancel(gone)
    assert clock.next_timer_at() == START + timedelta(seconds=6)

    clock.schedule_at(START - timedelta(seconds=1), lambda: None, "overdue")  # already past: now
    assert delivered == [("overdue", START)]

    clock.advance_to(START + timedelta(seconds=10))
    assert [name for name, _ in delivered] == ["overdue", "kept"]
    assert clock.next_timer_at() is None


def test_a_timer_scheduled_by_a_firing_timer_fires_in_the_same_advance_when_due() -> None:
    clock = SimClock(START)
    delivered: list[tuple[str, datetime]] = []
    clock.bind(fire_into(delivered, clock))

    def first() -> None:
        clock.schedule_after(timedelta(seconds=5), lambda: None, "second")

    clock.schedule_after(timedelta(seconds=5), first, "first")
    clock.advance_to(START + timedelta(seconds=20))
    assert delivered == [("first", START + timedelta(seconds=5)), ("second", START + timedelta(seconds=10))]


def test_sim_timers_wait_for_someone_to_deliver_to() -> None:
    clock = SimClock(START)
    clock.schedule_after(timedelta(seconds=1), lambda: None, "early")
    clock.advance_to(START + timedelta(seconds=5))  # nobody bound yet: kept, time still moves
    assert clock.now() == START + timedelta(seconds=5)
    delivered: list[tuple[str, datetime]] = []
    clock.bind(fire_into(delivered, clock))
    assert [name for name, _ in delivered] == ["early"]


def test_timers_refuse_a_naive_time_and_a_non_callable() -> None:
    clock = SimClock(START)
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.schedule_at(datetime(2026, 11, 23, 10, 0), lambda: None)
    with pytest.raises(ValueError, match="callable"):
        clock.schedule_at(START, "not callable")  # type: ignore[arg-type]


def test_live_timers_are_posted_from_the_scheduler_thread_in_order_and_cancel_holds() -> None:
    clock = LiveClock()
    got: list[str] = []
    done = threading.Event()

    def post(handle: TimerHandle) -> None:
        if not handle.cancelled:
            got.append(f"{handle.name}@{threading.current_thread().name}")
            if handle.name == "last":
                done.set()

    clock.bind(post)
    try:
        clock.schedule_after(timedelta(milliseconds=60), lambda: None, "last")
        gone = clock.schedule_after(timedelta(milliseconds=20), lambda: None, "gone")
        clock.schedule_after(timedelta(milliseconds=10), lambda: None, "first")
        clock.cancel(gone)
        assert done.wait(10.0)
    finally:
        clock.close()
    assert got == ["first@tiller-timers", "last@tiller-timers"]
