"""`python -m app demo`: a whole simulated day, checked against the simulated broker's own books."""

import io
import os
import subprocess
import sys
from datetime import time
from decimal import Decimal as D
from pathlib import Path

import app.__main__ as cli
from app.config import load_settings
from app.core.clock import SimClock
from app.demo import format_summary, run_demo
from app.domain.orders import OrderStatus
from app.gateways.sim.broker import SimulatedBroker
from app.storage import database_path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_day_runs_every_kind_of_outcome_and_matches_the_brokers_books(tmp_path: Path) -> None:
    settings = load_settings(env={"TILLER_DATA_DIR": str(tmp_path)}, path=tmp_path / "none.toml")
    out = io.StringIO()

    result = run_demo(settings, seed=7, speed=0, data_dir=tmp_path, out=out, progress=True)

    summary = result.summary
    statuses = [o.status for o in summary.orders]
    assert statuses.count(OrderStatus.FILLED) >= 5
    denied = [o.status_msg for o in summary.orders if o.status is OrderStatus.DENIED]
    assert any("100 股的整数倍" in m for m in denied)
    assert any("可卖数量不足" in m for m in denied)
    rejected = [o.status_msg for o in summary.orders if o.status is OrderStatus.REJECTED]
    assert any("价格笼子" in m for m in rejected)
    assert len(result.batches) == 2 and result.lines == len(result.plan.lines) == 11
    assert "100%" in out.getvalue()

    broker_file = database_path(tmp_path, settings.account.account_id, "sim")
    broker = SimulatedBroker(
        broker_file.with_name(broker_file.stem + "-broker.db"), SimClock(summary.account.ts)
    )
    broker.connect()
    try:
        assert broker.query_asset().cash == summary.account.cash
        broker_positions = {p.code: p.total for p in broker.query_positions() if p.total}
        assert broker_positions == {p.code: p.total for p in summary.positions if p.total}
        assert len(broker.query_trades()) == summary.trades
    finally:
        broker.close()
    assert summary.fees == sum((o.fees for o in summary.orders), D(0)) > 0

    text = format_summary(result)
    assert "当日盈亏" in text and "price cage" in text


