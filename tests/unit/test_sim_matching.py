"""The simulated counter's matching model (app/gateways/sim/matching.py), without the broker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from app.domain.clock import CN_TZ
from app.domain.market import Quote
from app.domain.side import Side
from app.gateways.sim.matching import Book, auction_allocation, by_priority

P = Decimal("0.25")
TS = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)


def snapshot(*, last: str = "10.00", volume: int = 0, bids=(), asks=()) -> Quote:
    d = Decimal
    return Quote(
        "600000.SH", TS, d(last), d(last), d(last), d(last), d("10.00"), volume, d(last) * volume,
        tuple(d(p) for p, _ in bids), tuple(v for _, v in bids), tuple(d(p) for p, _ in asks), tuple(v for _, v in asks),
    )  # fmt: skip


@dataclass
class Order:
    oid: int
    side: Side
    work_price: Decimal | None


def test_take_then_best_levels_first_bounded_by_participation_and_limit() -> None:
    book = Book()
    book.refresh(snapshot(asks=[("10.01", 400), ("10.02", 800), ("10.03", 4000)]), P, baseline=False)
    fills = book.take(Side.BUY, Decimal("10.02"), 1000)
    assert fills == [(Decimal("10.01"), 100), (Decimal("10.02"), 200)]
    assert book.take(Side.BUY, Decimal("10.02"), 1000) == []  # used up on this snapshot


def test_take_with_no_limit_then_at_most_the_given_levels() -> None:
    book = Book()
    book.refresh(snapshot(bids=[(f"9.9{9 - i}", 400) for i in range(5)]), P, baseline=False)
    assert [q for _, q in book.take(Side.SELL, None, 10_000, levels=3)] == [100, 100, 100]
    assert book.available(Side.SELL, None) == 200


def test_refresh_then_liquidity_renewed_and_trade_through_needs_a_baseline() -> None:
    book = Book()
    assert book.refresh(snapshot(volume=1000, asks=[("10.01", 400)]), P, baseline=False) == 0
    book.take(Side.BUY, None, 100)
    assert book.refresh(snapshot(volume=3000, asks=[("10.01", 400)]), P, baseline=True) == 2000
    assert book.available(Side.BUY, None) == 100
    assert book.traded_buy == book.traded_sell == 500


def test_take_traded_then_only_when_last_is_at_or_better_than_the_limit() -> None:
    book = Book()
    book.refresh(snapshot(volume=1000, bids=[("9.99", 100)], asks=[("10.01", 100)]), P, baseline=False)
    book.refresh(
        snapshot(last="10.00", volume=3000, bids=[("9.99", 100)], asks=[("10.01", 100)]), P, baseline=True
    )
    assert book.take_traded(Side.BUY, Decimal("9.99"), 1000) == 0  # traded above our bid
    assert book.take_traded(Side.BUY, Decimal("10.00"), 300) == 300
    assert book.take_traded(Side.BUY, Decimal("10.00"), 1000) == 200  # 500 in all
    assert book.take_traded(Side.SELL, Decimal("10.00"), 1000) == 500


def test_take_traded_at_a_locked_limit_then_nothing() -> None:
    book = Book()
    book.refresh(snapshot(last="11.00", volume=1000, bids=[("11.00", 9000)]), P, baseline=False)
    book.refresh(snapshot(last="11.00", volume=9000, bids=[("11.00", 9000)]), P, baseline=True)
    assert book.take_traded(Side.BUY, Decimal("11.00"), 1000) == 0
    assert book.locked_against(Side.BUY, Decimal("11.00"), Decimal("11.00"), Decimal("9.00"))
    assert not book.locked_against(Side.SELL, Decimal("11.00"), Decimal("11.00"), Decimal("9.00"))


def test_by_priority_then_better_price_first_then_earlier() -> None:
    orders = [
        Order(1, Side.BUY, Decimal("10.00")),
        Order(2, Side.BUY, Decimal("10.02")),
        Order(3, Side.BUY, Decimal("10.02")),
        Order(4, Side.SELL, Decimal("10.05")),
        Order(5, Side.BUY, None),
    ]
    assert [o.oid for o in by_priority(orders, Side.BUY)] == [2, 3, 1]
    assert [o.oid for o in by_priority(orders, Side.SELL)] == [4]


def test_auction_allocation_then_crossing_orders_in_priority_until_the_budget_is_spent() -> None:
    a, b, c = (
        Order(1, Side.BUY, Decimal("10.05")),
        Order(2, Side.BUY, Decimal("10.10")),
        Order(3, Side.BUY, Decimal("10.00")),
    )
    fills = auction_allocation([(a, 400), (b, 300), (c, 1000)], Side.BUY, Decimal("10.05"), 500)
    assert [(o.oid, q) for o, q in fills] == [(2, 300), (1, 200)]  # c is below the print: out
