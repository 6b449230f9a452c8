"""`run --headless` in live mode (issue 9): the same day as the simulated headless day — fetch -> plan ->
approve -> execute -> close -> reconcile -> settle -> sync on the schedule — on the live setup
(bootstrap.build_live_setup with its default xtdata wiring), through xtquant's real xttrader.py on the
xtpythonclient stand-in and xtdata's stand-in, on a simulated clock so the whole day runs in seconds."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from app.bootstrap import build_live_setup
from app.config import load_settings
from app.core.clock import SimClock
from app.demo_data import DEMO_BATCH
from app.domain.clock import CN_TZ
from app.headless import HeadlessOptions, run_headless, run_live_headless
from app.secrets import SecretStore
from tests.helpers.live_cli_child import KILLED, SITECUSTOMIZE
from tests.helpers.qmt import ACCOUNT, DAY, live_settings
from tests.helpers.qmt_live_day import SEED, WAIT, make_live_world, run_live_day, xtdata_installed
from tests.standins import xtpythonclient as standin

ROOT = Path(__file__).resolve().parents[2]
NOT_SENT = "观察模式，未发送 (observe-only: NOT sent)"


@pytest.fixture(autouse=True)
def _standin_exchanges():
    yield
    standin.reset()


@pytest.fixture
def xt():
    with xtdata_installed() as module:
        yield module


def rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def live_db(folder: Path) -> Path:
    (path,) = folder.glob("tiller-live-*.db")
    return path


def counter(folder: Path) -> Path:
    return folder / "userdata_mini" / standin.BOOKS_FILE


def broker_books(path: Path) -> dict[str, list[tuple]]:
    """A simulated broker's own books (the simulated setup's file, or the stand-in's counter)."""
    orders = rows(path, "SELECT client_order_id IS NOT NULL, code, side, qty, price, price_type, status, "
                        "filled_qty, filled_amount, fees, strategy_id, created_at FROM orders "
                        "ORDER BY created_at, broker_order_id")  # fmt: skip
    return {
        "cash": rows(path, "SELECT value FROM meta WHERE key = 'cash'"),
        "positions": rows(path, "SELECT code, total, settled, avg_price FROM positions WHERE total ORDER BY code"),
        # a price through xtquant is a float: 11.6 at the stand-in's counter is 11.60 at the simulated one
        "orders": [(*o[:4], None if o[4] is None else Decimal(o[4]), *o[5:]) for o in orders],
        "trades": rows(path, "SELECT code, side, qty, price, amount, fees, ts FROM trades ORDER BY ts, trade_id"),
    }  # fmt: skip


def tiller_orders(path: Path) -> list[tuple]:
    return rows(path, "SELECT signal_id, code, side, qty, price, status, filled_qty, created_at FROM orders "
                      "ORDER BY created_at, signal_id")  # fmt: skip


def test_an_armed_live_day_sends_and_its_books_equal_the_simulated_brokers(tmp_path: Path, xt) -> None:
    sim_folder, live_folder = tmp_path / "sim", tmp_path / "live"
    settings = load_settings(env={"TILLER_DATA_DIR": str(sim_folder)}, path=tmp_path / "none.toml")
    options = HeadlessOptions(day=DAY, start=time(8, 30), speed=None, signals=DEMO_BATCH, data_dir=sim_folder,
                              seed=SEED)  # fmt: skip
    sim_out = io.StringIO()
    assert run_headless(settings, options, sim_out) == 0
    world = make_live_world(live_folder, xt)
    try:
        out = run_live_day(world, arm=True)
    finally:
        world.close()
    assert "live: ARMED" in out and NOT_SENT not in out
    steps = [
        "[08:50:00] 获取计划订单 (fetching planned orders)",
        "已计划 (planned) 6 行 (lines)",
        "[09:10:00] 计划自动批准 (plan approved automatically): 6 行 (lines)",
        "[09:15:00] 开盘集合竞价 (opening auction): 5 行",
        "[14:57:00] 收盘集合竞价 (closing auction): 1 行",
        f"[15:30:00] 日终对账 (reconciliation) {DAY}: ok",
        "数据库已备份 (database backed up)",
        "完成 (done)",
    ]
    assert [out.index(s) for s in steps] == sorted(out.index(s) for s in steps), out
    live, sim = broker_books(counter(live_folder)), broker_books(sim_folder / "tiller-sim-SIM001-broker.db")
    assert len(live["trades"]) >= 6 and live["orders"]
    for part in ("cash", "positions", "orders", "trades"):
        assert live[part] == sim[part], part
    # Tiller's own books of the two days: the same orders for the same lines, each settled ok
    db = live_db(live_folder)
    assert tiller_orders(db) == tiller_orders(sim_folder / "tiller-sim-SIM001.db")
    assert rows(db, "SELECT trading_day, status FROM settlements") == [(DAY.isoformat(), "ok")]
    assert rows(db, "SELECT count(*) FROM sync_outbox") == [(1,)]
    # every order sent to the account has its live audit row, written before it left
    sent = {r[0] for r in rows(db, "SELECT client_order_id FROM orders WHERE broker_order_id IS NOT NULL")}
    audited = {r[0] for r in rows(db, "SELECT detail FROM live_audit WHERE action = 'order'")}
    assert sent and all(any(cid in d for d in audited) for cid in sent)


