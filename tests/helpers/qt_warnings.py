"""Fail a GUI test on any Qt warning (qutebrowser's tests/helpers/logfail.py, for Qt's own messages).

`qt_warnings_fail` installs a Qt message handler for the test: every QtWarningMsg, QtCriticalMsg or
QtFatalMsg is recorded (and passed on to the handler that was there, pytest-qt's capture), and the
test fails at teardown listing them. Raising inside the handler itself would cross C++ frames, so
the failure is raised after the test body, never from inside Qt.

tests/conftest.py turns it on for every test that uses `qtbot` or `qapp`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

# Messages Qt prints for the offscreen platform itself, never for anything a test did.
IGNORED = ("This plugin does not support propagateSizeHints()", "This plugin does not support raise()")


class QtWarnings:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def __call__(self, mode: Any, context: Any, message: str) -> None:
        from PySide6.QtCore import QtMsgType

        serious = (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg)
        if mode in serious and not any(text in message for text in IGNORED):
            where = f" ({context.file}:{context.line})" if context is not None and context.file else ""
            self.messages.append(f"{mode.name}: {message}{where}")


@pytest.fixture
def qt_warnings_fail() -> Iterator[QtWarnings]:
    from PySide6.QtCore import qInstallMessageHandler

    recorder = QtWarnings()
    previous = None

    def handler(mode: Any, context: Any, message: str) -> None:
        recorder(mode, context, message)
        if previous is not None:
            previous(mode, context, message)

    previous = qInstallMessageHandler(handler)
    try:
        yield recorder
    finally:
        qInstallMessageHandler(previous)
    if recorder.messages:
        pytest.fail("Qt warned during the test:\n" + "\n".join(recorder.messages), pytrace=False)
