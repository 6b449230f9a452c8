"""vnpy_riskmanager's cost per order, measured beside Tiller's risk gate (bench/risk.py).

Runs with the vn.py venv's Python (not Tiller's), one process, prints one RESULT_JSON line:

    /path/to/.venv-vnpy/bin/python bench/vnpy_risk.py --peer-script ../shared/bench/vnpy_peer.py

It builds the peer's headless stack with the peer's own `Bench` (imported from vnpy_peer.py, so
the risk settings are the peer's: all five rules active at limits of 10^9) and, on the peer's orders
(`Bench.order_req`), times what vnpy_riskmanager does for each order, in rounds, medians:

- `check_us_per_order`: `RiskEngine.check_allowed` (every active rule's check) on the caller's
  thread, as `MainEngine.send_order` runs it before the paper account;
- `events_us_per_order`: its handlers for the order's events on the event thread (the order as
  sent, the order all traded, the trade: each rule's `on_order` / `on_trade`, where it counts);
- `lifetime_us_per_order`: the two together, what Tiller's `check` + `accepted` is compared with.

Nothing is timed while vn.py's event thread has work (the queue is drained first).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any


def _peer(script: Path) -> Any:
    spec = importlib.util.spec_from_file_location("vnpy_peer", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(script: Path, n: int, rounds: int) -> dict[str, Any]:
    peer = _peer(script)
    b = peer.Bench(persist=False)
    try:
        b.setup_order_book()  # also proves the risk manager rejects an oversized order
        from vnpy.event import Event
        from vnpy.trader.constant import Status
        from vnpy.trader.event import EVENT_ORDER, EVENT_TRADE
        from vnpy.trader.object import TradeData

        risk = b.risk
        check = risk.check_allowed
        on_order, on_trade = risk.process_order_event, risk.process_trade_event
        gateway = peer.GATEWAY
        checks: list[float] = []
        events: list[float] = []
        for r in range(rounds):
            requests = [b.order_req(i) for i in range(n)]
            b.drain()
            gc.collect()
            perf = time.perf_counter
            started = perf()
            for req in requests:
                if not check(req, gateway):
                    raise AssertionError("vnpy_riskmanager refused a bench order")
            checks.append(perf() - started)
            sent, filled, trades = [], [], []
            for i, req in enumerate(requests):
                orderid = f"R{r}_{i}"
                order = req.create_order_data(orderid, gateway)
                done = req.create_order_data(orderid, gateway)
                done.status, done.traded = Status.ALLTRADED, done.volume
                sent.append(Event(EVENT_ORDER, order))
                filled.append(Event(EVENT_ORDER, done))
                trade = TradeData(symbol=req.symbol, exchange=req.exchange, orderid=orderid, tradeid=orderid,
                                  direction=req.direction, offset=req.offset, price=req.price,
                                  volume=req.volume, datetime=b.tick_dt, gateway_name=gateway)  # fmt: skip
                trades.append(Event(EVENT_TRADE, trade))
            gc.collect()
            started = perf()
            for i in range(n):
                on_order(sent[i])
                on_order(filled[i])
                on_trade(trades[i])
            events.append(perf() - started)
        check_us = statistics.median(checks) / n * 1e6
        events_us = statistics.median(events) / n * 1e6
        return {
            "orders": n,
            "rounds": rounds,
            "rules_active": sorted(name for name, rule in risk.rules.items() if rule.active),
            "check_us_per_order": round(check_us, 3),
            "events_us_per_order": round(events_us, 3),
            "lifetime_us_per_order": round(check_us + events_us, 3),
        }
    finally:
        b.close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--peer-script", type=Path, required=True)
    p.add_argument("--orders", type=int, default=4000)
    p.add_argument("--rounds", type=int, default=9)
    args = p.parse_args(argv)
    result = measure(args.peer_script.resolve(), args.orders, args.rounds)
    result["scenario"] = "risk_cost"
    print("RESULT_JSON " + json.dumps(result, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
