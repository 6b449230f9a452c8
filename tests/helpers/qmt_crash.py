"""The crash child's set-up through the QMT gateway (tests/helpers/crash_session.py --gateway qmt):
the live setup on a simulated clock, xtquant's real xttrader.py, the xtpythonclient stand-in whose
counter (the simulated broker) keeps its books in `<data dir>/userdata_mini/standin-counter.db`.

The object it returns looks like a SimSetup to the child: clock, broker (the venue: quotes in,
wait_idle, end_day), feed, engine, db_path, close()."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.bootstrap import UNGUARDED, build_live_setup, fee_schedule
from app.config import Settings
from app.core.clock import SimClock
from app.domain.clock import CN_TZ
from app.feeds import InstrumentSpec
from app.feeds.synthetic import SyntheticFeed
from tests.helpers.qmt import ACCOUNT, DAY, QmtVenue, live_settings, secrets_with_account
from tests.standins import xtpythonclient as standin

USERDATA = "userdata_mini"


@dataclass
class QmtCrashSetup:
    clock: SimClock
    broker: Any  # QmtVenue
    feed: SyntheticFeed
    engine: Any
    db_path: Path
    exchange: standin.Exchange
    live: Any

    def close(self) -> None:
        try:
            self.live.close()
        finally:
            self.exchange.close()


class _Venue(QmtVenue):
    def connect(self) -> None:  # the engine's start connects the gateway
        pass


def build_qmt_crash_setup(
    data_dir: Path,
    settings: Settings,
    specs: Sequence[InstrumentSpec],
    seed: int,
    since: time,
    positions: Sequence[tuple[str, int, Decimal]],
) -> QmtCrashSetup:
    standin.install()
    userdata = data_dir / USERDATA
    new_account = not (userdata / standin.BOOKS_FILE).exists()
    clock = SimClock(datetime.combine(DAY, since, CN_TZ))
    sim = settings.sim
    exchange = standin.configure(
        userdata, clock, account_id=ACCOUNT,
        broker_kwargs={
            "fees": fee_schedule(settings), "initial_cash": settings.account.initial_cash, "seed": seed,
            "participation": sim.participation, "ack_latency": _seconds(sim.ack_latency_s),
            "cancel_latency": _seconds(sim.cancel_latency_s), "fill_latency": _seconds(sim.fill_latency_s),
        },
    )  # fmt: skip
    if new_account:
        for code, qty, cost in positions:
            exchange.broker.set_position(code, qty, cost)
    live_env = live_settings(data_dir, userdata)
    live_settings_ = replace(settings, general=live_env.general, qmt=live_env.qmt)
    feed = SyntheticFeed(list(specs), seed=seed, step_seconds=1, levels=sim.quote_levels)
    try:
        live = build_live_setup(
            live_settings_, clock=clock, secrets=secrets_with_account(), data_dir=data_dir, quotes=feed,
            reconnect_delays=(0.05, 0.2, 1.0), live_guard=UNGUARDED,
        )  # fmt: skip
    except BaseException:
        exchange.close()
        raise
    return QmtCrashSetup(clock, _Venue(exchange, live), feed, live.engine, live.db_path, exchange, live)


def _seconds(value: Decimal) -> Any:
    from datetime import timedelta

    return timedelta(seconds=float(value))
