"""The live window runs the trading day (issue 9): the same jobs as `run --headless` in live mode
(app/headless.py `live_day`, `DayJobs`, shared by bootstrap.build_live_window_session) from the settings'
schedule — fetch -> plan -> approval -> auctions/continuous -> close, reconcile, settle -> backup — the
next one in the status bar; observe-only holds every line and the plan panel says why; armed in the
window and approved, the lines go out. On xtquant's real xttrader against the xtpythonclient stand-in,
the jobs as engine timers on a SimClock (fired as the test moves it) or on APScheduler."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime, time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import eod_store_for
from app.core.risk import LiveState
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus
from app.storage.lock import acquire_account_lock
from tests.helpers.live_window import WAIT_MS, LiveWindow, arm_through_dialog, live_window
from tests.helpers.qmt import DAY
from tests.helpers.window_day import save_screenshot
from tests.standins import xtpythonclient as standin

HELD = "观察模式，未发送"
LINES = (("L1", "600000.SH", "浦发银行", 1000, 10.0), ("L2", "000001.SZ", "平安银行", 2000, 11.37))


@pytest.fixture(autouse=True)
def _standin_exchanges() -> Iterator[None]:
    yield
    standin.reset()


def signals_file(folder: Path) -> Path:
    """BigQuant's planned orders for the day (two buys at the open), as a planned-order file."""
    items = [
        {
            "planned_order_id": lid, "strategy_id": "s1", "account_id": "1", "account_type": "0",
            "trading_day": DAY.isoformat(), "order_dt": f"{DAY.isoformat()}T09:30:00+08:00",
            "exchange": code[-2:], "instrument": code, "name": name, "direction": "1", "offset_flag": "1",
            "original_order_qty": qty, "order_qty": qty, "order_price": price, "order_type": "U",
            "order_status": 10, "order_status_str": "Generated",
        }
        for lid, code, name, qty, price in LINES
    ]  # fmt: skip
    path = folder / "planned_orders.json"
    path.write_text(json.dumps({"code": 0, "message": "success", "data": {"items": items}}), encoding="utf-8")
    return path


def plan_rows(w: LiveWindow) -> list[dict[str, str]]:
    model = w.window.panel("plan").table_model
    heads = [str(model.headerData(c, _horizontal())) for c in range(model.columnCount())]
    return [
        {heads[c]: str(model.data(model.index(r, c))) for c in range(model.columnCount())}
        for r in range(model.rowCount())
    ]


def _horizontal() -> Any:
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def next_job(w: LiveWindow) -> str:
    return w.window.next_job_label.text()


def fetched(w: LiveWindow) -> None:
    """The fetch job's worker has handed its batches to the engine, and the window has caught up."""
    jobs = w.session.jobs
    assert jobs is not None and jobs.fetcher is not None
    jobs.fetcher.wait_idle(30.0)
    w.catch_up()


def to_account(w: LiveWindow) -> list[Any]:
    return [o for o in w.terminal.orders() if o.signal_id in {"L1", "L2"}]


@pytest.fixture
def day(tmp_path: Path, qtbot: Any) -> Iterator[LiveWindow]:
    w = live_window(tmp_path, qtbot, start=time(8, 45), signals=signals_file(tmp_path))
    try:
        yield w
    finally:
        w.close()


def test_the_live_window_runs_the_day_held_while_observe_only_then_sent_once_armed(
    day: LiveWindow, tmp_path: Path
) -> None:
    w = day
    assert w.terminal.live_status().state is LiveState.OBSERVE_ONLY
    names = [name for _at, name in w.session.schedule]
    assert names == ["取信号", "批准截止", "开盘竞价", "连续竞价", "收盘竞价", "日终对账", "备份"]
    w.qtbot.waitUntil(lambda: next_job(w) == "下一任务：08:50 取信号", timeout=WAIT_MS)
    assert plan_rows(w) == []

    w.at(8, 51)  # the fetch job: BigQuant's planned orders fetched and planned
    fetched(w)
    w.qtbot.waitUntil(lambda: len(plan_rows(w)) == 2, timeout=WAIT_MS)
    assert {r["代码"] for r in plan_rows(w)} == {"600000.SH", "000001.SZ"}
    w.qtbot.waitUntil(lambda: next_job(w) == "下一任务：09:10 批准截止", timeout=WAIT_MS)

    w.at(9, 11)  # the approval deadline: observe-only, not approved; each line says why
    w.at(9, 16)  # the opening auction
    w.at(9, 31)  # continuous trading
    w.at(9, 36)
    assert w.exchange.orders_received == 0 and to_account(w) == []
    w.qtbot.waitUntil(lambda: all(HELD in r["说明（计划与风控）"] for r in plan_rows(w)), timeout=WAIT_MS)
    assert all("实盘未布防" in r["说明（计划与风控）"] for r in plan_rows(w))  # the reason, not just "held"
    lines = w.terminal.plan().lines
    assert {x.state.value for x in lines} == {"planned"} and w.terminal.plan().status.approved_at is None
    assert next_job(w) == "下一任务：14:57 收盘竞价"
    save_screenshot(w.window, "live-window-day-observe-only", tmp_path / "shots")

    arm_through_dialog(w)  # armed in the window, then the plan approved there: the lines go out
    w.window.panel("plan").approve_button.click()
    w.catch_up()
    for mm in (40, 45, 50, 55):
        w.at(9, mm)
    sent = to_account(w)
    assert sent and w.exchange.orders_received >= len(sent)
    assert all(o.status is not OrderStatus.DENIED for o in sent)
    assert {x.state.value for x in w.terminal.plan().lines} == {"handed"}

    w.at(14, 58)  # the closing auction, then the exchange's close
    w.exchange.end_day()
    w.catch_up()
    w.at(15, 31)  # the close: reconcile and settle
    w.qtbot.waitUntil(
        lambda: any(s.day == DAY for s in w.terminal.settlements(eod_store_for)), timeout=WAIT_MS
    )
    w.at(15, 46)  # the backup
    w.qtbot.waitUntil(
        lambda: any((tmp_path / "backups").glob("tiller-live-*-20261123-154*.db")), timeout=WAIT_MS
    )
    w.qtbot.waitUntil(lambda: next_job(w) == "下一任务：无", timeout=WAIT_MS)


