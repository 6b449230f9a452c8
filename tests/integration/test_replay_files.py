"""ReplayFeed on real files: xtdata tick fields in, exact Quotes out, malformed files refused."""

from __future__ import annotations

import copy
import gzip
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from app.domain.clock import CN_TZ
from app.domain.market import InstrumentStatus, Quote
from app.feeds import FeedError, ReplayFeed

DAY = date(2026, 11, 23)


def ms(hour: int, minute: int, second: int = 0, day: date = DAY) -> int:
    return int(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=CN_TZ).timestamp()) * 1000


HEADER: dict[str, Any] = {
    "type": "instruments",
    "trading_day": "2026-11-23",
    "items": [
        {
            "code": "600000.SH",
            "name": "浦发银行",
            "prev_close": 10.26,
            "up_limit": 11.29,
            "down_limit": 9.23,
            "tick": 0.01,
            "status": "normal",
            "listing_day": None,
        },
        {
            "code": "510300.SH",
            "name": "沪深300ETF",
            "prev_close": 4.134,
            "up_limit": 4.547,
            "down_limit": 3.721,
        },
        {"code": "301999.SZ", "prev_close": 25.0, "up_limit": None, "down_limit": None, "listing_day": 1},
        {
            "code": "601318.SH",
            "prev_close": 48.53,
            "up_limit": 53.38,
            "down_limit": 43.68,
            "status": "suspended",
        },
    ],
}


def tick(code: str = "600000.SH", at: int | None = None, **changes: Any) -> dict[str, Any]:
    line = {
        "code": code,
        "time": ms(9, 30) if at is None else at,
        "lastPrice": 10.23,
        "open": 10.2,
        "high": 10.3,
        "low": 10.1,
        "lastClose": 10.26,
        "volume": 7586,
        "amount": 7760478.0,
        "askPrice": [10.24, 10.25, 0, 0, 0],
        "bidPrice": [10.23, 10.22, 10.21, 0, 0],
        "askVol": [12, 3, 0, 0, 0],
        "bidVol": [5, 7, 9, 0, 0],
        "pvolume": 758612,  # other xtdata fields are ignored
        "openInt": 13,
        "stockStatus": 13,
    }
    line.update(changes)
    return line


