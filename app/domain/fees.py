"""Trading fees (RULES B7); every rate is configurable through FeeSchedule."""

from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

from app.domain.instruments import classify
from app.domain.prices import as_decimal
from app.domain.quantity import round_down_to_lot
from app.domain.records import fast_init
from app.domain.side import Side

FEN = Decimal("0.01")
_ZERO = Decimal("0.00")
# RULES B7: commission is capped at 0.3% of turnover (证监发〔2002〕21号).
COMMISSION_RATE_CAP = Decimal("0.003")


@fast_init
@dataclass(frozen=True, slots=True)
class FeeBreakdown:
    """Fees of one order in yuan, each already rounded to the fen."""

    commission: Decimal
    stamp_duty: Decimal
    transfer_fee: Decimal

    @property
    def total(self) -> Decimal:
        return self.commission + self.stamp_duty + self.transfer_fee


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    """Fee rates. Defaults: a typical commission 0.025% with the ¥5 minimum [UNVERIFIED rate],
    stamp duty 0.05% on sells (since 2023-08-28), transfer fee 0.001% both ways (since
    2022-04-29). Exchange handling fee and CSRC levy are taken as part of the commission.

    Rounding: each component is computed on the turnover (price × qty) and rounded half-up to
    the fen on its own, then the three are summed:
      commission   = max(turnover × commission_rate, commission_min), only if turnover > 0
      stamp duty   = turnover × stamp_duty_rate, sells of stocks only
      transfer fee = turnover × transfer_rate, buys and sells of stocks (SSE, SZSE and BSE)
    Listed funds (ETFs, LOFs, REITs) pay neither stamp duty nor transfer fee: stamp duty is a
    tax on share transfers and fund units are exempt; ChinaClear charges the transfer fee on
    A-shares only. The 2022 ChinaClear cut covered SSE, SZSE and BSE A-shares alike, so BSE pays
    the transfer fee.
    Partial fills are charged incrementally as cost(cumulative turnover) − cost(previous
    cumulative turnover), so the ¥5 minimum applies once per order.
    """

    commission_rate: Decimal = Decimal("0.00025")
    commission_min: Decimal = Decimal("5")
    stamp_duty_rate: Decimal = Decimal("0.0005")
    transfer_rate: Decimal = Decimal("0.00001")

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if not isinstance(value, Decimal):
                raise ValueError(
                    f"fee setting {field.name} must be a Decimal, was {type(value).__name__} {value!r}"
                )
            if not value.is_finite() or value < 0:
                raise ValueError(f"fee setting {field.name} must be a non-negative number, was {value}")
        if self.commission_rate > COMMISSION_RATE_CAP:
            raise ValueError(
                f"commission_rate above the legal cap {COMMISSION_RATE_CAP} (0.3%, RULES B7), was {self.commission_rate}"
            )
        for name in ("stamp_duty_rate", "transfer_rate"):
            if getattr(self, name) >= 1:
                raise ValueError(
                    f"fee setting {name} is a fraction of turnover and must be below 1, was {getattr(self, name)}"
                )

    def breakdown(self, code: str, side: Side, amount: Decimal) -> FeeBreakdown:
        """Fees of an order with turnover `amount` yuan (see the class docstring for rounding)."""
        instrument = classify(code)
        if type(side) is not Side:
            side = Side(side)
        turnover = (
            amount
            if type(amount) is Decimal and amount.is_finite()
            else as_decimal(amount, "amount", ValueError)
        )
        if turnover < 0:
            raise ValueError(f"turnover amount must not be negative, was {turnover}")
        if turnover == 0:
            return FeeBreakdown(_ZERO, _ZERO, _ZERO)
        commission = _to_fen(max(turnover * self.commission_rate, self.commission_min))
        if instrument.is_fund:
            return FeeBreakdown(commission, _ZERO, _ZERO)
        stamp_duty = _to_fen(turnover * self.stamp_duty_rate) if side is Side.SELL else _ZERO
        transfer_fee = _to_fen(turnover * self.transfer_rate)
        return FeeBreakdown(commission, stamp_duty, transfer_fee)

    def cost_for_amount(self, code: str, side: Side, amount: Decimal) -> Decimal:
        """All fees, in yuan, of an order with turnover `amount`."""
        return self.breakdown(code, side, amount).total

    def cost(self, code: str, side: Side, price: Decimal, qty: int) -> Decimal:
        """All fees, in yuan, of `qty` shares at `price`."""
        return self.cost_for_amount(code, side, _turnover(price, qty))

    def max_buy_qty(self, code: str, price: Decimal, cash: Decimal) -> int:
        """The largest valid buy quantity (lot rules) whose turnover plus fees fit in `cash`.

        The per-order maximum is not applied; see `quantity.round_down_to_lot`.
        """
        classify(code)
        unit_price = as_decimal(price)
        if unit_price <= 0:
            raise ValueError(f"price must be positive, was {unit_price}")
        budget = as_decimal(cash, "cash", ValueError)
        if budget < 0:
            raise ValueError(f"cash must not be negative, was {budget}")
        # Turnover plus fees only grows with qty, so binary-search the largest affordable qty.
        low, high = 0, int(budget // unit_price)
        while low < high:
            middle = (low + high + 1) // 2
            turnover = unit_price * middle
            if turnover + self.cost_for_amount(code, Side.BUY, turnover) <= budget:
                low = middle
            else:
                high = middle - 1
        return round_down_to_lot(code, low)


def _to_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def _turnover(price: Decimal, qty: int) -> Decimal:
    unit_price = as_decimal(price)
    if unit_price <= 0:
        raise ValueError(f"price must be positive, was {unit_price}")
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise ValueError(f"qty must be a whole number of shares (int), was {type(qty).__name__} {qty!r}")
    if qty < 0:
        raise ValueError(f"qty must not be negative, was {qty}")
    return unit_price * qty
