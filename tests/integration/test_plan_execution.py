"""The plan desk with the real execution policies (PolicyExecutor), through the Terminal, against the
simulated broker on the simulated clock: a restart mid-plan, the order-rate limit, interventions while
lines execute, the kill switch, per-strategy attribution through a day."""

from __future__ import annotations

from datetime import time
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.config import load_settings
from app.core.planning.model import StrategySettings
from app.domain.orders import OrderStatus
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine
from app.feeds import InstrumentSpec
from tests.helpers.engine_day import CODES, DAY, at, make_setup, open_day, settle

TWAP_ENV = {
    "TILLER__SIM__PARTICIPATION": "1",  # the whole displayed book is ours: marketable children fill
    "TILLER__EXECUTION__END": "10:40",
    "TILLER__EXECUTION__SLICES": "4",
    "TILLER__EXECUTION__OFFSET_TICKS": "5",  # marketable, well inside the price cage
    "TILLER__EXECUTION__REPRICE_S": "3600",
    "TILLER__EXECUTION__PARTICIPATION": "1",
}


def _settings(folder: Path, env: dict[str, str]):
    folder.mkdir(parents=True, exist_ok=True)
    return load_settings(env={"TILLER_DATA_DIR": str(folder), **env}, path=folder / "none.toml")


