"""The window's start-up (app/gui.py `WindowStart`), offscreen: the window is painted before its session
exists, the session is built off the GUI thread and attached, a build that fails is said in plain
words, closing during the build releases the account lock, and an earlier day left without its close
is closed first (as `run --headless` does)."""

from __future__ import annotations

import gc
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from datetime import time as clock_time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel, QProgressBar

from app.config import Settings, load_settings
from app.core.oms import NewOrder
from app.core.terminal import Terminal
from app.domain.side import Side
from app.gui import GuiOptions, StartCancelled, WindowStart, session_factory
from app.storage import database_path
from app.storage.lock import AccountInUseError, acquire_account_lock
from tests.helpers.engine_day import DAY, at, make_setup, open_day, settle
from tests.helpers.window_day import WAIT_MS, save_screenshot

pytestmark = pytest.mark.gui
NEXT = date(2026, 11, 24)
BUILD_WAIT_S = 60.0


def _settings(folder: Path) -> Settings:
    return load_settings(env={"TILLER_DATA_DIR": str(folder)}, path=folder.parent / "none.toml")


def _options(folder: Path, day: date = DAY, until: clock_time = clock_time(9, 40)) -> GuiOptions:
    return GuiOptions(day=day, start=clock_time(9, 0), until=until, speed=None, data_dir=folder, seed=5)


def _lock_is_free(settings: Settings, folder: Path) -> bool:
    """Whether another holder could take the account's lock now (then gives it back)."""
    path = database_path(folder, settings.account.account_id, "sim")
    try:
        lock = acquire_account_lock(
            path, account=settings.account.account_id, mode="sim", now=datetime.now(UTC)
        )
    except AccountInUseError:
        return False
    lock.release()
    return True


def _starting_text(start: WindowStart) -> str:
    label = start.window.findChild(QLabel, "starting")
    return "" if label is None else label.text()


def _start(
    qtbot: Any, settings: Settings, options: GuiOptions, factory: Any, shown: list[str]
) -> WindowStart:
    start = WindowStart(settings, options, factory, show_error=shown.append)
    qtbot.addWidget(start.window)
    start.window.resize(1440, 900)
    start.window.show()
    return start


def _wait_day_over(qtbot: Any, start: WindowStart) -> None:
    qtbot.waitUntil(lambda: start.day_over, timeout=120000)
    assert start.session.driver.error is None
    start.session.terminal.wait_idle()
    mark = start.bridge._mark()
    qtbot.waitUntil(lambda: start.bridge.applied >= mark, timeout=WAIT_MS)


