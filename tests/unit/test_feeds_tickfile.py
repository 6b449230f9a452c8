"""The xtdata tick line format: exact prices from noisy floats, lots to shares, and back."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.domain.clock import CN_TZ
from app.domain.market import InstrumentInfo, Quote
from app.feeds import FeedError
from app.feeds.tickfile import (
    QuoteParser,
    format_header,
    format_quote,
    load_line,
    parse_header,
    price,
    shares,
)

DAY = date(2026, 11, 23)
CENT = Decimal("0.01")
MILLI = Decimal("0.001")


@pytest.mark.parametrize(
    ("text", "tick", "expected"),
    [
        ("11.370000000000001", CENT, "11.37"),
        ("11.369999999999999", CENT, "11.37"),
        ("4.1230000000000002", MILLI, "4.123"),
        ("10", CENT, "10.00"),
        ("0", CENT, "0.00"),
        ("1517.41", CENT, "1517.41"),
    ],
)
def test_price_when_float_noise_then_exact_on_the_tick(text: str, tick: Decimal, expected: str) -> None:
    result = price(load_line(text), tick, "lastPrice", "here")
    assert result == Decimal(expected) and str(result) == expected


@pytest.mark.parametrize(("text", "tick"), [("10.235", CENT), ("10.2301", CENT), ("4.1235", MILLI)])
def test_price_when_off_the_tick_beyond_noise_then_feed_error(text: str, tick: Decimal) -> None:
    with pytest.raises(FeedError, match=f"here: lastPrice is not on the tick {tick}, was {text}"):
        price(load_line(text), tick, "lastPrice", "here")


@pytest.mark.parametrize(("text", "expected"), [("7586", 758_600), ("0", 0), ("0.5", 50), ("12.34", 1234)])
def test_shares_when_lots_then_times_one_hundred(text: str, expected: int) -> None:
    assert shares(load_line(text), "volume", "here") == expected


@pytest.mark.parametrize("text", ["0.005", "-1", '"12"', "true", "null"])
def test_shares_when_not_whole_shares_or_not_a_number_then_feed_error(text: str) -> None:
    with pytest.raises(FeedError, match="here: volume"):
        shares(load_line(text), "volume", "here")


def test_load_line_when_nan_or_infinity_then_value_error() -> None:
    for text in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="not a number"):
            load_line(text)


def test_quote_line_when_formatted_and_parsed_then_equal() -> None:
    info = InstrumentInfo(
        "510300.SH", "沪深300ETF", DAY, Decimal("4.134"), Decimal("4.547"), Decimal("3.721"), MILLI
    )
    ts = datetime(2026, 11, 23, 10, 0, 3, tzinfo=CN_TZ)
    quote = Quote(
        "510300.SH", ts, Decimal("4.123"), Decimal("4.120"), Decimal("4.130"), Decimal("4.110"), Decimal("4.134"),
        1_234_550, Decimal("5090000.650"), (Decimal("4.123"), Decimal("4.122")), (1000, 50), (Decimal("4.124"),), (300,),
    )  # fmt: skip
    day, infos = parse_header(load_line(format_header(DAY, [info])), "header")
    assert (day, infos) == (DAY, {"510300.SH": info})
    line = load_line(format_quote(quote))
    assert line["volume"] == Decimal("12345.5") and line["bidVol"] == [10, Decimal("0.5"), 0, 0, 0]
    assert line["askPrice"] == [Decimal("4.124"), 0, 0, 0, 0]
    ms, parsed = QuoteParser(day, infos).parse(line, "line 2")
    assert ms == int(ts.timestamp()) * 1000
    assert parsed == quote
