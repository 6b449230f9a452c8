"""The demo's whole trading day twice: on the simulated broker directly, and through the live setup
(QmtGateway on xtquant's real xttrader.py, the xtpythonclient stand-in backed by the same simulated
broker). The books must come out the same: cash, positions and average costs, every fill, every
order's outcome."""

from __future__ import annotations

from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import build_live_setup, build_sim_setup, fee_schedule, seed_account
from app.config import load_settings
from app.core.auction_plan import PlannedLine
from app.core.clock import SimClock
from app.core.engine import Engine
from app.core.simulation import DayRunner
from app.demo import DEMO_BATCH, LIMIT_UP, _actions, _demo_positions, _fetch_demo_batches, _instrument_specs
from app.domain.clock import CN_TZ
from app.feeds.synthetic import SyntheticFeed
from tests.helpers.qmt import ACCOUNT, QmtVenue, live_settings, secrets_with_account
from tests.standins import xtpythonclient as standin

SEED = 11


def _books(engine: Engine) -> dict[str, Any]:
    def read(e: Engine) -> dict[str, Any]:
        oms = e.oms
        orders = sorted(oms.orders.values(), key=lambda o: (o.created_at, o.client_order_id[-4:]))
        return {
            "cash": oms.cash.cash,
            "positions": {c: (p.total, p.sellable, p.avg_cost) for c, p in oms.positions.items() if p.total},
            "orders": [
                (
                    o.code,
                    o.side.value,
                    o.qty,
                    o.price,
                    o.price_type.value,
                    o.status.value,
                    o.filled_qty,
                    o.external,
                )
                for o in orders
            ],
            "fills": sorted(
                (
                    t.code,
                    t.side.value,
                    t.qty,
                    t.price,
                    t.amount,
                    t.fees,
                    str(t.broker_order_id),
                    str(t.trade_id),
                )
                for t in oms.trade_ids.values()
            ),
        }

    return engine.call(read, timeout=60)


def _run(kind: str, folder: Path) -> dict[str, Any]:
    batches, _ = _fetch_demo_batches(DEMO_BATCH)
    batch = batches[0]
    positions = [(code, qty, cost) for code, qty, cost, _ in _demo_positions()]
    specs = _instrument_specs(batch, _demo_positions())
    day = batch.trading_day
    planned: list[PlannedLine] = []
    if kind == "sim":
        settings = load_settings(env={"TILLER_DATA_DIR": str(folder)}, path=folder / "none.toml")
        setup = build_sim_setup(
            settings, day=day, instruments=specs, data_dir=folder, seed=SEED, limit_up=LIMIT_UP
        )
        seed_account(setup, positions)
        setup.broker.connect()
        setup.engine.start()
        venue: Any = setup.broker
        engine, feed, clock, close = setup.engine, setup.feed, setup.clock, setup.close
    else:
        standin.install()
        userdata = folder / "userdata_mini"
        settings = live_settings(folder, userdata)
        clock = SimClock(datetime.combine(day, time(9, 0), CN_TZ))
        exchange = standin.configure(
            userdata, clock, account_id=ACCOUNT,
            broker_kwargs={"fees": fee_schedule(settings), "initial_cash": settings.account.initial_cash,
                           "seed": SEED, "participation": settings.sim.participation},
        )  # fmt: skip
        for code, qty, cost in positions:
            exchange.broker.set_position(code, qty, cost)
        feed = SyntheticFeed(specs, seed=SEED, levels=settings.sim.quote_levels, limit_up=LIMIT_UP)
        live = build_live_setup(
            settings, clock=clock, secrets=secrets_with_account(), data_dir=folder, quotes=feed
        )
        live.terminal.start()
        venue = QmtVenue(exchange, live)
        engine = live.engine

        def close() -> None:
            try:
                live.close()
            finally:
                exchange.close()

    try:
        runner = DayRunner(
            engine=engine, venue=venue, source=feed, clock=clock, day=day, actions=_actions(batch, planned)
        )
        runner.start()
        runner.run()
        return _books(engine)
    finally:
        close()


def test_a_full_day_through_xttrader_gives_the_books_of_the_simulated_broker(tmp_path: Path) -> None:
    direct = _run("sim", tmp_path / "sim")
    through_qmt = _run("qmt", tmp_path / "qmt")
    # the day did trade, in several ways
    assert len(direct["fills"]) >= 10
    statuses = {o[5] for o in direct["orders"]}
    assert {"filled", "cancelled", "denied"} <= statuses, statuses
    assert direct["cash"] != Decimal("1000000")
    for part in ("cash", "positions", "fills", "orders"):
        assert through_qmt[part] == direct[part], part
    # and the live books are in their own file, never the simulated one's
    assert list((tmp_path / "qmt").glob("tiller-live-*.db"))
    assert not list((tmp_path / "qmt").glob("tiller-sim-*.db"))
    assert not any(ACCOUNT in p.name for p in (tmp_path / "qmt").rglob("*"))


@pytest.fixture(autouse=True)
def _standin_exchanges():
    yield
    standin.reset()
