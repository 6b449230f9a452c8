"""A headless Tiller stack for the benchmarks: engine + OMS + store + simulated broker, wired as
app/bootstrap.py wires them, on a simulated clock at 10:00 on a trading day (continuous trading).

Set-ups:
- "durable": the OMS on SqliteOmsStore in a real file (WAL, the default synchronous=NORMAL) and
  the simulated broker on its own file beside it (WAL, synchronous=FULL, as store.py fixes it).
- "memory": the OMS on MemoryOmsStore (no I/O) and the broker's file on tmpfs (/dev/shm), because
  the broker opens two connections to its path and so cannot use ":memory:".
- "instant" (a diagnostic, not a broker): MemoryOmsStore and InstantBroker, which answers every
  order at once with a full fill from inside `submit`: what the engine and OMS cost on their own.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.core.clock import SimClock
from app.core.engine import Engine
from app.core.messages import OrderUpdated, StartDay
from app.core.oms import NewOrder
from app.core.ports import OmsStore, ReportHandler
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.domain.identifiers import BrokerOrderId, TradeId
from app.domain.market import InstrumentInfo, Quote
from app.domain.orders import OrderStatus
from app.domain.reports import (
    BrokerAsset,
    BrokerPosition,
    CancelOrder,
    OrderReport,
    SubmitOrder,
    SubmitResponse,
    TradeReport,
)
from app.domain.side import Side
from app.gateways.sim.broker import SimulatedBroker

DAY = date(2026, 11, 23)  # a Monday, a trading day
AT = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)  # continuous trading (RULES B5)
TICK = Decimal("0.01")
# The peer's four order codes (vnpy_peer.ORDER_SYMBOLS) in Tiller's spelling, each at 10.01 last.
ORDER_CODES = ("600000.SH", "600036.SH", "601318.SH", "000001.SZ")
PREV_CLOSE = Decimal("10.01")
DEEP = 1_000_000_000  # shares per book level: participation never runs out
SEED_SHARES = 10_000_000  # settled shares per code, so no sell is ever short
INITIAL_CASH = Decimal("100000000000")  # no buy is ever short of cash
SETUPS = ("durable", "memory", "instant")


def rss_mib() -> float:
    return round(_status_kb("VmRSS") / 1024, 1)


def hwm_mib() -> float:
    return round(_status_kb("VmHWM") / 1024, 1)


def _status_kb(name: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


def pct(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile on a sorted list (the same formula as vnpy_peer.pct)."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100.0 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def latency_summary_us(latencies_s: list[float]) -> dict[str, float]:
    s = sorted(latencies_s)
    return {
        "p50_us": round(pct(s, 50) * 1e6, 1),
        "p90_us": round(pct(s, 90) * 1e6, 1),
        "p99_us": round(pct(s, 99) * 1e6, 1),
        "max_us": round(s[-1] * 1e6, 1),
        "mean_us": round(statistics.fmean(s) * 1e6, 1),
    }


def instrument(code: str, prev_close: Decimal = PREV_CLOSE) -> InstrumentInfo:
    up = (prev_close * Decimal("1.1")).quantize(TICK)
    down = (prev_close * Decimal("0.9")).quantize(TICK)
    return InstrumentInfo(code, code, DAY, prev_close, up, down, TICK)


def deep_quote(code: str, ts: datetime, last: Decimal = PREV_CLOSE) -> Quote:
    """Five levels a side, bid1 = last, ask1 = last + 1 tick (as the peer's tick: 10.00 / 10.01
    around 10.01 there; here 10.01 / 10.02), DEEP shares on every level."""
    return Quote(
        code, ts, last, last, last, last, last, 1_000_000, last * 1_000_000,
        tuple(last - TICK * i for i in range(5)), (DEEP,) * 5,
        tuple(last + TICK * (i + 1) for i in range(5)), (DEEP,) * 5,
    )  # fmt: skip


def order_request(i: int, tag: str = "") -> NewOrder:
    """Alternating buy/sell marketable limit orders of 100 shares on the four codes, like the
    peer's order_req: a buy one tick through the best ask, a sell one tick through the best bid."""
    code = ORDER_CODES[(i // 2) % len(ORDER_CODES)]
    if i % 2 == 0:
        return NewOrder(code, Side.BUY, 100, PREV_CLOSE + 2 * TICK, signal_id=f"{tag}{i}")
    return NewOrder(code, Side.SELL, 100, PREV_CLOSE - TICK, signal_id=f"{tag}{i}")


class InstantBroker:
    """A BrokerGateway that fills every order in full at its limit price, inside `submit`, pushing
    the same four reports per order as the simulated broker (SubmitResponse, ACCEPTED, the trade,
    FILLED) to the engine's queue. No thread, no file, no checks: a diagnostic that leaves only the
    engine's and the OMS's own cost in a figure."""

    def __init__(self, clock: SimClock, fees: FeeSchedule) -> None:
        self._clock = clock
        self._fees = fees
        self._handler: ReportHandler | None = None
        self._connected = False
        self._next = 1

    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    def connect(self) -> None:
        self._connected = True

    def close(self) -> None:
        self._connected = False

    @property
    def connected(self) -> bool:
        return self._connected

    def submit(self, orders: Sequence[SubmitOrder]) -> None:
        push = self._handler
        assert push is not None
        ts = self._clock.now()
        for o in orders:
            n = self._next
            self._next = n + 1
            boid = BrokerOrderId(str(n))
            price = o.price if o.price is not None else PREV_CLOSE
            amount = price * o.qty
            fee = self._fees.cost_for_amount(o.code, o.side, amount)
            push(SubmitResponse(o.client_order_id, boid, ts))
            push(OrderReport(boid, o.client_order_id, o.code, o.side, o.qty, o.price, o.price_type,
                             OrderStatus.ACCEPTED, 0, None, ts))  # fmt: skip
            push(TradeReport(TradeId(str(n)), boid, o.client_order_id, o.code, o.side, o.qty, price, amount,
                             fee, ts))  # fmt: skip
            push(OrderReport(boid, o.client_order_id, o.code, o.side, o.qty, o.price, o.price_type,
                             OrderStatus.FILLED, o.qty, price, ts))  # fmt: skip

    def cancel(self, request: CancelOrder) -> None:
        raise NotImplementedError("the instant broker fills everything at once; nothing to cancel")

    def query_orders(self) -> list[OrderReport]:
        return []

    def query_trades(self) -> list[TradeReport]:
        return []

    def query_positions(self) -> list[BrokerPosition]:
        return [BrokerPosition(code, SEED_SHARES, SEED_SHARES, 0, PREV_CLOSE) for code in ORDER_CODES]

    def query_asset(self) -> BrokerAsset:
        return BrokerAsset(INITIAL_CASH, Decimal(0), INITIAL_CASH, Decimal(0), INITIAL_CASH)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Nothing is ever pending: every report is pushed inside submit."""


@dataclass
class Rig:
    setup: str
    folder: Path
    clock: SimClock
    broker: Any  # SimulatedBroker, or InstantBroker for the "instant" diagnostic
    engine: Engine
    infos: list[InstrumentInfo]
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        try:
            self.engine.stop()
            self.broker.close()
        finally:
            for cleanup in self.cleanups:
                cleanup()

    def filled_count(self) -> int:
        """Orders FILLED in the OMS, counted on the engine thread."""
        return self.engine.call(
            lambda e: sum(1 for o in e.oms.orders.values() if o.status is OrderStatus.FILLED)
        )


def _tmpdir(prefix: str, memory: bool) -> tempfile.TemporaryDirectory[str]:
    base = "/dev/shm" if memory and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return tempfile.TemporaryDirectory(prefix=prefix, dir=base)


def build_rig(
    setup: str,
    extra_codes: list[InstrumentInfo] | None = None,
    positions: list[tuple[str, int, Decimal]] | None = None,
) -> Rig:
    """Broker seeded with positions on the order codes (and `positions`), engine started on it (the
    OMS adopts the broker's cash and positions as its opening books), the day started with the
    order codes and `extra_codes`, deep quotes on the order codes at both."""
    if setup not in SETUPS:
        raise ValueError(f"setup must be one of {SETUPS}, was {setup!r}")
    memory = setup != "durable"
    local = _tmpdir("tiller_bench_", memory=False)
    broker_dir = _tmpdir("tiller_bench_broker_", memory=memory)
    folder = Path(local.name)
    clock = SimClock(AT)
    fees = FeeSchedule()
    infos = [instrument(code) for code in ORDER_CODES] + list(extra_codes or ())
    broker: Any
    if setup == "instant":
        broker = InstantBroker(clock, fees)
    else:
        broker = SimulatedBroker(
            Path(broker_dir.name) / "broker.db", clock, fees=fees, initial_cash=INITIAL_CASH
        )
        broker.connect()
        broker.set_instruments(infos)
        broker.begin_day(DAY)
        for code in ORDER_CODES:
            broker.set_position(code, SEED_SHARES, PREV_CLOSE)
        for code, qty, cost in positions or ():
            broker.set_position(code, qty, cost)
        broker.on_quotes([deep_quote(code, clock.now()) for code in ORDER_CODES])
        broker.wait_idle()

    if memory:
        from app.storage.memory_store import MemoryOmsStore

        def store_factory() -> OmsStore:
            return MemoryOmsStore()
    else:
        from app.storage import open_database
        from app.storage.oms_store import SqliteOmsStore

        db_path = folder / "tiller.db"

        def store_factory() -> OmsStore:
            return SqliteOmsStore(open_database(db_path, now=clock.now()))

    engine = Engine(clock=clock, gateway=broker, store_factory=store_factory, fees=fees, trading_day=DAY)
    engine.start()
    engine.post(StartDay(DAY, infos))
    engine.wait_idle()
    rig = Rig(setup, folder, clock, broker, engine, infos)
    rig.cleanups += [local.cleanup, broker_dir.cleanup]
    return rig


class FillWatch:
    """An engine listener (engine.subscribe) that stamps time.perf_counter() when an order's
    OrderUpdated event shows it FILLED. The engine publishes after the commit that booked the fill
    (position and cash updated), so this is "fill booked in the OMS". Keyed by NewOrder.signal_id."""

    def __init__(self) -> None:
        self.filled_at: dict[str, float] = {}
        self.count = 0
        self.target: int | None = None
        self.done = threading.Event()
        self.last_t = 0.0
        self.rejected: list[Any] = []

    def __call__(self, event: Any) -> None:
        if type(event) is not OrderUpdated:
            return
        order = event.order
        status = order.status
        if status is OrderStatus.FILLED:
            t = time.perf_counter()
            self.filled_at[order.signal_id] = t
            self.count += 1
            if self.count == self.target:
                self.last_t = t
                self.done.set()
        elif status.is_final:
            self.rejected.append((order.signal_id, status.value, order.status_msg))
            self.done.set()  # never wait for an order that cannot fill

    def expect(self, n: int) -> None:
        self.filled_at.clear()
        self.count = 0
        self.target = n
        self.done.clear()
