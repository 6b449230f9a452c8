"""Work-arounds for defects of the PySide6 we run on, each switched on only where it is measured.

`SignalInstance.emit` of PySide6 6.12 (every Python-side `signal.emit(...)`, ours and pyqtgraph's)
returns `True` without taking a reference to it (a borrowed `Py_True` handed out as a new reference);
whoever drops the answer (every caller: nobody keeps it) then takes one reference from `True` that
was never given. On Python 3.11 `True` is not immortal: once its count reaches zero the interpreter
aborts ("Fatal Python error: bool_dealloc: deallocating True or False"), at exit or in the middle of
a day (the window emits several signals a frame). When the emit is suppressed (`blockSignals`) the
answer is counted correctly.

`install()` (run when `app.ui` is imported) measures it once; if the running PySide6 has the defect
it wraps `SignalInstance.emit` so that every answer it hands out carries the reference it owes. In
the suppressed case that adds one reference too many to `True`: harmless (it can only keep `True`
alive, which it is for the life of the process anyway), unlike one too few. A PySide6 without the
defect is left untouched.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None

_original_emit = SignalInstance.emit
_installed = False


class _Probe(QObject):
    ping = Signal()


def emit_hands_out_a_borrowed_reference() -> bool:
    """Whether this PySide6's `SignalInstance.emit` returns an answer it holds no reference for
    (measured on a signal of our own, so not on the wrapped emit)."""
    probe = _Probe()
    was_enabled = gc.isenabled()
    gc.disable()  # nothing may free or take references to True between the two counts
    try:
        first = _original_emit(probe.ping)
        before = sys.getrefcount(first)
        second = _original_emit(probe.ping)
        after = sys.getrefcount(first)  # `second` is bound now: an owned answer counts one more
        borrowed = second is first and after == before
        if borrowed:  # give back what the two measuring emits took
            _incref(first)
            _incref(second)
        del first, second
        return borrowed
    finally:
        if was_enabled:
            gc.enable()


def _emit(self: SignalInstance, *args: Any) -> Any:
    result = _original_emit(self, *args)
    _incref(result)  # the reference PySide6 6.12 does not take for the answer it hands out
    return result


def install() -> bool:
    """Wrap `SignalInstance.emit` if this PySide6 needs it (once per process). True if wrapped."""
    global _installed
    if not _installed and emit_hands_out_a_borrowed_reference():
        SignalInstance.emit = _emit  # type: ignore[method-assign]
        _installed = True
    return _installed
