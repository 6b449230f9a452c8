"""The counter's checks on a new order, each refusal in the words a real counter uses.

Order of the checks, as a counter runs them: security code, suspension, trading day and hours,
price type, price (tick, daily limit), quantity (lot, per-order maximum, sellable shares), the
continuous-trading price cage, then cash. The rules themselves are the domain's (prices,
quantity, sessions); this module applies them to one order and caches what repeats within a day.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from app.domain.errors import PriceError, QuantityError
from app.domain.fees import FeeSchedule
from app.domain.instruments import Board, Exchange, classify
from app.domain.market import InstrumentInfo, InstrumentStatus
from app.domain.orders import PriceType
from app.domain.prices import check_price, price_cage
from app.domain.quantity import check_quantity
from app.domain.sessions import Phase, accepts_market_orders, accepts_orders, phase_at
from app.domain.side import Side
from app.gateways.sim.matching import Book
from app.gateways.sim.state import CLOSE_CALL, CONTINUOUS, OPEN_CALL, PRE_OPEN, SimOrder, SimPosition

__all__ = [
    "CAGE_POLICIES",
    "EXCHANGE_CAGE_POLICY",
    "HELD",
    "RELEASED",
    "Acceptance",
    "CodeDay",
    "cage_policies",
]

# RULES B6 / RULES_SIM S2: what an exchange does with a continuous-trading limit order outside the
# price cage. "reject": refused as invalid; "hold": kept aside by the exchange and released into
# the book once the cage reaches it; "off": no cage (e.g. to replay data without books).
CAGE_POLICIES = frozenset({"reject", "hold", "off"})
# Each exchange's own rule: SZSE holds (深交所交易规则 3.3.9 [S]); SSE rejects (上交所交易规则
# 3.3.17 "申报无效" [S]); BSE: no source found, so the safe choice, reject [UNVERIFIED].
EXCHANGE_CAGE_POLICY: dict[Exchange, str] = {
    Exchange.SH: "reject",
    Exchange.SZ: "hold",
    Exchange.BJ: "reject",
}
# The words a held order shows while the exchange keeps it aside, and once it is released.
HELD = "价格笼子外暂存，进入有效申报价格范围后参加竞价 (held by the exchange outside the price cage: "
RELEASED = "已进入有效申报价格范围，参加竞价 (released: inside the price cage now, in the book)"
# Boards whose market orders carry a protection price (保护限价, RULES_SIM S7): STAR [S].
PROTECTION_BOARDS = frozenset({Board.STAR})

# RULES A3: which exchanges take each market price type (xtconstant 42–48).
_ALL = frozenset(Exchange)
MARKET_TYPES: dict[PriceType, frozenset[Exchange]] = {
    PriceType.BEST5_IOC: _ALL,  # SH/BJ 42, SZ 47
    PriceType.BEST5_TO_LIMIT: frozenset({Exchange.SH, Exchange.BJ}),  # 43
    PriceType.PEER_BEST: _ALL,  # 44
    PriceType.OWN_BEST: _ALL,  # 45
    PriceType.IOC: frozenset({Exchange.SZ}),  # 46
    PriceType.FOK: frozenset({Exchange.SZ}),  # 48
}
BUY = Side.BUY  # enum members as globals: a class-attribute lookup costs 0.1 µs in 3.11
LIMIT = PriceType.LIMIT
_SESSIONS = {
    Phase.OPENING_AUCTION: OPEN_CALL,
    Phase.PRE_OPEN_HALT: PRE_OPEN,
    Phase.CONTINUOUS: CONTINUOUS,
    Phase.CLOSING_AUCTION: CLOSE_CALL,
}


class CodeDay:
    """One code's reference data for the day, resolved once (classify, limits, T+0)."""

    __slots__ = (
        "board",
        "code",
        "down",
        "exchange",
        "exchange_key",
        "limits",
        "prev_close",
        "suspended",
        "t0",
        "up",
    )

    def __init__(self, info: InstrumentInfo) -> None:
        instrument = classify(info.code, info.name, st=info.st)
        self.code = instrument.code
        self.exchange = instrument.exchange
        self.board = instrument.board
        self.exchange_key = instrument.exchange.value  # a plain str hashes in C, an enum in Python
        self.t0 = instrument.t_plus_zero
        self.prev_close = info.prev_close
        self.up = info.up_limit
        self.down = info.down_limit
        both = info.up_limit is not None and info.down_limit is not None
        self.limits = (info.up_limit, info.down_limit) if both else None
        self.suspended = info.status is InstrumentStatus.SUSPENDED


