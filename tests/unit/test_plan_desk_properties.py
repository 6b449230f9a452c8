"""Hypothesis over sequences of interventions on the plan desk (app/core/planning/desk.py), with the
real OrderManager on the in-memory store and a recording execution service: whatever the investor
does, in whatever order, no line is handed twice, no buy is handed while buys are paused nor a sell
while sells are paused, a handed line is never edited, and sells of one dispatch go before buys."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.oms import OrderManager
from app.core.planning.desk import PlanDesk
from app.core.planning.model import LineState, PlanError, StrategySettings
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.domain.market import InstrumentInfo
from app.domain.positions import Position
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine
from app.storage.memory_store import MemoryOmsStore

DAY = date(2026, 11, 23)
NOW = datetime.combine(DAY, time(9, 20), CN_TZ)


class Clock:
    def now(self) -> datetime:
        return NOW


class Execution:
    """Records each start with the pauses in force at that moment (as the desk sees them)."""

    def __init__(self) -> None:
        self.desk: PlanDesk | None = None
        self.starts: list[tuple[str, Side, bool, bool]] = []

    def start(self, request) -> None:
        assert self.desk is not None
        status = self.desk.status
        self.starts.append((request.line_id, request.side, status.paused_buys, status.paused_sells))

    def pause(self, side, *, cancel_working=False) -> None:
        pass

    def resume(self, side) -> None:
        pass

    def stop(self, line_id, *, cancel_working=True) -> None:
        pass

    def progress(self, line_id):
        return None


class Engine:
    """What the desk uses of the engine, around a real OrderManager on the in-memory store."""

    def __init__(self) -> None:
        self.store = MemoryOmsStore()
        self.oms = OrderManager(store=self.store, fees=FeeSchedule(), trading_day=DAY, alert=self._alert)
        self.oms.set_cash(D("200000"))
        self.oms.set_position(Position("000001.SZ", "", 5000, 5000))
        for code, prev in (("600000.SH", D("10.00")), ("000001.SZ", D("11.37"))):
            self.oms.instruments[code] = InstrumentInfo(
                code, code, DAY, prev, prev * D("1.1"), prev * D("0.9"), D("0.01")
            )
        self.store.commit()
        self.trading_day = DAY
        self.clock = Clock()
        self.execution = Execution()
        self.events: list = []
        self.alerts: list = []
        self.timers: list = []

    def _alert(self, level, category, message) -> None:
        self.alerts.append((level, category, message))

    def emit(self, event) -> None:
        self.events.append(event)

    def cancel(self, cid) -> None:
        pass

    def cancel_all(self, message=None) -> None:
        pass

    def schedule_at(self, when, callback, name=""):
        self.timers.append((when, callback, name))
        return (when, name)

    def cancel_timer(self, handle) -> None:
        pass


def batch(k: int) -> SignalBatch:
    return SignalBatch("s1", DAY, (
        SignalLine(f"{k}b", "s1", DAY, "600000.SH", "", Side.BUY, 100 * (k + 1), None, OPEN),
        SignalLine(f"{k}s", "s1", DAY, "000001.SZ", "", Side.SELL, 300, None, OPEN),
    ))  # fmt: skip


actions = st.lists(
    st.one_of(
        st.tuples(st.just("plan"), st.integers(0, 4)),
        st.tuples(st.just("approve"), st.just(0)),
        st.tuples(st.sampled_from(["pause_buys", "pause_sells", "pause_all"]), st.just(0)),
        st.tuples(st.sampled_from(["resume", "resume_buys", "resume_sells"]), st.just(0)),
        st.tuples(st.sampled_from(["skip", "edit"]), st.integers(0, 20)),
    ),
    max_size=30,
)


@settings(max_examples=150, deadline=None)
@given(steps=actions)
def test_no_intervention_sequence_hands_a_line_twice_or_past_a_pause(steps) -> None:
    engine = Engine()
    desk = PlanDesk(engine)  # type: ignore[arg-type]
    engine.execution.desk = desk
    desk.load(DAY)
    desk.set_strategy(StrategySettings("s1", D("1000000")), "t")
    for kind, arg in steps:
        try:
            if kind == "plan":
                desk.add_batches([batch(k) for k in range(arg + 1)], "t")
            elif kind == "approve":
                desk.approve("t")
            elif kind.startswith("pause"):
                desk.pause({"pause_buys": Side.BUY, "pause_sells": Side.SELL, "pause_all": None}[kind], "t")
            elif kind.startswith("resume"):
                desk.resume({"resume_buys": Side.BUY, "resume_sells": Side.SELL, "resume": None}[kind], "t")
            else:
                lines = list(desk.lines.values())
                if lines:
                    line = lines[arg % len(lines)]
                    was = line.state
                    if kind == "skip":
                        desk.skip(line.line_id, "t")
                    else:
                        desk.edit(line.line_id, "t", qty=line.qty + 100)
                        assert was in (LineState.PLANNED, LineState.APPROVED)  # a handed line is never edited
        except PlanError:
            pass
        engine.store.commit()
    starts = engine.execution.starts
    ids = [s[0] for s in starts]
    assert len(ids) == len(set(ids))  # never handed twice
    for _, side, paused_buys, paused_sells in starts:
        assert not (side is Side.BUY and paused_buys) and not (side is Side.SELL and paused_sells)
    handed = {x.line_id for x in desk.lines.values() if x.state is LineState.HANDED}
    assert handed == set(ids) - {x.line_id for x in desk.lines.values() if x.state is LineState.SKIPPED}
    # what is on the (in-memory) disk is what the desk holds
    _, stored = engine.store.load_plan(DAY)
    assert {x.line_id: x for x in stored} == desk.lines


def test_the_auto_approve_time_stands_for_the_following_days() -> None:
    engine = Engine()
    desk = PlanDesk(engine)  # type: ignore[arg-type]
    desk.load(DAY)
    desk.set_auto_approve(time(9, 26), "t")
    engine.store.commit()
    assert [(w, n) for w, _, n in engine.timers] == [
        (datetime.combine(DAY, time(9, 26), CN_TZ), "plan auto-approve")
    ]
    next_day = date(2026, 11, 24)
    desk.load(next_day)
    assert desk.status.auto_approve_at == time(9, 26) and not desk.status.approved
    assert engine.timers[-1][0] == datetime.combine(next_day, time(9, 26), CN_TZ)
    desk.set_auto_approve(None, "t")
    engine.store.commit()
    desk.load(date(2026, 11, 25))
    assert desk.status.auto_approve_at is None


def test_kill_pauses_everything_cancels_working_children_and_is_recorded() -> None:
    engine = Engine()
    calls: list = []
    engine.execution.pause = lambda side, cancel_working=False: calls.append((side, cancel_working))  # type: ignore[method-assign]
    desk = PlanDesk(engine)  # type: ignore[arg-type]
    desk.load(DAY)
    desk.kill("boss")
    assert calls == [(None, True)]
    assert desk.status.paused_buys and desk.status.paused_sells
    assert [(e.who, e.action) for e in desk.audit] == [("boss", "kill_switch"), ("boss", "pause_all")]
