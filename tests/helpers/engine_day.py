"""A simulated trading day on real files for engine tests: Tiller's SQLite file, the simulated broker's."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal as D
from pathlib import Path

from app.bootstrap import SimSetup, build_sim_setup, seed_account
from app.config import load_settings
from app.core.messages import QuotesArrived, StartDay
from app.domain.clock import CN_TZ
from app.feeds import InstrumentSpec

DAY = date(2026, 11, 23)
CODES = [
    InstrumentSpec("600000.SH", prev_close=D("10.00")),
    InstrumentSpec("000001.SZ", prev_close=D("11.37")),
]
WAIT = 30.0


def make_setup(folder: Path, seed: int = 5) -> SimSetup:
    settings = load_settings(env={}, path=folder / "none.toml")
    setup = build_sim_setup(settings, day=DAY, instruments=CODES, data_dir=folder, seed=seed)
    seed_account(setup, [("000001.SZ", 5000, D("11.00"))])
    return setup


def settle(setup: SimSetup) -> None:
    """Both sides idle, three times round: reports handled, and what they caused answered."""
    for _ in range(3):
        setup.broker.wait_idle(WAIT)
        setup.engine.wait_idle(WAIT)


def open_day(setup: SimSetup) -> SimSetup:
    infos = setup.feed.instruments(DAY)
    setup.broker.connect()
    setup.broker.set_instruments(infos)
    setup.broker.begin_day(DAY)
    setup.engine.start()
    setup.engine.post(StartDay(DAY, infos))
    settle(setup)
    return setup


def at(setup: SimSetup, hh: int, mm: int) -> None:
    """Move to a moment of the day and give the broker and the engine that moment's quotes."""
    when = datetime.combine(DAY, time(hh, mm), CN_TZ)
    quotes = setup.feed.snapshot(DAY, when.time())
    if when > setup.clock.now():
        setup.clock.advance_to(when)
    setup.broker.on_quotes(quotes)
    setup.engine.post(QuotesArrived(quotes))
    settle(setup)
