#!/usr/bin/env python3
"""Tiller's benchmarks side by side with vn.py's, in one run on one machine.

    python bench/run.py                 # 3 rounds of Tiller then vn.py (medians), side-by-side table
    python bench/run.py --runs 1        # faster
    python bench/run.py --quick --no-peer --runs 1 --out /tmp/x   # smoke run (all scenarios tiny)
    python bench/run.py --vnpy-python /path/to/.venv-vnpy/bin/python

Every Tiller scenario runs in a fresh child process per run (`python -m bench.child ...`), as
vnpy_peer.py does for vn.py, so imports and memory count the same way. Each round runs every Tiller
scenario once, then every peer scenario once, so drift of a shared machine weighs on both sides. `--quick` runs all Tiller
scenarios in ONE child with tiny sizes: a smoke run whose figures mean nothing.

The peer is vnpy_peer.py (default: ../shared/bench/vnpy_peer.py beside the repository), run with
the vn.py venv's Python (default: ../.venv-vnpy/bin/python); without them the table compares with
the figures published in the peer's README, labelled so. Writes <out>/latest.json and latest.md
(default out: bench/results). Standard library only: the driver imports nothing of Tiller.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PEER_SCRIPT = ROOT.parent / "shared" / "bench" / "vnpy_peer.py"
DEFAULT_VNPY_PYTHON = ROOT.parent / ".venv-vnpy" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
RESULTS = ROOT / "bench" / "results"

sys.path.insert(0, str(ROOT))
from bench.child import SCENARIOS as CHILD_SCENARIOS  # noqa: E402  (stdlib-only module)

SCENARIOS = CHILD_SCENARIOS  # one list: what the child can run
FULL = {
    "orders": 10_000,
    "pingpong": 2_000,
    "paced": 5_000,
    "rate": 1000.0,
    "warmup": 200,
    "ticks": 100_000,
    "tick_codes": 500,
    "snapshot_codes": 5_500,
    "snapshots": 10,
}
QUICK = {
    "orders": 300,
    "pingpong": 100,
    "paced": 200,
    "rate": 1000.0,
    "warmup": 20,
    "ticks": 5_000,
    "tick_codes": 500,
    "snapshot_codes": 600,
    "snapshots": 2,
}
# What shared/bench/README.md published for vn.py (medians of three, 2-core machine). Used only
# when the peer cannot run here, and then labelled as published figures, not this run's.
PUBLISHED = {
    "default": {
        "burst": {"e2e_orders_per_s": 2199.0},
        "pingpong": {"latency.p50_us": 470.0, "latency.p99_us": 742.0},
        "paced": {"latency.p50_us": 477.0, "latency.p99_us": 828.0},
        "ticks_gen": {"ticks_per_s": 23607.0, "rss_mib_after_ticks": 101.0},
        "ticks_prebuilt": {"ticks_per_s": 50490.0},
    },
    "no_persist": {
        "burst": {"e2e_orders_per_s": 5472.0},
        "pingpong": {"latency.p50_us": 116.0, "latency.p99_us": 196.0},
        "paced": {"latency.p50_us": 167.0, "latency.p99_us": 329.0},
    },
}
PEER_SETUP = """\
The vn.py peer was not run. To set it up (Python 3.11, PyPI only; see shared/bench/README.md):
    python3.11 -m venv .venv-vnpy
    .venv-vnpy/bin/pip install vnpy==4.5.0 vnpy_riskmanager==2.0.0 vnpy_paperaccount==1.0.6
then: python bench/run.py --vnpy-python .venv-vnpy/bin/python [--peer-script .../vnpy_peer.py]
The table below compares with the figures PUBLISHED in the peer's README, not measured here."""