def test_demo_day_goes_through_the_planner_risk_policies_and_interventions(tmp_path: Path) -> None:
    """Issue 7 item 5: two strategies with different allotments, planner notes, a risk denial and a
    resize, an auction that falls back, a TWAP line, a pause of buys and the resume, a stop-loss,
    per-strategy P&L, reconciliation and the sync delivered."""
    from app.demo import FALLBACK_LINE, STRATEGY_A, STRATEGY_B, TWAP_LINE

    settings = load_settings(env={"TILLER_DATA_DIR": str(tmp_path)}, path=tmp_path / "none.toml")
    result = run_demo(settings, seed=7, speed=0, data_dir=tmp_path, out=io.StringIO(), progress=False)
    plan, orders = result.plan, result.summary.orders

    # two followed strategies, B scaled to its allotment; every planner change kept with its reason
    assert {x.strategy_id for x in plan.lines} == {STRATEGY_A, STRATEGY_B}
    kinds = {c.kind for x in plan.lines for c in x.changes}
    assert {"scaled", "rounded", "capped", "skipped", "edited", "approved", "handed"} <= kinds
    assert all("×0.25" in x.changes[0].reason for x in plan.lines if x.strategy_id == STRATEGY_B)
    assert not any(c.kind == "scaled" for x in plan.lines if x.strategy_id == STRATEGY_A for c in x.changes)
    skipped = [x for x in plan.lines if x.skipped]
    assert skipped and all(x.qty == 0 and "数量为零" in x.reasons for x in skipped)
    # per-line policies: the open lines in the opening auction, the close line in the closing one,
    # the TWAP override
    policy = {x.line_id: x.policy for x in plan.lines}
    assert policy["145909294"] == "auction_close" and policy[TWAP_LINE] == "twap"
    assert policy["145909290"] == "auction_open"
    close_children = [o for o in orders if o.signal_id == "145909294"]
    assert close_children and all(o.created_at.time() >= time(14, 57) for o in close_children)

    # the auction that fell back: its auction child cancelled at 9:30, the rest sent in continuous trading
    fallback = [o for o in orders if o.signal_id == FALLBACK_LINE]
    assert fallback[0].status is OrderStatus.CANCELLED and fallback[0].created_at.time() < time(9, 25)
    assert any(o.created_at.time() >= time(9, 30) and o.filled_qty for o in fallback[1:])
    assert "转连续竞价" in result.progress[FALLBACK_LINE].note

    # TWAP: several children spread over the day, none while buys were paused (10:00-10:45), all filled
    twap = [o for o in orders if o.signal_id == TWAP_LINE]
    assert len(twap) >= 5
    assert not [o for o in twap if time(10, 0) <= o.created_at.time() < time(10, 45)]
    assert any(o.created_at.time() == time(10, 45) for o in twap)  # the resume: the missed slices catch up
    assert sum(o.filled_qty for o in twap) <= plan.line(TWAP_LINE).qty

    # risk: a denial (blacklist), resizes (position cap) on a plan child and a hand-typed order; the
    # settings changes are in the audit trail with who changed them
    risk_msgs = [o.status_msg for o in orders if "风控" in o.status_msg]
    assert any("黑名单" in m for m in risk_msgs)
    resized = [o for o in orders if "风控减量" in o.status_msg]
    assert {o.strategy_id for o in resized} == {STRATEGY_B, ""}
    assert [(who, key) for _ts, who, key, _old, _new in result.risk_audit] == [
        ("cli", "max_position_pct"), ("cli", "blacklist"), ("user", "stop_loss_pct")
    ]  # fmt: skip
    # the resized line ends at what risk allowed, it does not ask again
    resized_line = next(o.signal_id for o in resized if o.strategy_id)
    assert sum(o.qty for o in orders if o.signal_id == resized_line) == resized[0].qty

    # the stop-loss fired from the intraday monitor once it was switched on at 10:00
    stops = [o for o in orders if o.strategy_id == "risk"]
    assert [o.signal_id for o in stops] == ["stop_loss"] and stops[0].created_at.time() >= time(10, 0)

    # interventions recorded with who and when
    actions = [(a.who, a.action, a.ts.time()) for a in plan.audit]
    assert ("user", "pause_buys", time(10, 0)) in actions and ("user", "resume", time(10, 45)) in actions
    assert ("user", "approve", time(9, 0)) in actions

    # per-strategy P&L adds up to the day's, the books reconcile, the sync reached the local server
    assert result.eod is not None
    lines = {a.strategy_id: a for a in result.eod.attribution}
    assert {STRATEGY_A, STRATEGY_B, "risk"} <= set(lines)
    assert result.eod.reconciliation.status.value == "ok"
    assert [r.outcome.value for r in result.sync] == ["acknowledged"]
    text = format_summary(result)
    for words in ("按策略 (per strategy)", "干预 (interventions)", "风控 (risk)", "twap", "auction_close",
                  "跳过", "capped", "pause_buys", "stop_loss", "黑名单"):  # fmt: skip
        assert words in text, words


def test_demo_is_repeatable_for_a_seed(tmp_path: Path) -> None:
    settings = load_settings(env={"TILLER_DATA_DIR": str(tmp_path)}, path=tmp_path / "none.toml")
    first = run_demo(settings, seed=11, speed=0, data_dir=tmp_path / "a", out=io.StringIO(), progress=False)
    second = run_demo(settings, seed=11, speed=0, data_dir=tmp_path / "b", out=io.StringIO(), progress=False)

    def outcome(result):
        return [(o.code, o.status, o.filled_qty, o.avg_price, o.fees) for o in result.summary.orders]

    assert outcome(first) == outcome(second)
    assert first.summary.account.cash == second.summary.account.cash


