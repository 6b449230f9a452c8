"""Start to ready: `python -m app demo --speed 0` from the process start to its first order on disk.

The demo runs in a child process with its own data folder; this process polls Tiller's database in
that folder (read-only, WAL lets it read beside the writer) until the orders table has a row. The
time covers the interpreter's start, Tiller's imports, the local BigQuant-compatible server and the
fetch of the demo's batch, opening and migrating the database, the simulated broker, the engine's
start and recovery, and the day's run up to the opening auction's first order. Also reported: the
demo's whole run, and its peak memory (VmHWM of the child, read while it runs).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

POLL_S = 0.002


def _first_order_seen(folder: Path) -> bool:
    for db in folder.glob("tiller-sim-*.db"):
        if db.name.endswith("-broker.db"):
            continue
        try:
            conn = sqlite3.connect(f"file:{db.as_posix()}?mode=ro", uri=True, timeout=0.05)
        except sqlite3.Error:
            return False
        try:
            return conn.execute("SELECT 1 FROM orders LIMIT 1").fetchone() is not None
        except sqlite3.Error:  # not made or migrated yet
            return False
        finally:
            conn.close()
    return False


def _hwm_mib(pid: int) -> float | None:
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open(f"/proc/{pid}/status") as f:
            kb = next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:"))
        return round(kb / 1024, 1)
    return None


def startup(timeout: float = 120.0) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tiller_bench_start_") as tmp:
        folder = Path(tmp)
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        cmd = [sys.executable, "-m", "app", "demo", "--speed", "0", "--quiet", "--data-dir", str(folder)]
        started = time.perf_counter()
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        first: float | None = None
        hwm: float | None = None
        try:
            while child.poll() is None:
                hwm = _hwm_mib(child.pid) or hwm
                if first is None and _first_order_seen(folder):
                    first = time.perf_counter() - started
                if time.perf_counter() - started > timeout:
                    raise TimeoutError(f"the demo did not finish within {timeout}s")
                time.sleep(POLL_S)
            whole = time.perf_counter() - started
        finally:
            if child.poll() is None:
                child.kill()
            err = child.communicate()[1]
        if child.returncode != 0:
            raise RuntimeError(
                f"the demo failed (rc={child.returncode}): {err.decode(errors='replace')[-2000:]}"
            )
        if first is None and _first_order_seen(folder):
            first = whole  # the run ended between two polls
        if first is None:
            raise AssertionError("the demo placed no order")
    return {"first_order_s": round(first, 3), "demo_run_s": round(whole, 3), "demo_hwm_mib": hwm}
