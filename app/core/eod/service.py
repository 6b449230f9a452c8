"""The close of a day, run on the engine thread: query the broker, reconcile, record the settlement,
the day's cash, positions and performance, and put the sync payload in the outbox — all in one
transaction of the day's store (`EodStore`), so a crash leaves the whole close or none of it.

Delivery of the payload is not here: it is HTTP work for a worker (app/clients/sync.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from app.core.books_check import BrokerBooks, LocalBooks
from app.core.eod.payload import DayFacts, build_payload, same_content
from app.core.eod.performance import (
    AttributedTrade,
    DayEquity,
    DayPerformance,
    StrategyAttribution,
    attribute,
    performance_series,
)
from app.core.eod.reconcile import Reconciliation, SettlementStatus, failed, reconcile
from app.core.eod.settlement import Settlement
from app.domain.reports import BrokerAsset, BrokerPosition

if TYPE_CHECKING:
    from app.core.engine import Engine


@dataclass(frozen=True, slots=True)
class DailyPositionRow:
    code: str
    strategy_id: str
    qty: int
    sellable: int
    today_qty: int
    avg_cost: Decimal
    last_price: Decimal | None
    market_value: Decimal | None
    realized_pnl: Decimal
    unrealized_pnl: Decimal | None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    sync_id: str
    day: date
    revision: int
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DayRecord:
    """What the close of a day writes, in one transaction."""

    settlement: Settlement
    asset: BrokerAsset | None = None
    net_transfer: Decimal = Decimal(0)
    positions: Sequence[DailyPositionRow] = ()
    performance: DayPerformance | None = None
    attribution: Sequence[StrategyAttribution] = ()
    outbox: OutboxEntry | None = None  # None: nothing new to send (the same content is already there)


class EodStore(Protocol):
    """The close's persistence, on the engine's connection (app/storage/eod_store.py)."""

    def load_settlements(self) -> list[Settlement]: ...

    def load_equity(self) -> list[DayEquity]:
        """The closing equity of every settled day (daily_cash), in day order."""
        ...

    def latest_outbox(self, day: date) -> OutboxEntry | None:
        """The newest revision of the day's payload, delivered or not."""
        ...

    def save_day(self, record: DayRecord, now: datetime) -> None: ...

    def resolve(self, day: date, now: datetime) -> bool:
        """Mark a day that did not settle as accepted by the investor; False if there was nothing to resolve."""
        ...


@dataclass(frozen=True, slots=True)
class EodResult:
    day: date
    reconciliation: Reconciliation
    performance: DayPerformance | None
    attribution: tuple[StrategyAttribution, ...] = ()
    outbox: OutboxEntry | None = None  # the day's current payload (new or already in the outbox)
    new_revision: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)


