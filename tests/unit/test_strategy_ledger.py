"""The per-strategy sub-ledger (app/core/planning/ledger.py): fills by strategy, T+1, and a
strategy's sellable shares — its own, then unattributed ones, never another strategy's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.planning.ledger import StrategyLedger, StrategyPosition
from app.domain.identifiers import ClientOrderId
from app.domain.orders import Order, OrderStatus, PriceType
from app.domain.positions import Position
from app.domain.side import Side

CODE = "600000.SH"
DAY = date(2026, 11, 23)


def sell(strategy: str, qty: int, n: int) -> Order:
    return Order(
        client_order_id=ClientOrderId(f"T2611230A{n:04d}"), code=CODE, side=Side.SELL, qty=qty, price=D("10"), price_type=PriceType.LIMIT,
        created_at=datetime(2026, 11, 23, 1, tzinfo=UTC), trading_day=DAY, strategy_id=strategy,
        status=OrderStatus.ACCEPTED,
    )  # fmt: skip


def test_fills_are_booked_per_strategy_with_cost_and_pnl_and_settle_next_day() -> None:
    ledger = StrategyLedger()
    row = ledger.on_fill("s1", CODE, Side.BUY, 1000, D("10.00"), D("5.00"), False)
    assert (row.total, row.settled, row.avg_cost) == (1000, 0, D("10.0050"))
    assert ledger.on_fill("", CODE, Side.BUY, 500, D("10"), D("5"), False) is None  # unattributed
    assert [p.strategy_id for p in ledger.roll_day()] == ["s1"] and row.settled == 1000
    ledger.on_fill("s1", CODE, Side.SELL, 400, D("11.00"), D("7.00"), False)
    assert (row.total, row.settled) == (600, 600)
    assert row.realized_pnl == D("11.00") * 400 - D("10.0050") * 400 - D("7.00")
    ledger.on_fill("s1", CODE, Side.SELL, 900, D("11.00"), D("9.00"), False)  # 300 from unattributed
    assert (row.total, row.settled, row.avg_cost) == (0, 0, D(0))


def test_transfer_re_attributes_a_position() -> None:
    ledger = StrategyLedger([StrategyPosition("old", CODE, 300, 300, D("10")),
                             StrategyPosition("new", CODE, 100, 100, D("12"))])  # fmt: skip
    ledger.transfer("old", "new", CODE)
    new = ledger.get("new", CODE)
    assert (new.total, new.settled, new.avg_cost) == (400, 400, D("10.5000"))
    assert ledger.get("old", CODE).total == 0


@settings(max_examples=300, deadline=None)
@given(
    own=st.dictionaries(st.sampled_from(["s1", "s2", "s3"]), st.integers(0, 5000), max_size=3),
    extra=st.integers(0, 3000),
    asks=st.lists(st.tuples(st.sampled_from(["s1", "s2", "s3"]), st.integers(1, 6000)), max_size=12),
)
def test_no_strategy_ever_sells_another_strategys_shares(own, extra, asks) -> None:
    ledger = StrategyLedger([StrategyPosition(s, CODE, q, q) for s, q in own.items()])
    total = sum(own.values()) + extra
    account = Position(CODE, "", total, total)
    working: list[Order] = []
    for n, (strategy, qty) in enumerate(asks):
        can = ledger.sellable(strategy, CODE, account, working)
        assert 0 <= can <= account.sellable
        if qty <= can:  # what OrderManager.create lets through
            account.freeze(qty)
            working.append(sell(strategy, qty, n))
    by: dict[str, int] = {}
    for o in working:
        by[o.strategy_id] = by.get(o.strategy_id, 0) + o.qty
    assert sum(by.values()) <= total
    # beyond its own shares, the strategies together never sell more than the unattributed ones
    beyond = sum(max(0, q - own.get(s, 0)) for s, q in by.items())
    assert beyond <= extra


def test_a_sell_no_strategy_made_takes_from_the_strategies_only_what_the_account_lost() -> None:
    ledger = StrategyLedger(
        [StrategyPosition("s1", CODE, 3000, 3000), StrategyPosition("s2", CODE, 1000, 1000)]
    )
    assert ledger.clip_to_account(CODE, Position(CODE, "", 4500, 4500)) == []  # 500 unattributed: enough
    changed = ledger.clip_to_account(CODE, Position(CODE, "", 3500, 3500))  # a hand-typed sell of 1,000
    assert [(p.strategy_id, p.total, p.settled) for p in changed] == [("s1", 2500, 2500)]
    assert ledger.attributed(CODE) == (3500, 3500)
    ledger.clip_to_account(CODE, Position(CODE, "", 0, 0))
    assert ledger.attributed(CODE) == (0, 0)


@settings(max_examples=200, deadline=None)
@given(
    own=st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 5000)), min_size=1, max_size=4),
    account_total=st.integers(0, 20000),
    account_settled=st.integers(0, 20000),
)
def test_clipping_never_leaves_the_strategies_above_the_account(own, account_total, account_settled) -> None:
    rows = [StrategyPosition(f"s{i}", CODE, max(t, s), min(t, s)) for i, (t, s) in enumerate(own)]
    before = {p.strategy_id: (p.total, p.settled) for p in rows}
    ledger = StrategyLedger(rows)
    account = Position(CODE, "", account_total, min(account_total, account_settled))
    ledger.clip_to_account(CODE, account)
    total, settled = ledger.attributed(CODE)
    assert total <= account.total and settled <= account.settled
    for p in rows:
        assert 0 <= p.settled <= p.total <= before[p.strategy_id][0]
