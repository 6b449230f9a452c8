"""The main window: dockable panels whose layout is saved, a status bar, a tray icon.

The window talks to the Terminal only, through the bridge (commands off the GUI thread) and the read
model (what it draws). Panels are docks: `add_panel(object_name, title, widget, area)` hosts any
widget (the plan, the books and the alerts are added by `add_core_panels`; the quotes, charts,
strategies and risk-settings panels are added the same way). `restore_layout()` after every panel is
added puts them where the user left them; the layout is saved on close to an INI file in the data
folder (QSettings, never the Windows registry).

The status bar shows the broker's, the quotes' and the signal source's state, the mode (simulated /
live / observe-only / armed) and the trading state, the next scheduled job, the engine's clock, and
(on a simulated day) a speed control.

Start-up (app/gui.py): the window is built and painted before its session exists — the panels empty,
"正在启动…" with a progress bar in the status bar (`show_starting`, `starting_progress`) — and
`first_painted` says when it has been drawn; the session, built off the GUI thread, is then attached
(`session_attached`), or its failure shown (`starting_failed`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TR_NOOP, QByteArray, QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from app.core.messages import AlertRaised
from app.ui.bridge import EngineBridge
from app.ui.panels.alerts import AlertsPanel
from app.ui.panels.books import AccountPanel, OrdersPanel, PositionsPanel, TradesPanel
from app.ui.panels.plan import PlanPanel
from app.ui.read_model import ReadModel
from app.ui.words import core_text, tr

log = logging.getLogger(__name__)

# The scheduled jobs' names as app/bootstrap.py gives them (`schedule`), marked for the catalogue.
JOB_NAMES = (
    QT_TR_NOOP("取信号"),
    QT_TR_NOOP("批准截止"),
    QT_TR_NOOP("开盘竞价"),
    QT_TR_NOOP("连续竞价"),
    QT_TR_NOOP("收盘竞价"),
    QT_TR_NOOP("日终对账"),
    QT_TR_NOOP("备份"),
)

Area = Qt.DockWidgetArea
LAYOUT_VERSION = 1
WATCHLIST_DEFAULT_ROWS = 200  # a new watchlist: the day's instruments, at most this many
STRATEGIES_REFRESH_MS = 5000
QUOTES_STALE = timedelta(minutes=1)  # no quote for this long (engine clock) during trading: say so
SPEEDS = (1, 10, 30, 60, 120, 300, 0)  # simulated seconds per second; 0: as fast as it goes
_TRADING = ((9, 15, 11, 30), (13, 0, 15, 0))


def app_icon() -> QIcon:
    pixmap = QPixmap(64, 64)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(QColor("#c62828"))
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(4, 4, 56, 56)
    painter.setPen(QColor("white"))
    font = painter.font()
    font.setPixelSize(34)
    font.setBold(True)
    painter.setFont(font)
    painter.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, "T")
    painter.end()
    return QIcon(pixmap)


def _in_session(now: datetime) -> bool:
    minutes = now.hour * 60 + now.minute
    return any(a * 60 + b <= minutes < c * 60 + d for a, b, c, d in _TRADING)


class MainWindow(QMainWindow):
    first_painted = Signal()  # once, after the window's first Paint event (the start-up's cue)

    def __init__(
        self,
        read_model: ReadModel,
        bridge: EngineBridge,
        *,
        layout_file: Path,
        mode: str = "",
        schedule: Sequence[tuple[datetime, str]] | Callable[[], Sequence[tuple[datetime, str]]] = (),
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.read_model = read_model
        self.bridge = bridge
        self.mode = mode or tr("模拟")
        self.schedule = _schedule_source(schedule)
        self.setWindowTitle(tr("Tiller 交易终端") + f" — {self.mode}")
        self.setWindowIcon(app_icon())
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AnimatedDocks
        )
        self.resize(1440, 900)
        self.docks: dict[str, QDockWidget] = {}
        self.panels: dict[str, QWidget] = {}
        self.layout_settings = QSettings(str(layout_file), QSettings.Format.IniFormat)
        self.view_menu: QMenu = self.menuBar().addMenu(tr("窗口"))
        self.status_hooks: list[Callable[[], None]] = []  # run after each status-bar update (live mode)
        self._build_status_bar()
        self.tray: QSystemTrayIcon | None = None
        self._build_tray()
        self.notifications: list[tuple[str, str]] = []  # what the tray said (also without a tray)
        read_model.status_changed.connect(self.update_status)
        read_model.alerts_added.connect(self._notify_alerts)
        read_model.reconnected.connect(bridge.refresh)
        read_model.snapshot_wanted.connect(bridge.refresh)
        bridge.snapshot_arrived.connect(read_model.load)
        bridge.events_arrived.connect(read_model.apply)
        bridge.command_failed.connect(lambda words: self.statusBar().showMessage(core_text(words), 10000))
        self.on_close: list[Callable[[], None]] = []
        self.strategies_panel: Any = None  # add_market_panels
        self._interest_timer: QTimer | None = None
        self._charts_pending: tuple[Any, QWidget] | None = None
        # the window-first start-up imports pyqtgraph and numpy on its builder thread and asks for the
        # charts once the session is attached, instead of importing them on the GUI thread after the
        # first paint (a second or more with the window up and frozen)
        self.charts_after_session = False
        self.painted = False
        self._starting: tuple[QLabel, QProgressBar] | None = None
        self.installEventFilter(self)  # the first paint: first_painted, then the charts are built

    # ------------------------------------------------------------------ the quotes the window needs
    def interest_codes(self) -> set[str]:
        """The codes whose quotes the window shows: the watchlist and the selected instrument (quotes
        panel), the charted one, the holdings, the plan's lines and the working orders."""
        rm = self.read_model
        codes = set(rm.positions)
        codes.update(line.code for line in rm.plan_lines.values())
        codes.update(o.code for o in rm.working_orders())
        quotes = self.panels.get("quotes")
        if quotes is not None:
            codes.update(quotes.watchlist())
            selected = quotes.selected()
            if selected:
                codes.add(selected)
        charts = self.panels.get("charts")
        charted = getattr(getattr(charts, "intraday", None), "code", "")  # None/"" until built and chosen
        if charted:
            codes.add(charted)
        return codes

    def track_interest(self) -> None:
        """Keep the bridge's interest set (EngineBridge.set_interest) to `interest_codes()`: recomputed
        once per turn of the event loop after anything it depends on changed."""
        if self._interest_timer is None:
            timer = QTimer(self)
            timer.setSingleShot(True)
            timer.setInterval(0)
            timer.timeout.connect(self.update_interest)
            self._interest_timer = timer
            rm = self.read_model
            for signal in (rm.reloaded, rm.positions_changed, rm.orders_changed, rm.plan_lines_changed,
                           rm.instruments_changed):  # fmt: skip
                signal.connect(self._interest_changed)
        self._interest_changed()

    def _interest_changed(self, *_args: Any) -> None:
        if self._interest_timer is not None and not self._interest_timer.isActive():
            self._interest_timer.start()

    def update_interest(self) -> None:
        self.bridge.set_interest(self.interest_codes())

    # ------------------------------------------------------------------ panels
    def add_panel(
        self, object_name: str, title: str, widget: QWidget, area: Area = Area.RightDockWidgetArea
    ) -> QDockWidget:
        """Host `widget` as a dockable panel. `object_name` must be unique and stable: the saved layout
        finds the panel by it. Panels added to the same area after the first are tabbed with it."""
        if object_name in self.docks:
            raise ValueError(f"a panel named {object_name!r} is already in the window")
        dock = QDockWidget(title, self)
        dock.setObjectName(object_name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        first_in_area = next((d for d in self.docks.values() if self.dockWidgetArea(d) == area), None)
        self.addDockWidget(area, dock)
        if first_in_area is not None:
            self.tabifyDockWidget(first_in_area, dock)
        self.docks[object_name] = dock
        self.panels[object_name] = widget
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def add_core_panels(self) -> None:
        """The plan, orders, trades, positions, account and alerts panels."""
        rm, br = self.read_model, self.bridge
        self.add_panel("plan", tr("今日计划"), PlanPanel(rm, br), Area.TopDockWidgetArea)
        self.add_panel("account", tr("资金"), AccountPanel(rm, br), Area.LeftDockWidgetArea)
        self.add_panel("positions", tr("持仓"), PositionsPanel(rm, br), Area.BottomDockWidgetArea)
        self.add_panel("orders", tr("委托"), OrdersPanel(rm, br), Area.BottomDockWidgetArea)
        self.add_panel("trades", tr("成交"), TradesPanel(rm, br), Area.BottomDockWidgetArea)
        self.add_panel("alerts", tr("告警与日志"), AlertsPanel(rm, br), Area.RightDockWidgetArea)
        self.docks["positions"].raise_()
        self.track_interest()

    def add_market_panels(self, terminal: Any, *, mode: str = "sim") -> None:
        """The quotes (watchlist + five-level book), charts, strategies and risk-settings panels, fed
        by the read model's signals; their own reads of the Terminal run off the GUI thread."""
        from app.ui.panels.quotes import QuotesPanel
        from app.ui.panels.risk_settings import RiskSettingsPanel
        from app.ui.panels.strategies import StrategiesPanel

        rm = self.read_model
        quotes = QuotesPanel(terminal)
        strategies, risk = StrategiesPanel(terminal), RiskSettingsPanel(terminal)
        strategies.set_mode(mode)
        self.strategies_panel = strategies
        self.add_panel("quotes", tr("行情"), quotes, Area.RightDockWidgetArea)
        holder = QWidget(self)  # the charts (pyqtgraph) are built after the first frame: see _build_charts
        QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
        self.add_panel("charts", tr("图表"), holder, Area.RightDockWidgetArea)
        self._charts_pending = (terminal, holder)
        self.add_panel("strategies", tr("策略"), strategies, Area.LeftDockWidgetArea)
        self.add_panel("risk", tr("风控设置"), risk, Area.LeftDockWidgetArea)
        saved = self.layout_settings.value("quotes/watchlist")
        saved_codes = [str(c) for c in saved] if isinstance(saved, list) else ([saved] if saved else [])

        def instruments(infos: list[Any]) -> None:
            quotes.set_instruments(infos)
            if not quotes.watchlist():  # the saved watchlist, else the day's instruments
                quotes.set_watchlist(saved_codes or [i.code for i in infos][:WATCHLIST_DEFAULT_ROWS])

        rm.instruments_changed.connect(instruments)
        rm.quotes_updated.connect(quotes.apply_quotes)
        rm.reloaded.connect(strategies.refresh)
        rm.reloaded.connect(risk.refresh)
        rm.plan_status_changed.connect(lambda _status: strategies.refresh())
        quotes.watchlist_changed.connect(
            lambda codes: self.layout_settings.setValue("quotes/watchlist", codes)
        )
        quotes.watchlist_changed.connect(self._interest_changed)
        quotes.instrument_selected.connect(self._interest_changed)
        refresher = QTimer(self)  # the strategies' progress (lines done) without a read per event
        refresher.timeout.connect(strategies.refresh)
        refresher.start(STRATEGIES_REFRESH_MS)
        if rm.instruments:
            instruments(list(rm.instruments.values()))
        self.docks["quotes"].raise_()
        self.track_interest()
        if self.painted:  # added after the first paint: the next paint builds the charts
            self.installEventFilter(self)

    def eventFilter(self, watched: Any, event: QEvent) -> bool:
        if watched is self and event.type() == QEvent.Type.Paint:
            self.removeEventFilter(self)
            if not self.painted:
                self.painted = True
                QTimer.singleShot(0, self._say_painted)  # after this frame is on the screen
            if self._charts_pending is not None and not self.charts_after_session:
                QTimer.singleShot(0, self._build_charts)
        return super().eventFilter(watched, event)

    def _say_painted(self) -> None:
        # a method, not `first_painted.emit` itself: PySide6 6.12's emit takes a reference from True
        # on every call (app/ui/qt_workarounds.py gives it back, also when Qt calls the emit)
        self.first_painted.emit()

    def _build_charts(self) -> None:
        """The charts panel: importing pyqtgraph (with numpy) and building its plots takes longer than
        the rest of the window's first frame, so it is built once the window has been painted (the
        quotes panel is in front of it); it then loads the selected instrument's bars and the equity
        curve so far, and follows the read model like the other panels."""
        if self._charts_pending is None:
            return
        from app.ui.charts import ChartPanel

        terminal, holder = self._charts_pending
        self._charts_pending = None
        rm, quotes = self.read_model, self.panels["quotes"]
        charts = ChartPanel(terminal)
        layout = holder.layout()
        assert layout is not None
        layout.addWidget(charts)
        self.panels["charts"] = charts
        rm.quotes_updated.connect(charts.apply_quotes)
        rm.equity_updated.connect(charts.append_equity)
        charts.set_equity(list(rm.equity))
        quotes.instrument_selected.connect(lambda code: charts.show_instrument(code, rm.prev_close(code)))
        selected = quotes.selected()
        if selected:
            charts.show_instrument(selected, rm.prev_close(selected))
        self._interest_changed()

    def panel(self, object_name: str) -> Any:
        if object_name == "charts":
            self._build_charts()
        return self.panels[object_name]

    # ------------------------------------------------------------------ layout
    def restore_layout(self) -> bool:
        """Put the panels where they were when the window was last closed (call after every panel is
        added); False when nothing was saved or it no longer fits."""
        geometry = self.layout_settings.value("window/geometry")
        state = self.layout_settings.value("window/state")
        ok = False
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            ok = self.restoreState(state, LAYOUT_VERSION)
        return ok

    def save_layout(self) -> None:
        self.layout_settings.setValue("window/geometry", self.saveGeometry())
        self.layout_settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.layout_settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        try:
            self.save_layout()
        except Exception:  # never keep the window from closing
            log.exception("saving the window layout failed")
        for fn in self.on_close:
            try:
                fn()
            except Exception:
                log.exception("closing: %s failed", fn)
        if self.tray is not None:
            self.tray.hide()
        for timer in self.findChildren(QTimer):  # a closed window polls nothing (the panels' refreshes)
            timer.stop()
        super().closeEvent(event)

    # ------------------------------------------------------------------ start-up
    def show_starting(self, words: str) -> None:
        """The session is being built off the GUI thread: say so, with a progress bar, in the status
        bar (the panels stay empty until `session_attached`)."""
        if self._starting is None:
            label, bar = QLabel(self), QProgressBar(self)
            label.setObjectName("starting")
            bar.setObjectName("starting-progress")
            bar.setRange(0, 100)
            bar.setMaximumWidth(220)
            bar.setTextVisible(False)
            self.statusBar().addWidget(label)
            self.statusBar().addWidget(bar)
            self._starting = (label, bar)
        self._starting[0].setText(words)

    def starting_progress(self, fraction: float, words: str) -> None:
        """A step of the session's build (fraction 0..1 done; what it does now)."""
        if self._starting is None:
            return
        label, bar = self._starting
        label.setText(tr("正在启动…") + f" {words}" if words else tr("正在启动…"))
        bar.setValue(max(bar.value(), min(100, int(fraction * 100))))

    @property
    def starting(self) -> bool:
        return self._starting is not None

    def session_attached(
        self, schedule: Sequence[tuple[datetime, str]] | Callable[[], Sequence[tuple[datetime, str]]] = ()
    ) -> None:
        """The session is built and the window follows it now: the day's jobs for the status bar (or
        what returns them as they stand: a live session adds each next day's), the start-up note and
        bar removed."""
        self.schedule = _schedule_source(schedule)
        self._end_starting()
        self.update_status()
        if self._charts_pending is not None:  # charts_after_session: pyqtgraph is imported by now
            QTimer.singleShot(0, self._build_charts)

    def starting_failed(self, words: str) -> None:
        """The session could not be built: the status bar says so (a dialog says it too)."""
        self._end_starting()
        self.statusBar().showMessage(words)

    def _end_starting(self) -> None:
        if self._starting is not None:
            for widget in self._starting:
                self.statusBar().removeWidget(widget)
                widget.deleteLater()
            self._starting = None

    # ------------------------------------------------------------------ status bar
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.broker_label = QLabel(self)
        self.quotes_label = QLabel(self)
        self.signals_label = QLabel(self)
        self.mode_label = QLabel(self)
        self.next_job_label = QLabel(self)
        self.clock_label = QLabel(self)
        for label in (self.broker_label, self.quotes_label, self.signals_label, self.mode_label,
                      self.next_job_label, self.clock_label):  # fmt: skip
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
        self.speed_box: QComboBox | None = None
        self.update_status()

    def add_speed_control(
        self, current: float | None, set_speed: Callable[[float | None], None]
    ) -> QComboBox:
        """A simulated day's speed (simulated seconds per real second; "最快" as fast as it goes)."""
        box = QComboBox(self)
        box.setObjectName("speed")
        box.setToolTip(tr("模拟时钟速度"))
        for speed in SPEEDS:
            box.addItem(tr("最快") if speed == 0 else f"{speed}×", speed)
        index = box.findData(int(current or 0))
        if index < 0:
            box.addItem(f"{current:g}×", current)
            index = box.count() - 1
        box.setCurrentIndex(index)
        box.currentIndexChanged.connect(lambda _i: set_speed(box.currentData() or None))
        self.statusBar().insertPermanentWidget(0, QLabel(tr("速度"), self))
        self.statusBar().insertPermanentWidget(1, box)
        self.speed_box = box
        return box

    def set_mode(self, label: str, setup: str) -> None:
        """The setup the window runs on changed before its session attached (a live start-up that
        failed, the simulated setup chosen instead): `label` in the title and the status bar, `setup`
        ("sim" or "live") in the strategies panel."""
        self.mode = label
        self.setWindowTitle(tr("Tiller 交易终端") + f" — {self.mode}")
        if self.strategies_panel is not None:
            self.strategies_panel.set_mode(setup)
        self.update_status()

    def update_status(self) -> None:
        s = self.read_model.status
        red, green, grey = "#c62828", "#0f9d3a", "#606060"

        def put(label: QLabel, text: str, color: str) -> None:
            label.setText(text)
            label.setStyleSheet(f"color: {color};")

        if s.broker_connected:
            put(self.broker_label, tr("券商：已连接"), green)
        else:
            put(
                self.broker_label,
                tr("券商：未连接") + (f" ({s.broker_reason})" if s.broker_reason else ""),
                red,
            )
        if s.quotes_ts is None:
            put(self.quotes_label, tr("行情：无"), grey)
        elif s.now is not None and _in_session(s.now) and s.now - s.quotes_ts > QUOTES_STALE:
            put(self.quotes_label, tr("行情：延迟") + f" {s.quotes_ts:%H:%M:%S}", red)
        else:
            put(self.quotes_label, tr("行情：正常") + f" {s.quotes_ts:%H:%M:%S}", green)
        if s.signals_ok is None:
            put(self.signals_label, tr("信号：未取得"), grey)
        else:
            put(self.signals_label, tr("信号：") + s.signals[:60], green if s.signals_ok else red)
        state = {"active": tr("交易中"), "reducing": tr("只减仓"), "halted": tr("已停止交易")}.get(
            s.trading_state, s.trading_state
        )
        halted = s.trading_state == "halted" or s.halted is not None
        put(self.mode_label, f"{self.mode} · {state}" if state else self.mode, red if halted else grey)
        put(self.next_job_label, self.next_job_text(s.now), grey)
        self.clock_label.setText(f"{s.now:%Y-%m-%d %H:%M:%S}" if s.now is not None else "")
        for hook in self.status_hooks:
            hook()

    def next_job_text(self, now: datetime | None) -> str:
        if now is None:
            return ""
        upcoming = next(((at, name) for at, name in self.schedule() if at > now), None)
        if upcoming is None:
            return tr("下一任务：无")
        at = upcoming[0]
        when = f"{at:%H:%M}" if at.date() == now.date() else f"{at:%m-%d %H:%M}"  # a later day's: dated
        return tr("下一任务：") + f"{when} {tr(upcoming[1])}"

    # ------------------------------------------------------------------ tray
    def _build_tray(self) -> None:
        if not QSystemTrayIcon.isSystemTrayAvailable():
            log.info("no system tray here: notifications go to the status bar only")
            return
        tray = QSystemTrayIcon(app_icon(), self)
        tray.setToolTip(tr("Tiller 交易终端"))
        menu = QMenu(self)
        show = QAction(tr("显示窗口"), self)
        show.triggered.connect(self.showNormal)
        menu.addAction(show)
        tray.setContextMenu(menu)
        tray.show()
        self.tray = tray

    def _notify_alerts(self, alerts: list[AlertRaised]) -> None:
        for a in alerts:
            if a.level in ("warning", "error", "critical"):
                self.notify(tr("Tiller 告警"), f"{a.ts:%H:%M:%S} {core_text(a.message)}", a.level)

    def notify(self, title: str, text: str, level: str = "warning") -> None:
        self.notifications = [*self.notifications[-99:], (title, text)]
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            icon = (
                QSystemTrayIcon.MessageIcon.Critical
                if level in ("error", "critical")
                else QSystemTrayIcon.MessageIcon.Warning
            )
            self.tray.showMessage(title, text, icon, 8000)
        else:
            self.statusBar().showMessage(text, 8000)


def _schedule_source(
    schedule: Sequence[tuple[datetime, str]] | Callable[[], Sequence[tuple[datetime, str]]],
) -> Callable[[], Sequence[tuple[datetime, str]]]:
    """The jobs as a function of now: a fixed list sorted once, or the session's own, read each time."""
    if callable(schedule):
        return lambda: sorted(schedule())
    fixed = sorted(schedule)
    return lambda: fixed
