"""`python -m app` (or `python -m app gui`): the window, on the simulated setup by default.

The simulated broker, the local BigQuant-compatible server (the followed strategy's planned orders
over signed HTTP), synthetic quotes on an accelerated clock (a whole day in minutes; a speed control
in the status bar), the plan through the planner (PlanDesk) and the execution service. The day runs
on the engine's threads and the day driver's; the window only reads its read model and commands the
Terminal through the bridge. Built by app/bootstrap.py (`build_window_session`).

**The window first** (`WindowStart`): Qt and the main window with its panels, empty, are built and
painted before anything else ("正在启动…" and a progress bar in the status bar); only after the first
paint does a builder thread build the session (the engine and its modules, the simulated broker, the
feeds, the local signal server) through the session factory (`session_factory(settings)`: the seam
where the live mode's factory goes). The window holds a `PendingTerminal` until then; the built
session is attached on the GUI thread (the bridge subscribed, its snapshot taken off the GUI thread
as at a reconnect, the day started). A build that fails is shown in a dialog in plain words (the
traceback goes to the log) and the window closes with a non-zero exit code; closing the window
during the build stops it at its next step and closes whatever it had opened (the account lock too).

A crash handler logs the traceback to the log file and shows a plain message box.
"""

from __future__ import annotations

import gc
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

from PySide6.QtCore import QObject, QTimer, Signal

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


def QT_TR_NOOP(text: str) -> str:
    """Marks a text for pyside6-lupdate (it reads the name) without importing Qt here."""
    return text


CRASH_TEXT = QT_TR_NOOP(
    "Tiller 遇到意外错误 (an unexpected error). 账本已保存在数据库中; 详情已写入日志 (details are in the log):\n{log}"
)


def _translated(text: str) -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate("", text)


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
            shower(_translated(CRASH_TEXT).format(log=log_file or "-"))
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


STARTING = "正在启动… (starting)"
START_FAILED = (
    "Tiller 无法启动 (Tiller could not start): {summary}\n"
    "账本已保存在数据库中; 详情已写入日志 (the books are kept in the database; details are in the log): {log}"
)

StartProgress = Callable[[float, str], None]
"""`progress(fraction, words)`, called by a session factory on the builder thread: how far the build
is (0..1) and what it does now. It raises `StartCancelled` once the window is closed: the factory
closes what it opened and lets it through."""

SessionFactory = Callable[[GuiOptions, StartProgress], Any]
"""Builds the session the window runs on, OFF the GUI thread: `factory(options, progress)` returns an
object with `terminal`, `schedule` (the day's jobs for the status bar), `start()` and `close()`
(bootstrap.WindowSession); one with a `driver` (the simulated day's PacedDay) also gets the speed
control and the end-of-day watch. What it raises is shown to the user in words."""


class StartCancelled(Exception):
    """The window was closed while its session was being built."""


class StartingError(RuntimeError):
    """A Terminal call before the session is attached (the window is still starting)."""


def session_factory(settings: Settings) -> SessionFactory:
    """The session the window opens on, chosen by `general.mode`: "live", the QMT account
    (`bootstrap.build_live_window_session`: connected, observe-only until armed); else the simulated
    day (`bootstrap.build_window_session`). Called on the GUI thread before the window is built, so it
    must be cheap and import nothing heavy: the factory it returns runs on the builder thread."""
    if settings.general.mode == "live":

        def live(options: GuiOptions, progress: StartProgress) -> Any:
            progress(0.02, "加载交易模块 (loading the trading modules)")
            from app.bootstrap import build_live_window_session  # off the GUI thread

            progress(0.2, "连接 miniQMT (connecting to miniQMT)")
            return build_live_window_session(settings, data_dir=options.data_dir)

        return live

    def simulated(options: GuiOptions, progress: StartProgress) -> Any:
        progress(0.02, "加载交易模块 (loading the trading modules)")
        from app.bootstrap import build_window_session, window_day  # the engine's modules: off the GUI thread

        day = options.day or window_day(settings, datetime.now(CN_TZ).date())
        return build_window_session(
            settings, day=day, data_dir=options.data_dir, seed=options.seed, start=options.start,
            until=options.until, speed=options.speed, progress=progress,
        )  # fmt: skip

    return simulated


