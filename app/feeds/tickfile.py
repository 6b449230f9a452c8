"""The recorded-day file: JSON Lines in xtdata's tick fields (RULES A5), one file per day.

Line 1 is the instruments header::

    {"type": "instruments", "trading_day": "2026-11-23", "items": [
      {"code": "600000.SH", "name": "浦发银行", "prev_close": 10.26, "up_limit": 11.29,
       "down_limit": 9.23, "tick": 0.01, "status": "normal", "st": false, "listing_day": null}]}

  Required per item: code, prev_close. Optional: name (""), up_limit/down_limit (both numbers, or
  both null = no limit that day), tick (must match the code's tick; default the code's tick),
  status ("normal" | "suspended"), st (default: from the name), listing_day (int >= 1 or null).

Every further line is one snapshot, in time order (equal times form one batch)::

    {"code": "600000.SH", "time": 1795397400000, "lastPrice": 10.23, "open": 10.2,
     "high": 10.3, "low": 10.1, "lastClose": 10.26, "volume": 12345, "amount": 12634567.0,
     "askPrice": [10.24, 10.25, 0, 0, 0], "bidPrice": [...], "askVol": [120, 80, 0, 0, 0],
     "bidVol": [...]}

- `time`: epoch milliseconds; it must fall on the header's trading day (China time).
- Prices: numbers, rounded half-up to the tick (xtdata floats carry noise such as
  11.370000000000001); a price off the tick by more than float noise is an error. A book level
  whose price is 0 means "no level" and is dropped. Bids must fall, asks rise, level by level.
- `volume`, `askVol`, `bidVol` are in LOTS of 100 shares, as xtdata gives them; a fraction of a
  lot (0.5 = 50 shares) is allowed so that odd lots survive a round trip.
- `amount` is yuan (kept to 0.001). Optional: `stockStatus` (int, kept out of the Quote: its
  values are [UNVERIFIED]), `suspended` (bool, Tiller's own). Other xtdata fields are ignored.
Numbers are read as exact decimals, never through float.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from app.domain.clock import CN_TZ
from app.domain.errors import DomainError
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, InstrumentStatus, Quote
from app.domain.xt_units import lots_to_shares, price_on_tick, yuan
from app.feeds.errors import FeedError

__all__ = [
    "BOOK_WIDTH",
    "HEADER_TYPE",
    "QUOTE_FIELDS",
    "QuoteParser",
    "amount",
    "format_header",
    "format_quote",
    "load_line",
    "parse_header",
    "price",
    "shares",
]

HEADER_TYPE = "instruments"
BOOK_WIDTH = 5  # xtdata always sends five levels, padding with zeros
QUOTE_FIELDS = (
    "code",
    "time",
    "lastPrice",
    "open",
    "high",
    "low",
    "lastClose",
    "volume",
    "amount",
    "askPrice",
    "bidPrice",
    "askVol",
    "bidVol",
)
_HUNDRED = Decimal(100)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC).astimezone(CN_TZ)
_MS = timedelta(milliseconds=1)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)


def load_line(text: str) -> Any:
    """One JSON value with exact decimals; NaN and Infinity refused (ValueError)."""
    return _DECODER.decode(text)


# ---------------------------------------------------------------------- reading
def parse_header(obj: Any, where: str) -> tuple[date, dict[str, InstrumentInfo]]:
    """The trading day and the instruments by canonical code; FeedError naming `where`."""
    if not isinstance(obj, dict) or obj.get("type") != HEADER_TYPE:
        raise FeedError(
            f'{where}: the first line must be the header {{"type": "instruments", ...}}, was {_short(obj)}'
        )
    day_text = obj.get("trading_day")
    try:
        day = date.fromisoformat(day_text) if isinstance(day_text, str) else None
    except ValueError:
        day = None
    if day is None:
        raise FeedError(f"{where}: trading_day must be a date like 2026-11-23, was {day_text!r}")
    items = obj.get("items")
    if not isinstance(items, list):
        raise FeedError(f"{where}: items must be a list of instruments, was {_short(items)}")
    infos: dict[str, InstrumentInfo] = {}
    for number, item in enumerate(items, 1):
        info = _parse_item(item, day, f"{where}, item {number}")
        if info.code in infos:
            raise FeedError(f"{where}, item {number}: instrument listed twice, was {info.code}")
        infos[info.code] = info
    return day, infos


def _parse_item(item: Any, day: date, where: str) -> InstrumentInfo:
    if not isinstance(item, dict):
        raise FeedError(f"{where}: an instrument must be an object, was {_short(item)}")
    for field in ("code", "prev_close"):
        if field not in item:
            raise FeedError(f"{where}: missing field {field!r}")
    raw_code, name = item["code"], item.get("name", "")
    if not isinstance(raw_code, str) or not isinstance(name, str):
        raise FeedError(f"{where}: code and name must be strings, was {raw_code!r} / {name!r}")
    try:
        instrument = classify(raw_code, name)
    except DomainError as error:
        raise FeedError(f"{where}: {error}") from None
    tick = instrument.tick
    if item.get("tick") is not None and _number(item["tick"], "tick", where) != tick:
        raise FeedError(f"{where}: tick of {instrument.code} is {tick}, was {item['tick']}")
    prev_close = price(item["prev_close"], tick, "prev_close", where)
    if prev_close <= 0:
        raise FeedError(f"{where}: prev_close must be positive, was {prev_close}")
    up_raw, down_raw = item.get("up_limit"), item.get("down_limit")
    if (up_raw is None) != (down_raw is None):
        raise FeedError(
            f"{where}: up_limit and down_limit are both numbers or both null, was {up_raw} / {down_raw}"
        )
    up = down = None
    if up_raw is not None:
        up = price(up_raw, tick, "up_limit", where)
        down = price(down_raw, tick, "down_limit", where)
        if not 0 < down < up:
            raise FeedError(f"{where}: down_limit must be positive and below up_limit {up}, was {down}")
    try:
        status = InstrumentStatus(item.get("status", InstrumentStatus.NORMAL.value))
    except ValueError:
        raise FeedError(
            f"{where}: status must be 'normal' or 'suspended', was {item.get('status')!r}"
        ) from None
    st = item.get("st", instrument.st)
    if not isinstance(st, bool):
        raise FeedError(f"{where}: st must be true or false, was {st!r}")
    listing_day = item.get("listing_day")
    if listing_day is not None and (
        isinstance(listing_day, bool) or not isinstance(listing_day, int) or listing_day < 1
    ):
        raise FeedError(f"{where}: listing_day must be an integer from 1 or null, was {listing_day!r}")
    return InstrumentInfo(
        code=instrument.code,
        name=name,
        trading_day=day,
        prev_close=prev_close,
        up_limit=up,
        down_limit=down,
        tick=tick,
        status=status,
        st=st,
        listing_day=listing_day,
    )


class QuoteParser:
    """Turns snapshot lines into Quotes for one file's header, caching the repetitive parts."""

    def __init__(self, day: date, infos: dict[str, InstrumentInfo]) -> None:
        self._day = day
        self._infos = infos
        self._aliases: dict[str, str] = {code: code for code in infos}
        self._times: dict[int, datetime] = {}
        self._prices: dict[Decimal, dict[Any, Decimal]] = {}
        self._books: dict[
            tuple[str, Decimal, tuple[Any, ...]], tuple[tuple[Decimal, ...], tuple[int, ...]]
        ] = {}

    def parse(self, obj: Any, where: str) -> tuple[int, Quote]:
        """(epoch ms, Quote); FeedError naming `where` and the problem."""
        if not isinstance(obj, dict):
            raise FeedError(f"{where}: a snapshot must be a JSON object, was {_short(obj)}")
        if "type" in obj:
            raise FeedError(f"{where}: only the first line may be a header, was type {obj['type']!r}")
        for field in QUOTE_FIELDS:
            if field not in obj:
                raise FeedError(f"{where}: missing field {field!r}")
        code = self._code(obj["code"], where)
        tick = self._infos[code].tick
        cache = self._prices.setdefault(tick, {})
        ms = obj["time"]
        if isinstance(ms, bool) or not isinstance(ms, int) or ms < 0:
            raise FeedError(f"{where}: time must be epoch milliseconds (an integer), was {_short(ms)}")
        ts = self._times.get(ms)
        if ts is None:
            try:
                ts = _EPOCH + ms * _MS
            except OverflowError:
                raise FeedError(f"{where}: time is out of range, was {ms}") from None
            self._times[ms] = ts
            if ts.date() != self._day:
                raise FeedError(
                    f"{where}: time {ts:%Y-%m-%d %H:%M:%S} is not on the trading day {self._day}, was {ms}"
                )
        bid_prices, bid_volumes = self._book(obj, "bidPrice", "bidVol", tick, cache, where)
        ask_prices, ask_volumes = self._book(obj, "askPrice", "askVol", tick, cache, where)
        status = obj.get("stockStatus")
        if status is not None and (isinstance(status, bool) or not isinstance(status, int)):
            raise FeedError(f"{where}: stockStatus must be an integer, was {status!r}")
        suspended = obj.get("suspended", False)
        if not isinstance(suspended, bool):
            raise FeedError(f"{where}: suspended must be true or false, was {suspended!r}")
        quote = Quote(
            code=code,
            ts=ts,
            last=self._price(obj["lastPrice"], tick, cache, "lastPrice", where),
            open=self._price(obj["open"], tick, cache, "open", where),
            high=self._price(obj["high"], tick, cache, "high", where),
            low=self._price(obj["low"], tick, cache, "low", where),
            prev_close=self._price(obj["lastClose"], tick, cache, "lastClose", where),
            volume=shares(obj["volume"], "volume", where),
            amount=amount(obj["amount"], "amount", where),
            bid_prices=bid_prices,
            bid_volumes=bid_volumes,
            ask_prices=ask_prices,
            ask_volumes=ask_volumes,
            suspended=suspended,
        )
        return ms, quote

    def _code(self, raw: Any, where: str) -> str:
        code = self._aliases.get(raw) if isinstance(raw, str) else None
        if code is None:
            try:
                normalized = classify(raw).code if isinstance(raw, str) else None
            except DomainError:
                normalized = None
            if normalized not in self._infos:
                raise FeedError(f"{where}: unknown code (not in the instruments header), was {raw!r}")
            code = self._aliases[raw] = normalized
        return code

    def _price(self, value: Any, tick: Decimal, cache: dict[Any, Decimal], field: str, where: str) -> Decimal:
        if value.__class__ is not bool:  # True == 1 would find the cached price of 1
            try:
                return cache[value]
            except (KeyError, TypeError):  # TypeError: an unhashable value, reported by price()
                pass
        result = price(value, tick, field, where)
        if result < 0:
            raise FeedError(f"{where}: {field} must not be negative, was {value}")
        cache[value] = result
        return result

    def _book(
        self,
        obj: dict[str, Any],
        price_field: str,
        volume_field: str,
        tick: Decimal,
        cache: dict[Any, Decimal],
        where: str,
    ) -> tuple[tuple[Decimal, ...], tuple[int, ...]]:
        raw_prices, raw_volumes = obj[price_field], obj[volume_field]
        if not isinstance(raw_prices, list) or not isinstance(raw_volumes, list):
            raise FeedError(
                f"{where}: {price_field} and {volume_field} must be lists, was {_short(raw_prices)} / {_short(raw_volumes)}"
            )
        if len(raw_prices) != len(raw_volumes):
            raise FeedError(
                f"{where}: {price_field} and {volume_field} must have as many levels, "
                f"was {len(raw_prices)} and {len(raw_volumes)}"
            )
        layout = None
        key = None
        if bool not in map(type, raw_prices):  # True == 1 would find a cached book
            try:
                key = (price_field, tick, tuple(raw_prices))
                layout = self._books.get(key)
            except TypeError:  # an unhashable level, reported by _price below
                key = None
        if layout is None:
            layout = self._layout(raw_prices, price_field, tick, cache, where)
            if key is not None:
                if len(self._books) > 100_000:
                    self._books.clear()
                self._books[key] = layout
        prices, kept = layout
        volumes = [
            raw * 100 if raw.__class__ is int and raw >= 0 else shares(raw, volume_field, where)
            for raw in raw_volumes
        ]
        if len(kept) == len(volumes):
            return prices, tuple(volumes)
        return prices, tuple(volumes[i] for i in kept)

    def _layout(
        self, raw_prices: list[Any], field: str, tick: Decimal, cache: dict[Any, Decimal], where: str
    ) -> tuple[tuple[Decimal, ...], tuple[int, ...]]:
        """The levels with a price (xtdata pads missing levels with 0), checked to be in order."""
        prices: list[Decimal] = []
        kept: list[int] = []
        for index, raw in enumerate(raw_prices):
            level = self._price(raw, tick, cache, field, where)
            if level:
                prices.append(level)
                kept.append(index)
        if field == "bidPrice" and any(a <= b for a, b in pairwise(prices)):
            raise FeedError(f"{where}: bid prices must fall level by level, was {list(map(str, prices))}")
        if field == "askPrice" and any(a >= b for a, b in pairwise(prices)):
            raise FeedError(f"{where}: ask prices must rise level by level, was {list(map(str, prices))}")
        return tuple(prices), tuple(kept)


