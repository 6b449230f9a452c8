"""Run a blocking call (the Terminal, the keyring, a file) off the GUI thread; the result comes back
as a queued signal to the GUI thread. No widget is touched off the GUI thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)


class _Relay(QObject):
    """Lives on the GUI thread; its signals, emitted by a pool thread, reach its slots queued (the
    receiver's thread is not the emitter's), so the callbacks run on the GUI thread."""

    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, done: Callable[[Any], None], fail: Callable[[Any], None], parent: QObject) -> None:
        super().__init__(parent)  # deleted with its widget: a late answer is then dropped
        self._done, self._fail = done, fail
        self.finished.connect(self._on_finished)
        self.failed.connect(self._on_failed)

    @Slot(object)
    def _on_finished(self, result: Any) -> None:
        self._done(result)

    @Slot(object)
    def _on_failed(self, exc: Any) -> None:
        self._fail(exc)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._fn, self._relay = fn, relay

    def run(self) -> None:
        try:
            result = self._fn()
        except Exception as exc:  # handed to the GUI thread as a value, shown in words there
            log.debug("background job failed: %s", exc)
            self._emit(self._relay.failed, exc)
        else:
            self._emit(self._relay.finished, result)

    @staticmethod
    def _emit(signal: Any, value: Any) -> None:
        try:
            signal.emit(value)
        except RuntimeError:  # the widget (and its relay) was closed meanwhile: nobody to tell
            log.debug("background job finished after its widget was gone")


class Background(QObject):
    """Owner of the relays of one widget's jobs: `run(fn, done, failed)`; `done(result)` and
    `failed(exception)` run on the GUI thread. `pending` counts jobs not answered yet."""

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._relays: set[_Relay] = set()

    @property
    def pending(self) -> int:
        return len(self._relays)

    def run(
        self,
        fn: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        def finish(result: Any) -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            done(result)

        def fail(exc: BaseException) -> None:
            self._relays.discard(relay)
            relay.deleteLater()
            if failed is None:
                log.warning("background job failed: %s", exc)
            else:
                failed(exc)

        relay = _Relay(finish, fail, self)
        self._relays.add(relay)
        self._pool.start(_Job(fn, relay))