# ---------------------------------------------------------------------------- helpers
def flatten(d: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in d.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out |= flatten(value, name + ".")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[name] = value
    return out


def summarize(runs: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    flat = [flatten(r) for r in runs]
    keys = [k for k in flat[0] if all(k in f for f in flat)]
    return {
        k: {
            "min": min(f[k] for f in flat),
            "median": statistics.median(f[k] for f in flat),
            "max": max(f[k] for f in flat),
        }
        for k in keys
    }


def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or ""
    mem = None
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu)
        with open("/proc/meminfo") as f:
            kb = next(int(ln.split()[1]) for ln in f if ln.startswith("MemTotal:"))
            mem = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpus": os.cpu_count(),
        "memory_gib": mem,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
    }


def tiller_versions() -> dict[str, Any]:
    text = (ROOT / "app" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    out: dict[str, Any] = {"tiller": found.group(1) if found else None}
    for package in ("sqlite-utils", "pandas", "numpy"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = None
    out["git"] = _git("rev-parse", "--short", "HEAD")
    status = _git("status", "--porcelain")
    out["git_dirty_files"] = None if status is None else len(status.splitlines())
    return out


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def size_args(sizes: dict[str, Any]) -> list[str]:
    out = []
    for key, value in sizes.items():
        out += [f"--{key.replace('_', '-')}", str(value)]
    return out


# ---------------------------------------------------------------------------- Tiller side
def run_child(scenarios: list[str], sizes: dict[str, Any], timeout: float) -> list[dict[str, Any]]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    cmd = [sys.executable, "-m", "bench.child", *scenarios, *size_args(sizes)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT_JSON ")]
    if done.returncode != 0 or len(lines) != len(scenarios):
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-5000:])
        raise SystemExit(f"Tiller child {' '.join(scenarios)} failed (rc={done.returncode})")
    return [json.loads(ln[len("RESULT_JSON ") :]) for ln in lines]


def run_tiller_round(
    args: argparse.Namespace, sizes: dict[str, Any], r: int, runs: dict[str, list[dict[str, Any]]]
) -> None:
    """Round r: every scenario once, each in its own child (all in one child with --quick)."""
    scenarios = [s for s in SCENARIOS if s in args.scenarios]
    if args.quick:
        if not args.scenarios_named:  # the demo's start takes seconds: only when asked for
            scenarios = [s for s in scenarios if s != "startup"]
        for result in run_child(scenarios, sizes, args.child_timeout):
            runs.setdefault(result["scenario"], []).append(result)
        print(f"[tiller quick run {r + 1}/{args.runs}] {len(scenarios)} scenarios", flush=True)
        return
    for scenario in scenarios:
        (result,) = run_child([scenario], sizes, args.child_timeout)
        runs.setdefault(scenario, []).append(result)
        print(f"[tiller {scenario} run {r + 1}/{args.runs}] {headline(result)}", flush=True)


def headline(result: dict[str, Any]) -> str:
    flat = flatten(result)
    keys = [
        "e2e_orders_per_s",
        "latency.p50_us",
        "latency.p99_us",
        "ticks_per_s",
        "engine_ms.p50_ms",
        "engine_ms.max_ms",
        "rss_mib_after_ticks",
        "rss_mib_after",
    ]
    return ", ".join(f"{k}={flat[k]}" for k in keys if k in flat)


# ---------------------------------------------------------------------------- vn.py side
def peer_paths(args: argparse.Namespace) -> tuple[Path, Path] | None:
    """(python, script) of the vn.py peer, or None (after printing how to set it up)."""
    if args.no_peer:
        return None
    python = Path(args.vnpy_python) if args.vnpy_python else DEFAULT_VNPY_PYTHON
    script = Path(args.peer_script) if args.peer_script else DEFAULT_PEER_SCRIPT
    if not python.exists() or not script.exists():
        missing = python if not python.exists() else script
        print(f"\n{PEER_SETUP}\n(missing: {missing})\n", flush=True)
        return None
    return python, script


PEER_VARIANTS = (
    ("default", ["--scenarios", "burst,pingpong,paced,ticks_gen,ticks_prebuilt"]),
    ("no_persist", ["--no-persist", "--scenarios", "burst,pingpong,paced"]),
)


def run_peer_round(
    args: argparse.Namespace, sizes: dict[str, Any], paths: tuple[Path, Path], workdir: Path, r: int
) -> dict[str, Any]:
    """One run of each peer scenario (the peer's own driver with --runs 1), both variants."""
    python, script = paths
    common = [
        "--runs", "1", "--orders", str(sizes["orders"]), "--pingpong", str(sizes["pingpong"]),
        "--paced", str(sizes["paced"]), "--rate", str(sizes["rate"]), "--warmup", str(sizes["warmup"]),
        "--ticks", str(sizes["ticks"]), "--tick-symbols", str(sizes["tick_codes"]),
    ]  # fmt: skip
    out: dict[str, Any] = {}
    for variant, extra in PEER_VARIANTS:
        target = workdir / f"vnpy_{variant}_{r + 1}.json"
        cmd = [str(python), str(script), *common, *extra, "--json", str(target)]
        done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=args.peer_timeout)
        if done.returncode != 0 or not target.exists():
            sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
            raise SystemExit(f"the vn.py peer ({variant}) failed (rc={done.returncode}): {' '.join(cmd)}")
        for line in done.stdout.splitlines():
            if line.startswith("["):
                print(f"[vn.py {variant}] {line.replace('run 1/1', f'run {r + 1}/{args.runs}')}", flush=True)
        out[variant] = json.loads(target.read_text(encoding="utf-8"))
    # vnpy_riskmanager's own cost per order, beside Tiller's risk gate (bench/vnpy_risk.py)
    cmd = [str(python), str(ROOT / "bench" / "vnpy_risk.py"), "--peer-script", str(script),
           "--orders", str(min(sizes["orders"], 4_000))]  # fmt: skip
    done = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=args.peer_timeout)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT_JSON ")]
    if done.returncode != 0 or not lines:
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
        raise SystemExit(f"the vn.py risk-cost run failed (rc={done.returncode}): {' '.join(cmd)}")
    result = json.loads(lines[-1][len("RESULT_JSON ") :])
    print(f"[vn.py risk_cost run {r + 1}/{args.runs}] check {result['check_us_per_order']} µs, "
          f"with its order/trade handlers {result['lifetime_us_per_order']} µs per order", flush=True)  # fmt: skip
    out["risk"] = {"meta": {}, "runs": {"risk_cost": [result]}}
    return out