def write(path: Path, lines: list[Any]) -> Path:
    text = "\n".join(
        item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in lines
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def good_lines() -> list[Any]:
    return [
        copy.deepcopy(HEADER),
        tick(at=ms(9, 30)),
        tick(
            "510300.SH",
            at=ms(9, 30),
            lastPrice=4.1230000000000002,
            open=4.12,
            high=4.125,
            low=4.11,
            lastClose=4.134,
            askPrice=[4.124, 0, 0, 0, 0],
            bidPrice=[4.123, 0, 0, 0, 0],
            askVol=[100, 0, 0, 0, 0],
            bidVol=[0.5, 0, 0, 0, 0],
        ),
        tick(at=ms(9, 30, 3), lastPrice=11.370000000000001, high=11.370000000000001, volume=8000),
    ]


def drain(feed: ReplayFeed) -> list[tuple[datetime, list[Quote]]]:
    return list(feed.batches(DAY))


# ---------------------------------------------------------------------- good files
def test_replay_when_file_is_good_then_batches_grouped_by_time_in_order(tmp_path: Path) -> None:
    feed = ReplayFeed(write(tmp_path / "day.jsonl", good_lines()))
    batches = drain(feed)
    assert [ts for ts, _ in batches] == [
        datetime(2026, 11, 23, 9, 30, tzinfo=CN_TZ),
        datetime(2026, 11, 23, 9, 30, 3, tzinfo=CN_TZ),
    ]
    assert [[q.code for q in quotes] for _, quotes in batches] == [["600000.SH", "510300.SH"], ["600000.SH"]]
    assert all(q.ts == ts for ts, quotes in batches for q in quotes)


def test_replay_when_prices_carry_float_noise_then_rounded_to_the_tick(tmp_path: Path) -> None:
    batches = drain(ReplayFeed(write(tmp_path / "day.jsonl", good_lines())))
    etf = batches[0][1][1]
    later = batches[1][1][0]
    assert later.last == Decimal("11.37") and str(later.last) == "11.37"
    assert later.high == Decimal("11.37")
    assert etf.last == Decimal("4.123") and str(etf.last) == "4.123"
    first = batches[0][1][0]
    assert first.bid_prices == (Decimal("10.23"), Decimal("10.22"), Decimal("10.21"))
    assert first.prev_close == Decimal("10.26") and first.open == Decimal("10.20")


def test_replay_when_volumes_are_lots_then_quotes_hold_shares(tmp_path: Path) -> None:
    batches = drain(ReplayFeed(write(tmp_path / "day.jsonl", good_lines())))
    first, etf = batches[0][1]
    assert first.volume == 758_600
    assert first.bid_volumes == (500, 700, 900)
    assert first.ask_volumes == (1200, 300)
    assert etf.ask_volumes == (10_000,)
    assert etf.bid_volumes == (50,)  # half a lot: an odd lot of 50 shares
    assert first.amount == Decimal("7760478")


def test_replay_when_book_levels_are_zero_then_they_are_dropped(tmp_path: Path) -> None:
    lines = good_lines()
    lines[1]["askPrice"] = [0, 0, 0, 0, 0]
    lines[1]["askVol"] = [0, 0, 0, 0, 0]
    first = drain(ReplayFeed(write(tmp_path / "day.jsonl", lines)))[0][1][0]
    assert first.ask_prices == () and first.ask_volumes == ()
    assert first.best_ask is None
    assert len(first.bid_prices) == len(first.bid_volumes) == 3


def test_instruments_when_header_is_good_then_infos_with_limits_and_status(tmp_path: Path) -> None:
    infos = {i.code: i for i in ReplayFeed(write(tmp_path / "day.jsonl", good_lines())).instruments(DAY)}
    assert list(infos) == ["600000.SH", "510300.SH", "301999.SZ", "601318.SH"]
    assert infos["600000.SH"].up_limit == Decimal("11.29") and infos["600000.SH"].name == "浦发银行"
    assert infos["510300.SH"].tick == Decimal("0.001") and infos["510300.SH"].prev_close == Decimal("4.134")
    assert infos["301999.SZ"].up_limit is None and infos["301999.SZ"].listing_day == 1
    assert infos["601318.SH"].status is InstrumentStatus.SUSPENDED
    assert all(info.trading_day == DAY for info in infos.values())


def test_replay_when_a_line_uses_a_bare_code_then_normalised(tmp_path: Path) -> None:
    lines = good_lines()
    lines[3]["code"] = "600000"
    batches = drain(ReplayFeed(write(tmp_path / "day.jsonl", lines)))
    assert batches[1][1][0].code == "600000.SH"


def test_replay_when_a_line_marks_suspended_then_the_quote_says_so(tmp_path: Path) -> None:
    lines = [*good_lines(), tick("601318.SH", at=ms(9, 31), suspended=True, lastPrice=48.53, lastClose=48.53,
                                 open=0, high=0, low=0, volume=0, amount=0)]  # fmt: skip
    quote = drain(ReplayFeed(write(tmp_path / "day.jsonl", lines)))[-1][1][0]
    assert quote.suspended is True and quote.code == "601318.SH"


def test_replay_when_gzip_then_read_like_plain_text(tmp_path: Path) -> None:
    plain = write(tmp_path / "day.jsonl", good_lines())
    packed = tmp_path / "packed.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert drain(ReplayFeed(packed)) == drain(ReplayFeed(plain))


def test_folder_when_several_days_then_each_day_from_its_own_file(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", good_lines())
    other = good_lines()[:2]
    other[0]["trading_day"] = "2026-11-24"
    other[1]["time"] = ms(9, 30, day=date(2026, 11, 24))
    write(tmp_path / "b.jsonl", other)
    (tmp_path / "notes.txt").write_text("not a recording", encoding="utf-8")
    feed = ReplayFeed(tmp_path)
    assert feed.days() == [DAY, date(2026, 11, 24)]
    assert len(drain(feed)) == 2
    assert len(list(feed.batches(date(2026, 11, 24)))) == 1


def test_blank_lines_when_present_then_skipped(tmp_path: Path) -> None:
    lines = good_lines()
    lines.insert(2, "")
    assert len(drain(ReplayFeed(write(tmp_path / "day.jsonl", lines)))) == 2


# ---------------------------------------------------------------------- malformed snapshot lines
def _bad_line(name: str) -> tuple[Any, str]:
    cases: dict[str, tuple[Any, str]] = {
        "bad json": ('{"code": "600000.SH", "time": ', "bad JSON"),
        "nan": (json.dumps(tick(at=ms(9, 31))).replace("10.23", "NaN", 1), "bad JSON"),
        "missing field": (
            {k: v for k, v in tick(at=ms(9, 31)).items() if k != "amount"},
            "missing field 'amount'",
        ),
        "time backwards": (tick(at=ms(9, 29, 59)), "time goes backwards"),
        "unknown code": (
            tick("000002.SZ", at=ms(9, 31)),
            "unknown code (not in the instruments header), was '000002.SZ'",
        ),
        "unsupported code": (tick("ABC", at=ms(9, 31)), "unknown code"),
        "off tick": (tick(at=ms(9, 31), lastPrice=10.235), "lastPrice is not on the tick 0.01, was 10.235"),
        "string price": (tick(at=ms(9, 31), lastPrice="10.23"), "lastPrice must be a number, was '10.23'"),
        "bool price": (tick(at=ms(9, 31), high=True), "high must be a number, was True"),
        "bool in book": (
            tick(at=ms(9, 31), bidPrice=[True, 0, 0, 0, 0]),
            "bidPrice must be a number, was True",
        ),
        "negative price": (tick(at=ms(9, 31), low=-1), "low must not be negative"),
        "huge price": (tick(at=ms(9, 31), low=Decimal("1e999999")), "low is out of range"),
        "negative volume": (tick(at=ms(9, 31), volume=-1), "volume must not be negative"),
        "fractional shares": (
            tick(at=ms(9, 31), volume=0.005),
            "volume must be lots of 100 giving whole shares",
        ),
        "negative amount": (tick(at=ms(9, 31), amount=-5), "amount must not be negative"),
        "book lengths": (
            tick(at=ms(9, 31), askVol=[1, 2]),
            "askPrice and askVol must have as many levels, was 5 and 2",
        ),
        "book not a list": (tick(at=ms(9, 31), bidVol=7), "must be lists"),
        "bids rising": (tick(at=ms(9, 31), bidPrice=[10.22, 10.23, 0, 0, 0]), "bid prices must fall"),
        "asks falling": (tick(at=ms(9, 31), askPrice=[10.25, 10.24, 0, 0, 0]), "ask prices must rise"),
        "other day": (tick(at=ms(9, 30, day=date(2026, 11, 24))), "is not on the trading day 2026-11-23"),
        "float time": (tick(at=ms(9, 31) + 0.5), "time must be epoch milliseconds"),
        "second header": (copy.deepcopy(HEADER), "only the first line may be a header"),
        "a list": ([1, 2, 3], "a snapshot must be a JSON object"),
        "bad status": (tick(at=ms(9, 31), stockStatus="13"), "stockStatus must be an integer"),
        "bad suspended": (tick(at=ms(9, 31), suspended="yes"), "suspended must be true or false"),
    }
    return cases[name]


BAD_LINE_CASES = [
    "bad json", "nan", "missing field", "time backwards", "unknown code", "unsupported code", "off tick",
    "string price", "bool price", "bool in book", "negative price", "huge price", "negative volume",
    "fractional shares", "negative amount", "book lengths", "book not a list", "bids rising", "asks falling",
    "other day", "float time", "second header", "a list", "bad status", "bad suspended",
]  # fmt: skip


def _dump(item: Any) -> str:
    if isinstance(item, str):
        return item
    return json.dumps(item, ensure_ascii=False, default=str).replace('"1E+999999"', "1e999999")


@pytest.mark.parametrize("case", BAD_LINE_CASES)
def test_replay_when_a_line_is_malformed_then_feed_error_naming_file_and_line_and_nothing_yielded(
    tmp_path: Path, case: str
) -> None:
    bad, message = _bad_line(case)
    lines = [*good_lines(), tick(at=ms(9, 30, 6))]
    lines.insert(4, _dump(bad))  # line 5 of the file, after three good snapshots
    path = write(tmp_path / "day.jsonl", lines)
    feed = ReplayFeed(path)
    got: list[Any] = []
    with pytest.raises(FeedError) as raised:
        for batch in feed.batches(DAY):
            got.append(batch)
    assert got == []
    assert f"{path}, line 5: " in str(raised.value)
    assert message in str(raised.value)


# ---------------------------------------------------------------------- malformed headers and files
def _header_with(**changes: Any) -> dict[str, Any]:
    header = copy.deepcopy(HEADER)
    item = header["items"][0]
    for key, value in changes.items():
        if value is ...:
            del item[key]
        else:
            item[key] = value
    return header


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (tick(), 'the first line must be the header {"type": "instruments", ...}'),
        (
            {**HEADER, "trading_day": "23/11/2026"},
            "trading_day must be a date like 2026-11-23, was '23/11/2026'",
        ),
        ({**HEADER, "items": {"code": "600000.SH"}}, "items must be a list"),
        (_header_with(prev_close=...), "item 1: missing field 'prev_close'"),
        (_header_with(code=...), "item 1: missing field 'code'"),
        (_header_with(code="999999.SH"), "item 1: 不支持的证券代码"),
        ({**HEADER, "items": [HEADER["items"][0]] * 2}, "item 2: instrument listed twice, was 600000.SH"),
        (_header_with(tick=0.001), "tick of 600000.SH is 0.01, was 0.001"),
        (_header_with(up_limit=None), "up_limit and down_limit are both numbers or both null"),
        (_header_with(down_limit=11.5), "down_limit must be positive and below up_limit 11.29, was 11.50"),
        (_header_with(prev_close=0), "prev_close must be positive"),
        (_header_with(prev_close=10.255), "prev_close is not on the tick 0.01"),
        (_header_with(status="halted"), "status must be 'normal' or 'suspended', was 'halted'"),
        (_header_with(listing_day=0), "listing_day must be an integer from 1 or null, was 0"),
        (_header_with(st="no"), "st must be true or false"),
        (_header_with(name=5), "code and name must be strings"),
        ({**HEADER, "items": ["600000.SH"]}, "item 1: an instrument must be an object"),
    ],
)
def test_header_when_malformed_then_feed_error_naming_file_and_line_one(
    tmp_path: Path, header: Any, message: str
) -> None:
    lines = good_lines()
    lines[0] = header
    path = write(tmp_path / "day.jsonl", lines)
    feed = ReplayFeed(path)
    for call in (feed.instruments, feed.batches):
        with pytest.raises(FeedError) as raised:
            call(DAY)
        assert f"{path}, line 1" in str(raised.value)
        assert message in str(raised.value)


