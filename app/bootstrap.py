"""The composition root: the only module that builds concrete objects of every layer."""

from __future__ import annotations

import logging
import logging.handlers
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from app.calendar_file import load_calendar
from app.config import Settings
from app.core.clock import SimClock
from app.core.engine import Engine
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.feeds.synthetic import SyntheticFeed
from app.feeds.universe import InstrumentSpec
from app.gateways.sim.broker import SimulatedBroker
from app.storage import database_path, open_database
from app.storage.oms_store import SqliteOmsStore

PRE_OPEN = time(9, 0)
LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"


def configure_logging(settings: Settings, *, console_level: int = logging.ERROR) -> Path:
    """Log to <data_dir>/logs/tiller.log (rotated, kept after a crash); only errors to the console.

    Secrets never reach a log: none are in Settings, and nothing logs the keyring's values."""
    folder = settings.general.data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiller.log"
    root = logging.getLogger()
    root.setLevel(settings.general.log_level.upper())
    for handler in list(root.handlers):
        if getattr(handler, "_tiller", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=5_000_000, backupCount=5, encoding="utf-8"
    )
    console = logging.StreamHandler()
    console.setLevel(console_level)
    for handler in (file_handler, console):
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._tiller = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    return path


def fee_schedule(settings: Settings) -> FeeSchedule:
    fees = settings.fees
    return FeeSchedule(
        commission_rate=fees.commission_rate,
        commission_min=fees.commission_min,
        stamp_duty_rate=fees.stamp_duty_rate,
        transfer_rate=fees.transfer_rate,
    )


@dataclass
class SimSetup:
    """A simulated trading day's parts, wired: clock, broker (exchange), quotes, engine."""

    clock: SimClock
    broker: SimulatedBroker
    feed: SyntheticFeed
    engine: Engine
    day: date
    db_path: Path
    broker_path: Path

    def close(self) -> None:
        self.engine.stop()
        self.broker.close()


def build_sim_setup(
    settings: Settings,
    *,
    day: date,
    instruments: Sequence[InstrumentSpec],
    data_dir: Path | None = None,
    seed: int | None = None,
    limit_up: Sequence[str] = (),
    limit_down: Sequence[str] = (),
    suspended: Sequence[str] = (),
    start: time = PRE_OPEN,
) -> SimSetup:
    # the user's calendar.toml lives in their data folder, even when the day's files go elsewhere
    calendar = load_calendar(settings.general.data_dir)
    data_dir = data_dir or settings.general.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    account = settings.account.account_id
    clock = SimClock(datetime.combine(day, start, CN_TZ))
    fees = fee_schedule(settings)
    db_path = database_path(data_dir, account, "sim")
    broker_path = db_path.with_name(db_path.stem + "-broker.db")
    broker = SimulatedBroker(
        broker_path,
        clock,
        fees=fees,
        account_id=account,
        initial_cash=settings.account.initial_cash,
        seed=settings.sim.seed if seed is None else seed,
        participation=settings.sim.participation,
        calendar=calendar,
        ack_latency=_seconds(settings.sim.ack_latency_s),
        fill_latency=_seconds(settings.sim.fill_latency_s),
        cancel_latency=_seconds(settings.sim.cancel_latency_s),
    )
    feed = SyntheticFeed(
        list(instruments),
        seed=settings.sim.seed if seed is None else seed,
        levels=settings.sim.quote_levels,
        limit_up=limit_up,
        limit_down=limit_down,
        suspended=suspended,
        calendar=calendar,
    )
    engine = Engine(
        clock=clock,
        gateway=broker,
        store_factory=lambda: SqliteOmsStore(open_database(db_path, now=clock.now())),
        fees=fees,
        trading_day=day,
        calendar=calendar,
        answer_timeout=_seconds(settings.orders.answer_timeout_s),
        settle_time=_seconds(settings.orders.settle_time_s),
    )
    return SimSetup(clock, broker, feed, engine, day, db_path, broker_path)


def _seconds(value: Decimal) -> timedelta:
    return timedelta(seconds=float(value))


def seed_account(setup: SimSetup, positions: Sequence[tuple[str, int, Decimal]]) -> None:
    """Give a new simulated account its starting positions at the broker (as if bought on an earlier
    day), unless it already has any; the engine adopts them as its opening books at first start."""
    if setup.broker.query_positions():
        return
    for code, qty, cost in positions:
        setup.broker.set_position(code, qty, cost)
