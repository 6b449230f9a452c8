"""The Terminal: the one face the window, the scheduler and the command line talk to.

Commands go in (each becomes a message on the engine's queue, so it is handled on the engine
thread in order with everything else); immutable events come out to subscribers. Queries
return snapshots, never the engine's own objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, time
from decimal import Decimal

from app.core.engine import Engine, Listener
from app.core.messages import (
    AccountSnapshot,
    CancelAllOrders,
    CancelOrder,
    OrderSnapshot,
    PositionSnapshot,
    Resync,
    StartDay,
)
from app.core.oms import NewOrder
from app.core.planning.ledger import StrategyPosition
from app.core.planning.model import PlanLine, PlanSnapshot, StrategySettings, TargetBatch
from app.domain.identifiers import ClientOrderId
from app.domain.market import InstrumentInfo
from app.domain.side import Side
from app.domain.signals import SignalBatch, SignalLine


class Terminal:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    # ------------------------------------------------------------------ commands
    def start(self) -> None:
        """Open the books, connect, and resolve every unacknowledged order against the broker."""
        self._engine.start()

    def stop(self) -> None:
        self._engine.stop()

    def start_day(self, day: date, instruments: Sequence[InstrumentInfo] = ()) -> None:
        self._engine.post(StartDay(day, tuple(instruments)))

    def submit(self, orders: Sequence[NewOrder], timeout: float = 10.0) -> list[ClientOrderId]:
        """Place orders; returns their client order ids once their intents are on disk (a denied
        order gets an id too, and its reason is on its snapshot)."""
        return self._engine.submit(orders, timeout)

    def cancel(self, client_order_id: ClientOrderId) -> None:
        self._engine.post(CancelOrder(client_order_id))

    def cancel_all(self, side: Side | None = None) -> None:
        self._engine.post(CancelAllOrders(side))

    def resync(self, reason: str = "on request") -> None:
        """Query the broker and catch up (what a reconnect does by itself)."""
        self._engine.post(Resync(reason))

    def take_in(self, batch: SignalBatch, timeout: float = 10.0) -> tuple[list[SignalLine], list[SignalLine]]:
        """Take in a batch of planned orders: (new lines, lines already taken in earlier). Make orders
        for the new lines only: a planned order becomes orders at most once, across restarts."""
        return self._engine.take_in(batch, timeout)

    def halted(self, timeout: float = 10.0) -> str | None:
        """Why new orders are refused (a failed write to the database), or None when trading is on."""
        return self._engine.call(lambda e: e.halted, timeout)

    def resume_trading(self, timeout: float = 30.0) -> str | None:
        """Rebuild from the file, resync with the broker and take new orders again; None if it did."""
        return self._engine.resume_trading(timeout)

    def subscribe(self, listener: Listener) -> None:
        """`listener(event)` runs on the engine thread after each commit: it must only hand on."""
        self._engine.subscribe(listener)

    # ------------------------------------------------------------------ the plan (app/core/planning)
    # Each command takes effect at once on the engine thread, is recorded with who and when (plan_audit),
    # and raises PlanError (a plain-words reason) when it cannot be applied; plan events follow after
    # the commit (PlanLineAdded / PlanLineChanged / PlanLineSkipped / PlanStateChanged).
    def plan_batches(
        self, batches: Sequence[SignalBatch | TargetBatch], who: str = "planner", timeout: float = 10.0
    ) -> list[PlanLine]:
        """Plan the batches' new lines (a line already planned or taken in is never planned again)."""
        return self._engine.call(lambda e: e.plan.add_batches(list(batches), who), timeout)

    def set_strategy(self, settings: StrategySettings, who: str = "user", timeout: float = 10.0) -> None:
        """Follow a strategy (or change its allotment, policy, price offset)."""
        self._engine.call(lambda e: e.plan.set_strategy(settings, who), timeout)

    def switch_strategy(
        self, old: str, new: str, who: str = "user", *, new_holds: Iterable[str] | None = None,
        settings: StrategySettings | None = None, timeout: float = 10.0,
    ) -> list[PlanLine]:  # fmt: skip
        """Follow `new` instead of `old`; returns the rotation lines (old's positions new does not hold)."""
        holds = None if new_holds is None else list(new_holds)
        return self._engine.call(
            lambda e: e.plan.switch_strategy(old, new, who, new_holds=holds, settings=settings), timeout
        )

    def approve_plan(self, who: str = "user", timeout: float = 10.0) -> int:
        return self._engine.call(lambda e: e.plan.approve(who), timeout)

    def set_auto_approve(self, at: time | None, who: str = "user", timeout: float = 10.0) -> None:
        """Approve the plan at `at` (today, engine clock) unless it is paused; None turns it off."""
        self._engine.call(lambda e: e.plan.set_auto_approve(at, who), timeout)

    def pause_buys(self, who: str = "user", *, cancel_working: bool = False, timeout: float = 10.0) -> None:
        self._engine.call(lambda e: e.plan.pause(Side.BUY, who, cancel_working=cancel_working), timeout)

    def pause_sells(self, who: str = "user", *, cancel_working: bool = False, timeout: float = 10.0) -> None:
        self._engine.call(lambda e: e.plan.pause(Side.SELL, who, cancel_working=cancel_working), timeout)

    def pause_all(self, who: str = "user", *, cancel_working: bool = False, timeout: float = 10.0) -> None:
        self._engine.call(lambda e: e.plan.pause(None, who, cancel_working=cancel_working), timeout)

    def resume(self, who: str = "user", side: Side | None = None, timeout: float = 10.0) -> None:
        """Lift a pause (both sides, or one)."""
        self._engine.call(lambda e: e.plan.resume(side, who), timeout)

    def skip_line(self, line_id: str, who: str = "user", reason: str = "", timeout: float = 10.0) -> PlanLine:
        return self._engine.call(lambda e: e.plan.skip(line_id, who, reason), timeout)

    def edit_line(
        self, line_id: str, who: str = "user", *, qty: int | None = None, policy: str | None = None,
        price_offset: Decimal | None = None, timeout: float = 10.0,
    ) -> PlanLine:  # fmt: skip
        return self._engine.call(
            lambda e: e.plan.edit(line_id, who, qty=qty, policy=policy, price_offset=price_offset), timeout
        )

    def cancel_order(self, client_order_id: ClientOrderId, who: str = "user", timeout: float = 10.0) -> None:
        """Cancel one order, recorded with who and when."""
        self._engine.call(lambda e: e.plan.cancel_order(client_order_id, who), timeout)

    def cancel_all_orders(self, who: str = "user", side: Side | None = None, timeout: float = 10.0) -> None:
        """Cancel every working order (of one side), recorded with who and when."""
        self._engine.call(lambda e: e.plan.cancel_all(side, who), timeout)

    def plan(self, timeout: float = 10.0) -> PlanSnapshot:
        return self._engine.call(lambda e: e.plan.snapshot(), timeout)

    def strategy_positions(self, timeout: float = 10.0) -> list[StrategyPosition]:
        """The per-strategy sub-ledger (copies)."""
        from dataclasses import replace

        return self._engine.call(
            lambda e: [replace(p) for p in e.oms.ledger.positions.values() if p.total or p.realized_pnl],
            timeout,
        )

    # ------------------------------------------------------------------ queries
    def orders(self, timeout: float = 10.0) -> list[OrderSnapshot]:
        return self._engine.call(
            lambda e: [
                OrderSnapshot.of(o) for o in sorted(e.oms.orders.values(), key=lambda o: o.created_at)
            ],
            timeout,
        )

    def order(self, client_order_id: ClientOrderId, timeout: float = 10.0) -> OrderSnapshot | None:
        return self._engine.call(
            lambda e: None if (o := e.oms.orders.get(client_order_id)) is None else OrderSnapshot.of(o),
            timeout,
        )

    def positions(self, timeout: float = 10.0) -> tuple[PositionSnapshot, ...]:
        return self._engine.call(lambda e: e.position_snapshots(), timeout)

    def account(self, timeout: float = 10.0) -> AccountSnapshot:
        return self._engine.call(lambda e: e.account_snapshot(), timeout)

    def wait_idle(self, timeout: float = 10.0) -> None:
        self._engine.wait_idle(timeout)