class Acceptance:
    """Checks a new order against the day's reference data and the account.

    Valid prices and buy quantities are remembered per day (the limits do not change within one),
    and fees and cages per input, so a burst of similar orders costs little.
    """

    def __init__(self, fees: FeeSchedule, cage_policy: str | Mapping[Any, str] | None = None) -> None:
        self.cage_policy = cage_policies(cage_policy)
        # (code, "buy" | "sell", turnover) -> yuan. Keys avoid enum members: an enum hashes in Python.
        self.fee = lru_cache(maxsize=16384)(fees.cost_for_amount)
        self._good_prices: set[tuple[str, bool, Decimal]] = set()
        self._good_buys: set[tuple[str, int, bool]] = set()
        self._phases: dict[tuple[time, str], tuple[Phase, bool, str]] = {}

    def new_day(self) -> None:
        """Limits changed (a new day, new reference data): forget the prices found valid."""
        self._good_prices.clear()

    def refusal(
        self,
        order: SimOrder,
        ctx: CodeDay,
        ts: datetime,
        *,
        day: date | None,
        position: SimPosition | None,
        available_cash: Decimal,
        book: Book | None,
    ) -> str | None:
        """Why the counter refuses `order`, or None; on None the order's freeze, working price,
        session and cage hold are filled in."""
        code = ctx.code
        if ctx.suspended:
            return f"证券停牌 (security suspended: {code})"
        if day is None or ts.date() != day:
            return f"非交易日 (not a trading day at the counter: {ts.date()})"
        t = ts.time()
        phase, accepted, session = self._phase(t, ctx)
        if not accepted:
            return f"非交易时间 (no orders accepted at {t:%H:%M:%S}: {phase.value})"
        side = order.side
        buy = side is BUY
        price_type = order.price_type
        market = price_type is not LIMIT
        price = order.price
        protection = None
        if market:
            if ctx.exchange not in MARKET_TYPES[price_type]:
                return f"不支持的价格类型 (price type {price_type.value} is not accepted on {ctx.exchange.value})"
            if not accepts_market_orders(phase):
                return (
                    f"市价委托仅限连续竞价时段 (market orders only in continuous trading, now {phase.value})"
                )
            if ctx.limits is None:
                return f"无价格涨跌幅限制的证券不接受市价委托 (no market orders for {code}: no price limit today)"
            if price is not None and ctx.board in PROTECTION_BOARDS:
                reason = self._price_refusal(ctx, side, buy, price)
                if reason is not None:
                    return f"保护限价错误 (protection price of a market order): {reason}"
                protection = price
        else:
            reason = self._price_refusal(ctx, side, buy, price)
            if reason is not None:
                return reason
        reason = self._quantity_refusal(code, side, buy, order.qty, position, market)
        if reason is not None:
            return reason
        policy = self.cage_policy[ctx.exchange]
        if not market and session == CONTINUOUS and policy != "off":
            assert price is not None
            cage = _cage(
                code,
                buy,
                book.best_ask if book else None,
                book.best_bid if book else None,
                book.last if book else None,
                ctx.prev_close,
            )
            if cage is not None and (price > cage if buy else price < cage):
                message = _cage_message(code, side, price, cage)
                if policy == "reject":
                    return f"超出有效申报价格范围 (price cage): {message}"
                order.held = True
                order.msg = f"{HELD}{message})"
        if buy:
            freeze_price = (protection or ctx.up) if market else price
            assert freeze_price is not None
            turnover = freeze_price * order.qty
            need = turnover + self.fee(code, "buy", turnover)
            if need > available_cash:
                return f"可用资金不足 (needs {need:.2f} including fees, available {available_cash:.2f})"
            order.freeze_price = freeze_price
            order.frozen_cash = need
        order.work_price = None if market else price
        order.protection = protection
        order.session = session
        return None

    def _phase(self, t: time, ctx: CodeDay) -> tuple[Phase, bool, str]:
        """(phase, accepts orders, session) at `t`, remembered: a burst shares a few timestamps."""
        key = (t, ctx.exchange_key)
        found = self._phases.get(key)
        if found is None:
            if len(self._phases) >= 4096:
                self._phases.clear()
            phase = phase_at(t, ctx.exchange)
            found = self._phases[key] = (phase, accepts_orders(phase), _SESSIONS.get(phase, ""))
        return found

    def in_cage(self, order: SimOrder, ctx: CodeDay, book: Book) -> bool:
        """True if a held order's price is inside today's cage on `book` (SZSE releases it then)."""
        price = order.work_price
        assert price is not None
        buy = order.side is BUY
        cage = _cage(ctx.code, buy, book.best_ask, book.best_bid, book.last, ctx.prev_close)
        return cage is None or (price <= cage if buy else price >= cage)

    def _price_refusal(self, ctx: CodeDay, side: Side, buy: bool, price: Decimal | None) -> str | None:
        if price is None:
            return "委托价格错误 (a limit order needs a price, was None)"
        key = (ctx.code, buy, price)
        if type(price) is Decimal and key in self._good_prices:  # a float 10.0 hashes like Decimal 10.0
            return None
        try:
            check_price(ctx.code, side, price, limits=ctx.limits, cage=None)
        except (PriceError, TypeError) as exc:
            return str(exc)
        self._good_prices.add(key)
        return None

    def _quantity_refusal(
        self, code: str, side: Side, buy: bool, qty: int, position: SimPosition | None, market: bool
    ) -> str | None:
        try:
            if buy:
                key = (code, qty, market)
                if type(qty) is not int or key not in self._good_buys:  # 100.0 hashes like 100
                    check_quantity(code, side, qty, market=market)
                    self._good_buys.add(key)
                return None
            sellable = position.sellable if position else 0
            if type(qty) is int and qty > sellable:
                held = position.total if position else 0
                today = held - position.settled if position else 0
                frozen = position.frozen if position else 0
                return (
                    f"可用股份不足 (sell {qty} of {code}, sellable {sellable}: held {held}, "
                    f"bought today {today}, frozen by other sells {frozen})"
                )
            check_quantity(code, side, qty, holding=sellable, market=market)
        except QuantityError as exc:
            return str(exc)
        return None


