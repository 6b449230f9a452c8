"""BigQuant planned orders → signal batches: strict on the fields used, a bad line kept with its reason."""

import json
from datetime import date, time
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.clients.planned_orders import (
    FileSignalSource,
    PlannedOrdersError,
    load_planned_orders_file,
    parse_planned_orders,
)
from app.domain.side import Side
from app.resources import resource_path
from tests.helpers.planned_orders import planned_item

DEMO = resource_path("demo", "planned_orders.json")


def item(**overrides):
    # a field BigQuant may add one day: tolerated, never used
    return planned_item(**{"some_new_field": {"ignored": True}, **overrides})


def test_the_demo_file_gives_one_batch_of_six_lines() -> None:
    [batch] = load_planned_orders_file(DEMO)
    assert batch.trading_day == date(2026, 11, 23)
    assert len(batch.lines) == 6 and batch.rejected == ()
    st_sell = next(line for line in batch.lines if line.code == "600767.SH")
    assert (st_sell.side, st_sell.qty, st_sell.ref_price, st_sell.at_close) == (
        Side.SELL,
        251600,
        D("0.42"),
        True,
    )


def test_the_same_batch_has_the_same_id_whatever_the_order_of_lines() -> None:
    a = parse_planned_orders([item(planned_order_id="1"), item(planned_order_id="2")])[0]
    b = parse_planned_orders([item(planned_order_id="2"), item(planned_order_id="1")])[0]
    assert a.batch_id == b.batch_id


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ({"instrument": "123456.SH"}, "123456"),
        ({"direction": "3"}, "direction"),
        ({"order_qty": 0}, "order_qty"),
        ({"order_qty": 100.5}, "order_qty"),
        ({"order_qty": True}, "order_qty"),
        ({"order_price": "abc"}, "order_price"),
        ({"order_price": -1}, "order_price"),
        ({"order_dt": "tomorrow"}, "order_dt"),
        ({"planned_order_id": ""}, "planned_order_id"),
    ],
)
def test_a_bad_line_is_kept_with_its_reason_and_the_rest_goes_on(bad, reason) -> None:
    [batch] = parse_planned_orders(
        [item(planned_order_id="good"), item(**{"planned_order_id": "bad", **bad})]
    )
    assert [line.signal_id for line in batch.lines] == ["good"]
    assert len(batch.rejected) == 1 and reason in batch.rejected[0][1]


def test_a_missing_field_is_named() -> None:
    broken = item(planned_order_id="x")
    del broken["order_qty"]
    [batch] = parse_planned_orders([item(), broken])
    assert "order_qty" in batch.rejected[0][1]


def test_a_duplicate_planned_order_id_is_refused_once() -> None:
    [batch] = parse_planned_orders([item(), item()])
    assert len(batch.lines) == 1
    assert "重复" in batch.rejected[0][1]


def test_an_execution_time_at_the_close_is_kept() -> None:
    [batch] = parse_planned_orders([item(order_dt="2026-11-23T15:00:00+08:00")])
    assert batch.lines[0].exec_time == time(15, 0) and batch.lines[0].at_close


@pytest.mark.parametrize(
    "payload",
    [
        {"code": 40101, "message": "签名校验失败", "data": None},
        {"code": 0, "data": {"items": "nope"}},
        "not json at all",
        [42, "x"],
    ],
)
def test_a_response_that_is_not_a_list_of_planned_orders_is_an_error(payload) -> None:
    with pytest.raises(PlannedOrdersError):
        parse_planned_orders(payload)


def test_a_file_that_is_not_json_is_named_with_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "orders.json"
    bad.write_text('{"code": 0,\n "data": [}', encoding="utf-8")
    with pytest.raises(PlannedOrdersError, match="第 2 行"):
        load_planned_orders_file(bad)


def test_file_source_gives_the_batches_of_the_day(tmp_path: Path) -> None:
    path = tmp_path / "orders.json"
    path.write_text(
        json.dumps([item(), item(planned_order_id="2", trading_day="2026-11-24")]), encoding="utf-8"
    )
    source = FileSignalSource(path)
    assert [b.trading_day for b in source.fetch(date(2026, 11, 24))] == [date(2026, 11, 24)]
    assert source.fetch(date(2026, 11, 25)) == []
