"""Quotes through xtdata (RULES.md A5): the tick conversion and the live quote feed of the QMT setup.

`XtQuoteConverter` turns xtdata tick dicts (floats, volumes in lots) into `Quote`s, fast: a live
whole-market callback must keep up with 5,500 instruments every 3 s (measured by bench/quotes.py,
scenario "xt"; bench/xtquote.py re-exports it). `XtDataQuotes` is the `MarketData` port
(app/core/ports.py) on xtdata's documented functions: `subscribe_whole_quote` for the codes Tiller
needs, `get_full_tick` for a first snapshot, `get_instrument_detail` for the day's previous close,
limit prices, tick and status, and `get_trading_calendar` / `get_trading_dates` to confirm the
calendar.

RULES A5: `time` is epoch ms; prices are floats with noise (11.370000000000001) and are rounded
half-up to the instrument's tick, a price off the tick by more than float noise is an error;
`volume`, `askVol`, `bidVol` are lots of 100; a book level priced 0 is padding and is dropped.

Speed comes from caching: a float price is converted and checked once per (tick size, value) and
then found in a dict; a book's price layout once per distinct five-price tuple; a timestamp once
per millisecond value. A whole-market callback repeats all three heavily. (Python's True == 1.0,
so a bool where a price belongs is refused only when that value is not cached yet; xtdata's C++
side never sends one.)

Threads: xtdata calls back on its own thread. The callback only files the raw ticks by code (a newer
tick of a code replaces the older one not yet converted: coalesced per instrument) and wakes the
feed's worker thread, which converts them and hands them on as ONE batch per wake-up. So neither the
callback nor the engine thread ever converts, and a burst never queues more than one batch per code.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from itertools import pairwise
from types import ModuleType
from typing import Any

from app.domain.calendar import TradingCalendar
from app.domain.clock import CN_TZ
from app.domain.errors import DomainError
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, InstrumentStatus, Quote
from app.domain.xt_units import AMOUNT_STEP as _AMOUNT_STEP
from app.domain.xt_units import NOISE as _NOISE
from app.domain.xt_units import lots_to_shares, price_on_tick, yuan

log = logging.getLogger(__name__)


class QuoteError(ValueError):
    """A tick or an instrument detail from xtdata that cannot be used; the message names the code,
    the field and the value."""


class UnsupportedCodeError(QuoteError):
    """A code Tiller does not trade (an index, a bond, another market): skipped, not an error."""


_on_tick = partial(price_on_tick, error=QuoteError)
_lots_to_shares = partial(lots_to_shares, error=QuoteError)
_yuan = partial(yuan, error=QuoteError)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC).astimezone(CN_TZ)
_MS = timedelta(milliseconds=1)
_CACHE_LIMIT = 200_000  # distinct values per cache before it is emptied (a day holds far fewer)


def _exact(value: float | int) -> Decimal:
    """A float's shortest repr as a Decimal (11.370000000000001 stays visible as noise)."""
    if value.__class__ is float:
        return Decimal(repr(value))
    return Decimal(value)


