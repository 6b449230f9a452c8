"""The risk gate on its own: each check allowed, denied and resized, with a plain account view."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.config import SettingsError, load_settings
from app.core.risk import (
    ALLOW,
    EXCHANGE_MAX_PER_DAY,
    EXCHANGE_MAX_PER_SECOND,
    Deny,
    PlainAccountView,
    Resize,
    RiskGate,
    RiskLimits,
    RiskMonitor,
    RiskSettingError,
    TradingState,
)
from app.domain.clock import CN_TZ
from app.domain.identifiers import ClientOrderId
from app.domain.market import InstrumentInfo, Quote
from app.domain.orders import Order, PriceType
from app.domain.positions import Position
from app.domain.quantity import check_quantity
from app.domain.side import Side

DAY = date(2026, 11, 23)
NOON = datetime.combine(DAY, time(10, 0), CN_TZ)  # continuous trading
AUCTION = datetime.combine(DAY, time(9, 20), CN_TZ)
CODE = "600000.SH"
_seq = iter(range(10**6))


def order(
    code: str = CODE,
    side: Side = Side.BUY,
    qty: int = 1000,
    price: D | None = D("10.00"),
    price_type: PriceType = PriceType.LIMIT,
) -> Order:
    return Order(ClientOrderId(f"T261123AA{next(_seq):04d}"), code, side, qty, price, price_type, NOON, DAY)


def info(
    code: str = CODE, prev: D = D("10.00"), *, st_: bool = False, name: str = "浦发银行"
) -> InstrumentInfo:
    return InstrumentInfo(code, name, DAY, prev, prev * D("1.1"), prev * D("0.9"), D("0.01"), st=st_)


def view(
    cash: D = D("1000000"), holdings: dict | None = None, last: D = D("10.00"), **infos
) -> PlainAccountView:
    return PlainAccountView(
        cash=cash,
        holdings=holdings or {},
        prices={CODE: last, "688001.SH": D("50.00"), "300750.SZ": D("200.00")},
        instruments={CODE: info(), **infos},
    )


def gate(**limits) -> RiskGate:
    return RiskGate(dataclasses.replace(RiskLimits(), **limits))


# ------------------------------------------------------------------ defaults
def test_the_default_limits_allow_an_ordinary_order() -> None:
    assert RiskGate().check(order(), view(), NOON) is ALLOW
    assert RiskGate().check(order(side=Side.SELL, price=D("9.99")), view(), NOON) is ALLOW


# ------------------------------------------------------------------ trading state
def test_reducing_only_refuses_a_buy_and_allows_a_sell() -> None:
    g = RiskGate(state=TradingState.REDUCING)
    decision = g.check(order(), view(), NOON)
    assert isinstance(decision, Deny) and "reducing" in decision.reason
    assert g.check(order(side=Side.SELL), view(), NOON) is ALLOW


def test_halted_refuses_everything_new() -> None:
    g = RiskGate(state=TradingState.HALTED)
    for o in (order(), order(side=Side.SELL), order(price=None, price_type=PriceType.BEST5_IOC)):
        decision = g.check(o, view(), NOON)
        assert isinstance(decision, Deny) and "halted" in decision.reason


# ------------------------------------------------------------------ lists
@pytest.mark.parametrize(
    ("limits", "code", "word"),
    [
        ({"whitelist": ("600036.SH",)}, CODE, "whitelist"),
        ({"blacklist": (CODE,)}, CODE, "blacklist"),
        ({"blocked_boards": ("star",)}, "688001.SH", "board star"),
        ({"blocked_boards": ("chinext",)}, "300750.SZ", "board chinext"),
    ],
)
def test_lists_refuse_buys_and_never_sells(limits: dict, code: str, word: str) -> None:
    g = gate(**limits)
    decision = g.check(order(code=code, qty=200, price=None, price_type=PriceType.BEST5_IOC), view(), NOON)
    assert isinstance(decision, Deny) and word in decision.reason
    assert (
        g.check(
            order(code=code, side=Side.SELL, qty=200, price=None, price_type=PriceType.BEST5_IOC),
            view(),
            NOON,
        )
        is ALLOW
    )


def test_lists_allow_what_they_do_not_name() -> None:
    assert (
        gate(whitelist=(CODE,), blacklist=("600036.SH",), blocked_boards=("star",)).check(
            order(), view(), NOON
        )
        is ALLOW
    )


def test_st_stocks_are_refused_only_when_asked() -> None:
    st_view = view(**{"600767.SH": info("600767.SH", D("0.50"), st_=True, name="*ST运盛")})
    st_order = order(code="600767.SH", qty=10000, price=None, price_type=PriceType.BEST5_IOC)
    assert RiskGate().check(st_order, st_view, NOON) is ALLOW
    decision = gate(block_st=True).check(st_order, st_view, NOON)
    assert isinstance(decision, Deny) and "ST" in decision.reason


# ------------------------------------------------------------------ counts of the day
def test_max_new_buys_per_day_counts_distinct_codes() -> None:
    g = gate(max_new_buys_per_day=1)
    first = order()
    assert g.check(first, view(), NOON) is ALLOW
    g.accepted(first, NOON)
    assert g.check(order(), view(), NOON) is ALLOW  # the same code again is not a new buy
    other = order(code="688001.SH", qty=200, price=D("50.00"))
    decision = g.check(other, view(), NOON)
    assert isinstance(decision, Deny) and "1" in decision.reason
    assert g.check(order(code="688001.SH", side=Side.SELL, qty=200, price=D("50.00")), view(), NOON) is ALLOW
    g._roll(DAY + timedelta(days=1))  # a new day starts again
    assert g.check(dataclasses.replace(other, trading_day=DAY + timedelta(days=1)), view(), NOON) is ALLOW


def test_order_rate_per_second_counts_orders_and_cancels() -> None:
    g = gate(max_orders_per_second=3)
    g.accepted(order(), NOON)
    g.note_cancels(2, NOON)
    decision = g.check(order(), view(), NOON + timedelta(milliseconds=999))
    assert isinstance(decision, Deny) and "per second" in decision.reason
    assert g.check(order(), view(), NOON + timedelta(seconds=1)) is ALLOW  # the second has passed


def test_orders_per_day_and_cancels() -> None:
    g = gate(max_orders_per_day=10, max_orders_per_second=300)
    for i in range(6):
        g.accepted(order(), NOON + timedelta(seconds=i))
    g.note_cancels(3, NOON + timedelta(seconds=10))
    assert g.check(order(), view(), NOON + timedelta(seconds=20)) is ALLOW  # 9 of 10
    g.note_cancels(1, NOON + timedelta(seconds=21))
    decision = g.check(order(), view(), NOON + timedelta(seconds=30))
    assert isinstance(decision, Deny) and "10 orders and cancels today" in decision.reason


def test_cancel_count_and_ratio() -> None:
    g = gate(max_cancels_per_day=2)
    g.note_cancels(1, NOON)
    assert g.check(order(), view(), NOON + timedelta(seconds=5)) is ALLOW
    g.note_cancels(1, NOON)
    assert isinstance(g.check(order(), view(), NOON + timedelta(seconds=5)), Deny)

    g = gate(max_cancel_ratio=D("0.5"), cancel_ratio_min_orders=4)
    for i in range(4):
        g.accepted(order(), NOON + timedelta(seconds=i))
    g.note_cancels(2, NOON + timedelta(seconds=5))
    assert g.check(order(), view(), NOON + timedelta(seconds=9)) is ALLOW  # 2/4 is not above 50%
    g.note_cancels(1, NOON + timedelta(seconds=6))
    decision = g.check(order(), view(), NOON + timedelta(seconds=9))
    assert isinstance(decision, Deny) and "cancel ratio 3/4" in decision.reason


def test_cancel_ratio_waits_for_the_minimum_of_orders() -> None:
    g = gate(max_cancel_ratio=D("0.1"), cancel_ratio_min_orders=5)
    g.accepted(order(), NOON)
    g.note_cancels(1, NOON)
    assert g.check(order(), view(), NOON + timedelta(seconds=2)) is ALLOW


def test_duplicate_inside_the_window() -> None:
    g = gate(duplicate_window_s=D(2))
    first = order()
    g.accepted(first, NOON)
    again = order()
    decision = g.check(again, view(), NOON + timedelta(seconds=1))
    assert isinstance(decision, Deny) and "same order" in decision.reason
    assert g.check(order(qty=1100), view(), NOON + timedelta(seconds=1)) is ALLOW  # not the same
    assert g.check(again, view(), NOON + timedelta(seconds=2)) is ALLOW  # the window has passed
    assert gate().check(again, view(), NOON) is ALLOW  # off by default


# ------------------------------------------------------------------ prices
def test_limit_up_and_limit_down() -> None:
    at_up = view(last=D("11.00"))
    decision = RiskGate().check(order(price=D("11.00")), at_up, NOON)
    assert isinstance(decision, Deny) and "up limit" in decision.reason
    assert RiskGate().check(order(side=Side.SELL, price=D("11.00")), at_up, NOON) is ALLOW
    at_down = view(last=D("9.00"))
    decision = RiskGate().check(order(side=Side.SELL, price=D("9.00")), at_down, NOON)
    assert isinstance(decision, Deny) and "down limit" in decision.reason
    assert RiskGate().check(order(price=D("9.00")), at_down, NOON) is ALLOW
    off = gate(no_buy_at_limit_up=False, no_sell_at_limit_down=False)
    assert off.check(order(price=D("11.00")), at_up, NOON) is ALLOW
    assert off.check(order(side=Side.SELL, price=D("9.00")), at_down, NOON) is ALLOW


def test_price_deviation_from_the_last_price() -> None:
    g = gate(max_price_deviation_pct=D("0.05"))
    assert g.check(order(price=D("10.50")), view(), NOON) is ALLOW
    decision = g.check(order(price=D("10.51")), view(), NOON)
    assert isinstance(decision, Deny) and "too far" in decision.reason
    assert isinstance(g.check(order(side=Side.SELL, price=D("9.49")), view(), NOON), Deny)
    assert gate(max_price_deviation_pct=D(0)).check(order(price=D("10.99")), view(), NOON) is ALLOW


def _quote(code: str, bid: D, ask: D) -> Quote:
    return Quote(code, NOON, bid, bid, bid, bid, D("10.00"), 0, D(0), (bid,), (100,), (ask,), (100,))


def test_price_cage_in_continuous_trading_with_settable_constants() -> None:
    g = gate(price_cage=True)
    g.on_quotes([_quote(CODE, D("10.00"), D("10.01"))])
    # buy: max(10.01 × 1.02, 10.01 + 10 ticks) = 10.21; sell: min(10.00 × 0.98, 10.00 − 0.10) = 9.80
    assert g.check(order(price=D("10.21")), view(), NOON) is ALLOW
    decision = g.check(order(price=D("10.22")), view(), NOON)
    assert isinstance(decision, Deny) and "price cage 10.21" in decision.reason
    assert g.check(order(side=Side.SELL, price=D("9.80")), view(), NOON) is ALLOW
    assert isinstance(g.check(order(side=Side.SELL, price=D("9.79")), view(), NOON), Deny)
    assert g.check(order(price=D("10.50")), view(), AUCTION) is ALLOW  # no cage in a call auction
    wider = gate(price_cage=True, cage_pct=D("0.05"))
    wider.on_quotes([_quote(CODE, D("10.00"), D("10.01"))])
    assert wider.check(order(price=D("10.50")), view(), NOON) is ALLOW  # 10.01 × 1.05 = 10.51
    assert RiskGate().check(order(price=D("10.50")), view(), NOON) is ALLOW  # off by default


def test_star_cage_has_no_tick_floor() -> None:
    g = gate(price_cage=True)
    g.on_quotes([_quote("688001.SH", D("2.00"), D("2.00"))])
    star = PlainAccountView(
        D("1000000"), {}, {"688001.SH": D("2.00")}, {"688001.SH": info("688001.SH", D("2.00"))}
    )
    assert g.check(order(code="688001.SH", qty=200, price=D("2.04")), star, NOON) is ALLOW
    assert isinstance(g.check(order(code="688001.SH", qty=200, price=D("2.05")), star, NOON), Deny)


# ------------------------------------------------------------------ resizes
def test_max_order_qty_resizes_to_a_valid_lot() -> None:
    decision = gate(max_order_qty=550).check(order(qty=1000), view(), NOON)
    assert decision == Resize(500, decision.note) and "1000→500" in decision.note


def test_max_order_value_resizes_and_denies_below_one_lot() -> None:
    decision = gate(max_order_value=D("5050")).check(order(qty=1000), view(), NOON)
    assert isinstance(decision, Resize) and decision.qty == 500
    decision = gate(max_order_value=D("999")).check(order(qty=1000), view(), NOON)
    assert isinstance(decision, Deny) and "no valid lot" in decision.reason


def test_a_market_buy_is_valued_at_the_up_limit() -> None:
    decision = gate(max_order_value=D("11000")).check(
        order(qty=2000, price=None, price_type=PriceType.BEST5_IOC), view(), NOON
    )
    assert isinstance(decision, Resize) and decision.qty == 1000  # 11,000 / 11.00


def test_daily_turnover_cap_cuts_the_order_that_crosses_it() -> None:
    g = gate(max_daily_turnover=D("15000"))
    first = order(qty=1000)
    assert g.check(first, view(), NOON) is ALLOW
    g.accepted(first, NOON, D("10000"))
    decision = g.check(order(qty=1000), view(), NOON)
    assert isinstance(decision, Resize) and decision.qty == 500
    g.accepted(order(qty=500), NOON, D("5000"))
    assert isinstance(g.check(order(qty=100), view(), NOON), Deny)


def test_position_cap_per_instrument_resizes_buys_only() -> None:
    g = gate(max_position_pct=D("0.10"))
    # assets 1,000,000 + 50,000 held = 1,050,000; 10% = 105,000; held 50,000 → room 55,000 = 5,500 shares
    v = view(holdings={CODE: D("50000")})
    decision = g.check(order(qty=10000), v, NOON)
    assert isinstance(decision, Resize) and decision.qty == 5500
    assert "max position per instrument" in decision.note
    assert g.check(order(qty=5500), v, NOON) is ALLOW
    assert g.check(order(side=Side.SELL, qty=10000), v, NOON) is ALLOW
    full = view(holdings={CODE: D("120000")})
    assert isinstance(g.check(order(qty=100), full, NOON), Deny)


def test_account_position_cap() -> None:
    g = gate(max_account_position_pct=D("0.5"))
    v = view(cash=D("600000"), holdings={"600036.SH": D("400000")})  # 1,000,000 assets, 40% in
    decision = g.check(order(qty=20000), v, NOON)
    assert isinstance(decision, Resize) and decision.qty == 10000 and "max account position" in decision.note


def test_star_resize_keeps_the_200_share_minimum() -> None:
    g = gate(max_order_qty=250)
    star = view(**{"688001.SH": info("688001.SH", D("50.00"))})
    decision = g.check(order(code="688001.SH", qty=1000, price=D("50.00")), star, NOON)
    assert isinstance(decision, Resize) and decision.qty == 250  # STAR: ≥ 200, then steps of 1
    assert isinstance(
        gate(max_order_qty=150).check(order(code="688001.SH", qty=1000, price=D("50.00")), star, NOON), Deny
    )


@settings(max_examples=300, deadline=None)
@given(
    code=st.sampled_from(["600000.SH", "000001.SZ", "300750.SZ", "688001.SH", "830799.BJ"]),
    qty=st.integers(1, 2_000_000),
    price=st.decimals(D("0.01"), D("3000"), places=2),
    max_qty=st.integers(0, 1_000_000),
    max_value=st.decimals(D(0), D("5e7"), places=2),
    position_pct=st.decimals(D("0.01"), D(1), places=2),
    account_pct=st.decimals(D("0.01"), D(1), places=2),
    cash=st.decimals(D(1), D("1e9"), places=2),
    held=st.decimals(D(0), D("1e8"), places=2),
)
def test_a_resize_is_lot_valid_never_above_the_request_nor_any_cap(
    code, qty, price, max_qty, max_value, position_pct, account_pct, cash, held
) -> None:
    g = gate(
        max_order_qty=max_qty,
        max_order_value=max_value,
        max_position_pct=position_pct,
        max_account_position_pct=account_pct,
        max_price_deviation_pct=D(0),
    )
    v = PlainAccountView(cash=cash, holdings={code: held}, prices={}, instruments={})
    o = order(code=code, qty=qty, price=price)
    decision = g.check(o, v, NOON)
    if not isinstance(decision, Resize):
        return
    q = decision.qty
    assert 0 < q < qty
    check_quantity(code, Side.BUY, q)  # a valid buy quantity (raises if not)
    if max_qty:
        assert q <= max_qty
    if max_value:
        assert q * price <= max_value
    total = cash + held
    if position_pct < 1:
        assert held + q * price <= position_pct * total
    if account_pct < 1:
        assert held + q * price <= account_pct * total


# ------------------------------------------------------------------ settings
@pytest.mark.parametrize(
    "typed",
    [
        "600000.SH,000001.SZ",
        "600000.SH，000001.SZ",
        " 600000.sh ； 000001.SZ ",
        "600000.SH 000001.SZ",
        "600000.SH,,000001.SZ,",
    ],
)
def test_a_list_of_codes_takes_the_separators_a_chinese_keyboard_types(typed: str) -> None:
    limits = RiskLimits().with_value("blacklist", typed)
    assert limits.blacklist == ("000001.SZ", "600000.SH")
    assert RiskLimits().with_value("blocked_boards", "star，chinext").blocked_boards == ("chinext", "star")
    with pytest.raises(RiskSettingError, match="blacklist"):
        RiskLimits().with_value("blacklist", "600000.SH，平安银行")


@given(st.lists(st.sampled_from(["600000.SH", "000001.SZ", "430047.BJ"]), max_size=5),
       st.lists(st.sampled_from([",", "，", ";", "；", " ", "\t", ", "]), min_size=5, max_size=5))  # fmt: skip
def test_any_mix_of_separators_gives_the_same_codes(codes: list[str], seps: list[str]) -> None:
    typed = "".join(c + seps[i] for i, c in enumerate(codes))
    assert RiskLimits().with_value("whitelist", typed).whitelist == tuple(sorted(set(codes)))


def test_the_exchange_ceilings_cannot_be_raised() -> None:
    limits = RiskLimits()
    assert limits.with_value("max_orders_per_second", EXCHANGE_MAX_PER_SECOND).max_orders_per_second == 300
    assert limits.with_value("max_orders_per_day", "20000").max_orders_per_day == EXCHANGE_MAX_PER_DAY
    assert limits.with_value("max_orders_per_second", 1).max_orders_per_second == 1
    for key, value in (
        ("max_orders_per_second", 301),
        ("max_orders_per_second", 0),
        ("max_orders_per_day", 20001),
        ("max_orders_per_day", 10**30),
        ("max_cancels_per_day", 20001),
    ):
        with pytest.raises(RiskSettingError, match=key):
            limits.with_value(key, value)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("max_position_pct", "0"),
        ("max_position_pct", "1.5"),
        ("max_position_pct", "nan"),
        ("max_position_pct", "1e400"),
        ("max_position_pct", True),
        ("max_order_value", "-1"),
        ("max_order_value", "0.001"),
        ("blacklist", "60000.SH"),
        ("blacklist", ["600000.SH", 1]),
        ("blocked_boards", "nasdaq"),
        ("block_st", "maybe"),
        ("stop_loss_pct", "-0.1"),
        ("max_orders_per_second", "2.5"),
        ("max_order_qty", 2**63),
        ("max_order_value", "1e400"),
        ("no_such_key", "1"),
    ],
)
def test_bad_values_are_refused_with_the_key(key: str, value: object) -> None:
    with pytest.raises(RiskSettingError, match=key):
        RiskLimits().with_value(key, value)


def test_lists_are_parsed_from_text_and_normalised() -> None:
    limits = RiskLimits().with_value("blacklist", " 600000.sh, 000001.SZ ,600000.SH")
    assert limits.blacklist == ("000001.SZ", "600000.SH")
    assert limits.as_text("blacklist") == "000001.SZ,600000.SH"
    assert RiskLimits().with_value("blocked_boards", ["STAR", "bse"]).blocked_boards == ("bse", "star")


def test_the_risk_section_of_the_settings(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[risk]\nmax_position_pct = 0.2\nblacklist = ["600000.SH"]\nmax_orders_per_second = 100\n',
        encoding="utf-8",
    )
    settings_ = load_settings(env={"TILLER__RISK__BLOCK_ST": "true"}, path=path)
    assert settings_.risk.max_position_pct == D("0.2")
    assert settings_.risk.blacklist == ("600000.SH",)
    assert settings_.risk.max_orders_per_second == 100
    assert settings_.risk.block_st is True
    path.write_text("[risk]\nmax_orders_per_second = 301\nmax_orders_per_day = 50000\n", encoding="utf-8")
    with pytest.raises(SettingsError) as caught:
        load_settings(env={}, path=path)
    text = str(caught.value)
    assert "risk.max_orders_per_second" in text and "301" in text and "risk.max_orders_per_day" in text


def test_default_config_text_carries_the_risk_section() -> None:
    from app.config import default_config_text

    text = default_config_text({})
    assert "[risk]" in text and "max_orders_per_second = 50" in text


# ------------------------------------------------------------------ monitors
def _position(qty: int = 1000, cost: D = D("10.00")) -> Position:
    return Position(CODE, "", qty, qty, 0, cost)


def _last(price: D) -> Quote:
    return Quote(
        CODE, NOON, price, price, price, price, D("10.00"), 0, D(0), (price,), (100,), (price,), (100,)
    )


def test_stop_loss_and_take_profit_trigger_once_each() -> None:
    limits = RiskLimits(stop_loss_pct=D("0.05"), take_profit_pct=D("0.10"))
    monitor = RiskMonitor()
    positions, infos = {CODE: _position()}, {CODE: info()}
    assert monitor.exits(limits, [_last(D("9.51"))], positions, infos, DAY, NOON) == []
    [exit_] = monitor.exits(limits, [_last(D("9.50"))], positions, infos, DAY, NOON)
    assert (exit_.code, exit_.qty, exit_.price, exit_.kind) == (CODE, 1000, D("9.50"), "stop_loss")
    assert monitor.exits(limits, [_last(D("9.40"))], positions, infos, DAY, NOON) == []  # once
    [exit_] = monitor.exits(limits, [_last(D("11.00"))], positions, infos, DAY, NOON)
    assert exit_.kind == "take_profit"
    assert monitor.exits(limits, [_last(D("11.00"))], positions, infos, DAY, NOON) == []
    assert monitor.exits(RiskLimits(), [_last(D("1.00"))], positions, infos, DAY, NOON) == []  # off
    closed = datetime.combine(DAY, time(12, 0), CN_TZ)  # lunch break: nothing is placed
    assert RiskMonitor().exits(limits, [_last(D("9.00"))], positions, infos, DAY, closed) == []


def test_drawdown_alert_once_a_day() -> None:
    limits = RiskLimits(drawdown_alert_pct=D("0.05"))
    monitor = RiskMonitor()
    assert monitor.drawdown(limits, D("100000"), DAY) is None
    assert monitor.drawdown(limits, D("110000"), DAY) is None  # new peak
    assert monitor.drawdown(limits, D("104501"), DAY) is None
    text = monitor.drawdown(limits, D("104500"), DAY)
    assert text is not None and "110000" in text and "5.00%" in text
    assert monitor.drawdown(limits, D("90000"), DAY) is None  # once
    assert monitor.drawdown(limits, D("90000"), DAY + timedelta(days=1)) is None  # new day, new peak
    assert monitor.drawdown(RiskLimits(), D("1"), DAY) is None


_KEYS = [f.name for f in dataclasses.fields(RiskLimits)]


@settings(max_examples=400, deadline=None)
@given(
    key=st.sampled_from(_KEYS),
    raw=st.one_of(
        st.text(max_size=30),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        st.decimals(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.lists(st.text(max_size=12), max_size=4),
        st.none(),
    ),
)
def test_any_value_is_parsed_or_refused_in_words_and_round_trips(key: str, raw: object) -> None:
    try:
        limits = RiskLimits().with_value(key, raw)
    except RiskSettingError as exc:
        assert f"risk.{key}" in str(exc)
        return
    text = limits.as_text(key)
    assert RiskLimits().with_value(key, text) == limits  # what the audit stores reads back the same
    if key == "max_orders_per_second":
        assert 1 <= limits.max_orders_per_second <= EXCHANGE_MAX_PER_SECOND
    if key == "max_orders_per_day":
        assert 1 <= limits.max_orders_per_day <= EXCHANGE_MAX_PER_DAY


# ------------------------------------------------------------------ a live account armed on purpose
def test_a_live_account_not_armed_refuses_every_new_order_first() -> None:
    from app.core.risk import LiveGuard

    g = RiskGate(state=TradingState.HALTED, live_guard=LiveGuard(enabled=True))
    for o in (order(), order(side=Side.SELL), order(price=None, price_type=PriceType.BEST5_IOC)):
        decision = g.check(o, view(), NOON)
        assert (
            isinstance(decision, Deny) and "not armed" in decision.reason and "实盘未布防" in decision.reason
        )
    g.state = TradingState.ACTIVE
    assert g.orders_today == 0  # a refused order is not counted


def test_armed_for_the_day_the_other_checks_decide_until_the_close() -> None:
    from app.bootstrap import live_risk_gate
    from app.config import Settings

    g = live_risk_gate(
        dataclasses.replace(Settings(), qmt=dataclasses.replace(Settings().qmt, live_trading_enabled=True))
    )
    g.live_guard.arm("cli", AUCTION, DAY)
    assert g.check(order(), view(), NOON) is ALLOW
    close = datetime.combine(DAY, time(15, 0), CN_TZ)
    assert g.check(order(), view(), close - timedelta(microseconds=1)) is ALLOW
    decision = g.check(order(), view(), close)
    assert isinstance(decision, Deny) and "not armed" in decision.reason
    g.live_guard.arm("cli", NOON, DAY)
    g.live_guard.disarm()
    assert isinstance(g.check(order(), view(), NOON), Deny)


def test_live_trading_not_enabled_says_so_and_cannot_be_armed() -> None:
    from app.core.risk import ArmingError, LiveGuard

    guard = LiveGuard(enabled=False)
    decision = RiskGate(live_guard=guard).check(order(), view(), NOON)
    assert isinstance(decision, Deny) and "qmt.live_trading_enabled" in decision.reason
    with pytest.raises(ArmingError, match="not enabled"):
        guard.arm("cli", NOON, DAY)
    with pytest.raises(ArmingError, match="is over"):
        LiveGuard(enabled=True).arm("cli", datetime.combine(DAY + timedelta(days=1), time(8), CN_TZ), DAY)


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=200),
        st.from_regex(r'\{"day": ".{0,12}", "by": ".{0,5}", "at": ".{0,30}", "until": ".{0,30}"\}'),
    )
)
def test_any_stored_arming_text_restores_or_warns_never_raises(text: str) -> None:
    from app.core.risk import LiveGuard

    guard = LiveGuard(enabled=True)
    warning = guard.restore(text, NOON)
    assert warning is None or "unreadable" in warning
    if guard.arming is not None:
        assert guard.armed(NOON) == (guard.arming.until > NOON)
