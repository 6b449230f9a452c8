"""The window in live mode (issue 9; issue 10's status bar): `general.mode = "live"` opens the window
on the QMT account (bootstrap.build_live_window_session: xtquant's real xttrader against the
xtpythonclient stand-in), observe-only until armed in the window with a typed confirmation; the
broker's link (connected / reconnecting / down since) in the status bar and the alerts; a QMT that
cannot be reached is a message box in words, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app import gui
from app.config import load_settings
from app.core.clock import SimClock
from app.core.risk import LiveState
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus
from app.domain.side import Side
from app.secrets import SecretStore
from app.ui.live import QUIT, RETRY, SIMULATED, choice_of, live_failure_box
from tests.helpers.live_window import (
    STRATEGY,
    WAIT_MS,
    LiveWindow,
    arm_through_dialog,
    live_window,
    open_arm_dialog,
    plan_batch,
)
from tests.helpers.qmt import ACCOUNT, live_settings
from tests.helpers.window_day import save_screenshot
from tests.standins import xtpythonclient as standin


@pytest.fixture(autouse=True)
def _standin_exchanges() -> Iterator[None]:
    yield
    standin.reset()


@pytest.fixture
def live(tmp_path: Path, qtbot: Any) -> Iterator[LiveWindow]:
    w = live_window(tmp_path, qtbot)
    try:
        yield w
    finally:
        w.close()


def mode_text(w: LiveWindow) -> str:
    return w.window.mode_label.text()


def plan_and_approve(w: LiveWindow, *lines: tuple[str, str, Side, int]) -> None:
    w.terminal.set_strategy(STRATEGY)
    w.terminal.plan_batches([plan_batch(*lines)])
    w.catch_up()
    w.window.panel("plan").approve_button.click()
    w.catch_up()


def test_the_live_window_opens_observe_only_and_an_order_is_refused_with_the_state_shown(
    live: LiveWindow, tmp_path: Path
) -> None:
    w = live
    assert w.terminal.live_status().state is LiveState.OBSERVE_ONLY
    assert mode_text(w).startswith("实盘·只读")
    assert "实盘·只读" in w.window.windowTitle()
    assert w.controls.button.text() == "布防…" and w.controls.button.isEnabled()
    assert w.controls.arm_action.isEnabled() and not w.controls.disarm_action.isEnabled()
    assert w.window.broker_label.text() == "券商：已连接"
    plan_and_approve(w, ("b1", "600000.SH", Side.BUY, 3000))
    w.at(9, 31)
    w.at(9, 35)
    children = [o for o in w.terminal.orders() if o.signal_id == "b1"]
    assert children and all(o.status is OrderStatus.DENIED for o in children)
    assert all("实盘未布防" in o.status_msg for o in children)
    assert w.exchange.orders_received == 0  # nothing reached the account
    assert w.terminal.live_audit() == []
    # the window says why: the orders panel's row, the status bar's message, the mode label
    orders = w.window.panel("orders").table_model
    texts = [
        str(orders.data(orders.index(r, c)))
        for r in range(orders.rowCount())
        for c in range(orders.columnCount())
    ]
    assert "风控拒绝" in texts and any("实盘未布防" in t for t in texts)
    assert "实盘未布防" in w.window.statusBar().currentMessage()  # the engine's alert (no tray offscreen)
    assert mode_text(w).startswith("实盘·只读")
    save_screenshot(w.window, "live-window-observe-only", tmp_path / "shots")


def test_arming_through_the_typed_confirmation_sends_and_audits_then_disarm_stops_it(
    live: LiveWindow, tmp_path: Path
) -> None:
    w = live
    dialog = open_arm_dialog(w)
    assert "SENDS ORDERS" in dialog.words.text() and "布防实盘账户" in dialog.words.text()
    assert "******1234" in dialog.words.text() and ACCOUNT not in dialog.words.text()  # masked
    assert not dialog.arm_button.isEnabled()
    dialog.entry.setText("1235")  # wrong: 布防 stays disabled, Enter arms nothing
    assert not dialog.arm_button.isEnabled()
    dialog.accept()
    assert dialog.isVisible() and w.terminal.live_status().state is LiveState.OBSERVE_ONLY
    dialog.entry.setText(" 1234 ")
    assert dialog.arm_button.isEnabled()
    save_screenshot(dialog, "live-arm-dialog", tmp_path / "shots")
    dialog.arm_button.click()
    w.qtbot.waitUntil(lambda: w.controls.armed, timeout=WAIT_MS)
    w.catch_up()
    status = w.terminal.live_status()
    assert status.state is LiveState.ARMED and status.armed_by == "window"
    assert mode_text(w).startswith("实盘·已布防") and w.controls.button.text() == "撤防"
    assert w.controls.disarm_action.isEnabled() and not w.controls.arm_action.isEnabled()

    plan_and_approve(w, ("b1", "600000.SH", Side.BUY, 3000))
    for mm in (31, 33, 35, 37):
        w.at(9, mm)
    sent = [o for o in w.terminal.orders() if o.signal_id == "b1" and o.status is not OrderStatus.DENIED]
    assert sent and w.exchange.orders_received == len(sent)
    audit = w.terminal.live_audit()
    assert (audit[0][1], audit[0][2]) == ("window", "arm")
    assert sorted(a for _, _, a, _ in audit[1:]) == ["order"] * len(sent)
    save_screenshot(w.window, "live-window-armed", tmp_path / "shots")

    assert w.controls.dialog is None  # answered and gone
    w.controls.button.click()  # 撤防: no question asked
    assert w.controls.dialog is None
    w.qtbot.waitUntil(lambda: w.controls.status is not None and not w.controls.armed, timeout=WAIT_MS)
    assert mode_text(w).startswith("实盘·只读")
    received = w.exchange.orders_received
    for mm in (40, 45, 50, 55):
        w.at(9, mm)
    assert w.exchange.orders_received == received  # the line's next slices were refused
    refused = [o for o in w.terminal.orders() if o.signal_id == "b1" and o.status is OrderStatus.DENIED]
    assert refused and all("实盘未布防" in o.status_msg for o in refused)
    assert [(who, action) for _, who, action, _ in w.terminal.live_audit()][-1] == ("window", "disarm")


def test_the_arming_expires_at_the_close_and_the_window_says_so(live: LiveWindow) -> None:
    w = live
    arm_through_dialog(w)
    assert mode_text(w).startswith("实盘·已布防")
    assert "15:00" in w.window.mode_label.toolTip()
    w.at(14, 59)
    assert w.controls.armed
    w.at(15, 1)
    w.qtbot.waitUntil(lambda: mode_text(w).startswith("实盘·只读"), timeout=WAIT_MS)
    assert w.controls.button.text() == "布防…"
    assert [a for _, _, a, _ in w.terminal.live_audit()] == ["arm", "expire"]


def test_cancelling_the_dialog_arms_nothing(live: LiveWindow) -> None:
    w = live
    dialog = open_arm_dialog(w)
    dialog.entry.setText(ACCOUNT[-4:])
    dialog.reject()  # 取消 / Esc, with the right characters typed
    w.qtbot.waitUntil(lambda: w.controls.dialog is None, timeout=WAIT_MS)
    w.catch_up()
    assert w.terminal.live_status().state is LiveState.OBSERVE_ONLY and w.terminal.live_audit() == []
    assert mode_text(w).startswith("实盘·只读")


def test_arming_refused_after_the_close_is_said_and_stays_observe_only(live: LiveWindow) -> None:
    w = live
    w.at(15, 5)
    arm = open_arm_dialog(w)
    arm.entry.setText(ACCOUNT[-4:])
    arm.arm_button.click()
    w.catch_up()
    w.qtbot.waitUntil(
        lambda: any("无法布防" in t and "交易已结束" in t for _, t in w.window.notifications), timeout=WAIT_MS
    )
    assert not w.controls.armed and mode_text(w).startswith("实盘·只读")
    assert w.terminal.live_audit() == []


def test_not_enabled_in_the_settings_arming_is_disabled_with_the_reason(tmp_path: Path, qtbot: Any) -> None:
    w = live_window(tmp_path, qtbot, enabled=False)
    try:
        assert mode_text(w).startswith("实盘·只读")
        assert not w.controls.button.isEnabled() and not w.controls.arm_action.isEnabled()
        assert "qmt.live_trading_enabled" in w.controls.button.toolTip()
        assert "设置" in w.controls.button.toolTip()
        w.controls.arm()  # the menu's action, had it been triggered anyway: nothing is asked or armed
        assert w.controls.dialog is None
        assert w.terminal.live_status().state is LiveState.OBSERVE_ONLY
    finally:
        w.close()


def test_a_disconnect_shows_reconnecting_and_an_alert_and_reconnect_shows_connected(
    live: LiveWindow, tmp_path: Path
) -> None:
    w = live
    w.at(9, 31)
    w.exchange.disconnect()
    label = w.window.broker_label
    w.qtbot.waitUntil(lambda: "重连中" in label.text(), timeout=WAIT_MS)
    assert "断开" in label.text() and "09:31:00" in label.text()  # down since, on the engine's clock
    assert "reconnecting" in label.toolTip()
    alerts = w.window.panel("alerts").table_model
    w.qtbot.waitUntil(
        lambda: any("券商连接断开" in str(alerts.data(alerts.index(r, 3))) for r in range(alerts.rowCount())),
        timeout=WAIT_MS,
    )
    save_screenshot(w.window, "live-window-reconnecting", tmp_path / "shots")
    assert mode_text(w).startswith("实盘·只读")  # the window survives the drop, state shown
    w.exchange.restore()
    w.qtbot.waitUntil(lambda: label.text() == "券商：已连接", timeout=WAIT_MS)
    w.qtbot.waitUntil(
        lambda: any("重新连接" in str(alerts.data(alerts.index(r, 3))) for r in range(alerts.rowCount())),
        timeout=WAIT_MS,
    )
    w.qtbot.waitUntil(lambda: not w.controls._timer.isActive(), timeout=WAIT_MS)  # no polling once up
    assert w.controls.connection.connected and label.text() == "券商：已连接"


# ---------------------------------------------------------------------------- start-up failures
def _live_settings(tmp_path: Path) -> Any:
    return live_settings(tmp_path / "data", tmp_path / "userdata_mini")


def test_qmt_unreachable_is_a_readable_choice_never_a_traceback(tmp_path: Path, qtbot: Any) -> None:
    standin.install()
    exchange = standin.configure(
        tmp_path / "userdata_mini", SimClock(datetime(2026, 11, 23, 9, 20, tzinfo=CN_TZ)), account_id=ACCOUNT
    )
    exchange.faults.connect_code = -1  # miniQMT is not running / not logged in
    SecretStore().set("qmt.account_id", ACCOUNT)
    asked: list[str] = []

    def ask(reason: str) -> str:
        asked.append(reason)
        return RETRY if len(asked) == 1 else QUIT

    assert gui.open_session(_live_settings(tmp_path), gui.GuiOptions(data_dir=tmp_path / "data"), ask) is None
    assert len(asked) == 2  # retried once, then quit
    assert "connect() returned -1" in asked[0] and "Traceback" not in asked[0]
    assert ACCOUNT not in asked[0]  # the account id is never shown in full
    box = live_failure_box(asked[0])
    qtbot.addWidget(box)
    text = box.text()
    assert asked[0] in text and "设置" in text and "python -m app doctor" in text and "Traceback" not in text
    assert sorted(b.property("choice") for b in box.buttons()) == sorted([RETRY, SIMULATED, QUIT])
    box.show()
    save_screenshot(box, "live-failure-box", tmp_path / "shots")
    qtbot.mouseClick(
        next(b for b in box.buttons() if b.property("choice") == SIMULATED), Qt.MouseButton.LeftButton
    )
    assert choice_of(box) == SIMULATED


def test_xtquant_native_client_missing_is_said_in_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    import xtquant

    standin.configure(tmp_path / "userdata_mini", SimClock(datetime(2026, 11, 23, 9, 20, tzinfo=CN_TZ)),
                      account_id=ACCOUNT)  # fmt: skip
    SecretStore().set("qmt.account_id", ACCOUNT)
    monkeypatch.setitem(sys.modules, "xtquant.xttrader", None)  # the native client does not load
    monkeypatch.delattr(xtquant, "xttrader", raising=False)
    asked: list[str] = []
    options = gui.GuiOptions(data_dir=tmp_path / "data")
    assert gui.open_session(_live_settings(tmp_path), options, lambda r: asked.append(r) or QUIT) is None
    assert len(asked) == 1 and "无法加载 xtquant" in asked[0] and "Windows" in asked[0]
    assert "Traceback" not in asked[0]


def test_no_account_id_is_said_and_the_simulated_setup_can_open_instead(tmp_path: Path) -> None:
    asked: list[str] = []
    settings = _live_settings(tmp_path)
    session = gui.open_session(settings, gui.GuiOptions(data_dir=tmp_path / "data", speed=None),
                               lambda reason: asked.append(reason) or SIMULATED)  # fmt: skip
    try:
        assert len(asked) == 1 and "qmt.account_id" in asked[0] and "python -m app secrets set" in asked[0]
        assert getattr(session, "mode", "sim") == "sim" and session.driver is not None  # the simulated day
    finally:
        session.close()


def test_the_factory_picks_the_builder_by_mode(tmp_path: Path) -> None:
    sim = load_settings(env={"TILLER_DATA_DIR": str(tmp_path)}, path=tmp_path / "none.toml")
    live_factory = gui.session_factory(_live_settings(tmp_path))
    sim_factory = gui.session_factory(sim)
    assert "build_live_window_session" in live_factory.__code__.co_names
    assert "build_window_session" in sim_factory.__code__.co_names


def test_python_m_app_in_live_mode_opens_the_window_on_the_account_observe_only(
    tmp_path: Path, qtbot: Any
) -> None:
    """run_gui (what `python -m app` runs) with general.mode = "live": the live session, LiveControls."""
    import sys
    import threading

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QToolButton

    from app.ui.main_window import MainWindow

    standin.install()
    standin.configure(tmp_path / "userdata_mini", SimClock(datetime(2026, 11, 23, 9, 20, tzinfo=CN_TZ)),
                      account_id=ACCOUNT)  # fmt: skip
    SecretStore().set("qmt.account_id", ACCOUNT)
    seen: dict[str, Any] = {}

    def look() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        # the live state and the broker's link are read off the GUI thread: looked at once both are in
        # (or after 30 s, to fail on what is shown then)
        waiting = not windows or "只读" not in windows[0].mode_label.text()
        if not waiting and "已连接" not in windows[0].broker_label.text() and seen.get("tries", 0) < 600:
            seen["tries"] = seen.get("tries", 0) + 1
            waiting = True
        if waiting:
            QTimer.singleShot(50, look)
            return
        window = windows[0]
        seen.update(
            mode=window.mode_label.text(), title=window.windowTitle(), broker=window.broker_label.text()
        )
        seen["arm"] = [b.text() for b in window.findChildren(QToolButton) if b.objectName() == "arm_button"]
        save_screenshot(window, "live-window-python-m-app", tmp_path / "shots")
        # deleted on close, inside run_gui's event loop: its panels' timers must not go on reading a
        # closed engine from Qt's global thread pool during the tests that follow
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.close()

    before = sys.excepthook, threading.excepthook
    try:
        QTimer.singleShot(0, look)
        code = gui.run_gui(_live_settings(tmp_path), gui.GuiOptions(data_dir=tmp_path / "data"))
    finally:
        sys.excepthook, threading.excepthook = before
    assert code == 0
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
    assert seen["mode"].startswith("实盘·只读") and "实盘·只读" in seen["title"]
    assert seen["broker"] == "券商：已连接" and seen["arm"] == ["布防…"]
