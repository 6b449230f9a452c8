"""The risk limits: one frozen, validated value per setting (the `[risk]` section of the settings).

Every field carries its parser, what it expects and what it is for, so the settings loader
(app/config/, section `[risk]`) and the run-time change (`RiskLimits.with_value`, from
`Terminal.set_risk`) validate a value the same way. A limit of 0 is "off" where the help says so.

The exchanges' programmatic-trading thresholds (RULES.md B8: an account whose orders plus cancels
reach 300 in one second or 20,000 in a day is high-frequency) are ceilings: the order-rate
settings may be lowered below them, never raised above them. The price-cage constants are
settings because RULES.md B6 marks them partly unverified.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.domain.instruments import Board
from app.domain.setting_values import to_bool, to_decimal

# RULES.md B8: orders and cancels together, per second and per trading day.
EXCHANGE_MAX_PER_SECOND = 300
EXCHANGE_MAX_PER_DAY = 20_000

WHO = ("user", "schedule", "cli")


class RiskSettingError(ValueError):
    """A risk setting refused: names the key, what was expected and the value given."""


@dataclass(frozen=True, slots=True)
class RiskSpec:
    """How a risk setting is parsed (same shape as app.config's field specs)."""

    parse: Callable[[Any], Any]
    expected: str
    help: str


def _spec(parse: Callable[[Any], Any], expected: str, help: str) -> dict[str, RiskSpec]:
    return {"spec": RiskSpec(parse, expected, help)}


def _to_decimal(raw: Any) -> Decimal:
    return to_decimal(raw, accept_decimal=True)  # run-time changes may pass a Decimal


def _fraction(*, allow_zero: bool = True, high: Decimal = Decimal(1)) -> Callable[[Any], Decimal]:
    def parse(raw: Any) -> Decimal:
        value = _to_decimal(raw)
        if value < 0 or value > high or (value == 0 and not allow_zero):
            raise ValueError("out of range")
        if value.as_tuple().exponent < -6:  # type: ignore[operator]
            raise ValueError("too many decimal places")
        return value + 0  # normalise -0

    return parse


def _amount(raw: Any) -> Decimal:
    value = _to_decimal(raw)
    if value < 0 or value > Decimal("1e13") or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("out of range")
    return value + 0


def _count(low: int, high: int) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        if isinstance(raw, bool):
            raise TypeError("a boolean is not an integer")
        if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
            raw = int(raw)
        if not isinstance(raw, int) or not low <= raw <= high:
            raise ValueError("out of range")
        return raw

    return parse


_flag = to_bool


def _items(raw: Any) -> list[str]:
    # commas, full-width ones too (a Chinese keyboard types "，"), semicolons or spaces between items
    items = re.split(r"[,，;；\s]+", raw) if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple | set | frozenset) or not all(isinstance(i, str) for i in items):
        raise TypeError("not a list of strings")
    return [i.strip() for i in items if i.strip()]


def _codes(raw: Any) -> tuple[str, ...]:
    codes = [c.upper() for c in _items(raw)]
    if not all(re.fullmatch(r"\d{6}\.(SH|SZ|BJ)", c) for c in codes):
        raise ValueError("bad code")
    return tuple(sorted(set(codes)))


_BOARDS = tuple(b.value for b in Board)


