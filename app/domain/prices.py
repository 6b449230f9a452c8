"""Ticks, daily price limits and the continuous-trading price cage, exact with Decimal.

Prices are `Decimal`; `int` and numeric `str` are converted, `float` is refused with TypeError
because binary floats cannot represent prices such as 1.15 (RULES B2: float rounding turns the
1.15 limits into 1.26/1.03 instead of 1.27/1.04).
"""

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from app.domain.errors import PriceError
from app.domain.instruments import Board, classify
from app.domain.side import Side

# RULES B1: from 2026-07-06 ST/*ST main-board stocks move from a 5% to a 10% limit.
ST_TEN_PERCENT_FROM = date(2026, 7, 6)

_PCT_5 = Decimal("0.05")
_PCT_10 = Decimal("0.10")
_PCT_20 = Decimal("0.20")
_PCT_30 = Decimal("0.30")

# RULES B1: registration-based IPOs trade without a limit on their first five days
# (SSE/SZSE main board since 2023-04-10, ChiNext, STAR); BSE only on the first day.
_NO_LIMIT_DAYS = {
    Board.SH_MAIN: 5,
    Board.SZ_MAIN: 5,
    Board.CHINEXT: 5,
    Board.STAR: 5,
    Board.BSE: 1,
    Board.FUND: 0,
}

# RULES B6 price cage: (percentage, tick floor). Buy ceiling = max(B×(1+pct), B + n ticks),
# sell floor = min(B×(1−pct), B − n ticks).
#  - Main board (since 2023-04-10) and ChiNext: 2% or 10 ticks, whichever is wider.
#  - STAR: 2% without a tick floor.
#  - BSE: 5% or 10 ticks (2021 trading rules); read as "whichever is wider" like the main board,
#    which secondary sources state explicitly ("孰高" for buys / the lower bound for sells).
#  - Funds: no source found that a cage applies to ETFs/LOFs, so none is applied [UNVERIFIED];
#    the daily limit still applies.
_CAGES: dict[Board, tuple[Decimal, int]] = {
    Board.SH_MAIN: (Decimal("0.02"), 10),
    Board.SZ_MAIN: (Decimal("0.02"), 10),
    Board.CHINEXT: (Decimal("0.02"), 10),
    Board.STAR: (Decimal("0.02"), 0),
    Board.BSE: (Decimal("0.05"), 10),
}


