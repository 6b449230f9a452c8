"""The runtime path does not import sqlite-utils (which imports pandas and numpy where installed:
about half a second of start and 50 MiB of memory); only Database.db, kept for scripts and tests,
brings it in when used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import sys
from datetime import datetime
import app.bootstrap, app.demo, app.headless, app.__main__
from app.domain.clock import CN_TZ
from app.storage import open_database
from app.storage.oms_store import SqliteOmsStore

now = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)
store = SqliteOmsStore(open_database(sys.argv[1], now=now))  # created and migrated
store.stage_alert(now, "info", "test", "hello")
store.commit()
store.close()
store = SqliteOmsStore(open_database(sys.argv[1], now=now))  # opened again, checked
heavy = sorted(m for m in ("sqlite_utils", "pandas", "numpy") if m in sys.modules)
print("HEAVY", ",".join(heavy))
database = store.database
assert database.db["alerts"].count == 1  # the wrapper still works when asked for
print("AFTER", "sqlite_utils" in sys.modules)
store.close()
"""


def test_opening_migrating_and_committing_import_no_sqlite_utils_nor_pandas(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(tmp_path / "tiller.db")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    assert lines.get("HEAVY", "").strip() == ""
    assert lines["AFTER"] == "True"
