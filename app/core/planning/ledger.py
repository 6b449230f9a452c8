"""The per-strategy sub-ledger: which strategy's shares are which, beside the account-level book.

The broker sees only the account; the account-level positions (`OrderManager.positions`, strategy
'') stay exactly what the broker holds, so the crash loop and the books check compare them as
before. Beside them this ledger keeps, per (strategy, code), the shares bought by that strategy's
orders, updated from fills by the order's `strategy_id`, with average cost and realized P&L, so P&L
and trades are attributed per strategy.

Shares no strategy holds (the opening books, hand-typed orders) are *unattributed*: the account's
total less every strategy's. A strategy's sell draws on its own shares first, then on unattributed
ones, never on another strategy's (`sellable`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.domain.money import avg_cost_after_buy, realized_pnl
from app.domain.orders import Order
from app.domain.positions import Position
from app.domain.side import Side

ZERO = Decimal(0)


@dataclass(slots=True)
class StrategyPosition:
    strategy_id: str
    code: str
    total: int = 0
    settled: int = 0
    avg_cost: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    t_plus_zero: bool = False


class StrategyLedger:
    def __init__(self, positions: Iterable[StrategyPosition] = ()) -> None:
        self.positions: dict[tuple[str, str], StrategyPosition] = {}
        self._by_code: dict[str, set[str]] = {}
        for p in positions:
            self._put(p)

    def _put(self, p: StrategyPosition) -> None:
        self.positions[(p.strategy_id, p.code)] = p
        self._by_code.setdefault(p.code, set()).add(p.strategy_id)

    def get(self, strategy_id: str, code: str) -> StrategyPosition | None:
        return self.positions.get((strategy_id, code))

    def holders(self, code: str) -> set[str]:
        return self._by_code.get(code, set())

    def of_strategy(self, strategy_id: str) -> list[StrategyPosition]:
        return [p for (s, _), p in self.positions.items() if s == strategy_id and p.total > 0]

    def attributed(self, code: str) -> tuple[int, int]:
        """(total, settled) of `code` held by strategies."""
        total = settled = 0
        for s in self.holders(code):
            p = self.positions[(s, code)]
            total += p.total
            settled += p.settled
        return total, settled

    # ------------------------------------------------------------------ fills
    def on_fill(
        self,
        strategy_id: str,
        code: str,
        side: Side,
        qty: int,
        price: Decimal,
        fees: Decimal,
        t_plus_zero: bool,
    ) -> StrategyPosition | None:
        """Book a fill of a strategy's order; returns the row that changed (None for strategy '')."""
        if not strategy_id:
            return None
        p = self.positions.get((strategy_id, code))
        if p is None:
            p = StrategyPosition(strategy_id, code, t_plus_zero=t_plus_zero)
            self._put(p)
        if side is Side.BUY:
            p.avg_cost = avg_cost_after_buy(p.avg_cost, p.total, qty, price * qty, fees)
            p.total += qty
            if p.t_plus_zero:
                p.settled += qty
            return p
        own = min(qty, p.total)  # the rest came from unattributed shares
        if own > 0:
            share_fees = fees if own == qty else (fees * own / qty).quantize(Decimal("0.01"))
            p.realized_pnl += realized_pnl(p.avg_cost, own, price * own, share_fees)
            p.total -= own
            p.settled = max(0, min(p.settled - own, p.total))
            if p.total == 0:
                p.avg_cost = ZERO
        return p

    def clip_to_account(self, code: str, account: Position) -> list[StrategyPosition]:
        """After a sell no strategy made (hand-typed, or not Tiller's) left the account with fewer shares
        than the strategies hold: take the difference from the strategies, largest first, so the
        sub-ledger never claims shares the account does not have. Returns the rows changed."""
        changed: list[StrategyPosition] = []
        for s in sorted(self.holders(code), key=lambda s: -self.positions[(s, code)].total):
            total, settled = self.attributed(code)
            over_total, over_settled = total - account.total, settled - account.settled
            if over_total <= 0 and over_settled <= 0:
                break
            p = self.positions[(s, code)]
            before = (p.total, p.settled)
            p.total -= min(p.total, max(over_total, 0))
            p.settled = min(p.settled, p.total)
            over_settled = self.attributed(code)[1] - account.settled
            if over_settled > 0:
                p.settled -= min(p.settled, over_settled)
            if p.total == 0:
                p.avg_cost = ZERO
            if (p.total, p.settled) != before:
                changed.append(p)
        return changed

    def roll_day(self) -> list[StrategyPosition]:
        changed = []
        for p in self.positions.values():
            if p.settled != p.total:
                p.settled = p.total
                changed.append(p)
        return changed

    def transfer(self, from_strategy: str, to_strategy: str, code: str) -> list[StrategyPosition]:
        """Re-attribute a position (a switched strategy's shares the new one also holds)."""
        src = self.positions.get((from_strategy, code))
        if src is None or src.total == 0 or from_strategy == to_strategy:
            return []
        dst = self.positions.get((to_strategy, code))
        if dst is None:
            dst = StrategyPosition(to_strategy, code, t_plus_zero=src.t_plus_zero)
            self._put(dst)
        if dst.total:
            cost = dst.avg_cost * dst.total + src.avg_cost * src.total
            dst.avg_cost = (cost / (dst.total + src.total)).quantize(Decimal("0.0001"))
        else:
            dst.avg_cost = src.avg_cost
        dst.total += src.total
        dst.settled += src.settled
        src.total = src.settled = 0
        src.avg_cost = ZERO
        return [src, dst]

    # ------------------------------------------------------------------ sellable
    def sellable(
        self, strategy_id: str, code: str, account: Position | None, working: Iterable[Order]
    ) -> int:
        """What `strategy_id` may sell of `code` now: its own settled shares not held by its working
        sells, plus unattributed settled shares not held by anyone's, never above the account's
        sellable. `working` are the working orders (any code: others are ignored)."""
        if account is None:
            return 0
        if not strategy_id:
            return account.sellable
        frozen: dict[str, int] = {}
        for o in working:
            if o.code == code and o.side is Side.SELL and not o.external:
                frozen[o.strategy_id] = frozen.get(o.strategy_id, 0) + o.qty - o.filled_qty
        _, attributed_settled = self.attributed(code)
        free = account.settled - attributed_settled - frozen.get("", 0)
        for s in self.holders(code) | set(frozen):
            if s:
                own = self.positions[(s, code)].settled if (s, code) in self.positions else 0
                free -= max(0, frozen.get(s, 0) - own)  # what s's sells took beyond its own
        mine = self.positions.get((strategy_id, code))
        own_free = max(0, (mine.settled if mine else 0) - frozen.get(strategy_id, 0))
        return max(0, min(account.sellable, own_free + max(0, free)))
