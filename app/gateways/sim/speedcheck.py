"""How many orders a second the simulated broker alone processes (a self-check, not a test).

    python -m app.gateways.sim.speedcheck [--orders 10000] [--batch 1]

A burst of marketable limit buys on four codes with deep books, each filling at once: the time
from the first submit to the last report pushed (SubmitResponse, ACCEPTED, TradeReport, FILLED per
order), everything committed to the broker's file.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from app.core.clock import SimClock
from app.domain.clock import CN_TZ
from app.domain.identifiers import ClientOrderId
from app.domain.market import InstrumentInfo, Quote
from app.domain.reports import BrokerReport, SubmitOrder
from app.domain.side import Side
from app.gateways.sim.broker import SimulatedBroker

DAY = date(2026, 11, 23)
CODES = {
    "600000.SH": Decimal("10.00"),
    "000001.SZ": Decimal("12.00"),
    "601318.SH": Decimal("50.00"),
    "002594.SZ": Decimal("20.00"),
}
DEEP = 1_000_000_000


def run(n_orders: int, batch: int, folder: Path) -> tuple[float, int]:
    clock = SimClock(datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ))
    broker = SimulatedBroker(folder / "sim.sqlite", clock, initial_cash=Decimal("100000000000"))
    count = 0

    def handler(report: BrokerReport) -> None:
        nonlocal count
        count += 1

    broker.set_report_handler(handler)
    broker.connect()
    broker.begin_day(DAY)
    broker.set_instruments(
        [
            InstrumentInfo(
                code,
                code,
                DAY,
                pc,
                (pc * Decimal("1.1")).quantize(Decimal("0.01")),
                (pc * Decimal("0.9")).quantize(Decimal("0.01")),
                Decimal("0.01"),
            )
            for code, pc in CODES.items()
        ]
    )
    tick = Decimal("0.01")
    broker.on_quotes(
        [
            Quote(
                code, clock.now(), pc, pc, pc, pc, pc, 1_000_000, pc * 1_000_000,
                tuple(pc - tick * i for i in range(5)), (DEEP,) * 5,
                tuple(pc + tick * (i + 1) for i in range(5)), (DEEP,) * 5,
            )
            for code, pc in CODES.items()
        ]
    )  # fmt: skip
    broker.wait_idle()
    codes = list(CODES.items())
    orders = [
        SubmitOrder(ClientOrderId(f"B{i}"), codes[i % 4][0], Side.BUY, 100, codes[i % 4][1] + tick * 2)
        for i in range(n_orders)
    ]
    count = 0
    start = time.perf_counter()
    for i in range(0, n_orders, batch):
        broker.submit(orders[i : i + batch])
    broker.wait_idle(timeout=120)
    elapsed = time.perf_counter() - start
    trades = len(broker.query_trades())
    broker.close()
    assert trades == n_orders, f"expected {n_orders} fills, got {trades}"
    return elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1, help="orders per submit() call")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, reports = run(args.orders, args.batch, Path(tmp))
    print(
        f"{args.orders} orders (submit batches of {args.batch}) in {elapsed:.3f}s: "
        f"{args.orders / elapsed:,.0f} orders/s, {reports} reports pushed"
    )


if __name__ == "__main__":
    main()
