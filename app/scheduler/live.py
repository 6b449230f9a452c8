"""Runs day plans on APScheduler 3.x against the wall clock (the unattended machine's scheduler).

APScheduler's thread only posts each job to the engine (`post_job`); the job itself runs on the engine
thread. Each day's plan is made at start (late jobs caught up, passed ones skipped and said) and again
shortly after midnight for the new day; a non-trading day plans nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from app.domain.calendar import TradingCalendar
from app.domain.clock import CN_TZ
from app.scheduler.plan import DEFAULT_TIMES, Command, DayPlan, Handler, Job, Times, plan_day, post_job

log = logging.getLogger(__name__)


class LiveScheduler:
    def __init__(
        self,
        engine: object,
        calendar: TradingCalendar,
        handlers: Mapping[Command, Handler],
        *,
        times: Times = DEFAULT_TIMES,
        now: Callable[[], datetime] = lambda: datetime.now(CN_TZ),
        blocked: Callable[[date], str | None] = lambda day: None,
        on_plan: Callable[[DayPlan], None] = lambda plan: None,
    ) -> None:
        self.engine = engine
        self.calendar = calendar
        self.handlers = handlers
        self.times = times
        self._now = now
        self._blocked = blocked
        self._on_plan = on_plan
        self._aps = BackgroundScheduler(
            timezone=CN_TZ, job_defaults={"misfire_grace_time": 3600, "coalesce": True}
        )

    def start(self) -> DayPlan:
        plan = self.plan(self._now())
        self._aps.add_job(self._next_day, CronTrigger(hour=0, minute=1, timezone=CN_TZ), id="plan-next-day")
        self._aps.start()
        return plan

    def plan(self, now: datetime) -> DayPlan:
        day = now.astimezone(CN_TZ).date()
        plan = plan_day(day, now, self.calendar, self.times, blocked=self._blocked(day))
        wall_now = datetime.now(
            CN_TZ
        )  # APScheduler runs on the wall clock: keep each job's offset from `now`
        # jobs due at one moment are posted by one APScheduler job, in the plan's order (its worker
        # threads would otherwise race: the close must reach the engine before the backup)
        groups: dict[datetime, list[tuple[Handler, Job]]] = {}
        for job in plan.jobs:
            handler = self.handlers.get(job.command)
            if handler is not None:
                groups.setdefault(job.at, []).append((handler, job))
        for at, items in groups.items():
            run_at = wall_now + max(at - now, timedelta(0)) + timedelta(milliseconds=1)
            self._aps.add_job(
                self._post_all, DateTrigger(run_date=run_at, timezone=CN_TZ), args=(items,),
                name=f"{day.isoformat()} {at:%H:%M:%S}",
            )  # fmt: skip
        self._on_plan(plan)
        return plan

    def _post_all(self, items: list[tuple[Handler, Job]]) -> None:
        for handler, job in items:
            post_job(self.engine, handler, job)

    def _next_day(self) -> None:
        try:
            self.plan(self._now())
        except Exception:  # never kill APScheduler's thread; say it in the log
            log.exception("planning the new day failed")

    def pending(self) -> int:
        """Date jobs not yet run (the daily re-planning job not counted)."""
        return sum(1 for job in self._aps.get_jobs() if job.id != "plan-next-day")

    def shutdown(self) -> None:
        if self._aps.running:
            # Paused first, then past any round of due jobs still being handed out: APScheduler 3 raises
            # JobLookupError in its thread if it is stopped while removing a date job it has just run.
            self._aps.pause()
            with self._aps._jobstores_lock:
                pass
            self._aps.shutdown(wait=True)
