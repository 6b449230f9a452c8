"""The close of a day on a real simulated day: reconciliation with each kind of difference, the
settlement recorded (and what it blocks), the performance kept, the payload in the outbox."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.bootstrap import SimSetup, eod_store_for
from app.core.eod.reconcile import SettlementStatus
from app.core.eod.settlement import SettlementBlockedError, check_can_run
from app.core.oms import NewOrder
from app.core.terminal import Terminal
from app.domain.identifiers import BrokerOrderId, TradeId
from app.domain.orders import OrderStatus, PriceType
from app.domain.reports import OrderReport, TradeReport
from app.domain.side import Side
from tests.helpers.engine_day import DAY, at, make_setup, open_day, settle

STRATEGY = "aec3e784-strategy"
ACCOUNT = "SIM001"


@pytest.fixture
def setup(tmp_path: Path):
    setup = open_day(make_setup(tmp_path / "session"))
    yield setup
    setup.close()


def trade_a_little(setup: SimSetup) -> None:
    at(setup, 10, 0)
    last = setup.engine.call(lambda e: e.oms.last_prices["600000.SH"])
    setup.engine.submit(
        [NewOrder("600000.SH", Side.BUY, 1000, last + D("0.05"), strategy_id=STRATEGY, signal_id="145909290")]
    )
    setup.engine.submit([NewOrder("000001.SZ", Side.SELL, 1000, D("1.00"), price_type=PriceType.LIMIT)])
    settle(setup)
    at(setup, 14, 0)


def close(setup: SimSetup):
    return Terminal(setup.engine).close_day(eod_store_for, DAY, account_id=ACCOUNT)


def rows(setup: SimSetup, sql: str) -> list[tuple]:
    conn = sqlite3.connect(setup.db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_day_that_agrees_settles_ok_and_puts_one_payload_in_the_outbox(setup: SimSetup) -> None:
    trade_a_little(setup)
    result = close(setup)

    assert result.reconciliation.status is SettlementStatus.OK, result.reconciliation.differences
    assert rows(setup, "SELECT status FROM settlements") == [("ok",)]
    [(payload,)] = rows(setup, "SELECT payload FROM sync_outbox")
    body = json.loads(payload)
    assert body["schema"] == "eod_sync/1" and body["trading_day"] == DAY.isoformat()
    assert body["sync_id"] == result.outbox.sync_id and body["revision"] == 1
    assert ACCOUNT not in payload  # the account is a hash, never the raw id
    assert body["strategies"] == [STRATEGY]
    [buy] = [t for t in body["trades"] if t["instrument"] == "600000.SH"]
    assert buy["signal_id"] == "145909290" and buy["strategy_id"] == STRATEGY
    assert body["signal_outcomes"] == [
        {"signal_id": "145909290", "state": "filled", "filled_qty": 1000, "reason": None}
    ]
    asset = setup.broker.query_asset()
    assert body["cash"]["total_asset"] == float(asset.total_asset.quantize(D("0.01")))
    # kept per day: cash, positions, performance with the strategy's line
    [(total,)] = rows(setup, "SELECT total_asset FROM daily_cash")
    assert D(total) == asset.total_asset
    assert {r[0] for r in rows(setup, "SELECT code FROM daily_positions")} >= {"600000.SH", "000001.SZ"}
    [(attribution,)] = rows(setup, "SELECT attribution FROM daily_performance")
    lines = json.loads(attribution)
    assert lines[STRATEGY]["trades"] >= 1 and lines[STRATEGY]["orders"] == 1
    assert sum(D(v["pnl"]) for v in lines.values()) == result.performance.pnl


def test_closing_the_same_day_again_adds_no_revision_when_nothing_changed(setup: SimSetup) -> None:
    trade_a_little(setup)
    first = close(setup)
    second = close(setup)
    assert second.outbox.sync_id == first.outbox.sync_id and not second.new_revision
    assert rows(setup, "SELECT count(*) FROM sync_outbox") == [(1,)]


def _tamper(setup: SimSetup, name: str, change) -> None:
    real = getattr(setup.broker, name)
    setattr(setup.broker, name, lambda: change(real()))


def _first_order(setup: SimSetup):
    return next(o for o in setup.engine.call(lambda e: list(e.oms.orders.values())) if o.code == "600000.SH")


KINDS = {
    "cash": ("query_asset", lambda a: replace(a, cash=a.cash + D("0.01")), "cash differs"),
    "position": (
        "query_positions",
        lambda ps: [replace(p, total=p.total + 100) if p.code == "000001.SZ" else p for p in ps],
        "position differs",
    ),
    "missing fill": (
        "query_trades",
        lambda ts: [
            *ts,
            TradeReport(
                TradeId("T-EXTRA"),
                ts[0].broker_order_id,
                ts[0].client_order_id,
                ts[0].code,
                ts[0].side,
                100,
                ts[0].price,
                ts[0].price * 100,
                D("0"),
                ts[0].ts,
            ),
        ],
        "fill missing locally",
    ),
    "extra fill": ("query_trades", lambda ts: ts[1:], "fill the broker does not have"),
    "order status": (
        "query_orders",
        lambda rs: [replace(r, status=OrderStatus.CANCELLED) if r.code == "600000.SH" else r for r in rs],
        "order status differs",
    ),
    "unknown order": (
        "query_orders",
        lambda rs: [
            *rs,
            OrderReport(
                BrokerOrderId("999999"),
                None,
                "600000.SH",
                Side.BUY,
                100,
                D("10.00"),
                PriceType.LIMIT,
                OrderStatus.ACCEPTED,
                0,
                None,
                rs[0].ts,
            ),
        ],
        "broker order unknown locally",
    ),
}


@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_of_difference_is_listed_in_words_recorded_and_alerted(setup: SimSetup, kind: str) -> None:
    trade_a_little(setup)
    name, change, words = KINDS[kind]
    _tamper(setup, name, change)

    result = close(setup)

    assert result.reconciliation.status is SettlementStatus.DIFFERENCES
    assert any(words in d for d in result.reconciliation.differences), result.reconciliation.differences
    [(status, differences)] = rows(setup, "SELECT status, differences FROM settlements")
    assert status == "differences" and any(words in d for d in json.loads(differences))
    settle(setup)
    alerts = rows(setup, "SELECT category, message FROM alerts WHERE category = 'reconcile'")
    assert any(words in m for _, m in alerts)
    [(payload,)] = rows(setup, "SELECT payload FROM sync_outbox")
    assert json.loads(payload)["reconciliation"]["status"] == "differences"


def test_a_broker_that_cannot_be_queried_makes_a_failed_settlement_that_blocks_the_next_day(
    setup: SimSetup,
) -> None:
    def down():
        raise ConnectionError("QMT 未连接")

    setup.broker.query_asset = down  # type: ignore[method-assign]
    result = close(setup)

    assert result.reconciliation.status is SettlementStatus.FAILED
    assert rows(setup, "SELECT count(*) FROM sync_outbox") == [(0,)]
    settlements = Terminal(setup.engine).settlements(eod_store_for)
    with pytest.raises(SettlementBlockedError) as caught:
        check_can_run(settlements, DAY + timedelta(days=1))
    message = str(caught.value)
    assert DAY.isoformat() in message and "QMT 未连接" in message
    assert f"python -m app sync --day {DAY.isoformat()}" in message and "--accept" in message

    assert Terminal(setup.engine).resolve_day(eod_store_for, DAY)
    check_can_run(Terminal(setup.engine).settlements(eod_store_for), DAY + timedelta(days=1))  # no raise


def test_a_corrected_day_gets_a_new_revision_and_sync_id(setup: SimSetup) -> None:
    trade_a_little(setup)
    _tamper(setup, "query_asset", lambda a: replace(a, cash=a.cash + D("0.01")))
    first = close(setup)
    setup.broker.query_asset = type(setup.broker).query_asset.__get__(setup.broker)  # the broker corrected
    second = close(setup)

    assert first.reconciliation.status is SettlementStatus.DIFFERENCES
    assert second.reconciliation.status is SettlementStatus.OK and second.new_revision
    assert second.outbox.revision == 2 and second.outbox.sync_id != first.outbox.sync_id
    assert rows(setup, "SELECT revision FROM sync_outbox ORDER BY revision") == [(1,), (2,)]


def test_settlement_blocks_only_the_days_after_it() -> None:
    from app.core.eod.settlement import Settlement

    bad = Settlement(DAY, SettlementStatus.DIFFERENCES, ("资金不符 (cash differs): x",))
    check_can_run([bad], DAY)  # the day itself is not blocked by its own settlement
    with pytest.raises(SettlementBlockedError):
        check_can_run([bad], date(2026, 11, 24))
    ok_after = Settlement(date(2026, 11, 24), SettlementStatus.OK, ())
    check_can_run([bad, ok_after], date(2026, 11, 25))  # a later day settled since
