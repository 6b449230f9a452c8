"""[fees]: commission, stamp duty and transfer fee (RULES.md B7)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.config._fields import decimal, meta


@dataclass(frozen=True, slots=True)
class FeeSettings:
    # RULES.md B7: commission capped at 0.3%, ¥5 minimum; stamp duty 0.05% on sells; transfer 0.001%.
    commission_rate: Decimal = field(
        default=Decimal("0.00025"),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal("0.003")),
            expected="a decimal between 0 and 0.003",
            help="commission as a fraction of turnover (capped at 0.3%, RULES.md B7)",
        ),
    )
    commission_min: Decimal = field(
        default=Decimal("5"),
        metadata=meta(
            parse=decimal(Decimal(0), places=2),
            expected="a non-negative amount in yuan with at most 2 decimals",
            help="minimum commission per order, yuan (0 if your broker waives it: 免五)",
        ),
    )
    stamp_duty_rate: Decimal = field(
        default=Decimal("0.0005"),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(1)),
            expected="a decimal between 0 and 1",
            help="stamp duty on sells, fraction of turnover",
        ),
    )
    transfer_rate: Decimal = field(
        default=Decimal("0.00001"),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(1)),
            expected="a decimal between 0 and 1",
            help="transfer fee (过户费) on buys and sells, fraction of turnover",
        ),
    )