@pytest.mark.parametrize("enabled", ["true", "false"])
def test_observe_only_sends_nothing_and_says_so_at_each_window(tmp_path: Path, xt, enabled: str) -> None:
    world = make_live_world(tmp_path, xt, step_seconds=30, qmt__live_trading_enabled=enabled)
    try:
        out = run_live_day(world, arm=False)
    finally:
        world.close()
    assert "live: observe-only" in out
    for window in ("[09:10:00] 计划未批准 (the plan is not approved)", "[09:15:00] 开盘集合竞价 (opening auction)",
                   "[09:30:00] 连续竞价 (continuous trading)", "[14:57:00] 收盘集合竞价 (closing auction)"):  # fmt: skip
        assert f"{window}: {NOT_SENT}" in out, window
    why = "not enabled" if enabled == "false" else "not armed today"
    assert out.count(NOT_SENT) == 4 and all(why in line for line in out.splitlines() if NOT_SENT in line)
    held = "未发送 (not sent) 145909290 600519.SH buy 100 @ "
    assert out.count(held) == 3  # at the approval, the opening auction and continuous trading
    assert out.count("未发送 (not sent) 145909294") == 2  # approve, then the closing auction it belongs to
    assert world.exchange.orders_received == 0  # nothing reached the account
    assert rows(counter(tmp_path), "SELECT count(*) FROM orders") == [(0,)]
    db = live_db(tmp_path)
    assert rows(db, "SELECT count(*) FROM orders") == [(0,)]  # not even a denied order: nothing was tried
    lines = rows(db, "SELECT line_id, state, changes FROM plan_lines")
    assert len(lines) == 6 and {state for _, state, _ in lines} == {"planned"}  # the lines stay in the plan
    assert all("observe-only, not sent" in changes and why in changes for _, _, changes in lines)
    assert rows(db, "SELECT trading_day, status FROM settlements") == [(DAY.isoformat(), "ok")]


def test_lines_held_while_observe_only_go_once_armed_after_a_restart(tmp_path: Path, xt) -> None:
    world = make_live_world(tmp_path, xt, step_seconds=30)
    try:
        first = run_live_day(world, arm=False, until=time(9, 20))
    finally:
        world.close()
    assert f"[09:15:00] 开盘集合竞价 (opening auction): {NOT_SENT}" in first
    db = live_db(tmp_path)
    assert rows(db, "SELECT count(*) FROM orders") == [(0,)]
    world = make_live_world(tmp_path, xt, start=time(9, 21), step_seconds=30)
    try:
        second = run_live_day(world, arm=True)
    finally:
        world.close()
    assert "live: ARMED" in second and NOT_SENT not in second
    assert "已计划 (planned)" not in second  # planned once, on the first run
    assert "计划自动批准 (plan approved automatically): 6 行 (lines)" in second  # the caught-up approval
    lines = rows(db, "SELECT line_id, state, changes FROM plan_lines")
    assert {state for _, state, _ in lines} == {"handed"}
    assert all(c.index("observe-only, not sent") < c.index("handed to execution") for _, _, c in lines)
    sent = rows(counter(tmp_path), "SELECT client_order_id, filled_qty FROM orders")
    assert sent and len(sent) == len({cid for cid, _ in sent}) and sum(f for _, f in sent) > 0
    assert f"日终对账 (reconciliation) {DAY}: ok" in second


