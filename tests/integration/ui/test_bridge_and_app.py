"""The bridge (events coalesced to frames, snapshots with none lost or twice, commands off the GUI
thread with errors in words), the crash handler, and `python -m app` opening the window on a short
accelerated simulated day from start to end."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.core.messages import AlertRaised, QuotesUpdated
from app.core.planning.model import PlanError
from app.domain.clock import CN_TZ
from app.domain.market import Quote
from app.ui.bridge import EngineBridge, words
from tests.helpers.window_day import save_screenshot

pytestmark = pytest.mark.gui
TS = datetime(2026, 11, 23, 9, 30, tzinfo=CN_TZ)


def _quote(code: str, last: str) -> Quote:
    p = D(last)
    return Quote(code, TS, p, p, p, p, D("10.00"), 100, p * 100)


class _Terminal:
    """Only what the bridge calls; snapshot() runs `mark` as the engine thread would."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def snapshot(self, mark=None):  # type: ignore[no-untyped-def]
        from types import SimpleNamespace

        return SimpleNamespace(mark=mark() if mark else None)


def test_a_burst_from_the_engine_thread_arrives_as_few_frames_with_the_last_quote_of_each_code(qtbot) -> None:  # type: ignore[no-untyped-def]
    bridge = EngineBridge(_Terminal(), fps=20)
    batches = []
    bridge.events_arrived.connect(batches.append)

    def engine_thread() -> None:
        for n in range(2000):
            bridge.listener(
                QuotesUpdated([_quote("600000.SH", f"10.{n % 100:02d}"), _quote("000001.SZ", "11.00")])
            )
        bridge.listener(AlertRaised("info", "t", "last", TS))

    worker = threading.Thread(target=engine_thread)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: bridge.applied == 2001, timeout=10000)

    assert len(batches) < 2001 / 10  # coalesced to frames, not one signal per event
    assert batches[-1].events[-1].message == "last"
    last = {}
    for b in batches:
        last.update(b.quotes)
    assert last["600000.SH"].last == D("10.99")  # 1999 % 100
    assert sum(len(b.events) for b in batches) == 1


def test_events_inside_a_snapshot_are_dropped_and_later_ones_kept(qtbot) -> None:  # type: ignore[no-untyped-def]
    bridge = EngineBridge(_Terminal())
    delivered: list[str] = []
    bridge.events_arrived.connect(lambda b: delivered.extend(e.message for e in b.events))
    bridge.listener(AlertRaised("info", "t", "before", TS))
    bridge.listener(AlertRaised("info", "t", "also before", TS))
    snapshots = []
    bridge.snapshot_arrived.connect(snapshots.append)

    bridge.refresh()  # the mark is taken now: 2 events are inside the snapshot
    qtbot.waitUntil(lambda: bool(snapshots), timeout=10000)
    bridge.listener(AlertRaised("info", "t", "after", TS))
    qtbot.waitUntil(lambda: bridge.applied == 3, timeout=10000)

    assert snapshots[0].mark == 2
    assert "after" in delivered
    assert "before" not in delivered or delivered.index("before") < delivered.index("after")
    assert delivered.count("after") == 1


def test_commands_run_off_the_gui_thread_in_order_and_failures_come_back_in_words(qtbot) -> None:  # type: ignore[no-untyped-def]
    bridge = EngineBridge(_Terminal())
    gui = threading.get_ident()
    ran: list[tuple[str, int]] = []
    results: list[object] = []
    failures: list[str] = []

    bridge.run(lambda: ran.append(("pause", threading.get_ident())) or "paused", results.append)
    bridge.run(lambda: ran.append(("resume", threading.get_ident())) or "resumed", results.append)

    def refused() -> None:
        raise PlanError("此行已交执行或已跳过，不能修改 (line x is handed)")

    bridge.run(refused, results.append, failures.append)
    qtbot.waitUntil(lambda: len(results) == 2 and len(failures) == 1, timeout=10000)

    assert [name for name, _ in ran] == ["pause", "resume"]
    assert all(thread != gui for _, thread in ran)
    assert results == ["paused", "resumed"]
    assert failures == ["此行已交执行或已跳过，不能修改 (line x is handed)"]
    assert "engine" in words(TimeoutError())
    assert "操作未完成" in words(RuntimeError("disk"))


