"""A headless Tiller stack for the benchmarks: engine + OMS + store + simulated broker, wired as
app/bootstrap.py wires them, on a simulated clock at 10:00 on a trading day (continuous trading),
with the risk gate in the order path (`BENCH_RISK`: every check on, at values that never bind, as
the peer runs vnpy_riskmanager with every rule active and limits it never reaches).

Set-ups:
- "durable": the OMS on SqliteOmsStore in a real file (WAL, the default synchronous=NORMAL) and
  the simulated broker on its own file beside it (WAL, synchronous=NORMAL, as store.py sets it).
- "memory": no file at all, like the peer's --no-persist: the OMS on MemoryOmsStore and the
  simulated broker's books in Python dicts (`store.MemoryBooks`, the broker's path `MEMORY`: no file, no SQLite).
- "instant" (a diagnostic, not a broker): MemoryOmsStore and InstantBroker, which answers every
  order at once with a full fill from inside `submit`: what the engine and OMS cost on their own.

The simulated broker runs without its own thread (threaded=False) and its file's WAL is checkpointed
by a thread of its own, as bootstrap wires them; TILLER_BENCH_THREADED=1 puts the broker back on
its own thread (for an A/B of that choice).
"""

from __future__ import annotations

import dataclasses
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
from app.core.messages import OrderUpdated, QuotesArrived, StartDay, TradeBooked
from app.core.oms import NewOrder
from app.core.ports import OmsStore, ReportHandler
from app.core.risk import RiskGate, RiskLimits
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
# The risk gate as the peer runs vnpy_riskmanager (all five rules active, limits of 10^9): every
# check of Tiller's gate switched on at a value that never binds for the peer's orders, so each runs
# its whole path. Two differ from what the settings file accepts, set here past its validation: the
# order-rate ceilings (300 a second, 20,000 a day: RULES.md B8), which a burst of 10,000 orders in
# about a second breaks by definition, are raised to 10^9, so they are counted and checked and never
# bind, as the peer's daily limits; and the duplicate check is off, because the peer's stream repeats
# each order every eight orders at one simulated instant (vn.py's duplicate rule runs with a limit of
# 10^9 duplicates).
BENCH_RISK = dataclasses.replace(
    RiskLimits(),
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
    duplicate_window_s=Decimal(0),
    max_daily_turnover=Decimal("1e12"),
    max_orders_per_second=10**9,
    max_orders_per_day=10**9,
    max_cancels_per_day=10**9,
    max_cancel_ratio=Decimal(1),
)


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


def _tmpdir(prefix: str) -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix=prefix)


def build_rig(
    setup: str,
    extra_codes: list[InstrumentInfo] | None = None,
    positions: list[tuple[str, int, Decimal]] | None = None,
    risk: RiskLimits | None = BENCH_RISK,
) -> Rig:
    """Broker seeded with positions on the order codes (and `positions`), engine started on it (the
    OMS adopts the broker's cash and positions as its opening books), the day started with the
    order codes and `extra_codes`, deep quotes on the order codes at both; the risk gate on with
    `risk` (None: no gate), and proved to be in the path by an oversized order it must deny."""
    if setup not in SETUPS:
        raise ValueError(f"setup must be one of {SETUPS}, was {setup!r}")
    memory = setup != "durable"
    local = _tmpdir("tiller_bench_")
    folder = Path(local.name)
    clock = SimClock(AT)
    fees = FeeSchedule()
    infos = [instrument(code) for code in ORDER_CODES] + list(extra_codes or ())
    quotes = [deep_quote(code, clock.now()) for code in ORDER_CODES]
    cleanups: list[Callable[[], None]] = []
    broker: Any
    if setup == "instant":
        broker = InstantBroker(clock, fees)
    else:
        from app.gateways.sim.store import MEMORY

        broker_path = Path(MEMORY) if memory else folder / "broker.db"
        broker = SimulatedBroker(
            broker_path,
            clock,
            fees=fees,
            initial_cash=INITIAL_CASH,
            threaded=os.environ.get("TILLER_BENCH_THREADED", "0") == "1",
        )
        broker.connect()
        broker.set_instruments(infos)
        broker.begin_day(DAY)
        for code in ORDER_CODES:
            broker.set_position(code, SEED_SHARES, PREV_CLOSE)
        for code, qty, cost in positions or ():
            broker.set_position(code, qty, cost)
        broker.on_quotes(quotes)
        broker.wait_idle()
        if not memory:  # as bootstrap wires it: the broker file's WAL checkpointed off the order path
            from app.storage.checkpoint import WalCheckpointer

            checkpointer = WalCheckpointer(broker_path)
            cleanups.append(checkpointer.close)

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

    gate = None if risk is None else RiskGate(risk)
    engine = Engine(
        clock=clock, gateway=broker, store_factory=store_factory, fees=fees, trading_day=DAY, risk=gate
    )
    engine.start()
    engine.post(StartDay(DAY, infos))
    engine.post(QuotesArrived(tuple(quotes)))  # the gate's price cage and deviation checks see them
    engine.wait_idle()
    rig = Rig(setup, folder, clock, broker, engine, infos)
    rig.cleanups += [*cleanups, local.cleanup]
    if gate is not None:
        _prove_gate(rig)
    return rig


def _prove_gate(rig: Rig) -> None:
    """The gate is in the path: a buy of BENCH_RISK's blacklisted code is denied by it (the peer
    proves vnpy_riskmanager is in its path with an oversized order; Tiller's gate cuts an oversized
    order down rather than deny it)."""
    code = BENCH_RISK.blacklist[0]
    price = next((i.prev_close for i in rig.infos if i.code == code), PREV_CLOSE)
    banned = NewOrder(code, Side.BUY, 100, price, signal_id="blacklisted")
    (cid,) = rig.engine.submit([banned])
    reply = rig.engine.call(lambda e: (e.oms.orders[cid].status, e.oms.orders[cid].status_msg))
    if reply[0] is not OrderStatus.DENIED or "风控" not in reply[1]:
        raise AssertionError(f"the risk gate did not deny a blacklisted buy: {reply}")


class FillWatch:
    """An engine listener (engine.subscribe) that stamps time.perf_counter() when the trade that
    fills an order is published (TradeBooked, after the commit that booked it: position and cash
    updated, order FILLED). The peer stops its clock at the same event: its EVENT_TRADE handler,
    registered last, runs after vn.py's OMS and risk manager have taken the trade in. Keyed by
    NewOrder.signal_id (an order's OrderUpdated events come before its trade's in a publication)."""

    def __init__(self) -> None:
        self.filled_at: dict[str, float] = {}
        self.count = 0
        self.target: int | None = None
        self.done = threading.Event()
        self.last_t = 0.0
        self.rejected: list[Any] = []
        self._signal: dict[str, str] = {}  # client order id -> signal id, of orders FILLED

    def __call__(self, event: Any) -> None:
        kind = type(event)
        if kind is TradeBooked:
            signal = self._signal.pop(event.trade.client_order_id, None)
            if signal is not None:
                t = time.perf_counter()
                self.filled_at[signal] = t
                self.count += 1
                if self.count == self.target:
                    self.last_t = t
                    self.done.set()
            return
        if kind is not OrderUpdated:
            return
        order = event.order
        status = order.status
        if status is OrderStatus.FILLED:
            self._signal[order.client_order_id] = order.signal_id
        elif status.is_final:
            self.rejected.append((order.signal_id, status.value, order.status_msg))
            self.done.set()  # never wait for an order that cannot fill

    def expect(self, n: int) -> None:
        self.filled_at.clear()
        self.count = 0
        self.target = n
        self.done.clear()
