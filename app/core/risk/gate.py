"""The risk gate: every order passes it before cash or shares are held (STYLE.md §1.4).

`RiskGate.check(order, view, now)` answers ALLOW, `Deny(reason)` or `Resize(qty, note)`. It is
called by `OrderManager.create` after the exchange rules and before the hold, so an order from
any source (plan, execution policy, monitor, a hand-typed one) passes it; a denial becomes a
DENIED order with the reason, a resize changes the order's quantity before the hold and the note
is kept on the order. `accepted(order, now)` counts an order that was then held (rates, duplicates,
codes bought, turnover); `note_cancels` counts cancels sent. Cancels are never refused.

The gate is owned by the engine thread. Its checks are cheap: each is skipped when its setting is
off, and the ones that cost more (position caps) only run for buys with a cap below 100 %.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

from app.core.risk.arming import LiveGuard
from app.core.risk.limits import RiskLimits
from app.domain.errors import DomainError
from app.domain.instruments import Board, classify
from app.domain.market import InstrumentInfo, Quote
from app.domain.orders import Order, OrderStatus
from app.domain.quantity import round_down_to_lot
from app.domain.sessions import Phase, phase_at
from app.domain.side import Side

ZERO = Decimal(0)
ONE_SECOND = timedelta(seconds=1)


class TradingState(StrEnum):
    """nautilus's TradingState (STYLE.md §1.4)."""

    ACTIVE = "active"  # every order checked
    REDUCING = "reducing"  # only orders that reduce a position (sells)
    HALTED = "halted"  # no new order at all; cancels still go


@dataclass(frozen=True, slots=True)
class Allow:
    pass


@dataclass(frozen=True, slots=True)
class Deny:
    reason: str


@dataclass(frozen=True, slots=True)
class Resize:
    qty: int
    note: str


ALLOW = Allow()
Decision = Allow | Deny | Resize


class AccountView(Protocol):
    """What the gate reads of the account (the OMS's books, or a plain view in tests)."""

    def assets(self) -> tuple[Decimal, Decimal]:
        """(total assets, exposure): cash plus holdings; holdings plus what working buys hold."""
        ...

    def code_exposure(self, code: str) -> Decimal:
        """Value of the holding of `code` plus its working buys' rest."""
        ...

    def last_price(self, code: str) -> Decimal | None: ...

    def instrument(self, code: str) -> InstrumentInfo | None: ...


@dataclass(slots=True)
class PlainAccountView:
    """An account view of plain values (tests, benchmarks, what-if)."""

    cash: Decimal = ZERO
    holdings: dict[str, Decimal] | None = None  # code -> value of holding plus working buys
    prices: dict[str, Decimal] | None = None
    instruments: dict[str, InstrumentInfo] | None = None

    def assets(self) -> tuple[Decimal, Decimal]:
        held = sum((self.holdings or {}).values(), ZERO)
        return self.cash + held, held

    def code_exposure(self, code: str) -> Decimal:
        return (self.holdings or {}).get(code, ZERO)

    def last_price(self, code: str) -> Decimal | None:
        return (self.prices or {}).get(code)

    def instrument(self, code: str) -> InstrumentInfo | None:
        return (self.instruments or {}).get(code)


def _pct(value: Decimal) -> str:
    return f"{(value * 100).normalize():f}%"


