"""What it costs to wake a thread blocked on each waiting primitive (issue 11's one-in-flight row).

    python bench/wakeup.py [--n 3000] [--gap-us 300] [--repeat 3]

A producer thread stamps time.perf_counter_ns() and hands an item to a consumer blocked in the
primitive; the consumer stamps when it returns. The producer sleeps `gap` between items, so the
consumer is asleep (idle) each time, as the engine is when a lone order arrives. The figure is the
median (and p90) of (consumer's stamp − producer's stamp), in µs, per primitive and repeat; the
machine is shared, so compare primitives within one repeat and read the spread across repeats.
Standard library only."""

from __future__ import annotations

import argparse
import queue
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable

Ns = time.perf_counter_ns


def _simple_queue() -> tuple[Callable[[int], None], Callable[[], int]]:
    q: queue.SimpleQueue[int] = queue.SimpleQueue()
    return q.put, q.get


def _queue() -> tuple[Callable[[int], None], Callable[[], int]]:
    q: queue.Queue[int] = queue.Queue()
    return q.put, q.get


def _queue_timeout() -> tuple[Callable[[int], None], Callable[[], int]]:
    q: queue.Queue[int] = queue.Queue()  # as vn.py's EventEngine waits: get(block=True, timeout=1)
    return q.put, lambda: q.get(True, 1.0)


def _deque_condition() -> tuple[Callable[[int], None], Callable[[], int]]:
    items: deque[int] = deque()
    cond = threading.Condition(threading.Lock())

    def put(x: int) -> None:
        with cond:
            items.append(x)
            cond.notify()

    def get() -> int:
        with cond:
            while not items:
                cond.wait()
            return items.popleft()

    return put, get


PRIMITIVES = {
    "SimpleQueue.get()": _simple_queue,
    "Queue.get()": _queue,
    "Queue.get(timeout=1)": _queue_timeout,
    "deque+Condition": _deque_condition,
}


def one_way(
    make: Callable[[], tuple[Callable[[int], None], Callable[[], int]]], n: int, gap_s: float
) -> list[float]:
    put, get = make()
    got = [0] * n
    sent = [0] * n

    def consumer() -> None:
        for _ in range(n):
            i = get()
            got[i] = Ns()

    t = threading.Thread(target=consumer)
    t.start()
    for i in range(n):
        time.sleep(gap_s)
        sent[i] = Ns()
        put(i)
    t.join()
    return [(g - s) / 1000 for g, s in zip(got, sent, strict=True)]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=3000)
    p.add_argument("--gap-us", type=float, default=300.0)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    print(f"one-way wake-up, µs (median / p90), {args.n} items {args.gap_us:.0f} µs apart, per repeat")
    for name, make in PRIMITIVES.items():
        cells = []
        for _ in range(args.repeat):
            lat = sorted(one_way(make, args.n, args.gap_us / 1e6))
            cells.append(f"{statistics.median(lat):6.1f} / {lat[int(len(lat) * 0.9)]:6.1f}")
        print(f"  {name:22s} " + "   ".join(cells))


if __name__ == "__main__":
    main()
