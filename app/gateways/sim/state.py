"""The simulated counter's books in memory: orders and positions, and their rows in its file.

Mutable and owned by the broker thread; what leaves the broker are the immutable reports built here.
Money is Decimal and is stored as TEXT (str(Decimal) round-trips exactly).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.money import avg_cost_after_buy, realized_pnl
from app.domain.orders import OrderStatus, PriceType
from app.domain.reports import BrokerPosition, OrderReport, TradeReport
from app.domain.side import Side

ZERO = Decimal(0)
AVG_QUANTUM = Decimal("0.0001")  # average prices are shown to 4 places, as QMT does to 3

# Where an order entered, which decides how it matches (see matching.py).
OPEN_CALL = "open_call"  # 9:15–9:25: takes part in the open print
PRE_OPEN = "pre_open"  # 9:25–9:30: accepted, matched from the first continuous snapshot
CONTINUOUS = "continuous"  # matched on arrival
CLOSE_CALL = "close_call"  # 14:57–15:00: waits for the close print

ORDER_COLUMNS = (
    "broker_order_id",
    "client_order_id",
    "code",
    "side",
    "qty",
    "price",
    "price_type",
    "status",
    "filled_qty",
    "filled_amount",
    "fees",
    "frozen_cash",
    "frozen_shares",
    "status_msg",
    "order_sysid",
    "strategy_id",
    "trading_day",
    "created_at",
    "updated_at",
    "work_price",
    "freeze_price",
    "session",
    "held",
)
TRADE_COLUMNS = (
    "trade_id",
    "broker_order_id",
    "client_order_id",
    "code",
    "side",
    "qty",
    "price",
    "amount",
    "fees",
    "ts",
    "trading_day",
    "order_sysid",
)
POSITION_COLUMNS = ("code", "total", "settled", "frozen", "avg_price")


_ISO: dict[date, str] = {}


def iso(moment: date) -> str:
    """`moment.isoformat()`, remembered: a burst of orders shares a few timestamps, and
    formatting an aware datetime costs a microsecond each time."""
    found = _ISO.get(moment)
    if found is None:
        if len(_ISO) >= 4096:
            _ISO.clear()
        found = _ISO[moment] = moment.isoformat()
    return found


def minted_order_id(oid: int) -> BrokerOrderId:
    """The id of an order this counter numbered: digits, valid by construction."""
    return str.__new__(BrokerOrderId, str(oid))  # type: ignore[return-value]


def minted_trade_id(tid: int) -> TradeId:
    return str.__new__(TradeId, str(tid))  # type: ignore[return-value]


def dec(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


class SimOrder:
    """One order at the counter. `work_price` is the price it matches at (the limit, or the price a
    market order converted to); `freeze_price` is what its cash was frozen at (buys)."""

    __slots__ = (
        "boid",
        "code",
        "coid",
        "created",
        "day",
        "fees",
        "filled_amount",
        "filled_qty",
        "freeze_price",
        "frozen_cash",
        "frozen_shares",
        "held",
        "msg",
        "oid",
        "price",
        "price_type",
        "protection",
        "qty",
        "session",
        "side",
        "status",
        "strategy_id",
        "sysid",
        "updated",
        "work_price",
    )

    def __init__(
        self,
        oid: int,
        coid: ClientOrderId | None,
        code: str,
        side: Side,
        qty: int,
        price: Decimal | None,
        price_type: PriceType,
        strategy_id: str,
        sysid: str,
        day: date,
        created: datetime,
    ) -> None:
        self.oid = oid
        self.boid = minted_order_id(oid)
        self.coid = coid
        self.code = code
        self.side = side
        self.qty = qty
        self.price = price
        self.price_type = price_type
        self.strategy_id = strategy_id
        self.sysid = sysid
        self.day = day
        self.created = created
        self.updated = created
        self.status = OrderStatus.SUBMITTED
        self.filled_qty = 0
        self.filled_amount = ZERO
        self.fees = ZERO
        self.frozen_cash = ZERO
        self.frozen_shares = 0
        self.msg = ""
        self.work_price: Decimal | None = None
        self.freeze_price: Decimal | None = None
        self.session = CONTINUOUS
        self.held = False
        # A market order's protection price (STAR), used only on arrival: what is left of the
        # order afterwards is a limit order at its bounded work_price (so it is not stored).
        self.protection: Decimal | None = None

    @property
    def open_qty(self) -> int:
        return self.qty - self.filled_qty

    def report(self) -> OrderReport:
        filled = self.filled_qty
        avg = (self.filled_amount / filled).quantize(AVG_QUANTUM) if filled else None
        return OrderReport(
            self.boid,
            self.coid,
            self.code,
            self.side,
            self.qty,
            self.price,
            self.price_type,
            self.status,
            filled,
            avg,
            self.updated,
            self.msg,
            self.sysid,
            self.strategy_id,
        )

    def row(self) -> tuple:
        return (
            self.oid,
            self.coid,
            self.code,
            self.side,  # a StrEnum is a str: stored as its value
            self.qty,
            text(self.price),
            self.price_type,
            self.status,
            self.filled_qty,
            str(self.filled_amount),
            str(self.fees),
            str(self.frozen_cash),
            self.frozen_shares,
            self.msg,
            self.sysid,
            self.strategy_id,
            iso(self.day),
            iso(self.created),
            iso(self.updated),
            text(self.work_price),
            text(self.freeze_price),
            self.session,
            int(self.held),
        )

    @classmethod
    def from_row(cls, row: tuple) -> SimOrder:
        (oid, coid, code, side, qty, price, price_type, status, filled_qty, filled_amount, fees, frozen_cash,
         frozen_shares, msg, sysid, strategy_id, day, created, updated, work_price, freeze_price, session,
         held) = row  # fmt: skip
        order = cls(
            oid,
            ClientOrderId(coid) if coid else None,
            code,
            Side(side),
            qty,
            dec(price),
            PriceType(price_type),
            strategy_id,
            sysid,
            date.fromisoformat(day),
            datetime.fromisoformat(created),
        )
        order.updated = datetime.fromisoformat(updated)
        order.status = OrderStatus(status)
        order.filled_qty = filled_qty
        order.filled_amount = Decimal(filled_amount)
        order.fees = Decimal(fees)
        order.frozen_cash = Decimal(frozen_cash)
        order.frozen_shares = frozen_shares
        order.msg = msg
        order.work_price = dec(work_price)
        order.freeze_price = dec(freeze_price)
        order.session = session
        order.held = bool(held)
        return order


class SimPosition:
    """Shares of one code. `settled` may be sold (T+1, RULES B4); `frozen` is held by working sells.
    `avg_price` is the cost per share including buy fees (QMT's 成本价), by the rounding policy of
    app.domain.money: the same function as Tiller's own Position, so the two books agree exactly."""

    __slots__ = ("avg_price", "code", "frozen", "settled", "total")

    def __init__(
        self, code: str, total: int = 0, settled: int = 0, frozen: int = 0, avg_price: Decimal = ZERO
    ):
        self.code = code
        self.total = total
        self.settled = settled
        self.frozen = frozen
        self.avg_price = avg_price

    @property
    def sellable(self) -> int:
        return self.settled - self.frozen

    def add(self, qty: int, amount: Decimal, fees: Decimal, settles_now: bool) -> None:
        self.avg_price = avg_cost_after_buy(self.avg_price, self.total, qty, amount, fees)
        self.total += qty
        if settles_now:
            self.settled += qty

    def sell_pnl(self, qty: int, amount: Decimal, fees: Decimal) -> Decimal:
        """The realized P&L a sell fill of `qty` shares for `amount` less `fees` makes at this
        position's cost (the counter reports none, as QMT's XtPosition has none; kept here so the
        policy of app.domain.money is provably the same on both sides)."""
        return realized_pnl(self.avg_price, qty, amount, fees)

    def remove(self, qty: int) -> None:
        """A sell fill of shares this position froze for it."""
        self.total -= qty
        self.settled -= qty
        self.frozen -= qty
        if self.total == 0:
            self.avg_price = ZERO

    def report(self, last: Decimal | None) -> BrokerPosition:
        return BrokerPosition(self.code, self.total, self.sellable, self.frozen, self.avg_price, last)

    def row(self) -> tuple:
        return (self.code, self.total, self.settled, self.frozen, str(self.avg_price))

    @classmethod
    def from_row(cls, row: tuple) -> SimPosition:
        code, total, settled, frozen, avg_price = row
        return cls(code, total, settled, frozen, Decimal(avg_price))


def trade_report(row: tuple) -> TradeReport:
    """A stored trade row (TRADE_COLUMNS) as the report pushed for it."""
    tid, oid, coid, code, side, qty, price, amount, fees, ts, _day, sysid = row
    return TradeReport(
        TradeId(str(tid)),
        BrokerOrderId(str(oid)),
        ClientOrderId(coid) if coid else None,
        code,
        Side(side),
        qty,
        Decimal(price),
        Decimal(amount),
        Decimal(fees),
        datetime.fromisoformat(ts),
        sysid,
    )
