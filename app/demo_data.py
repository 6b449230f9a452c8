"""The demo's data, for everything that runs a simulated day on it (`python -m app demo`, the headless
day's and the window's simulated setups): the bundled batches and opening positions, and the
instruments a day on them needs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal

from app.devserver.server import DEMO_FILES
from app.domain.instruments import classify
from app.domain.prices import round_to_tick
from app.domain.signals import SignalBatch
from app.feeds.universe import InstrumentSpec
from app.resources import resource_path

# the two strategies' batches the local server serves (app/devserver/server.py DEMO_FILES, serve-dev --demo)
DEMO_BATCHES = tuple(resource_path(*parts) for parts in DEMO_FILES)
DEMO_BATCH = DEMO_BATCHES[0]  # strategy A (BigQuant's own sample); strategy B's is DEMO_BATCHES[1]
DEMO_POSITIONS = resource_path("demo", "positions.json")
# the two demo strategies' BigQuant ids (as in DEMO_BATCHES) and the names the investor gave them
STRATEGY_A = "aec3e784-5c1e-4b0d-9f2a-3d6c1b7e9a10"
STRATEGY_B = "5f1c9b2e-7d3a-4c8e-a6b4-2e9d0f3c1a77"
STRATEGY_NAMES = {STRATEGY_A: "动量精选 (A)", STRATEGY_B: "红利低波 (B)"}
# the codes the demo's hand-typed orders use, at their reference prices
MANUAL_CODES = {"600036.SH": Decimal("41.20"), "600000.SH": Decimal("10.05"), "601857.SH": Decimal("8.20")}


def demo_positions() -> list[tuple[str, int, Decimal, Decimal]]:
    """(code, qty, cost, last price) of the demo account's opening positions."""
    items = json.loads(DEMO_POSITIONS.read_text(encoding="utf-8"))["data"]["items"]
    return [
        (i["instrument"], int(i["current_qty"]), Decimal(str(i["cost_price"])), Decimal(str(i["last_price"])))
        for i in items
    ]


def instrument_specs(
    batches: SignalBatch | Sequence[SignalBatch], positions: Sequence[tuple[str, int, Decimal, Decimal]]
) -> list[InstrumentSpec]:
    """The instruments of a day on `batches` and `positions` (and the hand-typed orders' codes), each
    at its reference price: a line's, else the position's last price."""
    prev: dict[str, tuple[str, Decimal]] = {}
    for batch in [batches] if isinstance(batches, SignalBatch) else batches:
        for line in batch.lines:
            if line.ref_price is not None and line.code not in prev:
                tick = classify(line.code).tick
                prev[line.code] = (line.name, round_to_tick(line.ref_price, tick))
    for code, _, _, last in positions:
        prev.setdefault(code, ("", last))
    for code, price in MANUAL_CODES.items():
        prev.setdefault(code, ("", price))
    return [InstrumentSpec(code, name=name, prev_close=price) for code, (name, price) in prev.items()]
