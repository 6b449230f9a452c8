"""What happened today, in numbers a person reads: built on the engine thread from its books."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.core.engine import Engine
from app.core.messages import AccountSnapshot, OrderSnapshot, PositionSnapshot
from app.domain.orders import OrderStatus

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class DaySummary:
    trading_day: date
    orders: tuple[OrderSnapshot, ...]
    positions: tuple[PositionSnapshot, ...]
    account: AccountSnapshot
    start_cash: Decimal
    start_equity: Decimal
    trades: int
    alerts: tuple[str, ...]

    @property
    def counts(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for order in self.orders:
            if order.status is OrderStatus.CANCELLED and order.filled_qty:
                counts["partly filled, rest cancelled"] += 1
            elif order.status is OrderStatus.EXPIRED and order.filled_qty:
                counts["partly filled, rest expired"] += 1
            else:
                counts[order.status.value] += 1
        return counts

    @property
    def fees(self) -> Decimal:
        return sum((o.fees for o in self.orders), ZERO)

    @property
    def realized_pnl(self) -> Decimal:
        return sum((p.realized_pnl for p in self.positions), ZERO)

    @property
    def unrealized_pnl(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions), ZERO)

    @property
    def equity(self) -> Decimal:
        return self.account.total_asset

    @property
    def day_pnl(self) -> Decimal:
        return self.equity - self.start_equity


def summarize(engine: Engine, *, start_cash: Decimal, start_equity: Decimal) -> DaySummary:
    """Call on the engine thread (engine.call(lambda e: summarize(e, ...)))."""
    oms = engine.oms
    orders = tuple(OrderSnapshot.of(o) for o in sorted(oms.orders.values(), key=lambda o: o.created_at))
    positions = tuple(
        PositionSnapshot.of(p, oms.last_prices.get(p.code))
        for p in sorted(oms.positions.values(), key=lambda p: p.code)
    )
    return DaySummary(
        trading_day=oms.trading_day,
        orders=orders,
        positions=positions,
        account=engine.account_snapshot(),
        start_cash=start_cash,
        start_equity=start_equity,
        trades=len(oms.trade_ids),
        alerts=tuple(f"[{a.level}] {a.message}" for a in engine.alerts),
    )


def equity(engine: Engine) -> Decimal:
    return engine.account_snapshot().total_asset
