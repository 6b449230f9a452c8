"""The simulated counter's matching model: what our orders may take from a stream of snapshots.

The exchange's real order book is not known, only the snapshots the day driver pushes (L1 or five
levels, cumulative volume). Every fill comes from something a snapshot shows; nothing is invented.
Snapshots are first cut to the day's limits (counter.py: levels outside dropped, prints clamped).
The rules and what the model assumes are written down, with sources, in docs/RULES_SIM.md.

1. Displayed liquidity. Of each level shown, our orders together may take at most
   floor(level volume × participation) shares; a new snapshot of the code refreshes it.
2. Orders entering the book take liquidity at the levels' prices (price improvement, as on the
   exchange): a limit order on arrival in continuous trading sweeps the opposite levels priced at
   or better than its limit, best first; a best-five market order sweeps up to five levels. Orders
   entered 9:25–9:30 enter at the first continuous snapshot, held out-of-cage orders (SZSE) when
   the cage reaches them. What is left rests at its limit.
3. Resting orders, on each new continuous snapshot, first take the opposite levels that snapshot
   shows at or better than their limit, each at the LEVEL's price (what the market shows is what it
   offers: never their own limit while a better price is shown), then by "trade-through": if
   shares traded since the previous snapshot and the last price is at or better than the limit
   (a buy: last ≤ limit), up to floor(volume traded × participation), shared by our orders on that
   side, at their OWN limit (an incoming order met them). A side locked at its limit (no asks for a
   buy, no bids for a sell) gives no trade-through: the queue at a locked limit is too long to
   reach. The day's first snapshot gives none either (no baseline volume).
4. Call auctions: orders rest. At the open print (the first snapshot at or after 9:25, price = its
   open) and the close print (the first at or after 15:00, price = its last), buys above and sells
   below the print price fill in full at that price (every order priced better than the auction
   price trades), together at most the auction volume; orders at the print price share
   floor(auction volume × participation) less what the better-priced ones took. Auction volume:
   the cumulative volume at the open print; at the close, the volume since the last continuous
   snapshot. Every working order takes part in the close; only those entered 9:15–9:25 in the open.
   A print at the up limit with no asks left fills no buys (at the down limit with no bids, no
   sells): the lock again. Unfilled auction orders go on.
5. Among our own orders: better price first, then the earlier order (price-time priority).

Pure Python, no I/O: the broker owns the orders and the books and calls these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Protocol, TypeVar

from app.domain.market import Quote
from app.domain.side import Side

__all__ = ["BEST_FIVE", "Book", "Restable", "auction_allocation", "by_priority"]

BEST_FIVE = 5  # best-five market orders sweep at most five levels (RULES A3, xt 42/43/47)


class Book:
    """The latest snapshot of one code today and the liquidity our orders may still take from it."""

    __slots__ = (
        "asks",
        "bids",
        "call_base",
        "closed",
        "last",
        "opened",
        "quote",
        "traded_buy",
        "traded_sell",
        "volume",
    )

    def __init__(
        self,
        *,
        last: Decimal | None = None,
        volume: int = 0,
        opened: bool = False,
        closed: bool = False,
        call_base: int | None = None,
    ) -> None:
        self.quote: Quote | None = None
        # [price, shares our orders may still take], best first.
        self.asks: list[list] = []
        self.bids: list[list] = []
        self.traded_buy = 0  # trade-through shares still open to our resting buys on this snapshot
        self.traded_sell = 0
        self.last = last  # last trade price seen today (survives a restart through the broker's file)
        self.volume = volume  # cumulative volume of the previous snapshot: the trade-through baseline
        self.opened = opened  # the open print has been processed
        self.closed = closed  # the close print has been processed
        self.call_base = call_base  # cumulative volume when the closing auction began

    def refresh(self, quote: Quote, participation: Decimal, *, baseline: bool) -> int:
        """Take a new snapshot; return the shares traded since the previous one.

        `baseline` says the previous volume is a valid starting point; without one (the first
        snapshot of the day) no trade-through is possible, since the volume so far is unknown in time.
        """
        self.quote = quote
        self.asks = [
            [p, int(v * participation)]
            for p, v in zip(quote.ask_prices, quote.ask_volumes, strict=False)
            if v > 0
        ]
        self.bids = [
            [p, int(v * participation)]
            for p, v in zip(quote.bid_prices, quote.bid_volumes, strict=False)
            if v > 0
        ]
        traded = quote.volume - self.volume if baseline and quote.volume > self.volume else 0
        self.traded_buy = self.traded_sell = int(traded * participation)
        self.volume = quote.volume
        if quote.last > 0:
            self.last = quote.last
        return traded

    @property
    def best_ask(self) -> Decimal | None:
        return self.asks[0][0] if self.asks else None

    @property
    def best_bid(self) -> Decimal | None:
        return self.bids[0][0] if self.bids else None

    def take(
        self, side: Side, limit: Decimal | None, qty: int, levels: int = BEST_FIVE
    ) -> list[tuple[Decimal, int]]:
        """Take up to `qty` shares from the opposite side, best level first, at prices no worse than
        `limit` (None: any price), from at most `levels` levels. Returns (price, shares) per level."""
        book = self.asks if side is Side.BUY else self.bids
        fills: list[tuple[Decimal, int]] = []
        for level in book[:levels]:
            price, open_qty = level
            if limit is not None and (price > limit if side is Side.BUY else price < limit):
                break
            if open_qty <= 0:
                continue
            shares = open_qty if open_qty < qty else qty
            level[1] = open_qty - shares
            fills.append((price, shares))
            qty -= shares
            if qty == 0:
                break
        return fills

    def available(self, side: Side, limit: Decimal | None, levels: int = BEST_FIVE) -> int:
        """Shares `take` could give now, without taking them (for fill-or-kill)."""
        book = self.asks if side is Side.BUY else self.bids
        total = 0
        for price, open_qty in book[:levels]:
            if limit is not None and (price > limit if side is Side.BUY else price < limit):
                break
            total += open_qty
        return total

    def take_traded(self, side: Side, limit: Decimal, qty: int) -> int:
        """Trade-through: shares a resting order at `limit` gets from the volume traded since the
        previous snapshot (model rule 3). Never at a locked limit."""
        quote = self.quote
        if quote is None or quote.last <= 0:
            return 0
        if side is Side.BUY:
            if self.traded_buy <= 0 or not self.asks or quote.last > limit:
                return 0
            shares = min(qty, self.traded_buy)
            self.traded_buy -= shares
        else:
            if self.traded_sell <= 0 or not self.bids or quote.last < limit:
                return 0
            shares = min(qty, self.traded_sell)
            self.traded_sell -= shares
        return shares

    def locked_against(self, side: Side, price: Decimal, up: Decimal | None, down: Decimal | None) -> bool:
        """True if `side` cannot trade at `price` because the stock is locked at its limit there."""
        if side is Side.BUY:
            return up is not None and price >= up and not self.asks
        return down is not None and price <= down and not self.bids


class Restable(Protocol):
    """What the priority rules need of an order."""

    @property
    def side(self) -> Side: ...

    @property
    def work_price(self) -> Decimal | None: ...

    @property
    def oid(self) -> int: ...


R = TypeVar("R", bound=Restable)


def by_priority(orders: Iterable[R], side: Side) -> list[R]:
    """`orders` of `side` that have a working price, best price first, then earliest (rule 5)."""
    chosen = [o for o in orders if o.side is side and o.work_price is not None]
    if len(chosen) > 1:
        if side is Side.BUY:
            chosen.sort(key=lambda o: (-o.work_price, o.oid))  # type: ignore[operator]
        else:
            chosen.sort(key=lambda o: (o.work_price, o.oid))
    return chosen


def auction_allocation(
    orders: Sequence[tuple[R, int]], side: Side, price: Decimal, budget: int, volume: int | None = None
) -> list[tuple[R, int]]:
    """Call-auction fills (model rule 4) of (order, open quantity) pairs at the print `price`.

    Orders priced better than the print fill in full (at a call auction every buy above and every
    sell below the match price trades: RULES_SIM S4), in priority order, together never more than
    the auction's `volume` (None: no such bound). Orders at the print price share what is left of
    `budget` (the participation share of the auction volume) after the better-priced ones."""
    buy = side is Side.BUY
    crossing = by_priority(
        (
            o
            for o, _ in orders
            if o.work_price is not None and (o.work_price >= price if buy else o.work_price <= price)
        ),
        side,
    )
    open_qty = {id(o): qty for o, qty in orders}
    cap = volume
    fills: list[tuple[R, int]] = []
    for order in crossing:
        if cap is not None and cap <= 0:
            break
        wanted = open_qty[id(order)]
        better = order.work_price != price
        shares = wanted if better else min(wanted, budget)
        if cap is not None:
            shares = min(shares, cap)
            cap -= max(shares, 0)
        if shares > 0:
            fills.append((order, shares))
            budget -= shares
    return fills