def test_demo_command_prints_a_summary(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TILLER_CONFIG": str(tmp_path / "config.toml"),
        "TILLER_DATA_DIR": str(tmp_path / "data"),
    }
    run = subprocess.run(
        [sys.executable, "-m", "app", "demo", "--speed", "0", "--quiet"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "模拟交易日" in run.stdout and "当日盈亏" in run.stdout


def test_demo_command_refuses_a_bad_setting_plainly(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TILLER_CONFIG": str(tmp_path / "config.toml"),
        "TILLER__SIM__PARTICIPATION": "2",
    }
    run = subprocess.run(
        [sys.executable, "-m", "app", "demo", "--speed", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 1
    assert "sim.participation" in run.stderr


def test_demo_with_a_slow_counter_is_repeatable_and_matches_the_brokers_books(tmp_path: Path) -> None:
    # Orders, cancels and fills all take simulated time to travel: the races of orders in flight
    # happen inside the day (timers fire between quotes), and the day is still the same for a seed.
    env = {
        "TILLER__SIM__ACK_LATENCY_S": "1.5",
        "TILLER__SIM__FILL_LATENCY_S": "2",
        "TILLER__SIM__CANCEL_LATENCY_S": "1",
    }
    settings = load_settings(env={**env, "TILLER_DATA_DIR": str(tmp_path)}, path=tmp_path / "none.toml")
    assert settings.sim.ack_latency_s == D("1.5")
    runs = [
        run_demo(settings, seed=5, speed=0, data_dir=tmp_path / name, out=io.StringIO(), progress=False)
        for name in ("a", "b")
    ]

    def outcome(result):
        return [(o.code, o.status, o.filled_qty, o.avg_price, o.fees) for o in result.summary.orders]

    assert outcome(runs[0]) == outcome(runs[1])
    summary = runs[0].summary
    assert not [o for o in summary.orders if o.status.is_working]
    assert [o.status for o in summary.orders].count(OrderStatus.FILLED) >= 3

    broker_file = database_path(tmp_path / "a", settings.account.account_id, "sim")
    broker = SimulatedBroker(
        broker_file.with_name(broker_file.stem + "-broker.db"), SimClock(summary.account.ts)
    )
    broker.connect()
    try:
        assert broker.query_asset().cash == summary.account.cash
        assert {p.code: p.total for p in broker.query_positions() if p.total} == {
            p.code: p.total for p in summary.positions if p.total
        }
        assert len(broker.query_trades()) == summary.trades
    finally:
        broker.close()


def test_demo_run_twice_on_one_data_folder_sends_each_planned_order_once_and_says_so(tmp_path: Path) -> None:
    from collections import Counter

    from app.demo import ALREADY_DONE

    settings = load_settings(env={"TILLER_DATA_DIR": str(tmp_path)}, path=tmp_path / "none.toml")
    first = run_demo(settings, seed=7, speed=0, data_dir=tmp_path, out=io.StringIO(), progress=False)
    assert first.summary.orders and not first.already_done

    second = run_demo(settings, seed=7, speed=0, data_dir=tmp_path, out=io.StringIO(), progress=False)

    assert sorted(second.already_done) == sorted(line.signal_id for b in second.batches for line in b.lines)
    text = format_summary(second)
    assert text.count(ALREADY_DONE) == second.lines == 11
    # nothing new was sent on the second run: no order, plan child or hand-typed, made today twice
    assert sorted(o.client_order_id for o in second.summary.orders) == sorted(
        o.client_order_id for o in first.summary.orders
    )
    assert second.sync == []  # the day's payload was delivered once; the close found nothing new

    # The broker's own books: each planned order's shares bought or sold once over both runs.
    signal_of = {o.client_order_id: o.signal_id for o in second.summary.orders}
    broker_file = database_path(tmp_path, settings.account.account_id, "sim")
    broker = SimulatedBroker(
        broker_file.with_name(broker_file.stem + "-broker.db"), SimClock(second.summary.account.ts)
    )
    broker.connect()
    try:
        filled = Counter()
        for trade in broker.query_trades():
            signal = signal_of.get(trade.client_order_id, "")
            if signal:
                filled[signal] += trade.qty
    finally:
        broker.close()
    planned = {x.line_id: x.qty for x in second.plan.lines}
    assert filled["145909290"] == planned["145909290"] == 100  # filled once, not twice
    assert all(qty <= planned[signal] for signal, qty in filled.items() if signal in planned)


def test_demo_with_a_data_dir_logs_into_that_folder(
    tmp_path: Path, isolated_dirs: dict[str, Path], capsys
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "mine"

    assert cli.main(["demo", "--data-dir", str(folder), "--speed", "0", "--quiet"]) == 0

    log = folder / "logs" / "tiller.log"
    assert f"日志 (log): {log}" in capsys.readouterr().out
    assert log.stat().st_size > 0
    assert not (isolated_dirs["data_dir"] / "logs").exists()  # not general.data_dir's


def test_demo_without_a_data_dir_logs_into_the_data_folder(isolated_dirs: dict[str, Path], capsys) -> None:  # type: ignore[no-untyped-def]
    # its books go to a temporary folder, removed at the end: the log stays in general.data_dir
    assert cli.main(["demo", "--speed", "0", "--quiet"]) == 0

    log = isolated_dirs["data_dir"] / "logs" / "tiller.log"
    assert f"日志 (log): {log}" in capsys.readouterr().out
    assert log.stat().st_size > 0
