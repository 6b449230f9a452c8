"""Execution policies against the simulated broker on the simulated clock (app/core/execution).

Every test runs a real engine, real SQLite files and the real simulated broker; time moves with
`at()` and the policies' timers fire on the way, on the engine thread."""

from __future__ import annotations

from datetime import time
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.config import load_settings
from app.core.execution import ExecutionRequest
from app.core.messages import ExecutionUpdated
from app.domain.errors import QuantityError
from app.domain.orders import OrderStatus, PriceType
from app.domain.quantity import check_quantity
from app.domain.side import Side
from app.feeds import InstrumentSpec
from tests.helpers.engine_day import CODES, at, make_setup, open_day, settle

LIMIT_UP = "600519.SH"  # climbs to its up limit and locks there before 10:00 (seed 5)
SUSPENDED = "601318.SH"
MORE_CODES = [
    *CODES,
    InstrumentSpec(LIMIT_UP, prev_close=D("100.00")),
    InstrumentSpec(SUSPENDED, prev_close=D("40.00")),
]
ODD_HOLDING = (("000001.SZ", 5050, D("11.00")),)


def _setup(tmp_path: Path, *, settings_env: dict[str, str] | None = None, **kwargs):
    folder = tmp_path / "day"
    folder.mkdir(exist_ok=True)
    env = {"TILLER_DATA_DIR": str(folder), **(settings_env or {})}
    settings = load_settings(env=env, path=folder / "none.toml")
    kwargs.setdefault("codes", MORE_CODES)
    kwargs.setdefault("limit_up", (LIMIT_UP,))
    kwargs.setdefault("suspended", (SUSPENDED,))
    return make_setup(folder, settings=settings, **kwargs)


@pytest.fixture
def day(tmp_path):
    setup = open_day(_setup(tmp_path))
    yield setup
    setup.close()


LIQUID = {"TILLER__SIM__PARTICIPATION": "1"}  # the whole displayed book is ours: marketable children fill


@pytest.fixture
def liquid_day(tmp_path):
    setup = open_day(_setup(tmp_path, settings_env=LIQUID))
    yield setup
    setup.close()


def start(setup, line_id, code, side, qty, policy, **params):
    request = ExecutionRequest(
        line_id, "strat", code, side, qty, policy, {k: str(v) for k, v in params.items()}
    )
    setup.engine.call(lambda e: e.execution.start(request))
    settle(setup)
    return request


def children(setup, line_id):
    """(created_at time, qty, price, price_type, status, filled) of a line's children, in order."""
    return setup.engine.call(
        lambda e: [
            (o.created_at.time(), o.qty, o.price, o.price_type, o.status, o.filled_qty)
            for o in sorted(e.oms.orders.values(), key=lambda o: o.client_order_id)
            if o.signal_id == line_id
        ]
    )


def progress(setup, line_id):
    return setup.engine.call(lambda e: e.execution.progress(line_id))


def used(kids) -> int:
    """What a line's children use: an ended child what it filled, a working one all of it."""
    return sum(filled if status.is_final else qty for _, qty, _, _, status, filled in kids)


def run(setup, *moments):
    for moment in moments:
        at(setup, moment)


