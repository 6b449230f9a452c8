"""The scheduler's chain end to end (`run --headless` on a simulated clock): fetch -> plan -> approve ->
execute (the execution service) -> reconcile -> sync -> backup; a late start skips the auction, says
so and falls back to continuous trading; a restart resumes lines already handed."""

from __future__ import annotations

import io
import sqlite3
from datetime import date, time
from pathlib import Path

from app.config import load_settings
from app.headless import HeadlessOptions, run_headless
from app.secrets import SecretStore
from tests.helpers.sync_server import SyncServer

DAY = date(2026, 11, 23)
DEMO_LINES = {"145909290", "145909291", "145909292", "145909293", "145909294", "145909295"}


def run(folder: Path, start: time, until: time = time(16, 0), **sets: str) -> str:
    overrides = [f"{k}={v}" for k, v in sets.items()]
    settings = load_settings(
        argv_overrides=overrides, env={"TILLER_DATA_DIR": str(folder)}, path=folder / "no.toml"
    )
    out = io.StringIO()
    options = HeadlessOptions(day=DAY, start=start, until=until, speed=None, data_dir=folder, seed=3)
    assert run_headless(settings, options, out) == 0
    return out.getvalue()


def rows(folder: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(folder / "tiller-sim-SIM001.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_whole_day_runs_fetch_plan_approve_execute_reconcile_sync(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    with SyncServer() as server:
        SecretStore().set("bigquant.access_key", server.access_key)
        SecretStore().set("bigquant.secret_key", server.secret_key)
        out = run(folder, time(8, 30), **{"bigquant.sync_url": server.url})
        assert len(server.applied) == 1 and server.bad_signatures == 0
        (payload,) = server.applied.values()
    steps = [
        "[08:50:00] 获取计划订单 (fetching planned orders)",
        "取得计划订单 (planned orders fetched) signals: 1 批 (batches), 6 条 (lines)",
        "已计划 (planned) 6 行 (lines)",
        "[09:10:00] 计划自动批准 (plan approved automatically): 6 行 (lines)",
        "[09:15:00] 开盘集合竞价 (opening auction): 5 行",
        "[09:30:00] 连续竞价 (continuous trading)",
        "[14:57:00] 收盘集合竞价 (closing auction): 1 行",
        f"[15:30:00] 日终对账 (reconciliation) {DAY}: ok",
        "数据库已备份 (database backed up)",
    ]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions), out
    # every line went through the plan and the execution service, and filled
    lines = rows(folder, "SELECT line_id, state, policy FROM plan_lines")
    assert {x[0] for x in lines} == DEMO_LINES and {x[1] for x in lines} == {"handed"}
    assert {x[0]: x[2] for x in lines}["145909294"] == "auction_close"  # its order_dt is 15:00
    orders = rows(folder, "SELECT signal_id, status, qty, filled_qty, created_at FROM orders")
    assert {o[0] for o in orders} == DEMO_LINES
    assert sum(o[3] for o in orders) > 0
    auction = [o for o in orders if o[0] != "145909294"]
    assert all("T09:15" <= o[4][10:] < "T09:25" for o in auction), orders  # in the opening call
    assert rows(folder, "SELECT trading_day, status FROM settlements") == [(DAY.isoformat(), "ok")]
    assert payload["trading_day"] == DAY.isoformat()
    assert {o["signal_id"] for o in payload["orders"]} == DEMO_LINES
    assert rows(folder, "SELECT count(*) FROM sync_outbox WHERE delivered_at IS NULL") == [(0,)]


def test_a_late_start_skips_the_auction_says_so_and_falls_back_to_continuous_trading(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    out = run(folder, time(10, 0))
    assert "跳过 (skipped): open_auction 09:15: 已错过开盘集合竞价" in out
    assert "补做 (caught up): fetch" in out and "补做 (caught up): approve" in out
    assert "计划已批准，新行直接批准" in out  # the fetch came after the caught-up approval
    orders = rows(folder, "SELECT signal_id, status, filled_qty, created_at FROM orders")
    assert {o[0] for o in orders} == DEMO_LINES
    assert all(o[3][11:] >= "10:00" for o in orders)  # nothing before the start, no auction order
    open_lines = [o for o in orders if o[0] != "145909294"]
    assert all(o[1] == "filled" for o in open_lines), orders  # in continuous trading
    assert f"日终对账 (reconciliation) {DAY}: ok" in out


def test_a_restart_resumes_the_lines_already_handed_and_sends_none_twice(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    first = run(folder, time(8, 30), until=time(9, 20))  # stopped with the auction orders working
    assert "开盘集合竞价 (opening auction)" in first
    sent = rows(folder, "SELECT signal_id, client_order_id FROM orders")
    assert {s for s, _ in sent} == DEMO_LINES - {"145909294"}
    second = run(folder, time(9, 20))
    assert "接续执行 (resumed) 6 行" in second
    assert "已计划 (planned)" not in second  # the batch was planned once, on the first run
    orders = rows(folder, "SELECT signal_id, qty, filled_qty, status FROM orders")
    assert {o[0] for o in orders} == DEMO_LINES
    planned = dict(rows(folder, "SELECT line_id, qty FROM plan_lines"))
    for signal_id, qty in planned.items():  # never beyond the line, across the restart
        assert sum(o[2] for o in orders if o[0] == signal_id) <= qty
    assert f"日终对账 (reconciliation) {DAY}: ok" in second


def test_run_headless_takes_file_orders_from_the_inbox_and_writes_their_results(tmp_path: Path) -> None:
    folder, inbox = tmp_path / "d", tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mine.csv").write_bytes(
        "证券代码,买卖方向,委托数量\n000001,买入,1000\n601988,买入,100\n".encode("gbk")
    )
    settings = load_settings(
        argv_overrides=[f"files.inbox={inbox}", "files.stable_s=0.01", "files.poll_s=0.01"],
        env={"TILLER_DATA_DIR": str(folder)}, path=folder / "no.toml",
    )  # fmt: skip
    out = io.StringIO()
    # paced (1,200 simulated seconds a second) so the inbox thread sees the folder while the market is open
    options = HeadlessOptions(
        day=DAY, start=time(13, 0), until=time(15, 40), speed=1200, data_dir=folder, seed=3
    )
    assert run_headless(settings, options, out) == 0
    text = out.getvalue()
    assert "文件单 (file order) mine.csv 已读取 (taken in)" in text
    assert "跟踪策略 (following) file" in text
    done = inbox / "done" / DAY.isoformat() / "mine"
    assert (done / "mine.csv").exists() and not (inbox / "mine.csv").exists()
    orders = (done / "orders.csv").read_text(encoding="utf-8-sig")
    assert "000001.SZ" in orders and "filled" in orders
    assert "601988.SH" in (done / "rejections.csv").read_text(encoding="utf-8-sig")  # not a code of the day
    assert rows(folder, "SELECT count(*) FROM orders WHERE strategy_id = 'file'") == [(1,)]