class PendingTerminal:
    """The Terminal of a session that is still being built. The window, its bridge and its panels hold
    this one from the start; `attach(terminal)` (GUI thread) makes every call go to the session's own
    Terminal. Before that every call raises StartingError (a command then fails in words)."""

    def __init__(self) -> None:
        self._terminal: Any = None

    def attach(self, terminal: Any) -> None:
        self._terminal = terminal

    @property
    def attached(self) -> bool:
        return self._terminal is not None

    def __getattr__(self, name: str) -> Any:
        terminal = self.__dict__.get("_terminal")
        if terminal is None:
            raise StartingError("正在启动，请稍候再试 (Tiller is still starting; try again in a moment)")
        return getattr(terminal, name)


def _no_progress(fraction: float, words: str) -> None:
    return None


def after_live_failure(settings: Settings, exc: BaseException, ask: Callable[[str], str]) -> Settings | None:
    """A live session that could not be opened (no account id, miniQMT not reachable, xtquant's native
    client missing, the account open in another Tiller), said in words (app/ui/live.py), never a
    traceback: the settings to try next — the same (retry) or the simulated setup — or None (quit)."""
    from app.ui.live import RETRY, SIMULATED, failure_reason

    log.warning("the live setup could not be opened", exc_info=exc, extra={"console": False})
    choice = ask(failure_reason(exc))
    if choice == SIMULATED:
        return replace(settings, general=replace(settings.general, mode="sim"))
    return settings if choice == RETRY else None


def open_session(settings: Settings, options: GuiOptions, ask: Callable[[str], str] | None = None) -> Any:
    """The window's session built here and now (no window): a live one that cannot be opened is asked
    about as the window asks (`after_live_failure`); None when the user quits."""
    from app.ui.live import ask_after_live_failure

    while True:
        try:
            return session_factory(settings)(options, _no_progress)
        except Exception as exc:
            if settings.general.mode != "live":
                raise
            next_settings = after_live_failure(settings, exc, ask or ask_after_live_failure)
            if next_settings is None:
                return None
            settings = next_settings


def failure_words(exc: BaseException, log_file: Path | None) -> tuple[str, int]:
    """A failed start-up in plain words, and the exit code (app/failures.py: a known error's own
    message, else one line and where the log is). The traceback goes to the log only."""
    from app.failures import EXIT_KNOWN, EXIT_UNEXPECTED, explain

    log.error("the window's session could not be built", exc_info=exc, extra={"console": False})
    explanation = explain(exc)
    if explanation is not None:
        return explanation.message + (f"\n{explanation.advice}" if explanation.advice else ""), EXIT_KNOWN
    summary = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return START_FAILED.format(summary=summary, log=log_file or "-"), EXIT_UNEXPECTED


def _error_box(text: str) -> None:
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.critical(None, "Tiller", text)