def every(start: time, end: time, seconds: int) -> list[time]:
    out, s = [], start.hour * 3600 + start.minute * 60 + start.second
    stop = end.hour * 3600 + end.minute * 60 + end.second
    while s <= stop:
        out.append(time(s // 3600, s // 60 % 60, s % 60))
        s += seconds
    return out


# ------------------------------------------------------------------------------ opening auction
@pytest.mark.parametrize("latency", ["0", "2"])
def test_an_opening_auction_order_that_does_not_fill_continues_in_continuous_trading(tmp_path, latency):
    env = {"TILLER__SIM__ACK_LATENCY_S": latency, "TILLER__SIM__CANCEL_LATENCY_S": latency}
    day = open_day(_setup(tmp_path, settings_env=env))
    try:
        _auction_falls_back(day)
    finally:
        day.close()


def _auction_falls_back(day):
    start(day, "L1", "600000.SH", Side.BUY, 3000, "auction_open", auction_offset="-0.05")
    run(day, time(9, 15), time(9, 20), time(9, 25))
    kids = children(day, "L1")
    assert [(k[0], k[1], k[2], k[4]) for k in kids] == [(time(9, 15), 3000, D("9.50"), OrderStatus.ACCEPTED)]
    run(day, *every(time(9, 30), time(9, 32), 3))
    kids = children(day, "L1")
    assert kids[0][4] is OrderStatus.CANCELLED and kids[0][5] == 0  # the auction's order, cancelled at 9:30
    assert len(kids) == 2 and kids[1][0] >= time(9, 30) and kids[1][1] == 3000  # its rest, continuous
    assert kids[1][4] is OrderStatus.FILLED
    assert progress(day, "L1").filled_qty == 3000 and not progress(day, "L1").working


def test_an_opening_auction_order_that_fills_needs_no_fallback(day):
    start(day, "L1", "600000.SH", Side.BUY, 2000, "auction_open")
    run(day, time(9, 15), time(9, 25), time(9, 30), time(9, 31))
    kids = children(day, "L1")
    assert len(kids) == 1 and kids[0][4] is OrderStatus.FILLED and kids[0][2] == D("10.20")


def test_without_fallback_the_auction_order_is_left_alone_until_the_window_ends(day):
    start(
        day,
        "L1",
        "600000.SH",
        Side.BUY,
        1000,
        "auction_open",
        auction_offset="-0.05",
        fallback="false",
        end="09:40",
    )
    run(day, time(9, 15), time(9, 25), time(9, 31), time(9, 35))
    assert [k[4] for k in children(day, "L1")] == [OrderStatus.ACCEPTED]
    run(day, time(9, 40), time(9, 41))
    kids = children(day, "L1")
    assert [k[4] for k in kids] == [OrderStatus.CANCELLED]  # the end of the window, nothing re-sent
    assert "时间窗结束" in progress(day, "L1").note


def test_auction_at_the_limit_price(day):
    start(day, "L1", "000001.SZ", Side.SELL, 1000, "auction_open", auction_price="limit")
    run(day, time(9, 15))
    assert children(day, "L1")[0][2] == D("10.23")  # the down limit of 11.37


# ------------------------------------------------------------------------------ TWAP / VWAP
def test_twap_slices_at_their_times_in_lots_summing_to_the_line(tmp_path):
    setup = open_day(_setup(tmp_path, positions=ODD_HOLDING, settings_env=LIQUID))
    try:
        start(
            setup,
            "S",
            "000001.SZ",
            Side.SELL,
            3050,
            "twap",
            start="10:00",
            end="10:40",
            slices=4,
            offset_ticks=20,
            reprice_s=3600,
        )
        start(
            setup,
            "B",
            "600000.SH",
            Side.BUY,
            2500,
            "twap",
            start="10:00",
            end="10:40",
            slices=4,
            offset_ticks=20,
            reprice_s=3600,
        )
        run(setup, *every(time(10, 0), time(10, 41), 60))
        sells, buys = children(setup, "S"), children(setup, "B")
        for kids, total in ((sells, 3050), (buys, 2500)):
            assert sum(k[5] for k in kids) == total
            assert [k[0] for k in kids] == [time(10, 0), time(10, 10), time(10, 20), time(10, 30)]
        assert [k[1] for k in buys] == [600, 600, 600, 700]  # whole lots, the last takes the rest
        assert [k[1] for k in sells] == [
            700,
            800,
            700,
            850,
        ]  # targets 762, 1525, 2287: only the last carries the odd 50
    finally:
        setup.close()


def test_twap_slices_skip_the_lunch_break(liquid_day):
    day = liquid_day
    start(day, "B", "600000.SH", Side.BUY, 400, "twap", start="11:00", end="13:30", slices=4, offset_ticks=3,
          reprice_s=3600)  # fmt: skip
    run(day, *every(time(11, 0), time(11, 29), 60), *every(time(13, 0), time(13, 31), 60))
    kids = children(day, "B")
    created = {k[0] for k in kids}
    assert {time(11, 0), time(11, 15), time(13, 0), time(13, 15)} <= created  # a child at each slice
    assert not [t for t in created if time(11, 30) <= t < time(13, 0)]  # none in the lunch break
    assert all(k[1] == 100 for k in kids) and used(kids) <= 400


def test_vwap_sends_more_where_the_volume_is(liquid_day):
    day = liquid_day
    start(day, "V", "600000.SH", Side.BUY, 20000, "vwap", start="09:30", end="14:56", slices=8, participation=1,
          offset_ticks=3, reprice_s=3600)  # fmt: skip
    run(day, *every(time(9, 30), time(11, 29), 300), *every(time(13, 0), time(14, 56), 300))
    kids = children(day, "V")
    first = {}
    for created, qty, *_ in kids:  # the child each slice sends first: its share of the line
        first.setdefault(created, qty)
    sizes = list(first.values())
    assert len(sizes) >= 8 and all(s % 100 == 0 for s in sizes) and used(kids) <= 20000
    assert sizes[0] > sizes[3] and sizes[0] > sizes[4]  # U-shaped, like the day's volume: heavy at the open
    assert sum(k[5] for k in kids) > 15000


def test_a_slice_takes_at_most_its_share_of_the_volume_traded(day):
    start(
        day,
        "B",
        "600000.SH",
        Side.BUY,
        60_000,
        "twap",
        start="10:00",
        end="10:20",
        slices=2,
        participation="0.0001",
        offset_ticks=-30,
    )
    volumes = []
    for moment in every(time(10, 0), time(10, 9, 30), 30):
        at(day, moment)
        volumes.append(day.engine.call(lambda e: e.execution.quotes["600000.SH"].volume))
    at(day, time(10, 10))  # the slice, measured on the quotes before it
    kids = children(day, "B")
    cap = int((volumes[-1] - volumes[0]) * D("0.0001"))
    assert 0 < cap < 30_000
    assert kids[0][1] == 30_000  # the first slice: no earlier volume to measure against
    assert all(k[4] is not OrderStatus.DENIED for k in kids)
    assert 30_000 < used(kids) <= 30_000 + cap  # the last slice too is capped: the rest stays unsent


# ------------------------------------------------------------------------------ best five, close
def test_best_five_ioc_is_one_market_order_in_continuous_trading(day):
    start(day, "B", "600000.SH", Side.BUY, 3000, "best5", start="09:20")
    run(day, time(9, 20), time(9, 25))
    assert children(day, "B") == []  # market orders only in continuous trading
    run(day, time(9, 30), time(9, 31))
    kids = children(day, "B")
    assert len(kids) == 1 and kids[0][3] is PriceType.BEST5_IOC and kids[0][2] is None
    assert kids[0][4].is_final and kids[0][5] > 0
    run(day, time(9, 40))
    assert len(children(day, "B")) == 1 and not progress(day, "B").working


def test_closing_auction(day):
    start(day, "C", "000001.SZ", Side.SELL, 1200, "auction_close")
    run(day, time(14, 50), time(14, 56))
    assert children(day, "C") == []
    run(day, time(14, 57), time(14, 58))
    kids = children(day, "C")
    assert len(kids) == 1 and kids[0][0] == time(14, 57) and kids[0][3] is PriceType.LIMIT
    run(day, time(15, 0))
    assert children(day, "C")[0][4] is OrderStatus.FILLED


# ------------------------------------------------------------------------------ conditions
def test_no_buy_at_limit_up_and_the_reason_is_kept(day):
    run(day, time(10, 0))
    start(day, "U", LIMIT_UP, Side.BUY, 100, "limit")
    run(day, time(10, 1), time(10, 30))
    assert children(day, "U") == []
    p = progress(day, "U")
    assert "涨停" in p.note and p.sent_qty == 0 and p.working


def test_a_buy_is_skipped_when_the_open_gaps_up(day):
    # 600519.SH opens 1.95% above its close, 600000.SH 0.8% below (seed 5)
    start(day, "G", LIMIT_UP, Side.BUY, 100, "limit", gap_up_pct="0.01")
    start(day, "N", "600000.SH", Side.BUY, 100, "limit", gap_up_pct="0.01")
    run(day, time(9, 25), time(9, 31), time(9, 32))
    assert children(day, "G") == [] and "高开" in progress(day, "G").note
    assert not progress(day, "G").working
    assert len(children(day, "N")) == 1


def test_a_suspended_instrument_is_skipped(day):
    start(day, "X", SUSPENDED, Side.BUY, 100, "twap", start="09:30", end="10:00", slices=3)
    run(day, time(9, 30), time(9, 45), time(10, 0))
    assert children(day, "X") == [] and "停牌" in progress(day, "X").note
    assert not progress(day, "X").working


# ------------------------------------------------------------------------------ re-pricing, end
def test_unfilled_children_are_re_priced_and_never_overlap(day):
    start(day, "R", "600000.SH", Side.BUY, 1000, "limit", offset_ticks=-20, reprice_s=60, end="10:30")
    run(day, *every(time(9, 30), time(10, 0), 20))
    kids = children(day, "R")
    assert len(kids) >= 3
    assert len({k[2] for k in kids}) > 1  # new prices from the moving quote
    assert sum(1 for k in kids if not k[4].is_final) <= 1  # one working child at a time
    assert used(kids) <= 1000
    assert all(k[4] is OrderStatus.CANCELLED for k in kids[:-1])  # each ended before the next was sent


def test_what_is_still_working_at_the_end_of_the_window_is_cancelled(day):
    start(day, "E", "600000.SH", Side.BUY, 1000, "limit", offset_ticks=-30, end="10:05")
    run(day, time(9, 30), time(10, 0), time(10, 5), time(10, 6))
    kids = children(day, "E")
    assert kids and all(k[4] is OrderStatus.CANCELLED for k in kids)
    p = progress(day, "E")
    assert not p.working and "时间窗结束" in p.note
    run(day, time(10, 30))
    assert len(children(day, "E")) == len(kids)


# ------------------------------------------------------------------------------ pause, resume, stop
@pytest.mark.parametrize("ack", ["0", "2"])
def test_pause_resume_stop_mid_execution(tmp_path, ack):
    env = {"TILLER__SIM__ACK_LATENCY_S": ack, "TILLER__SIM__CANCEL_LATENCY_S": ack}
    setup = open_day(_setup(tmp_path, settings_env=env))
    try:
        start(
            setup,
            "B",
            "600000.SH",
            Side.BUY,
            4000,
            "twap",
            start="10:00",
            end="10:40",
            slices=4,
            offset_ticks=-30,
        )  # passive: the children stay working
        run(setup, time(10, 0), time(10, 0, 5))
        assert len(children(setup, "B")) == 1
        setup.engine.call(lambda e: e.execution.pause(Side.BUY, cancel_working=True))
        run(setup, time(10, 0, 10), *every(time(10, 10), time(10, 21), 30))
        kids = children(setup, "B")
        assert len(kids) == 1 and kids[0][4] is OrderStatus.CANCELLED  # no new child while paused
        setup.engine.call(lambda e: e.execution.pause(Side.SELL))  # the other side: no effect here
        setup.engine.call(lambda e: e.execution.resume(Side.BUY))
        run(setup, time(10, 21, 5), time(10, 21, 10))
        kids = children(setup, "B")
        assert len(kids) == 2 and kids[1][1] == 3000  # the rest up to slice 3's target, in one child
        setup.engine.call(lambda e: e.execution.stop("B"))
        run(setup, time(10, 21, 15), time(10, 21, 20), *every(time(10, 30), time(10, 41), 30))
        kids = children(setup, "B")
        assert len(kids) == 2 and all(k[4].is_final for k in kids)
        assert not progress(setup, "B").working and "停止" in progress(setup, "B").note
    finally:
        setup.close()


def test_a_second_start_is_ignored_and_progress_is_published(day):
    events = []
    day.engine.subscribe(lambda ev: events.append(ev) if isinstance(ev, ExecutionUpdated) else None)
    start(day, "B", "600000.SH", Side.BUY, 500, "limit")
    start(day, "B", "600000.SH", Side.BUY, 5000, "limit")
    run(day, time(9, 30), time(9, 31))
    kids = children(day, "B")
    assert sum(k[1] for k in kids) == 500
    assert any(ev.progress.line_id == "B" and ev.progress.filled_qty == 500 for ev in events)


def test_bad_parameters_stop_the_line_with_the_reason(day):
    start(day, "B", "600000.SH", Side.BUY, 500, "twap", slices="0")
    start(day, "C", "600000.SH", Side.BUY, 500, "teleport")
    start(day, "D", "600000.SH", Side.BUY, 500, "limit", colour="red")
    run(day, time(9, 30), time(9, 31))
    for line in "BCD":
        assert children(day, line) == []
        assert "参数错误" in progress(day, line).note and not progress(day, line).working


# ------------------------------------------------------------------------------ restart
def test_a_restart_mid_execution_does_not_send_beyond_the_line(tmp_path):
    request = ExecutionRequest(
        "R1",
        "strat",
        "600000.SH",
        Side.BUY,
        3000,
        "twap",
        {"start": "10:00", "end": "10:40", "slices": "3", "offset_ticks": "-30"},
    )
    setup = open_day(_setup(tmp_path))
    try:
        setup.engine.call(lambda e: e.execution.start(request))
        run(setup, *every(time(10, 0), time(10, 14), 30))
        before = children(setup, "R1")
        assert len(before) >= 2 and used(before) == 2000
    finally:
        setup.close()
    setup = _setup(tmp_path, start=time(10, 14, 30))
    open_day(setup)
    try:
        # The line went on by itself from its saved state (no one hands it over again; a second start is
        # ignored); what it found is read in the same engine call: a cancel on the wire at the stop may
        # end a child (and the policy note what it does next) any time.
        resumed, kids_now = setup.engine.call(
            lambda e: (
                e.execution.start(request),
                e.execution.progress("R1"),
                [(o.qty, o.status, o.filled_qty) for o in e.oms.orders.values() if o.signal_id == "R1"],
            )[1:]
        )
        assert len(kids_now) == len(before) and resumed is not None  # found by signal id
        assert resumed.sent_qty == sum(f if st.is_final else q for q, st, f in kids_now)
        run(setup, *every(time(10, 15), time(10, 41), 30))
        kids = children(setup, "R1")
        assert used(kids) <= 3000 and sum(k[5] for k in kids) <= 3000
        assert kids[: len(before)][0][:2] == before[0][:2] and len(kids) > len(before)
        for _, qty, *_ in kids:
            try:
                check_quantity("600000.SH", Side.BUY, qty)
            except QuantityError as exc:  # pragma: no cover - the assertion explains it
                pytest.fail(str(exc))
    finally:
        setup.close()


def test_a_child_cancelled_from_outside_stops_the_line_instead_of_being_sent_again(day):
    start(day, "B", "600000.SH", Side.BUY, 1000, "limit", offset_ticks=-30, reprice_s=600)
    run(day, time(9, 30), time(9, 31))
    (kid,) = day.engine.call(
        lambda e: [o.client_order_id for o in e.oms.orders.values() if o.signal_id == "B"]
    )
    day.engine.call(lambda e: e.cancel_all())  # the user's cancel-all
    run(day, time(9, 32), time(9, 40))
    kids = children(day, "B")
    assert len(kids) == 1 and kids[0][4] is OrderStatus.CANCELLED
    p = progress(day, "B")
    assert not p.working and kid in p.note and "停止" in p.note


def test_best_five_is_refused_for_a_stock_without_a_price_limit(tmp_path):
    ipo = InstrumentSpec("301999.SZ", prev_close=D("30.00"), listing_day=1)  # first day: no limit
    setup = open_day(_setup(tmp_path, codes=[*CODES, ipo], limit_up=(), suspended=()))
    try:
        start(setup, "I", "301999.SZ", Side.BUY, 100, "best5")
        run(setup, time(9, 30), time(9, 31))
        assert children(setup, "I") == []
        assert "市价" in progress(setup, "I").note and not progress(setup, "I").working
    finally:
        setup.close()


def test_a_twap_child_is_re_priced_between_slices(day):
    start(day, "T", "600000.SH", Side.BUY, 2000, "twap", start="10:00", end="10:40", slices=2, offset_ticks=-20,
          reprice_s=60)  # fmt: skip
    run(day, *every(time(10, 0), time(10, 12), 20))
    kids = children(day, "T")
    assert len(kids) > 1 and all(k[0] < time(10, 20) for k in kids)  # before the second slice
    assert all(k[4] is OrderStatus.CANCELLED for k in kids[:-1]) and not kids[-1][4].is_final
    assert used(kids) == 1000  # still the first slice's share


def test_no_sell_at_limit_down(tmp_path):
    setup = open_day(_setup(tmp_path, limit_up=(), suspended=(), limit_down=("000001.SZ",)))
    try:
        start(setup, "S", "000001.SZ", Side.SELL, 1000, "limit", start="11:00")
        run(setup, time(11, 0), time(11, 1), time(11, 20))
        quote = setup.engine.call(lambda e: e.execution.quotes["000001.SZ"])
        assert quote.last == D("10.23")  # locked at the down limit
        assert children(setup, "S") == []
        assert "跌停" in progress(setup, "S").note and progress(setup, "S").working
    finally:
        setup.close()