def price(value: Any, tick: Decimal, field: str, where: str) -> Decimal:
    """An exact price on `tick` from a JSON number, float noise rounded away (RULES A5)."""
    return price_on_tick(_number(value, field, where), tick, field, where, error=FeedError)


def shares(value: Any, field: str, where: str) -> int:
    """Shares from a count of lots of 100 (xtdata's unit, RULES A5)."""
    return lots_to_shares(_number(value, field, where), field, where, error=FeedError)


def amount(value: Any, field: str, where: str) -> Decimal:
    """Yuan, kept to 0.001 (xtdata's float amount carries noise too)."""
    return yuan(_number(value, field, where), field, where, error=FeedError)


def _number(value: Any, field: str, where: str) -> Decimal:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FeedError(f"{where}: {field} must be a finite number, was {value}")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise FeedError(f"{where}: {field} must be a number, was {_short(value)}")


def _short(value: Any) -> str:
    text = str(value) if isinstance(value, Decimal) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------- writing
def format_header(day: date, infos: list[InstrumentInfo]) -> str:
    items = [
        {
            "code": info.code,
            "name": info.name,
            "prev_close": _Raw(_decimal(info.prev_close)),
            "up_limit": None if info.up_limit is None else _Raw(_decimal(info.up_limit)),
            "down_limit": None if info.down_limit is None else _Raw(_decimal(info.down_limit)),
            "tick": _Raw(_decimal(info.tick)),
            "status": info.status.value,
            "st": info.st,
            "listing_day": info.listing_day,
        }
        for info in infos
    ]
    return _dumps({"type": HEADER_TYPE, "trading_day": day.isoformat(), "items": items})


