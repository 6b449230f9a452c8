"""The plan survives SIGKILL at any moment: a process planning, approving, pausing, editing and
skipping on a simulated session is killed and restarted on the same folder; at the end every plan
line handed to execution has exactly one child order (a handed line and its children are committed
together, and no restart, re-fetch or re-plan hands a line again), a line not handed has none, and
every planned order taken in is in the plan once."""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import time as wall
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHILD = [sys.executable, "-m", "tests.helpers.plan_session"]
TIMEOUT = 60.0


def run_child(data_dir: Path, run: int, *, final: bool = False, kill_after: float | None = None) -> str:
    args = [*CHILD, "--data-dir", str(data_dir), "--run", str(run)] + (["--final"] if final else [])
    proc = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    if kill_after is not None:
        line = proc.stdout.readline()  # "running" (or nothing if it died)
        if line.startswith("running"):
            wall.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=TIMEOUT)
    if kill_after is None:
        assert proc.returncode == 0, err[-3000:]
    else:
        assert proc.returncode == -signal.SIGKILL, err[-3000:]
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_plan_lines_are_handed_once_across_kills(tmp_path: Path) -> None:
    rng = random.Random(7)
    for run in range(3):
        run_child(tmp_path, run, kill_after=rng.uniform(0.05, 1.5))
    assert "final" in run_child(tmp_path, 3, final=True)

    (db,) = [p for p in tmp_path.glob("tiller-sim-*.db") if not p.name.endswith("-broker.db")]
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        lines = dict(
            conn.execute("SELECT line_id, state FROM plan_lines WHERE strategy_id = 's1'").fetchall()
        )
        children: dict[str, int] = {}
        for (signal_id,) in conn.execute("SELECT signal_id FROM orders WHERE signal_id != ''"):
            children[signal_id] = children.get(signal_id, 0) + 1
        taken = {s for (s,) in conn.execute("SELECT signal_id FROM signal_lines WHERE strategy_id = 's1'")}
    finally:
        conn.close()
    assert lines, "nothing was planned"
    assert set(lines) == taken  # every line taken in is planned, once (the primary key)
    handed = {i for i, state in lines.items() if state == "handed"}
    assert handed, "nothing was handed"
    assert {i: children.get(i, 0) for i in handed} == dict.fromkeys(handed, 1)
    assert set(children) == handed  # no child of a line not handed, none of an unknown line
