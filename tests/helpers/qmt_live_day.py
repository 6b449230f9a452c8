"""A live headless day (`run --headless` in live mode, app/headless.run_live_headless) on a simulated clock,
through xtquant's real xttrader.py on the xtpythonclient stand-in and xtdata's stand-in.

    world = make_live_world(tmp_path)        # the exchange, xtdata's instruments, the settings, the clock
    out = run_live_day(world, arm=True)      # the whole day, printed
    world.close()

The market (`XtMarket`, the DayMarket app/headless._drive moves) gives the same synthetic snapshots the
simulated headless day uses to the stand-in's exchange (the counter matches against them) and, as xtdata
ticks, to xtdata's stand-in, whose pushes reach Tiller through the live setup's own XtDataQuotes. Tiller's
side is the production code: bootstrap.build_live_setup with its default xtdata wiring.
"""

from __future__ import annotations

import contextlib
import io
import sys
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.calendar_file import load_calendar
from app.config import Settings
from app.core.clock import SimClock
from app.demo_data import DEMO_BATCH, demo_positions, instrument_specs
from app.domain.clock import CN_TZ
from app.domain.market import InstrumentStatus, Quote
from app.feeds.synthetic import SyntheticFeed
from app.secrets import SecretStore
from tests.helpers.qmt import ACCOUNT, DAY, live_settings, sim_broker_kwargs
from tests.standins import xtdata as xtdata_standin
from tests.standins import xtpythonclient as standin

WAIT = 30.0
SEED = 3


@contextlib.contextmanager
def xtdata_installed() -> Iterator[types.ModuleType]:
    """xtdata's stand-in as `xtquant.xtdata` of xtquant's real package (whose xttrader runs on the
    xtpythonclient stand-in), for the duration."""
    standin.install()
    import xtquant

    saved_module = sys.modules.get("xtquant.xtdata")
    saved_attr = getattr(xtquant, "xtdata", None)
    sys.modules["xtquant.xtdata"] = xtdata_standin
    xtquant.xtdata = xtdata_standin  # type: ignore[attr-defined]
    xtdata_standin.reset()
    try:
        yield xtdata_standin
    finally:
        xtdata_standin.reset()
        if saved_module is None:
            sys.modules.pop("xtquant.xtdata", None)
        else:
            sys.modules["xtquant.xtdata"] = saved_module
        if saved_attr is None:
            with contextlib.suppress(AttributeError):
                delattr(xtquant, "xtdata")
        else:
            xtquant.xtdata = saved_attr  # type: ignore[attr-defined]


def _lots(shares: int) -> float:
    return float(Decimal(shares) / 100)


def tick_of(quote: Quote) -> dict[str, Any]:
    """A Quote as xtdata pushes it: float prices, volumes in lots of 100, books padded with 0."""

    def padded(prices: Sequence[Decimal], volumes: Sequence[int]) -> tuple[list[float], list[float]]:
        p = [float(x) for x in prices] + [0.0] * (5 - len(prices))
        v = [_lots(x) for x in volumes] + [0.0] * (5 - len(volumes))
        return p, v

    bids, bid_lots = padded(quote.bid_prices, quote.bid_volumes)
    asks, ask_lots = padded(quote.ask_prices, quote.ask_volumes)
    return {
        "time": int(quote.ts.timestamp() * 1000), "lastPrice": float(quote.last), "open": float(quote.open),
        "high": float(quote.high), "low": float(quote.low), "lastClose": float(quote.prev_close),
        "amount": float(quote.amount), "volume": _lots(quote.volume), "pvolume": quote.volume,
        "stockStatus": 1 if quote.suspended else 3, "askPrice": asks, "bidPrice": bids,
        "askVol": ask_lots, "bidVol": bid_lots,
    }  # fmt: skip


