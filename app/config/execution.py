"""[execution]: defaults of the execution policies, globally and per strategy."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from typing import Any

from app.config._fields import boolean, decimal, hhmm, integer, meta

_EXEC_PARAM = r"[a-z_]{1,32}"


def _strategy_params(raw: Any) -> dict[str, dict[str, str]]:
    # [execution.strategy_defaults.<strategy id>] with <param> = "<text>": per-strategy defaults.
    if not isinstance(raw, dict):
        raise TypeError("not a table")
    out: dict[str, dict[str, str]] = {}
    for strategy, params in raw.items():
        if not isinstance(strategy, str) or not re.fullmatch(r"[\w.-]{1,64}", strategy):
            raise ValueError("bad strategy id")
        if not isinstance(params, dict):
            raise TypeError("not a table")
        table: dict[str, str] = {}
        for key, value in params.items():
            if not isinstance(key, str) or not re.fullmatch(_EXEC_PARAM, key):
                raise ValueError("bad parameter name")
            if isinstance(value, bool):
                value = "true" if value else "false"
            if isinstance(value, float):
                value = str(value)
            if not isinstance(value, str | int) or len(str(value)) > 40:
                raise ValueError("bad parameter value")
            table[key] = str(value).strip()
        out[strategy] = table
    return out


@dataclass(frozen=True, slots=True)
class ExecutionSettings:
    """Defaults of the execution policies (app/core/execution); a line's params override them."""

    auction_offset: Decimal = field(
        default=Decimal("0.02"),
        metadata=meta(
            parse=decimal(Decimal("-0.1"), Decimal("0.5"), places=4),
            expected="a fraction from -0.1 (passive) to 0.5",
            help="call-auction orders are priced this fraction through the reference price",
        ),
    )
    offset_ticks: int = field(
        default=0,
        metadata=meta(
            parse=integer(-100, 100),
            expected="an integer from -100 to 100",
            help="continuous limit orders: ticks beyond the opposite best quote (negative: passive)",
        ),
    )
    reprice_s: int = field(
        default=30,
        metadata=meta(
            parse=integer(1, 3600),
            expected="seconds from 1 to 3600",
            help="how often unfilled children are re-priced",
        ),
    )
    end: time = field(
        default=time(14, 56),
        metadata=meta(
            parse=hhmm,
            expected="a time HH:MM",
            help="end of a continuous window: what is still working then is cancelled",
        ),
    )
    slices: int = field(
        default=10,
        metadata=meta(parse=integer(1, 1000), expected="an integer from 1 to 1000", help="TWAP/VWAP slices"),
    )
    participation: Decimal = field(
        default=Decimal("0.2"),
        metadata=meta(
            parse=decimal(Decimal("0.0001"), Decimal(1), places=4),
            expected="a fraction from 0.0001 to 1",
            help="TWAP/VWAP: a slice takes at most this share of the volume traded since the last",
        ),
    )
    fallback: bool = field(
        default=True,
        metadata=meta(
            parse=boolean,
            expected="true or false",
            help="an opening-auction order that did not fill continues in continuous trading",
        ),
    )
    gap_up_pct: Decimal = field(
        default=Decimal(0),
        metadata=meta(
            parse=decimal(Decimal(0), Decimal(1), places=4),
            expected="a fraction from 0 to 1 (0: off)",
            help="skip a buy when the open gaps up by more than this",
        ),
    )
    strategy_defaults: dict[str, dict[str, str]] = field(
        default_factory=dict,
        metadata=meta(
            parse=_strategy_params,
            expected='a table [execution.strategy_defaults.<strategy>] of parameter = "text"',
            help="per-strategy defaults of the execution parameters",
        ),
    )

    def as_params(self) -> dict[str, str]:
        """The defaults as the text parameters of an ExecutionRequest."""
        return {
            "auction_offset": str(self.auction_offset),
            "offset_ticks": str(self.offset_ticks),
            "reprice_s": str(self.reprice_s),
            "end": f"{self.end:%H:%M}",
            "slices": str(self.slices),
            "participation": str(self.participation),
            "fallback": "true" if self.fallback else "false",
            "gap_up_pct": str(self.gap_up_pct),
        }