class XtQuoteConverter:
    """Turns xtdata ticks into Quotes. One instance per feed thread (the caches are not locked)."""

    def __init__(self) -> None:
        self.suspended: set[str] = set()  # canonical codes whose quotes are marked suspended
        self._codes: dict[str, _Code] = {}
        self._by_tick: dict[Decimal, _Code] = {}
        self._times: dict[int, datetime] = {}

    def whole_quote(self, data: Mapping[str, Mapping[str, Any]]) -> list[Quote]:
        """One subscribe_whole_quote callback, `{code: tick}`, in the order given."""
        convert = self.quote
        return [convert(code, tick) for code, tick in data.items()]

    def quote(self, code: str, tick: Mapping[str, Any]) -> Quote:
        """One tick; QuoteError naming the code and the field on anything malformed."""
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
            raise QuoteError(f"{code}: xtdata tick without field {exc.args[0]!r}") from None
        except TypeError:  # an unhashable value (a list, say) where a price belongs: find and name it
            for field in ("lastPrice", "open", "high", "low", "lastClose"):
                self._price(tick[field], step, {}, code, field)
            raise QuoteError(f"{code}: malformed xtdata tick") from None
        try:
            bids = bid_books.get(tuple(raw_bid_prices))
            asks = ask_books.get(tuple(raw_ask_prices))
        except TypeError:  # not a sequence of hashable numbers: reported by _layout
            bids = asks = None
        if bids is None:
            bids = self._layout(raw_bid_prices, known, code, True)
        if asks is None:
            asks = self._layout(raw_ask_prices, known, code, False)
        ts = self._times.get(ms) if ms.__class__ is int else None
        if ts is None:
            ts = self._time(ms, code)
        if volume.__class__ is int and volume >= 0:
            volume *= 100
        else:
            volume = _lots_to_shares(_number(volume, code, "volume"), "volume", code)
        if turnover.__class__ is float and turnover >= 0.0:
            # exact: the shortest repr, rounded half-up to 0.001 yuan
            try:
                turnover = Decimal(repr(turnover)).quantize(_AMOUNT_STEP, ROUND_HALF_UP)
            except ArithmeticError:  # inf, or beyond the 28 digits of the decimal context
                turnover = _yuan(_number(turnover, code, "amount"), "amount", code)
        else:
            turnover = _yuan(_number(turnover, code, "amount"), "amount", code)
        return _new_quote(
            canonical, ts, last, open_, high, low, prev, volume, turnover,
            bids[0], _volumes(raw_bid_volumes, bids[1], bids[2], code, "bidVol"),
            asks[0], _volumes(raw_ask_volumes, asks[1], asks[2], code, "askVol"),
            canonical in self.suspended,
        )  # fmt: skip

    # ------------------------------------------------------------------ cache misses
    def _code(self, code: str) -> _Code:
        try:
            instrument = classify(code)
        except (DomainError, TypeError) as exc:
            raise UnsupportedCodeError(f"xtdata tick for an unsupported code, was {code!r}: {exc}") from None
        shared = self._by_tick.get(instrument.tick)
        if shared is None:
            shared = self._by_tick[instrument.tick] = (instrument.code, instrument.tick, {}, {}, {})
        known = self._codes[code] = (instrument.code, *shared[1:])
        return known

    def _price(self, value: Any, step: Decimal, cache: dict[Any, Decimal], code: str, field: str) -> Decimal:
        if value.__class__ is bool:
            raise QuoteError(f"{code}: {field} must be a number, was {value!r}")
        if value == 0 and value.__class__ in (int, float):
            return _ZERO_PRICE  # falsy, so the caller's `or` lands here each time: keep it cheap
        result = _on_tick(_number(value, code, field), step, field, code)
        if result < 0:
            raise QuoteError(f"{code}: {field} must not be negative, was {value!r}")
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
            raise QuoteError(f"{code}: {field} must be a list, was {raw_prices!r}")
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
            raise QuoteError(f"{code}: bid prices must fall level by level, was {raw_prices!r}")
        if not bids and any(a >= b for a, b in pairwise(prices)):
            raise QuoteError(f"{code}: ask prices must rise level by level, was {raw_prices!r}")
        layout = (tuple(prices), len(raw_prices), None if len(kept) == len(raw_prices) else tuple(kept))
        if bool not in map(type, raw_prices):  # True == 1 must not find this layout
            books = bid_books if bids else ask_books
            if len(books) >= _CACHE_LIMIT:
                books.clear()
            books[tuple(raw_prices)] = layout
        return layout

    def _time(self, ms: Any, code: str) -> datetime:
        if ms.__class__ is not int or ms < 0:
            raise QuoteError(f"{code}: time must be epoch milliseconds (an integer), was {ms!r}")
        try:
            ts = _EPOCH + ms * _MS
        except OverflowError:
            raise QuoteError(f"{code}: time is out of range, was {ms}") from None
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
        raise QuoteError(f"{code}: {field} must be a list as long as the prices, was {raw!r}")
    indices = range(levels) if kept is None else kept
    return tuple(_lots_to_shares(_number(raw[i], code, field), field, code) for i in indices)


def _number(value: Any, code: str, field: str) -> Decimal:
    if value.__class__ is bool or not isinstance(value, int | float | Decimal):
        raise QuoteError(f"{code}: {field} must be a number, was {value!r}")
    number = value if isinstance(value, Decimal) else _exact(value)
    if not number.is_finite():
        raise QuoteError(f"{code}: {field} must be a finite number, was {value!r}")
    return number


