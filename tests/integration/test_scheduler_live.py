"""The scheduler on APScheduler 3.x (the wall clock): started late, the jobs that still make sense are
posted to the engine and run on the engine thread; the catch-up on engine timers (a simulated clock)."""

from __future__ import annotations

import threading
import time as time_module
from datetime import datetime, time
from pathlib import Path

import pytest

from app.domain.calendar import TradingCalendar
from app.domain.clock import CN_TZ
from app.scheduler.live import LiveScheduler
from app.scheduler.plan import Command, plan_day, plan_on_engine
from tests.helpers.engine_day import DAY, make_setup, open_day, settle


@pytest.fixture
def setup(tmp_path: Path):
    setup = open_day(make_setup(tmp_path / "session"))
    yield setup
    setup.close()


def test_started_in_the_evening_the_close_and_backup_are_posted_and_run_on_the_engine_thread(setup) -> None:
    ran: list[tuple[Command, str]] = []
    done = threading.Event()

    def handler(engine, job) -> None:
        ran.append((job.command, threading.current_thread().name))
        if job.command is Command.BACKUP:
            done.set()

    plans = []
    scheduler = LiveScheduler(
        setup.engine, TradingCalendar(), {Command.POST_CLOSE: handler, Command.BACKUP: handler},
        now=lambda: datetime.combine(DAY, time(20, 0), CN_TZ), on_plan=plans.append,
    )  # fmt: skip
    try:
        plan = scheduler.start()
        assert done.wait(30)
        deadline = time_module.monotonic() + 30
        while scheduler.pending() and time_module.monotonic() < deadline:  # APScheduler has dropped them
            time_module.sleep(0.01)
    finally:
        scheduler.shutdown()
    assert [c for c, _ in ran] == [Command.POST_CLOSE, Command.BACKUP]
    assert {name for _, name in ran} == {"tiller-engine"}  # APScheduler only posted them
    assert plans == [plan] and any("closing auction was missed" in s for s in plan.skipped)


def test_on_engine_timers_a_late_start_runs_the_caught_up_jobs_first_then_the_rest_in_order(setup) -> None:
    setup.clock.advance_to(datetime.combine(DAY, time(10, 0), CN_TZ))
    plan = plan_day(DAY, setup.clock.now(), TradingCalendar())
    ran: list[tuple[Command, time]] = []
    handlers = {c: (lambda e, job: ran.append((job.command, e.clock.now().time()))) for c in Command}
    plan_on_engine(setup.engine, plan, handlers)
    settle(setup)
    assert [c for c, _ in ran if c is not Command.MONITOR] == [
        Command.FETCH,
        Command.APPROVE,
        Command.CONTINUOUS,
    ]
    end = datetime.combine(DAY, time(16, 0), CN_TZ)
    while (due := setup.clock.next_timer_at()) is not None and due <= end:  # one moment at a time
        setup.clock.advance_to(max(due, setup.clock.now()))
        settle(setup)
    rest = [c for c, _ in ran if c is not Command.MONITOR][3:]
    assert rest == [Command.CLOSE_AUCTION, Command.POST_CLOSE, Command.BACKUP]
    assert (Command.POST_CLOSE, time(15, 30)) in ran
    assert Command.OPEN_AUCTION not in [c for c, _ in ran]
