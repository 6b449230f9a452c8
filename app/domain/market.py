"""Market data values: quote snapshots and instrument details for one trading day.

Field names follow xtdata's tick (RULES.md A5) translated to Tiller's units: prices are
Decimal on the tick, volumes are SHARES (xtdata's `volume` is in lots of 100; feeds convert).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum, unique

EMPTY: tuple[Decimal, ...] = ()
EMPTY_VOL: tuple[int, ...] = ()


@unique
class InstrumentStatus(StrEnum):
    NORMAL = "normal"
    SUSPENDED = "suspended"  # 停牌: no orders accepted, no quotes move


@dataclass(frozen=True, slots=True)
class InstrumentInfo:
    """What is known of an instrument for one trading day (xtdata get_instrument_detail)."""

    code: str
    name: str
    trading_day: date
    prev_close: Decimal
    up_limit: Decimal | None  # None: no price limit today (first days after listing)
    down_limit: Decimal | None
    tick: Decimal
    status: InstrumentStatus = InstrumentStatus.NORMAL
    st: bool = False
    listing_day: int | None = None  # 1 on the first trading day after listing; None if long listed


@dataclass(frozen=True, slots=True)
class Quote:
    """One snapshot (L1 or five levels). bid/ask tuples are best first and may be shorter than 5."""

    code: str
    ts: datetime
    last: Decimal
    open: Decimal
    high: Decimal
    low: Decimal
    prev_close: Decimal
    volume: int  # cumulative shares traded today
    amount: Decimal  # cumulative turnover today, yuan
    bid_prices: tuple[Decimal, ...] = EMPTY
    bid_volumes: tuple[int, ...] = EMPTY_VOL
    ask_prices: tuple[Decimal, ...] = EMPTY
    ask_volumes: tuple[int, ...] = EMPTY_VOL
    suspended: bool = False

    @property
    def best_bid(self) -> Decimal | None:
        return self.bid_prices[0] if self.bid_prices else None

    @property
    def best_ask(self) -> Decimal | None:
        return self.ask_prices[0] if self.ask_prices else None
