"""What both sides of the GUI benchmark measure, the same way (standard library + PySide6 only, so
that vn.py's side, bench/gui_vnpy.py, imports it from its own venv).

- **Stall**: a heartbeat `QTimer` fires every `HEARTBEAT_MS` on the GUI thread; a stall is how much
  later than due a beat came (gap minus the interval). Reported: p50, p99, max, and the beats.
- **First paint**: from the stamp the script took before importing anything else to the first
  Paint event of the top-level window; also the process's CPU time (every thread) until then.
- **GUI-thread CPU**: `time.thread_time()` of the GUI thread over the load, per snapshot applied
  (the heartbeat's own cost included, alike on both sides): what a busy machine inflates least.
- **Memory**: the process's resident set at the end and its peak (Linux /proc; None elsewhere).
- **Load**: a feeder thread hands one full-market snapshot every `interval` seconds to the side's
  own path into the GUI (Tiller: one queued signal per snapshot, as the bridge does; vn.py: one
  EVENT_TICK per instrument through its EventEngine, as its gateways do). `applied` counts the
  snapshots the GUI thread finished applying: a side that cannot keep up shows it there.
"""

from __future__ import annotations

import gc
import json
import os
import pickle
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

HEARTBEAT_MS = 5
RESULT_PREFIX = "RESULT_JSON "

# One instrument of a snapshot, as the driver writes it (plain types: both venvs read it):
# (code, name, ts_epoch, last, open, high, low, prev_close, volume, amount,
#  bid_prices[5], bid_volumes[5], ask_prices[5], ask_volumes[5])
Row = tuple


