"""The window on a real engine on the simulated broker (pytest-qt, offscreen): every panel shows the
day's real data, each table model passes qtmodeltester, the pause flow, the kill switch, cancel all,
editing a line, a broker that drops, the layout kept, and screenshots of each panel and the window."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.core.messages import OrderSnapshot
from app.domain.orders import OrderStatus
from app.domain.side import Side
from app.ui.main_window import MainWindow
from app.ui.read_model import ReadModel
from tests.helpers.window_day import CODES, WAIT_MS, WindowSession, save_screenshot, window_session

pytestmark = pytest.mark.gui


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    return tmp_path / "screenshots"


@pytest.fixture
def session(tmp_path: Path, qtbot) -> WindowSession:  # type: ignore[no-untyped-def]
    s = window_session(tmp_path / "day", qtbot)
    yield s
    s.close()


def _texts(model, row: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [model.data(model.index(row, c)) for c in range(model.columnCount())]


def _column(model, header: str) -> int:  # type: ignore[no-untyped-def]
    for c in range(model.columnCount()):
        if model.headerData(c, Qt.Orientation.Horizontal) == header:
            return c
    raise AssertionError(f"no column {header}")


def _row_of(model, code: str) -> int:  # type: ignore[no-untyped-def]
    for r in range(model.rowCount()):
        if code in _texts(model, r):
            return r
    raise AssertionError(f"{code} not in the table")


# ---------------------------------------------------------------------------- every panel, real data
def test_mid_day_every_panel_shows_the_engines_books_then_screenshots(
    session: WindowSession, qtbot, qtmodeltester, shots: Path
) -> None:  # type: ignore[no-untyped-def]
    # Arrange: an order-size cap (the risk engine resizes the 300-share TWAP slices, and says so in
    # the alerts), the plan approved, the day moved to mid-morning (children sent and filled)
    session.terminal.set_risk("max_order_qty", "200")
    session.terminal.approve_plan()
    for hh, mm in ((9, 31), (9, 45), (10, 5), (10, 30)):
        session.at(hh, mm)

    # Act: the window as it stands
    plan = session.panel("plan").table_model
    orders = session.panel("orders").table_model
    trades = session.panel("trades").table_model
    positions = session.panel("positions").table_model
    account = session.panel("account")
    alerts = session.panel("alerts").table_model

    # Assert: the plan's three lines, executing, with what they filled
    assert plan.rowCount() == 3
    row = _row_of(plan, "600000.SH")
    assert _texts(plan, row)[_column(plan, "状态")] in ("执行中", "已完成")
    filled = session.terminal.plan().progress["b1"].filled
    assert filled > 0
    assert _texts(plan, row)[_column(plan, "已成交")] == f"{filled}/3000"
    # orders and trades: every one of the engine's, in the table
    engine_orders = session.terminal.orders()
    assert orders.rowCount() == len(engine_orders) > 0
    assert {o.client_order_id for o in engine_orders} == {r.order.client_order_id for r in orders.rows()}
    engine_trades = session.terminal.trades()
    assert trades.rowCount() == len(engine_trades) > 0
    # positions: quantity, sellable, cost, last, as the engine has them; 2 decimals, funds 3
    by_code = {p.code: p for p in session.terminal.positions()}
    row = _row_of(positions, "000001.SZ")
    texts = _texts(positions, row)
    assert texts[_column(positions, "持仓")] == str(by_code["000001.SZ"].total)
    assert texts[_column(positions, "可卖")] == str(by_code["000001.SZ"].sellable)
    assert texts[_column(positions, "成本价")] == f"{by_code['000001.SZ'].avg_cost:.2f}"
    fund = _texts(positions, _row_of(positions, "510300.SH"))
    fund_cost = by_code["510300.SH"].avg_cost.quantize(D("0.001"))
    assert fund[_column(positions, "成本价")] == f"{fund_cost:.3f}"  # a fund: three decimals
    # the account: total assets and today's P&L as the engine computes them
    snapshot = session.terminal.account()
    assert account.value("total") == f"{snapshot.total_asset:,.2f}"
    assert snapshot.day_pnl is not None
    assert account.value("day_pnl") == f"{snapshot.day_pnl:+,.2f}"
    # the alerts: the setting's change and the risk engine's resizes, as the engine raised them
    messages = [alerts.data(alerts.index(r, 3)) for r in range(alerts.rowCount())]
    assert any("risk.max_order_qty" in m for m in messages)
    assert len(messages) == len(session.terminal.alerts())
    # every table model keeps Qt's model contract
    for model in (plan, orders, trades, positions, account.table_model, alerts):
        qtmodeltester.check(model, force_py=True)
    # screenshots of each panel and of the whole window, mid-day
    for name, dock in session.window.docks.items():
        dock.show()
        dock.raise_()
        save_screenshot(session.window.panel(name), f"panel-{name}", shots)
    session.window.docks["positions"].raise_()
    path = save_screenshot(session.window, "window-midday", shots)
    assert path.stat().st_size > 10_000


def test_strategies_are_shown_by_the_name_the_user_gave_them_with_the_id_as_tooltip(
    session: WindowSession,
) -> None:
    session.terminal.approve_plan()
    session.at(9, 45)
    plan, orders = session.panel("plan").table_model, session.panel("orders").table_model
    positions = session.panel("positions").table_model
    column = _column(plan, "策略")
    assert plan.rowCount() > 0
    assert {plan.data(plan.index(r, column)) for r in range(plan.rowCount())} == {"示例策略"}
    assert plan.data(plan.index(0, column), Qt.ItemDataRole.ToolTipRole) == "s1"
    assert orders.rowCount() > 0
    assert orders.data(orders.index(0, _column(orders, "策略")), Qt.ItemDataRole.DisplayRole) == "示例策略"
    traded = _row_of(positions, "600000.SH")
    assert "示例策略" in _texts(positions, traded)[_column(positions, "策略")]


def test_buy_and_sell_colours_red_and_green(session: WindowSession) -> None:
    plan = session.panel("plan").table_model
    side = _column(plan, "方向")
    buy, sell = _row_of(plan, "600000.SH"), _row_of(plan, "000001.SZ")

    assert plan.data(plan.index(buy, side)) == "买入"
    assert plan.data(plan.index(buy, side), Qt.ItemDataRole.ForegroundRole).name() == "#e0312d"
    assert plan.data(plan.index(sell, side), Qt.ItemDataRole.ForegroundRole).name() == "#0f9d3a"


# ---------------------------------------------------------------------------- the pause flow
def test_pause_buys_click_stops_new_buy_children_sells_go_on_resume_buys_continue(
    session: WindowSession, qtbot
) -> None:  # type: ignore[no-untyped-def]
    # Arrange: approved, the first TWAP slice of both sides sent
    panel = session.panel("plan")
    session.terminal.approve_plan()
    session.at(9, 31)
    session.at(9, 50)
    buys_before = len(session.children("b1", Side.BUY))
    fund_buys_before = len(session.children("b2", Side.BUY))
    sells_before = len(session.children("s1", Side.SELL))
    assert buys_before >= 1 and sells_before >= 1

    # Act: click 暂停买入, then let an hour and a half of slices fall due
    qtbot.mouseClick(panel.pause_buys_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: session.terminal.plan().status.paused_buys, timeout=10000)
    for hh, mm in ((10, 20), (10, 50), (11, 20)):
        session.at(hh, mm)

    # Assert: no further buy child; sells went on; the banner says buys are paused
    assert len(session.children("b1", Side.BUY)) == buys_before
    assert len(session.children("b2", Side.BUY)) == fund_buys_before
    assert len(session.children("s1", Side.SELL)) > sells_before
    assert "买入已暂停" in panel.banner.text()

    # Act: click 恢复
    qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not session.terminal.plan().status.paused_buys, timeout=10000)
    session.at(11, 29)
    session.at(13, 20)

    # Assert: buys continue
    assert len(session.children("b1", Side.BUY)) > buys_before
    assert "买入已暂停" not in panel.banner.text()


def test_pause_shortcuts_each_send_their_command(session: WindowSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = session.panel("plan")
    panel.setFocus()

    qtbot.keyClick(session.window, Qt.Key.Key_F7)
    qtbot.waitUntil(lambda: session.terminal.plan().status.paused_sells, timeout=10000)
    qtbot.keyClick(session.window, Qt.Key.Key_F9)
    qtbot.waitUntil(lambda: not session.terminal.plan().status.paused_sells, timeout=10000)
    qtbot.keyClick(session.window, Qt.Key.Key_F8)
    qtbot.waitUntil(
        lambda: session.terminal.plan().status.paused_buys and session.terminal.plan().status.paused_sells,
        timeout=10000,
    )
    qtbot.keyClick(session.window, Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: session.terminal.plan().status.approved, timeout=10000)

    audit = [a.action for a in session.terminal.plan().audit]
    assert audit[-4:] == ["pause_sells", "resume", "pause_all", "approve"]


# ---------------------------------------------------------------------------- kill switch, cancel all
def test_kill_switch_asks_first_then_halts_and_cancels_working_orders(session: WindowSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = session.panel("plan")
    session.terminal.approve_plan()
    session.at(9, 31)
    asked: list[str] = []
    panel.confirm = lambda title, text: asked.append(title) or False

    # Act 1: refused at the confirmation: nothing happens
    qtbot.mouseClick(panel.kill_button, Qt.MouseButton.LeftButton)
    session.catch_up()
    assert asked == ["紧急停止"]
    assert session.terminal.trading_state() == "active"

    # Act 2: confirmed
    panel.confirm = lambda title, text: True
    qtbot.keyClick(
        session.window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.waitUntil(lambda: session.terminal.trading_state() == "halted", timeout=10000)
    session.at(9, 40)

    # Assert: halted, nothing working, the status bar says so; later slices send nothing
    assert not [o for o in session.terminal.orders() if o.status.is_working]
    qtbot.waitUntil(lambda: "已停止交易" in session.window.mode_label.text(), timeout=10000)
    before = len(session.terminal.orders())
    session.at(10, 30)
    assert all(o.status is OrderStatus.DENIED for o in session.terminal.orders()[before:])


def test_cancel_all_asks_then_cancels_every_working_order(session: WindowSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    # Arrange: working orders that will not fill (limit buys far below the market)
    from app.core.oms import NewOrder

    session.terminal.submit(
        [NewOrder("600000.SH", Side.BUY, 100, D("9.20")), NewOrder("600000.SH", Side.BUY, 200, D("9.21"))]
    )
    session.at(9, 31)
    panel = session.panel("orders")
    working = [o for o in session.terminal.orders() if o.status.is_working]
    assert len(working) >= 2
    panel.confirm = lambda title, text: False

    qtbot.mouseClick(panel.cancel_all_button, Qt.MouseButton.LeftButton)
    session.catch_up()
    assert len([o for o in session.terminal.orders() if o.status.is_working]) == len(working)

    panel.confirm = lambda title, text: True
    qtbot.mouseClick(panel.cancel_all_button, Qt.MouseButton.LeftButton)
    session.at(9, 32)

    assert not [o for o in session.terminal.orders() if o.status.is_working]
    statuses = {r.order.client_order_id: r.order.status for r in panel.table_model.rows()}
    assert all(statuses[o.client_order_id] is OrderStatus.CANCELLED for o in working)


def test_cancel_one_selected_order(session: WindowSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.core.oms import NewOrder

    ids = session.terminal.submit(
        [NewOrder("600000.SH", Side.BUY, 100, D("9.20")), NewOrder("600000.SH", Side.BUY, 100, D("9.21"))]
    )
    session.at(9, 31)
    panel = session.panel("orders")
    row = panel.table_model.row_of(str(ids[0]))
    assert row is not None
    panel.view.selectRow(panel.proxy.mapFromSource(panel.table_model.index(row, 0)).row())

    panel.cancel_selected()
    session.at(9, 32)

    assert session.terminal.order(ids[0]).status is OrderStatus.CANCELLED
    assert session.terminal.order(ids[1]).status.is_working


# ---------------------------------------------------------------------------- editing and skipping a line
def test_edit_a_line_changes_it_and_a_refused_edit_says_why(session: WindowSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = session.panel("plan")
    row = _row_of(panel.table_model, "600000.SH")
    panel.view.selectRow(row)
    panel.ask_edit = lambda line: (2000, "limit", D("0.01"))

    qtbot.keyClick(session.window, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: session.terminal.plan().line("b1").qty == 2000, timeout=10000)
    session.catch_up()

    line = session.terminal.plan().line("b1")
    assert line.policy == "limit"
    assert "2000" in _texts(panel.table_model, row)[_column(panel.table_model, "数量")]
    assert "人工修改" in _texts(panel.table_model, row)[_column(panel.table_model, "说明（计划与风控）")]

    # a quantity that breaks the board lot: refused, in words, nothing changed
    panel.ask_edit = lambda line: (2050, "limit", D("0.01"))
    panel.edit_selected()
    qtbot.waitUntil(lambda: "交易单位" in panel.message.text(), timeout=10000)
    assert session.terminal.plan().line("b1").qty == 2000


def test_skip_a_line_asks_then_skips(session: WindowSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = session.panel("plan")
    panel.view.selectRow(_row_of(panel.table_model, "510300.SH"))
    panel.confirm = lambda title, text: True

    panel.skip_selected()
    qtbot.waitUntil(lambda: session.terminal.plan().line("b2").state.value == "skipped", timeout=10000)
    session.catch_up()

    row = _row_of(panel.table_model, "510300.SH")
    assert _texts(panel.table_model, row)[_column(panel.table_model, "状态")] == "已跳过"


# ---------------------------------------------------------------------------- a broker that drops
def test_broker_drops_then_the_window_says_so_and_comes_back_with_a_fresh_snapshot(
    session: WindowSession, qtbot, shots: Path
) -> None:  # type: ignore[no-untyped-def]
    session.terminal.approve_plan()
    session.at(9, 31)
    assert "已连接" in session.window.broker_label.text()

    session.setup.broker.drop_connection("模拟断线 (test: link dropped)")
    session.at(9, 35)

    qtbot.waitUntil(lambda: "未连接" in session.window.broker_label.text(), timeout=10000)
    assert "模拟断线" in session.window.broker_label.text()
    assert any("连接断开" in a.message for a in session.read_model.alerts)
    save_screenshot(session.window, "window-broker-down", shots)
    loads = []
    session.read_model.reloaded.connect(lambda: loads.append(1))

    session.setup.broker.restore_connection()
    session.at(9, 40)

    qtbot.waitUntil(lambda: "已连接" in session.window.broker_label.text() and bool(loads), timeout=10000)
    session.catch_up()
    assert {r.order.client_order_id for r in session.panel("orders").table_model.rows()} == {
        o.client_order_id for o in session.terminal.orders()
    }


# ---------------------------------------------------------------------------- the layout is kept
def test_layout_saved_on_close_and_restored(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.ui.bridge import EngineBridge

    class NoTerminal:
        pass

    layout = tmp_path / "window.ini"
    first = MainWindow(ReadModel(), EngineBridge(NoTerminal()), layout_file=layout)
    qtbot.addWidget(first)
    first.add_core_panels()
    first.show()
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first.docks["alerts"])  # the user moved it
    first.close()
    assert layout.exists()

    second = MainWindow(ReadModel(), EngineBridge(NoTerminal()), layout_file=layout)
    qtbot.addWidget(second)
    second.add_core_panels()
    assert second.dockWidgetArea(second.docks["alerts"]) == Qt.DockWidgetArea.RightDockWidgetArea
    assert second.restore_layout()
    assert second.dockWidgetArea(second.docks["alerts"]) == Qt.DockWidgetArea.LeftDockWidgetArea


def test_add_panel_hosts_any_widget_and_refuses_a_duplicate_name(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    from app.ui.bridge import EngineBridge

    window = MainWindow(ReadModel(), EngineBridge(object()), layout_file=tmp_path / "w.ini")
    qtbot.addWidget(window)
    dock = window.add_panel("quotes", "行情", QLabel("x"), Qt.DockWidgetArea.RightDockWidgetArea)

    assert dock.objectName() == "quotes"
    assert window.panel("quotes").text() == "x"
    with pytest.raises(ValueError, match="quotes"):
        window.add_panel("quotes", "行情", QLabel("y"))


def test_tray_absent_offscreen_then_notifications_go_to_the_status_bar(session: WindowSession) -> None:
    from PySide6.QtWidgets import QSystemTrayIcon

    session.window.notify("Tiller 告警", "测试通知")

    assert session.window.notifications[-1] == ("Tiller 告警", "测试通知")
    if not QSystemTrayIcon.isSystemTrayAvailable():
        assert session.window.tray is None
        assert session.window.statusBar().currentMessage() == "测试通知"


def test_orders_table_bounded_and_updates_only_changed_rows(qtbot) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from app.domain.clock import CN_TZ
    from app.domain.identifiers import ClientOrderId
    from app.domain.orders import PriceType
    from app.ui.panels.books import OrderRow, orders_model

    model = orders_model()
    model.max_rows = 50

    def order(n: int, status: OrderStatus = OrderStatus.ACCEPTED, filled: int = 0) -> OrderRow:
        ts = datetime(2026, 11, 23, 9, 30, tzinfo=CN_TZ)
        snap = OrderSnapshot(ClientOrderId(f"T{n:011d}"), None, "600000.SH", Side.BUY, 100, D("10.00"),
                             PriceType.LIMIT, status, filled, None, D(0), "", "s1", "", False, ts, ts)  # fmt: skip
        return OrderRow(snap, "浦发银行")

    model.upsert(order(n) for n in range(80))
    assert model.rowCount() == 50
    assert model.row(0).order.client_order_id == "T00000000030"  # the oldest were dropped
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))

    model.upsert([order(40, OrderStatus.FILLED, 100), order(41), order(42, OrderStatus.CANCELLED)])

    assert changed == [(10, 10), (12, 12)]  # 41 did not change; 40 and 42 are not adjacent


# ---------------------------------------------------------------------------- the market panels hosted
def test_the_window_hosts_quotes_charts_strategies_and_risk_fed_by_the_read_model(
    tmp_path: Path, qtbot, shots: Path
) -> None:  # type: ignore[no-untyped-def]
    s = window_session(tmp_path / "day", qtbot, market=True, approve=True)
    try:
        s.at(9, 45)
        quotes, charts = s.panel("quotes"), s.panel("charts")
        strategies, risk = s.panel("strategies"), s.panel("risk")

        # the watchlist starts as the day's instruments, and shows the engine's last prices
        assert sorted(quotes.watchlist()) == sorted(c.code for c in CODES)
        quotes.flush()
        last = {code: q.last for code, q in s.terminal.quotes([c.code for c in CODES]).items()}
        row = quotes.watchlist().index("600000.SH")
        texts = [quotes.model.data(quotes.model.index(row, c)) for c in range(quotes.model.columnCount())]
        assert f"{last['600000.SH']:.2f}" in texts
        # choosing an instrument loads its bars off the GUI thread: the intraday chart holds today's
        # minutes from the call auction to now (09:25 .. 09:45), the same walk as the day's quotes
        other = next(c.code for c in CODES if c.code != quotes.selected())
        quotes.select(other)
        qtbot.waitUntil(lambda: not charts.loading and charts.intraday.code == other, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: int(np.isfinite(charts.intraday.price).sum()) >= 15, timeout=WAIT_MS)
        assert float(charts.intraday.price[charts.intraday._last_index]) == float(last[other])
        charts.intraday.redraw()
        # the strategies panel lists the followed strategy; the risk panel shows the gate's settings
        qtbot.waitUntil(lambda: strategies.model.rowCount() == 1, timeout=WAIT_MS)
        risk.refresh()
        qtbot.waitUntil(lambda: risk.audit is not None, timeout=WAIT_MS)
        # the watchlist is kept with the layout
        kept = [c for c in quotes.watchlist() if c != "510300.SH"]
        quotes.remove_instrument("510300.SH")
        assert s.window.layout_settings.value("quotes/watchlist") == kept
        for name in ("quotes", "charts", "strategies", "risk"):
            s.window.docks[name].raise_()
            save_screenshot(s.window.docks[name].widget(), f"panel-{name}", shots)
        save_screenshot(s.window, "window-all-panels", shots)
    finally:
        s.close()
