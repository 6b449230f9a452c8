"""`python -m app` (or `python -m app gui`): the window, on the simulated setup by default, on the
live QMT account when `general.mode = "live"` (observe-only until armed in the window: app/ui/live.py).

The simulated broker, the local BigQuant-compatible server (the followed strategy's planned orders
over signed HTTP), synthetic quotes on an accelerated clock (a whole day in minutes; a speed control
in the status bar), the plan through the planner (PlanDesk) and the execution service. The day runs
on the engine's threads and the day driver's; the window only reads its read model and commands the
Terminal through the bridge. Built by app/bootstrap.py (`build_window_session`).

A crash handler logs the traceback to the log file and shows a plain message box.
"""

from __future__ import annotations

import logging
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from pathlib import Path
from types import TracebackType
from typing import Any

from app.config import Settings
from app.domain.clock import CN_TZ

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GuiOptions:
    day: date | None = None  # None: today if a trading day, else the next one
    start: time = time(8, 45)
    until: time = time(15, 35)
    speed: float | None = 60.0
    data_dir: Path | None = None
    seed: int | None = None
    exit_when_done: bool = False  # close the window when the day is over (tests, demos)
    screenshot: Path | None = None  # save the whole window here before closing (with exit_when_done)


CRASH_TEXT = "Tiller 遇到意外错误 (an unexpected error). 账本已保存在数据库中; 详情已写入日志 (details are in the log):\n{log}"


def install_crash_handler(log_file: Path | None, show: Any = None) -> None:
    """Uncaught exceptions (GUI thread and other threads): the traceback to the log file, a plain
    message box for the user, never a traceback on screen."""

    def box(text: str) -> None:
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is not None:
            QMessageBox.critical(None, "Tiller", text)

    shower = show or box

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, exc, tb)
            return
        log.critical("uncaught exception:\n%s", "".join(traceback.format_exception(kind, exc, tb)))
        try:
            shower(CRASH_TEXT.format(log=log_file or "-"))
        except Exception:  # the message box itself failed: the log has it
            log.exception("could not show the crash message")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            log.critical(
                "uncaught exception in thread %s:\n%s",
                getattr(args.thread, "name", "?"),
                "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)),
            )

    sys.excepthook = hook
    threading.excepthook = thread_hook


def session_factory(settings: Settings, options: GuiOptions) -> Callable[[], Any]:
    """The window's session builder for `general.mode`: "live", the QMT account
    (bootstrap.build_live_window_session: connected, observe-only until armed); else the simulated
    day (bootstrap.build_window_session). Both give the face the window uses (terminal, schedule,
    mode, driver, start, close)."""
    from app import bootstrap

    if settings.general.mode == "live":
        return lambda: bootstrap.build_live_window_session(settings, data_dir=options.data_dir)
    day = options.day or bootstrap.window_day(settings, datetime.now(CN_TZ).date())
    return lambda: bootstrap.build_window_session(
        settings, day=day, data_dir=options.data_dir, seed=options.seed, start=options.start,
        until=options.until, speed=options.speed,
    )  # fmt: skip


def open_session(settings: Settings, options: GuiOptions, ask: Callable[[str], str] | None = None) -> Any:
    """The window's session. A live one that cannot be opened (no account id, miniQMT not reachable,
    xtquant's native client missing, the account open in another Tiller) is said in a message box
    (app/ui/live.py), never a traceback: retry, the simulated setup instead, or quit (None)."""
    from app.ui.live import RETRY, SIMULATED, ask_after_live_failure, failure_reason

    ask = ask or ask_after_live_failure
    while True:
        try:
            return session_factory(settings, options)()
        except Exception as exc:
            if settings.general.mode != "live":
                raise
            log.warning("the live setup could not be opened", exc_info=True)
            choice = ask(failure_reason(exc))
            if choice == SIMULATED:
                settings = replace(settings, general=replace(settings.general, mode="sim"))
            elif choice != RETRY:
                return None


def run_gui(settings: Settings, options: GuiOptions, log_file: Path | None = None) -> int:
    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.bridge import EngineBridge
    from app.ui.main_window import MainWindow
    from app.ui.read_model import ReadModel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Tiller")
    app.setOrganizationName("Tiller")
    install_crash_handler(log_file)
    session = open_session(settings, options)
    if session is None:
        return 1
    live = getattr(session, "mode", "sim") == "live"
    try:
        read_model = ReadModel()
        bridge = EngineBridge(session.terminal)
        data_dir = options.data_dir or settings.general.data_dir
        window = MainWindow(
            read_model, bridge, layout_file=data_dir / "window.ini", mode="实盘" if live else "模拟",
            schedule=session.schedule,
        )  # fmt: skip
        window.add_core_panels()
        window.add_market_panels(session.terminal, mode="live" if live else "sim")
        window.restore_layout()
        if live:
            from app.ui.live import LiveControls

            LiveControls(window, session)
        else:
            window.add_speed_control(options.speed, session.driver.set_speed)
        session.terminal.subscribe(bridge.listener)
        bridge.refresh()
        window.show()
        finished = {"done": False}

        def watch() -> None:
            if session.driver is None:  # a live day: the window stays until it is closed
                return
            if session.driver.error is not None and not finished["done"]:
                finished["done"] = True
                window.notify(
                    "Tiller", f"模拟交易日出错 (the simulated day stopped): {session.driver.error}", "error"
                )
            if session.driver.done.is_set() and not finished["done"]:
                finished["done"] = True
                window.statusBar().showMessage("模拟交易日结束 (the simulated day is over)")
                if options.exit_when_done:
                    bridge.flush()
                    bridge.refresh()
                    QTimer.singleShot(500, finish)

        def finish() -> None:
            if options.screenshot is not None:
                options.screenshot.parent.mkdir(parents=True, exist_ok=True)
                window.grab().save(str(options.screenshot))
            window.close()

        timer = QTimer(window)
        timer.timeout.connect(watch)
        timer.start(200)
        session.start()
        code = app.exec()
        bridge.wait_commands(10000)
        QThreadPool.globalInstance().waitForDone(10000)  # the panels' reads, before the engine stops
        return code if session.driver is None or session.driver.error is None else 70
    finally:
        session.close()