def test_the_live_day_follows_holdings_the_plan_and_the_watchlist(tmp_path: Path, xt) -> None:
    world = make_live_world(tmp_path, xt, step_seconds=30, qmt__watchlist="600036.SH,000333.SZ")
    xt.add_instrument("000333.SZ", 70.0, name="美的集团")
    try:
        run_live_day(world, arm=True, until=time(9, 40))
    finally:
        world.close()
    subscribed = [args[0] for name, args in xt.calls if name == "subscribe_whole_quote"]
    holdings = {"300750.SZ", "600767.SH", "002594.SZ", "601012.SH"}  # the demo account's opening positions
    assert list(subscribed[0]) == [*sorted(holdings, key=subscribed[0].index), "600036.SH", "000333.SZ"]
    assert set(subscribed[0]) == holdings | {"600036.SH", "000333.SZ"}  # what it holds, then the watchlist
    plan = {"600519.SH", "000001.SZ", "300750.SZ", "688981.SH", "430047.BJ", "600767.SH"}
    everything = {c for codes in subscribed for c in codes}
    assert plan <= everything  # the plan's codes joined when the batch came
    assert len(everything) == sum(len(codes) for codes in subscribed)  # each code asked for once
    details = [args[0] for name, args in xt.calls if name == "get_instrument_detail"]
    assert len(details) == len(set(details)) and set(details) == everything
    for code in everything:  # each code's day details were read before it was subscribed
        asked = next(i for i, (n, a) in enumerate(xt.calls) if n == "get_instrument_detail" and a[0] == code)
        joined = next(i for i, (n, a) in enumerate(xt.calls) if n == "subscribe_whole_quote" and code in a[0])
        assert asked < joined, code


