"""File orders (文件单): the CSV / JSON parser (app/clients/file_orders.py)."""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.clients.file_orders import decode_order_file, parse_order_file
from app.clients.planned_orders import PlannedOrdersError
from app.domain.side import Side

DAY = date(2026, 11, 23)
CHINESE = "证券代码,证券名称,买卖方向,委托数量,委托价格,策略\n600000,浦发银行,买入,1000,10.50,s1\n1,平安银行,卖出,500,,s1\n"


def parse(data: bytes, name: str = "orders.csv", known=None):
    return parse_order_file(data, name=name, day=DAY, default_strategy="file", known_codes=known)


def lines_of(batches):
    return [(b.strategy_id, x.code, x.side, x.qty, x.ref_price) for b in batches for x in b.lines]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "utf-16"])
def test_chinese_columns_in_every_encoding_excel_writes(encoding: str) -> None:
    batches = parse(CHINESE.encode(encoding))
    assert lines_of(batches) == [
        ("s1", "600000.SH", Side.BUY, 1000, Decimal("10.50")),
        ("s1", "000001.SZ", Side.SELL, 500, None),  # Excel's "1" is 000001
    ]
    assert batches[0].lines[0].name == "浦发银行"


def test_the_same_content_in_gbk_and_utf8_bom_is_the_same_batch() -> None:
    gbk = parse(CHINESE.encode("gbk"))
    bom = parse(CHINESE.encode("utf-8-sig"))
    assert [b.batch_id for b in gbk] == [b.batch_id for b in bom]
    assert [x.signal_id for x in gbk[0].lines] == [x.signal_id for x in bom[0].lines]
    other = parse(CHINESE.replace("1000", "900").encode("gbk"))
    assert {x.signal_id for x in other[0].lines}.isdisjoint({x.signal_id for x in gbk[0].lines})


def test_juejin_and_bigquant_columns_and_codes() -> None:
    juejin = "symbol,side,volume,price,cl_ord_id\nSHSE.600519,1,100,1700,a1\nSZSE.000001,2,200,0,a2\n"
    assert [(x.signal_id, x.code, x.side, x.qty, x.ref_price) for x in parse(juejin.encode())[0].lines] == [
        ("a1", "600519.SH", Side.BUY, 100, Decimal("1700")),
        ("a2", "000001.SZ", Side.SELL, 200, None),  # a price of 0 is "no price" (market)
    ]
    bq = "planned_order_id,strategy_id,trading_day,instrument,direction,order_qty,order_dt\n"
    bq += "9,aec,2026-11-23,600000.XSHG,1,300,2026-11-23T15:00:00+08:00\n"
    (batch,) = parse(bq.encode())
    assert (batch.strategy_id, batch.lines[0].code, batch.lines[0].exec_time) == (
        "aec",
        "600000.SH",
        time(15),
    )


def test_tab_and_semicolon_separated_and_sides_in_words() -> None:
    text = "代码\t方向\t数量\t时间\n600000\tbuy\t100\t收盘\n000001\tS\t100\t10:00\n"
    batches = parse(text.encode())
    assert [(x.side, x.exec_time) for x in batches[0].lines] == [(Side.BUY, time(15)), (Side.SELL, time(10))]
    semi = "代码;买卖;数量\n600000;买;100\n"
    assert lines_of(parse(semi.encode()))[0][2] is Side.BUY


def test_bad_rows_are_kept_with_reasons_and_the_rest_goes_on() -> None:
    text = (
        "代码,方向,数量,价格\n"
        "600000,买入,1000,10.5\n"
        "600000,持有,100,\n"  # no such side
        "600000,买入,abc,\n"  # not a quantity
        "600000,买入,99999999999999999999,\n"  # beyond the bounds
        "600000,买入,100,1e400\n"  # a price out of bounds
        "999999,买入,100,\n"  # not an instrument
        "600000,买入,100,,extra\n"  # more cells than the header
        "000001,卖出,100,\n"
    )
    (batch,) = parse(text.encode("gbk"))
    assert [x.qty for x in batch.lines] == [1000, 100]
    assert len(batch.rejected) == 6
    reasons = " | ".join(r for _, r in batch.rejected)
    for word in ("direction", "order_qty", "order_price", "列数多于表头"):
        assert word in reasons
    # a rejected row's id ends with its row number in the file
    assert sorted(int(i.rsplit("-", 1)[1]) for i, _ in batch.rejected) == [3, 4, 5, 6, 7, 8]


def test_unknown_instrument_of_the_day_and_wrong_day_rejected() -> None:
    text = "代码,方向,数量,交易日\n600000,1,100,2026-11-23\n000001,1,100,20261123\n600000,1,100,2026/11/24\n"
    (batch,) = parse(text.encode(), known={"600000.SH"})
    assert [x.code for x in batch.lines] == ["600000.SH"]
    reasons = [r for _, r in batch.rejected]
    assert any("未知证券" in r for r in reasons) and any("交易日不符" in r for r in reasons)


def test_duplicate_ids_in_a_file_are_rejected_once() -> None:
    text = "编号,代码,方向,数量\nx1,600000,1,100\nx1,600000,1,200\n"
    (batch,) = parse(text.encode())
    assert [x.qty for x in batch.lines] == [100]
    assert batch.rejected == (("x1", "重复的 planned_order_id"),)


