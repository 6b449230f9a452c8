"""The planned-order loader against hostile input: only PlannedOrdersError ever escapes, every
line it accepts lies within the domain bounds, and each named case gives a reason a user can act on."""

import json
import sys
from datetime import date
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.clients import planned_orders
from app.clients.planned_orders import (
    MAX_ID_CHARS,
    PlannedOrdersError,
    load_planned_orders_file,
    parse_planned_orders,
)
from app.domain.bounds import MAX_PRICE, MAX_QTY, check_price, check_qty
from app.domain.instruments import classify
from app.domain.side import Side
from app.domain.signals import SignalBatch
from tests.helpers.planned_orders import planned_item

item = planned_item


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "orders.json"
    path.write_bytes(data)
    return path


def only_batch(batches: list[SignalBatch]) -> SignalBatch:
    [batch] = batches
    return batch


def assert_within_bounds(batches: list[SignalBatch]) -> None:
    for batch in batches:
        for line in batch.lines:
            assert check_qty(line.qty) == line.qty
            assert line.ref_price is None or check_price(line.ref_price) == line.ref_price
            assert isinstance(line.signal_id, str) and 0 < len(line.signal_id) <= MAX_ID_CHARS
            assert isinstance(line.strategy_id, str) and 0 < len(line.strategy_id) <= MAX_ID_CHARS
            assert line.side in (Side.BUY, Side.SELL)
            assert classify(line.code).code == line.code
        for ident, reason in batch.rejected:
            assert isinstance(ident, str) and isinstance(reason, str) and reason


# --- files: encodings, BOM, size ----------------------------------------------------------------


def test_a_file_saved_with_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbf" + json.dumps([item()], ensure_ascii=False).encode("utf-8"))
    batch = only_batch(load_planned_orders_file(path))
    assert [line.signal_id for line in batch.lines] == ["1"] and batch.lines[0].name == "浦发银行"


def test_a_gbk_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps([item()], ensure_ascii=False).encode("gbk"))
    with pytest.raises(PlannedOrdersError) as caught:
        load_planned_orders_file(path)
    message = str(caught.value)
    assert "不是 UTF-8" in message and "GBK" in message and "save it as UTF-8" in message
    assert isinstance(caught.value.__cause__, type(None))  # no UnicodeDecodeError chained for the user


def test_bytes_that_are_neither_utf8_nor_gbk_are_refused_as_not_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, b"[\xff\xfe\xfd]")
    with pytest.raises(PlannedOrdersError, match="不是 UTF-8") as caught:
        load_planned_orders_file(path)
    assert "GBK" not in str(caught.value)


