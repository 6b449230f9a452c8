"""The OMS's books as the risk gate's account view (engine thread only)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from app.domain.market import InstrumentInfo

if TYPE_CHECKING:
    from app.core.oms import OrderManager

ZERO = Decimal(0)


class OmsAccountView:
    """Total assets = cash + holdings at the last price (the average cost when no price is known);
    exposure adds what working buys hold."""

    __slots__ = ("_oms",)

    def __init__(self, oms: OrderManager) -> None:
        self._oms = oms

    def _mark(self, code: str, fallback: Decimal) -> Decimal:
        last = self._oms.last_prices.get(code)
        return last if last is not None else fallback

    def market_value(self) -> Decimal:
        return sum(
            (p.total * self._mark(p.code, p.avg_cost) for p in self._oms.positions.values() if p.total),
            ZERO,
        )

    def total_assets(self) -> Decimal:
        return self._oms.cash.cash + self.market_value()

    def assets(self) -> tuple[Decimal, Decimal]:
        cash = self._oms.cash
        value = self.market_value()
        return cash.cash + value, value + cash.frozen

    def code_exposure(self, code: str) -> Decimal:
        """The holding at the last price plus the cash the code's working buys hold (their rest and
        its fees), which the OMS keeps summed per code (OrderManager.buy_held)."""
        oms = self._oms
        position = oms.positions.get(code)
        value = oms.buy_held.get(code, ZERO)
        if position is not None and position.total:
            value += position.total * self._mark(code, position.avg_cost)
        return value

    def last_price(self, code: str) -> Decimal | None:
        return self._oms.last_prices.get(code)

    def instrument(self, code: str) -> InstrumentInfo | None:
        return self._oms.instruments.get(code)
