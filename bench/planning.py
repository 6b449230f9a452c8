"""Bench: planning a 300-line batch over a 5,500-instrument market (target ≤ 20 ms).

The planner as the plan desk calls it: two followed strategies, a per-strategy sub-ledger holding
the codes the sells name, a market of `instruments` codes, lines a third sells and the rest buys, a
cash budget that makes the pro-rata scaling run.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.planning.ledger import StrategyLedger, StrategyPosition
from app.core.planning.model import AllotKind, PlanLine, StrategySettings
from app.core.planning.planner import PlanInputs, plan
from app.domain.fees import FeeSchedule
from app.domain.market import InstrumentInfo
from app.domain.positions import Position
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine

DAY = date(2026, 11, 23)


@dataclass
class Case:
    batches: list[SignalBatch]
    strategies: dict[str, StrategySettings]
    inputs: PlanInputs


def _codes(n: int) -> list[str]:
    out = [f"{600000 + i:06d}.SH" for i in range(min(n, 3000))]
    out += [f"{i:06d}.SZ" for i in range(1, n - len(out) + 1)]
    return out[:n]


def make_case(lines: int = 300, instruments: int = 5_500) -> Case:
    codes = _codes(instruments)
    infos: dict[str, InstrumentInfo] = {}
    for i, code in enumerate(codes):
        prev = Decimal(5 + i % 50) + Decimal("0.37")
        up, down = (
            (prev * Decimal("1.1")).quantize(Decimal("0.01")),
            (prev * Decimal("0.9")).quantize(Decimal("0.01")),
        )
        infos[code] = InstrumentInfo(code, code, DAY, prev, up, down, Decimal("0.01"))
    ledger = StrategyLedger()
    positions: dict[str, Position] = {}
    batches: dict[str, list[SignalLine]] = {"s1": [], "s2": []}
    for i in range(lines):
        strategy = "s1" if i % 2 else "s2"
        code = codes[(i * 17) % len(codes)]
        side = Side.SELL if i % 3 == 0 else Side.BUY
        if side is Side.SELL:
            ledger._put(StrategyPosition(strategy, code, 1500, 1500))
            positions[code] = Position(code, "", 3000, 3000)
        batches[strategy].append(
            SignalLine(str(i), strategy, DAY, code, "", side, 300 + (i % 7) * 150, None, OPEN)
        )
    strategies = {
        s: StrategySettings(s, Decimal(1_000_000), AllotKind.RATIO, Decimal("0.8")) for s in batches
    }
    inputs = PlanInputs(
        instruments=infos,
        last_prices={c: i.prev_close for c, i in infos.items()},
        strategy_sellable=lambda s, c: ledger.sellable(s, c, positions.get(c), ()),
        account_sellable={c: p.sellable for c, p in positions.items()},
        strategy_holding=lambda s, c: 0,
        strategy_codes=lambda s: (),
        cash_budget=Decimal(300_000),
        investor_capital=Decimal(2_000_000),
        fees=FeeSchedule(),
    )
    return Case([SignalBatch(s, DAY, tuple(x)) for s, x in batches.items()], strategies, inputs)


def run_case(case: Case) -> list[PlanLine]:
    return plan(case.batches, case.strategies, case.inputs)


def bench(instruments: int, lines: int = 300, rounds: int = 30) -> dict[str, Any]:
    case = make_case(lines, instruments)
    run_case(case)  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        out = run_case(case)
        times.append((time.perf_counter() - started) * 1000)
    return {
        "lines": lines,
        "instruments": instruments,
        "planned": sum(1 for x in out if not x.skipped),
        "plan_ms": {"p50_ms": round(statistics.median(times), 3), "max_ms": round(max(times), 3)},
    }
