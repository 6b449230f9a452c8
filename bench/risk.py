"""The risk gate's cost on the order path (the issue asks ≤ 10 µs per order), measured in one run.

`OrderManager.create` on a memory store, the peer's orders (bench/rig.py `order_request`:
alternating marketable buys and sells of 100 shares on four codes), three ways in the same
process, interleaved round by round (each first in turn) so drift weighs on all alike:

- `none`: no gate (the OMS as before the risk engine);
- `default`: the gate with the default `[risk]` settings;
- `all`: the gate with every check switched on at values that never bind (position caps, lists,
  boards, ST, new buys per day, order value and size, deviation, price cage, duplicates, turnover,
  rates, cancels), so each check runs its whole path.

Each order is made (checks, hold, intent and event staged) and then ended as unsent, which releases
its hold, as every order of a day ends: the same work for the three, and the working set stays
what a real day has. The simulated time moves 25 ms per order (40 orders/s, under the default
50/s) and at most 4,000 orders are made (the default allows 5,000 a day), so no order is refused.
Reported: orders/s of each, the gate's own time per order (`check` + `accepted`, timed alone on the
same orders) and the check alone. bench/run.py sets vnpy_riskmanager's cost per order beside them
(bench/vnpy_risk.py, run with the vn.py venv's Python).
"""

from __future__ import annotations

import dataclasses
import gc
import statistics
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from app.core.oms import OrderManager
from app.core.risk import PlainAccountView, RiskGate, RiskLimits
from app.domain.fees import FeeSchedule
from app.domain.orders import Order, OrderStatus
from app.domain.positions import Position
from app.storage.memory_store import MemoryOmsStore
from bench.rig import (
    AT,
    DAY,
    INITIAL_CASH,
    ORDER_CODES,
    PREV_CLOSE,
    SEED_SHARES,
    deep_quote,
    instrument,
    order_request,
)

STEP = timedelta(milliseconds=25)  # 40 orders/s: under the default 50/s
ALL_ON = dict(
    max_position_pct=Decimal("0.99"),
    max_account_position_pct=Decimal("0.99"),
    whitelist=(*ORDER_CODES, "600519.SH"),
    blacklist=("600519.SH",),
    blocked_boards=("bse",),
    block_st=True,
    max_new_buys_per_day=100,
    max_order_value=Decimal("10000000"),
    max_order_qty=1_000_000,
    max_price_deviation_pct=Decimal("0.1"),
    price_cage=True,
    duplicate_window_s=Decimal("0.01"),
    max_daily_turnover=Decimal("1e12"),
    max_orders_per_second=300,
    max_orders_per_day=20_000,
    max_cancels_per_day=20_000,
    max_cancel_ratio=Decimal(1),
)


def _gate(variant: str) -> RiskGate | None:
    if variant == "none":
        return None
    if variant == "default":
        return RiskGate()
    return RiskGate(dataclasses.replace(RiskLimits(), **ALL_ON))


def _oms(variant: str) -> OrderManager:
    gate = _gate(variant)
    oms = OrderManager(
        store=MemoryOmsStore(), fees=FeeSchedule(), trading_day=DAY, alert=lambda *a: None, risk=gate
    )
    oms.set_cash(INITIAL_CASH)
    for code in ORDER_CODES:
        oms.set_position(Position(code, "", SEED_SHARES, SEED_SHARES, 0, PREV_CLOSE))
        oms.instruments[code] = instrument(code)
        oms.last_prices[code] = PREV_CLOSE
    if gate is not None:
        gate.on_quotes([deep_quote(code, AT) for code in ORDER_CODES])
    oms.store.commit()
    return oms


def _make_orders(variant: str, n: int) -> float:
    """Seconds to make and end n orders."""
    oms = _oms(variant)
    requests = [order_request(i, variant[0]) for i in range(n)]
    oms.reserve_ids(n)
    create, end, commit = oms.create, oms.reject_unsent, oms.store.commit
    now = AT
    gc.collect()
    perf = time.perf_counter
    started = perf()
    for i, request in enumerate(requests):
        now += STEP
        order = create(request, now)
        if order.status is OrderStatus.DENIED:
            raise AssertionError(f"{variant}: order {i} denied: {order.status_msg}")
        end(order, "bench", now)
        if i % 256 == 255:
            commit()
    commit()
    return perf() - started


def _gate_alone(variant: str, n: int, *, counted: bool = True) -> float:
    """Seconds the gate spends on n orders: check + accepted, nothing else (`counted` False: the
    check alone, as vnpy_riskmanager's check_allowed, which counts in its event handlers)."""
    gate = _gate(variant)
    assert gate is not None
    gate.on_quotes([deep_quote(code, AT) for code in ORDER_CODES])
    view = PlainAccountView(
        cash=INITIAL_CASH,
        holdings={code: SEED_SHARES * PREV_CLOSE for code in ORDER_CODES},
        prices={code: PREV_CLOSE for code in ORDER_CODES},
        instruments={code: instrument(code) for code in ORDER_CODES},
    )
    orders = [
        Order(f"B{i:012d}", r.code, r.side, r.qty, r.price, r.price_type, AT, DAY)  # type: ignore[arg-type]
        for i, r in enumerate(order_request(i) for i in range(n))
    ]
    check, accepted = gate.check, gate.accepted
    now = AT
    gc.collect()
    perf = time.perf_counter
    started = perf()
    if not counted:
        for order in orders:
            now += STEP
            check(order, view, now)
        return perf() - started
    for order in orders:
        now += STEP
        check(order, view, now)
        accepted(order, now, order.price * order.qty)  # type: ignore[operator]
    return perf() - started


def risk_gate(n: int, rounds: int = 9) -> dict[str, Any]:
    n = min(n, 4_000)  # under the default orders-per-day limit (5,000)
    times: dict[str, list[float]] = {"none": [], "default": [], "all": []}
    alone: dict[str, list[float]] = {"default": [], "all": []}
    check_only: list[float] = []
    variants = list(times)
    for r in range(rounds):
        for variant in variants[r % 3 :] + variants[: r % 3]:  # each goes first in turn
            times[variant].append(_make_orders(variant, n))
        for variant in alone:
            alone[variant].append(_gate_alone(variant, n))
        check_only.append(_gate_alone("all", n, counted=False))
    result: dict[str, Any] = {"orders": n, "rounds": rounds}
    for variant, seconds in times.items():
        result[f"orders_per_s_{variant}"] = round(n / statistics.median(seconds), 1)
    for variant, seconds in alone.items():
        result[f"gate_us_per_order_{variant}"] = round(statistics.median(seconds) / n * 1e6, 3)
    result["check_us_per_order_all"] = round(statistics.median(check_only) / n * 1e6, 3)
    # on a noisy machine the fastest round is the better estimate of what the work itself costs
    none_us, none_best = (f(times["none"]) / n * 1e6 for f in (statistics.median, min))
    for variant in ("default", "all"):
        result[f"create_us_added_{variant}"] = round(statistics.median(times[variant]) / n * 1e6 - none_us, 3)
        result[f"create_us_added_best_{variant}"] = round(min(times[variant]) / n * 1e6 - none_best, 3)
    return result
