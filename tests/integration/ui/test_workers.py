"""Background jobs: the answer comes back on the GUI thread; a widget closed meanwhile is left alone."""

from __future__ import annotations

import threading

from PySide6.QtCore import QCoreApplication, QThread, QThreadPool
from PySide6.QtWidgets import QWidget

from app.ui.workers import Background


def test_the_answer_and_the_failure_arrive_on_the_gui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    widget = QWidget()
    qtbot.addWidget(widget)
    background = Background(widget)
    seen: list[tuple[str, object, bool]] = []
    gui = QThread.currentThread()

    def worker_thread_name() -> str:
        return threading.current_thread().name

    def boom() -> None:
        raise OSError("设备未就绪")

    background.run(worker_thread_name, lambda r: seen.append(("done", r, QThread.currentThread() is gui)))
    background.run(
        boom, done=lambda r: None, failed=lambda e: seen.append(("failed", e, QThread.currentThread() is gui))
    )
    qtbot.waitUntil(lambda: len(seen) == 2 and background.pending == 0)
    by_kind = {kind: (value, on_gui) for kind, value, on_gui in seen}
    assert by_kind["done"][0] != threading.current_thread().name and by_kind["done"][1]
    assert isinstance(by_kind["failed"][0], OSError) and by_kind["failed"][1]


def test_a_widget_closed_while_its_job_runs_gets_no_late_answer(qtbot) -> None:  # type: ignore[no-untyped-def]
    release = threading.Event()
    answers: list[object] = []
    widget = QWidget()
    background = Background(widget)
    background.run(lambda: release.wait(10), answers.append)
    widget.deleteLater()
    qtbot.waitUntil(lambda: not _alive(background))
    release.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)
    QCoreApplication.sendPostedEvents()  # deliver any (wrongly) queued answer
    QCoreApplication.processEvents()
    assert answers == []


def _alive(obj: object) -> bool:
    from shiboken6 import isValid

    return isValid(obj)
