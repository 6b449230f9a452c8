"""A simulated trading day on real files for engine tests: Tiller's SQLite file, the simulated broker's.

One set-up for every engine-level test (tests/integration/test_engine.py, test_commit_failures.py,
test_orders_in_flight.py, test_money_books_agree.py): build the session through the composition
root, open the day, move the simulated clock with the day's quotes, wait until both sides are idle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal as D
from pathlib import Path

from app.bootstrap import SimSetup, build_sim_setup, seed_account
from app.config import Settings, load_settings
from app.core.messages import QuotesArrived, StartDay
from app.domain.clock import CN_TZ
from app.domain.market import InstrumentInfo
from app.feeds import InstrumentSpec

DAY = date(2026, 11, 23)
CODES = [
    InstrumentSpec("600000.SH", prev_close=D("10.00")),
    InstrumentSpec("000001.SZ", prev_close=D("11.37")),
]
OPENING_POSITIONS = (("000001.SZ", 5000, D("11.00")),)
WAIT = 30.0


def make_setup(
    folder: Path,
    seed: int = 5,
    *,
    settings: Settings | None = None,
    codes: Sequence[InstrumentSpec] = CODES,
    positions: Sequence[tuple[str, int, D]] = OPENING_POSITIONS,
    start: time = time(9, 0),
    limit_up: Sequence[str] = (),
    limit_down: Sequence[str] = (),
    suspended: Sequence[str] = (),
) -> SimSetup:
    """A session on `folder` (settings default to none but a data folder inside it)."""
    if settings is None:
        settings = load_settings(env={"TILLER_DATA_DIR": str(folder)}, path=folder / "none.toml")
    setup = build_sim_setup(
        settings, day=DAY, instruments=codes, data_dir=folder, seed=seed, start=start,
        limit_up=limit_up, limit_down=limit_down, suspended=suspended,
    )  # fmt: skip
    seed_account(setup, list(positions))
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


def next_day(setup: SimSetup, day: date, infos: Sequence[InstrumentInfo] | None = None) -> None:
    """A later trading day in the same running session: the clock moves to 9:00 of `day`, the broker
    begins it and the engine hears StartDay with `day`'s instruments (the feed's, unless given)."""
    infos = setup.feed.instruments(day) if infos is None else list(infos)
    setup.clock.advance_to(datetime.combine(day, time(9, 0), CN_TZ))
    setup.broker.begin_day(day)
    setup.broker.set_instruments(infos)
    setup.engine.post(StartDay(day, tuple(infos)))
    settle(setup)


def at(setup: SimSetup, hh: int | time, mm: int = 0, ss: int = 0, *, day: date = DAY) -> None:
    """Move to a moment of the day (timers due fire on the way) and give the broker and the engine
    that moment's quotes. `hh` may be a `time`; `day` another day begun with next_day()."""
    when = datetime.combine(day, hh if isinstance(hh, time) else time(hh, mm, ss), CN_TZ)
    if when > setup.clock.now():
        setup.clock.advance_to(when)
    quotes = setup.feed.snapshot(day, when.time())
    setup.broker.on_quotes(quotes)
    setup.broker.wait_idle(WAIT)
    setup.engine.post(QuotesArrived(quotes))
    settle(setup)


def books(setup: SimSetup) -> tuple:
    """(cash, {code: total}) of Tiller and of the broker."""
    local = setup.engine.call(
        lambda e: (e.oms.cash.cash, {c: p.total for c, p in e.oms.positions.items() if p.total})
    )
    broker = (
        setup.broker.query_asset().cash,
        {p.code: p.total for p in setup.broker.query_positions() if p.total},
    )
    return local, broker
