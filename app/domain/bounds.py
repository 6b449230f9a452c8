"""Bounds on every number that enters from outside (planned orders, the command line, the window).

Exchange rules (`quantity`, `prices`) say whether an order is *allowed*; these bounds say whether a
value is even *sane* to hold, compute with and store: SQLite's INTEGER is 64-bit, Decimal has an
exponent range, and an order for 10^30 shares or at 1e400 yuan is a typing error, never a trade.
A value outside them is refused at the boundary, with a message that names it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.domain.errors import RuleViolation

# The largest per-order quantity any board allows is 1,000,000 shares (RULES B3); 10^9 leaves
# room for a planner's parent quantity (split later into orders) and is far from 2^63.
MAX_QTY = 1_000_000_000
# The dearest A-share has traded below 3,000 yuan; 1,000,000 leaves two orders of magnitude.
MAX_PRICE = Decimal("1000000")
# Prices have at most 3 decimals on any board (fund tick 0.001); 4 allows BigQuant's references.
PRICE_DECIMALS = 4
# Amounts of money an account can hold: 10^13 yuan is more than the whole A-share market.
MAX_MONEY = Decimal("10000000000000")


class BoundsError(RuleViolation):
    """A value that cannot be a real quantity, price or amount."""


def shown(value: Any, limit: int = 40) -> str:
    """A value for an error message, cut short: repr() of a 5,000-digit int raises, of a list is long."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    if isinstance(value, Decimal):
        return f"{value:.6E}" if value.is_finite() and len(value.as_tuple().digits) > 30 else str(value)
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_qty(value: Any, *, name: str = "qty") -> int:
    """A positive whole number of shares, at most MAX_QTY. Refuses bool, float and text."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BoundsError(f"{name} 应为整数股数 (must be a whole number of shares), was {shown(value)}")
    if not 0 < value <= MAX_QTY:
        raise BoundsError(f"{name} 应在 1 到 {MAX_QTY:,} 之间 (must be 1..{MAX_QTY:,}), was {shown(value)}")
    return value


def check_price(value: Any, *, name: str = "price") -> Decimal:
    """A finite, positive Decimal of at most PRICE_DECIMALS places, at most MAX_PRICE."""
    if not isinstance(value, Decimal):
        raise BoundsError(f"{name} 应为十进制数 (must be a Decimal), was {shown(value)}")
    if not value.is_finite() or value <= 0 or value > MAX_PRICE:
        raise BoundsError(
            f"{name} 应为 0 到 {MAX_PRICE} 之间的正数 (must be in (0, {MAX_PRICE}]), was {shown(value)}"
        )
    exponent = value.as_tuple().exponent
    if (
        isinstance(exponent, int)
        and exponent < -PRICE_DECIMALS
        and value != value.quantize(Decimal(1).scaleb(-PRICE_DECIMALS))
    ):
        raise BoundsError(
            f"{name} 最多 {PRICE_DECIMALS} 位小数 (at most {PRICE_DECIMALS} decimals), was {shown(value)}"
        )
    return value


def check_money(value: Any, *, name: str = "amount", allow_negative: bool = False) -> Decimal:
    """A finite Decimal amount of money within ±MAX_MONEY (non-negative unless allowed)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise BoundsError(f"{name} 应为有限的十进制金额 (must be a finite Decimal), was {shown(value)}")
    if abs(value) > MAX_MONEY or (value < 0 and not allow_negative):
        raise BoundsError(f"{name} 超出范围 (out of range), was {shown(value)}")
    return value
