"""The engine under SyntheticFeed: the day's timeline and each instrument's walk, in integer ticks.

Speed matters here (a full market of 5,500 instruments every 3 seconds): prices run as ints and
floats, Decimals come from a table indexed by ticks, books from a cache, and random numbers from
one `getrandbits` per quote indexing shared tables of draws. The only Decimal arithmetic per
quote is the cumulative amount. Every kernel draws the same random bits whether or not it builds
quotes, so skipping the start of a day (`since`) does not change what follows.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from functools import lru_cache

from app.domain.instruments import Board, Exchange
from app.domain.market import InstrumentInfo, Quote
from app.domain.sessions import Phase, trading_day_boundaries
from app.feeds.universe import WELL_KNOWN

__all__ = [
    "KERNELS",
    "InstrumentPath",
    "PriceTable",
    "RandomTables",
    "Step",
    "Timeline",
    "day_timeline",
    "random_tables",
]

_AUCTION_OPEN, _OPEN_PRINT, _CONTINUOUS, _AUCTION_CLOSE, _CLOSE_PRINT = range(5)

# Book modes: where the last trade sits in the book (cache key = ticks * 8 + mode).
_AT_BID, _AT_ASK, _LOCKED_UP, _LOCKED_DOWN, _AUCTION = range(5)

_TABLE_SIZE = 4096  # shared tables of random draws, indexed by random bits
_POOL = 64  # level-volume tuples per instrument
_LOCK_POOL = 16
_FRAC = 1.0 / 65536

# Daily volatility and typical daily turnover (yuan) per board: rough shapes of the market, so
# that a demo looks plausible.
_DAILY_SIGMA = {
    Board.SH_MAIN: 0.020,
    Board.SZ_MAIN: 0.022,
    Board.CHINEXT: 0.030,
    Board.STAR: 0.030,
    Board.BSE: 0.035,
    Board.FUND: 0.010,
}
_NO_LIMIT_SIGMA = 0.12  # first days after listing swing much more
_TURNOVER = {
    Board.SH_MAIN: 3e8,
    Board.SZ_MAIN: 3e8,
    Board.CHINEXT: 3e8,
    Board.STAR: 3e8,
    Board.BSE: 5e7,
    Board.FUND: 5e8,
}


@dataclass(frozen=True, slots=True)
class Step:
    seconds: int  # since midnight
    kind: int
    weight: float  # continuous: share of the day's continuous volume; auctions: progress in (0, 1]
    index: int  # continuous: position among the continuous steps


@dataclass(frozen=True, slots=True)
class Timeline:
    steps: tuple[Step, ...]
    continuous: int  # number of continuous steps
    morning: int  # of which before the lunch break


# ---------------------------------------------------------------------- tables and timeline
class RandomTables:
    """Seeded random draws shared by all instruments: standard normals and unit exponentials."""

    __slots__ = ("exponential", "normal")

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"tables|{seed}")
        self.normal = [rng.gauss(0.0, 1.0) for _ in range(_TABLE_SIZE)]
        self.exponential = [rng.expovariate(1.0) for _ in range(_TABLE_SIZE)]


@lru_cache(maxsize=16)
def random_tables(seed: int) -> RandomTables:
    return RandomTables(seed)


class PriceTable:
    """Decimal prices by integer ticks, built once, and five-level books by (ticks, mode)."""

    __slots__ = ("books", "exponent", "levels", "prices")

    def __init__(self, exponent: int, levels: int) -> None:
        self.exponent = exponent
        self.levels = levels
        self.prices: list[Decimal] = [Decimal(0).scaleb(exponent)]
        self.books: dict[int, tuple[tuple[Decimal, ...], tuple[Decimal, ...]]] = {}

    def ensure(self, highest: int) -> None:
        prices = self.prices
        exponent = self.exponent
        prices.extend(Decimal(n).scaleb(exponent) for n in range(len(prices), highest + 1))


@lru_cache(maxsize=32)
def day_timeline(exchange: Exchange, step: int) -> Timeline:
    """The day's snapshot times from the session table: auctions and continuous trading every
    `step` seconds from each phase's start, the open print when the opening auction ends and the
    close print when the closing auction ends (RULES B5)."""
    bounds = trading_day_boundaries(exchange)
    raw: list[tuple[int, int, int]] = []  # (seconds, kind, phase start)
    continuous_offset: dict[int, int] = {}  # continuous phase start -> continuous seconds before it
    total_continuous = 0
    for i, (start, phase) in enumerate(bounds):
        begin = seconds_of(start)
        end = seconds_of(bounds[i + 1][0]) if i + 1 < len(bounds) else 24 * 3600
        if phase is Phase.CONTINUOUS:
            continuous_offset[begin] = total_continuous
            total_continuous += end - begin
            raw.extend((t, _CONTINUOUS, begin) for t in range(begin, end, step))
        elif phase is Phase.OPENING_AUCTION:
            raw.extend((t, _AUCTION_OPEN, begin) for t in range(begin, end, step))
            raw.append((end, _OPEN_PRINT, begin))
        elif phase is Phase.CLOSING_AUCTION:
            raw.extend((t, _AUCTION_CLOSE, begin) for t in range(begin, end, step))
            raw.append((end, _CLOSE_PRINT, begin))

    # U-shaped intraday volume: heavy after the open, a quiet middle, heavier into the close.
    shape = {}
    for t, kind, begin in raw:
        if kind == _CONTINUOUS:
            u = (continuous_offset[begin] + t - begin) / total_continuous
            shape[t] = 0.55 + 2.4 * math.exp(-u * 12.0) + 1.8 * math.exp(-(1.0 - u) * 11.0)
    norm = sum(shape.values())
    auction_counts: dict[tuple[int, int], int] = {}
    for _, kind, begin in raw:
        if kind in (_AUCTION_OPEN, _AUCTION_CLOSE):
            auction_counts[(kind, begin)] = auction_counts.get((kind, begin), 0) + 1

    steps: list[Step] = []
    index = 0
    seen: dict[tuple[int, int], int] = {}
    morning = 0
    first_lunch = next((seconds_of(s) for s, p in bounds if p is Phase.LUNCH_BREAK), 24 * 3600)
    for t, kind, begin in sorted(raw):
        if kind == _CONTINUOUS:
            steps.append(Step(t, kind, shape[t] / norm, index))
            index += 1
            if t < first_lunch:
                morning += 1
        elif kind in (_AUCTION_OPEN, _AUCTION_CLOSE):
            n = seen[(kind, begin)] = seen.get((kind, begin), 0) + 1
            steps.append(Step(t, kind, n / auction_counts[(kind, begin)], 0))
        else:
            steps.append(Step(t, kind, 1.0, 0))
    return Timeline(tuple(steps), index, morning)


def seconds_of(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


# ---------------------------------------------------------------------- one instrument's day
class InstrumentPath:
    """The running state of one instrument, in integer ticks."""

    __slots__ = (
        "amount",
        "auction_lots",
        "auction_sigma",
        "auction_start",
        "books",
        "close_lots",
        "close_start",
        "close_target",
        "code",
        "day_lots",
        "exponent",
        "hi",
        "high",
        "last",
        "levels",
        "lo",
        "lock",
        "lock_at",
        "lock_vols",
        "locked",
        "low",
        "mode",
        "mu",
        "open",
        "open_target",
        "pc",
        "prev_close",
        "prices",
        "rnd",
        "sigma",
        "table",
        "units",
        "vols",
        "volume",
        "x",
    )

    def __init__(
        self,
        info: InstrumentInfo,
        board: Board,
        lock: int,
        rng: random.Random,
        table: PriceTable,
        timeline: Timeline,
        levels: int,
    ) -> None:
        tick = info.tick
        pc = int(info.prev_close / tick)
        self.code = info.code
        self.prev_close = info.prev_close
        self.pc = pc
        self.levels = levels
        self.exponent = table.exponent
        self.table = table
        self.books = table.books
        no_limit = info.up_limit is None or info.down_limit is None
        if info.up_limit is not None and info.down_limit is not None:
            self.lo = int(info.down_limit / tick)
            self.hi = int(info.up_limit / tick)
        else:  # no limit today: keep the walk sane, from half to four times the previous close
            self.lo = max(1, pc // 2)
            self.hi = pc * 4
        table.ensure(self.hi + levels)
        self.prices = table.prices

        sigma_day = (_NO_LIMIT_SIGMA if no_limit else _DAILY_SIGMA[board]) * rng.lognormvariate(0.0, 0.3)
        mu_day = rng.gauss(0.0, 0.01)
        steps = max(1, timeline.continuous)
        self.sigma = pc * sigma_day / math.sqrt(steps)
        self.mu = pc * mu_day / steps
        turnover = _TURNOVER[board] * rng.lognormvariate(0.0, 0.9) * (8.0 if info.code in WELL_KNOWN else 1.0)
        self.day_lots = max(50.0, turnover / (float(info.prev_close) * 100.0))

        # The opening auction drifts from a first indicative price to the open.
        if lock > 0:
            gap = rng.uniform(0.01, 0.04)
        elif lock < 0:
            gap = -rng.uniform(0.01, 0.04)
        elif no_limit and info.listing_day == 1:
            gap = rng.uniform(0.3, 1.2)  # listing-day pop
        else:
            gap = rng.gauss(0.0, sigma_day * 0.3) + mu_day * 0.2
        inner_lo, inner_hi = (self.lo + 1, self.hi - 1) if lock else (self.lo, self.hi)
        self.open_target = min(max(round(pc * (1.0 + gap)), inner_lo), inner_hi)
        self.auction_start = pc * (1.0 + gap + rng.gauss(0.0, 0.004))
        self.auction_sigma = pc * 0.003
        self.auction_lots = max(1, round(self.day_lots * rng.uniform(0.005, 0.02)))
        self.close_lots = max(1, round(self.day_lots * rng.uniform(0.01, 0.03)))
        self.close_target = -1
        self.close_start = 0

        self.lock = lock
        self.locked = False
        morning = max(1, timeline.morning)
        self.lock_at = rng.randint(max(1, morning * 15 // 100), max(1, morning * 85 // 100))

        # Level volumes (shares, whole lots): a pool sliced into tuples so ints are shared.
        level_lots = self.day_lots * 0.002
        pool = [max(1, round(level_lots * rng.lognormvariate(0.0, 0.7))) * 100 for _ in range(_POOL + levels)]
        self.vols = [tuple(pool[i : i + levels]) for i in range(_POOL)]
        # A locked stock shows a queue at the limit worth a good part of a day's turnover.
        queue_lots = self.day_lots * rng.uniform(0.05, 0.3)
        self.lock_vols = [
            (max(1, round(queue_lots * rng.uniform(0.85, 1.15))) * 100, *pool[i + 1 : i + levels])
            for i in range(_LOCK_POOL)
        ]
        self.rnd = rng.getrandbits

        self.x = float(pc)
        self.last = 0
        self.open = self.high = self.low = 0
        self.volume = 0
        self.units = 0  # cumulative amount in ticks × shares
        self.amount = Decimal(0).scaleb(self.exponent)
        self.mode = _AT_ASK

    def book(self, ticks: int, mode: int) -> tuple[tuple[Decimal, ...], tuple[Decimal, ...]]:
        """(bid prices, ask prices) best first, cut at the day's limits."""
        key = ticks * 8 + mode
        cached = self.books.get(key)
        interior = self.lo + self.levels <= ticks <= self.hi - self.levels
        if cached is not None and interior:
            return cached
        if mode == _AT_BID:
            bid, ask = ticks, ticks + 1
        elif mode == _AT_ASK:
            bid, ask = ticks - 1, ticks
        elif mode == _AUCTION:
            bid, ask = ticks, ticks
        elif mode == _LOCKED_UP:
            bid, ask = ticks, self.hi + 1
        else:
            bid, ask = self.lo - 1, ticks
        prices = self.prices
        levels = self.levels
        bids = tuple(prices[bid : max(bid - levels, self.lo - 1) : -1]) if bid >= self.lo else ()
        asks = tuple(prices[ask : min(ask + levels, self.hi + 1)]) if ask <= self.hi else ()
        result = (bids, asks)
        if interior:
            if len(self.books) > 200_000:
                self.books.clear()
            self.books[key] = result
        return result

    def quote(self, ts: datetime, ticks: int, mode: int, r: int) -> Quote:
        bids, asks = self.book(ticks, mode)
        levels = self.levels
        if mode == _LOCKED_UP:
            bid_vols, ask_vols = self.lock_vols[r & 15], ()
        elif mode == _LOCKED_DOWN:
            bid_vols, ask_vols = (), self.lock_vols[r & 15]
        else:
            bid_vols, ask_vols = self.vols[r & 63], self.vols[(r >> 6) & 63]
        if len(bids) < levels:
            bid_vols = bid_vols[: len(bids)]
        if len(asks) < levels:
            ask_vols = ask_vols[: len(asks)]
        prices = self.prices
        return Quote(
            self.code,
            ts,
            prices[ticks],
            prices[self.open],
            prices[self.high],
            prices[self.low],
            self.prev_close,
            self.volume,
            self.amount,
            bids,
            bid_vols,
            asks,
            ask_vols,
        )

    def trade(self, ticks: int, shares: int) -> None:
        if ticks > self.last:
            self.mode = _AT_ASK  # an uptick: a buyer lifted the offer
        elif ticks < self.last:
            self.mode = _AT_BID
        self.last = ticks
        self.volume += shares
        self.units += ticks * shares
        self.amount = Decimal(self.units).scaleb(self.exponent)
        if ticks > self.high:
            self.high = ticks
        if ticks < self.low:
            self.low = ticks

    def resting_mode(self, ticks: int) -> int:
        """The book mode for a last trade at `ticks`: locked, or one tick of spread that stays
        inside the limits (at the up limit the offer is the limit, at the down limit the bid)."""
        if self.locked:
            return _LOCKED_UP if self.lock > 0 else _LOCKED_DOWN
        if ticks >= self.hi:
            return _AT_ASK
        if ticks <= self.lo:
            return _AT_BID
        return self.mode


