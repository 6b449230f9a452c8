"""bench/gui.py still runs: Tiller's side, a small market, a few snapshots, offscreen, in a subprocess
(no timing is asserted; the figures are bench/results/gui.*)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_gui_bench_without_peer_applies_every_snapshot_and_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "results"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "gui.py"), "--no-peer", "--instruments", "300",
         "--seconds", "0.6", "--interval", "0.2", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    report = json.loads((out / "gui.json").read_text(encoding="utf-8"))
    (tiller,) = report["results"]
    assert tiller["side"] == "tiller"
    assert tiller["snapshots_pushed"] == tiller["snapshots_applied"] == 3
    assert tiller["rows_watched"] == 200
    assert tiller["first_paint_s"] is not None and tiller["beats"] > 0
    assert report["meta"]["instruments"] == 300
    assert "GUI stall p99 (ms)" in (out / "gui.md").read_text(encoding="utf-8")
