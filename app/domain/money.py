"""The rounding policy for cost and P&L: one set of functions used by Tiller's books
(`positions.Position`) and the simulated broker's (`gateways.sim.state.SimPosition`), so the two
agree to the last digit and reconciliation reports only differences that are real.

What is exact, what is rounded, and when (it is what a broker's counter does: it stores a cost
price per share, 成本价, to a few decimals, and books money to the fen):

- Turnover of a fill (成交金额) = price × qty: exact (a price has at most 3 decimals), never rounded.
- Fees: each component is rounded half-up to the fen when it is computed (fees.py), so every fee
  is a whole number of fen.
- Cash moves by exactly turnover ± fees: nothing is rounded again.
- Average cost per share (成本价, buy fees included): after every buy fill
      avg = (avg_before × held_before + turnover + fees) / held_after,
  rounded half-up to COST_QUANTUM (0.0001 yuan). The rounded value *is* the book: the next buy
  starts from it, and it is what is stored, reported and compared. A sell leaves it unchanged;
  selling everything resets it to 0.
- Realized P&L of a sell fill = turnover − avg × qty − fees, rounded half-up to the fen, per fill;
  a position's realized P&L is the sum of its fills' (so it is always a whole number of fen).
- Unrealized P&L and market value (last × qty) are figures for display, never booked.

Why 0.0001: QMT's XtPosition.open_price/avg_price are floats the terminal shows to 3 decimals;
a fourth keeps the stored average within 0.00005 yuan a share of the exact cost, and an average
reported by a broker is brought to the same quantum with `avg_cost_of` before it is compared.
Half-up, not the Decimal default half-even: it is how prices and fees are rounded everywhere else
(RULES.md B1, fees.py) and how a counter rounds.

Order matters: a rounded average depends on the order of the buys. Both books apply fills in
the broker's order (reports are pushed in that order; recovery books the broker's trades in it).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Context, Decimal

COST_QUANTUM = Decimal("0.0001")
FEN = Decimal("0.01")
ZERO = Decimal(0)
# Enough digits for any book within app.domain.bounds (10^13 yuan to 4 decimals), whatever the
# thread's decimal context says.
_CONTEXT = Context(prec=40, rounding=ROUND_HALF_UP)


def avg_cost_after_buy(avg: Decimal, held: int, qty: int, turnover: Decimal, fees: Decimal) -> Decimal:
    """The average cost per share after buying `qty` shares for `turnover` plus `fees`."""
    if qty <= 0 or held < 0:
        raise ValueError(f"a buy needs qty > 0 and held >= 0, was qty {qty}, held {held}")
    ctx = _CONTEXT
    cost = ctx.add(ctx.add(ctx.multiply(avg, Decimal(held)), turnover), fees)
    return ctx.divide(cost, Decimal(held + qty)).quantize(COST_QUANTUM, context=ctx)


def realized_pnl(avg: Decimal, qty: int, turnover: Decimal, fees: Decimal) -> Decimal:
    """The realized P&L of selling `qty` shares held at `avg` for `turnover`, net of `fees`, to the fen."""
    ctx = _CONTEXT
    pnl = ctx.subtract(ctx.subtract(turnover, ctx.multiply(avg, Decimal(qty))), fees)
    return pnl.quantize(FEN, context=ctx)


def avg_cost_of(value: Decimal | float | int | str) -> Decimal:
    """An average cost from outside (a broker's report, a stored value) at COST_QUANTUM, half-up.
    A float is taken by its shortest form (11.370000000000001 -> 11.37)."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        raise ValueError(f"an average cost must be a finite number, was {value!r}")
    return number.quantize(COST_QUANTUM, context=_CONTEXT)


def to_fen(value: Decimal) -> Decimal:
    """An amount of money rounded half-up to the fen."""
    return value.quantize(FEN, context=_CONTEXT)