def as_decimal(
    value: Decimal | int | str, what: str = "price", error: type[ValueError] = PriceError
) -> Decimal:
    """`value` as a finite Decimal; float and bool raise TypeError, junk raises `error`."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or not isinstance(value, int | str):
        if isinstance(value, float):
            raise TypeError(
                f"{what} must be a Decimal, not float (floats cannot hold prices exactly; "
                f"use Decimal('{value!r}') or a str), was {value!r}"
            )
        raise TypeError(f"{what} must be a Decimal, int or str, was {type(value).__name__} {value!r}")
    else:
        try:
            result = Decimal(value.strip() if isinstance(value, str) else value)
        except InvalidOperation:
            raise error(f"{what} is not a number, was {value!r}") from None
    if not result.is_finite():
        raise error(f"{what} must be a finite number, was {value!r}")
    return result


def round_to_tick(price: Decimal, tick: Decimal) -> Decimal:
    """`price` rounded half-up to a multiple of `tick` (RULES B2 rounding)."""
    price = as_decimal(price)
    tick = _positive_tick(tick)
    return _round_half_up(price, tick)


def is_on_tick(price: Decimal, tick: Decimal) -> bool:
    """True if `price` is a whole multiple of `tick`."""
    if (
        type(price) is Decimal
        and type(tick) is Decimal
        and price.is_finite()
        and tick.is_finite()
        and tick > 0
    ):
        return price % tick == 0  # what the checks below come to for two good Decimals
    return as_decimal(price) % _positive_tick(tick) == 0


def tick_size(code: str) -> Decimal:
    """Minimum price step of a code: ¥0.01 for stocks, ¥0.001 for funds (RULES B2)."""
    return classify(code).tick


def price_limits(
    code: str,
    prev_close: Decimal,
    *,
    on: date,
    st: bool = False,
    listing_day: int | None = None,
) -> tuple[Decimal, Decimal] | None:
    """(up, down) limit prices for trading day `on`, or None when there is no limit that day.

    `prev_close` is the previous close, or the ex-rights reference price on ex-dates (RULES B2);
    it must be on the tick. `listing_day` counts trading days since listing (1 = first day);
    None means long listed. Main-board IPOs are taken to be registration-based (since
    2023-04-10); earlier rule versions are not modelled except the ST 5%/10% switch.
    """
    instrument = classify(code)
    base = as_decimal(prev_close, "prev_close")
    if base <= 0:
        raise PriceError(f"昨收价必须为正 prev_close must be positive, was {base}")
    if base % instrument.tick != 0:
        raise PriceError(
            f"昨收价不在最小变动单位上 prev_close must be a multiple of {instrument.tick}, was {base}"
        )
    if not isinstance(on, date) or isinstance(on, datetime):
        raise TypeError(f"on must be a datetime.date, was {type(on).__name__} {on!r}")
    if not isinstance(st, bool):
        raise TypeError(f"st must be a bool, was {st!r}")
    if listing_day is not None and (isinstance(listing_day, bool) or not isinstance(listing_day, int)):
        raise TypeError(f"listing_day must be an int or None, was {listing_day!r}")
    if listing_day is not None and listing_day < 1:
        raise PriceError(f"listing_day counts from 1 (the listing day), was {listing_day}")

    board = instrument.board
    if listing_day is not None and listing_day <= _NO_LIMIT_DAYS[board]:
        return None
    if board is Board.SH_MAIN or board is Board.SZ_MAIN:
        pct = _PCT_5 if st and on < ST_TEN_PERCENT_FROM else _PCT_10
    elif board is Board.CHINEXT or board is Board.STAR:
        pct = _PCT_20  # RULES B1, ST included
    elif board is Board.BSE:
        pct = _PCT_30  # RULES B1, ST included
    elif instrument.is_reit and listing_day == 1:
        # Public REITs: 30% on the listing day, 10% afterwards (SSE/SZSE REITs business rules).
        pct = _PCT_30
    else:
        pct = _PCT_10  # listed funds, including an ETF's first day
    return _limits(base, pct, instrument.tick)


def price_cage(
    code: str,
    side: Side,
    *,
    best_ask: Decimal | None,
    best_bid: Decimal | None,
    last: Decimal | None,
    prev_close: Decimal,
) -> Decimal | None:
    """The continuous-trading price cage (RULES B6): for a buy the highest acceptable limit price,
    for a sell the lowest; None where no cage applies (funds).

    Reference price: for a buy the best ask, else the best bid, else the last trade, else the
    previous close; for a sell the best bid, else the best ask, else last, else previous close.
    Pass None for an empty book side or no trade yet. The cage is for continuous trading only;
    call auctions and temporary halts have none.
    """
    instrument = classify(code)
    side = Side(side)
    rule = _CAGES.get(instrument.board)
    if rule is None:
        return None
    first, second = (best_ask, best_bid) if side is Side.BUY else (best_bid, best_ask)
    names = ("best_ask", "best_bid") if side is Side.BUY else ("best_bid", "best_ask")
    for value, what in ((first, names[0]), (second, names[1]), (last, "last"), (prev_close, "prev_close")):
        if value is not None:
            base = as_decimal(value, what)
            if base <= 0:
                raise PriceError(f"{what} must be positive (pass None when absent), was {base}")
            break
    else:
        raise TypeError("prev_close is required for the price cage, was None")
    pct, ticks = rule
    tick = instrument.tick
    if side is Side.BUY:
        return _round_half_up(max(base * (1 + pct), base + ticks * tick), tick)
    floor = _round_half_up(min(base * (1 - pct), base - ticks * tick), tick)
    return max(floor, tick)  # a price is at least one tick


def check_price(
    code: str,
    side: Side,
    price: Decimal,
    *,
    limits: tuple[Decimal, Decimal] | None,
    cage: Decimal | None,
) -> None:
    """Raise PriceError unless `price` is positive, on the tick, within `limits` (up, down)
    and on the right side of `cage` (from `price_limits` and `price_cage`; None = no check).

    An out-of-cage order is invalid here; whether the exchange rejects or holds it (SZSE holds,
    RULES B6) is for the broker to decide.
    """
    instrument = classify(code)
    side = Side(side)
    value = as_decimal(price)
    if value <= 0:
        raise PriceError(f"委托价格必须为正 price must be positive, was {value}")
    if value % instrument.tick != 0:
        raise PriceError(
            f"委托价格不是最小变动单位 {instrument.tick} 的整数倍 "
            f"price must be a multiple of the tick {instrument.tick}, was {value}"
        )
    if limits is not None:
        up, down = limits
        if value > up or value < down:
            raise PriceError(
                f"价格超出涨跌停范围 price outside the daily limits {down}–{up} for {instrument.code}, was {value}"
            )
    if cage is not None:
        if side is Side.BUY and value > cage:
            raise PriceError(
                f"买入价格高于价格笼子上限 {cage} buy price above the price cage {cage} "
                f"for {instrument.code}, was {value}"
            )
        if side is Side.SELL and value < cage:
            raise PriceError(
                f"卖出价格低于价格笼子下限 {cage} sell price below the price cage {cage} "
                f"for {instrument.code}, was {value}"
            )


@lru_cache(maxsize=65536)
def _limits(base: Decimal, pct: Decimal, tick: Decimal) -> tuple[Decimal, Decimal]:
    # RULES B2: prev_close × (1 ± pct), half-up to the tick; at least one tick away from
    # prev_close (SZSE since 2011, SSE 2026 rules 3.3.13/3.3.17).
    up = _round_half_up(base * (1 + pct), tick)
    down = _round_half_up(base * (1 - pct), tick)
    if up - base < tick:
        up = (base + tick).quantize(tick)
    if base - down < tick:
        down = (base - tick).quantize(tick)
    # A price must be positive: at a previous close of one tick the stock cannot fall further,
    # so the down limit stays at one tick (our reading; no exchange text found for this case).
    return up, max(down, tick)


def _round_half_up(value: Decimal, tick: Decimal) -> Decimal:
    return ((value / tick).to_integral_value(rounding=ROUND_HALF_UP) * tick).quantize(tick)


def _positive_tick(tick: Decimal) -> Decimal:
    result = as_decimal(tick, "tick")
    if result <= 0:
        raise PriceError(f"tick must be positive, was {result}")
    return result
