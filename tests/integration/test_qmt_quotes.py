"""Quotes through xtdata (issue 9 item 2): app/gateways/qmt/quotes.py against the xtdata stand-in
(tests/standins/xtdata.py), real threads, and the real engine."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.bootstrap import confirm_calendar_with_qmt, follow_codes, make_live_quotes
from app.core.messages import QuotesArrived
from app.domain.calendar import TradingCalendar
from app.domain.market import InstrumentStatus
from app.gateways.qmt.quotes import (
    QuoteError,
    XtDataQuotes,
    XtQuoteConverter,
    calendar_disagreements,
    instrument_from_detail,
)
from tests.helpers.engine_day import DAY, make_setup, open_day, settle
from tests.standins import xtdata as standin

WAIT = 10.0


@pytest.fixture
def xt():
    with standin.installed() as module:
        yield module


class Collector:
    """A quote handler that keeps each batch and the thread it ran on; may be held to play a slow engine."""

    def __init__(self) -> None:
        self.batches: list[list] = []
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, quotes) -> None:
        self.threads.add(threading.current_thread().name)
        self.entered.set()
        assert self.gate.wait(WAIT)
        self.batches.append(list(quotes))

    def latest(self) -> dict:
        return {q.code: q for batch in self.batches for q in batch}


def feed_with(xt, **kwargs) -> tuple[XtDataQuotes, Collector, list[str]]:
    problems: list[str] = []
    feed = XtDataQuotes(on_problem=problems.append, **kwargs)  # xtquant.xtdata: the stand-in
    collector = Collector()
    feed.set_quote_handler(collector)
    return feed, collector, problems


def test_float_prices_are_rounded_to_the_tick_and_volumes_are_lots_of_100(xt) -> None:
    feed, got, problems = feed_with(xt)
    try:
        feed.subscribe(["600000.SH", "510300.SH"])
        xt.push({
            "600000.SH": xt.make_tick(10.299999, 10.0, volume_lots=7586, amount=862127800.0000001,
                                      bids=[10.299999, 10.29, 11.370000000000001 - 1.09, 0.0, 0.0],
                                      bid_lots=[3, 12401, 6671, 0, 0]),
            "510300.SH": xt.make_tick(3.9990000000000001, 4.001, bids=[3.999, 3.998], asks=[4.0, 4.001]),
        })  # fmt: skip
        assert feed.wait_idle(WAIT)
        quotes = got.latest()
        stock, fund = quotes["600000.SH"], quotes["510300.SH"]
        assert stock.last == D("10.30") and str(stock.last) == "10.30"
        assert stock.prev_close == D("10.00")
        assert stock.volume == 758_600  # 7586 lots
        assert stock.amount == D("862127800.000")
        assert stock.bid_prices == (D("10.30"), D("10.29"), D("10.28"))  # the 0-priced padding dropped
        assert stock.bid_volumes == (300, 1_240_100, 667_100)
        assert fund.last == D("3.999") and fund.ask_prices == (D("4.000"), D("4.001"))  # ETF tick 0.001
        assert problems == []
        assert xt.callback_errors == []
    finally:
        feed.close()


def test_a_price_off_the_tick_skips_only_that_code_and_is_said_once(xt) -> None:
    feed, got, problems = feed_with(xt)
    try:
        feed.subscribe(["600000.SH", "000001.SZ"])
        for _ in range(3):
            xt.push({"600000.SH": xt.make_tick(10.305, 10.0), "000001.SZ": xt.make_tick(11.37, 11.38)})
        assert feed.wait_idle(WAIT)
        assert set(got.latest()) == {"000001.SZ"}
        assert len(problems) == 1 and "600000.SH" in problems[0] and "not on the tick 0.01" in problems[0]
    finally:
        feed.close()


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("volume", 12.5, "lots of 100"),  # 1250 shares is fine: 12.5 lots
        ("volume", 12.505, "whole shares"),
        ("lastPrice", float("nan"), "finite"),
        ("lastPrice", "10.00", "must be a number"),
        ("lastPrice", -10.0, "negative"),
        ("time", 1.5e12, "epoch milliseconds"),
        ("bidPrice", [10.0, 10.01], "fall level by level"),
        ("askVol", [1, 2], "as long as the prices"),
        ("lastPrice", 1e400, "finite"),
    ],
)
def test_malformed_ticks_name_the_code_and_field(field: str, value, words: str) -> None:
    tick = standin.make_tick(10.0, 10.0)
    tick[field] = value
    converter = XtQuoteConverter()
    if (field, value) == ("volume", 12.5):
        assert converter.quote("600000.SH", tick).volume == 1250
        return
    with pytest.raises(QuoteError, match=words) as raised:
        converter.quote("600000.SH", tick)
    assert "600000.SH" in str(raised.value)


def test_a_tick_without_a_field_is_an_error_naming_it() -> None:
    tick = standin.make_tick(10.0, 10.0)
    del tick["askPrice"]
    with pytest.raises(QuoteError, match="without field 'askPrice'"):
        XtQuoteConverter().quote("600000.SH", tick)


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(1, 10_000_000), noise=st.floats(-1e-7, 1e-7), lots=st.integers(0, 10**9))
def test_any_price_with_float_noise_comes_back_exact(cents: int, noise: float, lots: int) -> None:
    price = cents / 100 + noise
    tick = standin.make_tick(
        price, price, volume_lots=lots, bids=[price], asks=[], bid_lots=[lots], ask_lots=[]
    )
    quote = XtQuoteConverter().quote("600000.SH", tick)
    assert quote.last == D(cents) / 100 == quote.bid_prices[0]
    assert quote.volume == lots * 100 == quote.bid_volumes[0]


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.floats(allow_nan=True),
                       st.integers(-(2**70), 2**70), st.lists(st.integers(), max_size=3)))  # fmt: skip
def test_junk_in_any_field_is_a_quote_error_or_a_valid_quote(value) -> None:
    for field in ("lastPrice", "volume", "amount", "time", "bidPrice", "askVol"):
        tick = standin.make_tick(10.0, 10.0)
        tick[field] = value
        try:
            quote = XtQuoteConverter().quote("600000.SH", tick)
        except QuoteError:
            continue
        assert quote.last >= 0 and quote.volume >= 0


def test_a_whole_market_push_is_converted_off_the_callback_thread_as_one_batch(xt) -> None:
    sh = [*range(600000, 602000), *range(603000, 603750)]
    codes = [f"{n}.SH" for n in sh] + [f"{i:06d}.SZ" for i in range(1, 2751)]  # 5,500 stocks
    feed, got, problems = feed_with(xt)
    try:
        feed.subscribe(["SH", "SZ"])
        assert xt.calls[0] == ("subscribe_whole_quote", (("SH", "SZ"),))
        market = {
            code: xt.make_tick(10.0 + (i % 100) / 100, 10.0, volume_lots=i) for i, code in enumerate(codes)
        }
        market["000001.SH"] = xt.make_tick(3301.23, 3300.0)  # the SSE index: not traded, skipped quietly
        market["110059.SH"] = xt.make_tick(101.5, 101.0)  # a convertible bond: skipped quietly
        for _ in range(3):
            xt.push(market)
            assert feed.wait_idle(WAIT)
        assert [len(b) for b in got.batches] == [5500, 5500, 5500]  # one message per push
        assert got.threads == {"tiller-quotes"}  # neither xtdata's thread nor the caller's
        assert threading.get_ident() not in xt.push_thread_ids
        latest = got.latest()
        assert latest["600001.SH"].volume == 100 and latest["000001.SZ"].last == D("10.50")
        assert "000001.SH" in feed.ignored and "110059.SH" not in latest
        assert problems == [] and xt.callback_errors == []
    finally:
        feed.close()


def test_pushes_during_a_slow_batch_are_coalesced_per_instrument(xt) -> None:
    """While the engine is busy with one batch, further pushes never queue up: each code's newest tick
    waits, and the next batch carries every code once."""
    codes = [f"{600000 + i}.SH" for i in range(500)]
    feed, got, _ = feed_with(xt)
    try:
        feed.subscribe(codes)
        got.batches.clear()
        got.gate.clear()  # the handler (the engine) is held
        got.entered.clear()
        xt.push({c: xt.make_tick(10.0, 10.0, ms=1_000) for c in codes})
        assert got.entered.wait(WAIT)
        for n in range(1, 21):  # 20 more pushes while it is held: the callback returns at once each time
            xt.push({c: xt.make_tick(10.0 + n / 100, 10.0, ms=1_000 + n) for c in codes})
        got.gate.set()
        assert feed.wait_idle(WAIT)
        assert [len(b) for b in got.batches] == [500, 500]
        assert {q.last for q in got.batches[1]} == {D("10.20")}  # only the newest of the 20
        assert feed.pushes >= 22
    finally:
        feed.close()


def test_a_handler_that_raises_does_not_stop_the_feed(xt) -> None:
    feed, _, problems = feed_with(xt)
    calls: list[int] = []

    def flaky(quotes) -> None:
        calls.append(len(quotes))
        if len(calls) == 1:
            raise RuntimeError("engine queue gone")

    feed.set_quote_handler(flaky)
    try:
        feed.subscribe(["600000.SH"])
        xt.push({"600000.SH": xt.make_tick(10.0, 10.0)})
        assert feed.wait_idle(WAIT)
        xt.push({"600000.SH": xt.make_tick(10.01, 10.0)})
        assert feed.wait_idle(WAIT)
        assert calls == [1, 1] or calls == [1, 1, 1]
        assert any("engine queue gone" in p for p in problems)
    finally:
        feed.close()


def test_subscribing_takes_a_first_snapshot_and_asks_each_code_once(xt) -> None:
    xt.set_tick("600000.SH", xt.make_tick(10.5, 10.0))
    feed, got, problems = feed_with(xt)
    try:
        feed.subscribe(["600000.SH", "688001.SH"])  # 688001: no tick yet, left out of the snapshot
        assert feed.wait_idle(WAIT)
        assert set(got.latest()) == {"600000.SH"} and got.latest()["600000.SH"].last == D("10.50")
        feed.subscribe(["600000.SH", "688001.SH", "000001.SZ"])
        subscribed = [args[0] for name, args in xt.calls if name == "subscribe_whole_quote"]
        assert subscribed == [("600000.SH", "688001.SH"), ("000001.SZ",)]
        assert feed.subscribed == ["600000.SH", "688001.SH", "000001.SZ"]
        assert problems == []
        with pytest.raises(TypeError):
            feed.subscribe("600000.SH")
    finally:
        feed.close()
    assert [name for name, _ in xt.calls].count("unsubscribe_quote") == 2
    assert xt.subscriptions == {}


def test_when_minqmt_is_not_running_subscribe_says_so(xt) -> None:
    xt.connected = False
    feed, _, _ = feed_with(xt)
    try:
        with pytest.raises(QuoteError, match="QMT-极简版是否开启"):
            feed.subscribe(["600000.SH"])
        with pytest.raises(QuoteError, match="get_instrument_detail failed"):
            feed.instrument("600000.SH", DAY)
    finally:
        feed.close()


def test_instrument_details_give_the_days_prices_on_the_tick(xt) -> None:
    xt.add_instrument("600000.SH", 10.299999, name="浦发银行", up=11.329999999, down=9.27)
    xt.add_instrument("510300.SH", 3.9990000001, up=4.399, down=3.599, tick=0.001)
    xt.add_instrument("301999.SZ", 30.0, up=0.0, down=0.0, open_date="20261123")  # first day: no limit
    xt.add_instrument("000002.SZ", 7.5, name="*ST 万科", status=1)
    feed, got, _ = feed_with(xt)
    try:
        info = feed.instrument("600000.SH", DAY)
        assert (info.prev_close, info.up_limit, info.down_limit, info.tick) == (
            D("10.30"), D("11.33"), D("9.27"), D("0.01"),
        )  # fmt: skip
        assert info.name == "浦发银行" and info.status is InstrumentStatus.NORMAL and not info.st
        fund = feed.instrument("510300.SH", DAY)
        assert (fund.prev_close, fund.tick) == (D("3.999"), D("0.001"))
        new = feed.instrument("301999.SZ", DAY)
        assert new.up_limit is None and new.down_limit is None and new.listing_day == 1
        assert feed.instrument("999999.SZ", DAY) is None  # unknown to xtdata
        suspended = feed.instrument("000002.SZ", DAY)
        assert suspended.status is InstrumentStatus.SUSPENDED and suspended.st
        feed.subscribe(["000002.SZ", "600000.SH"])
        xt.push({"000002.SZ": xt.make_tick(7.5, 7.5, volume_lots=0), "600000.SH": xt.make_tick(10.3, 10.3)})
        assert feed.wait_idle(WAIT)
        latest = got.latest()
        assert latest["000002.SZ"].suspended and not latest["600000.SH"].suspended
        found, missing = feed.instruments(["600000.SH", "999999.SZ", "000300.SH"], DAY)
        assert [i.code for i in found] == ["600000.SH"]
        assert len(missing) == 2 and "unknown to xtdata" in missing[0] and "000300.SH" in missing[1]
    finally:
        feed.close()


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"PreClose": 0.0}, "PreClose must be a positive price"),
        ({"PreClose": 10.005}, "not on the tick"),
        ({"UpStopPrice": 9.0}, "must bracket the previous close"),
        ({"InstrumentStatus": "停牌"}, "InstrumentStatus must be a number"),
        ({"PreClose": True}, "must be a number"),
        ({"PreClose": 1.1948939277712368e-60}, "PreClose must be a positive price"),  # found by hypothesis
    ],
)
def test_bad_instrument_details_are_refused_in_words(changes: dict, words: str) -> None:
    detail = {"InstrumentName": "x", "PreClose": 10.0, "UpStopPrice": 11.0, "DownStopPrice": 9.0,
              "PriceTick": 0.01, "InstrumentStatus": 0, **changes}  # fmt: skip
    with pytest.raises(QuoteError, match=words):
        instrument_from_detail("600000.SH", detail, DAY)


def test_the_calendar_is_confirmed_against_qmts(xt, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = TradingCalendar.from_trading_days([date(2026, 11, d) for d in (23, 24, 25, 26, 27)])
    xt.trading_days[:] = [date(2026, 11, d) for d in (23, 24, 25, 27)]  # QMT: the 26th closed
    feed, _, _ = feed_with(xt)
    try:
        assert feed.trading_days(date(2026, 11, 23), date(2026, 11, 27)) == xt.trading_days
        problems = feed.confirm_calendar(ours, date(2026, 11, 23), date(2026, 11, 27))
        assert len(problems) == 1 and problems[0].startswith("2026-11-26") and "closed" in problems[0]
        # get_trading_calendar unavailable: get_trading_dates, epoch ms of China's midnight (16:00 UTC
        # the day before), gives the same days
        monkeypatch.setattr(xt, "get_trading_calendar", _raise)
        assert feed.trading_days(date(2026, 11, 23), date(2026, 11, 27)) == xt.trading_days
        xt.connected = False
        (said,) = feed.confirm_calendar(ours, date(2026, 11, 23), date(2026, 11, 27))
        assert "QMT's calendar is unavailable" in said
    finally:
        feed.close()


def _raise(*args, **kwargs):
    raise Exception("暂不支持")


def test_calendar_disagreements_are_capped_and_only_where_tillers_calendar_knows() -> None:
    ours = TradingCalendar.from_trading_days([date(2026, 11, 2) + __import__("datetime").timedelta(days=i)
                                              for i in range(0, 26) if (date(2026, 11, 2).weekday() + i) % 7 < 5])  # fmt: skip
    problems = calendar_disagreements(ours, [], date(2026, 11, 2), date(2026, 12, 31), most=3)
    assert len(problems) == 4 and "more days" in problems[-1]
    assert calendar_disagreements(ours, [], date(2026, 12, 1), date(2026, 12, 31)) == []  # beyond it


def test_quotes_reach_the_engine_as_one_message_per_push(xt, tmp_path: Path) -> None:
    """bootstrap.make_live_quotes: each push is one QuotesArrived on the engine's queue; a bad tick is
    an engine alert, once."""
    setup = open_day(make_setup(tmp_path))
    messages: list[QuotesArrived] = []
    real_post = setup.engine.post

    def spy(message) -> None:
        if isinstance(message, QuotesArrived):
            messages.append(message)
        real_post(message)

    setup.engine.post = spy  # type: ignore[method-assign]
    feed = make_live_quotes(setup.engine)  # xtquant.xtdata: the stand-in
    try:
        feed.subscribe(["600000.SH", "000001.SZ"])
        xt.push({"600000.SH": xt.make_tick(10.109999, 10.0), "000001.SZ": xt.make_tick(11.5, 11.37)})
        assert feed.wait_idle(WAIT)
        settle(setup)
        last = setup.engine.call(lambda e: dict(e.oms.last_prices))
        assert last["600000.SH"] == D("10.11") and last["000001.SZ"] == D("11.50")
        assert len(messages) == 1 and len(messages[0].quotes) == 2
        for _ in range(2):
            xt.push({"600000.SH": xt.make_tick(10.115, 10.0)})
            assert feed.wait_idle(WAIT)
        settle(setup)
        said = [a.message for a in setup.engine.alerts if a.category == "quotes"]
        assert len(said) == 1 and "600000.SH" in said[0] and "not on the tick" in said[0]
    finally:
        feed.close()
        setup.close()


def test_the_calendar_check_of_the_live_setup(xt, tmp_path: Path) -> None:
    ours = TradingCalendar.from_trading_days([date(2026, 11, d) for d in (23, 24, 25, 26, 27)])
    xt.trading_days[:] = [date(2026, 11, d) for d in (23, 24, 25, 26, 27)]
    feed, _, _ = feed_with(xt)
    try:
        assert confirm_calendar_with_qmt(feed, ours, date(2026, 11, 23), days=4) == []
        xt.trading_days.remove(date(2026, 11, 24))
        (said,) = confirm_calendar_with_qmt(feed, ours, date(2026, 11, 23), days=4)
        assert "2026-11-24" in said
    finally:
        feed.close()


def test_the_feed_follows_holdings_orders_and_the_watchlist(xt, tmp_path: Path) -> None:
    from app.core.oms import NewOrder
    from app.domain.side import Side

    setup = open_day(make_setup(tmp_path))
    feed = make_live_quotes(setup.engine)
    try:
        follow_codes(setup.engine, feed, watchlist=["300750.SZ", "000001.SZ"])
        first = [args[0] for name, args in xt.calls if name == "subscribe_whole_quote"]
        assert first == [("000001.SZ", "300750.SZ")]  # the holding, then the watchlist, each once
        setup.engine.submit([NewOrder("600000.SH", Side.BUY, 100, D("9.50"))])
        settle(setup)
        assert feed.wait_idle(WAIT)
        asked = [args[0] for name, args in xt.calls if name == "subscribe_whole_quote"]
        assert asked == [("000001.SZ", "300750.SZ"), ("600000.SH",)]
        assert feed.subscribed == ["000001.SZ", "300750.SZ", "600000.SH"]
        xt.connected = False
        feed.want(["688001.SH"])
        assert feed.wait_idle(WAIT)
        assert "688001.SH" not in feed.subscribed
        settle(setup)
        said = [a.message for a in setup.engine.alerts if a.category == "quotes"]
        assert len(said) == 1 and "QMT-极简版是否开启" in said[0]
    finally:
        feed.close()
        setup.close()


_JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=10),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)  # fmt: skip


_DETAIL_KEYS = ("InstrumentName", "PreClose", "UpStopPrice", "DownStopPrice", "PriceTick", "InstrumentStatus",
                "OpenDate")  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    detail=st.fixed_dictionaries({}, optional=dict.fromkeys(_DETAIL_KEYS, _JUNK)),
    code=st.sampled_from(["600000.SH", "510300.SH", "000300.SH", "688001.SH", "x"]),
)
def test_any_instrument_detail_is_an_instrument_or_a_quote_error(detail: dict, code: str) -> None:
    calendar = TradingCalendar.from_trading_days([DAY])
    try:
        info = instrument_from_detail(code, detail, DAY, calendar)
    except QuoteError:
        return
    assert info.prev_close > 0 and info.prev_close == info.prev_close.quantize(info.tick)
    assert (info.up_limit is None) == (info.down_limit is None)
    if info.up_limit is not None:
        assert info.down_limit <= info.prev_close <= info.up_limit