# ---------------------------------------------------------------------------- instrument details
MARKETS = frozenset({"SH", "SZ", "BJ"})  # subscribe_whole_quote takes markets as well as codes


def _detail_number(detail: Mapping[str, Any], key: str, code: str) -> Decimal | None:
    value = detail.get(key)
    if value is None:
        return None
    return _number(value, code, key)


def _detail_day(value: Any) -> date | None:
    """xtdata's YYYYMMDD (int or text); None for 0, empty or anything else."""
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def instrument_from_detail(
    code: str, detail: Mapping[str, Any], day: date, calendar: TradingCalendar | None = None
) -> InstrumentInfo:
    """An xtdata `get_instrument_detail` dict as the day's InstrumentInfo (RULES.md A5): the previous
    close and the limit prices rounded to the tick (the exchange's tick for the code, RULES B2), the
    status, the ST flag from the name and, for a new listing, its trading day since listing.

    `InstrumentStatus` is "停牌状态" and its values are not documented [UNVERIFIED]: anything but 0 is
    taken as suspended, the safe side (no order is sent for a suspended instrument). A limit price
    missing or not above zero means no limit today (the first days after a listing)."""
    if not isinstance(detail, Mapping):
        raise QuoteError(f"{code}: instrument detail must be a dict, was {detail!r}")
    name = detail.get("InstrumentName")
    name = name.strip() if isinstance(name, str) else ""
    try:
        instrument = classify(code, name)
    except (DomainError, TypeError) as exc:
        raise UnsupportedCodeError(
            f"instrument detail for an unsupported code, was {code!r}: {exc}"
        ) from None
    tick = instrument.tick
    where = instrument.code
    quoted_tick = _detail_number(detail, "PriceTick", where)
    if quoted_tick is not None and quoted_tick > 0 and abs(quoted_tick - tick) > tick * _NOISE:
        log.warning("%s: xtdata PriceTick %s differs from the exchange tick %s; using %s", where, quoted_tick,
                    tick, tick)  # fmt: skip
    raw_prev = _detail_number(detail, "PreClose", where)
    if raw_prev is None or raw_prev <= 0:
        raise QuoteError(f"{where}: PreClose must be a positive price, was {detail.get('PreClose')!r}")
    prev_close = _on_tick(raw_prev, tick, "PreClose", where)
    if prev_close <= 0:  # a positive speck of a float that rounds to nothing
        raise QuoteError(f"{where}: PreClose must be a positive price, was {detail.get('PreClose')!r}")
    limits: list[Decimal | None] = []
    for key in ("UpStopPrice", "DownStopPrice"):
        raw = _detail_number(detail, key, where)
        limit = None if raw is None or raw <= 0 else _on_tick(raw, tick, key, where)
        limits.append(limit if limit is not None and limit > 0 else None)
    up, down = limits
    if up is None or down is None:
        up = down = None  # no limit today
    elif not down <= prev_close <= up:
        raise QuoteError(
            f"{where}: limit prices must bracket the previous close {prev_close}, were {down} and {up}"
        )
    status_value = detail.get("InstrumentStatus", 0)
    if status_value.__class__ is bool or not isinstance(status_value, int | float):
        raise QuoteError(f"{where}: InstrumentStatus must be a number, was {status_value!r}")
    status = InstrumentStatus.NORMAL if status_value == 0 else InstrumentStatus.SUSPENDED
    listing_day = None
    opened = _detail_day(detail.get("OpenDate"))
    if opened is not None and opened <= day <= opened + timedelta(days=30):
        if opened == day:
            listing_day = 1
        elif calendar is not None:
            count = len(calendar.trading_days(opened, day))
            listing_day = count if 0 < count <= 10 else None
    return InstrumentInfo(
        code=where, name=name, trading_day=day, prev_close=prev_close, up_limit=up, down_limit=down,
        tick=tick, status=status, st=instrument.st, listing_day=listing_day,
    )  # fmt: skip


# ---------------------------------------------------------------------------- the calendar
def _day_from_ms(value: Any) -> date:
    if value.__class__ is not int or value < 0:
        raise QuoteError(f"get_trading_dates: a day must be epoch milliseconds, was {value!r}")
    return (_EPOCH + value * _MS).date()  # China's midnight: the CN_TZ date, not the UTC one


