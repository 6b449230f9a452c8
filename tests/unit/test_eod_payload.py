"""The eod_sync/1 payload: money to the fen, the account hashed, outcomes per planned order."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal as D

from app.core.eod.payload import (
    DayFacts,
    build_payload,
    payload_json,
    same_content,
    signal_outcomes,
    sync_id_of,
)
from app.core.eod.reconcile import Reconciliation, SettlementStatus
from app.domain.clock import CN_TZ
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.orders import Order, OrderStatus, PriceType
from app.domain.reports import BrokerAsset, BrokerPosition, OrderReport, TradeReport
from app.domain.side import Side

DAY = date(2026, 11, 23)
TS = datetime(2026, 11, 23, 9, 30, 2, tzinfo=CN_TZ)


def order(
    cid: str, signal: str, status: OrderStatus, filled: int = 0, qty: int = 600, minute: int = 0
) -> Order:
    return Order(ClientOrderId(cid), "600999.SH", Side.BUY, qty, D("17.78"), PriceType.LIMIT,
                 TS.replace(minute=30 + minute), DAY, strategy_id="S1", signal_id=signal, status=status,
                 broker_order_id=BrokerOrderId("635000360") if cid == "A" else None, filled_qty=filled,
                 status_msg="资金不足" if status is OrderStatus.REJECTED else "")  # fmt: skip


def facts() -> DayFacts:
    return DayFacts(
        day=DAY,
        account_id="8800012345",
        asset=BrokerAsset(D("109016.705"), D("0"), D("109016.705"), D("407791.004"), D("516807.709")),
        positions=[
            BrokerPosition("000005.SZ", 17800, 17800, 0, D("1.17"), D("1.22")),
            BrokerPosition("000001.SZ", 0, 0, 0, D("0")),
        ],
        broker_orders=[
            OrderReport(
                BrokerOrderId("635000360"),
                ClientOrderId("A"),
                "600999.SH",
                Side.BUY,
                600,
                D("17.78"),
                PriceType.LIMIT,
                OrderStatus.FILLED,
                600,
                D("17.78"),
                TS,
                order_sysid="11355",
            )
        ],
        broker_trades=[
            TradeReport(
                TradeId("T123"),
                BrokerOrderId("635000360"),
                ClientOrderId("A"),
                "600999.SH",
                Side.BUY,
                600,
                D("17.78"),
                D("10668.00"),
                D("5.00"),
                TS,
                "11355",
            )
        ],
        local_orders=[order("A", "145909290", OrderStatus.FILLED, 600)],
        position_strategies={"000005.SZ": "S1"},
        reconciliation=Reconciliation(SettlementStatus.OK, ()),
    )


def test_payload_follows_the_schema_with_money_to_the_fen_and_no_raw_account() -> None:
    payload = build_payload(facts(), 1)
    text = payload_json(payload)
    assert "8800012345" not in text and json.loads(text) == payload
    assert payload["schema"] == "eod_sync/1" and payload["revision"] == 1
    assert payload["sync_id"] == sync_id_of(payload["account"], DAY, 1)
    assert payload["cash"] == {"currency": "CNY", "balance": 109016.71, "available": 109016.71, "frozen": 0.0,
                               "market_value": 407791.0, "total_asset": 516807.71, "net_transfer": 0.0}  # fmt: skip
    [position] = payload["positions"]  # a zero position is not listed
    assert (
        position["market_value"] == 21716.0 and position["pnl"] == 890.0 and position["strategy_id"] == "S1"
    )
    [o] = payload["orders"]
    assert (o["broker_order_id"], o["order_sysid"], o["signal_id"], o["price_type"], o["status"]) == (
        635000360, "11355", "145909290", 11, "filled")  # fmt: skip
    assert o["order_time"] == "2026-11-23T09:30:02+08:00"
    [t] = payload["trades"]
    assert (t["traded_id"], t["amount"], t["commission"], t["signal_id"]) == (
        "T123",
        10668.0,
        5.0,
        "145909290",
    )
    assert payload["strategies"] == ["S1"]


def test_the_same_day_with_another_revision_has_the_same_content_and_another_id() -> None:
    one, two = build_payload(facts(), 1), build_payload(facts(), 2)
    assert same_content(one, two) and one["sync_id"] != two["sync_id"]


def test_signal_outcomes_per_planned_order() -> None:
    orders = [
        order("A", "s-filled", OrderStatus.FILLED, 600),
        order("B", "s-part", OrderStatus.CANCELLED, 200),
        order("C", "s-rejected", OrderStatus.REJECTED),
        order("D", "s-denied", OrderStatus.DENIED),
        order("E", "s-expired", OrderStatus.EXPIRED),
        order("F", "s-working", OrderStatus.ACCEPTED),
        order("G1", "s-fallback", OrderStatus.CANCELLED, 100, minute=0),  # auction part-filled, cancelled
        order("G2", "s-fallback", OrderStatus.FILLED, 500, qty=500, minute=1),  # the re-send filled the rest
    ]
    outcomes = {o["signal_id"]: (o["state"], o["filled_qty"]) for o in signal_outcomes(orders)}
    assert outcomes == {
        "s-filled": ("filled", 600), "s-part": ("partially_filled", 200), "s-rejected": ("rejected", 0),
        "s-denied": ("skipped", 0), "s-expired": ("expired", 0), "s-working": ("submitted", 0),
        "s-fallback": ("filled", 600),
    }  # fmt: skip
    [rejected] = [o for o in signal_outcomes(orders) if o["signal_id"] == "s-rejected"]
    assert rejected["reason"] == "资金不足"
