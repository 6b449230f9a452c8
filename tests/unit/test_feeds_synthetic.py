"""SyntheticFeed: a seeded A-share day that respects limits, sessions and the book's shape."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from app.domain.clock import CN_TZ
from app.domain.errors import UnknownInstrumentError
from app.domain.market import InstrumentInfo, InstrumentStatus, Quote
from app.domain.sessions import Phase, phase_at
from app.feeds import FeedError, InstrumentSpec, SyntheticFeed, market_universe

DAY = date(2026, 11, 23)  # a Monday, a trading day
LIMIT_UP = "000858.SZ"
LIMIT_DOWN = "600000.SH"
SUSPENDED = "601318.SH"
IPO = "301999.SZ"  # ChiNext, listing day 1: no price limit
CODES = [
    "600519.SH",  # SH main, high price
    "000001.SZ",  # SZ main
    "300750.SZ",  # ChiNext
    "688981.SH",  # STAR
    "430047.BJ",  # BSE (legacy code)
    "920118.BJ",  # BSE (new code)
    "510300.SH",  # ETF, tick 0.001
    "600767.SH",  # *ST
    LIMIT_UP,
    LIMIT_DOWN,
    SUSPENDED,
]


def make_feed(seed: int = 7, step_seconds: int = 60) -> SyntheticFeed:
    specs = [*CODES, InstrumentSpec(IPO, listing_day=1), InstrumentSpec("688777.SH", listing_day=3)]
    return SyntheticFeed(
        specs,
        seed=seed,
        step_seconds=step_seconds,
        limit_up=[LIMIT_UP],
        limit_down=[LIMIT_DOWN],
        suspended=[SUSPENDED],
    )


@pytest.fixture(scope="module")
def feed() -> SyntheticFeed:
    return make_feed()


@pytest.fixture(scope="module")
def day(feed: SyntheticFeed) -> list[tuple[datetime, list[Quote]]]:
    return list(feed.batches(DAY))


@pytest.fixture(scope="module")
def infos(feed: SyntheticFeed) -> dict[str, InstrumentInfo]:
    return {info.code: info for info in feed.instruments(DAY)}


def by_code(day: list[tuple[datetime, list[Quote]]]) -> dict[str, list[Quote]]:
    result: dict[str, list[Quote]] = defaultdict(list)
    for _, quotes in day:
        for quote in quotes:
            result[quote.code].append(quote)
    return result


def all_quotes(day: list[tuple[datetime, list[Quote]]]) -> list[Quote]:
    return [quote for _, quotes in day for quote in quotes]


# ---------------------------------------------------------------------- limits and ticks
def test_every_price_when_a_day_is_generated_then_on_the_tick_and_inside_the_limits(
    day: list[tuple[datetime, list[Quote]]], infos: dict[str, InstrumentInfo]
) -> None:
    checked = 0
    for quote in all_quotes(day):
        info = infos[quote.code]
        book = [*quote.bid_prices, *quote.ask_prices]
        traded = [quote.last, quote.open, quote.high, quote.low]
        for price in book + [p for p in traded if p != 0]:
            assert price % info.tick == 0, (quote.code, price)
            assert price > 0
            if info.up_limit is not None and info.down_limit is not None:
                assert info.down_limit <= price <= info.up_limit, (quote.code, quote.ts, price)
            checked += 1
    assert checked > 10_000


def test_instruments_when_asked_then_limits_follow_the_board(infos: dict[str, InstrumentInfo]) -> None:
    def pct(info: InstrumentInfo) -> Decimal:
        assert info.up_limit is not None
        return ((info.up_limit - info.prev_close) / info.prev_close).quantize(Decimal("0.01"))

    assert pct(infos["000001.SZ"]) == Decimal("0.10")
    assert pct(infos["300750.SZ"]) == Decimal("0.20")
    assert pct(infos["688981.SH"]) == Decimal("0.20")
    assert pct(infos["430047.BJ"]) == Decimal("0.30")
    assert infos["510300.SH"].tick == Decimal("0.001")
    assert infos["600767.SH"].st is True
    assert infos["600519.SH"].name == "贵州茅台"
    assert infos["920118.BJ"].name == "样本920118"
    assert all(info.trading_day == DAY for info in infos.values())


def test_instruments_when_st_main_board_then_five_percent_before_2026_07_06_and_ten_after() -> None:
    feed = SyntheticFeed([InstrumentSpec("600767.SH", "*ST运盛", prev_close=Decimal("2.00"))])
    before = feed.instruments(date(2026, 7, 3))[0]
    after = feed.instruments(date(2026, 7, 6))[0]
    assert (before.up_limit, before.down_limit) == (Decimal("2.10"), Decimal("1.90"))
    assert (after.up_limit, after.down_limit) == (Decimal("2.20"), Decimal("1.80"))
    assert before.st and after.st


def test_instruments_when_spec_overrides_st_then_the_name_does_not_decide() -> None:
    feed = SyntheticFeed([InstrumentSpec("600100.SH", "样本", prev_close=Decimal("10.00"), st=True)])
    info = feed.instruments(date(2026, 7, 3))[0]
    assert info.st is True
    assert info.up_limit == Decimal("10.50")


def test_no_limit_listing_days_when_generated_then_limits_none_and_prices_sane(
    day: list[tuple[datetime, list[Quote]]], infos: dict[str, InstrumentInfo]
) -> None:
    for code in (IPO, "688777.SH"):
        info = infos[code]
        assert info.up_limit is None and info.down_limit is None
        quotes = by_code(day)[code]
        assert len(quotes) > 200
        for quote in quotes:
            assert quote.last % info.tick == 0
            assert info.prev_close / 2 <= quote.last <= info.prev_close * 4


# ---------------------------------------------------------------------- the shape of the day
def test_batches_when_a_day_runs_then_times_follow_the_sessions(
    day: list[tuple[datetime, list[Quote]]],
) -> None:
    times = [ts for ts, _ in day]
    assert times == sorted(set(times))
    assert all(ts.tzinfo is not None and ts.utcoffset() == CN_TZ.utcoffset(None) for ts in times)
    assert times[0].time() == time(9, 15)
    assert times[-1].time() == time(15, 0)
    phases = {phase_at(ts.time()) for ts in times}
    assert Phase.LUNCH_BREAK not in phases
    # 9:25:00 (the open print) is the only moment of the pre-open halt; 15:00:00 the only closed one
    assert [ts.time() for ts in times if phase_at(ts.time()) is Phase.PRE_OPEN_HALT] == [time(9, 25)]
    assert [ts.time() for ts in times if phase_at(ts.time()) is Phase.CLOSED] == [time(15, 0)]
    assert not [ts for ts in times if time(11, 30) <= ts.time() < time(13, 0)]
    assert not [ts for ts in times if time(9, 25) < ts.time() < time(9, 30)]
    continuous = [ts for ts in times if phase_at(ts.time()) is Phase.CONTINUOUS]
    assert continuous[0].time() == time(9, 30) and continuous[-1].time() == time(14, 56)
    assert all(quote.ts == ts for ts, quotes in day for quote in quotes)


def test_opening_auction_when_before_925_then_indicative_price_and_no_trade(
    day: list[tuple[datetime, list[Quote]]],
) -> None:
    auction = [q for ts, quotes in day if ts.time() < time(9, 25) for q in quotes]
    assert len(auction) > 50
    for quote in auction:
        assert quote.volume == 0 and quote.amount == 0
        assert quote.open == quote.high == quote.low == 0
        assert quote.bid_prices[0] == quote.ask_prices[0] == quote.last
        assert quote.bid_volumes[0] == quote.ask_volumes[0] > 0


def test_open_print_when_925_then_open_equals_last_with_the_auction_volume(
    day: list[tuple[datetime, list[Quote]]],
) -> None:
    (prints,) = [quotes for ts, quotes in day if ts.time() == time(9, 25)]
    assert len(prints) == len(CODES) + 2 - 1  # all but the suspended one
    for quote in prints:
        assert quote.open == quote.last == quote.high == quote.low > 0
        assert quote.volume > 0 and quote.volume % 100 == 0
        assert quote.amount == quote.open * quote.volume


def test_close_print_when_1500_then_the_last_batch_adds_the_closing_auction_volume(
    day: list[tuple[datetime, list[Quote]]],
) -> None:
    continuous_end = {q.code: q for ts, quotes in day if ts.time() == time(14, 56) for q in quotes}
    closing_auction = [q for ts, quotes in day if time(14, 57) <= ts.time() < time(15, 0) for q in quotes]
    assert len(closing_auction) == 3 * len(continuous_end)
    for quote in closing_auction:  # indicative only: nothing traded until 15:00
        settled = continuous_end[quote.code]
        assert (quote.last, quote.volume, quote.amount) == (settled.last, settled.volume, settled.amount)
    ts, closes = day[-1]
    assert ts.time() == time(15, 0)
    assert len(closes) == len(continuous_end)
    for quote in closes:
        assert quote.volume > continuous_end[quote.code].volume
        assert quote.low <= quote.last <= quote.high


def test_continuous_book_when_not_at_a_limit_then_five_levels_one_tick_apart(
    day: list[tuple[datetime, list[Quote]]], infos: dict[str, InstrumentInfo]
) -> None:
    checked = 0
    for ts, quotes in day:
        if phase_at(ts.time()) is not Phase.CONTINUOUS:
            continue
        for quote in quotes:
            tick = infos[quote.code].tick
            if quote.code in (LIMIT_UP, LIMIT_DOWN):
                continue
            assert len(quote.bid_prices) == len(quote.bid_volumes) >= 1
            assert len(quote.ask_prices) == len(quote.ask_volumes) >= 1
            assert quote.ask_prices[0] - quote.bid_prices[0] == tick
            assert quote.last in (quote.bid_prices[0], quote.ask_prices[0])
            assert all(a - b == tick for a, b in zip(quote.bid_prices, quote.bid_prices[1:], strict=False))
            assert all(b - a == tick for a, b in zip(quote.ask_prices, quote.ask_prices[1:], strict=False))
            assert all(v > 0 and v % 100 == 0 for v in (*quote.bid_volumes, *quote.ask_volumes))
            if len(quote.bid_prices) == 5 and len(quote.ask_prices) == 5:
                checked += 1
    assert checked > 1000


def test_volume_and_amount_when_accumulated_then_consistent_with_the_traded_prices(
    day: list[tuple[datetime, list[Quote]]],
) -> None:
    for code, quotes in by_code(day).items():
        previous = quotes[0]
        for quote in quotes[1:]:
            assert quote.volume >= previous.volume and quote.volume % 100 == 0, code
            traded = quote.volume - previous.volume
            assert quote.amount - previous.amount == quote.last * traded, (code, quote.ts)
            if quote.open:
                assert quote.low <= quote.last <= quote.high
            previous = quote


def test_volume_when_a_day_is_generated_then_u_shaped() -> None:
    feed = SyntheticFeed(market_universe(60, seed=3), seed=3, step_seconds=60)
    per_step: dict[time, int] = defaultdict(int)
    previous: dict[str, int] = {}
    for ts, quotes in feed.batches(DAY):
        for quote in quotes:
            per_step[ts.time()] += quote.volume - previous.get(quote.code, 0)
            previous[quote.code] = quote.volume

    def mean(start: time, end: time) -> float:
        values = [v for t, v in per_step.items() if start <= t < end]
        return sum(values) / len(values)

    first = mean(time(9, 30), time(10, 0))
    midday = (mean(time(10, 45), time(11, 30)) + mean(time(13, 0), time(13, 45))) / 2
    last = mean(time(14, 27), time(14, 57))
    assert first > 2.0 * midday
    assert last > 1.5 * midday


# ---------------------------------------------------------------------- limit locks and suspension
def test_limit_up_when_locked_then_last_is_the_up_limit_and_asks_are_empty(
    day: list[tuple[datetime, list[Quote]]], infos: dict[str, InstrumentInfo]
) -> None:
    up = infos[LIMIT_UP].up_limit
    quotes = by_code(day)[LIMIT_UP]
    opening = next(q for q in quotes if q.ts.time() == time(9, 30))
    assert opening.last < up  # it climbs during the morning ...
    afternoon = [q for q in quotes if q.ts.time() >= time(11, 30)]
    assert afternoon
    for quote in afternoon:  # ... and stays locked
        assert quote.last == up == quote.high
        assert quote.ask_prices == () and quote.ask_volumes == () and quote.best_ask is None
        assert quote.bid_prices[0] == up
        assert quote.bid_volumes[0] > max(quote.bid_volumes[1:])
        assert quote.bid_volumes[0] >= afternoon[-1].volume // 100


def test_limit_down_when_locked_then_last_is_the_down_limit_and_bids_are_empty(
    day: list[tuple[datetime, list[Quote]]], infos: dict[str, InstrumentInfo]
) -> None:
    down = infos[LIMIT_DOWN].down_limit
    quotes = by_code(day)[LIMIT_DOWN]
    assert next(q for q in quotes if q.ts.time() == time(9, 30)).last > down
    afternoon = [q for q in quotes if q.ts.time() >= time(11, 30)]
    for quote in afternoon:
        assert quote.last == down == quote.low
        assert quote.bid_prices == () and quote.best_bid is None
        assert quote.ask_prices[0] == down
        assert quote.ask_volumes[0] > max(quote.ask_volumes[1:])


def test_suspended_when_a_day_runs_then_no_quotes_and_status_suspended(
    day: list[tuple[datetime, list[Quote]]], infos: dict[str, InstrumentInfo]
) -> None:
    assert SUSPENDED not in by_code(day)
    assert infos[SUSPENDED].status is InstrumentStatus.SUSPENDED
    assert infos["600519.SH"].status is InstrumentStatus.NORMAL


# ---------------------------------------------------------------------- determinism and windows
def test_batches_when_same_seed_then_identical_and_when_other_seed_then_different(
    day: list[tuple[datetime, list[Quote]]],
) -> None:
    assert list(make_feed(seed=7).batches(DAY)) == day
    other = list(make_feed(seed=8).batches(DAY))
    assert [ts for ts, _ in other] == [ts for ts, _ in day]
    assert other != day


def test_batches_when_since_given_then_the_same_quotes_from_that_time(
    feed: SyntheticFeed, day: list[tuple[datetime, list[Quote]]]
) -> None:
    tail = list(feed.batches(DAY, since=time(10, 0)))
    assert tail == [(ts, quotes) for ts, quotes in day if ts.time() >= time(10, 0)]
    assert tail[0][0].time() == time(10, 0)


def test_snapshot_when_asked_at_a_time_then_the_latest_batch_at_or_before_it(
    feed: SyntheticFeed, day: list[tuple[datetime, list[Quote]]]
) -> None:
    expected = next(quotes for ts, quotes in day if ts.time() == time(10, 0))
    assert feed.snapshot(DAY, time(10, 0, 30)) == expected
    assert feed.snapshot(DAY, time(9, 0)) == []
    assert feed.snapshot(DAY, time(12, 0)) == next(quotes for ts, quotes in day if ts.time() == time(11, 29))


def test_instrument_path_when_other_instruments_added_then_unchanged(
    day: list[tuple[datetime, list[Quote]]],
) -> None:
    alone = SyntheticFeed(["300750.SZ"], step_seconds=60)
    assert by_code(list(alone.batches(DAY)))["300750.SZ"] == by_code(day)["300750.SZ"]


def test_batch_order_when_codes_given_then_quotes_keep_that_order(
    day: list[tuple[datetime, list[Quote]]],
) -> None:
    expected = [c for c in CODES if c != SUSPENDED] + [IPO, "688777.SH"]
    assert [q.code for q in day[0][1]] == expected


def test_full_market_snapshot_when_5500_instruments_then_one_quote_each() -> None:
    specs = market_universe(5500, seed=11)
    feed = SyntheticFeed(specs, seed=11, step_seconds=300)
    quotes = feed.snapshot(DAY, time(9, 15))
    assert len(quotes) == 5500
    assert len({q.code for q in quotes}) == 5500


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"step_seconds": 0}, "step_seconds"),
        ({"step_seconds": 301}, "step_seconds"),
        ({"levels": 0}, "levels"),
        ({"levels": 11}, "levels"),
        ({"limit_up": ["000002.SZ"]}, "limit_up"),
        ({"limit_up": ["600519.SH"], "limit_down": ["600519"]}, "both limit_up and limit_down"),
        ({"suspended": ["600519.SH"], "limit_down": ["600519.SH"]}, "both limit_down and suspended"),
    ],
)
def test_constructor_when_settings_are_bad_then_value_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SyntheticFeed(["600519.SH", "000001.SZ"], **kwargs)  # type: ignore[arg-type]


def test_constructor_when_a_code_is_listed_twice_then_value_error() -> None:
    with pytest.raises(ValueError, match=r"twice, was 600519\.SH"):
        SyntheticFeed(["600519.SH", "600519"])


def test_constructor_when_code_unknown_then_unknown_instrument_error() -> None:
    with pytest.raises(UnknownInstrumentError):
        SyntheticFeed(["999999.SH"])


def test_spec_when_prev_close_is_a_float_then_type_error() -> None:
    with pytest.raises(TypeError, match="prev_close"):
        InstrumentSpec("600519.SH", prev_close=1450.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("listing_day", [0, -1, True])
def test_spec_when_listing_day_is_not_positive_then_value_error(listing_day: int) -> None:
    with pytest.raises(ValueError, match="listing_day"):
        InstrumentSpec("600519.SH", listing_day=listing_day)


def test_constructor_when_prev_close_off_the_tick_then_value_error() -> None:
    with pytest.raises(ValueError, match=r"tick 0\.01, was 10\.005"):
        SyntheticFeed([InstrumentSpec("600000.SH", prev_close=Decimal("10.005"))])


def test_batches_when_not_a_trading_day_then_feed_error(feed: SyntheticFeed) -> None:
    with pytest.raises(FeedError, match="not a trading day, was 2026-10-01"):
        feed.batches(date(2026, 10, 1))
    with pytest.raises(FeedError, match="2026-11-22"):
        feed.instruments(date(2026, 11, 22))


def test_batches_when_a_limit_lock_is_asked_on_a_no_limit_day_then_feed_error() -> None:
    feed = SyntheticFeed([InstrumentSpec(IPO, listing_day=2)], limit_up=[IPO])
    with pytest.raises(FeedError, match="no price limit"):
        feed.instruments(DAY)
    with pytest.raises(FeedError, match="no price limit"):
        feed.batches(DAY)


def test_constructor_when_instruments_is_a_string_then_type_error() -> None:
    with pytest.raises(TypeError, match="sequence"):
        SyntheticFeed("600519.SH")
