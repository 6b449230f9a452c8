"""xtquant's codes and objects to Tiller's (app/gateways/qmt/convert.py), RULES.md A2-A3; the
userdata_mini folder and the session id (paths.py)."""

from __future__ import annotations

import ast
import random
from datetime import datetime
from decimal import Decimal as D
from pathlib import Path
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus, PriceType
from app.domain.side import Side
from app.gateways.qmt import QmtError, choose_session_id, find_userdata_path
from app.gateways.qmt import convert as cv

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)
APP = Path(__file__).resolve().parents[2] / "app"


# ------------------------------------------------------------------------------------ price types (A3)
@pytest.mark.parametrize(
    ("price_type", "code", "expected"),
    [
        (PriceType.LIMIT, "600000.SH", 11),
        (PriceType.LIMIT, "000001.SZ", 11),
        (PriceType.LIMIT, "430047.BJ", 11),
        (PriceType.BEST5_IOC, "600000.SH", 42),
        (PriceType.BEST5_IOC, "688981.SH", 42),
        (PriceType.BEST5_IOC, "430047.BJ", 42),
        (PriceType.BEST5_IOC, "000001.SZ", 47),
        (PriceType.BEST5_IOC, "300750.SZ", 47),
        (PriceType.BEST5_TO_LIMIT, "600000.SH", 43),
        (PriceType.PEER_BEST, "000001.SZ", 44),
        (PriceType.OWN_BEST, "600000.SH", 45),
        (PriceType.IOC, "000001.SZ", 46),
        (PriceType.FOK, "000001.SZ", 48),
    ],
)
def test_price_types_per_exchange(price_type: PriceType, code: str, expected: int) -> None:
    assert cv.xt_price_type(price_type, code) == expected


@pytest.mark.parametrize(
    ("price_type", "code"),
    [(PriceType.IOC, "600000.SH"), (PriceType.FOK, "430047.BJ"), (PriceType.BEST5_TO_LIMIT, "000001.SZ")],
)
def test_a_price_type_an_exchange_lacks_is_refused_in_words(price_type: PriceType, code: str) -> None:
    with pytest.raises(ValueError, match="exchange has no"):
        cv.xt_price_type(price_type, code)


def test_the_constants_are_xtquants_own() -> None:
    from xtquant import xtconstant as xc

    assert (cv.STOCK_BUY, cv.STOCK_SELL) == (xc.STOCK_BUY, xc.STOCK_SELL)
    assert (cv.FIX_PRICE, cv.SH_BEST5_CANCEL, cv.SZ_BEST5_CANCEL) == (
        xc.FIX_PRICE, xc.MARKET_SH_CONVERT_5_CANCEL, xc.MARKET_SZ_CONVERT_5_CANCEL,
    )  # fmt: skip
    assert (cv.SZ_IOC, cv.SZ_FOK, cv.PEER_BEST, cv.OWN_BEST) == (
        xc.MARKET_SZ_INSTBUSI_RESTCANCEL, xc.MARKET_SZ_FULL_OR_CANCEL, xc.MARKET_PEER_PRICE_FIRST,
        xc.MARKET_MINE_PRICE_FIRST,
    )  # fmt: skip


# ------------------------------------------------------------------------------------ statuses (A3)
def _xt_order(**kw: object) -> SimpleNamespace:
    base = dict(
        account_id="8800001234", stock_code="600000.SH", order_id=12, order_sysid="S12", order_time=1795406400,
        order_type=23, order_volume=1000, price_type=11, price=10.23, traded_volume=0, traded_price=0.0,
        order_status=50, status_msg="", strategy_name="alpha", order_remark="T2611230A0001",
    )  # fmt: skip
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (48, OrderStatus.ACCEPTED), (49, OrderStatus.ACCEPTED), (50, OrderStatus.ACCEPTED),
        (51, OrderStatus.PENDING_CANCEL), (52, OrderStatus.PENDING_CANCEL),
        (53, OrderStatus.CANCELLED), (54, OrderStatus.CANCELLED),
        (55, OrderStatus.PARTIALLY_FILLED), (56, OrderStatus.FILLED), (57, OrderStatus.REJECTED),
        (255, OrderStatus.ACCEPTED), (99, OrderStatus.ACCEPTED),
    ],
)  # fmt: skip
def test_statuses_48_to_57(code: int, status: OrderStatus) -> None:
    report = cv.order_report(_xt_order(order_status=code), NOW)
    assert report.status is status
    if code in (51, 52):
        assert report.status.is_working  # pending cancel is not cancelled


