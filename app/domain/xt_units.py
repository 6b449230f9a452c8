"""xtdata's units (RULES.md A5), read the same way wherever its numbers arrive: the QMT quote feed
(app/gateways/qmt/quotes.py) and the recorded-day file (app/feeds/tickfile.py).

- A price is a number with float noise (11.370000000000001): rounded half-up to the tick, exact;
  off the tick by more than noise (a thousandth of a tick) is an error.
- A volume is in lots of 100 shares; a fraction of a lot is allowed when it gives whole shares.
- An amount is yuan, kept to 0.001.

The numbers come in as Decimals (the caller turns floats into their shortest repr first). Each
function raises `error` — the caller's own error type — with a message naming `where`, the field
and the value ("600000.SH: volume must not be negative, was -1").
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

NOISE = Decimal("0.001")  # of a tick: float noise is far below a thousandth of a tick
AMOUNT_STEP = Decimal("0.001")  # yuan
_HUNDRED = Decimal(100)


def price_on_tick(
    number: Decimal, tick: Decimal, field: str, where: str, *, error: type[Exception] = ValueError
) -> Decimal:
    """An exact price on `tick`, float noise rounded away half-up; off the tick by more is an error."""
    try:
        steps = (number / tick).to_integral_value(rounding=ROUND_HALF_UP)
        off_tick = abs(number - steps * tick) > tick * NOISE
        result = (steps * tick).quantize(tick)
    except ArithmeticError:  # decimal overflow or too many digits, e.g. 1e999999
        raise error(f"{where}: {field} is out of range, was {number}") from None
    if off_tick:
        raise error(f"{where}: {field} is not on the tick {tick}, was {number}")
    return result


def lots_to_shares(number: Decimal, field: str, where: str, *, error: type[Exception] = ValueError) -> int:
    """Shares from a count of lots of 100."""
    if number < 0:
        raise error(f"{where}: {field} must not be negative, was {number}")
    try:
        result = number * _HUNDRED
        whole = result == result.to_integral_value()
    except ArithmeticError:
        raise error(f"{where}: {field} is out of range, was {number}") from None
    if not whole:
        raise error(f"{where}: {field} must be lots of 100 giving whole shares, was {number}")
    return int(result)


def yuan(number: Decimal, field: str, where: str, *, error: type[Exception] = ValueError) -> Decimal:
    """Yuan, kept to 0.001 (xtdata's float amount carries noise too)."""
    if number < 0:
        raise error(f"{where}: {field} must not be negative, was {number}")
    try:
        return number.quantize(AMOUNT_STEP, rounding=ROUND_HALF_UP)
    except ArithmeticError:
        raise error(f"{where}: {field} is out of range, was {number}") from None