@lru_cache(maxsize=16384)
def _cage(
    code: str,
    buy: bool,
    best_ask: Decimal | None,
    best_bid: Decimal | None,
    last: Decimal | None,
    prev_close: Decimal,
) -> Decimal | None:
    side = BUY if buy else Side.SELL
    return price_cage(code, side, best_ask=best_ask, best_bid=best_bid, last=last, prev_close=prev_close)


def _cage_message(code: str, side: Side, price: Decimal, cage: Decimal) -> str:
    """The domain's words for an out-of-cage price (the caller has seen that it is out)."""
    try:
        check_price(code, side, price, limits=None, cage=cage)
    except PriceError as exc:
        return str(exc)
    raise AssertionError(f"{price} is inside the cage {cage}")


def cage_policies(policy: str | Mapping[Any, str] | None) -> dict[Exchange, str]:
    """What each exchange does with an out-of-cage order: its own rule (EXCHANGE_CAGE_POLICY),
    overridden by one policy for all (a str) or per exchange (a mapping keyed by Exchange or its
    value "SH"/"SZ"/"BJ"; a value of "exchange" keeps that exchange's rule)."""
    policies = dict(EXCHANGE_CAGE_POLICY)
    if policy is None:
        return policies
    if isinstance(policy, str):
        overrides: dict[Any, str] = dict.fromkeys(Exchange, policy)
    elif isinstance(policy, Mapping):
        overrides = dict(policy)
    else:
        raise ValueError(f"cage_policy must be a str, a mapping by exchange or None, was {policy!r}")
    for key, value in overrides.items():
        try:
            exchange = Exchange(key)
        except ValueError:
            raise ValueError(
                f"cage_policy: unknown exchange {key!r} (one of {', '.join(e.value for e in Exchange)})"
            ) from None
        if value == "exchange":
            continue
        if value not in CAGE_POLICIES:
            raise ValueError(
                f"cage_policy must be one of {sorted(CAGE_POLICIES)} or 'exchange', was {value!r} for {key}"
            )
        policies[exchange] = value
    return policies