def merge_peer(rounds: list[dict[str, Any]], paths: tuple[Path, Path]) -> dict[str, Any]:
    """The rounds' peer results as one: every run kept, medians over them."""
    merged: dict[str, Any] = {"python": str(paths[0]), "script": str(paths[1])}
    for variant in [v for v, _ in PEER_VARIANTS] + ["risk"]:
        runs: dict[str, list[dict[str, Any]]] = {}
        for one in rounds:
            for scenario, results in one[variant]["runs"].items():
                runs.setdefault(scenario, []).extend(results)
        merged[variant] = {
            "meta": rounds[0][variant]["meta"],
            "summary": {scenario: summarize(results) for scenario, results in runs.items()},
            "runs": runs,
        }
    return merged


# ---------------------------------------------------------------------------- the table
Check = Callable[[float, "float | None", "float | None"], bool]


def figures(
    tiller: dict[str, Any], peer: dict[str, Any] | None, sizes: dict[str, Any]
) -> list[dict[str, Any]]:
    """The table's rows. A ratio is taken per round (Tiller's run of round r over vn.py's run of the
    same round: paired, both sides under the same drift of the machine) and the rows give the median
    of those ratios beside the list; targets are judged on that median. With the PUBLISHED peer
    figures there are no rounds, and the ratio is of the medians, labelled so."""
    published = peer is None

    def t_runs(scenario: str, metric: str) -> list[float]:
        entry = tiller.get(scenario)
        if entry is None:
            return []
        flat = [flatten(r) for r in entry["runs"]]
        return [f[metric] for f in flat if metric in f]

    def v_runs(variant: str, scenario: str, metric: str) -> list[float]:
        if peer is None:
            value = PUBLISHED.get(variant, {}).get(scenario, {}).get(metric)
            return [] if value is None else [value]
        flat = [flatten(r) for r in peer[variant]["runs"].get(scenario, [])]
        return [f[metric] for f in flat if metric in f]

    rows: list[dict[str, Any]] = []

    def row(
        figure: str,
        unit: str,
        tiller_runs: list[float],
        vnpy_runs: list[float],
        target: str = "—",
        check: Check | None = None,
        note: str = "",
    ) -> None:
        if not tiller_runs:
            return  # a scenario not run this time (--scenarios, or startup under --quick)
        tv = statistics.median(tiller_runs)
        vv = statistics.median(vnpy_runs) if vnpy_runs else None
        ratios: list[float] = []
        if tiller_runs and vnpy_runs:
            if published or len(tiller_runs) != len(vnpy_runs):
                ratios = [tv / vv] if vv else []  # type: ignore[operator]
            else:
                ratios = [a / b for a, b in zip(tiller_runs, vnpy_runs, strict=True) if b]
        ratio = _sig(statistics.median(ratios)) if ratios else None
        met: bool | None = None
        if check is not None:
            try:
                met = check(tv, vv, ratio)
            except TypeError:  # no vn.py figure to compare with
                met = None
        rows.append(
            {
                "figure": figure,
                "unit": unit,
                "tiller": tv,
                "vnpy": vv,
                "ratio": ratio,
                "ratios": [_sig(r) for r in ratios] if not published else [],
                "target": target,
                "met": met,
                "note": note,
            }
        )

    def times(k: float) -> Check:
        return lambda _tv, _vv, ratio: ratio >= k  # type: ignore[operator]

    def at_most_ratio(k: float) -> Check:
        return lambda _tv, _vv, ratio: ratio <= k  # type: ignore[operator]

    def at_most(limit: float) -> Check:
        return lambda tv, _vv, _ratio: tv <= limit

    def at_most_and_below_peer(limit: float) -> Check:
        return lambda tv, _vv, ratio: tv <= limit and ratio < 1  # type: ignore[operator]

    def below_peer(_tv: float, _vv: float | None, ratio: float | None) -> bool:
        return ratio < 1  # type: ignore[operator]

    T, V = t_runs, v_runs
    n_orders, n_ticks = f"{sizes['orders']:,}", f"{sizes['ticks']:,} ticks/{sizes['tick_codes']} codes"
    row(f"burst of {n_orders} orders, durable: first send → last trade booked", "orders/s",
        T("burst:durable", "e2e_orders_per_s"), V("default", "burst", "e2e_orders_per_s"),
        "≥ 10× vn.py default", times(10),
        "measures group commit (thousands of orders per transaction): a real advantage, but not the "
        "per-order durable cost; that is the one-in-flight durable row")  # fmt: skip
    row("burst, no persistence (memory store, simulated broker in memory: no file)", "orders/s",
        T("burst:memory", "e2e_orders_per_s"), V("no_persist", "burst", "e2e_orders_per_s"),
        "≥ 4× vn.py --no-persist", times(4))  # fmt: skip
    row("one order in flight, durable: p99", "µs",
        T("pingpong:durable", "latency.p99_us"), V("default", "pingpong", "latency.p99_us"),
        "≤ 2,000 µs and below vn.py", at_most_and_below_peer(2000),
        "the fair per-order durable comparison: every order is its own commit on both sides")  # fmt: skip
    row("one order in flight, durable: p50", "µs",
        T("pingpong:durable", "latency.p50_us"), V("default", "pingpong", "latency.p50_us"),
        "(below vn.py, info)", None)  # fmt: skip
    row("one order in flight, memory: p50", "µs",
        T("pingpong:memory", "latency.p50_us"), V("no_persist", "pingpong", "latency.p50_us"),
        "≤ ½ vn.py --no-persist", at_most_ratio(0.5))  # fmt: skip
    row("one order in flight, memory: p99", "µs",
        T("pingpong:memory", "latency.p99_us"), V("no_persist", "pingpong", "latency.p99_us"),
        "≤ ½ vn.py --no-persist", at_most_ratio(0.5))  # fmt: skip
    for setup, variant in (("durable", "default"), ("memory", "no_persist")):
        for p in ("p50", "p99"):
            row(f"steady 1,000 orders/s, {setup}: {p}", "µs",
                T(f"paced:{setup}", f"latency.{p}_us"), V(variant, "paced", f"latency.{p}_us"), "(info)")  # fmt: skip
    row("burst as ONE SubmitOrders message, durable", "orders/s",
        T("burst_batch:durable", "e2e_orders_per_s"), [], "(info)", None,
        "vn.py has no batch submit: no counterpart")  # fmt: skip
    row("burst as ONE SubmitOrders message, memory", "orders/s",
        T("burst_batch:memory", "e2e_orders_per_s"), [], "(info)")  # fmt: skip
    row("diagnostic: burst with an instant broker (engine + OMS + risk gate + memory store)", "orders/s",
        T("burst:instant", "e2e_orders_per_s"), [], "(info)", None,
        "no simulated broker: the engine's and OMS's own ceiling; no vn.py counterpart")  # fmt: skip
    row("diagnostic: one order in flight, instant broker: p50", "µs",
        T("pingpong:instant", "latency.p50_us"), [], "(info)")  # fmt: skip
    row("diagnostic: one order in flight, instant broker: p99", "µs",
        T("pingpong:instant", "latency.p99_us"), [], "(info)")  # fmt: skip
    ticks_gen, prebuilt = (
        V("default", "ticks_gen", "ticks_per_s"),
        V("default", "ticks_prebuilt", "ticks_per_s"),
    )
    row(f"{n_ticks}: Quote(**fields) built while pushing (ticks_gen's work), whole-market callbacks",
        "ticks/s", T("ticks:fields:batched", "ticks_per_s"), ticks_gen, "(≥ 10× vn.py ticks_gen, info)",
        times(10), "vn.py's gateway hands one tick per event; a whole-market callback is Tiller's way")  # fmt: skip
    row(f"{n_ticks}: Quote(**fields) built while pushing, one per message (ticks_gen's shape)", "ticks/s",
        T("ticks:fields:single", "ticks_per_s"), ticks_gen, "(≥ 10× vn.py ticks_gen, info)", times(10))  # fmt: skip
    row(f"{n_ticks}: Quotes built beforehand, whole-market callbacks", "ticks/s",
        T("ticks:prebuilt:batched", "ticks_per_s"), prebuilt, "(≥ 10× vn.py ticks_prebuilt, info)", times(10))  # fmt: skip
    row(f"{n_ticks}: Quotes built beforehand, one per message (ticks_prebuilt's shape)", "ticks/s",
        T("ticks:prebuilt:single", "ticks_per_s"), prebuilt, "(≥ 10× vn.py ticks_prebuilt, info)", times(10))  # fmt: skip
    row(f"{n_ticks}: xtdata dicts converted while pushing, whole-market callbacks", "ticks/s",
        T("ticks:xt:batched", "ticks_per_s"), [], "(info)", None,
        "includes xtdata float → Decimal conversion; the peer converts nothing: no counterpart")  # fmt: skip
    row(f"{n_ticks}: xtdata dicts converted while pushing, one quote per message", "ticks/s",
        T("ticks:xt:single", "ticks_per_s"), [], "(info)")  # fmt: skip
    n_snap = f"{sizes['snapshot_codes']:,}"
    row(f"full-market snapshot ({n_snap} codes), whole path: xtdata dicts converted + engine + simulated "
        "exchange: median", "ms", T("snapshot", "whole_path_ms.p50_ms"), [], "≤ 20 ms", at_most(20),
        "conversion on the feed thread, the engine (marks, gate, QuotesUpdated, AccountUpdated; 200 "
        "positions held) and the simulated exchange (matching, marks committed), both waited for")  # fmt: skip
    row("full-market snapshot, whole path: worst", "ms",
        T("snapshot", "whole_path_ms.max_ms"), [], "(≤ 20 ms, info)", at_most(20))  # fmt: skip
    row("full-market snapshot, the engine alone (Quotes built beforehand): median", "ms",
        T("snapshot", "engine_ms.p50_ms"), [], "(info)")  # fmt: skip
    row("snapshot from xtdata dicts: conversion + engine, first sight (cold)", "ms",
        T("snapshot", "xt_convert_and_engine_cold_ms.p50_ms"), [], "(info)")  # fmt: skip
    row("snapshot in the simulated exchange alone (matching + marks committed)", "ms",
        T("snapshot", "sim_exchange_ms.p50_ms"), [], "(info)")  # fmt: skip
    row("risk gate per order, every check on: Tiller check + accepted / vn.py check_allowed + its rules' "
        "order and trade handlers", "µs",
        T("risk_gate", "gate_us_per_order_all"), V("risk", "risk_cost", "lifetime_us_per_order"),
        "≤ 10 µs", at_most(10),
        "vn.py: vnpy_riskmanager 2.0 (Cython rules), the peer's settings, timed by bench/vnpy_risk.py; "
        "Tiller: RiskGate with bench/risk.py's every-check-on limits")  # fmt: skip
    row("risk check alone per order: Tiller RiskGate.check / vn.py RiskEngine.check_allowed", "µs",
        T("risk_gate", "check_us_per_order_all"), V("risk", "risk_cost", "check_us_per_order"),
        "(info)", None)  # fmt: skip
    row("risk gate per order (check + accepted), Tiller default [risk] settings", "µs",
        T("risk_gate", "gate_us_per_order_default"), [], "≤ 10 µs", at_most(10))  # fmt: skip
    row("OMS order path (create + end, memory store), orders/s WITHOUT the gate", "orders/s",
        T("risk_gate", "orders_per_s_none"), [], "(info)", None, "the three OMS rows: one process, "
        "interleaved rounds")  # fmt: skip
    row("OMS order path, orders/s WITH the gate (every check on)", "orders/s",
        T("risk_gate", "orders_per_s_all"), [], "(info)")  # fmt: skip
    row("OMS order path, orders/s WITH the gate (default [risk] settings)", "orders/s",
        T("risk_gate", "orders_per_s_default"), [], "(info)")  # fmt: skip
    row("gate added to the OMS order path, every check on (fastest rounds)", "µs",
        T("risk_gate", "create_us_added_best_all"), [], "(≤ 10 µs, info)", None,
        "difference of two timings: noisy, may even be negative")  # fmt: skip
    row(f"planning a 300-line batch over a {n_snap}-instrument market: median", "ms",
        T("plan", "plan_ms.p50_ms"), [], "≤ 20 ms", at_most(20))  # fmt: skip
    row("start to ready: `python -m app demo --speed 0` to its first order", "s",
        T("startup", "first_order_s"), [], "(reported)", None)  # fmt: skip
    row("memory (RSS) of the headless engine after the burst, durable / vn.py default", "MiB",
        T("burst:durable", "rss_mib_after"), V("default", "burst", "rss_mib_after"), "below vn.py",
        below_peer)  # fmt: skip
    row("memory after the tick run (RSS; Tiller: Quote(**fields), one per message; vn.py: ticks_gen)", "MiB",
        T("ticks:fields:single", "rss_mib_after_ticks"), V("default", "ticks_gen", "rss_mib_after_ticks"),
        "below vn.py", below_peer)  # fmt: skip
    return rows


