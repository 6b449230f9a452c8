"""SyntheticFeed: a believable, seeded A-share trading day for any list of instruments.

The day follows the session table of `app.domain.sessions` (RULES B5):

- 9:15–9:25 opening call auction, a snapshot every `step_seconds`: `last` is the indicative
  match price, bid1 = ask1 = that price with the matched volume; `open`/`high`/`low` are 0 and
  `volume`/`amount` 0, as xtdata shows before the first trade.
- 9:25:00 the open print: open = last = high = low, volume = the auction volume.
- 9:25–9:30 nothing. 9:30–11:30 and 13:00–14:57 continuous trading, a snapshot every step.
- 11:30–13:00 nothing. 14:57–15:00 closing call auction: `last` stays at the last trade,
  bid1 = ask1 = the indicative close. 15:00:00 the close print (the last batch).

Prices are a seeded random walk in integer ticks inside the day's limits; the book has five
levels around the last trade with a one-tick spread. Volume per step is U-shaped over the day.
`limit_up` instruments climb to the up limit during the morning and lock there (asks empty,
a large bid at the limit); `limit_down` mirrors it; `suspended` ones send no quotes.

The walk itself, built for speed, is in `app.feeds.walk`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from app.domain.calendar import DEFAULT_CALENDAR, TradingCalendar
from app.domain.clock import CN_TZ
from app.domain.instruments import Board, Exchange, Instrument, classify
from app.domain.market import InstrumentInfo, InstrumentStatus, Quote
from app.domain.prices import price_limits
from app.feeds.errors import FeedError
from app.feeds.universe import WELL_KNOWN, InstrumentSpec, default_name
from app.feeds.walk import KERNELS, InstrumentPath, PriceTable, Step, Timeline, day_timeline, random_tables

__all__ = ["SyntheticFeed"]

MAX_STEP_SECONDS = 300  # the opening auction is 600 s: keep at least two snapshots in it
MAX_LEVELS = 10

# A previous-close draw per board (median, spread, lowest, highest), for instruments given
# without one: rough shapes of the market, so that a demo looks plausible.
_PRICE_DRAW = {
    Board.SH_MAIN: (9.0, 0.7, 1.5, 300.0),
    Board.SZ_MAIN: (9.0, 0.7, 1.5, 300.0),
    Board.CHINEXT: (22.0, 0.7, 3.0, 400.0),
    Board.STAR: (35.0, 0.7, 5.0, 600.0),
    Board.BSE: (14.0, 0.6, 2.0, 200.0),
    Board.FUND: (1.5, 0.6, 0.3, 10.0),
}
_ST_PRICE_DRAW = (3.0, 0.5, 0.5, 20.0)


@dataclass(frozen=True, slots=True)
class _Resolved:
    instrument: Instrument
    name: str
    prev_close: Decimal
    listing_day: int | None
    st: bool


class SyntheticFeed:
    """A QuoteSource (app.core.ports) that invents a seeded trading day.

    `instruments` are InstrumentSpec or codes ("600519.SH" or "600519"). Deterministic for a
    seed: an instrument's path depends only on the seed, its code, the day and its spec.
    """

    def __init__(
        self,
        instruments: Sequence[InstrumentSpec] | Sequence[str],
        *,
        seed: int = 7,
        step_seconds: int = 3,
        levels: int = 5,
        limit_up: Collection[str] = (),
        limit_down: Collection[str] = (),
        suspended: Collection[str] = (),
        calendar: TradingCalendar = DEFAULT_CALENDAR,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, was {seed!r}")
        if isinstance(step_seconds, bool) or not isinstance(step_seconds, int):
            raise TypeError(f"step_seconds must be an int, was {step_seconds!r}")
        if not 1 <= step_seconds <= MAX_STEP_SECONDS:
            raise ValueError(f"step_seconds must be from 1 to {MAX_STEP_SECONDS}, was {step_seconds}")
        if isinstance(levels, bool) or not isinstance(levels, int) or not 1 <= levels <= MAX_LEVELS:
            raise ValueError(f"levels must be an int from 1 to {MAX_LEVELS}, was {levels!r}")
        if isinstance(instruments, str):
            raise TypeError(
                f"instruments must be a sequence of codes or specs, was the string {instruments!r}"
            )
        self._seed = seed
        self._step = step_seconds
        self._levels = levels
        self._calendar = calendar
        self._specs: dict[str, _Resolved] = {}
        for item in instruments:
            resolved = self._resolve(item)
            code = resolved.instrument.code
            if code in self._specs:
                raise ValueError(f"instrument listed twice, was {code}")
            self._specs[code] = resolved
        self._limit_up = self._codes(limit_up, "limit_up")
        self._limit_down = self._codes(limit_down, "limit_down")
        self._suspended = self._codes(suspended, "suspended")
        for first, second, a, b in (
            (self._limit_up, self._limit_down, "limit_up", "limit_down"),
            (self._limit_up, self._suspended, "limit_up", "suspended"),
            (self._limit_down, self._suspended, "limit_down", "suspended"),
        ):
            both = sorted(first & second)
            if both:
                raise ValueError(f"an instrument cannot be both {a} and {b}, was {', '.join(both)}")

    @property
    def codes(self) -> list[str]:
        """The canonical codes, in the order given."""
        return list(self._specs)

    # ------------------------------------------------------------------ QuoteSource
    def instruments(self, day: date) -> list[InstrumentInfo]:
        """The day's instruments with their limits (None on no-limit days) and status."""
        return self._day_infos(day)

    def batches(self, day: date, *, since: time | None = None) -> Iterator[tuple[datetime, list[Quote]]]:
        """The day's snapshots in time order. With `since`, batches before that wall-clock time
        are skipped (the walk still runs through them, so later quotes are unchanged)."""
        infos = self._day_infos(day)  # validate before the first yield
        if since is not None and (not isinstance(since, time) or since.tzinfo is not None):
            raise TypeError(f"since must be a naive CN wall-clock datetime.time or None, was {since!r}")
        return self._generate(day, infos, since)

    def snapshot(self, day: date, at: time) -> list[Quote]:
        """The last batch at or before wall-clock time `at` (e.g. a full-market picture at 10:00);
        empty before the first batch."""
        if not isinstance(at, time) or at.tzinfo is not None:
            raise TypeError(f"at must be a naive CN wall-clock datetime.time, was {at!r}")
        limit = at.hour * 3600 + at.minute * 60 + at.second
        times = [
            s.seconds
            for ex in self._exchanges()
            for s in day_timeline(ex, self._step).steps
            if s.seconds <= limit
        ]
        if not times:
            self._day_infos(day)
            return []
        latest = max(times)
        since = time(latest // 3600, latest // 60 % 60, latest % 60)
        for _, quotes in self.batches(day, since=since):
            return quotes
        return []

    # ------------------------------------------------------------------ set-up
    def _resolve(self, item: InstrumentSpec | str) -> _Resolved:
        spec = InstrumentSpec(item) if isinstance(item, str) else item
        if not isinstance(spec, InstrumentSpec):
            raise TypeError(
                f"instruments must be codes or InstrumentSpec, was {type(item).__name__} {item!r}"
            )
        code = classify(spec.code).code
        name = spec.name or default_name(code)
        instrument = classify(code, name, st=spec.st)
        prev_close = spec.prev_close
        if prev_close is None:
            prev_close = _seeded_prev_close(instrument, self._seed)
        elif prev_close % instrument.tick != 0:
            raise ValueError(
                f"prev_close of {code} must be a multiple of the tick {instrument.tick}, was {prev_close}"
            )
        return _Resolved(instrument, name, prev_close, spec.listing_day, instrument.st)

    def _codes(self, codes: Collection[str], what: str) -> frozenset[str]:
        if isinstance(codes, str):
            raise TypeError(f"{what} must be a collection of codes, was the string {codes!r}")
        result = set()
        for raw in codes:
            code = classify(raw).code
            if code not in self._specs:
                raise ValueError(f"{what} names an instrument that is not in the feed, was {raw!r}")
            result.add(code)
        return frozenset(result)

    def _exchanges(self) -> list[Exchange]:
        return sorted({spec.instrument.exchange for spec in self._specs.values()})

    def _day_infos(self, day: date) -> list[InstrumentInfo]:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise TypeError(f"day must be a datetime.date, was {type(day).__name__} {day!r}")
        if not self._calendar.is_trading_day(day):
            raise FeedError(f"非交易日 not a trading day, was {day} ({day:%A})")
        infos = []
        for code, spec in self._specs.items():
            limits = price_limits(code, spec.prev_close, on=day, st=spec.st, listing_day=spec.listing_day)
            if limits is None and (code in self._limit_up or code in self._limit_down):
                raise FeedError(
                    f"{code} has no price limit on {day} (listing day {spec.listing_day}), "
                    "so it cannot be made to lock at a limit"
                )
            up, down = limits if limits is not None else (None, None)
            status = InstrumentStatus.SUSPENDED if code in self._suspended else InstrumentStatus.NORMAL
            infos.append(
                InstrumentInfo(
                    code=code,
                    name=spec.name,
                    trading_day=day,
                    prev_close=spec.prev_close,
                    up_limit=up,
                    down_limit=down,
                    tick=spec.instrument.tick,
                    status=status,
                    st=spec.st,
                    listing_day=spec.listing_day,
                )
            )
        return infos

    # ------------------------------------------------------------------ the day
    def _generate(
        self, day: date, infos: list[InstrumentInfo], since: time | None
    ) -> Iterator[tuple[datetime, list[Quote]]]:
        tables = random_tables(self._seed)
        prices: dict[int, PriceTable] = {}
        # Instruments whose exchanges share a timetable form one group, so that a batch keeps
        # the order in which the instruments were given.
        shared: dict[Exchange, Timeline] = {}
        for exchange in self._exchanges():
            timeline = day_timeline(exchange, self._step)
            shared[exchange] = next((t for t in shared.values() if t == timeline), timeline)
        groups: dict[int, tuple[Timeline, list[InstrumentPath]]] = {}
        for info in infos:
            if info.status is InstrumentStatus.SUSPENDED:
                continue  # 停牌: no quotes at all
            spec = self._specs[info.code]
            timeline = day_timeline(spec.instrument.exchange, self._step)
            exponent = int(spec.instrument.tick.as_tuple().exponent)
            table = prices.setdefault(exponent, PriceTable(exponent, self._levels))
            lock = 1 if info.code in self._limit_up else -1 if info.code in self._limit_down else 0
            rng = random.Random(f"path|{self._seed}|{info.code}|{day.isoformat()}")
            path = InstrumentPath(info, spec.instrument.board, lock, rng, table, timeline, self._levels)
            group = shared[spec.instrument.exchange]
            groups.setdefault(id(group), (group, []))[1].append(path)

        by_time: dict[int, list[tuple[Step, list[InstrumentPath]]]] = {}
        for timeline, paths in groups.values():
            for step in timeline.steps:
                by_time.setdefault(step.seconds, []).append((step, paths))
        start = datetime(day.year, day.month, day.day, tzinfo=CN_TZ)
        first = -1 if since is None else since.hour * 3600 + since.minute * 60 + since.second
        for seconds in sorted(by_time):
            ts = start + timedelta(seconds=seconds)
            build = seconds >= first
            quotes: list[Quote] = []
            out = quotes if build else None
            for step, paths in by_time[seconds]:
                KERNELS[step.kind](paths, step, ts, out, tables)
            if build and quotes:
                yield ts, quotes


def _seeded_prev_close(instrument: Instrument, seed: int) -> Decimal:
    """A plausible previous close: near the reference of a well-known name, else drawn per board."""
    rng = random.Random(f"prev_close|{seed}|{instrument.code}")
    known = WELL_KNOWN.get(instrument.code)
    if known is not None:
        price = float(known[1]) * (1.0 + rng.uniform(-0.05, 0.05))
    else:
        median, spread, lowest, highest = _ST_PRICE_DRAW if instrument.st else _PRICE_DRAW[instrument.board]
        price = min(max(rng.lognormvariate(math.log(median), spread), lowest), highest)
    ticks = max(1, round(price / float(instrument.tick)))
    exponent = int(instrument.tick.as_tuple().exponent)
    return Decimal(ticks).scaleb(exponent).quantize(instrument.tick, rounding=ROUND_HALF_UP)
