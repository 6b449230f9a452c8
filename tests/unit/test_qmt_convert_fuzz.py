"""Hypothesis over everything in app/gateways/qmt/convert.py that reads an xtquant object: whatever a
miniQMT hands over (floats with noise, volumes as floats, NaN, 2**63, negative or millisecond times,
padded or GB18030-encoded strings, statuses as floats or digits, fields missing), a conversion either
gives a report Tiller can book, exactly, or refuses with ConversionError. Nothing else escapes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D
from types import SimpleNamespace

from hypothesis import given
from hypothesis import strategies as st

from app.domain.clock import CN_TZ
from app.domain.identifiers import ClientOrderId
from app.domain.orders import XT_STATUS, OrderStatus
from app.domain.reports import OrderReport, TradeReport
from app.gateways.qmt import convert as cv

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)
CODES = ("600000.SH", "000001.SZ", "510300.SH", "159915.SZ", "430047.BJ", "688981.SH")
MISSING = object()

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=12),
)
noise = st.floats(min_value=-1e-7, max_value=1e-7, allow_nan=False)
prices = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)
cids = st.from_regex(r"[A-Z][0-9A-Z]{2,18}", fullmatch=True)
padding = st.sampled_from(["", " ", "\t", "  ", "\x00", " \r\n"])


def _obj(fields: dict[str, object]) -> SimpleNamespace:
    return SimpleNamespace(**{k: v for k, v in fields.items() if v is not MISSING})


def _maybe(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(strategy, junk, st.just(MISSING))


@st.composite
def xt_orders(draw: st.DrawFn) -> SimpleNamespace:
    code = draw(st.sampled_from(CODES))
    fields = {
        "account_id": "8800001234",
        "stock_code": draw(
            _maybe(st.sampled_from([code, f" {code} ", code.lower(), code.encode("gb18030")]))
        ),
        "order_id": draw(_maybe(st.integers(min_value=1, max_value=2**31))),
        "order_sysid": draw(_maybe(st.text(max_size=12))),
        "order_time": draw(_maybe(st.integers(min_value=-(2**40), max_value=2**45))),
        "order_type": draw(_maybe(st.sampled_from([23, 24]))),
        "order_volume": draw(_maybe(st.integers(min_value=0, max_value=10**7).map(float))),
        "price_type": draw(_maybe(st.sampled_from([5, 11, 42, 43, 44, 45, 46, 47, 48]))),
        "price": draw(_maybe(st.builds(lambda p, n: float(p) + n, prices, noise))),
        "traded_volume": draw(_maybe(st.integers(min_value=0, max_value=10**7))),
        "traded_price": draw(_maybe(st.floats(min_value=0, max_value=1e4))),
        "order_status": draw(_maybe(st.sampled_from([*range(48, 58), 255, 50.0, "56", b"57", " 53 "]))),
        "status_msg": draw(_maybe(st.text(max_size=20))),
        "strategy_name": draw(_maybe(st.text(max_size=20))),
        "order_remark": draw(_maybe(st.one_of(cids, st.text(max_size=30)))),
    }
    return _obj(fields)


@st.composite
def xt_trades(draw: st.DrawFn) -> SimpleNamespace:
    code = draw(st.sampled_from(CODES))
    fields = {
        "account_id": "8800001234",
        "stock_code": draw(_maybe(st.just(code))),
        "order_type": draw(_maybe(st.sampled_from([23, 24]))),
        "traded_id": draw(_maybe(st.text(max_size=16))),
        "traded_time": draw(_maybe(st.one_of(st.integers(), st.floats()))),
        "traded_price": draw(_maybe(st.builds(lambda p, n: float(p) + n, prices, noise))),
        "traded_volume": draw(_maybe(st.integers(min_value=0, max_value=10**7))),
        "traded_amount": draw(_maybe(st.floats(min_value=0, max_value=1e11))),
        "order_id": draw(_maybe(st.integers(min_value=-5, max_value=2**31))),
        "order_sysid": draw(_maybe(st.text(max_size=12))),
        "strategy_name": draw(_maybe(st.text(max_size=20))),
        "order_remark": draw(_maybe(cids)),
        "commission": draw(_maybe(st.floats(min_value=0, max_value=1e4))),
    }
    return _obj(fields)


@given(xt_orders())
def test_an_order_converts_whole_or_is_refused(order: SimpleNamespace) -> None:
    try:
        report = cv.order_report(order, NOW)
    except cv.ConversionError:
        return
    assert isinstance(report, OrderReport)
    assert report.code == report.code.strip().upper() and report.code
    assert isinstance(report.qty, int) and report.qty >= 0
    assert isinstance(report.filled_qty, int) and report.filled_qty >= 0
    assert report.price is None or (report.price.is_finite() and report.price % D("0.001") == 0)
    assert report.ts.tzinfo is not None and report.ts.year < 2100
    assert report.status in OrderStatus
    assert report.client_order_id is None or report.client_order_id == str(report.client_order_id).strip()


@given(xt_trades())
def test_a_trade_converts_exactly_or_is_refused(trade: SimpleNamespace) -> None:
    try:
        report = cv.trade_report(trade, NOW)
    except cv.ConversionError:
        return
    assert isinstance(report, TradeReport)
    assert report.qty > 0 and isinstance(report.qty, int)
    assert report.trade_id == str(report.trade_id).strip() and str(report.trade_id)
    tick = D("0.01") if report.code in ("600000.SH", "000001.SZ", "430047.BJ", "688981.SH") else D("0.001")
    assert report.price % tick == 0  # on its code's tick, whatever the float noise
    assert report.fees % D("0.01") == 0 and report.amount.is_finite()
    assert report.ts.tzinfo is not None


@given(st.sampled_from(CODES), prices, noise, st.integers(min_value=1, max_value=10**6), noise)
def test_noisy_prices_and_float_volumes_read_as_sent(
    code: str, price: D, e1: float, qty: int, e2: float
) -> None:
    trade = _obj({
        "stock_code": code, "order_type": 23, "traded_id": "7", "traded_time": 1795406400,
        "traded_price": float(price) + e1, "traded_volume": float(qty) + e2 * 1e-2, "traded_amount": 0.0,
        "order_id": 5, "order_remark": "", "commission": 0.0,
    })  # fmt: skip
    report = cv.trade_report(trade, NOW)
    assert (report.price, report.qty, report.amount) == (price, qty, price * qty)


@given(st.integers(min_value=0, max_value=10**7), st.floats(min_value=0.001, max_value=0.999))
def test_a_fraction_of_a_share_is_refused(qty: int, fraction: float) -> None:
    trade = _obj({
        "stock_code": "600000.SH", "order_type": 23, "traded_id": "7", "traded_price": 10.0,
        "traded_volume": qty + fraction, "order_id": 5,
    })  # fmt: skip
    try:
        cv.trade_report(trade, NOW)
    except cv.ConversionError:
        return
    raise AssertionError(f"{qty + fraction} shares read as a whole number")


@given(
    st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70), st.floats(), st.booleans(), st.none(), st.text()
    )
)
def test_a_time_is_a_moment_before_2100_or_the_clocks_now(value: object) -> None:
    got = cv.ts_from_xt(value, NOW)
    assert got.tzinfo is not None and got.year < 2100
    if isinstance(value, int | float) and not isinstance(value, bool) and value <= 0:
        assert got == NOW


@given(st.integers(min_value=946_656_000, max_value=4_102_415_999))
def test_epoch_milliseconds_read_as_the_same_second(seconds: int) -> None:
    assert cv.ts_from_xt(seconds * 1000, NOW) == cv.ts_from_xt(seconds, NOW)


@given(
    st.one_of(st.sampled_from(list(XT_STATUS)), st.integers(), st.floats(), st.text(max_size=4), st.binary())
)
def test_a_status_maps_as_xtquants_own_in_any_spelling(value: object) -> None:
    got = cv.status_of(value)
    assert got is None or got in XT_STATUS.values()
    for code, status in XT_STATUS.items():
        for spelling in (code, float(code), str(code), f" {code}\t", str(code).encode()):
            assert cv.status_of(spelling) is status
    assert cv.status_of(255) is None and cv.status_of(True) is None


def test_the_last_second_before_2100_in_china_is_a_time_and_the_next_is_not() -> None:
    assert cv.ts_from_xt(4_102_415_999, NOW) == datetime(2099, 12, 31, 23, 59, 59, tzinfo=CN_TZ)
    assert cv.ts_from_xt(4_102_416_000, NOW) == NOW  # nor as milliseconds: 1970
    assert cv.ts_from_xt(4_102_415_999_000, NOW) == datetime(2099, 12, 31, 23, 59, 59, tzinfo=CN_TZ)


@given(st.text(max_size=30), padding, padding)
def test_text_decodes_gb18030_and_strips_padding(value: str, left: str, right: str) -> None:
    got = cv.text((left + value + right).encode("gb18030"))
    assert got == value.replace("\x00", "").strip()
    assert cv.text(left + value + right) == got
    assert cv.text(None) == ""


@given(cids, padding, padding, st.booleans())
def test_a_remark_is_the_id_sent_however_it_is_padded_or_encoded(
    cid: str, left: str, right: str, raw: bool
) -> None:
    remark = left + cid + right
    assert cv.remark_id(remark.encode("gb18030") if raw else remark) == ClientOrderId(cid)


@given(junk)
def test_remark_id_never_raises(value: object) -> None:
    got = cv.remark_id(value)
    assert got is None or isinstance(got, ClientOrderId)