def calendar_disagreements(
    calendar: TradingCalendar, trading_days: Iterable[date], start: date, end: date, *, most: int = 10
) -> list[str]:
    """Where xtdata's trading days and Tiller's calendar differ, in words (the days Tiller's calendar
    knows only; at most `most` are named)."""
    listed = set(trading_days)
    problems: list[str] = []
    day = start
    while day <= end:
        if day.weekday() < 5 and calendar.is_known(day):
            ours, theirs = calendar.is_trading_day(day), day in listed
            if ours != theirs:
                problems.append(
                    f"{day}: QMT 说{'是' if theirs else '不是'}交易日，Tiller 的日历说{'是' if ours else '不是'} "
                    f"(QMT says {'a trading day' if theirs else 'closed'}, Tiller's calendar says "
                    f"{'a trading day' if ours else 'closed'})"
                )
        day += timedelta(days=1)
    if len(problems) > most:
        problems = [
            *problems[:most],
            f"… 另有 {len(problems) - most} 天 (and {len(problems) - most} more days)",
        ]
    return problems


# ---------------------------------------------------------------------------- the feed
QuoteHandler = Callable[[Sequence[Quote]], None]
ProblemHandler = Callable[[str], None]


def load_xtdata() -> ModuleType:
    """xtquant's xtdata module (it needs xtquant's native client, and miniQMT running to answer)."""
    try:
        return importlib.import_module("xtquant.xtdata")
    except Exception as exc:
        raise QuoteError(
            f"无法加载 xtquant.xtdata，QMT 行情不可用 (cannot load xtquant.xtdata: no QMT quotes): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


class XtDataQuotes:
    """Live quotes from xtdata: the `MarketData` port (app/core/ports.py).

    `set_quote_handler(handler)`: `handler(quotes)` is called on the feed's own thread with ONE batch
    per wake-up (the composition root posts it to the engine as one QuotesArrived). `subscribe(codes)`
    adds codes (or markets "SH"/"SZ"/"BJ" for the whole market) and asks for a first snapshot.
    `instrument(code, day)` reads the day's detail. A problem with one code (a malformed tick, a
    price off the tick) goes to `on_problem` once per code and the code's tick is skipped; codes Tiller
    does not trade (indices, bonds in a whole-market push) are skipped quietly. `on_new_codes(codes)`
    runs on the subscribing thread with each set of new codes before they are subscribed."""

    def __init__(
        self,
        xtdata: ModuleType | Any | None = None,
        *,
        on_problem: ProblemHandler | None = None,
        calendar: TradingCalendar | None = None,
        thread_name: str = "tiller-quotes",
        on_new_codes: Callable[[list[str]], None] | None = None,
    ) -> None:
        self._xt = xtdata if xtdata is not None else load_xtdata()
        # called with the codes about to be subscribed, before their first quote can arrive (the
        # composition root posts their instrument details to the engine there)
        self._on_new_codes = on_new_codes
        self._calendar = calendar
        self._converter = XtQuoteConverter()
        self._handler: QuoteHandler | None = None
        self._on_problem = on_problem
        self._lock = threading.Lock()
        self._subscribing = threading.Lock()  # one subscribe at a time (the caller's or the worker's)
        self._pending: dict[str, Any] = {}
        self._wanted: dict[str, None] = {}  # codes asked for by want(), subscribed by the worker
        self._idle = threading.Condition(self._lock)
        self._busy = False  # the worker is converting or handing on a batch
        self._wake = threading.Event()
        self._closed = False
        self._subscribed: dict[str, None] = {}  # codes and markets, in the order asked
        self._seqs: list[int] = []
        self._reported: set[str] = set()
        self.ignored: set[str] = set()  # codes skipped quietly (not traded by Tiller)
        self.pushes = 0  # callbacks received
        self.batches = 0  # batches handed on
        self.converted = 0  # quotes handed on
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------ the port
    def set_quote_handler(self, handler: QuoteHandler) -> None:
        self._handler = handler

    def subscribe(self, codes: Sequence[str]) -> None:
        """Subscribe codes (holdings, the plan, the watchlist) or whole markets; a code already
        subscribed is not asked again. Raises QuoteError when xtdata refuses."""
        if isinstance(codes, str):
            raise TypeError(f"codes must be a sequence of codes, was the text {codes!r}")
        with self._subscribing:
            self._subscribe(codes)

    def _subscribe(self, codes: Sequence[str]) -> None:
        new = [c for c in dict.fromkeys(codes) if c not in self._subscribed]
        if not new:
            return
        if self._on_new_codes is not None:
            try:
                self._on_new_codes([c for c in new if c not in MARKETS])
            except Exception as exc:  # the quotes still come; what failed is said
                log.exception("quotes: on_new_codes failed")
                self._problem("on_new_codes", f"证券资料获取出错 (reading the codes' details failed): {exc}")
        try:
            seq = self._xt.subscribe_whole_quote(list(new), callback=self._on_push)
        except Exception as exc:
            raise QuoteError(
                f"订阅行情失败 (subscribing quotes of {len(new)} codes failed): {type(exc).__name__}: {exc}"
            ) from exc
        if seq.__class__ is not int or seq <= 0:
            raise QuoteError(
                f"订阅行情被拒绝 (xtdata refused to subscribe {len(new)} codes), answered {seq!r}; "
                "is miniQMT running and logged in?"
            )
        self._seqs.append(seq)
        self._subscribed.update(dict.fromkeys(new))
        codes_only = [c for c in new if c not in MARKETS]
        if codes_only:
            try:
                first = self._xt.get_full_tick(codes_only)
            except Exception as exc:
                self._problem("get_full_tick", f"首个行情快照失败 (the first snapshot failed): {exc}")
            else:
                self._on_push(first)

    def want(self, codes: Iterable[str]) -> None:
        """Thread-safe and non-blocking (an engine listener may call it): the feed's own thread
        subscribes the codes not subscribed yet; a refusal goes to `on_problem`."""
        with self._lock:
            before = len(self._wanted)
            self._wanted.update(dict.fromkeys(c for c in codes if c not in self._subscribed))
            if len(self._wanted) == before:
                return
        self._wake.set()

    @property
    def subscribed(self) -> list[str]:
        return list(self._subscribed)

    def instrument(self, code: str, day: date) -> InstrumentInfo | None:
        """The day's detail of `code`, or None when xtdata does not know it. A suspended instrument's
        quotes are marked suspended from then on."""
        try:
            detail = self._xt.get_instrument_detail(code)
        except Exception as exc:
            raise QuoteError(f"{code}: get_instrument_detail failed: {type(exc).__name__}: {exc}") from exc
        if not detail:
            return None
        info = instrument_from_detail(code, detail, day, self._calendar)
        if info.status is InstrumentStatus.SUSPENDED:
            self._converter.suspended.add(info.code)
        else:
            self._converter.suspended.discard(info.code)
        return info

    def instruments(self, codes: Iterable[str], day: date) -> tuple[list[InstrumentInfo], list[str]]:
        """(the details xtdata has, the codes it does not know or gives a bad detail for, with why)."""
        found: list[InstrumentInfo] = []
        missing: list[str] = []
        for code in dict.fromkeys(codes):
            try:
                info = self.instrument(code, day)
            except QuoteError as exc:
                missing.append(f"{code}: {exc}")
                continue
            if info is None:
                missing.append(f"{code}: QMT 无此证券 (unknown to xtdata)")
            else:
                found.append(info)
        return found, missing

    def snapshot(self, codes: Sequence[str]) -> list[Quote]:
        """get_full_tick, converted on the caller's thread (codes xtdata does not know are left out)."""
        try:
            data = self._xt.get_full_tick(list(codes))
        except Exception as exc:
            raise QuoteError(f"get_full_tick failed: {type(exc).__name__}: {exc}") from exc
        return self._convert(data or {}, XtQuoteConverter(), self._converter.suspended)

    # ------------------------------------------------------------------ the calendar
    def trading_days(self, start: date, end: date) -> list[date]:
        """SSE's trading days from `start` to `end` by get_trading_calendar (future days from QMT's
        holiday data), else get_trading_dates; QuoteError when neither answers."""
        s, e = f"{start:%Y%m%d}", f"{end:%Y%m%d}"
        try:
            days = [_detail_day(d) for d in self._xt.get_trading_calendar("SH", s, e)]
            if None in days:
                raise QuoteError(f"get_trading_calendar: days must be YYYYMMDD, got {days!r}")
            return sorted({d for d in days if d is not None and start <= d <= end})
        except Exception as first:
            try:
                listed = self._xt.get_trading_dates("SH", s, e, -1)
                return sorted({d for d in map(_day_from_ms, listed) if start <= d <= end})
            except Exception as second:
                raise QuoteError(
                    f"QMT 交易日历不可用 (QMT's calendar is unavailable): get_trading_calendar: {first}; "
                    f"get_trading_dates: {second}"
                ) from second

    def confirm_calendar(self, calendar: TradingCalendar, start: date, end: date) -> list[str]:
        """Compare Tiller's calendar with QMT's over [start, end]: the disagreements in words (empty
        when they agree); one line saying why when QMT's calendar cannot be read."""
        try:
            days = self.trading_days(start, end)
        except QuoteError as exc:
            return [str(exc)]
        if not days:
            return [f"QMT 未给出 {start}–{end} 的交易日 (QMT listed no trading day from {start} to {end})"]
        return calendar_disagreements(calendar, days, start, end)

    # ------------------------------------------------------------------ threads
    def _on_push(self, data: Any) -> None:
        """xtdata's callback, on xtdata's thread: file the raw ticks (newest per code) and wake the worker.
        Never raises into xtdata."""
        try:
            if not isinstance(data, Mapping):
                self._problem(
                    "push", f"行情推送格式不对 (a quote push must be a dict), was {type(data).__name__}"
                )
                return
            with self._lock:
                self._pending.update(data)
                self.pushes += 1
            self._wake.set()
        except Exception:
            log.exception("quotes: the xtdata callback failed")

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                self._wake.clear()
                if self._closed:
                    self._idle.notify_all()
                    return
                pending, self._pending = self._pending, {}
                wanted, self._wanted = list(self._wanted), {}
                self._busy = True
            if wanted:
                try:
                    self.subscribe(wanted)  # its first snapshot arrives as a push of its own
                except QuoteError as exc:
                    self._problem("subscribe", str(exc))
            try:
                quotes = self._convert(pending, self._converter, self._converter.suspended)
                handler = self._handler
                if quotes and handler is not None:
                    handler(quotes)  # one batch per wake-up, however many pushes it gathered
                    self.batches += 1
                    self.converted += len(quotes)
            except Exception as exc:  # the thread goes on: a handler that failed once may work next time
                log.exception("quotes: handing on a batch failed")
                self._problem("handler", f"行情处理出错 (handing quotes on failed): {exc}")
            finally:
                with self._lock:
                    self._busy = False
                    if not (self._pending or self._wanted):
                        self._idle.notify_all()

    def _convert(
        self, data: Mapping[str, Any], converter: XtQuoteConverter, suspended: set[str]
    ) -> list[Quote]:
        converter.suspended = suspended
        quote = converter.quote
        out: list[Quote] = []
        for code, tick in data.items():
            if code in self.ignored:
                continue
            try:
                out.append(quote(code, tick))
            except UnsupportedCodeError:
                self.ignored.add(code)
            except QuoteError as exc:
                self._problem(code, f"行情数据有误，已跳过 (a bad tick, skipped): {exc}")
            except Exception as exc:  # a tick of the wrong shape altogether (not a dict, say)
                self._problem(
                    code, f"行情数据有误，已跳过 (a bad tick, skipped): {type(exc).__name__}: {exc}"
                )
        return out

    def _problem(self, key: str, text: str) -> None:
        """Said once per code (or kind of problem) per feed, so a broken code does not flood the alerts."""
        if key in self._reported:
            return
        self._reported.add(key)
        log.warning("quotes: %s", text)
        if self._on_problem is not None:
            try:
                self._on_problem(text)
            except Exception:
                log.exception("quotes: on_problem failed")

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """True once every push received so far has been converted and handed on (tests, shutdown)."""
        with self._lock:
            return self._idle.wait_for(
                lambda: self._closed or not (self._pending or self._wanted or self._busy), timeout
            )

    def close(self) -> None:
        """Unsubscribe everything and stop the worker (a batch being handed on is finished first)."""
        for seq in self._seqs:
            try:
                self._xt.unsubscribe_quote(seq)
            except Exception:
                log.warning("quotes: unsubscribe_quote(%s) failed", seq, exc_info=True)
        self._seqs.clear()
        with self._lock:
            self._closed = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(5.0)
