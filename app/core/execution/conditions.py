"""Conditions on sending a child: a small interface and the built-in ones.

Each condition looks at one line and the market as the engine sees it and answers OK, HOLD (send
nothing now, ask again later: the reason is kept in the line's note) or SKIP (the line ends
unexecuted, with its reason). Built in: suspended (skip), no buy at limit-up / no sell at
limit-down (hold), open gap-up of a buy above x % (skip), price below its N-day moving average
(hold; needs a `HistoryProvider`), market breadth: buys held while N or more instruments sit at
their down limit (hold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum, unique
from typing import Protocol

from app.domain.market import InstrumentInfo, InstrumentStatus, Quote
from app.domain.side import Side


@unique
class Verdict(StrEnum):
    OK = "ok"
    HOLD = "hold"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Check:
    verdict: Verdict
    reason: str = ""


OK = Check(Verdict.OK)


class HistoryProvider(Protocol):
    """Daily closes before today, oldest first (the synthetic and replay feeds have none: None)."""

    def closes(self, code: str, days: int) -> Sequence[Decimal] | None: ...


class MarketView(Protocol):
    """What a condition may read: the day's instruments and the latest quote of each code."""

    def info(self, code: str) -> InstrumentInfo | None: ...

    def quote(self, code: str) -> Quote | None: ...

    def limit_down_count(self) -> int: ...


class Condition(Protocol):
    name: str

    def check(self, code: str, side: Side, market: MarketView) -> Check: ...


def _price(code: str, market: MarketView) -> Decimal | None:
    quote = market.quote(code)
    if quote is not None and quote.last > 0:
        return quote.last
    info = market.info(code)
    return info.prev_close if info is not None else None


@dataclass(frozen=True, slots=True)
class NotSuspended:
    name: str = "suspended"

    def check(self, code: str, side: Side, market: MarketView) -> Check:
        info = market.info(code)
        quote = market.quote(code)
        if (info is not None and info.status is InstrumentStatus.SUSPENDED) or (
            quote is not None and quote.suspended
        ):
            return Check(Verdict.SKIP, "跳过：停牌 (skipped: suspended)")
        return OK


@dataclass(frozen=True, slots=True)
class NotAtLimit:
    """No buy at the up limit, no sell at the down limit (the queue there is too long to reach)."""

    name: str = "limit"

    def check(self, code: str, side: Side, market: MarketView) -> Check:
        info, quote = market.info(code), market.quote(code)
        if info is None or quote is None or quote.last <= 0:
            return OK
        if side is Side.BUY and info.up_limit is not None and quote.last >= info.up_limit:
            return Check(Verdict.HOLD, f"涨停 {info.up_limit}，暂不买入 (at the up limit: no buy)")
        if side is Side.SELL and info.down_limit is not None and quote.last <= info.down_limit:
            return Check(Verdict.HOLD, f"跌停 {info.down_limit}，暂不卖出 (at the down limit: no sell)")
        return OK


@dataclass(frozen=True, slots=True)
class GapUpSkip:
    """Skip a buy when the open (or, in the auction, the indicative price) is more than `pct` above
    the previous close."""

    pct: Decimal
    name: str = "gap_up"

    def check(self, code: str, side: Side, market: MarketView) -> Check:
        if side is not Side.BUY or self.pct <= 0:
            return OK
        info, quote = market.info(code), market.quote(code)
        if info is None or quote is None:
            return OK
        opened = quote.open if quote.open > 0 else quote.last
        if opened <= 0:
            return OK
        gap = opened / info.prev_close - 1
        if gap > self.pct:
            return Check(
                Verdict.SKIP,
                f"跳过：高开 {gap:.2%} 超过 {self.pct:.2%} (skipped: the open gapped up {gap:.2%})",
            )
        return OK


@dataclass(frozen=True, slots=True)
class BelowMovingAverage:
    """Buy only while the price is below its `days`-day moving average of daily closes."""

    days: int
    history: HistoryProvider | None
    name: str = "below_ma"

    def check(self, code: str, side: Side, market: MarketView) -> Check:
        if side is not Side.BUY or self.days <= 0:
            return OK
        closes = self.history.closes(code, self.days) if self.history is not None else None
        if not closes or len(closes) < self.days:
            return Check(Verdict.HOLD, f"无 {self.days} 日历史收盘价 (no {self.days}-day history)")
        average = sum(closes[-self.days :], Decimal(0)) / self.days
        price = _price(code, market)
        if price is None or price >= average:
            return Check(
                Verdict.HOLD,
                f"价格 {price} 不低于 {self.days} 日均线 {average:.3f} (price not below its {self.days}-day average)",
            )
        return OK


@dataclass(frozen=True, slots=True)
class BreadthLimitDown:
    """Hold buys while `count` or more instruments the engine sees sit at their down limit."""

    count: int
    name: str = "breadth"

    def check(self, code: str, side: Side, market: MarketView) -> Check:
        if side is not Side.BUY or self.count <= 0:
            return OK
        seen = market.limit_down_count()
        if seen >= self.count:
            return Check(
                Verdict.HOLD,
                f"跌停家数 {seen} ≥ {self.count}，暂不买入 (market breadth: {seen} at the down limit)",
            )
        return OK


def first_problem(conditions: Sequence[Condition], code: str, side: Side, market: MarketView) -> Check:
    """SKIP beats HOLD; the first reason of the strongest verdict."""
    hold: Check | None = None
    for condition in conditions:
        result = condition.check(code, side, market)
        if result.verdict is Verdict.SKIP:
            return result
        if result.verdict is Verdict.HOLD and hold is None:
            hold = result
    return hold or OK


def at_down_limit(quote: Quote, infos: Mapping[str, InstrumentInfo]) -> bool:
    info = infos.get(quote.code)
    return info is not None and info.down_limit is not None and 0 < quote.last <= info.down_limit
