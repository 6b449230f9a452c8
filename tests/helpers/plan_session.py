"""The child program of the plan crash test: plans, approves, pauses, resumes, edits and skips on a
simulated session, meant to be SIGKILLed at any moment (tests/integration/test_plan_crash.py).

    python -m tests.helpers.plan_session --data-dir DIR --run N [--final]

Every run opens the same folder, re-fetches the day's batches (the earlier ones again, maybe a new
one), and does a seeded mix of interventions while the clock moves a second a step. The execution
service is the test double (one limit child per handed line). Prints `running` once trading, a
`step HH:MM:SS` per step, and `final` after a clean last run (--final: resume, approve, settle, stop).
"""

from __future__ import annotations

import argparse
import random
import sys
import time as wall
from datetime import datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from app.core.planning.model import PlanError, StrategySettings
from app.core.terminal import Terminal
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine
from tests.helpers.engine_day import DAY, at, make_setup, open_day, settle
from tests.helpers.execution import RecordingExecution

STRATEGY = StrategySettings("s1", Decimal("1000000"), price_offset=Decimal("0.01"))


def batches() -> list[SignalBatch]:
    out = []
    for k in range(6):
        lines = (
            SignalLine(f"{k}b", "s1", DAY, "600000.SH", "", Side.BUY, 100 * (k + 1), None, OPEN),
            SignalLine(f"{k}s", "s1", DAY, "000001.SZ", "", Side.SELL, 100 + 50 * k, None, OPEN),
            SignalLine(f"{k}c", "s1", DAY, "600000.SH", "", Side.BUY, 250, None, OPEN),
        )
        out.append(SignalBatch("s1", DAY, lines))
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--run", type=int, required=True)
    p.add_argument("--final", action="store_true")
    args = p.parse_args(argv)
    since = (datetime.combine(DAY, time(9, 30)) + timedelta(minutes=2 * args.run)).time()
    setup = make_setup(args.data_dir, 3, start=since)
    execution = RecordingExecution(setup.engine, place=True)
    setup.engine.execution = execution
    open_day(setup)
    terminal = Terminal(setup.engine)
    terminal.set_strategy(STRATEGY, who=f"run{args.run}")
    rng = random.Random(args.run)
    every = batches()
    print("running", flush=True)
    now = datetime.combine(DAY, since)
    for _ in range(8 if args.final else 60):
        terminal.plan_batches(every[: rng.randrange(1, len(every) + 1)])
        action = rng.choice(["approve", "approve", "pause_buys", "pause_sells", "resume", "edit", "skip"])
        try:
            if action == "approve":
                terminal.approve_plan(who="t")
            elif action == "pause_buys":
                terminal.pause_buys(who="t", cancel_working=rng.random() < 0.5)
            elif action == "pause_sells":
                terminal.pause_sells(who="t")
            elif action == "resume":
                terminal.resume(who="t")
            else:
                waiting = [x for x in terminal.plan().lines if x.state.value in ("planned", "approved")]
                if waiting:
                    line = rng.choice(waiting)
                    if action == "skip":
                        terminal.skip_line(line.line_id, who="t")
                    else:
                        terminal.edit_line(line.line_id, who="t", qty=max(100, line.qty - 100))
        except PlanError:
            pass
        now += timedelta(seconds=1)
        print(f"step {now.time().isoformat()}", flush=True)
        at(setup, now.time())
    if args.final:
        terminal.resume(who="final")
        terminal.approve_plan(who="final")
        settle(setup)
        print("final", flush=True)
        setup.close()
        return 0
    while True:  # wait to be killed
        wall.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