# ---------------------------------------------------------------------- kernels, one per kind
def _opening_auction(
    paths: list[InstrumentPath], step: Step, ts: datetime, out: list[Quote] | None, tables: RandomTables
) -> None:
    if out is None:
        for s in paths:
            s.rnd(40)  # draw as when building, so that later quotes do not depend on `since`
        return
    normal = tables.normal
    left = 1.0 - step.weight
    progress = step.weight
    append = out.append
    for s in paths:
        r = s.rnd(40)
        x = s.open_target + (s.auction_start - s.open_target + s.auction_sigma * normal[r & 4095]) * left
        k = min(max(int(x + 0.5), s.lo), s.hi)
        matched = max(1, int(s.auction_lots * progress * (0.7 + 0.6 * ((r >> 24) & 0xFFFF) * _FRAC))) * 100
        bids, asks = s.book(k, _AUCTION)
        prices = s.prices
        zero = prices[0]
        append(
            Quote(
                s.code,
                ts,
                prices[k],
                zero,
                zero,
                zero,
                s.prev_close,
                0,
                s.amount,
                bids,
                (matched, *s.vols[(r >> 12) & 63][1 : len(bids)]),
                asks,
                (matched, *s.vols[(r >> 18) & 63][1 : len(asks)]),
            )
        )