def test_json_rows_and_the_bigquant_envelope() -> None:
    rows = [
        {"证券代码": "600000", "买卖": "买入", "数量": 100},
        {"code": "000001.SZ", "side": "sell", "qty": 100},
    ]
    (batch,) = parse(json.dumps(rows, ensure_ascii=False).encode("utf-8-sig"), name="a.json")
    assert [(x.code, x.side) for x in batch.lines] == [("600000.SH", Side.BUY), ("000001.SZ", Side.SELL)]
    envelope = {"code": 0, "data": {"items": [{"planned_order_id": "7", "strategy_id": "s", "trading_day": "2026-11-23",
                "instrument": "600000.SH", "direction": "1", "order_qty": 100, "order_price": 10.1}]}}  # fmt: skip
    (batch,) = parse(json.dumps(envelope).encode(), name="b.JSON")
    assert batch.lines[0].ref_price == Decimal("10.1")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "no order rows"),
        (b"\xff\xfe\x00", "cannot be read"),
        ("名称,价格\n浦发,10\n".encode("gbk"), "missing required columns"),
        ("代码,证券代码,方向,数量\n".encode(), "two columns mean the same field"),
        (b'code,side,qty\n"600000,1,100\n', "not valid CSV"),
    ],
)
def test_files_that_are_not_order_files_are_refused_in_words(data: bytes, words: str) -> None:
    with pytest.raises(PlannedOrdersError, match=words):
        parse(data)


def test_a_bad_json_file_is_refused() -> None:
    with pytest.raises(PlannedOrdersError):
        parse(b"[1, 2", name="x.json")
    with pytest.raises(PlannedOrdersError, match="expected a list"):
        parse(b'{"a": 1}', name="x.json")


def test_decoding_prefers_utf8_and_falls_back_to_gbk() -> None:
    assert decode_order_file("代码".encode(), what="x") == "代码"
    assert decode_order_file("代码".encode("gbk"), what="x") == "代码"
    assert decode_order_file("\ufeff代码".encode(), what="x") == "代码"


CELLS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["600000", "000001.SZ", "SHSE.600519", "买入", "卖出", "1", "2", "100", "0", "-5",
                     "1e400", "NaN", "2026-11-23", "09:30", "收盘", "x" * 300, "9" * 40, '"', "\r\n", "\x00"]),
)  # fmt: skip
HEADERS = st.lists(
    st.sampled_from(["代码", "证券代码", "方向", "买卖", "数量", "委托数量", "价格", "策略", "编号", "日期", "时间",
                     "名称", "symbol", "volume", "side", "price", "other", ""]),
    min_size=0, max_size=8,
)  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=HEADERS,
    rows=st.lists(st.lists(CELLS, max_size=9), max_size=6),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
    separator=st.sampled_from([",", "\t", ";"]),
)
def test_malformed_csv_never_crashes_and_a_line_is_either_valid_or_rejected(
    header, rows, encoding, separator
):
    text = "\n".join(separator.join(cells) for cells in [header, *rows])
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    try:
        batches = parse(data)
    except PlannedOrdersError:
        return
    for batch in batches:
        assert batch.trading_day == DAY
        for line in batch.lines:
            assert 1 <= line.qty <= 10**9
            assert line.side in (Side.BUY, Side.SELL)
            assert line.ref_price is None or line.ref_price > 0
            assert len(line.signal_id) <= 64
        for ident, reason in batch.rejected:
            assert isinstance(ident, str) and reason


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.floats(allow_nan=True),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["代码", "方向", "数量", "code", "side", "qty", "price", "策略", "x"]), inner, max_size=6),
    max_leaves=20,
))  # fmt: skip
def test_malformed_json_never_crashes(payload) -> None:
    data = json.dumps(payload, ensure_ascii=False).encode()
    try:
        batches = parse(data, name="x.json")
    except PlannedOrdersError:
        return
    for batch in batches:
        for line in batch.lines:
            assert 1 <= line.qty <= 10**9


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.builds(
            lambda t, e: t.encode(e, "replace"),
            st.text(max_size=200),
            st.sampled_from(["utf-8", "gbk", "utf-16"]),
        ),
    ),
    suffix=st.sampled_from([".csv", ".json", ".CSV"]),
)
def test_whatever_is_dropped_the_inbox_hands_over_one_message_and_moves_the_file_aside(
    tmp_path_factory, data, suffix
):
    from app.clients.file_inbox import DONE, PROCESSING, FileInbox

    folder = tmp_path_factory.mktemp("inbox")
    (folder / f"drop{suffix}").write_bytes(data)
    messages = []
    ticks = iter(range(0, 1000, 5))
    inbox = FileInbox(
        folder, messages.append, today=lambda: DAY, stable_s=1.0, monotonic=lambda: float(next(ticks))
    )
    inbox.scan()
    (taken,) = inbox.scan()
    assert len(messages) == 1 and messages[0].source == f"file:drop{suffix}"
    message = messages[0]
    if message.error is None:  # batches (maybe only of rejected lines), or a refused file with its reason
        assert message.batches
    else:
        assert message.batches == () and message.error.strip()
    assert not (folder / f"drop{suffix}").exists() and not any((folder / PROCESSING).iterdir())
    assert (taken.folder / f"drop{suffix}").read_bytes() == data
    assert taken.folder.parent == folder / DONE / DAY.isoformat()
    for name in ("orders.csv", "fills.csv", "rejections.csv", "lines.json"):
        assert (taken.folder / name).is_file()
    assert inbox.scan() == []  # never read again
