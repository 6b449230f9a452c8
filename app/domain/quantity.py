"""Order quantities: lots, minimums, odd-lot sells and per-order maximums (RULES B3)."""

from app.domain.errors import QuantityError
from app.domain.instruments import Board, classify
from app.domain.side import Side

# Smallest order and step after it (RULES B3):
#  - main board, ChiNext and funds: whole lots of 100;
#  - STAR: at least 200, then steps of 1;
#  - BSE: at least 100, then steps of 1.
_MINIMUM: dict[Board, int] = {
    Board.SH_MAIN: 100,
    Board.SZ_MAIN: 100,
    Board.CHINEXT: 100,
    Board.STAR: 200,
    Board.BSE: 100,
    Board.FUND: 100,
}
_STEP: dict[Board, int] = {
    Board.SH_MAIN: 100,
    Board.SZ_MAIN: 100,
    Board.CHINEXT: 100,
    Board.STAR: 1,
    Board.BSE: 1,
    Board.FUND: 100,
}

# Per-order maximum shares as (limit order, market order). RULES B3 [S]: main board limit
# 1,000,000, ChiNext 300,000/150,000, STAR 100,000/50,000. The rest are the exchanges' general
# "单笔申报最大数量不超过 100 万股（份）" and are [UNVERIFIED]: main-board market orders, funds,
# and BSE (its 2021 trading rules cap an order at 1,000,000 shares per secondary sources).
# The risk engine keeps its own, configurable, lower order-size limit.
_MAXIMUM: dict[Board, tuple[int, int]] = {
    Board.SH_MAIN: (1_000_000, 1_000_000),
    Board.SZ_MAIN: (1_000_000, 1_000_000),
    Board.CHINEXT: (300_000, 150_000),
    Board.STAR: (100_000, 50_000),
    Board.BSE: (1_000_000, 1_000_000),
    Board.FUND: (1_000_000, 1_000_000),
}


def lot_size(code: str) -> int:
    """The smallest buy quantity: 100 shares, or 200 on STAR."""
    return _MINIMUM[classify(code).board]


def quantity_step(code: str) -> int:
    """Step between valid buy quantities above the minimum: 100, or 1 on STAR and BSE."""
    return _STEP[classify(code).board]


def max_order_qty(code: str, *, market: bool = False) -> int:
    """The most shares one order may carry (limit order, or market order if `market`)."""
    limit_max, market_max = _MAXIMUM[classify(code).board]
    return market_max if market else limit_max


def round_down_to_lot(code: str, qty: int) -> int:
    """The largest valid buy quantity ≤ `qty` under the lot rules, 0 if there is none.

    The per-order maximum is not applied: a planner splits larger quantities into orders of at
    most `max_order_qty` each.
    """
    board = classify(code).board
    _require_int(qty, "qty", allow_zero=True)
    if qty < _MINIMUM[board]:
        return 0
    return qty - qty % _STEP[board]


def check_quantity(code: str, side: Side, qty: int, *, holding: int = 0, market: bool = False) -> None:
    """Raise QuantityError unless one order of `qty` shares is valid.

    `holding` is the sellable quantity the order draws on; it is required for sells — a sell
    with the default holding=0 is refused as exceeding the holding. Buys ignore it.
    Sells (RULES B3): on lot boards a multiple of 100, optionally plus the entire odd-lot
    remainder (holding 150: 50, 100 or 150, not 120); on STAR/BSE at least the minimum, or
    the whole holding when it is below the minimum.
    """
    instrument = classify(code)
    if type(side) is not Side:
        side = Side(side)
    if type(qty) is not int or qty <= 0:  # an int above zero needs no more checking here
        _require_int(qty, "qty", allow_zero=False)
    if type(holding) is not int or holding < 0:
        _require_int(holding, "holding", allow_zero=True)
    board = instrument.board
    maximum = _MAXIMUM[board][1 if market else 0]
    if qty > maximum:
        kind = "市价" if market else "限价"
        raise QuantityError(
            f"超过单笔{kind}委托上限 {maximum} 股 quantity above the per-order maximum {maximum} "
            f"for {instrument.code}, was {qty}"
        )
    minimum = _MINIMUM[board]
    step = _STEP[board]
    if side is Side.BUY:
        if qty < minimum or qty % step != 0:
            raise QuantityError(_buy_rule(instrument.code, minimum, step, qty))
        return
    if qty > holding:
        raise QuantityError(
            f"可卖数量不足 sell quantity exceeds the holding {holding} of {instrument.code}, was {qty}"
        )
    if step == minimum:
        # Lot boards: whole lots, or whole lots plus the entire odd remainder of the holding.
        if qty % step != 0 and qty % step != holding % step:
            raise QuantityError(
                f"卖出数量须为 {step} 股的整数倍，零股须一次卖完 sell a multiple of {step} plus, "
                f"optionally, the whole odd lot {holding % step} of the holding {holding}, was {qty}"
            )
    elif qty < minimum and qty != holding:
        raise QuantityError(
            f"卖出数量不少于 {minimum} 股，不足 {minimum} 股的余额须一次卖完 sell at least {minimum}, "
            f"or the whole holding when it is below {minimum} (holding {holding}), was {qty}"
        )


def _buy_rule(code: str, minimum: int, step: int, qty: int) -> str:
    if step == minimum:
        return (
            f"买入数量须为 {step} 股的整数倍 buy quantity must be a multiple of {step} for {code}, was {qty}"
        )
    return f"买入数量不少于 {minimum} 股 buy quantity must be at least {minimum} for {code}, was {qty}"


def _require_int(value: int, what: str, *, allow_zero: bool) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise QuantityError(
            f"{what} must be a whole number of shares (int), was {type(value).__name__} {value!r}"
        )
    if value < 0 or (value == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "positive"
        raise QuantityError(f"{what} must be {bound}, was {value}")