class RiskGate:
    def __init__(
        self,
        limits: RiskLimits | None = None,
        state: TradingState = TradingState.ACTIVE,
        *,
        live_guard: LiveGuard | None = None,
    ) -> None:
        self.limits = limits if limits is not None else RiskLimits()
        self.state = state
        # A live setup's arming (app/core/risk/arming.py): no new order leaves unless armed; None in
        # the simulated setup, which it never affects.
        self.live_guard = live_guard
        self.quotes: dict[str, Quote] = {}  # the latest quote of each code (price cage)
        # the cage bound of (code, buy) computed from the quote it was computed from
        self._cages: dict[tuple[str, bool], tuple[Quote, Decimal | None]] = {}
        self._boards: dict[str, Board] = {}
        self._phase: tuple[int, Phase] = (-1, Phase.CLOSED)  # (minute of the day, phase)
        self._day: date | None = None
        self._stamps: deque[datetime] = deque()  # orders and cancels of the last second
        self.orders_today = 0
        self.cancels_today = 0
        self.bought_today: set[str] = set()
        self.turnover_today = ZERO
        self._recent: dict[tuple[object, ...], datetime] = {}  # duplicate window

    @property
    def limits(self) -> RiskLimits:
        return self._limits

    @limits.setter
    def limits(self, limits: RiskLimits) -> None:
        # what the hot path needs, worked out once per change of the settings
        self._limits = limits
        self._window = timedelta(seconds=float(limits.duplicate_window_s))
        self._cages = {}
        self._buy_lists = bool(
            limits.whitelist or limits.blacklist or limits.blocked_boards or limits.block_st
        )
        ratio = limits.max_cancel_ratio
        self._ratio = ratio.as_integer_ratio() if ratio else None  # exact, in integers
        self._sizing = bool(
            limits.max_order_qty
            or limits.max_order_value
            or limits.max_daily_turnover
            or limits.max_position_pct < 1
            or limits.max_account_position_pct < 1
        )

    # ------------------------------------------------------------------ bookkeeping
    def _roll(self, day: date) -> None:
        if day != self._day:
            self._day = day
            self.orders_today = self.cancels_today = 0
            self.bought_today = set()
            self.turnover_today = ZERO
            self._recent.clear()
            self._stamps.clear()

    def restore_day(self, day: date, orders: Iterable[Order]) -> None:
        """After a start: the day's counts from the day's orders (denied ones never left)."""
        self._day = None
        self._roll(day)
        for order in orders:
            if order.external or order.trading_day != day or order.status is OrderStatus.DENIED:
                continue
            self.orders_today += 1
            if order.status is OrderStatus.CANCELLED:
                self.cancels_today += 1
            if order.side is Side.BUY:
                self.bought_today.add(order.code)
            if order.price is not None:
                self.turnover_today += order.price * order.qty

    def on_quotes(self, quotes: Sequence[Quote]) -> None:
        book = self.quotes
        for quote in quotes:
            book[quote.code] = quote

    def accepted(self, order: Order, now: datetime, value: Decimal | None = None) -> None:
        """An order passed and was held: count it."""
        self._roll(order.trading_day)
        self.orders_today += 1
        self._stamps.append(now)
        if order.side is Side.BUY:
            self.bought_today.add(order.code)
        if value is not None:
            self.turnover_today += value
        if self._limits.duplicate_window_s:
            self._recent[_key(order)] = now

    def note_cancels(self, count: int, now: datetime) -> None:
        if count <= 0:
            return
        self._roll(now.date())  # A-shares trade within the calendar day
        self.cancels_today += count
        self._stamps.extend([now] * count)

    def rate_room(self, now: datetime) -> tuple[int, datetime | None]:
        """How many more orders or cancels `max_orders_per_second` lets through at `now`, and when the
        oldest one of the last second leaves the window (None: none in it). For pacing, not refusing."""
        count = self._last_second(now)
        free_at = self._stamps[0] + ONE_SECOND if self._stamps else None
        return self.limits.max_orders_per_second - count, free_at

    def _last_second(self, now: datetime) -> int:
        stamps = self._stamps
        edge = now - ONE_SECOND
        while stamps and stamps[0] <= edge:
            stamps.popleft()
        return len(stamps)

    # ------------------------------------------------------------------ the check
    def check(self, order: Order, view: AccountView, now: datetime) -> Decision:
        """Allow, deny (with the reason) or resize (with the note) one new order."""
        guard = self.live_guard
        if guard is not None:
            refusal = guard.refusal(now)
            if refusal is not None:
                return Deny(refusal)
        limits = self._limits
        buy = order.side is Side.BUY
        state = self.state
        if state is not TradingState.ACTIVE:
            if state is TradingState.HALTED:
                return Deny("风控：交易已停止 (risk: trading halted, no new orders)")
            if buy:
                return Deny("风控：只减仓状态，不接受买单 (risk: reducing only, buys refused)")
        self._roll(order.trading_day)
        # orders plus cancels: the exchanges' programmatic-trading ceilings (RULES.md B8)
        if self._last_second(now) >= limits.max_orders_per_second:
            return Deny(
                f"风控：每秒委托与撤单超过 {limits.max_orders_per_second} 笔 "
                f"(risk: more than {limits.max_orders_per_second} orders and cancels per second)"
            )
        if self.orders_today + self.cancels_today >= limits.max_orders_per_day:
            return Deny(
                f"风控：当日委托与撤单已达 {limits.max_orders_per_day} 笔 "
                f"(risk: {limits.max_orders_per_day} orders and cancels today)"
            )
        if limits.max_cancels_per_day and self.cancels_today >= limits.max_cancels_per_day:
            return Deny(
                f"风控：当日撤单已达 {limits.max_cancels_per_day} 笔，暂停新委托 "
                f"(risk: {self.cancels_today} cancels today, limit {limits.max_cancels_per_day})"
            )
        ratio = self._ratio
        if (
            ratio is not None
            and self.orders_today >= limits.cancel_ratio_min_orders
            and self.cancels_today * ratio[1] > ratio[0] * self.orders_today
        ):
            return Deny(
                f"风控：撤单比例过高 (risk: cancel ratio {self.cancels_today}/{self.orders_today} above "
                f"{_pct(limits.max_cancel_ratio)})"
            )
        code = order.code
        if buy and self._buy_lists:
            problem = self._list_problem(code, view)
            if problem is not None:
                return Deny(problem)
        info = view.instrument(code)
        last = view.last_price(code)
        if info is not None and last is not None:
            if buy and limits.no_buy_at_limit_up and info.up_limit is not None and last >= info.up_limit:
                return Deny(
                    f"风控：涨停不买入 (risk: no buy at the up limit {info.up_limit}), {code} last {last}"
                )
            if (
                not buy
                and limits.no_sell_at_limit_down
                and info.down_limit is not None
                and last <= info.down_limit
            ):
                return Deny(
                    f"风控：跌停不卖出 (risk: no sell at the down limit {info.down_limit}), {code} last {last}"
                )
        price = order.price
        if price is not None:
            deviation = limits.max_price_deviation_pct
            if deviation and last is not None and last > 0 and abs(price - last) > deviation * last:
                return Deny(
                    f"风控：价格偏离最新价超过 {_pct(limits.max_price_deviation_pct)} "
                    f"(risk: price {price} too far from the last price {last}), {code}"
                )
            if limits.price_cage:
                problem = self._cage_problem(order, price, last, info, now)
                if problem is not None:
                    return Deny(problem)
        if limits.duplicate_window_s:
            seen = self._recent.get(_key(order))
            if seen is not None and now - seen < self._window:
                return Deny(
                    f"风控：{limits.duplicate_window_s} 秒内重复委托 (risk: same order as one placed at "
                    f"{seen:%H:%M:%S}), {code} {order.side.value} {order.qty}@{price}"
                )
        most = limits.max_new_buys_per_day
        if buy and most and code not in self.bought_today and len(self.bought_today) >= most:
            return Deny(
                f"风控：当日买入股票数已达 {limits.max_new_buys_per_day} 支 "
                f"(risk: {len(self.bought_today)} codes bought today, limit {limits.max_new_buys_per_day})"
            )
        if not self._sizing:
            return ALLOW
        return self._size(order, view, price if price is not None else _unit_price(order, info, last))

    def _list_problem(self, code: str, view: AccountView) -> str | None:
        limits = self._limits
        if limits.whitelist and code not in limits.whitelist:
            return f"风控：不在白名单 (risk: {code} is not on the whitelist)"
        if limits.blacklist and code in limits.blacklist:
            return f"风控：黑名单不买入 (risk: {code} is on the blacklist)"
        if limits.blocked_boards or limits.block_st:
            board = self._boards.get(code)
            if board is None:
                try:
                    board = self._boards[code] = classify(code).board
                except DomainError:
                    return None  # the exchange rules already refused it
            if board.value in limits.blocked_boards:
                return f"风控：板块禁止买入 (risk: board {board.value} blocked), {code}"
            info = view.instrument(code)
            if limits.block_st and info is not None and info.st:
                return f"风控：ST 股票禁止买入 (risk: ST stocks blocked), {code} {info.name}"
        return None

    def _cage_problem(
        self, order: Order, price: Decimal, last: Decimal | None, info: InstrumentInfo | None, now: datetime
    ) -> str | None:
        """RULES.md B6: continuous trading only, limit orders; constants are settings."""
        minute = now.hour * 60 + now.minute
        if self._phase[0] != minute:
            self._phase = (minute, phase_at(now.time()))
        if self._phase[1] is not Phase.CONTINUOUS:
            return None
        buy = order.side is Side.BUY
        quote = self.quotes.get(order.code)
        if quote is not None:
            cached = self._cages.get((order.code, buy))
            if cached is not None and cached[0] is quote:
                bound = cached[1]
            else:
                bound = self._cage_bound(order.code, buy, quote, last, info)
                self._cages[(order.code, buy)] = (quote, bound)
        else:
            bound = self._cage_bound(order.code, buy, None, last, info)
        if bound is None:
            return None
        if buy and price > bound:
            return f"风控：买价超出价格笼子 (risk: buy price {price} above the price cage {bound})"
        if not buy and price < bound:
            return f"风控：卖价超出价格笼子 (risk: sell price {price} below the price cage {bound})"
        return None

    def _cage_bound(
        self, code: str, buy: bool, quote: Quote | None, last: Decimal | None, info: InstrumentInfo | None
    ) -> Decimal | None:
        """The highest buy or lowest sell price the cage allows, or None (no reference price)."""
        try:
            instrument = classify(code)
        except DomainError:
            return None
        bid = quote.bid_prices[0] if quote is not None and quote.bid_prices else None
        ask = quote.ask_prices[0] if quote is not None and quote.ask_prices else None
        base = None
        for value in (ask, bid) if buy else (bid, ask):
            if value is not None and value > 0:
                base = value
                break
        if base is None:
            base = last if last is not None else (info.prev_close if info is not None else None)
        if base is None or base <= 0:
            return None
        limits = self._limits
        board = instrument.board
        pct = limits.cage_pct_bse if board is Board.BSE else limits.cage_pct
        ticks = 0 if board is Board.STAR else limits.cage_ticks
        tick = instrument.tick
        if buy:
            return _round_half_up(max(base * (1 + pct), base + ticks * tick), tick)
        return max(_round_half_up(min(base * (1 - pct), base - ticks * tick), tick), tick)

    def _size(self, order: Order, view: AccountView, price: Decimal | None) -> Decision:
        """Caps that cut the quantity down to a valid lot; a cap leaving no valid lot denies."""
        limits = self._limits
        qty = order.qty
        cut: list[str] = []
        if limits.max_order_qty and qty > limits.max_order_qty:
            qty = limits.max_order_qty
            cut.append(f"单笔数量上限 {limits.max_order_qty} 股 (max order qty)")
        if price is not None and price > 0:
            if limits.max_order_value and price * qty > limits.max_order_value:
                qty = min(qty, _shares(limits.max_order_value, price))
                cut.append(f"单笔金额上限 {limits.max_order_value} (max order value)")
            if limits.max_daily_turnover:
                room = limits.max_daily_turnover - self.turnover_today
                if price * qty > room:
                    qty = min(qty, _shares(max(room, ZERO), price))
                    cut.append(f"当日成交额上限 {limits.max_daily_turnover} (daily turnover cap)")
            if order.side is Side.BUY and (
                limits.max_position_pct < 1 or limits.max_account_position_pct < 1
            ):
                total, exposure = view.assets()
                if limits.max_position_pct < 1:
                    room = limits.max_position_pct * total - view.code_exposure(order.code)
                    if price * qty > room:
                        qty = min(qty, _shares(max(room, ZERO), price))
                        cut.append(
                            f"个股仓位上限 {_pct(limits.max_position_pct)} (max position per instrument)"
                        )
                if limits.max_account_position_pct < 1:
                    room = limits.max_account_position_pct * total - exposure
                    if price * qty > room:
                        qty = min(qty, _shares(max(room, ZERO), price))
                        cut.append(
                            f"账户仓位上限 {_pct(limits.max_account_position_pct)} (max account position)"
                        )
        if not cut:
            return ALLOW
        try:
            valid = round_down_to_lot(order.code, qty)
        except DomainError:
            valid = 0
        why = "、".join(cut)
        if valid <= 0:
            return Deny(
                f"风控：{why}，不足一手 (risk: no valid lot left under the cap), {order.code} was {order.qty}"
            )
        if valid >= order.qty:
            return ALLOW
        return Resize(
            valid, f"风控减量 {order.qty}→{valid} 股：{why} (risk: quantity cut from {order.qty} to {valid})"
        )


def _key(order: Order) -> tuple[object, ...]:
    return (order.code, order.side, order.qty, order.price, order.price_type)


def _shares(value: Decimal, price: Decimal) -> int:
    return int((value / price).to_integral_value(rounding=ROUND_FLOOR))


def _round_half_up(value: Decimal, tick: Decimal) -> Decimal:
    return (value / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP) * tick


def _unit_price(order: Order, info: InstrumentInfo | None, last: Decimal | None) -> Decimal | None:
    """The price a market order is valued at: a buy at the up limit (what its cash is held at), else
    the last price."""
    if order.reserve_price is not None:
        return order.reserve_price
    if order.side is Side.BUY and info is not None and info.up_limit is not None:
        return info.up_limit
    return last
