"""Signal batches: one strategy's planned orders for one trading day (BIGQUANT.md §2).

`batch_id` = sha256 of `strategy_id|trading_day|sorted signal ids`, so fetching the same
batch twice changes nothing; `signal_id` is BigQuant's `planned_order_id`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, time
from decimal import Decimal
from enum import StrEnum, unique

from app.domain.side import Side

OPEN = time(9, 30)
CLOSE = time(15, 0)


@unique
class SignalState(StrEnum):
    NEW = "new"
    PLANNED = "planned"
    SUBMITTED = "submitted"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    SKIPPED = "skipped"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class SignalLine:
    signal_id: str
    strategy_id: str
    trading_day: date
    code: str
    name: str
    side: Side
    qty: int  # shares
    ref_price: Decimal | None  # a reference only: never sent without checking the live quote
    exec_time: time  # 09:30 = at the open, 15:00 = at the close

    @property
    def at_close(self) -> bool:
        return self.exec_time >= CLOSE


@dataclass(frozen=True, slots=True)
class SignalBatch:
    strategy_id: str
    trading_day: date
    lines: tuple[SignalLine, ...]
    rejected: tuple[tuple[str, str], ...] = ()  # (signal id or position, reason): kept, never ordered

    @property
    def batch_id(self) -> str:
        return batch_id(self.strategy_id, self.trading_day, [line.signal_id for line in self.lines])


def batch_id(strategy_id: str, trading_day: date, signal_ids: list[str]) -> str:
    key = "|".join([strategy_id, trading_day.isoformat(), *sorted(signal_ids)])
    return hashlib.sha256(key.encode()).hexdigest()