def test_an_order_reads_whole() -> None:
    report = cv.order_report(
        _xt_order(traded_volume=300, traded_price=10.230000000000001, order_status=55), NOW
    )
    assert report.broker_order_id == "12" and report.client_order_id == "T2611230A0001"
    assert report.side is Side.BUY and report.qty == 1000 and report.price == D("10.23")
    assert report.avg_price == D("10.23") and report.filled_qty == 300
    assert report.strategy_id == "alpha" and report.order_sysid == "S12"
    assert report.ts == datetime.fromtimestamp(1795406400, CN_TZ)


def test_an_order_without_tillers_remark_is_not_tillers() -> None:
    for remark in ("", None, "x" * 40, "中文备注", "   ", b"\xd6\xd0\xce\xc4"):
        assert cv.order_report(_xt_order(order_remark=remark), NOW).client_order_id is None


def test_a_remark_echoed_with_padding_or_as_gbk_bytes_is_read_as_sent() -> None:
    # a remark QMT pads (or hands over undecoded) is still the id Tiller sent
    for remark in (" T26 ", "T26\x00", b"T26", "T26\t"):
        assert cv.order_report(_xt_order(order_remark=remark), NOW).client_order_id == "T26"


def test_a_market_order_has_no_price_and_keeps_its_type() -> None:
    report = cv.order_report(_xt_order(price_type=47, price=0.0, stock_code="000001.SZ"), NOW)
    assert report.price is None and report.price_type is PriceType.BEST5_IOC


@pytest.mark.parametrize(
    "bad",
    [dict(order_id=-1), dict(order_id=0), dict(order_type=27), dict(order_volume=-5), dict(order_volume=1.5),
     dict(traded_volume=True)],
)  # fmt: skip
def test_an_unreadable_order_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(cv.ConversionError):
        cv.order_report(_xt_order(**bad), NOW)


def _xt_trade(**kw: object) -> SimpleNamespace:
    base = dict(
        account_id="8800001234", stock_code="000001.SZ", order_type=24, traded_id="T-77", traded_time=0,
        traded_price=11.37, traded_volume=500, traded_amount=5685.000000000001, order_id=12, order_sysid="S12",
        strategy_name="", order_remark="T2611230A0001", commission=5.2900000001,
    )  # fmt: skip
    base.update(kw)
    return SimpleNamespace(**base)


def test_a_trade_reads_exact_money_and_its_identity() -> None:
    report = cv.trade_report(_xt_trade(), NOW)
    assert (report.trade_id, report.broker_order_id) == ("T-77", "12")
    assert report.side is Side.SELL and report.qty == 500
    assert (report.price, report.amount, report.fees) == (D("11.37"), D("5685.00"), D("5.29"))
    assert report.ts == NOW  # no time from the broker: the clock's


@pytest.mark.parametrize(
    "bad",
    [dict(traded_id=""), dict(traded_volume=0), dict(traded_price=float("nan")), dict(traded_price=float("inf")),
     dict(traded_price=1e400), dict(order_id=None), dict(traded_price="junk")],
)  # fmt: skip
def test_an_unreadable_trade_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(cv.ConversionError):
        cv.trade_report(_xt_trade(**bad), NOW)


