"""record() then ReplayFeed: any QuoteSource's day comes back identical from a file."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.clock import CN_TZ
from app.domain.market import InstrumentInfo, InstrumentStatus, Quote
from app.feeds import FeedError, InstrumentSpec, ReplayFeed, SyntheticFeed, record
from app.feeds.tickfile import load_line

DAY = date(2026, 11, 23)


def synthetic() -> SyntheticFeed:
    specs = [
        "600519.SH",
        "000001.SZ",
        "300750.SZ",
        "688981.SH",
        "430047.BJ",
        "510300.SH",
        "600767.SH",
        "000858.SZ",
        "600000.SH",
        "601318.SH",
        InstrumentSpec("301999.SZ", listing_day=1),
    ]
    return SyntheticFeed(
        specs,
        seed=5,
        step_seconds=30,
        limit_up=["000858.SZ"],
        limit_down=["600000.SH"],
        suspended=["601318.SH"],
    )


@pytest.mark.parametrize("name", ["day.jsonl", "day.jsonl.gz"])
def test_record_then_replay_when_synthetic_day_then_identical_quotes_and_instruments(
    tmp_path: Path, name: str
) -> None:
    source = synthetic()
    path = tmp_path / "recordings" / name
    count = record(source, DAY, path)
    expected = list(source.batches(DAY))
    replay = ReplayFeed(path)
    assert replay.days() == [DAY]
    assert replay.instruments(DAY) == source.instruments(DAY)
    assert list(replay.batches(DAY)) == expected
    assert count == sum(len(quotes) for _, quotes in expected) > 4000
    assert not list(path.parent.glob("*.part"))


def test_record_when_written_then_lines_are_xtdata_ticks_in_lots_with_five_levels(tmp_path: Path) -> None:
    source = SyntheticFeed(["600000.SH"], step_seconds=60, limit_up=["600000.SH"])
    path = tmp_path / "day.jsonl"
    record(source, DAY, path)
    lines = path.read_text(encoding="utf-8").splitlines()
    header = load_line(lines[0])
    assert header["type"] == "instruments" and header["trading_day"] == "2026-11-23"
    assert header["items"][0]["code"] == "600000.SH" and header["items"][0]["tick"] == Decimal("0.01")
    last_quote = list(source.batches(DAY))[-1][1][0]
    last_line = load_line(lines[-1])
    assert last_line["volume"] * 100 == last_quote.volume
    assert last_line["time"] == int(datetime(2026, 11, 23, 15, tzinfo=CN_TZ).timestamp() * 1000)
    assert len(last_line["askPrice"]) == 5 and last_line["askPrice"] == [0] * 5  # locked: no asks
    assert last_line["bidPrice"][0] == last_line["lastPrice"]


def test_record_when_gzip_twice_then_byte_identical(tmp_path: Path) -> None:
    source = SyntheticFeed(["600519.SH", "510300.SH"], step_seconds=120)
    record(source, DAY, tmp_path / "a.jsonl.gz")
    record(source, DAY, tmp_path / "b.jsonl.gz")
    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes()).startswith(b'{"type": "instruments"')


class HandMade:
    """A QuoteSource with odd lots, a suspended flag and sub-second times."""

    def __init__(self, extra: Quote | None = None) -> None:
        self.extra = extra

    def instruments(self, day: date) -> list[InstrumentInfo]:
        return [
            InstrumentInfo(
                "600000.SH",
                "浦发银行",
                day,
                Decimal("10.26"),
                Decimal("11.29"),
                Decimal("9.23"),
                Decimal("0.01"),
            ),
            InstrumentInfo(
                "601318.SH",
                "中国平安",
                day,
                Decimal("48.53"),
                Decimal("53.38"),
                Decimal("43.68"),
                Decimal("0.01"),
                status=InstrumentStatus.SUSPENDED,
            ),
        ]

    def batches(self, day: date) -> Iterator[tuple[datetime, list[Quote]]]:
        ts = datetime(2026, 11, 23, 9, 30, 0, 250_000, tzinfo=CN_TZ)
        price = Decimal("10.23")
        yield ts, [
            Quote("600000.SH", ts, price, price, price, price, Decimal("10.26"), 150, Decimal("1534.50"),
                  (price,), (250,), (), ()),
            Quote("601318.SH", ts, Decimal("48.53"), Decimal("0"), Decimal("0"), Decimal("0"), Decimal("48.53"),
                  0, Decimal("0"), suspended=True),
        ]  # fmt: skip
        if self.extra is not None:
            yield self.extra.ts, [self.extra]


def test_record_when_odd_lots_and_suspended_and_milliseconds_then_round_trip_exactly(tmp_path: Path) -> None:
    source = HandMade()
    record(source, DAY, tmp_path / "day.jsonl")
    assert list(ReplayFeed(tmp_path / "day.jsonl").batches(DAY)) == list(source.batches(DAY))


def _stray(code: str = "600036.SH", at: time = time(9, 31)) -> Quote:
    ts = datetime.combine(DAY, at, tzinfo=CN_TZ)
    price = Decimal("40.00")
    return Quote(code, ts, price, price, price, price, price, 100, Decimal("4000"))


def _naive() -> Quote:
    price = Decimal("10.23")
    return Quote(
        "600000.SH", datetime(2026, 11, 23, 9, 31), price, price, price, price, price, 100, Decimal("1023")
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (_stray(), "600036.SH, which its instruments"),
        (_stray("600000.SH", time(9, 29)), "must not go backwards"),
        (_naive(), "timezone-aware"),
    ],
)
def test_record_when_source_misbehaves_then_feed_error_and_the_old_file_is_untouched(
    tmp_path: Path, extra: Quote, message: str
) -> None:
    path = tmp_path / "day.jsonl"
    path.write_text("previous recording\n", encoding="utf-8")
    with pytest.raises(FeedError, match=message):
        record(HandMade(extra), DAY, path)
    assert path.read_text(encoding="utf-8") == "previous recording\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.jsonl"]


def test_record_when_not_a_trading_day_then_feed_error_and_no_file(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match="not a trading day"):
        record(synthetic(), date(2026, 11, 22), tmp_path / "day.jsonl")
    assert list(tmp_path.iterdir()) == []


def test_record_when_name_is_not_jsonl_then_feed_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError, match=r"\.jsonl or \.jsonl\.gz, was day\.json"):
        record(synthetic(), DAY, tmp_path / "day.json")
    assert list(tmp_path.iterdir()) == []
