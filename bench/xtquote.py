"""xtdata tick dicts (floats, volumes in lots) → Quote, fast: what a live quote callback must do.

No such converter exists in app/ yet (app.feeds.tickfile.QuoteParser reads exact decimals from a
recorded file and refuses floats), so the benchmark carries this one. It is written to move to
app/feeds (used by the QMT gateway's subscribe_whole_quote callback and by replays of raw xtdata
dumps): see bench/README.md.

RULES A5: `time` is epoch ms; prices are floats with noise (11.370000000000001) and are rounded
half-up to the instrument's tick, a price off the tick by more than float noise is an error;
`volume`, `askVol`, `bidVol` are lots of 100; a book level priced 0 is padding and is dropped.

Speed comes from caching: a float price is converted and checked once per (tick size, value) and
then found in a dict; a book's price layout once per distinct five-price tuple; a timestamp once
per millisecond value. A whole-market callback repeats all three heavily. (Python's True == 1.0,
so a bool where a price belongs is refused only when that value is not cached yet; xtdata's C++
side never sends one.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from app.domain.clock import CN_TZ
from app.domain.errors import DomainError
from app.domain.instruments import classify
from app.domain.market import Quote
from app.feeds.errors import FeedError
from app.feeds.tickfile import amount as exact_amount
from app.feeds.tickfile import price as exact_price
from app.feeds.tickfile import shares as exact_shares

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC).astimezone(CN_TZ)
_MS = timedelta(milliseconds=1)
_AMOUNT_STEP = Decimal("0.001")
_CACHE_LIMIT = 200_000  # distinct values per cache before it is emptied (a day holds far fewer)


def _exact(value: float | int) -> Decimal:
    """A float's shortest repr as a Decimal (11.370000000000001 stays visible as noise)."""
    if value.__class__ is float:
        return Decimal(repr(value))
    return Decimal(value)


class XtQuoteConverter:
    """Turns xtdata ticks into Quotes. One instance per feed thread (the caches are not locked)."""

    def __init__(self) -> None:
        self._codes: dict[str, _Code] = {}
        self._by_tick: dict[Decimal, _Code] = {}
        self._times: dict[int, datetime] = {}

    def whole_quote(self, data: Mapping[str, Mapping[str, Any]]) -> list[Quote]:
        """One subscribe_whole_quote callback, `{code: tick}`, in the order given."""
        convert = self.quote
        return [convert(code, tick) for code, tick in data.items()]

    def quote(self, code: str, tick: Mapping[str, Any]) -> Quote:
        """One tick; FeedError naming the code and the field on anything malformed."""
        known = self._codes.get(code)
        if known is None:
            known = self._code(code)
        canonical, step, cache, bid_books, ask_books = known
        get = cache.get
        try:
            raw = tick["lastPrice"]
            last = get(raw) or self._price(raw, step, cache, code, "lastPrice")
            raw = tick["open"]
            open_ = get(raw) or self._price(raw, step, cache, code, "open")
            raw = tick["high"]
            high = get(raw) or self._price(raw, step, cache, code, "high")
            raw = tick["low"]
            low = get(raw) or self._price(raw, step, cache, code, "low")
            raw = tick["lastClose"]
            prev = get(raw) or self._price(raw, step, cache, code, "lastClose")
            raw_bid_prices, raw_bid_volumes = tick["bidPrice"], tick["bidVol"]
            raw_ask_prices, raw_ask_volumes = tick["askPrice"], tick["askVol"]
            ms, volume, turnover = tick["time"], tick["volume"], tick["amount"]
        except KeyError as exc:
            raise FeedError(f"{code}: xtdata tick without field {exc.args[0]!r}") from None
        try:
            bids = bid_books.get(tuple(raw_bid_prices))
            asks = ask_books.get(tuple(raw_ask_prices))
        except TypeError:  # not a sequence of hashable numbers: reported by _layout
            bids = asks = None
        if bids is None:
            bids = self._layout(raw_bid_prices, known, code, True)
        if asks is None:
            asks = self._layout(raw_ask_prices, known, code, False)
        ts = self._times.get(ms)
        if ts is None:
            ts = self._time(ms, code)
        if volume.__class__ is int and volume >= 0:
            volume *= 100
        else:
            volume = exact_shares(_number(volume, code, "volume"), "volume", code)
        if turnover.__class__ is float and turnover >= 0.0:
            # exact: the shortest repr, rounded half-up to 0.001 yuan
            turnover = Decimal(repr(turnover)).quantize(_AMOUNT_STEP, ROUND_HALF_UP)
        else:
            turnover = exact_amount(_number(turnover, code, "amount"), "amount", code)
        return _new_quote(
            canonical, ts, last, open_, high, low, prev, volume, turnover,
            bids[0], _volumes(raw_bid_volumes, bids[1], bids[2], code, "bidVol"),
            asks[0], _volumes(raw_ask_volumes, asks[1], asks[2], code, "askVol"),
        )  # fmt: skip

    # ------------------------------------------------------------------ cache misses
    def _code(self, code: str) -> _Code:
        try:
            instrument = classify(code)
        except (DomainError, TypeError) as exc:
            raise FeedError(f"xtdata tick for an unsupported code, was {code!r}: {exc}") from None
        shared = self._by_tick.get(instrument.tick)
        if shared is None:
            shared = self._by_tick[instrument.tick] = (instrument.code, instrument.tick, {}, {}, {})
        known = self._codes[code] = (instrument.code, *shared[1:])
        return known

    def _price(self, value: Any, step: Decimal, cache: dict[Any, Decimal], code: str, field: str) -> Decimal:
        if value.__class__ is bool:
            raise FeedError(f"{code}: {field} must be a number, was {value!r}")
        if value == 0 and value.__class__ in (int, float):
            return _ZERO_PRICE  # falsy, so the caller's `or` lands here each time: keep it cheap
        result = exact_price(_number(value, code, field), step, field, code)
        if result < 0:
            raise FeedError(f"{code}: {field} must not be negative, was {value!r}")
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[value] = result
        return result

    def _layout(self, raw_prices: Any, known: _Code, code: str, bids: bool) -> _Layout:
        """The levels with a price (xtdata pads missing levels with 0), checked to be in order;
        remembered per price tuple."""
        _, step, cache, bid_books, ask_books = known
        field = "bidPrice" if bids else "askPrice"
        if not isinstance(raw_prices, list | tuple):
            raise FeedError(f"{code}: {field} must be a list, was {raw_prices!r}")
        prices: list[Decimal] = []
        kept: list[int] = []
        for index, raw in enumerate(raw_prices):
            level = cache.get(raw) if raw.__class__ is not bool else None
            if level is None:
                level = self._price(raw, step, cache, code, field)
            if level:
                prices.append(level)
                kept.append(index)
        if bids and any(a <= b for a, b in pairwise(prices)):
            raise FeedError(f"{code}: bid prices must fall level by level, was {raw_prices!r}")
        if not bids and any(a >= b for a, b in pairwise(prices)):
            raise FeedError(f"{code}: ask prices must rise level by level, was {raw_prices!r}")
        layout = (tuple(prices), len(raw_prices), None if len(kept) == len(raw_prices) else tuple(kept))
        if bool not in map(type, raw_prices):  # True == 1 must not find this layout
            books = bid_books if bids else ask_books
            if len(books) >= _CACHE_LIMIT:
                books.clear()
            books[tuple(raw_prices)] = layout
        return layout

    def _time(self, ms: Any, code: str) -> datetime:
        if ms.__class__ is not int or ms < 0:
            raise FeedError(f"{code}: time must be epoch milliseconds (an integer), was {ms!r}")
        try:
            ts = _EPOCH + ms * _MS
        except OverflowError:
            raise FeedError(f"{code}: time is out of range, was {ms}") from None
        if len(self._times) >= _CACHE_LIMIT:
            self._times.clear()
        self._times[ms] = ts
        return ts