def _every(start: time, end: time, seconds: int) -> list[time]:
    out, s = [], start.hour * 3600 + start.minute * 60 + start.second
    stop = end.hour * 3600 + end.minute * 60 + end.second
    while s <= stop:
        out.append(time(s // 3600, s // 60 % 60, s % 60))
        s += seconds
    return out


def _children(setup, line_id: str) -> list[tuple]:
    """(created_at time, qty, status, filled) of a line's children, in the order they were made."""
    return setup.engine.call(
        lambda e: [
            (o.created_at.time(), o.qty, o.status, o.filled_qty)
            for o in sorted(e.oms.orders.values(), key=lambda o: o.client_order_id)
            if o.signal_id == line_id
        ]
    )


def _batch(*lines: tuple[str, str, Side, int], strategy: str = "s1") -> SignalBatch:
    return SignalBatch(
        strategy,
        DAY,
        tuple(SignalLine(i, strategy, DAY, code, "", side, qty, None, OPEN) for i, code, side, qty in lines),
    )


# ------------------------------------------------------------------------------ a restart mid-plan
def test_a_restart_mid_twap_resumes_the_remaining_slices_and_sends_nothing_twice(tmp_path: Path) -> None:
    folder = tmp_path / "day"
    settings = _settings(folder, TWAP_ENV)
    setup = open_day(make_setup(folder, settings=settings, start=time(9, 50)))
    try:
        terminal = setup.terminal
        terminal.set_strategy(StrategySettings("s1", D(1_000_000), policy="twap"))
        terminal.plan_batches([_batch(("L1", "600000.SH", Side.BUY, 4000))])
        at(setup, time(10, 0))
        assert terminal.approve_plan() == 1  # at 10:00: slices at 10:00, 10:10, 10:20, 10:30
        for moment in _every(time(10, 0), time(10, 15), 30):
            at(setup, moment)
        before = _children(setup, "L1")
        assert [k[0] for k in before] == [time(10, 0), time(10, 10)]
        assert sum(k[3] for k in before) == 2000
    finally:
        setup.close()  # the process ends mid-TWAP: the line's state is on disk, nowhere else

    setup = make_setup(folder, settings=settings, start=time(10, 15, 30))
    open_day(setup)
    try:
        terminal = setup.terminal
        # nothing is handed over again: the line goes on by itself, from its saved state
        progress = terminal.execution_progress()["L1"]
        assert progress.sent_qty == 2000 and progress.working
        for moment in _every(time(10, 16), time(10, 41), 30):
            at(setup, moment)
        kids = _children(setup, "L1")
        assert kids[: len(before)] == before  # the children before the restart, untouched
        after = kids[len(before) :]
        assert [k[0] for k in after] == [time(10, 20), time(10, 30)]  # the remaining slices, at their times
        assert [k[1] for k in after] == [1000, 1000]
        assert sum(k[3] for k in kids) == 4000  # all of the line, and not a share more
        line = terminal.plan().line("L1")
        assert [c.kind for c in line.changes].count("handed") == 1
        assert terminal.execution_progress()["L1"].note.startswith("完成")
    finally:
        setup.close()

    # a third start, after the line is done: it stays done, nothing more is sent
    setup = make_setup(folder, settings=settings, start=time(10, 45))
    open_day(setup)
    try:
        at(setup, time(10, 50))
        assert len(_children(setup, "L1")) == len(kids)
        assert not setup.terminal.execution_progress()["L1"].working
    finally:
        setup.close()


def test_a_pause_survives_a_restart(tmp_path: Path) -> None:
    folder = tmp_path / "day"
    settings = _settings(folder, TWAP_ENV)
    setup = open_day(make_setup(folder, settings=settings, start=time(9, 50)))
    try:
        terminal = setup.terminal
        terminal.set_strategy(StrategySettings("s1", D(1_000_000), policy="twap"))
        terminal.plan_batches([_batch(("L1", "600000.SH", Side.BUY, 4000))])
        at(setup, time(10, 0))
        terminal.approve_plan()
        for moment in _every(time(10, 0), time(10, 5), 60):
            at(setup, moment)
        terminal.pause_buys()
        settle(setup)
        before = _children(setup, "L1")
        assert before and sum(k[3] for k in before) < 4000
    finally:
        setup.close()
    setup = make_setup(folder, settings=settings, start=time(10, 6))
    open_day(setup)
    try:
        for moment in _every(time(10, 6), time(10, 35), 60):
            at(setup, moment)
        assert _children(setup, "L1") == before  # still paused after the restart: no slice sent
        setup.terminal.resume()
        for moment in _every(time(10, 35, 30), time(10, 39), 30):
            at(setup, moment)
        kids = _children(setup, "L1")
        later = kids[len(before) :]
        assert later and all(k[0] >= time(10, 35) for k in later), kids  # caught up on resume, not before
        assert sum(k[3] for k in kids) == 4000, kids
    finally:
        setup.close()


# ------------------------------------------------------------------------------ the order-rate limit
MANY = [InstrumentSpec(f"6000{n:02d}.SH", prev_close=D("10.00")) for n in range(10, 90)]


def test_a_plan_of_more_orders_than_the_rate_limit_is_paced_not_denied(tmp_path: Path) -> None:
    """80 lines approved at once with risk.max_orders_per_second at its default 50: every line gets its
    child, none is denied for the rate, and no second holds more than 50 orders."""
    folder = tmp_path / "day"
    settings = _settings(folder, {"TILLER__SIM__PARTICIPATION": "1"})
    assert settings.risk.max_orders_per_second == 50
    setup = open_day(make_setup(folder, settings=settings, codes=[*CODES, *MANY], start=time(9, 20)))
    try:
        terminal = setup.terminal
        terminal.set_strategy(StrategySettings("s1", D(1_000_000), policy="limit"))
        lines = [(f"R{n}", spec.code, Side.BUY, 100) for n, spec in enumerate(MANY)]
        terminal.plan_batches([_batch(*lines)])
        at(setup, time(9, 30))
        assert terminal.approve_plan() == len(MANY)
        for moment in _every(time(9, 30), time(9, 30, 5), 1):
            at(setup, moment)
        orders = [o for o in terminal.orders() if o.signal_id.startswith("R")]
        assert not [o for o in orders if "每秒" in o.status_msg]  # none denied by the rate check
        assert sorted(o.signal_id for o in orders) == sorted(x[0] for x in lines)  # one child each
        stamps = sorted(o.created_at for o in orders)
        for i, first in enumerate(stamps):  # any one second holds at most 50 of them
            assert sum(1 for s in stamps[i:] if (s - first).total_seconds() < 1) <= 50
        assert stamps[-1] > stamps[0]  # some waited for the next second
    finally:
        setup.close()


# ------------------------------------------------------------------------------ interventions mid-execution
def test_pause_buys_mid_execution_sends_no_buy_child_while_sells_go_on_then_resume(tmp_path: Path) -> None:
    folder = tmp_path / "day"
    settings = _settings(folder, TWAP_ENV)
    setup = open_day(make_setup(folder, settings=settings, start=time(9, 50)))
    try:
        terminal = setup.terminal
        terminal.set_strategy(StrategySettings("s1", D(1_000_000), policy="twap"))
        terminal.plan_batches(
            [_batch(("B", "600000.SH", Side.BUY, 4000), ("S", "000001.SZ", Side.SELL, 4000))]
        )
        at(setup, time(10, 0))
        terminal.approve_plan()
        for moment in _every(time(10, 0), time(10, 5), 60):
            at(setup, moment)
        terminal.pause_buys(cancel_working=True)
        for moment in _every(time(10, 5), time(10, 25), 60):
            at(setup, moment)
        assert [k[0] for k in _children(setup, "B")] == [time(10, 0)], _children(setup, "B")
        assert [k[0] for k in _children(setup, "S")] == [time(10, 0), time(10, 10), time(10, 20)]
        terminal.resume()
        for moment in _every(time(10, 25), time(10, 41), 60):
            at(setup, moment)
        buys = _children(setup, "B")
        assert [k[0] for k in buys] == [time(10, 0), time(10, 25), time(10, 30)]
        assert sum(k[3] for k in buys) == 4000
        audit = [(a.who, a.action) for a in terminal.plan().audit]
        assert ("user", "pause_buys") in audit and ("user", "resume") in audit
    finally:
        setup.close()


def test_kill_switch_mid_execution_cancels_every_working_order_and_accepts_none_after(tmp_path: Path) -> None:
    folder = tmp_path / "day"
    settings = _settings(
        folder, {"TILLER__EXECUTION__OFFSET_TICKS": "-30", "TILLER__SIM__ACK_LATENCY_S": "2"}
    )
    setup = open_day(make_setup(folder, settings=settings, start=time(9, 50)))
    try:
        terminal = setup.terminal
        terminal.set_strategy(StrategySettings("s1", D(1_000_000), policy="limit"))
        terminal.plan_batches(
            [_batch(("B", "600000.SH", Side.BUY, 1000), ("S", "000001.SZ", Side.SELL, 1000))]
        )
        at(setup, time(10, 0))
        terminal.approve_plan()
        at(setup, time(10, 0, 1))  # passive children: working at the broker (some still on the wire)
        working = [o for o in terminal.orders() if o.status.is_working]
        assert len(working) == 2
        assert terminal.kill_switch(who="user") == 2
        for moment in _every(time(10, 0, 2), time(10, 2), 10):
            at(setup, moment)
        assert not [o for o in terminal.orders() if o.status.is_working]
        assert {o.status for o in terminal.orders() if o.signal_id in ("B", "S")} == {OrderStatus.CANCELLED}
        # none accepted after: the policies send nothing more, and a hand-typed order is denied
        (cid,) = terminal.submit([_new("600000.SH", Side.BUY, 100, D("10.00"))])
        assert terminal.order(cid).status is OrderStatus.DENIED
        assert len(_children(setup, "B")) == len(_children(setup, "S")) == 1
        assert ("user", "kill_switch") in [(a.who, a.action) for a in terminal.plan().audit]
        assert [r[1:] for r in terminal.risk_audit()][-1] == ("user", "trading_state", "active", "halted")
    finally:
        setup.close()


def _new(code: str, side: Side, qty: int, price: D):
    from app.core.oms import NewOrder

    return NewOrder(code, side, qty, price)


# ------------------------------------------------------------------------------ attribution through a day
def test_per_strategy_attribution_through_a_day(tmp_path: Path) -> None:
    """Two strategies trade the same code; each one's fills, positions and P&L stay its own, and the
    close attributes the day's P&L so the lines add up to the account's."""
    from app.bootstrap import eod_store_for

    folder = tmp_path / "day"
    settings = _settings(folder, {"TILLER__SIM__PARTICIPATION": "1", "TILLER__EXECUTION__OFFSET_TICKS": "5"})
    setup = open_day(make_setup(folder, settings=settings, start=time(9, 20)))
    try:
        terminal = setup.terminal
        terminal.set_strategy(StrategySettings("a", D(1_000_000), policy="limit"))
        terminal.set_strategy(StrategySettings("b", D(1_000_000), policy="limit"))
        terminal.plan_batches([
            _batch(("a1", "600000.SH", Side.BUY, 1000), strategy="a"),
            _batch(("b1", "600000.SH", Side.BUY, 300), ("b2", "000001.SZ", Side.SELL, 2000), strategy="b"),
        ])  # fmt: skip
        at(setup, time(9, 30))
        terminal.approve_plan()
        for moment in _every(time(9, 30), time(9, 45), 30):
            at(setup, moment)
        held = {(p.strategy_id, p.code): p.total for p in terminal.strategy_positions()}
        filled: dict[tuple[str, str], int] = {}
        for o in terminal.orders():
            key = (o.strategy_id, o.code)
            filled[key] = filled.get(key, 0) + (o.filled_qty if o.side is Side.BUY else -o.filled_qty)
        assert held[("a", "600000.SH")] == filled[("a", "600000.SH")] > 0
        assert held[("b", "600000.SH")] == filled[("b", "600000.SH")] > 0
        assert filled[("a", "600000.SH")] <= 1000 and filled[("b", "600000.SH")] <= 300
        assert filled[("b", "000001.SZ")] < 0  # b sold unattributed shares; nothing of it is a's
        assert ("a", "000001.SZ") not in held and ("b", "000001.SZ") not in held
        account = {p.code: p.total for p in terminal.positions()}
        assert account["600000.SH"] == filled[("a", "600000.SH")] + filled[("b", "600000.SH")]
        assert account["000001.SZ"] == 5000 + filled[("b", "000001.SZ")]
        for o in terminal.orders():
            assert o.strategy_id in ("a", "b") and o.signal_id in ("a1", "b1", "b2")
        at(setup, time(15, 0))
        result = terminal.close_day(eod_store_for, DAY, account_id=settings.account.account_id)
        lines = {a.strategy_id: a for a in result.attribution}
        assert lines["a"].trades >= 1 and lines["b"].sold > 0 and lines["a"].sold == 0
        assert result.performance is not None
        assert sum(a.pnl for a in result.attribution) == result.performance.pnl
    finally:
        setup.close()


# ------------------------------------------------------------------------------ what the desk hands over
def test_buy_children_never_cost_more_than_the_plan_set_aside_and_a_risk_resize_ends_the_line(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "day"
    settings = _settings(
        folder, {"TILLER__EXECUTION__OFFSET_TICKS": "100", "TILLER__SIM__PARTICIPATION": "1"}
    )
    setup = open_day(make_setup(folder, settings=settings, start=time(9, 20)))
    try:
        terminal = setup.terminal
        terminal.set_risk("max_order_qty", 300, who="cli")
        terminal.set_strategy(StrategySettings("s1", D(1_000_000), policy="limit", price_offset=D("0.01")))
        terminal.plan_batches([_batch(("B", "600000.SH", Side.BUY, 1000))])
        at(setup, time(9, 30))
        terminal.approve_plan()
        for moment in _every(time(9, 30), time(9, 35), 30):
            at(setup, moment)
        planned = terminal.plan().line("B")
        kids = [o for o in terminal.orders() if o.signal_id == "B"]
        # 100 ticks through the book is what the policy asks; the plan's limit is what it gets
        assert kids and all(o.price is not None and o.price <= planned.price for o in kids)
        # the gate cut the first child to 300: the line ends there instead of asking again and again
        assert [o.qty for o in kids] == [300] and "风控减量" in kids[0].status_msg
        progress = terminal.execution_progress()["B"]
        assert "风控缩减" in progress.note and not [o for o in terminal.orders() if o.status.is_working]
    finally:
        setup.close()


def test_skip_and_cancel_mid_execution_stop_the_lines_and_edit_refuses_a_handed_line(tmp_path: Path) -> None:
    from app.core.planning.model import PlanError

    folder = tmp_path / "day"
    settings = _settings(folder, {"TILLER__EXECUTION__OFFSET_TICKS": "-30"})  # passive: children wait
    setup = open_day(make_setup(folder, settings=settings, start=time(9, 50)))
    try:
        terminal = setup.terminal
        terminal.set_strategy(StrategySettings("s1", D(1_000_000), policy="limit"))
        terminal.plan_batches(
            [_batch(("K", "600000.SH", Side.BUY, 1000), ("C", "000001.SZ", Side.SELL, 1000))]
        )
        at(setup, time(10, 0))
        terminal.approve_plan()
        at(setup, time(10, 0, 5))
        assert [k[2] for k in _children(setup, "K")] == [OrderStatus.ACCEPTED]
        with pytest.raises(PlanError, match="已交执行"):
            terminal.edit_line("K", qty=500)
        terminal.skip_line("K", who="user", reason="news")
        (child,) = [o for o in terminal.orders() if o.signal_id == "C"]
        terminal.cancel_order(child.client_order_id, who="user")
        for moment in _every(time(10, 0, 10), time(10, 5), 30):
            at(setup, moment)
        assert [k[2] for k in _children(setup, "K")] == [OrderStatus.CANCELLED]  # no child after the skip
        assert [k[2] for k in _children(setup, "C")] == [OrderStatus.CANCELLED]  # not sent again
        progress = terminal.execution_progress()
        assert not progress["K"].working and not progress["C"].working
        assert terminal.plan().line("K").skipped
        audit = [(a.who, a.action, a.line_id) for a in terminal.plan().audit]
        assert ("user", "skip", "K") in audit and ("user", "cancel_order", "") in audit
    finally:
        setup.close()
