"""Shared setup for the simulated-broker tests: a broker on a real file and thread, a simulated
clock on Monday 2026-11-23, reference data, quote builders and a report recorder.

No tests here; the test_sim_broker_* modules import from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from app.core.clock import SimClock
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.domain.identifiers import ClientOrderId
from app.domain.market import InstrumentInfo, InstrumentStatus, Quote
from app.domain.orders import OrderStatus, PriceType
from app.domain.prices import price_limits
from app.domain.reports import (
    BrokerReport,
    CancelErrorReport,
    CancelOrder,
    ConnectionChanged,
    OrderReport,
    SubmitOrder,
    SubmitResponse,
    TradeReport,
)
from app.domain.side import Side
from app.gateways.sim.broker import SimulatedBroker

DAY = date(2026, 11, 23)  # a Monday, a trading day
NEXT_DAY = date(2026, 11, 24)
CASH = Decimal("1000000")
FEES = FeeSchedule()

SH = "600000.SH"  # prev close 10.00: limits 11.00 / 9.00
SZ = "000001.SZ"  # prev close 12.00: limits 13.20 / 10.80
SUSPENDED = "600004.SH"
NEW_LISTING = "301999.SZ"  # ChiNext, first day: no price limit
T0_FUND = "511990.SH"  # money-market ETF: T+0 (RULES B4)
PREV_CLOSE = {
    SH: Decimal("10.00"),
    SZ: Decimal("12.00"),
    SUSPENDED: Decimal("8.00"),
    T0_FUND: Decimal("100.000"),
}


def at(hour: int, minute: int, second: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=CN_TZ)


def D(text: str) -> Decimal:
    return Decimal(text)


def info(code: str, prev_close: Decimal, *, day: date = DAY, **kwargs: object) -> InstrumentInfo:
    limits = price_limits(code, prev_close, on=day, listing_day=kwargs.get("listing_day"))  # type: ignore[arg-type]
    up, down = limits if limits else (None, None)
    tick = Decimal("0.001") if code == T0_FUND else Decimal("0.01")
    return InstrumentInfo(code, code, day, prev_close, up, down, tick, **kwargs)  # type: ignore[arg-type]


def day_infos(day: date = DAY) -> list[InstrumentInfo]:
    return [
        info(SH, PREV_CLOSE[SH], day=day),
        info(SZ, PREV_CLOSE[SZ], day=day),
        info(SUSPENDED, PREV_CLOSE[SUSPENDED], day=day, status=InstrumentStatus.SUSPENDED),
        info(NEW_LISTING, Decimal("30.00"), day=day, listing_day=1),
        info(T0_FUND, PREV_CLOSE[T0_FUND], day=day),
    ]


Levels = Sequence[tuple[str, int]]


def quote(
    code: str,
    ts: datetime,
    *,
    last: str,
    volume: int,
    bids: Levels = (),
    asks: Levels = (),
    open_: str | None = None,
) -> Quote:
    prev = PREV_CLOSE.get(code, Decimal("10.00"))
    return Quote(
        code,
        ts,
        Decimal(last),
        Decimal(open_ if open_ is not None else last),
        Decimal(last),
        Decimal(last),
        prev,
        volume,
        Decimal(last) * volume,
        tuple(Decimal(p) for p, _ in bids),
        tuple(v for _, v in bids),
        tuple(Decimal(p) for p, _ in asks),
        tuple(v for _, v in asks),
    )


def ladder(first: str, step: str, volume: int, levels: int = 5) -> list[tuple[str, int]]:
    """Five levels from `first` moving by `step` (negative for bids), each showing `volume`."""
    start, delta = Decimal(first), Decimal(step)
    return [(str(start + delta * i), volume) for i in range(levels)]


@dataclass
class Sim:
    """A connected broker on a simulated clock, recording every report it pushes."""

    broker: SimulatedBroker
    clock: SimClock
    path: Path
    reports: list[BrokerReport] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)
    _next: int = 0

    def record(self, report: BrokerReport) -> None:
        import threading

        self.threads.add(threading.current_thread().name)
        self.reports.append(report)

    def advance(self, when: datetime) -> None:
        self.clock.advance_to(when)

    def submit(
        self,
        code: str,
        side: Side,
        qty: int,
        price: str | None,
        price_type: PriceType = PriceType.LIMIT,
        coid: str | None = None,
    ) -> ClientOrderId:
        self._next += 1
        client_id = ClientOrderId(coid or f"C{self._next}")
        order = SubmitOrder(client_id, code, side, qty, Decimal(price) if price else None, price_type)
        self.broker.submit([order])
        self.broker.wait_idle()
        return client_id

    def buy(self, code: str, qty: int, price: str | None, **kwargs: object) -> ClientOrderId:
        return self.submit(code, Side.BUY, qty, price, **kwargs)  # type: ignore[arg-type]

    def sell(self, code: str, qty: int, price: str | None, **kwargs: object) -> ClientOrderId:
        return self.submit(code, Side.SELL, qty, price, **kwargs)  # type: ignore[arg-type]

    def quotes(self, *quotes: Quote) -> None:
        self.broker.on_quotes(quotes)
        self.broker.wait_idle()

    def cancel(self, coid: ClientOrderId) -> None:
        order = self.order(coid)
        self.broker.cancel(CancelOrder(coid, order.broker_order_id, order.code))
        self.broker.wait_idle()

    # ---------------------------------------------------------------- what came back
    def of(self, coid: ClientOrderId) -> list[BrokerReport]:
        """Every report about one order, in push order."""
        found: list[BrokerReport] = []
        for r in self.reports:
            if (
                isinstance(r, SubmitResponse | OrderReport | TradeReport | CancelErrorReport)
                and r.client_order_id == coid
            ):
                found.append(r)
        return found

    def statuses(self, coid: ClientOrderId) -> list[OrderStatus]:
        return [r.status for r in self.of(coid) if isinstance(r, OrderReport)]

    def trades(self, coid: ClientOrderId) -> list[TradeReport]:
        return [r for r in self.of(coid) if isinstance(r, TradeReport)]

    def order(self, coid: ClientOrderId) -> OrderReport:
        """The broker's committed view of the order (query_orders)."""
        matches = [o for o in self.broker.query_orders() if o.client_order_id == coid]
        assert len(matches) == 1, f"expected one order {coid} at the broker, found {matches}"
        return matches[0]

    def connection_events(self) -> list[ConnectionChanged]:
        return [r for r in self.reports if isinstance(r, ConnectionChanged)]

    def books(self) -> tuple:
        """Cash and positions, to show that something changed nothing."""
        return self.broker.query_asset(), self.broker.query_positions()


def start_sim(path: Path, *, when: datetime | None = None, **kwargs: object) -> Sim:
    clock = SimClock(when or at(10, 0))
    broker = SimulatedBroker(path, clock, **kwargs)  # type: ignore[arg-type]
    sim = Sim(broker, clock, path)
    broker.set_report_handler(sim.record)
    broker.connect()
    broker.begin_day(clock.now().date())
    broker.set_instruments(day_infos(clock.now().date()))
    return sim


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    """A broker at 10:00 in continuous trading with ¥1,000,000 and no positions."""
    sim = start_sim(tmp_path / "sim.sqlite")
    yield sim
    sim.broker.close()


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator:
    """Build brokers with other start times or settings; all are closed after the test."""
    made: list[Sim] = []

    def make(name: str = "sim.sqlite", **kwargs: object) -> Sim:
        built = start_sim(tmp_path / name, **kwargs)  # type: ignore[arg-type]
        made.append(built)
        return built

    yield make
    for built in made:
        built.broker.close()
