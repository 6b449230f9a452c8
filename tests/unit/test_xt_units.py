"""xtdata's units in one place (app/domain/xt_units.py): the QMT quote feed and the recorded-day file
read a price, a volume and an amount the same way, and say what is wrong in their own error type."""

from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.xt_units import lots_to_shares, price_on_tick, yuan
from app.feeds.errors import FeedError
from app.feeds.tickfile import amount, price, shares
from app.gateways.qmt.quotes import QuoteError, XtQuoteConverter
from tests.standins import xtdata as standin

CENT, MILLI = D("0.01"), D("0.001")


class Mine(ValueError):
    pass


@given(steps=st.integers(0, 10**9), noise=st.floats(-1e-7, 1e-7), tick=st.sampled_from([CENT, MILLI]))
def test_a_price_with_float_noise_is_exact_on_the_tick(steps: int, noise: float, tick: D) -> None:
    exact = steps * tick
    raw = D(repr(float(exact) + noise))  # the float xtdata sends, as its shortest repr

    result = price_on_tick(raw, tick, "lastPrice", "600000.SH")

    assert result == exact and result.as_tuple().exponent == tick.as_tuple().exponent


@pytest.mark.parametrize(("raw", "tick"), [("10.235", CENT), ("10.2301", CENT), ("4.1235", MILLI)])
def test_a_price_off_the_tick_beyond_noise_raises_the_callers_error(raw: str, tick: D) -> None:
    with pytest.raises(Mine, match=rf"^here: lastPrice is not on the tick {tick}, was {raw}$"):
        price_on_tick(D(raw), tick, "lastPrice", "here", error=Mine)


@pytest.mark.parametrize("raw", ["1e999999", "-1e999999"])
def test_a_price_out_of_range_is_said_so(raw: str) -> None:
    with pytest.raises(Mine, match=r"^here: low is out of range"):
        price_on_tick(D(raw), CENT, "low", "here", error=Mine)


@given(shares_=st.integers(0, 10**15))
def test_lots_of_100_are_shares_and_a_fraction_giving_whole_shares_is_kept(shares_: int) -> None:
    assert lots_to_shares(D(shares_) / 100, "volume", "x") == shares_


@pytest.mark.parametrize(
    ("raw", "words"),
    [("0.005", "must be lots of 100 giving whole shares"), ("-1", "must not be negative"),
     ("1E+999999", "is out of range")],
)  # fmt: skip
def test_volumes_that_are_not_whole_shares_are_refused(raw: str, words: str) -> None:
    with pytest.raises(Mine, match=f"^x: volume {words}, was {re.escape(raw)}$"):
        lots_to_shares(D(raw), "volume", "x", error=Mine)


def test_an_amount_is_yuan_to_the_thousandth_rounded_half_up() -> None:
    assert yuan(D("1234.5675"), "amount", "x") == D("1234.568")
    assert yuan(D("0.0004999"), "amount", "x") == D("0.000")
    with pytest.raises(Mine, match=r"^x: amount must not be negative, was -0\.01$"):
        yuan(D("-0.01"), "amount", "x", error=Mine)


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(1, 10_000_000),
    noise=st.floats(-1e-7, 1e-7),
    lots=st.integers(0, 10**9),
    turnover=st.floats(0, 1e13),
)
def test_the_recorded_file_and_the_qmt_feed_read_the_same_numbers_the_same(
    cents: int, noise: float, lots: int, turnover: float
) -> None:
    sent = cents / 100 + noise
    tick = standin.make_tick(
        sent, sent, volume_lots=lots, amount=turnover, bids=[sent], asks=[], bid_lots=[lots], ask_lots=[]
    )
    live = XtQuoteConverter().quote("600000.SH", tick)

    # the recorded-day file holds the same float as JSON (its shortest repr): the same values back
    assert price(D(repr(sent)), CENT, "lastPrice", "f:2") == live.last == D(cents) / 100
    assert shares(lots, "volume", "f:2") == live.volume
    assert amount(D(repr(tick["amount"])), "amount", "f:2") == live.amount


def test_each_reader_says_it_in_its_own_error_type() -> None:
    with pytest.raises(FeedError, match=r"^f:2: lastPrice is not on the tick 0\.01, was 10\.235$"):
        price(D("10.235"), CENT, "lastPrice", "f:2")
    tick = standin.make_tick(10.235, 10.235, volume_lots=1, bids=[], asks=[], bid_lots=[], ask_lots=[])
    with pytest.raises(QuoteError, match=r"^600000\.SH: lastPrice is not on the tick 0\.01, was 10\.235$"):
        XtQuoteConverter().quote("600000.SH", tick)
