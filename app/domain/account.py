"""The cash book: balance, and cash frozen for working buys including their fees.

Proceeds of a sell may buy again the same day (they are "available"); withdrawing them
waits for settlement, which a trading terminal does not do, so it is not modelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.errors import DomainError
from app.domain.identifiers import ClientOrderId

ZERO = Decimal(0)


class InsufficientCashError(DomainError, ValueError):
    """A buy whose cost with fees exceeds available cash."""


@dataclass(slots=True)
class CashBook:
    cash: Decimal
    reservations: dict[ClientOrderId, Decimal] = field(default_factory=dict)
    frozen: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.cash - self.frozen

    def reserve(self, client_order_id: ClientOrderId, amount: Decimal) -> None:
        """Freeze cash for a working buy (turnover at its limit price plus estimated fees)."""
        if amount < 0:
            raise ValueError(f"cannot reserve a negative amount, was {amount}")
        if client_order_id in self.reservations:
            raise ValueError(f"cash for order {client_order_id} is already reserved")
        if amount > self.available:
            raise InsufficientCashError(
                f"not enough cash: needs {amount:.2f} including fees, available {self.available:.2f}"
            )
        self.reservations[client_order_id] = amount
        self.frozen += amount

    def release(self, client_order_id: ClientOrderId) -> Decimal:
        """The buy ended: unfreeze whatever it still held."""
        amount = self.reservations.pop(client_order_id, ZERO)
        self.frozen -= amount
        return amount

    def apply_buy_fill(
        self, client_order_id: ClientOrderId | None, amount: Decimal, fees: Decimal, still_reserved: Decimal
    ) -> None:
        """Pay for a buy fill; the order's reservation shrinks to `still_reserved` (never grows)."""
        self.cash -= amount + fees
        if client_order_id is not None and client_order_id in self.reservations:
            old = self.reservations[client_order_id]
            new = min(old, max(ZERO, still_reserved))
            self.reservations[client_order_id] = new
            self.frozen += new - old

    def apply_sell_fill(self, amount: Decimal, fees: Decimal) -> None:
        self.cash += amount - fees
