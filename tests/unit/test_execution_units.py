"""Execution policies without an engine: sizing, slice times, parameters, conditions, and a
Hypothesis property over random fills, cancels, late fills and refusals (app/core/execution)."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis import target as steer

from app.core.execution import ExecutionRequest
from app.core.execution.conditions import (
    BelowMovingAverage,
    BreadthLimitDown,
    GapUpSkip,
    NotAtLimit,
    Verdict,
)
from app.core.execution.service import PolicyExecutor, parse_params
from app.core.execution.sizing import child_qty, slice_times, u_shape_weights
from app.core.oms import NewOrder
from app.domain.clock import CN_TZ, TimerHandle
from app.domain.errors import QuantityError
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.market import InstrumentInfo, InstrumentStatus, Quote
from app.domain.orders import (
    Order,
    OrderAccepted,
    OrderCancelled,
    OrderFilled,
    OrderPendingCancel,
    OrderRejected,
    OrderStatus,
    OrderSubmitted,
)
from app.domain.positions import Position
from app.domain.quantity import check_quantity
from app.domain.reports import OrderReport
from app.domain.side import Side

DAY = date(2026, 11, 23)
CODES = ["600000.SH", "000001.SZ", "688981.SH", "300750.SZ", "920001.BJ"]


# ------------------------------------------------------------------------------ sizing
@settings(max_examples=400, deadline=None)
@given(
    code=st.sampled_from(CODES),
    side=st.sampled_from(list(Side)),
    want=st.integers(-5, 2_000_000),
    remaining=st.integers(0, 2_000_000),
    extra=st.integers(0, 10_000),
)
def test_a_child_is_a_valid_order_within_what_is_wanted_and_left(code, side, want, remaining, extra):
    holding = remaining + extra  # a sell never exceeds what is sellable
    qty = child_qty(code, side, want, remaining, holding=holding)
    assert 0 <= qty <= max(0, min(want, remaining))
    if qty:
        check_quantity(code, side, qty, holding=holding)
        if side is Side.BUY or qty < remaining:
            rest = remaining - qty  # what is left can still go as lot-valid children, or nothing is left
            assert rest == 0 or child_qty(code, side, rest, rest, holding=holding - qty) > 0 or rest < 200


def test_only_the_last_child_of_a_sell_carries_the_odd_lot():
    assert child_qty("600000.SH", Side.SELL, 250, 1050, holding=1050) == 200
    assert child_qty("600000.SH", Side.SELL, 1050, 1050, holding=1050) == 1050
    assert child_qty("600000.SH", Side.BUY, 1050, 1050) == 1000  # buys: whole lots only
    assert child_qty("600000.SH", Side.SELL, 30, 30, holding=1050) == 0  # 30 is not the odd lot 50
    assert child_qty("600000.SH", Side.SELL, 50, 50, holding=1050) == 50  # the whole odd lot, alone
    assert child_qty("688981.SH", Side.BUY, 150, 1000) == 0  # STAR: at least 200
    assert child_qty("688981.SH", Side.BUY, 900, 1000) == 800  # never leaves 100 unbuyable behind
    with pytest.raises(QuantityError):
        check_quantity("600000.SH", Side.SELL, 120, holding=150)


def test_slice_times_skip_the_lunch_break():
    at = lambda h, m: datetime.combine(DAY, time(h, m), CN_TZ)  # noqa: E731
    times = slice_times(at(11, 0), at(13, 30), 4, lunch=(time(11, 30), time(13, 0)))
    assert [t.time() for t in times] == [time(11, 0), time(11, 15), time(13, 0), time(13, 15)]
    assert slice_times(at(10, 0), at(10, 0), 5, lunch=(time(11, 30), time(13, 0))) == [at(10, 0)]
    weights = u_shape_weights([at(9, 30), at(11, 0), at(14, 30)])
    assert abs(sum(weights) - 1) < 1e-9 and weights[1] < weights[0] and weights[1] < weights[2]


def test_parameters_are_checked_and_named():
    assert parse_params({"slices": "5"}, {"slices": "7", "fallback": "no"}).slices == 7
    assert parse_params({"end": "14:50"}).end == time(14, 50)
    for bad in (
        {"slices": "0"},
        {"slices": "1e3"},
        {"participation": "nan"},
        {"end": "25:00"},
        {"end": "9:30"},
        {"fallback": "maybe"},
        {"auction_price": "best"},
        {"color": "red"},
        {"offset_ticks": "9" * 40},
        {"participation": "1e400"},
    ):
        with pytest.raises(ValueError, match=next(iter(bad))):
            parse_params(bad)


# ------------------------------------------------------------------------------ conditions
@dataclass
class Market:
    infos: dict[str, InstrumentInfo] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    down: int = 0

    def info(self, code: str) -> InstrumentInfo | None:
        return self.infos.get(code)

    def quote(self, code: str) -> Quote | None:
        return self.quotes.get(code)

    def limit_down_count(self) -> int:
        return self.down


def _info(code="600000.SH", prev=D("10.00"), status=InstrumentStatus.NORMAL):
    return InstrumentInfo(code, "", DAY, prev, prev * D("1.1"), prev * D("0.9"), D("0.01"), status)


def _quote(code="600000.SH", last=D("10.00"), open_=D("10.00"), asks=(), bids=(), volume=0):
    ts = datetime.combine(DAY, time(10), CN_TZ)
    return Quote(
        code,
        ts,
        last,
        open_,
        last,
        last,
        D("10.00"),
        volume,
        D(0),
        tuple(bids),
        tuple(100 for _ in bids),
        tuple(asks),
        tuple(100 for _ in asks),
    )


class History:
    def __init__(self, closes: Sequence[D] | None) -> None:
        self._closes = closes

    def closes(self, code: str, days: int) -> Sequence[D] | None:
        return None if self._closes is None else list(self._closes)[-days:]


def test_moving_average_condition_with_given_history():
    market = Market({"600000.SH": _info()}, {"600000.SH": _quote(last=D("9.50"))})
    below = BelowMovingAverage(5, History([D("10"), D("10"), D("10"), D("9.8"), D("10.2")]))
    assert below.check("600000.SH", Side.BUY, market).verdict is Verdict.OK  # 9.50 < 10.00
    assert below.check("600000.SH", Side.SELL, market).verdict is Verdict.OK  # buys only
    above = BelowMovingAverage(3, History([D("9"), D("9.2"), D("9.4")]))
    assert above.check("600000.SH", Side.BUY, market).verdict is Verdict.HOLD  # 9.50 ≥ 9.20
    none = BelowMovingAverage(5, History(None))
    result = none.check("600000.SH", Side.BUY, market)
    assert result.verdict is Verdict.HOLD and "历史" in result.reason
    short = BelowMovingAverage(5, History([D("10")]))
    assert short.check("600000.SH", Side.BUY, market).verdict is Verdict.HOLD


def test_breadth_limit_and_gap_conditions():
    market = Market({"600000.SH": _info()}, {"600000.SH": _quote(last=D("11.00"), open_=D("10.60"))})
    assert BreadthLimitDown(3).check("600000.SH", Side.BUY, market).verdict is Verdict.OK
    market.down = 3
    assert BreadthLimitDown(3).check("600000.SH", Side.BUY, market).verdict is Verdict.HOLD
    assert BreadthLimitDown(3).check("600000.SH", Side.SELL, market).verdict is Verdict.OK
    assert NotAtLimit().check("600000.SH", Side.BUY, market).verdict is Verdict.HOLD  # 11.00 = up limit
    assert NotAtLimit().check("600000.SH", Side.SELL, market).verdict is Verdict.OK
    assert GapUpSkip(D("0.05")).check("600000.SH", Side.BUY, market).verdict is Verdict.SKIP  # +6%
    assert GapUpSkip(D("0.07")).check("600000.SH", Side.BUY, market).verdict is Verdict.OK
    assert GapUpSkip(D("0.05")).check("600000.SH", Side.SELL, market).verdict is Verdict.OK


# ------------------------------------------------------------------------------ the property
class FakeClock:
    def __init__(self, now: datetime) -> None:
        self._now = now
        self.heap: list[TimerHandle] = []
        self.seq = itertools.count()

    def now(self) -> datetime:
        return self._now


class FakeOms:
    def __init__(self, code: str, holding: int) -> None:
        self.orders: dict[ClientOrderId, Order] = {}
        prev = D("10.00")
        self.instruments = {code: InstrumentInfo(code, "", DAY, prev, D("11.00"), D("9.00"), D("0.01"))}
        self.positions = {code: Position(code, total=holding, settled=holding)}


class FakeMetaStore:
    """The engine store's meta rows, as the executor uses them (its lines' state for a restart)."""

    def __init__(self) -> None:
        self.meta: dict[str, str] = {}

    def stage_meta(self, key: str, value: str) -> None:
        self.meta[key] = value

    def load_meta(self, key: str) -> str | None:
        return self.meta.get(key)


class FakeEngine:
    """The engine's face to the executor, with real domain orders driven by the test as a broker
    would: acknowledgements, fills, cancel confirmations (with fills racing them), refusals."""

    def __init__(self, code: str, holding: int) -> None:
        self.clock = FakeClock(datetime.combine(DAY, time(9, 29), CN_TZ))
        self.trading_day = DAY
        self.oms = FakeOms(code, holding)
        self.ids = itertools.count(1)
        self.cancels: list[ClientOrderId] = []
        self.events: list[object] = []
        self.risk = None  # no risk gate: nothing to pace
        self.cancel_asked: set[ClientOrderId] = set()  # cancels asked by anyone but the executor
        self.store = FakeMetaStore()

    def schedule_at(self, when, callback, name=""):
        handle = TimerHandle(when, next(self.clock.seq), callback, name)
        heapq.heappush(self.clock.heap, handle)
        return handle

    def cancel_timer(self, handle):
        handle.cancelled = True

    def advance(self, seconds: int) -> None:
        target = self.clock._now + timedelta(seconds=seconds)
        while self.clock.heap and self.clock.heap[0].when <= target:
            handle = heapq.heappop(self.clock.heap)
            self.clock._now = max(self.clock._now, handle.when)
            if not handle.cancelled:
                handle.callback()
        self.clock._now = target

    def place(self, requests: Sequence[NewOrder]):
        out = []
        for r in requests:
            cid = ClientOrderId(f"T{next(self.ids):04d}")
            order = Order(
                cid,
                r.code,
                r.side,
                r.qty,
                r.price,
                r.price_type,
                self.clock.now(),
                DAY,
                r.strategy_id,
                r.signal_id,
            )
            order.apply(OrderSubmitted(cid, self.clock.now()))
            self.oms.orders[cid] = order
            out.append(cid)
        return out

    def cancel(self, cid):
        order = self.oms.orders[cid]
        self.cancels.append(cid)
        if order.status.is_working and order.status is not OrderStatus.PENDING_CANCEL:
            order.apply(OrderPendingCancel(cid, self.clock.now()))

    def emit(self, event):
        self.events.append(event)

    def _alert(self, level, category, message):
        self.events.append((level, message))


actions = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "tick",
                "tick",
                "fill",
                "cancel_done",
                "late_fill",
                "late_fill",
                "reject",
                "ack",
                "pause",
                "resume",
                "quote",
                "quote",
            ]
        ),
        st.integers(0, 10),
        st.integers(1, 2000),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    code=st.sampled_from(["600000.SH", "688981.SH"]),
    side=st.sampled_from(list(Side)),
    lots=st.integers(1, 60),
    odd=st.integers(0, 99),
    policy=st.sampled_from(["limit", "twap", "vwap", "auction_open"]),
    steps=actions,
)
# a re-price cancels the child, the broker fills part of it and confirms the cancel, the trade report
# comes later: the rest sent again must leave room for that fill
@example(
    "600000.SH",
    Side.BUY,
    30,
    0,
    "limit",
    [
        ("tick", 0, 61),
        ("quote", 0, 40),
        ("tick", 0, 6),
        ("late_fill", 0, 1000),
        ("tick", 0, 1),
        ("tick", 0, 3),
    ],
)
def test_a_line_never_sends_beyond_its_qty_and_every_child_is_lot_valid(code, side, lots, odd, policy, steps):
    qty = lots * 100 + (odd if side is Side.SELL else 0)
    if code.startswith("688") and qty < 200:
        qty = 200 + odd
    holding = qty + (0 if odd else 300)
    engine = FakeEngine(code, holding)
    executor = PolicyExecutor(engine, defaults={"reprice_s": "5", "end": "09:45"})  # type: ignore[arg-type]
    request = ExecutionRequest(
        "L",
        "s",
        code,
        side,
        qty,
        policy,
        {"start": "09:30", "end": "09:45", "slices": "4", "participation": "1"},
    )
    executor.start(request)
    broker_filled: dict[ClientOrderId, int] = {}  # the broker's truth, reported or not yet
    late: list[tuple[ClientOrderId, int]] = []  # fills the broker made but whose trade is still on the wire
    trades = itertools.count(1)
    price = D("10.00")

    def book(order: Order, shares: int) -> None:
        order.apply(
            OrderFilled(
                order.client_order_id,
                TradeId(str(next(trades))),
                shares,
                price,
                D(0),
                engine.clock.now(),
                BrokerOrderId("B"),
            )
        )

    for action, index, amount in steps:
        kids = [o for o in engine.oms.orders.values() if o.signal_id == "L"]
        working = [o for o in kids if o.status.is_working]
        target = working[index % len(working)] if working else None
        if action == "tick":
            engine.advance(amount % 240)
        elif action == "quote":
            price = D("10.00") + D(amount % 50 - 25) / 100
            last = price.quantize(D("0.01"))
            executor.on_quotes(
                [_quote(code, last=last, asks=(last + D("0.01"),), bids=(last,), volume=amount * 1000)]
            )
        elif action == "pause":
            executor.pause(side if index % 2 else None, cancel_working=bool(index % 3))
        elif action == "resume":
            executor.resume(None)
        elif target is not None:
            cid = target.client_order_id
            left = target.qty - broker_filled.get(cid, 0)
            if action == "ack" and target.status is OrderStatus.SUBMITTED:
                target.apply(OrderAccepted(cid, BrokerOrderId(cid), engine.clock.now()))
            elif action == "fill" and left > 0:
                shares = min(left, amount)
                broker_filled[cid] = broker_filled.get(cid, 0) + shares
                book(target, shares)
            elif action == "late_fill" and left > 0 and target.status is OrderStatus.PENDING_CANCEL:
                # the broker fills, then confirms the cancel (its report carries the fill); the trade
                # report itself arrives later
                shares = min(left, amount)
                broker_filled[cid] = broker_filled.get(cid, 0) + shares
                late.append((cid, shares))
                executor.on_order_report(
                    OrderReport(
                        BrokerOrderId(cid),
                        cid,
                        code,
                        side,
                        target.qty,
                        target.price,
                        target.price_type,
                        OrderStatus.CANCELLED,
                        broker_filled[cid],
                        None,
                        engine.clock.now(),
                    )
                )
                target.apply(OrderCancelled(cid, engine.clock.now()))
            elif action == "cancel_done" and target.status is OrderStatus.PENDING_CANCEL:
                target.apply(OrderCancelled(cid, engine.clock.now()))
            elif action == "reject" and target.status is OrderStatus.SUBMITTED:
                target.apply(OrderRejected(cid, "废单", engine.clock.now()))
        if late and amount % 3 == 0:  # a late trade report arrives
            cid, shares = late.pop(0)
            book(engine.oms.orders[cid], shares)
        executor.on_orders(list(engine.oms.orders.values()))
        # the invariant, against the broker's truth (late fills included)
        kids = [o for o in engine.oms.orders.values() if o.signal_id == "L"]
        committed = sum(
            o.qty if o.status.is_working else max(o.filled_qty, broker_filled.get(o.client_order_id, 0))
            for o in kids
        )
        assert committed <= qty
        assert sum(broker_filled.values()) <= qty
        sold_before = 0
        for o in kids:  # every child lot-valid against the holding when it was sent
            check_quantity(code, side, o.qty, holding=holding - sold_before if side is Side.SELL else 0)
            if side is Side.SELL:
                sold_before += max(o.filled_qty, broker_filled.get(o.client_order_id, 0))
        progress = executor.progress("L")
        assert progress is not None and progress.sent_qty <= qty and progress.filled_qty <= qty
    steer(float(sum(1 for o in engine.oms.orders.values())), label="children")  # towards many children