def test_crash_handler_logs_the_traceback_and_shows_a_plain_message(caplog: pytest.LogCaptureFixture) -> None:
    import app.gui as gui

    shown: list[str] = []
    before = sys.excepthook, threading.excepthook
    try:
        gui.install_crash_handler(Path("/data/logs/tiller.log"), show=shown.append)
        try:
            raise ZeroDivisionError("boom")
        except ZeroDivisionError:
            with caplog.at_level(logging.CRITICAL, logger="app.gui"):
                sys.excepthook(*sys.exc_info())  # type: ignore[arg-type]
    finally:
        sys.excepthook, threading.excepthook = before

    assert "ZeroDivisionError: boom" in caplog.text
    assert "Traceback" in caplog.text
    assert len(shown) == 1
    assert "tiller.log" in shown[0] and "Traceback" not in shown[0]


def test_python_m_app_opens_the_window_and_runs_a_short_day_start_to_end(tmp_path: Path) -> None:
    shot = tmp_path / "screenshots" / "window-python-m-app.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TILLER_DATA_DIR": str(tmp_path / "data")}
    completed = subprocess.run(
        [sys.executable, "-m", "app", "run", "--day", "2026-11-23", "--start", "09:00", "--until", "10:00",
         "--speed", "0", "--exit-when-done", "--screenshot", str(shot)],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "Traceback" not in completed.stderr
    assert shot.stat().st_size > 10_000
    log = (tmp_path / "data" / "logs" / "tiller.log").read_text(encoding="utf-8")
    assert "signals planned" in log  # fetched over HTTP from the local server, planned by the desk
    assert (tmp_path / "data" / "window.ini").exists()  # the layout kept on close
    extra = os.environ.get("TILLER_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        (Path(extra) / shot.name).write_bytes(shot.read_bytes())


def test_the_window_with_a_data_dir_logs_there_and_says_arm_belongs_to_headless(tmp_path: Path) -> None:
    """`run --data-dir D` keeps its log with its books in D (as demo and --headless do), and `--arm`,
    which only run --headless takes, is said to belong there instead of being silently ignored."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TILLER_DATA_DIR": str(tmp_path / "general")}
    folder = tmp_path / "books"
    completed = subprocess.run(
        [sys.executable, "-m", "app", "run", "--day", "2026-11-23", "--start", "09:00", "--until", "09:20",
         "--speed", "0", "--exit-when-done", "--data-dir", str(folder), "--arm"],
        capture_output=True, text=True, encoding="utf-8", env=env, timeout=300,
    )  # fmt: skip

    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "--arm is for run --headless" in completed.stderr
    assert "signals planned" in (folder / "logs" / "tiller.log").read_text(encoding="utf-8")
    assert not (tmp_path / "general" / "logs" / "tiller.log").exists()


def test_window_session_books_after_the_day_match_the_broker(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The composition root's window session in-process, with the window: the day runs on the engine's
    threads, the window only follows; at the end the window shows what the engine has."""
    from datetime import date, time

    from app.bootstrap import build_window_session
    from app.config import load_settings
    from app.ui.bridge import EngineBridge as Bridge
    from app.ui.main_window import MainWindow
    from app.ui.read_model import ReadModel

    folder = tmp_path / "data"
    settings = load_settings(env={"TILLER_DATA_DIR": str(folder)}, path=tmp_path / "none.toml")
    session = build_window_session(settings, day=date(2026, 11, 23), data_dir=folder, speed=None,
                                   start=time(9, 0), until=time(10, 45))  # fmt: skip
    try:
        read_model, bridge = ReadModel(), Bridge(session.terminal)
        window = MainWindow(read_model, bridge, layout_file=folder / "window.ini", schedule=session.schedule)
        qtbot.addWidget(window)
        window.add_core_panels()
        speed = window.add_speed_control(None, session.driver.set_speed)
        session.terminal.subscribe(bridge.listener)
        bridge.refresh()
        window.show()
        session.start()
        qtbot.waitUntil(session.driver.done.is_set, timeout=120000)
        assert session.driver.error is None
        session.terminal.wait_idle()
        mark = bridge._mark()
        qtbot.waitUntil(lambda: bridge.applied >= mark, timeout=10000)

        plan = window.panel("plan").table_model
        assert plan.rowCount() == len(session.terminal.plan().lines) == 6
        assert window.panel("orders").table_model.rowCount() == len(session.terminal.orders()) > 0
        assert "已连接" in window.broker_label.text()
        assert "信号" in window.signals_label.text() and "未取得" not in window.signals_label.text()
        assert speed.currentText() == "最快"
        speed.setCurrentIndex(speed.findData(120))
        assert session.driver.speed == 120
        save_screenshot(window, "window-end-of-session", tmp_path / "screenshots")
        bridge.wait_commands()
    finally:
        session.close()