_ZERO_PRICE = Decimal(0)
# (canonical code, tick, price cache, bid layouts, ask layouts); the caches are shared per tick size
_Code = tuple[str, Decimal, dict[Any, Decimal], dict[tuple[Any, ...], Any], dict[tuple[Any, ...], Any]]
# (prices kept, levels sent, indices kept or None for all)
_Layout = tuple[tuple[Decimal, ...], int, tuple[int, ...] | None]


def _quote_maker() -> Callable[..., Quote]:
    """Quote(...) without the frozen dataclass's __init__, which sets each of the 14 slots through
    object.__setattr__ (half of a tick's conversion time). Filling the slots through their
    descriptors builds an equal, equally immutable Quote at half the cost. Only while Quote has no
    __post_init__ (no validation would be skipped) and its fields are the 14 expected; otherwise the
    real constructor."""
    names = tuple(f.name for f in fields(Quote))
    expected = (
        "code", "ts", "last", "open", "high", "low", "prev_close", "volume", "amount",
        "bid_prices", "bid_volumes", "ask_prices", "ask_volumes", "suspended",
    )  # fmt: skip
    if hasattr(Quote, "__post_init__") or names != expected:
        return Quote
    new = object.__new__
    (s_code, s_ts, s_last, s_open, s_high, s_low, s_prev, s_vol, s_amount,
     s_bp, s_bv, s_ap, s_av, s_susp) = (getattr(Quote, n).__set__ for n in names)  # fmt: skip

    def make(code, ts, last, open_, high, low, prev, volume, amount, bp, bv, ap, av, suspended=False):  # type: ignore[no-untyped-def]
        quote = new(Quote)
        s_code(quote, code)
        s_ts(quote, ts)
        s_last(quote, last)
        s_open(quote, open_)
        s_high(quote, high)
        s_low(quote, low)
        s_prev(quote, prev)
        s_vol(quote, volume)
        s_amount(quote, amount)
        s_bp(quote, bp)
        s_bv(quote, bv)
        s_ap(quote, ap)
        s_av(quote, av)
        s_susp(quote, suspended)
        return quote

    return make


_new_quote = _quote_maker()


def _volumes(raw: Any, levels: int, kept: tuple[int, ...] | None, code: str, field: str) -> tuple[int, ...]:
    """Shares per kept level from xtdata's lots."""
    try:
        # the usual case: whole lots as ints (the sum of ints is an int; a float anywhere makes it a float)
        if len(raw) == levels and sum(raw).__class__ is int and (not raw or min(raw) >= 0):
            if kept is None:
                return tuple([v * 100 for v in raw])
            return tuple([raw[i] * 100 for i in kept])
    except TypeError:
        pass
    if not isinstance(raw, list | tuple) or len(raw) != levels:
        raise FeedError(f"{code}: {field} must be a list as long as the prices, was {raw!r}")
    indices = range(levels) if kept is None else kept
    return tuple(exact_shares(_number(raw[i], code, field), field, code) for i in indices)


def _number(value: Any, code: str, field: str) -> Decimal:
    if value.__class__ is bool or not isinstance(value, int | float | Decimal):
        raise FeedError(f"{code}: {field} must be a number, was {value!r}")
    number = value if isinstance(value, Decimal) else _exact(value)
    if not number.is_finite():
        raise FeedError(f"{code}: {field} must be a finite number, was {value!r}")
    return number