def _open_print(
    paths: list[InstrumentPath], step: Step, ts: datetime, out: list[Quote] | None, tables: RandomTables
) -> None:
    for s in paths:
        k = s.open_target
        s.open = s.high = s.low = k
        s.last = 0
        s.trade(k, s.auction_lots * 100)
        s.mode = _AT_ASK if k >= s.pc else _AT_BID
        s.x = float(k)
        r = s.rnd(12)  # drawn even when not building, so that quotes do not depend on `since`
        if out is not None:
            out.append(s.quote(ts, k, s.resting_mode(k), r))


def _continuous(
    paths: list[InstrumentPath], step: Step, ts: datetime, out: list[Quote] | None, tables: RandomTables
) -> None:
    normal = tables.normal
    exponential = tables.exponential
    weight = step.weight * 0.95
    index = step.index
    for s in paths:
        r = s.rnd(48)
        lots = s.day_lots * weight * exponential[(r >> 12) & 4095] + ((r >> 32) & 0xFFFF) * _FRAC
        if s.locked:
            k = s.last
            lots *= 0.1  # sellers trickle into the locked bid
        else:
            x = s.x + s.mu + s.sigma * normal[r & 4095]
            lock = s.lock
            if lock:
                target = s.hi if lock > 0 else s.lo
                left = s.lock_at - index
                x = target if left <= 0 else x + (target - x) / left
            if x < s.lo:
                x = s.lo
            elif x > s.hi:
                x = s.hi
            s.x = x
            k = int(x + 0.5)
            if lock and (k >= s.hi if lock > 0 else k <= s.lo):
                s.locked = True
                k = s.hi if lock > 0 else s.lo
                lots += 1.0  # the lock is a trade at the limit
        shares = int(lots) * 100
        if shares:
            s.trade(k, shares)
        else:
            k = s.last  # no trade: the last price cannot move
        if out is not None:
            out.append(s.quote(ts, k, s.resting_mode(k), r >> 24))


