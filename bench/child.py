"""One benchmark child process: runs the named Tiller scenarios and prints one RESULT_JSON line each.

    python -m bench.child burst:durable [--orders 10000 ...]

bench/run.py starts one fresh child per scenario and run (as vnpy_peer.py does), so imports and
memory are counted the same way on both sides. Scenario names:

    burst:<setup>  burst_batch:<setup>  pingpong:<setup>  paced:<setup>
        setup: durable | memory | instant (a diagnostic: no broker, see bench/rig.py)
    ticks:<source>:<batched|single>   source: xt | fields | prebuilt (see bench/quotes.py)
    snapshot
    risk_gate   the risk gate's cost on OrderManager.create, with and without it (bench/risk.py)
    plan          (planning a 300-line batch over the snapshot's market)
    startup       `python -m app demo --speed 0` to its first order (bench/startup.py)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

SCENARIOS = (
    "burst:durable",
    "burst:memory",
    "burst_batch:durable",
    "burst_batch:memory",
    "pingpong:durable",
    "pingpong:memory",
    "burst:instant",
    "pingpong:instant",
    "paced:durable",
    "paced:memory",
    "ticks:xt:batched",
    "ticks:xt:single",
    "ticks:fields:batched",
    "ticks:fields:single",
    "ticks:prebuilt:batched",
    "ticks:prebuilt:single",
    "snapshot",
    "risk_gate",
    "plan",
    "startup",
)
# The tick and snapshot runs use the durable wiring: the application's real imports and store.
QUOTE_SETUP = "durable"


def run_scenario(name: str, args: argparse.Namespace) -> dict[str, Any]:
    from bench import orders, quotes
    from bench.rig import build_rig

    kind, _, rest = name.partition(":")
    started = time.perf_counter()
    if kind in ("burst", "burst_batch", "pingpong", "paced"):
        rig = build_rig(rest)
        try:
            if kind == "burst":
                result = orders.burst(rig, args.orders, args.warmup)
            elif kind == "burst_batch":
                result = orders.burst_one_message(rig, args.orders, args.warmup)
            elif kind == "pingpong":
                result = orders.pingpong(rig, args.pingpong, args.warmup)
            else:
                result = orders.paced(rig, args.paced, args.warmup, args.rate)
        finally:
            rig.close()
    elif kind == "ticks":
        source, _, mode = rest.partition(":")
        if mode not in ("batched", "single"):
            raise ValueError(f"tick mode must be batched or single, was {mode!r} in {name!r}")
        rig = build_rig(QUOTE_SETUP)
        try:
            result = quotes.ticks(rig, args.ticks, args.tick_codes, source=source, batched=mode == "batched")
        finally:
            rig.close()
    elif kind == "snapshot":
        infos = quotes.market_infos(args.snapshot_codes)
        snapshots = quotes.market_snapshots(infos, args.snapshots)
        rig = build_rig(QUOTE_SETUP, extra_codes=infos, positions=quotes.held_positions(infos, 200))
        try:
            result = quotes.snapshot(rig, infos, snapshots)
        finally:
            rig.close()
    elif kind == "risk_gate":
        from bench import risk

        result = risk.risk_gate(args.orders)
    elif kind == "plan":
        from bench import planning

        result = planning.bench(args.snapshot_codes)
    elif kind == "startup":
        from bench import startup

        result = startup.startup()
    else:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    result["scenario"] = name
    result["child_wall_s"] = round(time.perf_counter() - started, 2)
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenarios", nargs="+", help=f"any of {', '.join(SCENARIOS)}")
    p.add_argument("--orders", type=int, default=10_000)
    p.add_argument("--pingpong", type=int, default=2_000)
    p.add_argument("--paced", type=int, default=5_000)
    p.add_argument("--rate", type=float, default=1000.0)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--ticks", type=int, default=100_000)
    p.add_argument("--tick-codes", type=int, default=500)
    p.add_argument("--snapshot-codes", type=int, default=5_500)
    p.add_argument("--snapshots", type=int, default=10)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for name in args.scenarios:
        if name not in SCENARIOS:
            raise SystemExit(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    for name in args.scenarios:
        print("RESULT_JSON " + json.dumps(run_scenario(name, args), ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
