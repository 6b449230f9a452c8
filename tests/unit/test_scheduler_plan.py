"""The scheduler's day plan: on time, started late (what is caught up, what is skipped and said),
on a day that is not a trading day, and held while an earlier day has not settled."""

from __future__ import annotations

from datetime import date, datetime, time

from app.domain.calendar import TradingCalendar
from app.domain.clock import CN_TZ
from app.scheduler.plan import Command, plan_day

DAY = date(2026, 11, 23)  # a Monday
CAL = TradingCalendar()


def at(t: time, day: date = DAY) -> datetime:
    return datetime.combine(day, t, CN_TZ)


def commands(plan) -> list[Command]:
    return [j.command for j in plan.jobs if j.command is not Command.MONITOR]


def test_on_time_every_job_at_its_time_in_order() -> None:
    plan = plan_day(DAY, at(time(8, 0)), CAL)
    assert commands(plan) == [
        Command.FETCH, Command.APPROVE, Command.OPEN_AUCTION, Command.CONTINUOUS, Command.CLOSE_AUCTION,
        Command.POST_CLOSE, Command.BACKUP,
    ]  # fmt: skip
    assert plan.skipped == () and plan.caught_up == ()
    monitors = [j.at.time() for j in plan.jobs if j.command is Command.MONITOR]
    assert monitors[0] == time(9, 30) and time(12, 0) not in monitors and monitors[-1] < time(14, 57)
    assert [j.at for j in plan.jobs] == sorted(j.at for j in plan.jobs)


def test_started_late_it_catches_up_what_makes_sense_and_says_what_it_skipped() -> None:
    now = at(time(10, 2))
    plan = plan_day(DAY, now, CAL)
    first = [j for j in plan.jobs if j.at == now]
    assert [j.command for j in first] == [Command.FETCH, Command.APPROVE, Command.CONTINUOUS]
    assert "missed auction" in first[2].note or "auction" in first[2].note
    assert Command.OPEN_AUCTION not in commands(plan)
    assert any("opening auction was missed" in s and "continuous trading" in s for s in plan.skipped)
    assert any("intraday checks already past" in s for s in plan.skipped)
    assert {j.command for j in plan.jobs if j.at > now} >= {
        Command.MONITOR,
        Command.CLOSE_AUCTION,
        Command.POST_CLOSE,
    }
    text = "\n".join(plan.describe())
    assert "跳过 (skipped)" in text and "补做 (caught up)" in text


def test_inside_the_opening_call_the_auction_still_runs_late() -> None:
    now = at(time(9, 20))
    plan = plan_day(DAY, now, CAL)
    assert [j.command for j in plan.jobs if j.at == now] == [
        Command.FETCH,
        Command.APPROVE,
        Command.OPEN_AUCTION,
    ]
    assert not any("opening auction" in s for s in plan.skipped)


def test_started_in_the_evening_only_the_close_sync_and_backup_run() -> None:
    now = at(time(20, 0))
    plan = plan_day(DAY, now, CAL)
    assert [(j.command, j.at) for j in plan.jobs] == [(Command.POST_CLOSE, now), (Command.BACKUP, now)]
    assert "still run" in plan.jobs[0].note
    assert any("closing auction was missed" in s for s in plan.skipped)
    assert any(s.startswith("fetch") for s in plan.skipped)


def test_a_day_left_unsettled_by_a_crash_is_closed_and_synced_first() -> None:
    now = at(time(8, 30), date(2026, 11, 24))
    plan = plan_day(date(2026, 11, 24), now, CAL, unsettled=(DAY,))
    assert (plan.jobs[0].command, plan.jobs[0].day, plan.jobs[0].at) == (Command.POST_CLOSE, DAY, now)


def test_no_jobs_on_a_weekend_or_holiday() -> None:
    for day in (date(2026, 11, 21), date(2026, 10, 1)):
        plan = plan_day(day, at(time(8, 0), day), CAL)
        assert plan.jobs == () and "not a trading day" in plan.skipped[0]


def test_held_by_an_unsettled_day_only_the_close_and_backup_are_planned() -> None:
    plan = plan_day(DAY, at(time(8, 0)), CAL, blocked="2026-11-20 did not settle")
    assert commands(plan) == [Command.POST_CLOSE, Command.BACKUP]
    assert any("automatic trading held" in s and "2026-11-20" in s for s in plan.skipped)