def cli(folder: Path, site: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m app run --headless` in live mode in a child process: the stand-ins and the day's simulated
    clock come from the sitecustomize.py on PYTHONPATH (tests/helpers/live_cli_child.py)."""
    values = {k: v for k, v in os.environ.items() if not k.upper().startswith("TILLER")}
    values.update({
        "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "PYTHONIOENCODING": "utf-8",
        "TILLER_DATA_DIR": str(folder), "TILLER_CONFIG": str(folder / "none.toml"),
        "TILLER__GENERAL__MODE": "live", "TILLER__QMT__USERDATA_PATH": str(folder / "userdata_mini"),
        "TILLER__QMT__LIVE_TRADING_ENABLED": "true", "LIVE_CHILD_FOLDER": str(folder),
        "LIVE_CHILD_STEP_SECONDS": "30", **env,
    })  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "app", "run", "--headless", "--signals", str(DEMO_BATCH), *args],
        env=values, capture_output=True, text=True, encoding="utf-8", timeout=600, cwd=folder,
    )  # fmt: skip


def test_the_cli_runs_the_live_day_and_a_kill_mid_day_then_a_restart_sends_nothing_twice(
    tmp_path: Path,
) -> None:
    folder, site = tmp_path / "live", tmp_path / "site"
    folder.mkdir()
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    first = cli(folder, site, "--arm", "--yes", LIVE_CHILD_START="08:30", LIVE_CHILD_KILL_AT="09:20")
    assert first.returncode == KILLED, first.stdout + first.stderr  # killed with the auction orders working
    assert "live: ARMED" in first.stdout and "[09:15:00] 开盘集合竞价 (opening auction): 5 行" in first.stdout
    db = live_db(folder)
    before = rows(db, "SELECT client_order_id, signal_id FROM orders")
    assert {s for _, s in before} == {"145909290", "145909291", "145909292", "145909293", "145909295"}
    second = cli(folder, site, "--until", "12:00", LIVE_CHILD_START="09:21")  # the same day: still armed
    assert second.returncode == 0, second.stdout + second.stderr
    out = second.stdout
    assert "live mode runs on the live clock: --until ignored" in out  # the day runs to its end
    assert "live: ARMED" in out and "接续执行 (resumed)" in out, out
    assert "已计划 (planned)" not in out  # the batch was planned once, on the first run
    assert f"日终对账 (reconciliation) {DAY}: ok" in out and "完成 (done)" in out
    # nothing twice: every order reached the account once, each line's fills within its quantity
    sent = rows(counter(folder), "SELECT client_order_id, filled_qty FROM orders")
    assert len(sent) == len({cid for cid, _ in sent}) and {cid for cid, _ in before} <= {
        cid for cid, _ in sent
    }
    orders = dict(rows(db, "SELECT client_order_id, signal_id FROM orders WHERE broker_order_id IS NOT NULL"))
    assert {cid for cid, _ in sent} == set(orders)
    planned = dict(rows(db, "SELECT line_id, qty FROM plan_lines"))
    for line_id, qty in planned.items():
        assert sum(f for cid, f in sent if orders[cid] == line_id) <= qty, line_id
    assert sum(f for _, f in sent) > 0


def calendar_alerts(setup) -> list[str]:
    return [a.message for a in setup.terminal.alerts() if a.category == "calendar"]


def test_build_live_setup_confirms_the_calendar_with_qmt_and_says_where_it_cannot(tmp_path: Path, xt) -> None:
    """As an outside check calls it: build_live_setup(settings, clock=SimClock(...)), xtdata importable."""
    world = make_live_world(tmp_path, xt)  # QMT's trading days are Tiller's
    try:
        setup = build_live_setup(world.settings, clock=SimClock(datetime.combine(DAY, time(9, 0), CN_TZ)))
        try:
            assert setup.calendar_notes == ()
            setup.terminal.start()
            setup.engine.wait_idle(WAIT)
            assert calendar_alerts(setup) == []
        finally:
            setup.close()
        xt.trading_days.remove(date(2026, 11, 25))  # QMT says closed, Tiller's calendar says open
        setup = build_live_setup(world.settings, clock=SimClock(datetime.combine(DAY, time(9, 0), CN_TZ)))
        try:
            (note,) = setup.calendar_notes
            assert "2026-11-25" in note and "QMT says closed" in note
            setup.terminal.start()
            setup.engine.wait_idle(WAIT)
            (said,) = calendar_alerts(setup)
            assert "2026-11-25" in said
        finally:
            setup.close()
        xt.connected = False  # miniQMT not running: xtdata answers nothing
        setup = build_live_setup(world.settings, clock=SimClock(datetime.combine(DAY, time(9, 0), CN_TZ)))
        try:
            (note,) = setup.calendar_notes
            assert "QMT's calendar is unavailable" in note
            setup.terminal.start()  # the start goes on: the account is still read
            assert setup.market is not None and setup.market.wait_idle(WAIT)
            setup.engine.wait_idle(WAIT)
            assert any("unavailable" in a for a in calendar_alerts(setup))
            said = [a.message for a in setup.terminal.alerts() if a.category == "quotes"]
            assert said and "QMT-极简版是否开启" in said[0]  # and why no quote comes
            assert setup.terminal.account().cash > 0
        finally:
            setup.close()
    finally:
        world.close()


def test_without_xtdata_the_live_setup_says_so_and_still_starts(tmp_path: Path) -> None:
    """xtquant's real xtdata cannot load here (its native datacenter is Windows-only)."""
    standin.install()
    world_folder = tmp_path
    settings = live_settings(world_folder, world_folder / "userdata_mini")
    SecretStore().set("qmt.account_id", ACCOUNT)
    exchange = standin.configure(world_folder / "userdata_mini", SimClock(datetime.combine(DAY, time(9, 0), CN_TZ)),
                                 account_id=ACCOUNT)  # fmt: skip
    try:
        setup = build_live_setup(settings, clock=SimClock(datetime.combine(DAY, time(9, 0), CN_TZ)))
        try:
            assert setup.market is None and setup.quotes is None
            setup.terminal.start()
            setup.engine.wait_idle(WAIT)
            said = [a.message for a in setup.terminal.alerts() if a.category == "quotes"]
            assert said and "xtquant.xtdata" in said[0] and "no QMT quotes" in said[0]
        finally:
            setup.close()
    finally:
        exchange.close()


def test_on_a_clock_without_a_market_the_jobs_run_on_apscheduler(tmp_path: Path, xt) -> None:
    """Started after the close (the live clock's way: APScheduler posts each job to the engine): the close,
    the reconciliation and the backup still run, then the run ends by itself."""
    world = make_live_world(tmp_path, xt, start=time(15, 50))
    try:
        out = io.StringIO()
        code = run_live_headless(world.settings, arm=False, out=out, signals=DEMO_BATCH, data_dir=tmp_path,
                                 clock=world.clock)  # fmt: skip
    finally:
        world.close()
    text = out.getvalue()
    assert code == 0, text
    assert "补做 (caught up): post_close" in text and "补做 (caught up): backup" in text
    assert f"日终对账 (reconciliation) {DAY}: ok" in text and "数据库已备份 (database backed up)" in text
    assert text.index("数据库已备份") < text.index("完成 (done)")


def test_a_planned_code_xtdata_does_not_know_is_said_and_not_traded(tmp_path: Path, xt) -> None:
    world = make_live_world(tmp_path, xt, step_seconds=30)
    del xt.details["688981.SH"]  # a code of the batch, not held: xtdata has no detail of it today
    try:
        out = run_live_day(world, arm=True, until=time(9, 40))
    finally:
        world.close()
    assert "证券资料不可用 (no details): 688981.SH: QMT 无此证券 (unknown to xtdata)" in out
    assert "当日未知证券 (unknown instrument on 2026-11-23): 688981.SH" in out  # the engine refused the line
    codes = {c for (c,) in rows(live_db(tmp_path), "SELECT code FROM orders")}
    assert "688981.SH" not in codes and {"600519.SH", "000001.SZ"} <= codes  # the other lines went