def test_file_when_empty_then_feed_error(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(FeedError, match="empty"):
        ReplayFeed(path).instruments(DAY)


def test_file_when_not_utf8_then_feed_error_naming_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "day.jsonl", good_lines())
    path.write_bytes(path.read_bytes() + b'{"code": "\xff\xfe"}\n')
    with pytest.raises(FeedError, match=r"line 5: unreadable"):
        drain(ReplayFeed(path))


def test_file_when_gzip_is_corrupt_then_feed_error(tmp_path: Path) -> None:
    path = tmp_path / "day.jsonl.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(FeedError, match="unreadable"):
        ReplayFeed(path).days()


def test_day_when_not_recorded_then_feed_error_listing_the_recorded_days(tmp_path: Path) -> None:
    feed = ReplayFeed(write(tmp_path / "day.jsonl", good_lines()))
    with pytest.raises(FeedError, match=r"no recording for 2026-11-24 .*recorded: 2026-11-23"):
        feed.batches(date(2026, 11, 24))


def test_folder_when_a_day_is_recorded_twice_then_feed_error_naming_both_files(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", good_lines())
    write(tmp_path / "b.jsonl", good_lines())
    with pytest.raises(FeedError, match=r"recorded twice, in .*a\.jsonl and .*b\.jsonl"):
        ReplayFeed(tmp_path).days()


def test_path_when_missing_then_feed_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="recording not found"):
        ReplayFeed(tmp_path / "nothing.jsonl")


def test_batches_when_day_is_a_datetime_then_type_error(tmp_path: Path) -> None:
    feed = ReplayFeed(write(tmp_path / "day.jsonl", good_lines()))
    with pytest.raises(TypeError, match=r"datetime\.date"):
        feed.batches(datetime(2026, 11, 23, tzinfo=CN_TZ))