def _aps_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "APScheduler" and t.is_alive()]


def test_on_apscheduler_the_fetch_fills_the_plan_and_closing_the_window_stops_the_scheduler(
    tmp_path: Path, qtbot: Any
) -> None:
    before = set(_aps_threads())
    w = live_window(
        tmp_path, qtbot, start=time(8, 49, 59), signals=signals_file(tmp_path), engine_timers=False
    )
    closed = False
    try:
        jobs = w.session.jobs
        assert jobs is not None and jobs.scheduler is not None and jobs.scheduler.pending() > 0
        assert set(_aps_threads()) - before  # APScheduler's thread runs the day
        # the fetch is due a second from the clock's now: APScheduler posts it on the wall clock
        w.qtbot.waitUntil(lambda: len(plan_rows(w)) == 2, timeout=WAIT_MS)
        assert w.exchange.orders_received == 0
        # a window left open overnight: the next trading day's jobs, planned on APScheduler's thread
        # after midnight, reach the status bar (dated, as they are not today's)
        assert jobs.scheduler is not None
        evening = datetime.combine(DAY, time(20, 0), tzinfo=CN_TZ)
        assert w.window.next_job_text(evening) == "下一任务：无"
        next_day = w.session.setup.engine.calendar.next_trading_day(DAY)
        jobs.scheduler.plan(datetime.combine(next_day, time(0, 1), tzinfo=CN_TZ))
        assert w.window.next_job_text(evening) == f"下一任务：{next_day:%m-%d} 08:50 取信号"
        lock = w.session.setup.lock
        assert lock is not None and lock.held
        fetcher = jobs.fetcher
        w.close()
        closed = True
        assert jobs.scheduler is None and jobs.fetcher is None
        assert not (set(_aps_threads()) - before)  # no scheduler thread left behind
        assert fetcher is not None and not any(
            t.name == "tiller-fetch-signals" for t in threading.enumerate()
        )
        assert not lock.held
        again = acquire_account_lock(
            w.session.setup.db_path, account="x", mode="live", now=datetime.now(CN_TZ)
        )  # the account can be opened again
        again.release()
    finally:
        if not closed:
            w.close()


def test_without_bigquant_keys_the_live_window_still_opens_and_says_what_to_set(
    tmp_path: Path, qtbot: Any
) -> None:
    w = live_window(tmp_path, qtbot, start=time(8, 45), bigquant__strategy_ids="s1")
    try:
        alerts = w.window.panel("alerts").table_model
        w.qtbot.waitUntil(
            lambda: any(
                "bigquant.access_key" in str(alerts.data(alerts.index(r, c)))
                for r in range(alerts.rowCount())
                for c in range(alerts.columnCount())
            ),
            timeout=WAIT_MS,
        )
        w.at(8, 51)  # the fetch job runs and finds nothing to fetch: the day goes on, the books watched
        fetched(w)
        assert plan_rows(w) == [] and w.window.broker_label.text() == "券商：已连接"
    finally:
        w.close()


def test_the_live_window_hears_xtdata_quotes_wired_by_the_live_setup(tmp_path: Path, qtbot: Any) -> None:
    """In production the window's session takes no quote seam: build_live_setup wires xtdata (LiveMarket).
    Here xtdata's stand-in pushes the exchange's snapshot and the window's books price on it."""
    from tests.helpers.qmt_live_day import XtMarket, xtdata_installed

    with xtdata_installed() as xtdata:
        w = live_window(tmp_path, qtbot, start=time(9, 31), xtdata=xtdata)
        try:
            market = w.session.setup.market
            assert market is not None  # xtdata's feed, wired by build_live_setup
            xt = XtMarket(w.exchange, w.day.feed, xtdata, DAY)
            xt.attach(w.session.setup)
            snapshot = w.day.feed.snapshot(DAY, time(9, 31))
            xt.quotes(snapshot)
            w.catch_up()
            pushed = {q.code: q.last for q in snapshot}
            held = "000001.SZ"  # followed (the account holds it): its quote reaches the books through xtdata
            assert pushed[held] != D("11.37") and w.terminal.last_prices()[held] == pushed[held]
            w.qtbot.waitUntil(lambda: "行情：正常" in w.window.quotes_label.text(), timeout=WAIT_MS)
        finally:
            w.close()
