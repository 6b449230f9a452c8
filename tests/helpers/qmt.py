"""The live setup (bootstrap.build_live_setup) on a simulated clock, trading through xtquant's real
xttrader.py against the xtpythonclient stand-in (tests/standins/xtpythonclient.py).

    day = make_qmt_day(tmp_path)          # the stand-in installed, its exchange configured, the setup built
    open_qmt_day(day)                     # engine started (connect, subscribe, recover), day begun
    qmt_at(day, 9, 31)                    # quotes of that moment to the exchange and the engine
    settle_qmt(day)                       # everything delivered and answered
    day.close()
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from app.bootstrap import UNGUARDED, LiveSetup, build_live_setup, fee_schedule, sim_broker_options
from app.calendar_file import load_calendar
from app.config import Settings, load_settings
from app.core.clock import SimClock
from app.core.messages import QuotesArrived, StartDay
from app.core.simulation import CallerAction, DayRunner, Progress, ScheduledAction
from app.core.terminal import Terminal
from app.domain.clock import CN_TZ
from app.feeds import InstrumentSpec
from app.feeds.synthetic import SyntheticFeed
from app.secrets import SecretStore
from tests.helpers.memory_keyring import MemoryKeyring
from tests.standins import xtpythonclient as standin
from tests.standins.xtvariants import configure_variant

DAY = date(2026, 11, 23)
ACCOUNT = "8800001234"
CODES = [
    InstrumentSpec("600000.SH", prev_close=D("10.00")),
    InstrumentSpec("000001.SZ", prev_close=D("11.37")),
]
OPENING_POSITIONS = (("000001.SZ", 5000, D("11.00")),)
WAIT = 30.0


class QmtVenue:
    """The stand-in's exchange as the day driver's venue. `wait_idle` also waits until xttrader's
    executor has run every push it was handed (a no-op through its one worker: FIFO), so once it
    returns every report is on the engine's queue."""

    def __init__(self, exchange: standin.Exchange, setup: LiveSetup) -> None:
        self.exchange = exchange
        self.setup = setup

    def wait_idle(self, timeout: float = 5.0) -> None:
        self.exchange.wait_idle(timeout)
        trader = self.setup.gateway.trader
        if trader is not None:
            for executor in (trader.executor, trader.relaxed_resp_executor):
                if executor is not None:
                    executor.submit(lambda: None).result(timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.exchange, name)


@dataclass
class QmtDay:
    setup: LiveSetup
    exchange: standin.Exchange
    venue: QmtVenue
    feed: SyntheticFeed
    clock: SimClock
    settings: Settings
    userdata: Path

    @property
    def engine(self) -> Any:
        return self.setup.engine

    @property
    def gateway(self) -> Any:
        return self.setup.gateway

    # what app.demo.run_day uses of a setup (SimSetup has the same)
    @property
    def terminal(self) -> Terminal:
        return self.setup.terminal

    @property
    def day(self) -> date:
        return self.setup.day

    @property
    def db_path(self) -> Path:
        return self.setup.db_path

    def day_runner(
        self,
        *,
        actions: Sequence[ScheduledAction] = (),
        calls: Sequence[CallerAction] = (),
        speed: float | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        progress_every: float = 0.02,
    ) -> DayRunner:
        """SimSetup.day_runner's twin: the day's quotes into the stand-in's exchange and the engine."""
        return DayRunner(
            engine=self.engine, venue=self.venue, source=self.feed, clock=self.clock, day=self.setup.day,
            actions=actions, calls=calls, speed=speed, on_progress=on_progress, progress_every=progress_every,
        )  # fmt: skip

    def close(self) -> None:
        try:
            self.setup.close()
        finally:
            self.exchange.close()


def live_settings(folder: Path, userdata: Path, **env: str) -> Settings:
    values = {
        "TILLER_DATA_DIR": str(folder),
        "TILLER__GENERAL__MODE": "live",
        "TILLER__QMT__USERDATA_PATH": str(userdata),
        "TILLER__QMT__LIVE_TRADING_ENABLED": "true",  # the tests trade; test_live_setup checks the off state
    }
    values.update({f"TILLER__{k.upper()}": v for k, v in env.items()})
    return load_settings(env=values, path=folder / "none.toml")


def sim_broker_kwargs(settings: Settings, seed: int | None = None) -> dict[str, Any]:
    """The simulated broker's options as build_sim_setup gives them, for the stand-in's exchange when a
    test compares a live day with the simulated one."""
    return sim_broker_options(settings, calendar=load_calendar(settings.general.data_dir), seed=seed)


def secrets_with_account(account: str = ACCOUNT) -> SecretStore:
    store = SecretStore(MemoryKeyring())
    store.set("qmt.account_id", account)
    return store


