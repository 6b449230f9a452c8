"""The window on a real QMT account (issue 9): the live state, arming and the broker's connection.

`LiveControls(window, session)` (session: bootstrap.LiveWindowSession) adds to the main window:

- the live state in the status bar, where the mode is: 实盘·只读 (observe-only: nothing is sent) or
  实盘·已布防 (armed: orders go to the account until the close), read from the Terminal
  (`live_status`) at start and after every LiveStateChanged (arm, disarm, expiry at the close);
- a 布防… / 撤防 button beside it and the same two actions in a 实盘 menu. Arming asks, as
  `run --arm` does on the command line (app/arming_cli.py `arming_words`), to type the account id's
  last characters; disarming asks nothing. Both are `Terminal.arm` / `Terminal.disarm` (by "window",
  written to the live_audit table) on the bridge's command thread. With `qmt.live_trading_enabled`
  off, arming is disabled and its tooltip says why;
- the broker's link as the gateway tells it (`session.connection_state()`, read off the GUI thread
  after each ConnectionStateChanged and every second while the link is down): 已连接, 重连中，自
  HH:MM:SS 断开, or 断开. Each change is also an engine alert (the alerts panel, the tray);
- an order refused because the account is observe-only is the engine's warning alert (the alerts
  panel, the tray or the status bar) and the order's row (风控拒绝, 实盘未布防).

`live_failure_box(reason)` is the message shown when the live setup cannot be opened at start-up
(no account id, miniQMT not reachable, xtquant's native client missing): what went wrong in words,
where to fix it (设置, `python -m app doctor`), and the choice to retry, open the simulated setup
instead, or quit. Never a traceback (that goes to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.arming_cli import CONFIRM_CHARS, arming_words
from app.core.messages import ConnectionStateChanged, LiveStateChanged
from app.core.risk.arming import LiveState, LiveStatus
from app.ui.words import tr
from app.ui.workers import Background

log = logging.getLogger(__name__)

ARMED_BY = "window"  # who armed or disarmed, in the live audit
PROBE_MS = 1000  # while the link is down: the gateway's state is read again this often
OBSERVE_ONLY_REFUSAL = "实盘未布防"
MODE_SLOT = 3  # the mode label's place among the status bar's permanent widgets (broker, quotes, signals, mode)  # the arming guard's refusal (app/core/risk/arming.py)

NOT_ENABLED = (
    "设置中未开启实盘交易，不能布防 (live trading is not enabled: qmt.live_trading_enabled is false). "
    "在 设置 → QMT 中开启后重新启动 (enable it in 设置 → QMT, then restart)"
)


class ArmDialog(QDialog):
    """The typed confirmation of arming: the same words as `run --arm`; 布防 is enabled only once the
    account id's last characters are typed."""

    def __init__(self, account: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("arm_dialog")
        self.setWindowTitle(tr("布防实盘账户"))
        text, self.expected = arming_words(account)
        layout = QVBoxLayout(self)
        self.words = QLabel(text, self)
        self.words.setWordWrap(True)
        self.words.setStyleSheet("color: #c62828; font-weight: bold;")
        layout.addWidget(self.words)
        layout.addWidget(
            QLabel(
                tr("请输入账户末 {n} 位确认").format(n=CONFIRM_CHARS)
                + f" (type the last {CONFIRM_CHARS} characters to confirm):",
                self,
            )
        )
        self.entry = QLineEdit(self)
        self.entry.setObjectName("arm_confirmation")
        layout.addWidget(self.entry)
        self.buttons = QDialogButtonBox(self)
        self.arm_button = self.buttons.addButton(tr("布防"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(tr("取消"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.arm_button.setEnabled(False)
        self.entry.textChanged.connect(lambda typed: self.arm_button.setEnabled(self.confirmed(typed)))
        self.resize(460, self.sizeHint().height())

    def confirmed(self, typed: str | None = None) -> bool:
        return (self.entry.text() if typed is None else typed).strip() == self.expected

    def accept(self) -> None:
        if self.confirmed():  # Enter in the line edit with the wrong characters arms nothing
            super().accept()


class LiveControls(QObject):
    """The live state, arming and the connection in a main window (see the module docstring)."""

    def __init__(self, window: Any, session: Any) -> None:
        super().__init__(window)
        self.window = window
        self.bridge = window.bridge
        self.terminal = session.terminal
        self.account: str = session.account
        self.enabled: bool = bool(session.live_trading_enabled)
        self._connection_state = session.connection_state
        self.status: LiveStatus | None = None  # None until first read
        self.connection: Any = None  # the gateway's ConnectionState, last read
        self.dialog: ArmDialog | None = None
        self._jobs = Background(self)
        self._probing = self._probe_again = False

        bar = window.statusBar()
        self.button = QToolButton(window)
        self.button.setObjectName("arm_button")
        self.button.clicked.connect(self._toggle)
        bar.insertPermanentWidget(MODE_SLOT + 1, self.button)  # right after the mode label
        self.menu = window.menuBar().addMenu(tr("实盘"))
        self.arm_action = QAction(tr("布防…"), self)
        self.arm_action.setObjectName("arm_action")
        self.arm_action.triggered.connect(self.arm)
        self.disarm_action = QAction(tr("撤防"), self)
        self.disarm_action.setObjectName("disarm_action")
        self.disarm_action.triggered.connect(self.disarm)
        self.menu.addAction(self.arm_action)
        self.menu.addAction(self.disarm_action)
        self._timer = QTimer(self)
        self._timer.setInterval(PROBE_MS)
        self._timer.timeout.connect(self.probe)

        window.status_hooks.append(self.paint)
        window.on_close.append(self._timer.stop)  # no more reads of a gateway about to close
        window.on_close.append(self._window_closed)  # a read answered after the close is dropped
        self.bridge.events_arrived.connect(self._on_events)
        window.read_model.reloaded.connect(self.refresh)
        window.read_model.reloaded.connect(self.probe)
        self.paint()
        self.refresh()
        self.probe()

    # ------------------------------------------------------------------ reads (off the GUI thread)
    def refresh(self) -> None:
        """Read the live state (on the bridge's command thread, after any arm or disarm asked)."""
        terminal = self.terminal
        self.bridge.run(terminal.live_status, self._got_status)

    def probe(self) -> None:
        """Read the gateway's connection state off the GUI thread."""
        if self._probing:  # one read at a time; asked meanwhile: once more after it (it may be stale)
            self._probe_again = True
            return
        self._probing, self._probe_again = True, False
        self._jobs.run(self._connection_state, self._got_connection, self._probe_failed)

    def _window_closed(self) -> None:
        self._closed = True

    def _got_status(self, status: LiveStatus) -> None:
        if getattr(self, "_closed", False):
            return  # the window was closed (and may be deleted) while the read was on its way
        self.status = status
        self.window.update_status()

    def _got_connection(self, state: Any) -> None:
        if getattr(self, "_closed", False):
            return
        self._probing = False
        self.connection = state
        if state.connected:
            self._timer.stop()
        elif not self._timer.isActive():
            self._timer.start()
        self.window.update_status()
        if self._probe_again:
            self.probe()

    def _probe_failed(self, exc: BaseException) -> None:
        self._probing = False
        log.warning("reading the QMT connection state failed: %s", exc)
        if self._probe_again:
            self.probe()

    def _on_events(self, batch: Any) -> None:
        events = batch.events
        if any(isinstance(e, LiveStateChanged) for e in events):
            self.refresh()
        if any(isinstance(e, ConnectionStateChanged) for e in events):
            self.probe()

    # ------------------------------------------------------------------ commands
    def arm(self) -> None:
        """Ask for the typed confirmation; on 布防 the Terminal arms the account for the day."""
        if not self.enabled or self.armed:
            return
        if self.dialog is not None:  # already asking: one question at a time
            self.dialog.raise_()
            self.dialog.activateWindow()
            return
        dialog = ArmDialog(self.account, self.window)
        dialog.accepted.connect(self._arm_confirmed)
        dialog.finished.connect(lambda _result: self._dialog_closed(dialog))
        self.dialog = dialog
        dialog.open()

    def _dialog_closed(self, dialog: ArmDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
        dialog.deleteLater()

    def _arm_confirmed(self) -> None:
        terminal = self.terminal
        self.bridge.run(lambda: terminal.arm(by=ARMED_BY), self._got_status, self._failed)

    def disarm(self) -> None:
        """Back to observe-only at once, no question asked."""
        terminal = self.terminal
        self.bridge.run(lambda: terminal.disarm(by=ARMED_BY), self._got_status, self._failed)

    def _toggle(self) -> None:
        if self.armed:
            self.disarm()
        else:
            self.arm()

    def _failed(self, words: str) -> None:
        self.window.notify("Tiller", words, "error")
        self.refresh()

    @property
    def armed(self) -> bool:
        return self.status is not None and self.status.state is LiveState.ARMED

    # ------------------------------------------------------------------ the status bar
    def state_words(self) -> str:
        if self.status is None:
            return tr("实盘")
        return tr("实盘·已布防") if self.armed else tr("实盘·只读")

    def paint(self) -> None:
        """After each status-bar update: the mode label says the live state, the button and actions
        fit it, and the broker label says the link as the gateway tells it."""
        window = self.window
        words = self.state_words()
        if window.mode != words:
            window.mode = words
            window.setWindowTitle(tr("Tiller 交易终端") + f" — {words}")
            window.update_status()  # repaints the mode label with the new words (and calls this again)
            return
        label = window.mode_label
        if self.armed:
            assert self.status is not None and self.status.armed_until is not None
            label.setStyleSheet("color: white; background: #c62828; font-weight: bold; padding: 0 4px;")
            label.setToolTip(
                tr("已布防：委托将发送到实盘账户")
                + f" (armed by {self.status.armed_by} until {self.status.armed_until:%H:%M})"
            )
        else:
            label.setStyleSheet("color: black; background: #ffb300; font-weight: bold; padding: 0 4px;")
            label.setToolTip(self.status.describe() if self.status is not None else "")
        if self.armed:
            self.button.setText(tr("撤防"))
            self.button.setEnabled(True)
            self.button.setToolTip(tr("回到只读，不再发送新委托 (back to observe-only)"))
        else:
            self.button.setText(tr("布防…"))
            self.button.setEnabled(self.enabled)
            self.button.setToolTip(
                tr("布防后今日收盘前委托将发送到实盘账户 (arm: orders are sent until the close)")
                if self.enabled
                else tr(NOT_ENABLED)
            )
        self.arm_action.setEnabled(self.enabled and not self.armed)
        self.arm_action.setToolTip(self.button.toolTip() if not self.armed else "")
        self.disarm_action.setEnabled(self.armed)
        self._paint_connection()

    def _paint_connection(self) -> None:
        label, s, state = self.window.broker_label, self.window.read_model.status, self.connection
        if s.broker_connected:  # the engine's last word wins over an older read of the gateway
            label.setToolTip(state.describe() if state is not None and state.connected else "")
            return
        if state is None or state.connected:  # the event is newer than the last read (read again on it)
            return
        since = f"{state.down_since:%H:%M:%S}" if state.down_since is not None else ""
        if state.reconnecting:
            text = tr("券商：重连中") + (f"，{tr('自')} {since} {tr('断开')}" if since else "")
        else:
            text = tr("券商：断开") + (f"，{tr('自')} {since}" if since else "")
        label.setText(text)
        label.setStyleSheet("color: #c62828; font-weight: bold;")
        label.setToolTip(state.describe())


# ---------------------------------------------------------------------------- start-up failure
LIVE_FAILED = (
    "无法打开实盘 (the live QMT setup could not be opened):\n{reason}\n\n"
    "请在 设置 → QMT 中检查资金账号与 miniQMT 目录，并确认 miniQMT 已启动并登录；"
    "运行 python -m app doctor 可查看详情。\n"
    "(Check the account id and the miniQMT folder in 设置 → QMT, and that miniQMT is running and "
    "logged in; `python -m app doctor` says more.)\n\n"
    "实盘账本须先与券商核对才能显示，因此不能在未连接时打开实盘窗口；可重试，或先打开模拟盘。"
    "\n(The live books are shown only once checked against the broker, so the live window cannot "
    "open without QMT: retry, or open the simulated setup meanwhile.)"
)
RETRY, SIMULATED, QUIT = "retry", "sim", "quit"


def failure_reason(exc: BaseException) -> str:
    """An exception of the live start-up in words: Tiller's own errors already are; anything else is
    named, without its traceback (that is in the log)."""
    text = str(exc).strip()
    if isinstance(exc, TimeoutError) and not text:
        text = "miniQMT 未及时响应 (miniQMT did not answer in time)"
    return text or type(exc).__name__


def live_failure_box(reason: str, parent: QWidget | None = None) -> QMessageBox:
    """The message box of a live start-up that failed; its buttons' `property("choice")` is one of
    RETRY, SIMULATED, QUIT (`choice_of(box)` after it closes)."""
    box = QMessageBox(parent)
    box.setObjectName("live_failure")
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle(tr("Tiller — 实盘未能打开"))
    box.setText(tr(LIVE_FAILED).replace("{reason}", reason))
    for text, choice, role in (
        (tr("重试 (retry)"), RETRY, QMessageBox.ButtonRole.AcceptRole),
        (tr("打开模拟盘 (open the simulated setup)"), SIMULATED, QMessageBox.ButtonRole.ActionRole),
        (tr("退出 (quit)"), QUIT, QMessageBox.ButtonRole.RejectRole),
    ):
        button: QPushButton = box.addButton(text, role)
        button.setProperty("choice", choice)
        if choice == RETRY:
            box.setDefaultButton(button)
        if choice == QUIT:
            box.setEscapeButton(button)
    return box


def choice_of(box: QMessageBox) -> str:
    clicked = box.clickedButton()
    value = clicked.property("choice") if clicked is not None else None
    return str(value) if value in (RETRY, SIMULATED, QUIT) else QUIT


def ask_after_live_failure(reason: str) -> str:
    """Show the box (modal) and return the choice: RETRY, SIMULATED or QUIT."""
    box = live_failure_box(reason)
    box.exec()
    return choice_of(box)