def _closing_auction(
    paths: list[InstrumentPath], step: Step, ts: datetime, out: list[Quote] | None, tables: RandomTables
) -> None:
    normal = tables.normal
    left = 1.0 - step.weight
    for s in paths:
        r = s.rnd(40)
        if s.close_target < 0:
            _fix_close(s, r)
        if out is None:
            continue
        if s.locked:
            out.append(s.quote(ts, s.last, s.resting_mode(s.last), r >> 12))
            continue
        x = s.close_target + (s.close_start - s.close_target + s.auction_sigma * normal[r & 4095]) * left
        k = min(max(int(x + 0.5), s.lo), s.hi)
        matched = max(1, int(s.close_lots * step.weight)) * 100
        bids, asks = s.book(k, _AUCTION)
        prices = s.prices
        out.append(
            Quote(
                s.code,
                ts,
                prices[s.last],
                prices[s.open],
                prices[s.high],
                prices[s.low],
                s.prev_close,
                s.volume,
                s.amount,
                bids,
                (matched, *s.vols[(r >> 12) & 63][1 : len(bids)]),
                asks,
                (matched, *s.vols[(r >> 18) & 63][1 : len(asks)]),
            )
        )


def _close_print(
    paths: list[InstrumentPath], step: Step, ts: datetime, out: list[Quote] | None, tables: RandomTables
) -> None:
    for s in paths:
        r = s.rnd(24)
        if s.close_target < 0:
            _fix_close(s, r)
        k = s.close_target
        s.trade(k, s.close_lots * 100)
        if out is not None:
            out.append(s.quote(ts, k, s.resting_mode(k), r))


def _fix_close(s: InstrumentPath, r: int) -> None:
    """Choose the closing-auction price: the limit when locked, else near the last trade."""
    s.close_start = s.last
    if s.locked:
        s.close_target = s.last
        return
    move = round(s.sigma * 3.0 * ((r >> 20) & 0xFFFF) * _FRAC * 2.0 - s.sigma * 3.0)
    s.close_target = min(max(s.last + move, s.lo), s.hi)


KERNELS = {
    _AUCTION_OPEN: _opening_auction,
    _OPEN_PRINT: _open_print,
    _CONTINUOUS: _continuous,
    _AUCTION_CLOSE: _closing_auction,
    _CLOSE_PRINT: _close_print,
}
