"""[orders]: how long a sent order may go unanswered or unlisted before it is queried."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.config._fields import decimal, meta


@dataclass(frozen=True, slots=True)
class OrderSettings:
    answer_timeout_s: Decimal = field(
        default=Decimal(10),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(600), low_open=True, places=3),
            expected="seconds, above 0 and at most 600",
            help="a sent order the broker has not answered by then is queried (never assumed sent or not)",
        ),
    )
    settle_time_s: Decimal = field(
        default=Decimal(30),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(3600), low_open=True, places=3),
            expected="seconds, above 0 and at most 3600",
            help="an order the broker does not list stays in doubt this long, then is queried again "
            "(still unknown: expired as lost in transit; adopted should it appear later)",
        ),
    )
