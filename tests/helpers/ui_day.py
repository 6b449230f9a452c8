"""A real engine on the simulated broker, mid-morning, for the window's panel tests; and screenshots.

`ui_session(folder)` opens the day of tests/helpers/engine_day.py with a few more instruments (a
fund among them), moves it through the morning's quotes to 10:00, follows a strategy and plans
one of its batches, and gives (setup, terminal, quotes seen). `save_screenshot(widget, name, folder)`
saves `widget.grab()` to the test's folder and, when env TILLER_SCREENSHOTS names a folder, there too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal as D
from pathlib import Path

from app.bootstrap import SimSetup
from app.core.messages import QuotesArrived
from app.core.planning.model import StrategySettings
from app.core.terminal import Terminal
from app.domain.clock import CN_TZ
from app.domain.market import Quote
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine
from app.feeds import InstrumentSpec
from app.feeds.history import SyntheticHistory
from tests.helpers.engine_day import DAY, make_setup, open_day, settle

UI_CODES = [
    InstrumentSpec("600000.SH", name="浦发银行", prev_close=D("10.00")),
    InstrumentSpec("000001.SZ", name="平安银行", prev_close=D("11.37")),
    InstrumentSpec("600519.SH", name="贵州茅台", prev_close=D("1500.00")),
    InstrumentSpec("300750.SZ", name="宁德时代", prev_close=D("210.00")),
    InstrumentSpec("510300.SH", name="沪深300ETF", prev_close=D("3.912")),
]
SEED = 5
STRATEGY = StrategySettings("alpha_01", D("1000000"), name="动量精选", price_offset=D("0.01"))


@dataclass
class UiSession:
    setup: SimSetup
    terminal: Terminal
    quotes: list[list[Quote]] = field(default_factory=list)  # every batch given to the engine

    def close(self) -> None:
        self.setup.close()


def ui_session(folder: Path, until: time = time(10, 0), step: timedelta = timedelta(minutes=1)) -> UiSession:
    setup = make_setup(folder, SEED, codes=UI_CODES)
    open_day(setup)
    history = SyntheticHistory(UI_CODES, seed=SEED)
    terminal = Terminal(setup.engine, history=history)
    session = UiSession(setup, terminal)
    terminal.set_strategy(STRATEGY)
    lines = (
        SignalLine("b1", STRATEGY.strategy_id, DAY, "600000.SH", "浦发银行", Side.BUY, 1000, None, OPEN),
        SignalLine("s1", STRATEGY.strategy_id, DAY, "000001.SZ", "平安银行", Side.SELL, 500, None, OPEN),
    )
    terminal.plan_batches([SignalBatch(STRATEGY.strategy_id, DAY, lines)])
    next_moment = datetime.combine(DAY, time(9, 25), CN_TZ)
    end = datetime.combine(DAY, until, CN_TZ)
    for ts, quotes in setup.feed.batches(DAY, since=time(9, 25)):  # one walk through the morning
        if ts > end:
            break
        if ts >= next_moment:
            give(session, ts, quotes)
            next_moment = ts + step
    return session


def give(session: UiSession, moment: datetime, quotes: list[Quote]) -> list[Quote]:
    """Give the broker and the engine the quotes of `moment` (as engine_day.at does)."""
    setup = session.setup
    if moment > setup.clock.now():
        setup.clock.advance_to(moment)
    setup.broker.on_quotes(quotes)
    setup.broker.wait_idle(30.0)
    setup.engine.post(QuotesArrived(quotes))
    settle(setup)
    session.quotes.append(quotes)
    return quotes


def save_screenshot(widget, name: str, folder: Path) -> Path:  # type: ignore[no-untyped-def]
    """Grab `widget` as it is drawn and save it as <folder>/<name>.png (and under TILLER_SCREENSHOTS)."""
    image = widget.grab()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert image.save(str(path)), f"could not save the screenshot {path}"
    extra = os.environ.get("TILLER_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        assert image.save(str(Path(extra) / f"{name}.png"))
    return path