def _sig(x: float) -> float:
    """Two decimals, or three significant digits below 0.1 (a ratio of 0.0028 is not 0)."""
    return round(x, 2) if abs(x) >= 0.1 else float(f"{x:.3g}")


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if unit in ("orders/s", "ticks/s"):
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def markdown(report: dict[str, Any]) -> str:
    meta = report["meta"]
    peer_label = meta["vnpy"]["source"]
    lines = [
        "# Tiller vs vn.py — benchmark results",
        "",
        f"Date: {meta['date']}  ",
        f"Machine: {meta['machine']['cpu']}, {meta['machine']['cpus']} CPUs, "
        f"{meta['machine']['memory_gib']} GiB, {meta['machine']['platform']}  ",
        f"Python {meta['machine']['python']}, SQLite {meta['machine']['sqlite']}; Tiller "
        f"{meta['tiller']['tiller']} (git {meta['tiller']['git']}, {meta['tiller']['git_dirty_files']} files "
        f"uncommitted), sqlite-utils {meta['tiller']['sqlite-utils']}  ",
        f"vn.py: {peer_label}"
        + (f" — {meta['vnpy'].get('versions')}" if meta["vnpy"].get("versions") else ""),
        "  ",
        f"Runs: {meta['runs']} per scenario, fresh child process each (medians)"
        + (" — QUICK smoke run, one child for everything: figures mean nothing" if meta["quick"] else ""),
        "  ",
        f"Load average before / after: {meta['loadavg_before']} / {meta['loadavg_after']} "
        "(other work on the machine makes figures noisy; differences under ~20 % are noise)",
        "",
        "Tiller and vn.py: medians over the rounds. Tiller ÷ vn.py: the median of the per-round ratios "
        "(round r of Tiller over round r of vn.py, run back to back), each round's ratio beside it; "
        "targets are judged on that median. Both sides with their risk checks on.",
        "",
        "| figure | unit | Tiller | vn.py | Tiller ÷ vn.py | per round | target | met? |",
        "|---|---|---:|---:|---:|---|---|---|",
    ]
    for r in report["figures"]:
        met = {True: "**yes**", False: "**no**", None: "—"}[r["met"]]
        ratio = "—" if r["ratio"] is None else f"{r['ratio']:g}×"
        rounds = ", ".join(f"{x:g}" for x in r.get("ratios", [])) or "—"
        lines.append(
            f"| {r['figure']} | {r['unit']} | {fmt(r['tiller'], r['unit'])} | {fmt(r['vnpy'], r['unit'])} "
            f"| {ratio} | {rounds} | {r['target']} | {met} |"
        )
    notes = [r for r in report["figures"] if r["note"]]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {r['figure']}: {r['note']}" for r in notes]
    lines += ["", f"Sizes: {json.dumps(meta['sizes'])}", "", "## Tiller, per scenario (medians)", ""]
    for scenario, entry in report["tiller"].items():
        summary = entry["summary"]
        shown = {k: v["median"] for k, v in summary.items()}
        lines.append(f"- `{scenario}`: " + ", ".join(f"{k}={round(v, 2):,}" for k, v in shown.items()))
    lines.append("")
    return "\n".join(lines)