def make_qmt_day(
    folder: Path,
    seed: int = 5,
    *,
    codes: Sequence[InstrumentSpec] = CODES,
    positions: Sequence[tuple[str, int, D]] = OPENING_POSITIONS,
    start: time = time(9, 0),
    initial_cash: D = D("1000000"),
    reconnect_delays: Sequence[float] = (0.01, 0.05, 0.2),
    query_interval: Any = None,
    broker_kwargs: dict[str, Any] | None = None,
    settings_env: dict[str, str] | None = None,
    exchange: standin.Exchange | None = None,
    live_guard: Any = UNGUARDED,
    clock: SimClock | None = None,
    limit_up: Sequence[str] = (),
    variations: Sequence[str] = (),
) -> QmtDay:
    """The stand-in's exchange on `folder/userdata` (reused when given) and the live setup on `folder`;
    with `variations`, the exchange pushes as tests/standins/xtvariants.py describes."""
    standin.install()
    userdata = folder / "userdata_mini"
    settings = live_settings(folder, userdata, **(settings_env or {}))
    clock = clock or SimClock(datetime.combine(DAY, start, CN_TZ))
    if exchange is None:
        kwargs = {"fees": fee_schedule(settings), "initial_cash": initial_cash, "seed": seed}
        kwargs.update(broker_kwargs or {})
        if variations:
            exchange = configure_variant(
                userdata, clock, variations, account_id=ACCOUNT, broker_kwargs=kwargs
            )
        else:
            exchange = standin.configure(userdata, clock, account_id=ACCOUNT, broker_kwargs=kwargs)
        if not exchange.broker.query_positions():
            for code, qty, cost in positions:
                exchange.broker.set_position(code, qty, cost)
    feed = SyntheticFeed(list(codes), seed=seed, levels=settings.sim.quote_levels, limit_up=limit_up)
    setup = build_live_setup(
        settings, clock=clock, secrets=secrets_with_account(), data_dir=folder, quotes=feed,
        reconnect_delays=reconnect_delays, query_interval=query_interval, live_guard=live_guard,
    )  # fmt: skip
    return QmtDay(setup, exchange, QmtVenue(exchange, setup), feed, clock, settings, userdata)


def settle_qmt(day: QmtDay, rounds: int = 3) -> None:
    for _ in range(rounds):
        day.venue.wait_idle(WAIT)
        day.engine.wait_idle(WAIT)


def open_qmt_day(day: QmtDay) -> QmtDay:
    infos = day.feed.instruments(DAY)
    day.exchange.set_instruments(infos)
    day.exchange.begin_day(DAY)
    day.setup.terminal.start()
    day.engine.post(StartDay(DAY, infos))
    settle_qmt(day)
    return day


def qmt_at(day: QmtDay, hh: int | time, mm: int = 0, ss: int = 0) -> None:
    when = datetime.combine(DAY, hh if isinstance(hh, time) else time(hh, mm, ss), CN_TZ)
    if when > day.clock.now():
        day.clock.advance_to(when)
    quotes = day.feed.snapshot(DAY, when.time())
    day.exchange.on_quotes(quotes)
    day.venue.wait_idle(WAIT)
    day.engine.post(QuotesArrived(quotes))
    settle_qmt(day)


def make_trader(userdata: Path, session: int) -> Any:
    """xtquant's own XtQuantTrader on the stand-in, made as the gateway makes it (off the caller's
    thread, so the caller's asyncio event loop is left alone)."""
    from app.gateways.qmt.gateway import _default_factory

    standin.install()
    made: list[Any] = []
    thread = threading.Thread(target=lambda: made.append(_default_factory(str(userdata), session)))
    thread.start()
    thread.join(WAIT)
    return made[0]


# ------------------------------------------------------------------------------------ reading a QMT day
def qmt_orders(day: QmtDay) -> dict[str, Any]:
    """The engine's orders as they are now (copied on the engine thread)."""
    from copy import copy

    return day.engine.call(lambda e: {o.client_order_id: copy(o) for o in e.oms.orders.values()})


def qmt_quote(day: QmtDay, code: str) -> Any:
    return next(q for q in day.feed.snapshot(DAY, day.clock.now().time()) if q.code == code)


def qmt_price(day: QmtDay, code: str, side: Any, *, marketable: bool, ticks: int = 5) -> D:
    """A price that trades at once (`marketable`) or rests `ticks` ticks away from the touch."""
    from app.domain.prices import round_to_tick
    from app.domain.side import Side

    q = qmt_quote(day, code)
    if marketable:
        base = q.best_ask if side is Side.BUY else q.best_bid
        return round_to_tick(base * (D("1.005") if side is Side.BUY else D("0.995")), D("0.01"))
    base = q.best_bid if side is Side.BUY else q.best_ask
    return base - D("0.01") * ticks if side is Side.BUY else base + D("0.01") * ticks


def qmt_books(day: QmtDay) -> tuple[tuple[D, dict[str, int]], tuple[D, dict[str, int]]]:
    """(Tiller's cash and positions, the counter's), the counter's read from the stand-in's own file."""
    asset = day.exchange.broker.query_asset()
    theirs = {p.code: p.total for p in day.exchange.broker.query_positions() if p.total}
    mine = day.engine.call(
        lambda e: (e.oms.cash.cash, {c: p.total for c, p in e.oms.positions.items() if p.total})
    )
    return mine, (asset.cash, theirs)
