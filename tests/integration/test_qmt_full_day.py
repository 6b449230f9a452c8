"""The demo's whole trading day (app/demo.py run_day: two strategies fetched over HTTP, the plan,
approval, the execution policies, risk denials and resizes, pause/resume, stop-loss, hand-typed
orders, cancel-all, the close) twice: on the simulated broker directly, and through the live setup
(QmtGateway on xtquant's real xttrader.py, the xtpythonclient stand-in backed by the same simulated
broker). The books must come out the same: cash, positions and average costs, every fill, every
order's outcome."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import PRE_OPEN, build_sim_setup, seed_account
from app.config import load_settings
from app.core.clock import SimClock
from app.core.engine import Engine
from app.demo import LIMIT_UP, DemoResult, run_day, served_batches
from app.demo_data import demo_positions, instrument_specs
from app.domain.clock import CN_TZ
from tests.helpers.qmt import ACCOUNT, live_settings, make_qmt_day, sim_broker_kwargs
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
                    o.created_at,
                    o.code,
                    o.side.value,
                    o.qty,
                    o.price,
                    o.price_type.value,
                    o.status.value,
                    o.filled_qty,
                    o.strategy_id,
                    o.signal_id,
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


def _run(kind: str, folder: Path, variations: tuple[str, ...] = ()) -> tuple[DemoResult, dict[str, Any]]:
    opening = demo_positions()
    positions = [(code, qty, cost) for code, qty, cost, _ in opening]
    with served_batches() as (server, batches):
        specs = instrument_specs(batches, opening)
        day = batches[0].trading_day
        setup: Any
        if kind == "sim":
            settings = load_settings(env={"TILLER_DATA_DIR": str(folder)}, path=folder / "none.toml")
            setup = build_sim_setup(
                settings, day=day, instruments=specs, data_dir=folder, seed=SEED, limit_up=LIMIT_UP
            )
            seed_account(setup, positions)
            setup.broker.connect()
        else:
            settings = live_settings(folder, folder / "userdata_mini")
            assert settings.qmt.live_trading_enabled  # orders flow; no arming guard is passed
            setup = make_qmt_day(
                folder, SEED, codes=specs, positions=positions, limit_up=LIMIT_UP,
                clock=SimClock(datetime.combine(day, PRE_OPEN, CN_TZ)),
                broker_kwargs=sim_broker_kwargs(settings, SEED), variations=variations,
            )  # fmt: skip
        try:
            result = run_day(setup, settings, batches, server, speed=0, out=io.StringIO(), progress=False)
            return result, _books(setup.engine)
        finally:
            setup.close()


# another miniQMT (tests/standins/xtvariants.py): no remark echoed, pushes in another order, float
# noise, 48/49 first, no 55, late duplicate trades, pushes from threads of their own
OTHER_MINIQMT = (
    "remark_empty", "order_before_response", "trade_before_order", "noise", "skip_55", "pre_report",
    "late_duplicates", "foreign_threads",
)  # fmt: skip


@pytest.mark.parametrize("variations", [(), OTHER_MINIQMT], ids=["ours", "other_miniqmt"])
def test_the_demo_day_through_xttrader_gives_the_books_of_the_simulated_broker(
    tmp_path: Path, variations: tuple[str, ...]
) -> None:
    sim_result, direct = _run("sim", tmp_path / "sim")
    qmt_result, through_qmt = _run("qmt", tmp_path / "qmt", variations)
    # the day did trade, in several ways: policies, risk, interventions
    assert len(direct["fills"]) >= 10
    statuses = {o[6] for o in direct["orders"]}
    assert {"filled", "cancelled", "denied", "rejected"} <= statuses, statuses  # rejected: the price cage
    assert any(o[8] == "risk" and o[7] > 0 for o in direct["orders"])  # the stop-loss sold
    assert any(o[5] == "best5_ioc" for o in direct["orders"])  # a hand-typed market order
    assert direct["cash"] != Decimal("1000000")
    assert len(sim_result.interventions) >= 5
    for part in ("cash", "positions", "fills", "orders"):
        assert through_qmt[part] == direct[part], part
    # the same day as the investor sees it: the plan's outcome, the interventions, the close
    assert qmt_result.interventions == sim_result.interventions
    assert [(x.line_id, x.qty, x.state) for x in qmt_result.plan.lines] == [
        (x.line_id, x.qty, x.state) for x in sim_result.plan.lines
    ]
    assert {k: v.filled_qty for k, v in qmt_result.progress.items()} == {
        k: v.filled_qty for k, v in sim_result.progress.items()
    }
    assert sim_result.eod is not None and qmt_result.eod is not None
    assert qmt_result.eod.reconciliation.status == sim_result.eod.reconciliation.status
    # and the live books are in their own file, never the simulated one's
    assert list((tmp_path / "qmt").glob("tiller-live-*.db"))
    assert not list((tmp_path / "qmt").glob("tiller-sim-*.db"))
    assert not any(ACCOUNT in p.name for p in (tmp_path / "qmt").rglob("*"))


@pytest.fixture(autouse=True)
def _standin_exchanges():
    yield
    standin.reset()
