"""The simulated counter's books and rules: what happens to each order, cancel and quote.

One Counter lives on the broker's thread and is never shared. It changes its books in memory,
records every change in `batch` (for the broker to commit) and every report in `out` (for the
broker to push after the commit). It knows nothing of threads or files: broker.py does that.
While the link is down (`link_up` False) reports are dropped as they are made, except the
"未连接" answers to submits and cancels, so a caller is never left waiting.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from app.domain.calendar import TradingCalendar
from app.domain.clock import CN_TZ
from app.domain.errors import UnknownInstrumentError
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, Quote
from app.domain.orders import OrderStatus, PriceType
from app.domain.reports import (
    BrokerReport,
    CancelErrorReport,
    CancelOrder,
    ConnectionChanged,
    SubmitOrder,
    SubmitResponse,
    TradeReport,
)
from app.domain.sessions import Phase, can_cancel_at, phase_at
from app.domain.side import Side
from app.gateways.sim.acceptance import RELEASED, Acceptance, CodeDay
from app.gateways.sim.matching import BEST_FIVE, Book, auction_allocation, by_priority
from app.gateways.sim.state import (
    CLOSE_CALL,
    CONTINUOUS,
    OPEN_CALL,
    PRE_OPEN,
    ZERO,
    SimOrder,
    SimPosition,
    iso,
    minted_trade_id,
    text,
)
from app.gateways.sim.store import Batch, Loaded, instrument_row

__all__ = ["NOT_CONNECTED", "Counter", "discard"]

log = logging.getLogger(__name__)

# RULES B5: the open print comes at 9:25 (end of the opening call), the close print at 15:00.
OPEN_PRINT = time(9, 25)
CLOSE_PRINT = time(15, 0)

NOT_CONNECTED = "未连接 (not connected to the simulated broker)"
_FINAL_NAMES = {
    OrderStatus.FILLED: "已成",
    OrderStatus.CANCELLED: "已撤",
    OrderStatus.REJECTED: "废单",
    OrderStatus.EXPIRED: "已失效",
}
_SIDES = {Side.BUY: Side.BUY, Side.SELL: Side.SELL, "buy": Side.BUY, "sell": Side.SELL}
# Enum members as module globals: a class-attribute lookup of an enum member costs 0.1 µs in 3.11.
BUY = Side.BUY
LIMIT = PriceType.LIMIT
ACCEPTED, FILLED, PARTIALLY_FILLED = OrderStatus.ACCEPTED, OrderStatus.FILLED, OrderStatus.PARTIALLY_FILLED
PENDING_CANCEL = OrderStatus.PENDING_CANCEL
CANCELLED_MSG = "撤单成功 (cancelled at the client's request)"


def discard(report: BrokerReport) -> None:
    """Where reports go while the link is down: nowhere (QMT loses them too)."""


class Counter:
    """The books (cash, positions, orders, trades, quotes) and what the counter does with them."""

    def __init__(
        self,
        loaded: Loaded,
        checks: Acceptance,
        *,
        participation: Decimal,
        seed: int,
        calendar: TradingCalendar,
        cancel_window: timedelta = timedelta(0),
    ) -> None:
        self._checks = checks
        # The pending-cancel window (RULES_SIM S6): a cancel the counter has taken is confirmed by
        # the exchange this much later; until then the order shows PENDING_CANCEL and can still fill.
        self._cancel_window = cancel_window
        self._cancel_due: list[tuple[datetime, int]] = []  # (confirmation time, order id), a heap
        self._fee = checks.fee
        self._participation = participation
        self._seed = seed
        self._calendar = calendar
        self.out: list[BrokerReport] = []  # reports of the batch in progress
        self.batch = Batch()  # changes of the batch in progress
        self.link_up = False
        self.emit: Callable[[BrokerReport], None] = discard
        meta = loaded.meta
        self.account_id = meta["account_id"]
        self._cash = Decimal(meta["cash"])
        self._deposits = Decimal(meta["deposits"])
        self._next_oid = int(meta["next_order_id"])
        self._next_tid = int(meta["next_trade_id"])
        self._day_first_oid = int(meta["day_first_order_id"])
        self._day_first_tid = int(meta["day_first_trade_id"])
        self._day: date | None = date.fromisoformat(meta["trading_day"]) if meta["trading_day"] else None
        self._positions: dict[str, SimPosition] = {p.code: p for p in loaded.positions}
        self._orders: dict[int, SimOrder] = {o.oid: o for o in loaded.orders}
        self._working: dict[str, dict[int, SimOrder]] = {}
        self._frozen = ZERO
        for order in loaded.working:
            self._orders.setdefault(order.oid, order)
            self._working.setdefault(order.code, {})[order.oid] = order
            self._frozen += order.frozen_cash
        self._codes: dict[str, CodeDay] = {}
        for info in loaded.instruments:
            self._add_code(info)
        self._books: dict[str, Book] = {
            code: Book(
                last=Decimal(last) if last else None,
                volume=volume,
                opened=bool(opened),
                closed=bool(closed),
                call_base=call_base,
            )
            for code, last, volume, opened, closed, call_base in loaded.marks
        }
        self._seen_date: date | None = None
        self._warned: set[str] = set()  # codes whose quotes were out of the limits today (logged once)
        for order in loaded.working:
            if order.status is OrderStatus.PENDING_CANCEL:  # taken before a restart: still confirmed
                heapq.heappush(self._cancel_due, (order.updated + cancel_window, order.oid))

    def _add_code(self, info: InstrumentInfo) -> CodeDay:
        ctx = CodeDay(info)
        self._codes[ctx.code] = ctx
        if info.code != ctx.code:
            self._codes[info.code] = ctx
        return ctx

    def meta(self) -> dict[str, str]:
        return {
            "cash": str(self._cash),
            "deposits": str(self._deposits),
            "next_order_id": str(self._next_oid),
            "next_trade_id": str(self._next_tid),
            "trading_day": self._day.isoformat() if self._day else "",
            "day_first_order_id": str(self._day_first_oid),
            "day_first_trade_id": str(self._day_first_tid),
        }

    def set_link(self, up: bool) -> None:
        self.link_up = up
        self.emit = self.out.append if up else discard

    def roll_if_due(self, ts: datetime) -> None:
        """A counter rolls to a new trading day by itself when the clock reaches it."""
        today = ts.date()
        if today == self._seen_date:
            return
        self._seen_date = today
        if (self._day is None or today > self._day) and self._calendar.is_trading_day(today):
            self.begin_day(ts, today)

    def link(self, ts: datetime, up: bool, reason: str) -> None:
        """The connection goes up or down; the change is pushed while the link is up."""
        if up == self.link_up:
            return
        if up:
            self.set_link(True)
            self.emit(ConnectionChanged(True, reason, ts))
        else:
            self.emit(ConnectionChanged(False, reason, ts))
            self.set_link(False)

    def set_instruments(self, ts: datetime, infos: tuple[InstrumentInfo, ...]) -> None:
        """Reference data by code, replacing what was known of those codes."""
        for info in infos:
            ctx = self._add_code(info)
            stored = info if info.code == ctx.code else replace(info, code=ctx.code)
            self.batch.instruments.append(instrument_row(stored))
        self._checks.new_day()

    def begin_day(self, ts: datetime, day: date) -> None:
        """Roll to `day`: working orders expire (day orders), positions settle (T+1)."""
        if self._day is not None and day <= self._day:
            if day == self._day:
                return
            raise ValueError(f"begin_day cannot go back: the counter is on {self._day}, was {day}")
        if not self._calendar.is_trading_day(day):
            raise ValueError(f"begin_day needs a trading day, was {day} ({day:%A})")
        for orders in list(self._working.values()):
            for order in list(orders.values()):
                self._end(order, OrderStatus.EXPIRED, "当日有效委托已失效 (day order expired overnight)", ts)
        for code, position in list(self._positions.items()):
            position.settled = position.total  # T+1: yesterday's buys settle (RULES B4)
            position.frozen = 0
            if position.total == 0:
                del self._positions[code]
                self.batch.deleted_positions.add(code)
                self.batch.positions.pop(code, None)
            else:
                self.batch.positions[code] = position
        self._day = day
        self._day_first_oid = self._next_oid
        self._day_first_tid = self._next_tid
        self._orders = {}
        self._cancel_due = []
        self._warned = set()
        self._checks.new_day()
        for code, book in list(self._books.items()):
            self._books[code] = Book(last=book.last)
            self._mark(code, self._books[code])

    def end_day(self, ts: datetime) -> None:
        """The exchange cancels every order still working at the close."""
        for orders in list(self._working.values()):
            for order in sorted(orders.values(), key=lambda o: o.oid):
                self._end(
                    order, OrderStatus.CANCELLED, "收市撤单 (cancelled by the exchange at the close)", ts
                )

    def set_position(self, ts: datetime, code: str, qty: int, avg_price: Decimal) -> None:
        """Seed settled shares (arguments checked by the broker)."""
        if self._working.get(code):
            raise ValueError(f"set_position: {code} has working orders; cancel them first")
        if qty == 0:
            if self._positions.pop(code, None) is not None:
                self.batch.deleted_positions.add(code)
            self.batch.positions.pop(code, None)
            return
        position = SimPosition(code, qty, qty, 0, avg_price)
        self._positions[code] = position
        self.batch.positions[code] = position
        self.batch.deleted_positions.discard(code)

    def deposit(self, ts: datetime, amount: Decimal) -> None:
        """Cash in (argument checked by the broker)."""
        self._cash += amount
        self._deposits += amount

    # ================================================================== orders, cancels, quotes
    def submit(self, command: SubmitOrder, ts: datetime) -> None:
        """A new order: SubmitResponse, then REJECTED with the reason, or ACCEPTED and matching."""
        if not self.link_up:
            self.out.append(SubmitResponse(command.client_order_id, None, ts, NOT_CONNECTED))
            return
        oid = self._next_oid
        self._next_oid = oid + 1
        ctx = self._codes.get(command.code) or self._code_day(command.code)
        known = not isinstance(ctx, str)
        price_type = command.price_type
        order = SimOrder(
            oid,
            command.client_order_id,
            ctx.code if known else str(command.code),  # type: ignore[union-attr]
            _SIDES.get(command.side, BUY),
            command.qty,
            command.price,
            price_type if isinstance(price_type, PriceType) else LIMIT,
            command.strategy_id,
            self._sysid(oid),
            self._day or ts.date(),
            ts,
        )
        self._orders[oid] = order
        self.batch.orders[oid] = order
        self.emit(SubmitResponse(command.client_order_id, order.boid, ts))
        if not known:
            reason: str | None = ctx  # type: ignore[assignment]
        elif command.side not in _SIDES:
            reason = f"买卖方向错误 (side must be buy or sell, was {command.side!r})"
        elif not isinstance(price_type, PriceType):
            reason = f"不支持的价格类型 (unknown price type, was {price_type!r})"
        else:
            code = order.code
            reason = self._checks.refusal(
                order,
                ctx,  # type: ignore[arg-type]
                ts,
                day=self._day,
                position=self._positions.get(code),
                available_cash=self._cash - self._frozen,
                book=self._books.get(code),
            )
        if reason is not None:
            order.status = OrderStatus.REJECTED
            order.msg = reason
            self.emit(order.report())
            return
        self._accept(order, ctx, ts)  # type: ignore[arg-type]

    def cancel(self, request: CancelOrder, ts: datetime) -> None:
        """PENDING_CANCEL then CANCELLED (the filled part kept), or a CancelErrorReport."""
        boid = request.broker_order_id
        if not self.link_up:
            self.out.append(CancelErrorReport(request.client_order_id, boid, NOT_CONNECTED, ts))
            return
        order = self._orders.get(int(boid)) if str(boid).isdigit() else None
        if order is None:
            self.emit(
                CancelErrorReport(request.client_order_id, boid, f"委托不存在 (no order {boid} today)", ts)
            )
            return
        if order.status.is_final:
            name = _FINAL_NAMES.get(order.status, order.status.value)
            self.emit(
                CancelErrorReport(
                    order.coid,
                    boid,
                    f"委托{name}，不能撤单 (order {boid} is {order.status.value}: nothing to cancel)",
                    ts,
                )
            )
            return
        ctx = self._code_day(order.code)
        exchange = ctx.exchange if isinstance(ctx, CodeDay) else classify(order.code).exchange
        t = ts.time()
        if not can_cancel_at(t, exchange):
            self.emit(
                CancelErrorReport(
                    order.coid,
                    boid,
                    f"当前时段不允许撤单 (no cancels at {t:%H:%M:%S}: 9:20–9:25, 14:57–15:00 and outside trading)",
                    ts,
                )
            )
            return
        if order.status is OrderStatus.PENDING_CANCEL:  # asked again while the first is on its way
            self.emit(order.report())
            return
        # xt 51/52, then 54/53 once the exchange confirms: at once without a window; with one, the
        # order keeps matching until then (a fill can come between the request and the confirmation).
        order.status = OrderStatus.PENDING_CANCEL
        order.updated = ts
        self.batch.orders[order.oid] = order
        self.emit(order.report())
        if self._cancel_window:
            heapq.heappush(self._cancel_due, (ts + self._cancel_window, order.oid))
            return
        self._end(order, OrderStatus.CANCELLED, CANCELLED_MSG, ts)

    def next_cancel_due(self) -> datetime | None:
        """When the earliest pending cancel is confirmed by the exchange, or None."""
        return self._cancel_due[0][0] if self._cancel_due else None

    def confirm_cancel(self) -> None:
        """The exchange answers the earliest pending cancel, at its time: cancelled (the filled part
        kept), or refused if the order filled completely in the meantime."""
        due, oid = heapq.heappop(self._cancel_due)
        self.roll_if_due(due)
        order = self._orders.get(oid)
        if order is None or order.day != self._day:
            return  # yesterday's: it expired at the day's roll
        if order.status is OrderStatus.PENDING_CANCEL:
            self._end(order, OrderStatus.CANCELLED, CANCELLED_MSG, due)
        elif order.status is FILLED:
            self.emit(
                CancelErrorReport(
                    order.coid,
                    order.boid,
                    f"委托已全部成交，撤单失败 (order {order.boid} filled before the cancel reached the exchange)",
                    due,
                )
            )

    def on_quote(self, quote: Quote) -> None:
        """A snapshot: the auction prints, or continuous matching of resting orders (matching.py)."""
        ts = quote.ts.astimezone(CN_TZ)
        if self._day is None or ts.date() != self._day:
            return  # another day's snapshot: nothing to match
        ctx = self._code_day(quote.code)
        if isinstance(ctx, str):
            return  # no reference data for it today: it cannot trade here
        code = ctx.code
        quote = self._within_limits(quote, ctx)
        book = self._books.get(code)
        if book is None:
            book = self._books[code] = Book()
        participation = self._participation
        t = ts.time()
        if quote.suspended or ctx.suspended:
            if quote.last > 0:
                book.last = quote.last
        elif t >= CLOSE_PRINT:
            if not book.closed:
                base = book.call_base if book.call_base is not None else book.volume
                book.refresh(quote, participation, baseline=False)
                if book.opened:
                    self._call_auction(ctx, book, quote.last, quote.volume - base, ts, None)
                book.closed = True
            else:
                book.refresh(quote, participation, baseline=False)
        elif t >= OPEN_PRINT and not book.opened:
            # The open print: the first snapshot at or after 9:25 (RULES B5).
            book.refresh(quote, participation, baseline=False)
            price = quote.open if quote.open > 0 else quote.last
            self._call_auction(ctx, book, price, quote.volume, ts, OPEN_CALL)
            book.opened = True
            if phase_at(t, ctx.exchange) is Phase.CONTINUOUS:
                self._match_resting(ctx, book, ts)
        else:
            phase = phase_at(t, ctx.exchange)
            if phase is Phase.CONTINUOUS:
                # The previous volume is a baseline only if a snapshot of today came before (or
                # its volume survived a restart in the marks): not the day's first one.
                book.refresh(quote, participation, baseline=book.quote is not None or book.volume > 0)
                self._match_resting(ctx, book, ts)
            else:
                if phase is Phase.CLOSING_AUCTION and book.call_base is None:
                    book.call_base = book.volume
                book.refresh(quote, participation, baseline=False)
        self._mark(code, book)

    # ================================================================== inside
    def _within_limits(self, quote: Quote, ctx: CodeDay) -> Quote:
        """The snapshot with nothing outside the day's limits (RULES_SIM S5): levels priced outside
        them (or at 0 or less) are dropped, a last or open price outside them is clamped to the
        limit, each with a warning in the log. No fill can then come from outside the limits."""
        up, down = ctx.up, ctx.down
        last, open_ = quote.last, quote.open
        bids, asks = quote.bid_prices, quote.ask_prices
        # Levels are best first (the Quote contract), so the outermost prices are at the ends: two
        # comparisons a side instead of one a level (this runs on every snapshot).
        if up is None or down is None:
            bad_price = False
            bad_level = bool(bids and bids[-1] <= 0) or bool(asks and asks[0] <= 0)
        else:
            bad_price = last > up or open_ > up or 0 < last < down or 0 < open_ < down
            bad_level = bool(bids and (bids[0] > up or bids[-1] < down)) or bool(
                asks and (asks[0] < down or asks[-1] > up)
            )
        if not bad_price and not bad_level:
            return quote
        changes: dict[str, object] = {}
        if bad_price:
            assert up is not None and down is not None
            changes["last"] = min(max(last, down), up) if last > 0 else last
            changes["open"] = min(max(open_, down), up) if open_ > 0 else open_
        if bad_level:

            def inside(price: Decimal) -> bool:
                return price > 0 and (up is None or down is None or down <= price <= up)

            kept_bids = [(p, v) for p, v in zip(bids, quote.bid_volumes, strict=False) if inside(p)]
            kept_asks = [(p, v) for p, v in zip(asks, quote.ask_volumes, strict=False) if inside(p)]
            changes["bid_prices"] = tuple(p for p, _ in kept_bids)
            changes["bid_volumes"] = tuple(v for _, v in kept_bids)
            changes["ask_prices"] = tuple(p for p, _ in kept_asks)
            changes["ask_volumes"] = tuple(v for _, v in kept_asks)
        warn = log.debug if quote.code in self._warned else log.warning
        self._warned.add(quote.code)
        warn(
            "行情超出涨跌停价格 (quote outside the day's limits %s–%s): %s at %s, last %s open %s "
            "bids %s asks %s; %s",
            down,
            up,
            quote.code,
            quote.ts,
            last,
            open_,
            [str(p) for p in bids],
            [str(p) for p in asks],
            "prices clamped to the limits, levels outside them dropped",
        )
        return replace(quote, **changes)  # type: ignore[arg-type]

    def _sysid(self, oid: int) -> str:
        # The exchange's contract number: unique per order, salted by the seed (no meaning beyond).
        return f"{(oid * 2654435761 + self._seed * 40503) % 1_000_000_000:09d}"

    def _code_day(self, code: str) -> CodeDay | str:
        ctx = self._codes.get(code)
        if ctx is not None:
            return ctx
        try:
            normalized = classify(code).code
        except (UnknownInstrumentError, TypeError) as exc:
            return f"证券代码不存在 (unknown security code): {exc}"
        ctx = self._codes.get(normalized)
        if ctx is None:
            return f"证券代码不存在 (no reference data today for {normalized})"
        self._codes[code] = ctx
        return ctx

    def _accept(self, order: SimOrder, ctx: CodeDay, ts: datetime) -> None:
        order.status = ACCEPTED
        if order.side is BUY:
            self._frozen += order.frozen_cash
        else:
            position = self._positions[order.code]
            position.frozen += order.qty
            order.frozen_shares = order.qty
            self.batch.positions[order.code] = position
        self.emit(order.report())
        if order.session == CONTINUOUS:
            if order.price_type is LIMIT:
                book = self._books.get(ctx.code)
                if book is not None and book.quote is not None and not order.held:
                    self._take(order, book, order.work_price, ts, ctx)
            else:
                self._arrive_market(order, ctx, ts)
        if order.status is ACCEPTED or order.status is PARTIALLY_FILLED:
            self._working.setdefault(order.code, {})[order.oid] = order

    def _arrive_market(self, order: SimOrder, ctx: CodeDay, ts: datetime) -> None:
        """A market order arrives in continuous trading (model rule 2; RULES A3 price types).

        `order.protection` (STAR, RULES_SIM S7) bounds every fill and the price a remainder
        converts to: a buy never above it, a sell never below it."""
        book = self._books.get(ctx.code)
        quote = book.quote if book else None
        price_type = order.price_type
        side = order.side
        buy = side is Side.BUY
        protection = order.protection
        if quote is None:
            self._end(
                order,
                OrderStatus.CANCELLED,
                "无对手方报价，市价委托撤销 (no quotes: market order cancelled)",
                ts,
            )
            return
        assert book is not None
        if price_type is PriceType.FOK:
            available = book.available(side, protection)
            if available < order.qty:
                self._end(
                    order,
                    OrderStatus.CANCELLED,
                    f"全额成交或撤销未能全部成交 (fill-or-kill: only {available} of {order.qty} available)",
                    ts,
                )
                return
        if price_type is PriceType.PEER_BEST or price_type is PriceType.OWN_BEST:
            peer = price_type is PriceType.PEER_BEST
            best = (
                (book.best_ask if buy else book.best_bid)
                if peer
                else (book.best_bid if buy else book.best_ask)
            )
            if best is None:
                which = "对手方" if peer else "本方"
                self._end(
                    order,
                    OrderStatus.CANCELLED,
                    f"{which}无申报，市价委托撤销 (no {'opposite' if peer else 'own'}-side quote: cancelled)",
                    ts,
                )
                return
            order.work_price = _bounded(best, protection, buy)
            if peer:
                self._take(order, book, order.work_price, ts, ctx)
            return
        fills = self._take(order, book, protection, ts, ctx)
        if order.status.is_final:
            return
        if price_type is PriceType.BEST5_TO_LIMIT:
            # SSE: the rest becomes a limit order at its last fill price; with no fill, at the best
            # price on its own side; with no order on its own side it is cancelled (RULES_SIM S3).
            own = book.best_bid if buy else book.best_ask
            rest_at = fills[-1][0] if fills else own
            if rest_at is not None:
                order.work_price = _bounded(rest_at, protection, buy)
                return
            self._end(
                order,
                OrderStatus.CANCELLED,
                "最优五档无成交且本方无申报，申报撤销 (best five: no fill and no order on its own side: cancelled)",
                ts,
            )
            return
        unfilled = order.open_qty
        self._end(
            order,
            OrderStatus.CANCELLED,
            f"即时成交剩余撤销 (the unfilled {unfilled} of {order.qty} cancelled)",
            ts,
        )

    def _take(
        self, order: SimOrder, book: Book, limit: Decimal | None, ts: datetime, ctx: CodeDay
    ) -> list[tuple[Decimal, int]]:
        """Fill against the displayed opposite levels at no worse than `limit`, each at the level's
        own price: what the market shows is what it offers, to an arriving order and to a resting
        one's remainder alike (model rules 2 and 3)."""
        fills = book.take(order.side, limit, order.qty - order.filled_qty, BEST_FIVE)
        fill = self._fill
        for price, shares in fills:
            fill(order, price, shares, ts, ctx)
        return fills

    def _fill(self, order: SimOrder, price: Decimal, qty: int, ts: datetime, ctx: CodeDay) -> None:
        code = order.code
        side = order.side
        amount = price * qty
        cumulative = order.filled_amount + amount
        # Fees per fill: the order's fee on its cumulative turnover minus what it already paid, so
        # the fills add up to the order's fee and the ¥5 minimum is charged once (RULES B7).
        side_key = "buy" if side is BUY else "sell"
        fee = self._fee(code, side_key, cumulative) - order.fees
        filled = order.filled_qty + qty
        done = filled >= order.qty
        order.filled_qty = filled
        order.filled_amount = cumulative
        order.fees += fee
        order.updated = ts
        if done:
            order.status = FILLED
        elif order.status is not PENDING_CANCEL:  # xt 52: part-filled, the cancel still on its way
            order.status = PARTIALLY_FILLED
        tid = self._next_tid
        self._next_tid = tid + 1
        batch = self.batch
        position = self._positions.get(code)
        if side is BUY:
            self._cash -= amount + fee
            if position is None:
                position = self._positions[code] = SimPosition(code)
                batch.deleted_positions.discard(code)
            position.add(qty, amount, fee, ctx.t0)
            old = order.frozen_cash
            if done:
                new = ZERO
            else:
                # Still enough for the rest at the freeze price plus the fees it could still cost.
                rest = order.freeze_price * (order.qty - filled)  # type: ignore[operator]
                new = min(old, rest + max(ZERO, self._fee(code, side_key, cumulative + rest) - order.fees))
            order.frozen_cash = new
            self._frozen += new - old
        else:
            self._cash += amount - fee
            assert position is not None
            position.remove(qty)
            order.frozen_shares -= qty
        batch.positions[code] = position
        batch.orders[order.oid] = order
        batch.trades.append(
            (tid, order.oid, order.coid, code, side, qty, str(price), str(amount), str(fee), iso(ts), iso(order.day),
             order.sysid)
        )  # fmt: skip
        emit = self.emit
        if emit is not discard:
            emit(
                TradeReport(
                    minted_trade_id(tid),
                    order.boid,
                    order.coid,
                    code,
                    side,
                    qty,
                    price,
                    amount,
                    fee,
                    ts,
                    order.sysid,
                )
            )
            emit(order.report())
        if done:
            working = self._working.get(code)
            if working is not None:
                working.pop(order.oid, None)

    def _end(self, order: SimOrder, status: OrderStatus, msg: str, ts: datetime) -> None:
        """The order ends unfilled (cancelled, expired): release what it froze, report it."""
        if order.frozen_cash:
            self._frozen -= order.frozen_cash
            order.frozen_cash = ZERO
        if order.frozen_shares:
            position = self._positions[order.code]
            position.frozen -= order.frozen_shares
            order.frozen_shares = 0
            self.batch.positions[order.code] = position
        order.status = status
        order.msg = msg
        order.updated = ts
        self.batch.orders[order.oid] = order
        working = self._working.get(order.code)
        if working is not None:
            working.pop(order.oid, None)
        self.emit(order.report())

    def _mark(self, code: str, book: Book) -> None:
        self.batch.marks[code] = (
            code,
            text(book.last),
            book.volume,
            int(book.opened),
            int(book.closed),
            book.call_base,
        )

    def _call_auction(
        self, ctx: CodeDay, book: Book, price: Decimal, volume: int, ts: datetime, session: str | None
    ) -> None:
        """Fill the call-auction orders at the print (model rule 4); `session` None: every working order."""
        working = self._working.get(ctx.code)
        if not working or price <= 0 or volume <= 0:
            return
        budget = int(volume * self._participation)
        for side in (Side.BUY, Side.SELL):
            if book.locked_against(side, price, ctx.up, ctx.down):
                continue
            candidates = [
                (o, o.open_qty)
                for o in working.values()
                if o.side is side and (session is None or o.session == session)
            ]
            for order, shares in auction_allocation(candidates, side, price, budget, volume):
                self._fill(order, price, shares, ts, ctx)

    def _match_resting(self, ctx: CodeDay, book: Book, ts: datetime) -> None:
        """A new continuous snapshot: resting orders match (model rule 3)."""
        working = self._working.get(ctx.code)
        if not working:
            return
        for order in working.values():
            if order.held and self._checks.in_cage(order, ctx, book):
                # Released into the book (SZSE holds, RULES_SIM S2): it arrives now, and says so.
                order.held = False
                order.msg = RELEASED
                order.updated = ts
                self.batch.orders[order.oid] = order
                self.emit(order.report())
            if order.session == PRE_OPEN:
                order.session = CONTINUOUS  # 9:25–9:30 orders enter the book at 9:30
                self.batch.orders[order.oid] = order
        for side in (Side.BUY, Side.SELL):
            for order in by_priority(list(working.values()), side):
                if order.held or order.session == CLOSE_CALL or order.status.is_final:
                    continue
                limit = order.work_price
                assert limit is not None
                self._take(order, book, limit, ts, ctx)
                if order.status.is_final:
                    continue
                shares = book.take_traded(side, limit, order.open_qty)
                if shares:
                    self._fill(order, limit, shares, ts, ctx)


def _bounded(price: Decimal, protection: Decimal | None, buy: bool) -> Decimal:
    """`price` no worse than the protection price: a buy at most it, a sell at least it."""
    if protection is None:
        return price
    return min(price, protection) if buy else max(price, protection)
