"""Malformed planned-order answers thrown at the client over real HTTP: never a crash, never an
order from a bad line. One dev server per module; the payloads are generated in-process."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.clients.bigquant import BigQuantError, BigQuantSignalSource
from app.devserver.server import DevServer
from app.domain.bounds import MAX_QTY
from app.domain.side import Side
from tests.helpers.bigquant import DAY, STRATEGY, client_for, dev_server

FUZZ = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CODES = ["600519.SH", "000001.SZ", "300750.SZ", "688981.SH", "430047.BJ", "600767.SH"]
BAD_VALUES: dict[str, list[Any]] = {
    "direction": ["3", "", None, 1.5, True, [], {"x": 1}, "buy"],
    "order_qty": [0, -100, MAX_QTY + 1, 2**63, "100", None, 1.5, math.inf, math.nan, True, [100], 10**40],
    "instrument": ["", "XYZ", "600519.XX", 5, None, "６００５１９.SH", "x" * 200],
    "trading_day": ["2026-13-01", "", 20261123, None, "2026-11-24", "2026-11-23T00:00", []],
    "order_price": [-1, 0, "abc", math.inf, math.nan, 10**7, [1], {"p": 1}, True],
    "order_dt": ["not a time", 930, [], "2026-11-23T25:00:00"],
    "name": [{"a": 1}, 5, "x" * 500, "\x00bad"],
}


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with dev_server() as running:
        yield running


@pytest.fixture(scope="module")
def source(server: DevServer) -> BigQuantSignalSource:
    return BigQuantSignalSource(client_for(server, retries=0), [STRATEGY])


def _good(index: int, qty: int, side: str, code: str, price: str | None, at_close: bool) -> dict[str, Any]:
    return {
        "planned_order_id": f"good-{index}",
        "strategy_id": STRATEGY,
        "account_id": "10020",
        "account_type": "0",
        "trading_day": DAY.isoformat(),
        "order_dt": f"{DAY.isoformat()}T{'15:00' if at_close else '09:30'}:00+08:00",
        "instrument": code,
        "name": "名字",
        "direction": side,
        "order_qty": qty,
        "order_price": None if price is None else float(price),
    }


good_items = st.builds(
    _good,
    st.just(0),
    st.integers(1, MAX_QTY),
    st.sampled_from(["1", "2"]),
    st.sampled_from(CODES),
    st.one_of(st.none(), st.decimals("0.01", "5000", places=2).map(str)),
    st.booleans(),
)


@st.composite
def bad_items(draw: st.DrawFn) -> dict[str, Any]:
    item = draw(good_items)
    field = draw(st.sampled_from(sorted(BAD_VALUES)))
    if draw(st.booleans()) and field not in ("order_price", "order_dt", "name"):
        del item[field]  # a required field missing
    else:
        item[field] = draw(st.sampled_from(BAD_VALUES[field]))
    return item


json_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def answers(draw: st.DrawFn) -> tuple[list[Any], int, int]:
    """(items, number of good items, number of bad ones): good ids good-N, bad ones bad-N."""
    kinds = draw(st.lists(st.sampled_from(["good", "bad", "junk"]), max_size=12))
    items: list[Any] = []
    for index, kind in enumerate(kinds):
        if kind == "junk":
            items.append(draw(json_junk))
            continue
        item = draw(good_items if kind == "good" else bad_items())
        item["planned_order_id"] = f"{kind}-{index}"
        items.append(item)
    return items, kinds.count("good"), kinds.count("bad")


def _serve(server: DevServer, body: bytes) -> None:
    server.state.body_override = body


@FUZZ
@given(answer=answers())
def test_malformed_lines_then_no_crash_and_no_line_from_a_bad_one(
    server: DevServer, source: BigQuantSignalSource, answer: tuple[list[Any], int, int]
) -> None:
    items, good, bad = answer
    envelope = {
        "code": 0,
        "message": "ok",
        "data": {"items": items, "page": 1, "size": 3000, "total": len(items)},
    }
    _serve(server, json.dumps(envelope, allow_nan=True).encode())

    batches = source.fetch(DAY)

    lines = [line for batch in batches for line in batch.lines]
    rejected = [ident for batch in batches for ident, _ in batch.rejected]
    assert sorted(line.signal_id for line in lines) == sorted(
        i["planned_order_id"]
        for i in items
        if isinstance(i, dict) and str(i.get("planned_order_id")).startswith("good")
    )
    assert len(lines) == good
    assert sum(1 for ident in rejected if ident.startswith("bad-")) == bad
    for line in lines:
        assert line.trading_day == DAY and line.side in (Side.BUY, Side.SELL) and 0 < line.qty <= MAX_QTY
        assert line.code in CODES


@settings(FUZZ, max_examples=400)
@given(
    body=st.one_of(
        json_junk.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=64),
        st.builds(lambda data: json.dumps({"code": 0, "message": "", "data": data}).encode(), json_junk),
        st.builds(
            lambda items, total: json.dumps({"code": 0, "data": {"items": items, "total": total}}).encode(),
            st.lists(json_junk, max_size=4),
            st.one_of(st.none(), st.integers(-3, 10), st.text(max_size=3)),
        ),
    )
)
def test_malformed_answers_then_a_plain_error_or_no_bad_line(
    server: DevServer, source: BigQuantSignalSource, body: bytes
) -> None:
    _serve(server, body)
    try:
        batches = source.fetch(DAY)
    except BigQuantError as exc:
        assert str(exc)
        return
    # a junk item is never a line: none of them is a well-formed planned order of this strategy
    assert [line for batch in batches for line in batch.lines] == []
