"""Which of the day's jobs run when, and what a late start (or a restart after a crash) catches up.

Pure: a day, the settings' times and the moment the scheduler starts in, out a `DayPlan` that says
what will run, what runs now because it is late but still makes sense, and what is skipped and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from app.core.messages import Call
from app.domain.calendar import TradingCalendar
from app.domain.clock import CN_TZ

MORNING = (time(9, 30), time(11, 30))
AFTERNOON = (time(13, 0), time(14, 57))


class Command(StrEnum):
    FETCH = "fetch"  # fetch today's planned orders
    APPROVE = "approve"  # the plan approval deadline (auto mode approves unless paused)
    OPEN_AUCTION = "open_auction"  # execution window: the opening call auction
    CONTINUOUS = "continuous"  # execution window: continuous trading (auction leftovers, the rest)
    MONITOR = "monitor"  # intraday monitors
    CLOSE_AUCTION = "close_auction"  # execution window: the closing call auction
    POST_CLOSE = "post_close"  # reconcile, settle, performance, sync
    BACKUP = "backup"  # the daily database backup


@dataclass(frozen=True, slots=True)
class Job:
    command: Command
    day: date
    at: datetime  # when it runs (for a job caught up: the moment the scheduler started)
    note: str = ""  # said when it runs: why late, what it replaces

    @property
    def name(self) -> str:
        return f"{self.command.value} {self.day.isoformat()} {self.at:%H:%M}"


@dataclass(frozen=True, slots=True)
class DayPlan:
    day: date
    jobs: tuple[Job, ...]
    skipped: tuple[str, ...] = ()  # what will not run, in words
    caught_up: tuple[str, ...] = field(default_factory=tuple)  # what runs late, in words

    def describe(self) -> list[str]:
        lines = [f"{self.day.isoformat()} 计划 (plan):"]
        lines += [
            f"  {j.at:%H:%M:%S} {j.command.value}" + (f"  — {j.note}" if j.note else "") for j in self.jobs
        ]
        lines += [f"  补做 (caught up): {c}" for c in self.caught_up]
        lines += [f"  跳过 (skipped): {s}" for s in self.skipped]
        return lines


@dataclass(frozen=True, slots=True)
class Times:
    pre_open_fetch: time = time(8, 50)
    approve_deadline: time = time(9, 10)
    open_auction: time = time(9, 15)
    continuous: time = time(9, 30)
    close_auction: time = time(14, 57)
    post_close: time = time(15, 30)
    backup: time = time(15, 45)
    monitor_every: timedelta = timedelta(minutes=5)

    @classmethod
    def from_settings(cls, schedule: Any) -> Times:
        return cls(
            pre_open_fetch=schedule.pre_open_fetch,
            approve_deadline=schedule.approve_deadline,
            open_auction=schedule.open_auction,
            continuous=schedule.continuous,
            close_auction=schedule.close_auction,
            post_close=schedule.post_close,
            backup=schedule.backup,
            monitor_every=timedelta(minutes=schedule.monitor_every_min),
        )


DEFAULT_TIMES = Times()
OPEN_AUCTION_ENDS = time(9, 25)  # orders for the opening call are taken 09:15–09:25
CLOSE_AUCTION_ENDS = time(15, 0)


def plan_day(
    day: date,
    now: datetime,
    calendar: TradingCalendar,
    times: Times = DEFAULT_TIMES,
    *,
    blocked: str | None = None,
    unsettled: tuple[date, ...] = (),
) -> DayPlan:
    """The jobs of `day` as seen from `now`.

    A job whose time has passed runs at once if it still makes sense: the fetch and the approval until
    the continuous session ends, continuous trading until the closing call, the close, the sync and
    the backup always (the same evening or any later moment). A missed opening call is skipped and its
    orders go with continuous trading; a missed closing call is skipped. Monitors already past are
    not run. `blocked` (why automatic trading may not run: an earlier day did not settle) skips the
    fetch, approval and execution and says why. `unsettled` are earlier trading days with trading but
    no settlement (a crash before the close): their close and sync run first.
    """
    at = lambda t: datetime.combine(day, t, CN_TZ)  # noqa: E731
    jobs: list[Job] = []
    skipped: list[str] = []
    caught: list[str] = []
    for earlier in unsettled:
        jobs.append(
            Job(
                Command.POST_CLOSE,
                earlier,
                now,
                f"补做 {earlier} 的日终对账与同步 (catching up its close and sync)",
            )
        )
        caught.append(f"{earlier.isoformat()} post_close (没有清算记录 / it never settled)")
    if not calendar.is_trading_day(day):
        skipped.append(f"{day.isoformat()} 不是交易日 (not a trading day): nothing scheduled")
        return DayPlan(day, tuple(jobs), tuple(skipped), tuple(caught))

    def add(
        command: Command, when: time, *, late_until: time | None, late_note: str = "", skip_note: str = ""
    ) -> bool:
        target = at(when)
        if target >= now:
            jobs.append(Job(command, day, target))
            return True
        if late_until is None or now < at(late_until):
            jobs.append(Job(command, day, now, late_note or f"迟到补做 (late: was due {when:%H:%M})"))
            caught.append(f"{command.value} (原定 / was due {when:%H:%M})")
            return True
        skipped.append(skip_note or f"{command.value} {when:%H:%M}: 已过 (its time has passed)")
        return False

    trading_jobs = blocked is None
    if not trading_jobs:
        skipped.append(f"自动交易暂停 (automatic trading held): {blocked}")
    else:
        add(Command.FETCH, times.pre_open_fetch, late_until=AFTERNOON[1])
        add(Command.APPROVE, times.approve_deadline, late_until=AFTERNOON[1])
        auction = add(
            Command.OPEN_AUCTION, times.open_auction, late_until=OPEN_AUCTION_ENDS,
            skip_note=f"open_auction {times.open_auction:%H:%M}: 已错过开盘集合竞价，其委托改在连续竞价中执行 "
            f"(the opening auction was missed: its orders go in continuous trading)",
        )  # fmt: skip
        note = "" if auction else "含错过的集合竞价委托 (with the missed auction's orders)"
        if at(times.continuous) >= now:
            jobs.append(Job(Command.CONTINUOUS, day, at(times.continuous), note))
        else:
            add(Command.CONTINUOUS, times.continuous, late_until=AFTERNOON[1],
                late_note=f"迟到, 现在开始连续竞价 (late: continuous trading starts now) {note}".strip())  # fmt: skip
        passed = 0
        for start, end in (MORNING, AFTERNOON):
            t = at(start)
            while t < at(end):
                if t >= now:
                    jobs.append(Job(Command.MONITOR, day, t))
                else:
                    passed += 1
                t += times.monitor_every
        if passed:
            skipped.append(
                f"monitor: {passed} 次已过的盘中检查不补做 (intraday checks already past are not run)"
            )
        add(
            Command.CLOSE_AUCTION, times.close_auction, late_until=CLOSE_AUCTION_ENDS,
            skip_note=f"close_auction {times.close_auction:%H:%M}: 已错过收盘集合竞价 (the closing auction was missed)",
        )  # fmt: skip
    add(
        Command.POST_CLOSE,
        times.post_close,
        late_until=None,
        late_note="迟到补做日终对账与同步 (the close and sync still run)",
    )
    add(Command.BACKUP, times.backup, late_until=None)
    jobs.sort(key=lambda j: (j.at, list(Command).index(j.command)))
    return DayPlan(day, tuple(jobs), tuple(skipped), tuple(caught))


Handler = Callable[[Any, Job], None]  # (engine, job), on the engine thread


def plan_on_engine(engine: Any, plan: DayPlan, handlers: Mapping[Command, Handler]) -> list[Any]:
    """Each job as an engine timer (its handler then runs on the engine thread, in time order, on a
    live or a simulated clock). Returns the timer handles."""
    handles = []
    for job in plan.jobs:
        handler = handlers.get(job.command)
        if handler is None:
            continue
        handles.append(engine.schedule_at(job.at, _bind(handler, engine, job), job.name))
    return handles


def post_job(engine: Any, handler: Handler, job: Job) -> None:
    """From another thread (APScheduler's): only post the command; it runs on the engine thread."""
    engine.post(Call(lambda e: handler(e, job)))


def _bind(handler: Handler, engine: Any, job: Job) -> Callable[[], None]:
    return lambda: handler(engine, job)
