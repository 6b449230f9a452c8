"""Order scenarios, measured as vnpy_peer.py measures them (burst, pingpong, paced).

Path: caller thread `engine.post(SubmitOrders((request,)))` → engine thread: pre-trade checks, the
risk gate, cash/shares frozen, intent staged and committed (group commit), then `gateway.submit` →
the simulated broker (in the engine's thread, threaded=False as bootstrap runs it): acceptance
checks, matching against the deep book, fill, its own commit, reports pushed onto the engine's queue
→ engine thread, next batch: SubmitResponse, ACCEPTED, TradeReport (position and cash booked),
FILLED, commit, then events published (both batches' in one publication) → FillWatch stamps the
time of the trade's TradeBooked event (the peer stops its clock at its EVENT_TRADE handler: the
same event).
"""

from __future__ import annotations

import gc
import time
from typing import Any

from app.core.messages import SubmitOrders
from bench.rig import FillWatch, Rig, hwm_mib, latency_summary_us, order_request, rss_mib

WAIT_S = 300.0


def _check_no_rejects(watch: FillWatch) -> None:
    if watch.rejected:
        raise AssertionError(f"{len(watch.rejected)} orders ended without filling, e.g. {watch.rejected[:3]}")


def _warm_up(rig: Rig, watch: FillWatch, n: int) -> None:
    if n <= 0:
        return
    watch.expect(n)
    post = rig.engine.post
    for i in range(n):
        post(SubmitOrders((order_request(i, "w"),)))
    if not watch.done.wait(WAIT_S):
        raise TimeoutError(f"warm-up: only {watch.count} of {n} fills")
    _check_no_rejects(watch)
    rig.broker.wait_idle(WAIT_S)
    rig.engine.wait_idle(WAIT_S)


def burst(rig: Rig, n: int, warmup: int) -> dict[str, Any]:
    """n orders posted back to back from the caller thread, one SubmitOrders message each (as the
    peer calls send_order once per order); time from the first post to the last trade booked."""
    watch = FillWatch()
    rig.engine.subscribe(watch)
    _warm_up(rig, watch, warmup)
    filled_before = rig.filled_count()
    requests = [order_request(i, "b") for i in range(n)]  # built up front, as the peer does
    messages = [SubmitOrders((r,)) for r in requests]
    sent_at = [0.0] * n
    watch.expect(n)
    gc.collect()
    post = rig.engine.post
    perf = time.perf_counter
    t_first = perf()
    for i in range(n):
        sent_at[i] = perf()
        post(messages[i])
    t_sent = perf()
    if not watch.done.wait(WAIT_S):
        raise TimeoutError(f"burst: only {watch.count} of {n} fills booked")
    _check_no_rejects(watch)
    t_last = watch.last_t
    rig.broker.wait_idle(WAIT_S)
    rig.engine.wait_idle(WAIT_S)
    filled = rig.filled_count() - filled_before
    assert filled == n, f"burst: {filled} orders FILLED in the OMS, expected {n}"
    latencies = [watch.filled_at[f"b{i}"] - sent_at[i] for i in range(n)]
    return {
        "orders": n,
        "filled_in_oms": filled,
        "e2e_orders_per_s": round(n / (t_last - t_first), 1),
        "send_loop_orders_per_s": round(n / (t_sent - t_first), 1),
        "latency": latency_summary_us(latencies),
        "rss_mib_after": rss_mib(),
        "hwm_mib": hwm_mib(),
    }


def burst_one_message(rig: Rig, n: int, warmup: int) -> dict[str, Any]:
    """The same n orders in ONE SubmitOrders message (how a planner hands over a batch)."""
    watch = FillWatch()
    rig.engine.subscribe(watch)
    _warm_up(rig, watch, warmup)
    filled_before = rig.filled_count()
    message = SubmitOrders(tuple(order_request(i, "m") for i in range(n)))
    watch.expect(n)
    gc.collect()
    t_first = time.perf_counter()
    rig.engine.post(message)
    if not watch.done.wait(WAIT_S):
        raise TimeoutError(f"burst_one_message: only {watch.count} of {n} fills booked")
    _check_no_rejects(watch)
    t_last = watch.last_t
    rig.broker.wait_idle(WAIT_S)
    rig.engine.wait_idle(WAIT_S)
    filled = rig.filled_count() - filled_before
    assert filled == n, f"burst_one_message: {filled} orders FILLED in the OMS, expected {n}"
    return {"orders": n, "filled_in_oms": filled, "e2e_orders_per_s": round(n / (t_last - t_first), 1)}


def pingpong(rig: Rig, n: int, warmup: int) -> dict[str, Any]:
    """One order in flight: post it, wait until its trade is booked, post the next."""
    watch = FillWatch()
    rig.engine.subscribe(watch)
    post = rig.engine.post
    perf = time.perf_counter
    latencies: list[float] = []
    filled_before = rig.filled_count()
    for i in range(warmup + n):
        message = SubmitOrders((order_request(i, "p"),))
        watch.expect(1)
        t0 = perf()
        post(message)
        if not watch.done.wait(10):
            raise TimeoutError(f"pingpong: order {i} not filled")
        _check_no_rejects(watch)
        if i >= warmup:
            latencies.append(watch.filled_at[f"p{i}"] - t0)
        elif i == warmup - 1:
            rig.broker.wait_idle()
            rig.engine.wait_idle()
            gc.collect()
    rig.broker.wait_idle()
    rig.engine.wait_idle()
    filled = rig.filled_count() - filled_before
    assert filled == warmup + n, f"pingpong: {filled} orders FILLED in the OMS, expected {warmup + n}"
    return {"orders": n, "latency": latency_summary_us(latencies), "rss_mib_after": rss_mib()}


def paced(rig: Rig, n: int, warmup: int, rate: float) -> dict[str, Any]:
    """Open loop: orders at a fixed offered rate from the caller thread (sleeping, never spinning)."""
    watch = FillWatch()
    rig.engine.subscribe(watch)
    total = warmup + n
    messages = [SubmitOrders((order_request(i, "s"),)) for i in range(total)]
    sent_at = [0.0] * total
    interval = 1.0 / rate
    post = rig.engine.post
    perf = time.perf_counter
    filled_before = rig.filled_count()
    watch.expect(total)
    gc.collect()
    t_start = perf()
    for i in range(total):
        target = t_start + i * interval
        while (d := target - perf()) > 0:
            time.sleep(d)
        sent_at[i] = perf()
        post(messages[i])
    t_end = perf()
    if not watch.done.wait(WAIT_S):
        raise TimeoutError(f"paced: only {watch.count} of {total} fills booked")
    _check_no_rejects(watch)
    rig.broker.wait_idle(WAIT_S)
    rig.engine.wait_idle(WAIT_S)
    filled = rig.filled_count() - filled_before
    assert filled == total, f"paced: {filled} orders FILLED in the OMS, expected {total}"
    latencies = [watch.filled_at[f"s{i}"] - sent_at[i] for i in range(warmup, total)]
    return {
        "orders": n,
        "offered_rate": rate,
        "achieved_send_rate": round(total / (t_end - t_start), 1),
        "latency": latency_summary_us(latencies),
        "rss_mib_after": rss_mib(),
    }