def test_the_window_is_painted_before_its_session_exists_then_the_session_attaches_and_fills_the_panels(
    tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    settings = _settings(folder)
    real = session_factory(settings)
    gate = threading.Event()
    seen: dict[str, Any] = {}

    def factory(options: GuiOptions, progress: Callable[[float, str], None]) -> Any:  # the builder thread
        seen["painted_when_asked"] = start.window.painted
        seen["thread"] = threading.current_thread().name

        def step(fraction: float, words: str) -> None:
            progress(fraction, words)
            if fraction >= 0.3 and not gate.wait(BUILD_WAIT_S):  # held in the middle of the build
                raise TimeoutError("the test never let the build go on")
            seen["steps"] = seen.get("steps", 0) + 1

        return real(options, step)

    shown: list[str] = []
    start = _start(qtbot, settings, _options(folder), factory, shown)
    try:
        # the window is painted and the factory asked, while the session does not exist yet
        qtbot.waitUntil(lambda: "打开账本" in _starting_text(start), timeout=WAIT_MS)
        assert seen["painted_when_asked"] is True
        assert seen["thread"] != threading.main_thread().name
        assert start.session is None and not start.terminal.attached
        assert start.window.starting and "正在启动" in _starting_text(start)
        assert start.window.findChild(QProgressBar, "starting-progress").value() == 30
        assert start.window.panel("plan").table_model.rowCount() == 0
        assert not start.read_model.loaded
        save_screenshot(start.window, "window-starting", tmp_path / "screenshots")
        # a command before the session is there fails in words (no crash, no traceback)
        plan = start.window.panel("plan")
        plan.approve()
        qtbot.waitUntil(lambda: "正在启动" in plan.message.text(), timeout=WAIT_MS)
        assert "Traceback" not in plan.message.text()

        gate.set()
        qtbot.waitUntil(lambda: start.read_model.loaded, timeout=WAIT_MS)
        assert start.terminal.attached and not start.window.starting
        assert _starting_text(start) == ""
        # the start-up's objects are out of the collector's full collections for the window's life
        assert gc.get_freeze_count() > 0
        _wait_day_over(qtbot, start)

        # the window follows the engine a frame behind (the bridge coalesces per frame): wait for it
        plan_rows, order_rows = (
            start.window.panel("plan").table_model,
            start.window.panel("orders").table_model,
        )
        engine_lines, engine_orders = (
            len(start.session.terminal.plan().lines),
            len(start.session.terminal.orders()),
        )
        qtbot.waitUntil(lambda: plan_rows.rowCount() == engine_lines, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: order_rows.rowCount() == engine_orders, timeout=WAIT_MS)
        assert engine_lines == 6 and engine_orders > 0
        assert start.window.panel("positions").table_model.rowCount() > 0
        assert "已连接" in start.window.broker_label.text()
        assert start.window.speed_box is not None and start.window.speed_box.currentText() == "最快"
        save_screenshot(start.window, "window-attached", tmp_path / "screenshots")
        assert not _lock_is_free(settings, folder)  # the session holds the account
    finally:
        gate.set()
        start.window.close()
        code = start.finish()
    assert code == 0 and shown == []
    assert _lock_is_free(settings, folder)
    assert gc.get_freeze_count() == 0  # thawed with the window: they may be collected now


def test_a_factory_that_raises_is_shown_in_plain_words_the_traceback_goes_to_the_log(
    tmp_path: Path, qtbot, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    settings = _settings(folder)

    def factory(options: GuiOptions, progress: Callable[[float, str], None]) -> Any:
        progress(0.1, "almost")
        raise ZeroDivisionError("the build broke")

    shown: list[str] = []
    with caplog.at_level(logging.ERROR, logger="app.gui"):
        start = _start(qtbot, settings, _options(folder), factory, shown)
        qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not start.window.isVisible(), timeout=WAIT_MS)
        code = start.finish()

    assert code == 70  # an unexpected error: the window could not go on
    assert len(shown) == 1
    assert "Tiller 无法启动" in shown[0] and "ZeroDivisionError: the build broke" in shown[0]
    assert "Traceback" not in shown[0] and "File " not in shown[0]
    assert "Traceback" in caplog.text and "the build broke" in caplog.text  # the log has it all
    assert isinstance(start.error, ZeroDivisionError) and start.session is None


def test_the_real_dialog_shows_the_plain_words(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    folder = tmp_path / "data"
    settings = _settings(folder)

    def factory(options: GuiOptions, progress: Callable[[float, str], None]) -> Any:
        raise KeyError("books")

    seen: list[str] = []

    def read_the_dialog() -> None:  # runs inside the dialog's own event loop
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, read_the_dialog)
            return
        seen.append(box.text())
        save_screenshot(box, "window-start-failed-dialog", tmp_path / "screenshots")
        box.accept()

    start = WindowStart(settings, _options(folder), factory)  # the default: QMessageBox.critical
    qtbot.addWidget(start.window)
    QTimer.singleShot(0, read_the_dialog)
    start.window.show()
    qtbot.waitUntil(lambda: bool(seen) and not start.window.isVisible(), timeout=WAIT_MS)
    assert start.finish() == 70
    assert "Tiller 无法启动" in seen[0] and "KeyError: 'books'" in seen[0] and "Traceback" not in seen[0]


def test_an_account_in_use_is_said_as_the_known_error_and_exits_non_zero(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    settings = _settings(folder)
    folder.mkdir(parents=True)
    held = acquire_account_lock(
        database_path(folder, settings.account.account_id, "sim"),
        account=settings.account.account_id, mode="sim", now=datetime.now(UTC),
    )  # fmt: skip  # another Tiller has the account open
    try:
        shown: list[str] = []
        start = _start(qtbot, settings, _options(folder), session_factory(settings), shown)
        qtbot.waitUntil(lambda: bool(shown), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not start.window.isVisible(), timeout=WAIT_MS)
        code = start.finish()
    finally:
        held.release()

    assert code == 1  # a known error: the user can fix it
    assert isinstance(start.error, AccountInUseError)
    assert str(start.error) in shown[0] and "Traceback" not in shown[0]
    assert not database_path(folder, settings.account.account_id, "sim").exists()  # nothing was opened
    assert _lock_is_free(settings, folder)


def test_closing_the_window_during_the_build_stops_it_and_releases_the_lock(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    settings = _settings(folder)
    real = session_factory(settings)
    inside, gate = threading.Event(), threading.Event()
    raised: list[BaseException] = []

    def factory(options: GuiOptions, progress: Callable[[float, str], None]) -> Any:
        def step(fraction: float, words: str) -> None:
            if fraction >= 0.5:  # the books and the broker are open: the account lock is held
                inside.set()
                gate.wait(BUILD_WAIT_S)
            try:
                progress(fraction, words)
            except StartCancelled as exc:
                raised.append(exc)
                raise

        return real(options, step)

    shown: list[str] = []
    start = _start(qtbot, settings, _options(folder), factory, shown)
    qtbot.waitUntil(inside.is_set, timeout=WAIT_MS)
    assert not _lock_is_free(settings, folder)
    start.window.close()  # the user closes the window in the middle of the build
    gate.set()
    code = start.finish()

    assert code == 0 and shown == []  # closing is not an error
    assert len(raised) == 1 and not start.building
    assert start.session is None
    assert _lock_is_free(settings, folder)


def test_a_session_built_after_the_window_closed_is_closed_too(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    settings = _settings(folder)
    shown: list[str] = []
    start = WindowStart(settings, _options(folder), session_factory(settings), show_error=shown.append)
    qtbot.addWidget(start.window)
    start.begin_build()  # no Qt event is processed until the close: the window never hears it is done
    deadline = time.monotonic() + BUILD_WAIT_S
    while start.building:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not _lock_is_free(settings, folder)
    start.window.close()
    qtbot.wait(50)  # the "built" notice arrives after the close: not attached
    assert start.session is None
    assert start.finish() == 0
    assert _lock_is_free(settings, folder)


def _leave_a_day_unsettled(folder: Path, settings: Settings, *, broker_differs: bool = False) -> Path:
    """DAY with a fill, stopped before its close: nothing settled. `broker_differs`: the broker also
    holds shares Tiller never booked (its close will find the difference)."""
    setup = make_setup(folder, settings=settings)
    try:
        open_day(setup)
        at(setup, 9, 40)
        quote = setup.feed.snapshot(DAY, clock_time(9, 40))
        ask = next(q for q in quote if q.code == "600000.SH").ask_prices[0]
        Terminal(setup.engine).submit([NewOrder("600000.SH", Side.BUY, 100, ask)])
        settle(setup)
        at(setup, 9, 45)
        if broker_differs:
            setup.broker.set_position("510300.SH", 1000, D("3.800"))
    finally:
        setup.close()
    db = database_path(folder, settings.account.account_id, "sim")
    assert _rows(db, "SELECT count(*) FROM trades") == [(1,)]
    assert _rows(db, "SELECT count(*) FROM settlements") == [(0,)]
    return db


def test_an_earlier_day_left_without_its_close_is_closed_when_the_window_starts(
    tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    settings = _settings(folder)
    db = _leave_a_day_unsettled(folder, settings)

    shown: list[str] = []
    start = _start(
        qtbot, settings, _options(folder, NEXT, clock_time(9, 35)), session_factory(settings), shown
    )
    try:
        qtbot.waitUntil(lambda: start.read_model.loaded, timeout=WAIT_MS)
        _wait_day_over(qtbot, start)
        alerts = [a.message for a in start.read_model.alerts]
        assert any(f"caught up the close of {DAY}): ok" in m for m in alerts), alerts
        assert not any("不自动运行" in m for m in alerts)  # it settled: the day is not held
        assert len(start.session.terminal.plan().lines) == 6  # so today's signals were fetched and planned
    finally:
        start.window.close()
        assert start.finish() == 0
    assert shown == []
    assert _rows(db, "SELECT trading_day, status FROM settlements") == [(DAY.isoformat(), "ok")]


def test_an_earlier_day_whose_close_finds_differences_holds_the_windows_day(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    settings = _settings(folder)
    db = _leave_a_day_unsettled(folder, settings, broker_differs=True)

    shown: list[str] = []
    start = _start(
        qtbot, settings, _options(folder, NEXT, clock_time(9, 35)), session_factory(settings), shown
    )
    try:
        qtbot.waitUntil(lambda: start.read_model.loaded, timeout=WAIT_MS)
        _wait_day_over(qtbot, start)
        alerts = [a.message for a in start.read_model.alerts]
        assert any(f"caught up the close of {DAY}): differences" in m and "510300.SH" in m for m in alerts), (
            alerts
        )
        held = [m for m in alerts if "不自动运行" in m]
        assert len(held) == 1 and f"sync --day {DAY}" in held[0]  # says what to run
        assert len(start.session.terminal.plan().lines) == 0  # no fetch, no plan, no orders while held
        assert len(start.session.terminal.orders()) == 0
    finally:
        start.window.close()
        assert start.finish() == 0
    assert shown == []
    assert _rows(db, "SELECT trading_day, status FROM settlements") == [(DAY.isoformat(), "differences")]


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_python_m_app_whose_account_is_in_use_says_so_and_exits_non_zero(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    settings = _settings(folder)
    folder.mkdir(parents=True)
    held = acquire_account_lock(
        database_path(folder, settings.account.account_id, "sim"),
        account=settings.account.account_id, mode="sim", now=datetime.now(UTC),
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TILLER")}
    env.update(QT_QPA_PLATFORM="offscreen", TILLER_DATA_DIR=str(folder))
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "app", "run", "--day", "2026-11-23", "--start", "09:00", "--until", "09:30",
             "--speed", "0", "--exit-when-done"],
            capture_output=True, text=True, encoding="utf-8", env=env, timeout=300,
        )  # fmt: skip
    finally:
        held.release()

    assert completed.returncode == 1, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr
    assert "pid" in completed.stderr  # the lock's own words: which process holds the account
    log = (folder / "logs" / "tiller.log").read_text(encoding="utf-8")
    assert "Traceback" in log and "AccountInUseError" in log
