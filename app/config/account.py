"""[account]: the simulated account."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.config._fields import decimal, matching, meta


@dataclass(frozen=True, slots=True)
class AccountSettings:
    # The id becomes part of the database file name, hence the narrow alphabet.
    account_id: str = field(
        default="SIM001",
        metadata=meta(
            parse=matching(r"[A-Za-z0-9_-]{1,32}"),
            expected="1 to 32 letters, digits, '_' or '-'",
            help="the simulated account's id (the real QMT account id is a secret: python -m app secrets set qmt.account_id)",
        ),
    )
    initial_cash: Decimal = field(
        default=Decimal("1000000"),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal("1e12"), low_open=True, places=2),
            expected="a positive amount in yuan with at most 2 decimals",
            help="cash of a new simulated account, yuan",
        ),
    )