class XtMarket:
    """The market of a live day in tests (app/headless DayMarket): the stand-in's exchange matches against
    the synthetic snapshots, and the same snapshots are xtdata's pushes. `attach(setup)` (called by
    run_live_headless) gives it the live setup, to wait on xttrader's threads and xtdata's feed."""

    def __init__(self, exchange: standin.Exchange, feed: SyntheticFeed, xtdata: Any, day: date) -> None:
        self.exchange = exchange
        self.feed = feed
        self.xtdata = xtdata
        self.day = day
        self.setup: Any = None
        self.pushed = 0
        infos = feed.instruments(day)
        exchange.set_instruments(infos)
        exchange.begin_day(day)
        for info in infos:
            xtdata.add_instrument(
                info.code, float(info.prev_close), name=info.name,
                up=None if info.up_limit is None else float(info.up_limit),
                down=None if info.down_limit is None else float(info.down_limit),
                tick=float(info.tick), status=0 if info.status is InstrumentStatus.NORMAL else 1,
            )  # fmt: skip

    def attach(self, setup: Any) -> None:
        self.setup = setup

    def open(self, day: date) -> None:
        pass  # the exchange opened the day before Tiller connected

    def quotes(self, quotes: Sequence[Quote]) -> None:
        self.exchange.on_quotes(quotes)
        self.wait_idle(WAIT)
        self.xtdata.push({q.code: tick_of(q) for q in quotes})  # returns once xtdata's callback has run
        self.pushed += 1
        market = getattr(self.setup, "market", None)
        if market is not None:
            market.wait_idle(WAIT)

    def end_day(self) -> None:
        self.exchange.end_day()

    def work_received(self) -> int:
        return self.exchange.work_received()

    def wait_idle(self, timeout: float = WAIT) -> None:
        self.exchange.wait_idle(timeout)
        trader = None if self.setup is None else self.setup.gateway.trader
        if trader is not None:
            for executor in (trader.executor, trader.relaxed_resp_executor):
                if executor is not None:
                    executor.submit(lambda: None).result(timeout)


@dataclass
class LiveWorld:
    folder: Path
    settings: Settings
    exchange: standin.Exchange
    xtdata: Any
    clock: SimClock
    market: XtMarket
    signals: Path = DEMO_BATCH
    outputs: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.exchange.close()


def demo_specs() -> list[Any]:
    from app.clients.planned_orders import load_planned_orders_file

    batches = [b for b in load_planned_orders_file(DEMO_BATCH) if b.trading_day == DAY]
    return instrument_specs(batches[0], demo_positions())


def make_live_world(
    folder: Path,
    xtdata: Any,
    *,
    start: time = time(8, 30),
    seed: int = SEED,
    step_seconds: int = 3,
    **env: str,
) -> LiveWorld:
    """The stand-in's exchange on `folder/userdata_mini` with the demo account's opening positions (the
    simulated headless day's), xtdata's instruments of the day, the live settings on `folder` and the
    account id in the keyring. Tiller itself is built by run_live_headless. `step_seconds`: the market's
    snapshots every so many seconds (3 is the simulated headless day's)."""
    standin.install()
    userdata = folder / "userdata_mini"
    settings = live_settings(folder, userdata, **env)
    SecretStore().set("qmt.account_id", ACCOUNT)
    clock = SimClock(datetime.combine(DAY, start, CN_TZ))
    new_account = not (userdata / standin.BOOKS_FILE).exists()
    exchange = standin.configure(
        userdata, clock, account_id=ACCOUNT, broker_kwargs=sim_broker_kwargs(settings, seed)
    )
    if new_account:
        for code, qty, cost, _ in demo_positions():
            exchange.broker.set_position(code, qty, cost)
    calendar = load_calendar(settings.general.data_dir)
    xtdata.trading_days[:] = calendar.trading_days(DAY, DAY + timedelta(days=90))  # QMT's calendar agrees
    feed = SyntheticFeed(
        demo_specs(),
        seed=seed,
        levels=settings.sim.quote_levels,
        calendar=calendar,
        step_seconds=step_seconds,
    )
    market = XtMarket(exchange, feed, xtdata, DAY)
    return LiveWorld(folder, settings, exchange, xtdata, clock, market)


def run_live_day(
    world: LiveWorld, *, arm: bool, until: time = time(16, 0), signals: Path | None = DEMO_BATCH
) -> str:
    """`run --headless` in live mode for the world's day, on its simulated clock, as fast as it goes."""
    from app.headless import run_live_headless

    out = io.StringIO()
    code = run_live_headless(
        world.settings, arm=arm, out=out, signals=signals, data_dir=world.folder, clock=world.clock,
        market=world.market, until=until, speed=None,
    )  # fmt: skip
    assert code == 0, out.getvalue()
    world.outputs.append(out.getvalue())
    return out.getvalue()