def close_day(
    engine: Engine,
    store: EodStore,
    *,
    day: date,
    account_id: str,
    opening_equity: Decimal | None = None,
    net_transfer: Decimal = Decimal(0),
) -> EodResult:
    """Call on the engine thread (Engine.call). Never raises for the broker's sake: a broker that cannot
    be queried makes a `failed` settlement (and an alert); a storage failure does raise."""
    now = engine.clock.now()
    gateway = engine.gateway
    try:
        asset = gateway.query_asset()
        positions = gateway.query_positions()
        broker_orders = gateway.query_orders()
        broker_trades = gateway.query_trades()
    except Exception as exc:
        result = failed(f"查询券商失败 (the broker could not be queried): {exc}")
        store.save_day(DayRecord(Settlement(day, result.status, result.differences, now)), now)
        engine.alert("error", "reconcile", f"{day} {result.differences[0]}")
        return EodResult(day, result, None)

    oms = engine.oms
    orders = [o for o in oms.orders.values() if o.trading_day == day]
    local = LocalBooks(
        cash=oms.cash.cash,
        positions={c: p.total for c, p in oms.positions.items() if p.total},
        trades=engine.store.load_trades(day),
        orders=orders,
        avg_costs={c: p.avg_cost for c, p in oms.positions.items() if p.total},
    )
    result = reconcile(local, BrokerBooks(asset, positions, broker_trades, broker_orders))
    previous = {s.day: s for s in store.load_settlements()}.get(day)
    status = result.status
    if (
        previous is not None
        and previous.status is SettlementStatus.RESOLVED
        and status is SettlementStatus.DIFFERENCES
        and tuple(previous.differences) == result.differences
    ):
        status = SettlementStatus.RESOLVED  # the investor already accepted exactly these
    for difference in result.differences:
        engine.alert("warning", "reconcile", f"{day} 对账差异 (reconciliation difference): {difference}")

    # performance over every earlier settled day and this one
    series = [e for e in store.load_equity() if e.day != day]
    series.append(DayEquity(day, asset.total_asset, net_transfer))
    perf = performance_series(series, opening_equity=opening_equity)
    today = next(p for p in perf if p.day == day)
    closes = dict(oms.last_prices)
    closes.update({p.code: p.last_price for p in positions if p.last_price is not None})
    strategy_of = {o.client_order_id: o.strategy_id for o in orders}
    trades = [
        AttributedTrade(
            strategy_of.get(t.client_order_id, "")
            if t.client_order_id
            else _strategy_by_bid(orders, t.broker_order_id),
            t.code,
            t.side,
            t.qty,
            t.price,
            t.fees,
        )
        for t in broker_trades
    ]
    counts: dict[str, int] = {}
    for o in orders:
        if o.strategy_id:
            counts[o.strategy_id] = counts.get(o.strategy_id, 0) + 1
    attribution = attribute(trades, closes, today.pnl, counts)

    position_strategies = {c: p.strategy_id for c, p in oms.positions.items() if p.strategy_id}
    facts = DayFacts(
        day=day,
        account_id=account_id,
        asset=asset,
        positions=positions,
        broker_orders=broker_orders,
        broker_trades=broker_trades,
        local_orders=orders,
        position_strategies=position_strategies,
        reconciliation=Reconciliation(status, result.differences),
        net_transfer=net_transfer,
    )
    latest = store.latest_outbox(day)
    payload = build_payload(facts, 1 if latest is None else latest.revision)
    outbox: OutboxEntry | None
    if latest is not None and same_content(latest.payload, payload):
        current, outbox = latest, None
    else:
        revision = 1 if latest is None else latest.revision + 1
        payload = build_payload(facts, revision)
        current = outbox = OutboxEntry(payload["sync_id"], day, revision, payload)
    store.save_day(
        DayRecord(
            Settlement(day, status, result.differences, now),
            asset=asset,
            net_transfer=net_transfer,
            positions=_daily_positions(positions, oms.positions, position_strategies),
            performance=today,
            attribution=attribution,
            outbox=outbox,
        ),
        now,
    )
    return EodResult(
        day,
        Reconciliation(status, result.differences),
        today,
        tuple(attribution),
        current,
        new_revision=outbox is not None,
    )


def _strategy_by_bid(orders: Sequence[Any], broker_order_id: str) -> str:
    for o in orders:
        if o.broker_order_id == broker_order_id:
            return o.strategy_id
    return ""


def _daily_positions(
    broker: Sequence[BrokerPosition], local: Any, strategies: dict[str, str]
) -> list[DailyPositionRow]:
    rows = []
    for p in broker:
        if p.total <= 0:
            continue
        mine = local.get(p.code)
        last = p.last_price
        rows.append(
            DailyPositionRow(
                code=p.code,
                strategy_id=strategies.get(p.code, ""),
                qty=p.total,
                sellable=p.sellable,
                today_qty=max(0, p.total - p.sellable - p.frozen),
                avg_cost=p.avg_price,
                last_price=last,
                market_value=None if last is None else last * p.total,
                realized_pnl=mine.realized_pnl if mine is not None else Decimal(0),
                unrealized_pnl=None if last is None else (last - p.avg_price) * p.total,
            )
        )
    return rows


EodStoreFactory = Callable[[Any], EodStore]