def test_a_file_above_the_size_limit_is_refused_before_it_is_read(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(planned_orders, "MAX_FILE_BYTES", 1000)
    path = write(tmp_path, json.dumps([item(planned_order_id=str(n)) for n in range(20)]).encode())
    with pytest.raises(PlannedOrdersError, match="太大 \\(too large\\)"):
        load_planned_orders_file(path)


def test_the_default_size_limit_is_50_mb() -> None:
    assert planned_orders.MAX_FILE_BYTES == 50 * 1024 * 1024


def test_a_missing_file_is_a_planned_orders_error(tmp_path: Path) -> None:
    with pytest.raises(PlannedOrdersError, match="无法读取"):
        load_planned_orders_file(tmp_path / "absent.json")


def test_deeply_nested_brackets_are_refused_not_a_recursion_error(tmp_path: Path) -> None:
    path = write(tmp_path, b"[" * 200_000 + b"]" * 200_000)
    with pytest.raises(PlannedOrdersError, match="嵌套过深"):
        load_planned_orders_file(path)


def test_a_deeply_nested_value_inside_a_line_only_refuses_that_line() -> None:
    deep: Any = "x"
    for _ in range(100_000):
        deep = [deep]
    batch = only_batch(
        parse_planned_orders([item(planned_order_id="good"), item(planned_order_id="bad", name=deep)])
    )
    assert [line.signal_id for line in batch.lines] == ["good"]
    assert batch.rejected[0][0] == "bad" and "name" in batch.rejected[0][1]


# --- numbers ------------------------------------------------------------------------------------


def test_a_5000_digit_quantity_is_a_line_refused_with_its_reason(tmp_path: Path) -> None:
    text = json.dumps([item(planned_order_id="good"), item(planned_order_id="big", order_qty=0)])
    text = text.replace('"order_qty": 0', '"order_qty": ' + "9" * 5000)
    batch = only_batch(load_planned_orders_file(write(tmp_path, text.encode())))
    assert [line.signal_id for line in batch.lines] == ["good"]
    assert batch.rejected[0][0] == "big" and "5000" in batch.rejected[0][1]


def test_a_5000_digit_integer_from_python_is_refused_too() -> None:
    batch = only_batch(parse_planned_orders([item(), item(planned_order_id="big", order_qty=10**5000)]))
    assert batch.rejected[0][0] == "big" and "order_qty" in batch.rejected[0][1]
    batch = only_batch(parse_planned_orders([item(), item(planned_order_id=10**5000)]))
    assert batch.rejected[0][0] == "#2" and "planned_order_id" in batch.rejected[0][1]


@pytest.mark.parametrize(
    "price_text", ["1e400", "-1e400", "1e-400", "0", "1000000.01", "10.00001", "9" * 5000, "NaN", "Infinity"]
)
def test_prices_out_of_bounds_are_lines_refused_with_their_reason(tmp_path: Path, price_text: str) -> None:
    text = json.dumps([item(planned_order_id="good"), item(planned_order_id="bad", order_price=0)])
    text = text.replace('"order_price": 0', f'"order_price": {price_text}')
    batch = only_batch(load_planned_orders_file(write(tmp_path, text.encode())))
    assert [line.signal_id for line in batch.lines] == ["good"]
    assert batch.rejected[0][0] == "bad" and "order_price" in batch.rejected[0][1]


def test_a_float_price_is_taken_from_the_json_text_exactly(tmp_path: Path) -> None:
    text = '[{"planned_order_id": "1", "strategy_id": "S", "trading_day": "2026-11-23", "instrument": "600000.SH", "direction": "1", "order_qty": 100, "order_price": 10.1}]'
    batch = only_batch(load_planned_orders_file(write(tmp_path, text.encode())))
    assert batch.lines[0].ref_price == D("10.1") and str(batch.lines[0].ref_price) == "10.1"


def test_a_python_float_price_is_taken_by_its_shortest_form() -> None:
    batch = only_batch(parse_planned_orders([item(order_price=10.1)]))
    assert str(batch.lines[0].ref_price) == "10.1"


@pytest.mark.parametrize(
    ("qty", "accepted"), [(MAX_QTY, True), (MAX_QTY + 1, False), (2**63, False), (-100, False), (1, True)]
)
def test_quantity_upper_bound(qty: int, accepted: bool) -> None:
    batch = only_batch(
        parse_planned_orders([item(planned_order_id="x"), item(planned_order_id="q", order_qty=qty)])
    )
    assert ("q" in [line.signal_id for line in batch.lines]) is accepted


def test_price_upper_bound_is_the_domain_bound() -> None:
    ok = only_batch(parse_planned_orders([item(order_price=int(MAX_PRICE))]))
    assert ok.lines[0].ref_price == MAX_PRICE
    bad = only_batch(
        parse_planned_orders(
            [item(planned_order_id="x"), item(planned_order_id="p", order_price=int(MAX_PRICE) + 1)]
        )
    )
    assert bad.rejected[0][0] == "p"


# --- ids ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id", [True, False, 1.5, D("7"), ["1"], {"id": 1}, "x" * (MAX_ID_CHARS + 1), "a\nb", "\x00", ""]
)
@pytest.mark.parametrize("key", ["planned_order_id", "strategy_id"])
def test_ids_are_strings_or_integers_of_bounded_length(bad_id: Any, key: str) -> None:
    batch = only_batch(
        parse_planned_orders(
            [item(planned_order_id="good"), item(**{"planned_order_id": "bad", key: bad_id})]
        )
    )
    assert [line.signal_id for line in batch.lines] == ["good"]
    assert len(batch.rejected) == 1 and key in batch.rejected[0][1]


def test_an_integer_id_is_kept_as_text() -> None:
    batch = only_batch(parse_planned_orders([item(planned_order_id=12345, strategy_id=7)]))
    assert (batch.lines[0].signal_id, batch.lines[0].strategy_id) == ("12345", "7")


def test_json_true_as_an_id_is_refused(tmp_path: Path) -> None:
    text = json.dumps([item(planned_order_id="good"), item(planned_order_id=True)])
    batch = only_batch(load_planned_orders_file(write(tmp_path, text.encode())))
    assert [line.signal_id for line in batch.lines] == ["good"]
    assert batch.rejected[0][0] == "#2" and "planned_order_id" in batch.rejected[0][1]


def test_the_error_envelope_with_a_nested_message_is_a_planned_orders_error() -> None:
    nested: Any = []
    for _ in range(100_000):
        nested = [nested]
    with pytest.raises(PlannedOrdersError, match="BigQuant 返回错误 1: <list>"):
        parse_planned_orders({"code": 1, "message": nested})
    with pytest.raises(PlannedOrdersError, match="返回错误"):
        parse_planned_orders({"code": True, "data": {"items": [item()]}})


# --- fuzz ---------------------------------------------------------------------------------------