def print_table(rows: list[dict[str, Any]], peer_label: str) -> None:
    head = ("figure", "unit", "Tiller", "vn.py", "× (paired)", "per round", "target", "met?")
    body = [
        (
            r["figure"],
            r["unit"],
            fmt(r["tiller"], r["unit"]),
            fmt(r["vnpy"], r["unit"]),
            "—" if r["ratio"] is None else f"{r['ratio']:g}",
            ", ".join(f"{x:g}" for x in r.get("ratios", [])) or "—",
            r["target"],
            {True: "yes", False: "NO", None: "—"}[r["met"]],
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
    widths[0] = min(widths[0], 80)
    print(f"\nvn.py figures: {peer_label}")
    for line in (head, *body):
        cells = [str(c)[: widths[i]].ljust(widths[i]) if i in (0, 1, 5, 6) else str(c).rjust(widths[i])
                 for i, c in enumerate(line)]  # fmt: skip
        print(" | ".join(cells))


# ---------------------------------------------------------------------------- main
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=3, help="runs per scenario (median); default 3")
    p.add_argument("--quick", action="store_true", help="tiny sizes, one child for all Tiller scenarios")
    p.add_argument("--no-peer", action="store_true", help="do not run vn.py (compare with published figures)")
    p.add_argument("--vnpy-python", help=f"the vn.py venv's python (default {DEFAULT_VNPY_PYTHON})")
    p.add_argument("--peer-script", help=f"vnpy_peer.py (default {DEFAULT_PEER_SCRIPT})")
    p.add_argument(
        "--scenarios",
        default=None,
        help=f"Tiller scenarios, comma-separated (default all: {', '.join(SCENARIOS)})",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="folder for latest.json and latest.md")
    p.add_argument("--child-timeout", type=float, default=600)
    p.add_argument("--peer-timeout", type=float, default=1200)
    for key, value in FULL.items():
        p.add_argument(f"--{key.replace('_', '-')}", type=type(value), default=None, help=f"default {value}")
    args = p.parse_args(argv)
    args.scenarios_named = args.scenarios is not None
    args.scenarios = [s.strip() for s in (args.scenarios or ",".join(SCENARIOS)).split(",") if s.strip()]
    unknown = [s for s in args.scenarios if s not in SCENARIOS]
    if unknown:
        p.error(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
    if args.runs < 1:
        p.error(f"--runs must be at least 1, was {args.runs}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = dict(QUICK if args.quick else FULL)
    for key in FULL:
        if getattr(args, key) is not None:
            sizes[key] = getattr(args, key)
    started = time.perf_counter()
    meta: dict[str, Any] = {
        "date": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "tiller": tiller_versions(),
        "runs": args.runs,
        "quick": args.quick,
        "sizes": sizes,
        "loadavg_before": loadavg(),
        "setups": {
            "durable": "SqliteOmsStore on a real file (WAL, synchronous=NORMAL) + the simulated broker's "
            "own file (WAL, synchronous=NORMAL)",
            "memory": "MemoryOmsStore + the simulated broker's books in an in-memory SQLite database: no "
            "file at all, like vn.py --no-persist",
            "risk": "Tiller: RiskGate with every check on at values that never bind (bench/rig.py "
            "BENCH_RISK); vn.py: vnpy_riskmanager with its five rules active (the peer's settings)",
            "fill_timestamp": "both clocks stop at the trade's event: Tiller's TradeBooked (published after "
            "the commit that booked it), vn.py's EVENT_TRADE handler registered after its OMS and risk "
            "manager",
        },
    }
    # Rounds interleave the two sides (Tiller's scenarios, then the peer's), so that a machine
    # slowing down or speeding up during the run weighs on both alike.
    paths = peer_paths(args)
    tiller_runs: dict[str, list[dict[str, Any]]] = {}
    peer_rounds: list[dict[str, Any]] = []
    workdir = Path(tempfile.mkdtemp(prefix="tiller_bench_peer_"))
    try:
        for r in range(args.runs):
            run_tiller_round(args, sizes, r, tiller_runs)
            if paths is not None:
                peer_rounds.append(run_peer_round(args, sizes, paths, workdir, r))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    tiller = {s: {"summary": summarize(rs), "runs": rs} for s, rs in tiller_runs.items()}
    peer = merge_peer(peer_rounds, paths) if paths is not None else None
    if peer is None:
        meta["vnpy"] = {"source": "PUBLISHED figures from shared/bench/README.md (not measured in this run)"}
    else:
        meta["vnpy"] = {
            "source": "measured in this run",
            "python": peer["python"],
            "script": peer["script"],
            "versions": peer["default"]["meta"].get("versions"),
        }
    meta["loadavg_after"] = loadavg()
    meta["wall_s"] = round(time.perf_counter() - started, 1)
    rows = figures(tiller, peer, sizes)
    report = {"meta": meta, "figures": rows, "tiller": tiller, "vnpy": peer}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.json").write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    (args.out / "latest.md").write_text(markdown(report), encoding="utf-8")
    print_table(rows, meta["vnpy"]["source"])
    print(f"\nwrote {args.out / 'latest.json'} and {args.out / 'latest.md'} in {meta['wall_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