@given(st.decimals(min_value=D("0.001"), max_value=D("100000"), places=3))
def test_a_price_survives_the_float_round_trip(price: D) -> None:
    assert cv.decimal_of(float(price)) == price


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True), st.text(), st.integers(), st.booleans(), st.none()
    )
)
def test_decimal_of_never_raises_anything_but_a_conversion_error(value: object) -> None:
    try:
        result = cv.decimal_of(value)
    except cv.ConversionError:
        return
    assert result.is_finite()


def test_the_asset_is_the_balance_with_the_frozen_part() -> None:
    asset = cv.asset(SimpleNamespace(cash=900.5, frozen_cash=99.5, market_value=10.0, total_asset=1010.0))
    assert (asset.cash, asset.frozen, asset.available) == (D("1000.00"), D("99.50"), D("900.50"))


def test_a_position_takes_the_cost_price() -> None:
    pos = cv.position(SimpleNamespace(stock_code="600000.SH", volume=1000, can_use_volume=600, frozen_volume=100,
                                      open_price=10.0, avg_price=10.0123, last_price=10.5))  # fmt: skip
    assert (pos.total, pos.sellable, pos.frozen, pos.avg_price, pos.last_price) == (
        1000, 600, 100, D("10.0123"), D("10.50"),
    )  # fmt: skip


def test_submit_response_and_errors_carry_the_message() -> None:
    ok = cv.submit_response(
        SimpleNamespace(order_id=5, order_remark="T2611230A0001", error_msg=""), None, NOW
    )
    assert ok is not None and ok.broker_order_id == "5"
    refused = cv.submit_response(
        SimpleNamespace(order_id=-1, order_remark="T2611230A0001", error_msg="资金不足"), None, NOW
    )
    assert refused is not None and refused.broker_order_id is None and "资金不足" in refused.error
    assert cv.submit_response(SimpleNamespace(order_id=5, order_remark="", error_msg=""), None, NOW) is None
    error = cv.order_error(
        SimpleNamespace(order_id=5, error_id=-61, error_msg="废单", order_remark="T2611230A0001"), None, NOW
    )
    assert error.message == "废单 (error -61)" and error.error_id == -61
    cancel = cv.cancel_error(SimpleNamespace(order_id=5, error_id=0, error_msg=""), None, None, NOW)
    assert cancel is not None and "cancel refused" in cancel.message


# ------------------------------------------------------------------------------------ paths and sessions
def test_a_configured_userdata_folder_must_exist(tmp_path: Path) -> None:
    assert find_userdata_path(str(tmp_path)) == tmp_path
    with pytest.raises(QmtError, match=r"qmt\.userdata_path"):
        find_userdata_path(str(tmp_path / "missing"))


def test_the_usual_install_folders_are_looked_in(tmp_path: Path) -> None:
    candidates = [tmp_path / "a" / "userdata_mini", tmp_path / "b" / "userdata_mini"]
    with pytest.raises(QmtError) as info:
        find_userdata_path("", candidates)
    assert str(candidates[0]) in str(info.value)
    candidates[1].mkdir(parents=True)
    assert find_userdata_path("", candidates) == candidates[1]


def test_session_ids() -> None:
    assert choose_session_id(4242) == 4242
    rng = random.Random(1)
    first = choose_session_id(0, rng=random.Random(1))
    again = choose_session_id(0, avoid={first}, rng=rng)
    assert first != again and 100_000 <= again < 2**31


# ------------------------------------------------------------------------------------ the one importer
def test_only_the_qmt_gateway_imports_xtquant() -> None:
    offenders = []
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            if any(n.split(".")[0] == "xtquant" for n in names) and "gateways/qmt" not in path.as_posix():
                offenders.append(str(path.relative_to(APP)))
    assert offenders == [], offenders


def test_a_qmt_error_is_a_known_error_for_the_command_line() -> None:
    from app.failures import explain

    explanation = explain(QmtError("无法连接 miniQMT (could not connect)"))
    assert explanation is not None and "could not connect" in explanation.message
