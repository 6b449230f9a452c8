"""`python -m app demo`: a whole simulated day, checked against the simulated broker's own books."""

import io
import os
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

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
    assert len(result.planned) == len(result.batch.lines) == 6
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
    sent_first = [p for p in first.planned if p.order is not None]
    assert sent_first and all(p.note != ALREADY_DONE for p in first.planned)

    second = run_demo(settings, seed=7, speed=0, data_dir=tmp_path, out=io.StringIO(), progress=False)

    assert [p.order for p in second.planned] == [None] * len(second.batch.lines)
    assert [p.note for p in second.planned] == [ALREADY_DONE] * len(second.batch.lines)
    text = format_summary(second)
    assert text.count(ALREADY_DONE) == len(second.batch.lines) == 6

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
    planned = {line.signal_id: line.qty for line in second.batch.lines}
    assert filled["145909290"] == planned["145909290"] == 100  # filled once, not twice
    assert all(qty <= planned[signal] for signal, qty in filled.items())
