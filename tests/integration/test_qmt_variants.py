"""The QMT gateway's scenarios against our stand-in AND against the pushes other miniQMTs may send
within the documented interface (tests/standins/xtvariants.py): callbacks in other orders, remarks
echoed cut short or empty, no strategy name, 48/49 before the counter's report, float noise, 55
skipped, 54 for a part-filled cancel, late duplicate trades, pushes from strange threads, other
programs' orders in the query. Whatever the variation, the same outcome: each fill booked once to
the order that made it, nothing sent twice, no order left working, the books equal the counter's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.core.oms import NewOrder
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus
from app.domain.side import Side
from tests.helpers.qmt import (
    DAY,
    QmtDay,
    make_qmt_day,
    open_qmt_day,
    qmt_at,
    qmt_books,
    qmt_orders,
    qmt_price,
    qmt_quote,
    settle_qmt,
)
from tests.standins import xtpythonclient as standin

WAIT = 30.0
PROFILES = {
    "ours": (),
    "trade_before_order": ("trade_before_order",),
    "order_before_response": ("order_before_response",),
    "short_remarks": ("remark_truncated", "strategy_missing", "pre_report"),
    "no_remarks_any_order": ("remark_empty", "order_before_response", "trade_before_order"),
    "noisy": ("noise", "skip_55", "cancel_as_54", "late_duplicates", "foreign_threads"),
    "foreign_orders": ("foreign_orders", "pre_report", "remark_truncated"),
}


@pytest.fixture(autouse=True)
def _standin_exchanges() -> Iterator[None]:
    yield
    standin.reset()


@pytest.fixture(params=list(PROFILES), ids=list(PROFILES))
def variations(request: pytest.FixtureRequest) -> tuple[str, ...]:
    return PROFILES[request.param]


def _day(folder: Path, variations: tuple[str, ...], **kwargs: object) -> QmtDay:
    day = open_qmt_day(make_qmt_day(folder, variations=variations, **kwargs))  # type: ignore[arg-type]
    qmt_at(day, 9, 31)
    return day


def _submit(day: QmtDay, *requests: NewOrder) -> list[str]:
    ids = day.setup.terminal.submit(list(requests), timeout=WAIT)
    settle_qmt(day)
    return ids


def _alerts(day: QmtDay) -> list[str]:
    return day.engine.call(lambda e: [a.message for a in e.alerts])


def _sound(day: QmtDay) -> None:
    """What holds whatever the variation: every push read, books equal, holds equal, fills once."""
    assert day.gateway.unreadable == 0
    mine, theirs = qmt_books(day)
    assert mine == theirs
    available = day.engine.call(lambda e: e.oms.cash.available)
    assert available == day.exchange.broker.query_asset().available  # no hold left behind
    booked = day.engine.call(lambda e: sorted((str(r.trade_id), r.qty) for r in e.oms.trade_ids.values()))
    at_counter = sorted((str(t.trade_id), t.qty) for t in day.exchange.broker.query_trades())
    assert booked == at_counter
    assert not [a for a in _alerts(day) if "内容不同" in a]  # no fill reported twice differently


def _tillers(day: QmtDay) -> dict[str, object]:
    return {cid: o for cid, o in qmt_orders(day).items() if not o.external}


def test_a_fill_is_booked_once_to_its_order(tmp_path: Path, variations: tuple[str, ...]) -> None:
    day = _day(tmp_path / "acct", variations)
    try:
        price = qmt_price(day, "600000.SH", Side.BUY, marketable=True)
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, price, strategy_id="alpha"))
        qmt_at(day, 9, 31, 3)
        tillers = _tillers(day)
        assert list(tillers) == [cid]
        got = tillers[cid]
        assert got.status is OrderStatus.FILLED and got.filled_qty == 1000, got  # type: ignore[attr-defined]
        assert got.broker_order_id is not None  # type: ignore[attr-defined]
        assert not [o for o in qmt_orders(day).values() if o.external and o.filled_qty]
        held = day.engine.call(lambda e: e.oms.ledger.get("alpha", "600000.SH"))
        assert held is not None and held.total == 1000  # the strategy's own fill, not "external"
        _sound(day)
        day.setup.terminal.resync()  # the query says the same: nothing changes, nothing twice
        settle_qmt(day)
        assert qmt_orders(day)[cid].filled_qty == 1000
        _sound(day)
        assert day.exchange.orders_received == 1
    finally:
        day.close()


def test_part_fills_then_a_cancel_end_the_order_with_the_counters_fills(
    tmp_path: Path, variations: tuple[str, ...]
) -> None:
    day = _day(tmp_path / "acct", variations, broker_kwargs={"participation": D("0.02")})
    try:
        price = qmt_quote(day, "600000.SH").best_ask  # takes the first level, the rest waits
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 60_000, price))
        assert qmt_orders(day)[cid].status is OrderStatus.PARTIALLY_FILLED
        day.exchange.faults.hold_cancels = True
        day.setup.terminal.cancel(cid)
        settle_qmt(day)
        assert qmt_orders(day)[cid].status.is_working  # pending, never assumed cancelled
        day.exchange.release_cancels()
        settle_qmt(day)
        qmt_at(day, 9, 31, 6)
        got = qmt_orders(day)[cid]
        at_counter = next(r for r in day.exchange.broker.query_orders() if r.client_order_id == cid)
        assert got.status is OrderStatus.CANCELLED, got
        assert 0 < got.filled_qty == at_counter.filled_qty < 60_000
        assert list(_tillers(day)) == [cid]
        _sound(day)
    finally:
        day.close()


def test_a_refusal_ends_the_order_with_the_brokers_words(tmp_path: Path, variations: tuple[str, ...]) -> None:
    day = _day(tmp_path / "acct", variations)
    try:
        day.exchange.faults.reject_next = ["可用资金不足"]
        price = qmt_price(day, "600000.SH", Side.BUY, marketable=True)
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, price))
        qmt_at(day, 9, 31, 3)
        got = qmt_orders(day)[cid]
        assert got.status is OrderStatus.REJECTED and "可用资金不足" in got.status_msg, got
        assert list(_tillers(day)) == [cid]
        _sound(day)
    finally:
        day.close()


def test_a_hand_order_and_other_programs_orders_are_external(
    tmp_path: Path, variations: tuple[str, ...]
) -> None:
    day = _day(tmp_path / "acct", variations)
    try:
        (cid,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, qmt_price(day, "600000.SH", Side.BUY,
                                                                          marketable=False)))  # fmt: skip
        day.exchange.place_by_hand(
            "600000.SH", Side.BUY, 500, qmt_price(day, "600000.SH", Side.BUY, marketable=True)
        )
        qmt_at(day, 9, 31, 3)
        day.setup.terminal.resync()
        settle_qmt(day)
        tillers = _tillers(day)
        assert list(tillers) == [cid] and tillers[cid].status is OrderStatus.ACCEPTED  # type: ignore[attr-defined]
        external = [o for o in qmt_orders(day).values() if o.external]
        assert [o.filled_qty for o in external if o.filled_qty] == [500]
        _sound(day)
    finally:
        day.close()


def test_an_order_nobody_answers_is_asked_about_then_expired(
    tmp_path: Path, variations: tuple[str, ...]
) -> None:
    day = _day(tmp_path / "acct", variations)
    try:
        day.exchange.faults.silent_next = 1
        (lost,) = _submit(day, NewOrder("600000.SH", Side.BUY, 1000, qmt_price(day, "600000.SH", Side.BUY,
                                                                           marketable=False)))  # fmt: skip
        (kept,) = _submit(day, NewOrder("600000.SH", Side.BUY, 500, qmt_price(day, "600000.SH", Side.BUY,
                                                                          marketable=False)))  # fmt: skip
        t = datetime.combine(DAY, time(9, 31), CN_TZ)
        for _ in range(12):
            t += timedelta(seconds=5)
            qmt_at(day, t.time())
        orders = qmt_orders(day)
        assert orders[lost].status is OrderStatus.EXPIRED
        assert orders[kept].status is OrderStatus.ACCEPTED and orders[kept].broker_order_id is not None
        assert day.exchange.orders_received == 2  # asked about, never sent again
        _sound(day)
    finally:
        day.close()
