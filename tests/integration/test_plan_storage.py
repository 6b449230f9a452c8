"""The plan's rows (schema v5) on a real SQLite file and in the memory store: what is committed is
read back exactly (Decimals, times, reasons in any text), and nothing staged survives a discard."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.planning.ledger import StrategyPosition
from app.core.planning.model import (
    AllotKind,
    AuditEntry,
    Change,
    LineSource,
    LineState,
    PlanLine,
    PlanStatus,
    StrategySettings,
)
from app.domain.clock import CN_TZ
from app.domain.side import Side
from app.storage import open_database
from app.storage.memory_store import MemoryOmsStore
from app.storage.oms_store import SqliteOmsStore

DAY = date(2026, 11, 23)
TS = datetime(2026, 11, 23, 9, 25, tzinfo=CN_TZ)


def a_line(reason: str = "按分配资金缩放", line_id: str = "145909290") -> PlanLine:
    return PlanLine(
        line_id=line_id, strategy_id="aec3e784-x", trading_day=DAY, code="688001.SH", side=Side.BUY,
        requested_qty=333, qty=201, price=D("50.2300"), policy="twap", price_offset=D("0.015"),
        exec_time=time(15, 0), state=LineState.APPROVED, source=LineSource.ROTATION, name="华兴源创",
        changes=(Change("scaled", reason, 333, 201, "alice", TS), Change("approved", "ok", None, None)),
    )  # fmt: skip


@pytest.fixture(params=["sqlite", "memory"])
def store(request, tmp_path: Path):
    if request.param == "memory":
        yield MemoryOmsStore()
        return
    s = SqliteOmsStore(open_database(tmp_path / "tiller.db"))
    yield s
    s.close()


def test_plan_rows_read_back_exactly(store) -> None:
    settings_ = StrategySettings("aec3e784-x", D("1000000.50"), AllotKind.AMOUNT, D("250000"), "动量", False,
                                 "best5", D("0.005"))  # fmt: skip
    store.stage_strategy(settings_, "alice", TS)
    store.stage_strategy_position(
        StrategyPosition("aec3e784-x", "688001.SH", 400, 200, D("50.1234"), D("-12.34"))
    )
    store.stage_plan_status(PlanStatus(DAY, TS, "alice", True, False, time(9, 26)))
    store.stage_plan_line(0, a_line())
    store.stage_plan_audit(DAY, AuditEntry(TS, "bob", "pause_buys", "", "取消 'x' \"y\""))
    store.commit()

    assert store.load_strategies() == [settings_]
    (p,) = store.load_strategy_positions()
    assert (p.total, p.settled, p.avg_cost, p.realized_pnl) == (400, 200, D("50.1234"), D("-12.34"))
    status, lines = store.load_plan(DAY)
    assert status == PlanStatus(DAY, TS, "alice", True, False, time(9, 26))
    assert lines == [a_line()]
    assert store.load_plan_audit(DAY) == [AuditEntry(TS, "bob", "pause_buys", "", "取消 'x' \"y\"")]
    assert store.load_plan(date(2026, 11, 24)) == (None, [])


def test_a_discarded_plan_leaves_nothing(store) -> None:
    store.stage_plan_line(0, a_line())
    store.stage_plan_status(PlanStatus(DAY, TS, "x"))
    store.discard()
    store.commit()
    assert store.load_plan(DAY) == (None, [])


def test_a_changed_line_replaces_its_row_in_plan_order(store) -> None:
    store.stage_plan_line(1, a_line(line_id="b"))
    store.stage_plan_line(0, a_line(line_id="a"))
    store.commit()
    store.stage_plan_line(1, a_line("改过", line_id="b"))
    store.commit()
    _, lines = store.load_plan(DAY)
    assert [x.line_id for x in lines] == ["a", "b"] and lines[1].changes[0].reason == "改过"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reason=st.text(max_size=200))
def test_any_reason_text_survives_the_round_trip(tmp_path: Path, reason: str) -> None:
    path = tmp_path / f"t{abs(hash(reason)) % 10**9}.db"
    store = SqliteOmsStore(open_database(path))
    try:
        store.stage_plan_line(0, a_line("\ufeff" + reason))
        store.commit()
        assert store.load_plan(DAY)[1][0].changes[0].reason == "\ufeff" + reason
    finally:
        store.close()
