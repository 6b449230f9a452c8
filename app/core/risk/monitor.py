"""Intraday risk monitors, driven by the quotes arriving at the engine (QuotesArrived).

- Per-position stop-loss and take-profit: when a held position's last price is `stop_loss_pct`
  below (or `take_profit_pct` above) its average cost, one limit sell of its sellable shares is
  made, once per code and kind per day. The engine places it through the normal order path, so it
  passes the same gate (a halted or capped account refuses it like any other order).
- Account drawdown: an alert once a day when total assets fall `drawdown_alert_pct` below the
  day's peak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from app.core.risk.limits import RiskLimits
from app.domain.market import InstrumentInfo, Quote
from app.domain.positions import Position
from app.domain.sessions import accepts_orders, phase_at

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ExitOrder:
    """A sell the monitor asks for: (code, qty, limit price, why)."""

    code: str
    qty: int
    price: Decimal
    kind: str  # "stop_loss" | "take_profit"
    reason: str


@dataclass(slots=True)
class RiskMonitor:
    day: date | None = None
    fired: set[tuple[str, str]] = field(default_factory=set)  # (code, kind) triggered today
    peak: Decimal | None = None
    drawdown_alerted: bool = False

    def _roll(self, day: date) -> None:
        if day != self.day:
            self.day = day
            self.fired = set()
            self.peak = None
            self.drawdown_alerted = False

    def exits(
        self,
        limits: RiskLimits,
        quotes: Sequence[Quote],
        positions: dict[str, Position],
        instruments: dict[str, InstrumentInfo],
        day: date,
        now: datetime,
    ) -> list[ExitOrder]:
        """Stop-loss and take-profit sells triggered by these quotes (each at most once a day)."""
        stop, take = limits.stop_loss_pct, limits.take_profit_pct
        if not (stop or take) or not accepts_orders(phase_at(now.time())):
            return []
        self._roll(day)
        out: list[ExitOrder] = []
        for quote in quotes:
            position = positions.get(quote.code)
            if position is None or position.total <= 0 or position.avg_cost <= 0 or quote.suspended:
                continue
            last, cost = quote.last, position.avg_cost
            if stop and last <= cost * (1 - stop):
                kind, why = "stop_loss", f"止损 (stop-loss): 最新价 {last} ≤ 成本 {cost} × (1 − {stop})"
            elif take and last >= cost * (1 + take):
                kind, why = "take_profit", f"止盈 (take-profit): 最新价 {last} ≥ 成本 {cost} × (1 + {take})"
            else:
                continue
            if (quote.code, kind) in self.fired:
                continue
            self.fired.add((quote.code, kind))
            qty = position.sellable
            if qty <= 0:
                continue  # nothing sellable today (T+1 or already being sold): fired, said by the alert
            price = quote.bid_prices[0] if quote.bid_prices and quote.bid_prices[0] > 0 else last
            info = instruments.get(quote.code)
            if info is not None and info.down_limit is not None and price < info.down_limit:
                price = info.down_limit
            out.append(ExitOrder(quote.code, qty, price, kind, why))
        return out

    def drawdown(self, limits: RiskLimits, total_assets: Decimal, day: date) -> str | None:
        """The alert text when total assets first fall the set fraction below the day's peak."""
        if not limits.drawdown_alert_pct:
            return None
        self._roll(day)
        if self.peak is None or total_assets > self.peak:
            self.peak = total_assets
            return None
        if self.drawdown_alerted or self.peak <= 0:
            return None
        fall = (self.peak - total_assets) / self.peak
        if fall >= limits.drawdown_alert_pct:
            self.drawdown_alerted = True
            return (
                f"账户回撤告警 (account drawdown): 总资产 {total_assets} 较今日高点 {self.peak} "
                f"回撤 {(fall * 100).quantize(Decimal('0.01'))}% ≥ {(limits.drawdown_alert_pct * 100).normalize():f}%"
            )
        return None
