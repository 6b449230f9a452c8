"""Positions with T+1: shares bought today are not sellable until the next trading day.

`settled` is what may be sold (RULES.md B4: T+1 for stocks and equity ETFs; T+0 kinds
settle at once); `frozen` is held by working sell orders; `sellable = settled - frozen`.
Average cost includes buy fees, so realized P&L is net of every fee. Both are rounded by the
policy of `app.domain.money` (average to 0.0001 after each buy, realized P&L to the fen per
fill), the same functions the simulated broker's books use.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from app.domain.errors import DomainError
from app.domain.money import avg_cost_after_buy, realized_pnl

ZERO = Decimal(0)


class InsufficientSharesError(DomainError, ValueError):
    """A sell larger than what can be sold now."""


@dataclass(slots=True)
class Position:
    code: str
    strategy_id: str = ""
    total: int = 0
    settled: int = 0
    frozen: int = 0
    avg_cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    t_plus_zero: bool = False

    @property
    def sellable(self) -> int:
        return self.settled - self.frozen

    @property
    def today_qty(self) -> int:
        """Bought today and not yet settled (always 0 for T+0 instruments)."""
        return self.total - self.settled

    def market_value(self, last: Decimal) -> Decimal:
        return last * self.total

    def unrealized_pnl(self, last: Decimal) -> Decimal:
        return (last - self.avg_cost) * self.total

    def freeze(self, qty: int) -> None:
        """Hold shares for a working sell order."""
        if qty <= 0 or qty > self.sellable:
            raise InsufficientSharesError(
                f"{self.code}: cannot sell {qty} shares, sellable now {self.sellable} "
                f"(held {self.total}, bought today {self.today_qty}, frozen {self.frozen})"
            )
        self.frozen += qty

    def unfreeze(self, qty: int) -> None:
        """Release shares of a sell that ended without filling them."""
        self.frozen = max(0, self.frozen - qty)

    def apply_buy(self, qty: int, price: Decimal, fees: Decimal) -> None:
        self.avg_cost = avg_cost_after_buy(self.avg_cost, self.total, qty, price * qty, fees)
        self.total += qty
        if self.t_plus_zero:
            self.settled += qty

    def apply_sell(self, qty: int, price: Decimal, fees: Decimal, *, frozen: bool = True) -> Decimal:
        """Apply a sell fill; `frozen` says the shares were held by the order. Returns realized P&L."""
        if qty > self.settled or qty > self.total:
            raise InsufficientSharesError(
                f"{self.code}: sell fill of {qty} exceeds settled shares {self.settled}"
            )
        pnl = realized_pnl(self.avg_cost, qty, price * qty, fees)
        self.total -= qty
        self.settled -= qty
        if frozen:
            self.frozen = max(0, self.frozen - qty)
        self.realized_pnl += pnl
        if self.total == 0:
            self.avg_cost = ZERO
        return pnl

    def roll_day(self) -> None:
        """A new trading day: yesterday's buys settle."""
        self.settled = self.total
        self.frozen = 0
