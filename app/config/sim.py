"""[sim]: the simulated broker and its synthetic quotes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from app.config._fields import choice, decimal, integer, meta, positive_float


@dataclass(frozen=True, slots=True)
class SimSettings:
    seed: int = field(
        default=7,
        metadata=meta(parse=integer(), expected="an integer", help="random seed of the synthetic quotes"),
    )
    speed: float = field(
        default=2000.0,
        metadata=meta(
            parse=positive_float(1e6),
            expected="a number of simulated seconds per real second, above 0 and at most 1000000",
            help="how fast the simulated clock runs",
        ),
    )
    participation: Decimal = field(
        default=Decimal("0.25"),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(1), low_open=True),
            expected="a fraction above 0 and at most 1",
            help="share of the displayed volume one simulated order may take",
        ),
    )
    quote_levels: int = field(
        default=5,
        metadata=meta(parse=integer(choices=(1, 5)), expected="1 or 5", help="depth of simulated quotes"),
    )
    # Latencies of the simulated counter, in simulated seconds (0: at once). They let the races of
    # orders in flight happen in a simulated day: a cancel before the acknowledgement, a late answer.
    ack_latency_s: Decimal = field(
        default=Decimal(0),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(3600), places=3),
            expected="seconds from 0 to 3600, at most 3 decimals",
            help="how long an order takes to reach the simulated counter (its acknowledgement)",
        ),
    )
    fill_latency_s: Decimal = field(
        default=Decimal(0),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(3600), places=3),
            expected="seconds from 0 to 3600, at most 3 decimals",
            help="how long the simulated counter takes to push a fill (trade report)",
        ),
    )
    cancel_latency_s: Decimal = field(
        default=Decimal(0),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(3600), places=3),
            expected="seconds from 0 to 3600, at most 3 decimals",
            help="how long the exchange takes to confirm a cancel: meanwhile the order shows as pending "
            "cancel and can still fill",
        ),
    )
    # What the simulated exchange does with a limit order outside the price cage (RULES.md B6):
    # "exchange" follows that exchange's own rule (SZ holds it until in range, SH and BJ reject it).
    cage_sh: str = field(
        default="exchange",
        metadata=meta(
            parse=choice("exchange", "reject", "hold", "off"),
            expected="exchange, reject, hold or off",
            help="out-of-cage orders on Shanghai: exchange (its rule: reject), reject, hold or off",
        ),
    )
    cage_sz: str = field(
        default="exchange",
        metadata=meta(
            parse=choice("exchange", "reject", "hold", "off"),
            expected="exchange, reject, hold or off",
            help="out-of-cage orders on Shenzhen: exchange (its rule: hold until in range), reject, hold or off",
        ),
    )
    cage_bj: str = field(
        default="exchange",
        metadata=meta(
            parse=choice("exchange", "reject", "hold", "off"),
            expected="exchange, reject, hold or off",
            help="out-of-cage orders on Beijing: exchange (reject; unverified), reject, hold or off",
        ),
    )