def format_quote(quote: Quote) -> str:
    """One snapshot line; the book padded with zeros to five levels as xtdata sends it."""
    ms = (quote.ts - _EPOCH) // _MS
    extra = ', "suspended": true' if quote.suspended else ""
    return (
        f'{{"code": {json.dumps(quote.code)}, "time": {ms}, "lastPrice": {_decimal(quote.last)}, '
        f'"open": {_decimal(quote.open)}, "high": {_decimal(quote.high)}, "low": {_decimal(quote.low)}, '
        f'"lastClose": {_decimal(quote.prev_close)}, "volume": {_lots(quote.volume)}, '
        f'"amount": {_decimal(quote.amount)}, '
        f'"askPrice": {_prices(quote.ask_prices)}, "bidPrice": {_prices(quote.bid_prices)}, '
        f'"askVol": {_volumes(quote.ask_volumes)}, "bidVol": {_volumes(quote.bid_volumes)}{extra}}}'
    )


def _decimal(value: Decimal) -> str:
    return format(value, "f")


def _lots(volume: int) -> str:
    return str(volume // 100) if volume % 100 == 0 else format(Decimal(volume) / _HUNDRED, "f")


def _prices(values: tuple[Decimal, ...]) -> str:
    padding = ["0"] * (BOOK_WIDTH - len(values))
    return "[" + ", ".join([*map(_decimal, values), *padding]) + "]"


def _volumes(values: tuple[int, ...]) -> str:
    padding = ["0"] * (BOOK_WIDTH - len(values))
    return "[" + ", ".join([*map(_lots, values), *padding]) + "]"


class _Raw(str):
    """Text written into the JSON as it is (an exact decimal number)."""

    __slots__ = ()


def _dumps(value: Any) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(key)}: {_dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)