def _boards(raw: Any) -> tuple[str, ...]:
    boards = [b.lower() for b in _items(raw)]
    if not all(b in _BOARDS for b in boards):
        raise ValueError("unknown board")
    return tuple(sorted(set(boards)))


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """The risk engine's settings; the defaults deny nothing an ordinary day of the demo does."""

    max_position_pct: Decimal = field(
        default=Decimal(1),
        metadata=_spec(
            _fraction(allow_zero=False),
            "a fraction above 0 and at most 1",
            "per-instrument maximum position (held plus working buys) as a fraction of total assets; "
            "a buy above it is cut down to a valid lot (1 = no cap)",
        ),
    )
    max_account_position_pct: Decimal = field(
        default=Decimal(1),
        metadata=_spec(
            _fraction(allow_zero=False),
            "a fraction above 0 and at most 1",
            "account maximum position (all holdings plus working buys) as a fraction of total assets; "
            "a buy above it is cut down to a valid lot (1 = no cap)",
        ),
    )
    whitelist: tuple[str, ...] = field(
        default=(),
        metadata=_spec(
            _codes,
            "a list of codes such as 600000.SH; in env or --set: a,b,c",
            "if not empty, only these codes may be bought (sells are never refused by the lists)",
        ),
    )
    blacklist: tuple[str, ...] = field(
        default=(),
        metadata=_spec(
            _codes, "a list of codes such as 600000.SH; in env or --set: a,b,c", "codes never bought"
        ),
    )
    blocked_boards: tuple[str, ...] = field(
        default=(),
        metadata=_spec(
            _boards,
            f"a list of boards ({', '.join(_BOARDS)})",
            "boards never bought (e.g. star, chinext, bse)",
        ),
    )
    block_st: bool = field(
        default=False,
        metadata=_spec(_flag, "true or false", "refuse buying ST/*ST stocks"),
    )
    max_new_buys_per_day: int = field(
        default=0,
        metadata=_spec(
            _count(0, 10_000),
            "an integer from 0 to 10000",
            "most distinct codes bought per day (0 = no limit)",
        ),
    )
    max_order_value: Decimal = field(
        default=Decimal(0),
        metadata=_spec(
            _amount,
            "an amount in yuan from 0 with at most 2 decimals",
            "largest value of one order, yuan; a larger one is cut down to a valid lot (0 = no limit)",
        ),
    )
    max_order_qty: int = field(
        default=0,
        metadata=_spec(
            _count(0, 1_000_000_000),
            "a number of shares from 0",
            "most shares in one order; a larger one is cut down to a valid lot (0 = only the exchange's)",
        ),
    )
    max_price_deviation_pct: Decimal = field(
        default=Decimal("0.5"),
        metadata=_spec(
            _fraction(high=Decimal(10)),
            "a fraction from 0 to 10",
            "a limit price further than this from the last price is refused (fat finger; 0 = off)",
        ),
    )
    no_buy_at_limit_up: bool = field(
        default=True,
        metadata=_spec(_flag, "true or false", "refuse a buy while the last price is at the up limit"),
    )
    no_sell_at_limit_down: bool = field(
        default=True,
        metadata=_spec(_flag, "true or false", "refuse a sell while the last price is at the down limit"),
    )
    price_cage: bool = field(
        default=False,
        metadata=_spec(
            _flag,
            "true or false",
            "refuse continuous-trading limit orders outside the exchange's price cage before they are "
            "sent (RULES.md B6; off by default: the exchange refuses or holds them itself)",
        ),
    )
    cage_pct: Decimal = field(
        default=Decimal("0.02"),
        metadata=_spec(
            _fraction(allow_zero=False, high=Decimal("0.5")),
            "a fraction above 0 and at most 0.5",
            "price cage of main board, ChiNext, STAR and funds: 2% from the reference price (RULES.md B6)",
        ),
    )
    cage_ticks: int = field(
        default=10,
        metadata=_spec(
            _count(0, 1000),
            "an integer from 0 to 1000",
            "price cage floor in ticks, main board, ChiNext and funds (STAR has none) (RULES.md B6)",
        ),
    )
    cage_pct_bse: Decimal = field(
        default=Decimal("0.05"),
        metadata=_spec(
            _fraction(allow_zero=False, high=Decimal("0.5")),
            "a fraction above 0 and at most 0.5",
            "price cage of the Beijing exchange, with cage_ticks as its floor (RULES.md B6, unverified)",
        ),
    )
    duplicate_window_s: Decimal = field(
        default=Decimal(0),
        metadata=_spec(
            _fraction(high=Decimal(3600)),
            "seconds from 0 to 3600",
            "refuse an order equal to one placed this many seconds before (same code, side, qty, price, "
            "price type; 0 = off)",
        ),
    )
    max_daily_turnover: Decimal = field(
        default=Decimal(0),
        metadata=_spec(
            _amount,
            "an amount in yuan from 0 with at most 2 decimals",
            "value of all orders placed in a day, yuan; the order that crosses it is cut down (0 = no cap)",
        ),
    )
    max_orders_per_second: int = field(
        default=50,
        metadata=_spec(
            _count(1, EXCHANGE_MAX_PER_SECOND),
            f"an integer from 1 to {EXCHANGE_MAX_PER_SECOND} (the exchanges' threshold, RULES.md B8)",
            "orders plus cancels in any one second",
        ),
    )
    max_orders_per_day: int = field(
        default=5000,
        metadata=_spec(
            _count(1, EXCHANGE_MAX_PER_DAY),
            f"an integer from 1 to {EXCHANGE_MAX_PER_DAY} (the exchanges' threshold, RULES.md B8)",
            "orders plus cancels in one trading day",
        ),
    )
    max_cancels_per_day: int = field(
        default=0,
        metadata=_spec(
            _count(0, EXCHANGE_MAX_PER_DAY),
            f"an integer from 0 to {EXCHANGE_MAX_PER_DAY}",
            "after this many cancels in a day new orders are refused (cancels never are; 0 = no limit)",
        ),
    )
    max_cancel_ratio: Decimal = field(
        default=Decimal(0),
        metadata=_spec(
            _fraction(),
            "a fraction from 0 to 1",
            "cancels / orders of the day above which new orders are refused, once cancel_ratio_min_orders "
            "orders were placed (0 = off)",
        ),
    )
    cancel_ratio_min_orders: int = field(
        default=20,
        metadata=_spec(
            _count(1, EXCHANGE_MAX_PER_DAY),
            "an integer from 1",
            "orders of the day before the cancel ratio applies",
        ),
    )
    stop_loss_pct: Decimal = field(
        default=Decimal(0),
        metadata=_spec(
            _fraction(),
            "a fraction from 0 to 1",
            "sell a position once when its last price falls this far below its average cost (0 = off)",
        ),
    )
    take_profit_pct: Decimal = field(
        default=Decimal(0),
        metadata=_spec(
            _fraction(high=Decimal(100)),
            "a fraction from 0 to 100",
            "sell a position once when its last price rises this far above its average cost (0 = off)",
        ),
    )
    drawdown_alert_pct: Decimal = field(
        default=Decimal(0),
        metadata=_spec(
            _fraction(),
            "a fraction from 0 to 1",
            "alert once a day when total assets fall this far below the day's peak (0 = off)",
        ),
    )

    def with_value(self, key: str, raw: Any) -> RiskLimits:
        """A copy with `key` set to `raw`, parsed and checked; raises RiskSettingError saying why not."""
        spec = spec_of(key)
        try:
            value = spec.parse(raw)
        except (ValueError, TypeError):
            raise RiskSettingError(
                f"风控参数无效 (invalid risk setting) risk.{key}: expected {spec.expected}, was {raw!r}"
            ) from None
        return dataclasses.replace(self, **{key: value})

    def as_text(self, key: str) -> str:
        """The value of `key` as stored in the audit trail."""
        return value_text(getattr(self, key))

    def as_dict(self) -> dict[str, str]:
        return {f.name: value_text(getattr(self, f.name)) for f in dataclasses.fields(self)}


def spec_of(key: str) -> RiskSpec:
    for f in dataclasses.fields(RiskLimits):
        if f.name == key:
            return f.metadata["spec"]
    known = ", ".join(f.name for f in dataclasses.fields(RiskLimits))
    raise RiskSettingError(f"未知风控参数 (unknown risk setting) risk.{key}; known: {known}")


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)
