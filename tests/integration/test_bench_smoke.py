"""bench/run.py still runs: its Tiller side, tiny sizes, in a subprocess (no timing is asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_run_quick_without_peer_writes_every_figure(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--no-peer", "--runs", "1",
         "--orders", "200", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]

    report = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert (out / "latest.md").read_text(encoding="utf-8").startswith("# Tiller vs vn.py")
    assert report["meta"]["quick"] is True
    assert report["meta"]["sizes"]["orders"] == 200
    assert "PUBLISHED" in report["meta"]["vnpy"]["source"]  # --no-peer compares with the README's figures

    scenarios = report["tiller"]
    assert set(scenarios) >= {
        "burst:durable", "burst:memory", "burst_batch:durable", "burst_batch:memory", "burst:instant",
        "pingpong:durable", "pingpong:memory", "pingpong:instant", "paced:durable", "paced:memory",
        "ticks:xt:batched", "ticks:xt:single", "ticks:fields:batched", "ticks:fields:single",
        "ticks:prebuilt:batched", "ticks:prebuilt:single", "snapshot",
    }  # fmt: skip
    for name in ("burst:durable", "burst:memory", "burst_batch:durable", "burst:instant"):
        (run,) = scenarios[name]["runs"]
        assert run["filled_in_oms"] == 200, name  # every order filled and booked, none rejected
    for name, entry in scenarios.items():
        (run,) = entry["runs"]
        assert run["scenario"] == name
        rate = run.get("e2e_orders_per_s") or run.get("ticks_per_s")
        if rate is not None:
            assert rate > 0, name

    figures = report["figures"]
    assert len(figures) >= 25
    for row in figures:
        assert isinstance(row["tiller"], int | float) and row["tiller"] > 0, row["figure"]
        assert row["met"] in (True, False, None)
    with_target = [r for r in figures if r["target"].startswith("≥") or r["target"].startswith("≤")]
    assert with_target and all(r["met"] is not None for r in with_target)