class WindowStart(QObject):
    """The window first, its session after (GUI thread; the module's docstring says the order).

    `window` is built here, empty; `window.show()` is the caller's. Its first paint starts the builder
    thread (`begin_build` also does, e.g. in tests); `session` is set once attached; `error` and
    `exit_code` after a failed build; `finish()` after the event loop closes everything."""

    _done = Signal()  # from the builder thread: the outcome is ready
    _stepped = Signal(float, str)  # from the builder thread: progress

    def __init__(
        self,
        settings: Settings,
        options: GuiOptions,
        factory: SessionFactory,
        *,
        log_file: Path | None = None,
        show_error: Callable[[str], None] | None = None,
        ask_live: Callable[[str], str] | None = None,
        mode: str = "",
    ) -> None:
        super().__init__()
        from app.ui.bridge import EngineBridge
        from app.ui.main_window import MainWindow
        from app.ui.read_model import ReadModel

        self.settings, self.options, self.factory, self.log_file = settings, options, factory, log_file
        self.show_error = show_error or _error_box
        self.ask_live = ask_live  # a live session that failed: retry / simulated / quit (None: the box)
        live = settings.general.mode == "live"
        mode = mode or (_translated("实盘") if live else "")
        self.terminal = PendingTerminal()
        self.read_model = ReadModel()
        self.bridge = EngineBridge(self.terminal)
        data_dir = options.data_dir or settings.general.data_dir
        self.window = MainWindow(self.read_model, self.bridge, layout_file=data_dir / "window.ini", mode=mode)
        self.window.add_core_panels()
        self.window.charts_after_session = True  # built at attach: pyqtgraph imported off the GUI thread
        self.window.add_market_panels(self.terminal, mode="live" if live else "sim")
        self.window.restore_layout()
        self.window.show_starting(STARTING)
        self.window.on_close.append(self._closing)
        self.window.first_painted.connect(self.begin_build)
        self._stepped.connect(self.window.starting_progress)
        self._done.connect(self._on_done)
        self.session: Any = None  # attached
        self.error: BaseException | None = None
        self.exit_code = 0
        self.day_over = False
        self._lock = threading.Lock()
        self._outcome: tuple[Any, BaseException | None] | None = None  # (session, error) of the build
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None
        self._watch: QTimer | None = None

    # ------------------------------------------------------------------ the builder thread
    def begin_build(self) -> None:
        """Start building the session on its own thread (once; not after the window was closed)."""
        if self._thread is not None or self._cancel.is_set():
            return
        self._thread = threading.Thread(target=self._build, name="tiller-window-start", daemon=True)
        self._thread.start()

    @property
    def building(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _build(self) -> None:
        session: Any = None
        error: BaseException | None = None
        try:
            self._import_charts()
            session = self.factory(self.options, self._progress)
            _settle_heap()
        except BaseException as exc:  # handed to the GUI thread, said in words there
            error = exc
        with self._lock:
            self._outcome = (session, error)
        self._emit(self._done)

    @staticmethod
    def _import_charts() -> None:
        """pyqtgraph and numpy (0.4 s to over a second), imported here on the builder thread so that
        the GUI thread only builds the charts' widgets once the session is attached."""
        try:
            import app.ui.charts  # noqa: F401
        except Exception:  # the GUI thread's own import says it again, in its place
            log.warning("the charts' modules could not be imported ahead", exc_info=True)

    def _progress(self, fraction: float, words: str) -> None:
        if self._cancel.is_set():
            raise StartCancelled("the window was closed while starting")
        self._emit(self._stepped, float(fraction), words)

    @staticmethod
    def _emit(signal: Any, *args: Any) -> None:
        try:
            signal.emit(*args)
        except RuntimeError:  # the window's objects are gone (the process is ending): finish() closes
            log.debug("start-up: the window is gone; the outcome is closed by finish()")

    # ------------------------------------------------------------------ the GUI thread
    def _on_done(self) -> None:
        with self._lock:
            outcome = self._outcome
        if outcome is None or self._cancel.is_set() or self.session is not None:
            return  # closed meanwhile: finish() closes what was built
        session, error = outcome
        if error is not None:
            if self.settings.general.mode == "live" and not isinstance(error, StartCancelled):
                self._live_failed(error)
            else:
                self._failed(error)
            return
        try:
            self._attach(session)
        except Exception as exc:
            self._failed(exc)

    def _attach(self, session: Any) -> None:
        """The built session into the window: the Terminal behind the pending one, the bridge
        subscribed and its snapshot taken off the GUI thread (as at a reconnect), the day started."""
        self.session = session
        self.terminal.attach(session.terminal)
        self.window.session_attached(lambda: session.schedule)  # a live session's grows each night
        driver = getattr(session, "driver", None)  # the simulated day: its speed, its end
        if getattr(session, "mode", "sim") == "live":
            from app.ui.live import LiveControls

            LiveControls(self.window, session)  # the live state, arming, the connection
        elif driver is not None:
            self.window.add_speed_control(self.options.speed, driver.set_speed)
            self._watch = QTimer(self.window)
            self._watch.timeout.connect(self._watch_day)
            self._watch.start(200)
        session.terminal.subscribe(self.bridge.listener)
        self.bridge.refresh()
        session.start()

    def _live_failed(self, exc: BaseException) -> None:
        """The live session could not be opened: the user chooses (GUI thread) to retry, to open the
        simulated setup instead, or to quit; the window stays up meanwhile."""
        from app.ui.live import ask_after_live_failure

        settings = after_live_failure(self.settings, exc, self.ask_live or ask_after_live_failure)
        if settings is None:
            self.error, self.exit_code = exc, 1
            self.window.close()
            return
        if settings.general.mode != "live":
            self.window.set_mode(_translated("模拟"), "sim")
        self.settings, self.factory = settings, session_factory(settings)
        with self._lock:
            self._outcome = None
        self._thread = None
        self.window.show_starting(STARTING)
        self.begin_build()

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        words, self.exit_code = failure_words(exc, self.log_file)
        self.window.starting_failed(words)
        try:
            self.show_error(words)
        finally:
            self.window.close()

    def _watch_day(self) -> None:
        from app.ui.words import tr

        driver = self.session.driver
        if self.day_over:
            return
        if driver.error is not None:
            self.day_over = True
            self.window.notify(
                "Tiller",
                tr("模拟交易日出错 (the simulated day stopped): {error}").format(error=driver.error),
                "error",
            )
        elif driver.done.is_set():
            self.day_over = True
            self.window.statusBar().showMessage(tr("模拟交易日结束 (the simulated day is over)"))
            if self.options.exit_when_done:
                self.bridge.flush()
                self.bridge.refresh()
                QTimer.singleShot(500, self._close_when_done)

    def _close_when_done(self) -> None:
        if self.options.screenshot is not None:
            self.options.screenshot.parent.mkdir(parents=True, exist_ok=True)
            self.window.grab().save(str(self.options.screenshot))
        self.window.close()

    def _closing(self) -> None:
        """The window closes (also while the session is still being built): the build stops at its
        next step."""
        self._cancel.set()
        if self._watch is not None:
            self._watch.stop()

    def finish(self, timeout: float = 60.0) -> int:
        """After the event loop (GUI thread): the build waited for (it stops at its next step), the
        commands in flight waited for, the session closed (attached or not); the exit code."""
        self._cancel.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():  # a step that does not end: the OS releases the lock with the process
                log.error(
                    "the window's session was still being built %.0f s after the window closed", timeout
                )
        self.bridge.wait_commands(10000)
        gc.unfreeze()  # the start-up's objects may go with the window (run_gui called in-process: tests)
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(10000)  # the panels' reads, before the engine stops
        with self._lock:
            outcome = self._outcome
        session = self.session if self.session is not None else (outcome[0] if outcome else None)
        if session is not None:
            session.close()
        driver = getattr(session, "driver", None)
        if self.exit_code == 0 and driver is not None and driver.error is not None:
            self.exit_code = 70
        return self.exit_code


def _settle_heap() -> None:
    """The start-up's objects (modules, widgets, the session, the day's instruments) live as long as
    the window: collected once here, on the builder thread while the window still says it is
    starting, then frozen out of the garbage collector's later full collections, each of which walked
    all of them with the GIL held (up to ~150 ms of frozen window in bench/gui.py). `finish` thaws
    them."""
    gc.collect()
    gc.freeze()


def run_gui(
    settings: Settings,
    options: GuiOptions,
    log_file: Path | None = None,
    factory: SessionFactory | None = None,
) -> int:
    """The window on the session `factory` builds (default: `session_factory(settings)`): shown and
    painted first, the session built off the GUI thread and attached when ready."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Tiller")
    app.setOrganizationName("Tiller")
    from app.ui.i18n import install_translator, remove_translators

    translators = install_translator(app, settings.general.language)
    install_crash_handler(log_file)

    def say_failure(text: str) -> None:
        print(text, file=sys.stderr, flush=True)  # the console too (a shortcut's window has none)
        if not options.exit_when_done:  # a scripted run: nobody would click the dialog away
            _error_box(text)

    start = WindowStart(
        settings, options, factory or session_factory(settings), log_file=log_file, show_error=say_failure
    )
    try:
        start.window.show()
        app.exec()
    finally:
        code = start.finish()
        remove_translators(app, translators)  # the application outlives the window (tests)
        _delete_now(start.window)  # nor is the closed window left among the application's windows
    return code


def _delete_now(widget: Any) -> None:
    """Delete a closed top-level widget after the event loop has ended: `deleteLater` and the deferred
    deletion delivered at once (no loop is left to deliver it)."""
    import shiboken6
    from PySide6.QtCore import QCoreApplication, QEvent

    if not shiboken6.isValid(widget):  # deleted on close already (WA_DeleteOnClose)
        return
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