nasty_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(0, 6000).map(lambda digits: -(10**digits)),  # built from a small choice: Hypothesis
    # itself cannot print a 5,000-digit integer it drew directly
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=80),
    st.sampled_from(["1", "2", "600000.SH", "000001.SZ", "510300.SH", "2026-11-23", "2026-11-23T15:00:00+08:00",
                     "1e400", "NaN", "sNaN", "-0", " 10.05 ", "\ufeff1"]),
)  # fmt: skip
json_like = st.recursive(
    nasty_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=20), children, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = ["planned_order_id", "strategy_id", "trading_day", "order_dt", "instrument", "name", "direction",
          "order_qty", "order_price"]  # fmt: skip
plausible = {
    "planned_order_id": st.one_of(st.text(min_size=1, max_size=70), st.integers(), st.booleans()),
    "strategy_id": st.one_of(st.sampled_from(["S", "T"]), st.integers(-3, 3), st.booleans()),
    "trading_day": st.sampled_from(["2026-11-23", "2026-11-24", "2026-13-01", "", "20261123"]),
    "order_dt": st.sampled_from(["2026-11-23T09:30:00+08:00", "2026-11-23T15:00:00", "later"]),
    "instrument": st.sampled_from(["600000.SH", "000001.SZ", "510300.SH", "123456.SH", "600000"]),
    "name": st.sampled_from(["浦发银行", "*ST 某某", "", None]),
    "direction": st.sampled_from(["1", "2", 1, 2, "3", True]),
    "order_qty": st.one_of(
        st.integers(min_value=-10, max_value=2**70), st.booleans(), st.floats(), st.decimals()
    ),
    "order_price": st.one_of(st.none(), st.decimals(), st.floats(), st.integers(), st.text(max_size=12)),
}


@st.composite
def planned_item(draw: st.DrawFn) -> Any:
    """An item close to a real one, each field sometimes plausible, sometimes nasty, sometimes gone."""
    result: dict[str, Any] = {}
    for name in FIELDS:
        choice = draw(st.integers(0, 9))
        if choice == 0:
            continue
        result[name] = draw(json_like) if choice == 1 else draw(plausible[name])
    return result


@st.composite
def nearly_valid_item(draw: st.DrawFn) -> Any:
    """A valid item with up to two fields changed (so the fuzz also reaches the lines it accepts)."""
    result = item(planned_order_id=draw(st.one_of(st.text(min_size=1, max_size=8), st.integers(0, 10**6))))
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=2)):
        result[name] = draw(st.one_of(plausible[name], json_like))
    return result


payloads = st.one_of(
    json_like,
    st.lists(st.one_of(planned_item(), nearly_valid_item(), json_like), max_size=8),
    st.fixed_dictionaries({"code": st.one_of(st.just(0), nasty_scalars), "data": st.fixed_dictionaries(
        {"items": st.lists(st.one_of(planned_item(), json_like), max_size=6)})}),
)  # fmt: skip


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads)
def test_fuzz_parse_only_raises_planned_orders_error_and_accepts_only_bounded_lines(payload: Any) -> None:
    try:
        batches = parse_planned_orders(payload)
    except PlannedOrdersError:
        return
    assert_within_bounds(batches)


def _encoded(value: Any) -> str:
    """JSON text of a drawn value; its huge integers written out in full (the parser's problem)."""
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    finally:
        sys.set_int_max_str_digits(limit)


file_bytes = st.one_of(
    st.binary(max_size=300),
    st.lists(st.one_of(planned_item(), nearly_valid_item()), max_size=5).map(
        lambda items: _encoded(items).encode("utf-8")
    ),
    st.lists(nearly_valid_item(), max_size=5).map(
        lambda items: b"\xef\xbb\xbf" + _encoded(items).encode("utf-8")
    ),
    st.lists(planned_item(), max_size=5).map(lambda items: _encoded(items).encode("gbk", errors="replace")),
    st.integers(1, 5000).map(lambda depth: b"[" * depth * 20 + b"]" * depth * 20),
    st.integers(1, 6000).map(lambda digits: b'[{"order_qty": ' + b"7" * digits + b"}]"),
    st.sampled_from(
        [b"[1e400]", b"[-Infinity]", b"NaN", b"\xef\xbb\xbf", b"", b"\xef\xbb\xbf\xef\xbb\xbf[]"]
    ),
    st.tuples(st.binary(max_size=40), st.binary(max_size=40)).map(
        lambda parts: parts[0] + _encoded([item()]).encode() + parts[1]
    ),
)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=file_bytes)
def test_fuzz_load_file_only_raises_planned_orders_error(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    try:
        batches = load_planned_orders_file(path)
    except PlannedOrdersError:
        return
    assert_within_bounds(batches)


def test_a_clean_file_still_gives_its_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path, json.dumps([item(), item(planned_order_id="2", direction="2", order_price=None)]).encode()
    )
    batch = only_batch(load_planned_orders_file(path))
    assert batch.trading_day == date(2026, 11, 23) and len(batch.lines) == 2 and batch.rejected == ()
