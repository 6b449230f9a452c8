"""The Terminal: the one face the window, the scheduler and the command line talk to.

Commands go in (each becomes a message on the engine's queue, so it is handled on the engine
thread in order with everything else); immutable events come out to subscribers. Queries
return snapshots, never the engine's own objects.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from app.core.engine import Engine, Listener
from app.core.eod.service import EodResult, EodStore, close_day
from app.core.eod.settlement import Settlement
from app.core.messages import (
    AccountSnapshot,
    Call,
    CancelAllOrders,
    CancelOrder,
    OrderSnapshot,
    PositionSnapshot,
    Resync,
    StartDay,
)
from app.core.oms import NewOrder
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

    # ------------------------------------------------------------------ after the close
    def close_day(
        self,
        eod_store: Callable[[Any], EodStore],
        day: date,
        *,
        account_id: str,
        opening_equity: Decimal | None = None,
        timeout: float = 60.0,
    ) -> EodResult:
        """Reconcile `day` with the broker, record its settlement and performance and put its sync
        payload in the outbox (one transaction), on the engine thread. `eod_store(oms_store)` gives
        the store on the engine's connection (bootstrap.eod_store_for)."""
        return self._engine.call(
            lambda e: close_day(
                e, eod_store(e.store), day=day, account_id=account_id, opening_equity=opening_equity
            ),
            timeout,
        )

    def settlements(self, eod_store: Callable[[Any], EodStore], timeout: float = 10.0) -> list[Settlement]:
        return self._engine.call(lambda e: eod_store(e.store).load_settlements(), timeout)

    def resolve_day(self, eod_store: Callable[[Any], EodStore], day: date, timeout: float = 10.0) -> bool:
        """The investor accepts a day that did not settle: the next automatic run may go."""
        return self._engine.call(lambda e: eod_store(e.store).resolve(day, e.clock.now()), timeout)

    def alert(self, level: str, category: str, message: str) -> None:
        """Raise an alert from any thread (stored with the engine's next batch, published)."""
        self._engine.post(Call(lambda e: e.alert(level, category, message)))

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