class GcPauses:
    """Every garbage collection during the load, timed through `gc.callbacks` (it runs on whichever
    thread allocated: a collection on another thread holds the GIL, so the GUI thread waits as well).
    Reported: how many, the longest, and the gen-2 (full) ones."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float]] = []  # (generation, seconds)
        self._started: float | None = None

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))
            self._started = None

    def install(self) -> None:
        gc.callbacks.append(self)

    def remove(self) -> None:
        if self in gc.callbacks:
            gc.callbacks.remove(self)

    def summary(self) -> dict[str, Any]:
        full = [d for g, d in self.pauses if g == 2]
        return {
            "gc_collections": len(self.pauses),
            "gc_max_ms": round(max((d for _, d in self.pauses), default=0.0) * 1000, 1),
            "gc_full_collections": len(full),
            "gc_full_max_ms": round(max(full, default=0.0) * 1000, 1),
        }


def load_snapshots(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return pickle.load(handle)


class Heartbeat(QObject):
    def __init__(self, interval_ms: int = HEARTBEAT_MS) -> None:
        super().__init__()
        self.interval = interval_ms / 1000
        self.gaps: list[float] = []
        self._last: float | None = None
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._beat)

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def stalled_now(self) -> None:
        """Count the stall in progress (the GUI thread has not beaten since `_last`)."""
        if self._last is not None:
            self.gaps.append(time.perf_counter() - self._last)

    def _beat(self) -> None:
        now = time.perf_counter()
        if self._last is not None:
            self.gaps.append(now - self._last)
        self._last = now

    def summary(self) -> dict[str, Any]:
        stalls = sorted(max(0.0, g - self.interval) * 1000 for g in self.gaps)
        if not stalls:
            return {"beats": 0}

        def pct(p: float) -> float:
            return round(stalls[min(len(stalls) - 1, int(p / 100 * len(stalls)))], 2)

        return {
            "beats": len(stalls),
            "stall_p50_ms": pct(50),
            "stall_p99_ms": pct(99),
            "stall_p999_ms": pct(99.9),
            "stall_max_ms": round(stalls[-1], 2),
        }


class FirstPaint(QObject):
    """Stamps the first Paint event of `window` (an event filter; removed after)."""

    def __init__(self, window: QWidget, started: float) -> None:
        super().__init__()
        self.started = started
        self.seconds: float | None = None
        self.wall: float | None = None  # time.time() of the first paint (the driver's spawn clock)
        self.cpu: float | None = None  # the process's CPU time (every thread) until the first paint
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self.seconds is None and event.type() == QEvent.Type.Paint:
            self.seconds = time.perf_counter() - self.started
            self.wall = time.time()
            self.cpu = time.process_time()  # what a busy machine inflates least
            self._window.removeEventFilter(self)
        return False


def memory_mib() -> dict[str, float | None]:
    values: dict[str, float | None] = {"rss_mib": None, "peak_rss_mib": None}
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    values["rss_mib"] = round(int(line.split()[1]) / 1024, 1)
                elif line.startswith("VmHWM:"):
                    values["peak_rss_mib"] = round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return values


class Feeder(threading.Thread):
    """Calls `push(snapshot_index)` every `interval` seconds, `count` times, off the GUI thread."""

    def __init__(self, push: Callable[[int], None], interval: float, count: int) -> None:
        super().__init__(name="bench-feeder", daemon=True)
        self._push, self._interval, self._count = push, interval, count
        self.pushed = 0
        self.push_seconds: list[float] = []

    def run(self) -> None:
        due = time.perf_counter()
        for i in range(self._count):
            due += self._interval
            started = time.perf_counter()
            self._push(i)
            self.push_seconds.append(time.perf_counter() - started)
            self.pushed += 1
            time.sleep(max(0.0, due - time.perf_counter()))


def run_load(
    app: QApplication,
    window: QWidget,
    started: float,
    push: Callable[[int], None],
    *,
    interval: float,
    count: int,
    applied: Callable[[], int],
    describe: dict[str, Any],
    settle_s: float = 1.0,
    grace_s: float = 60.0,
    ready: Callable[[], bool] = lambda: True,
) -> dict[str, Any]:
    """Show `window`; at its first paint (and once `ready()`: a window whose session is attached after
    it was painted) start the heartbeat and the feeder; run Qt's event loop until
    every snapshot was pushed and applied (or `settle_s` after the last push); return the figures
    with `describe` added.

    A side whose GUI thread is still busy `grace_s` after the load should have ended is cut off by a
    watchdog thread: it prints the figures so far (the stall in progress counted; `timed_out`) and
    ends the process, since Qt's own loop could not get to quitting."""
    first_paint = FirstPaint(window, started)
    heartbeat = Heartbeat()
    gc_pauses = GcPauses()
    feeder = Feeder(push, interval, count)
    state: dict[str, float | None] = {"load_started": None, "pushes_done": None, "cpu_started": None}

    def figures() -> dict[str, Any]:
        load_started = state["load_started"] or time.perf_counter()
        pushes = sorted(feeder.push_seconds)
        return {
            "first_paint_s": None if first_paint.seconds is None else round(first_paint.seconds, 3),
            "first_paint_wall": first_paint.wall,
            "first_paint_cpu_s": None if first_paint.cpu is None else round(first_paint.cpu, 3),
            **heartbeat.summary(),
            **gc_pauses.summary(),
            "snapshots_pushed": feeder.pushed,
            "snapshots_applied": applied(),
            "push_ms_median": round(pushes[len(pushes) // 2] * 1000, 1) if pushes else None,
            "load_seconds": round(time.perf_counter() - load_started, 1),
            "gui_cpu_ms_per_snapshot": state.get("gui_cpu_ms_per_snapshot"),
            **memory_mib(),
            "python": sys.version.split()[0],
            **describe,
        }

    def watchdog() -> None:
        deadline = time.perf_counter() + interval * count + grace_s + 60  # 60: first paint, ready
        while time.perf_counter() < deadline:
            time.sleep(0.5)
            if finished.is_set():
                return
        heartbeat.stalled_now()
        print_result({**figures(), "timed_out": True})
        os._exit(0)

    finished = threading.Event()
    threading.Thread(target=watchdog, name="bench-watchdog", daemon=True).start()
    stacks_file = os.environ.get("TILLER_BENCH_STALL_STACKS")  # a diagnostic: where a long stall is spent
    if stacks_file:
        gui_thread = threading.get_ident()

        def stall_stacks() -> None:
            import traceback

            shown = None
            while not finished.wait(0.1):
                last = heartbeat._last
                if last is None or time.perf_counter() - last < 0.3 or shown == last:
                    continue
                shown = last
                frames = sys._current_frames()
                names = {t.ident: t.name for t in threading.enumerate()}
                out = [f"STALL {time.perf_counter() - last:.2f}s, stacks:"]
                for ident, frame in frames.items():
                    mark = " (GUI)" if ident == gui_thread else ""
                    out.append(f"--- {names.get(ident, ident)}{mark}")
                    out.extend(line.rstrip() for line in traceback.format_stack(frame)[-12:])
                with open(stacks_file, "a", encoding="utf-8") as handle:
                    handle.write("\n".join(out) + "\n")

        threading.Thread(target=stall_stacks, name="bench-stall-stacks", daemon=True).start()

    def check() -> None:
        now = time.perf_counter()
        if state["load_started"] is None:
            if (first_paint.seconds is not None and ready()) or now - started > 60:
                heartbeat.start()
                gc_pauses.install()
                state["load_started"] = now
                state["cpu_started"] = time.thread_time()  # the GUI thread's own CPU time
                feeder.start()
            return
        if feeder.is_alive():
            return
        if state["pushes_done"] is None:
            state["pushes_done"] = now
        if applied() >= count or now - state["pushes_done"] > settle_s + interval:
            app.quit()

    checker = QTimer()
    checker.setInterval(50)
    checker.timeout.connect(check)
    checker.start()
    window.show()
    app.exec()
    checker.stop()
    heartbeat.stop()
    gc_pauses.remove()
    finished.set()
    if state["cpu_started"] is not None and applied():
        # CPU the GUI thread spent during the load (the heartbeat's own beats included, alike on both
        # sides) per snapshot applied: far less sensitive than wall-clock stalls to a busy machine.
        spent = time.thread_time() - state["cpu_started"]
        state["gui_cpu_ms_per_snapshot"] = round(spent / applied() * 1000, 1)
    return figures()


def print_result(result: dict[str, Any]) -> None:
    print(RESULT_PREFIX + json.dumps(result, ensure_ascii=False), flush=True)
