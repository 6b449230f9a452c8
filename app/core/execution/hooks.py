"""What the engine calls on its execution service (on the engine thread)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from app.core.execution.base import ExecutionService
from app.domain.market import Quote
from app.domain.orders import Order
from app.domain.reports import OrderReport


class ExecutionHooks(Protocol):
    def on_quotes(self, quotes: Iterable[Quote]) -> None: ...

    def on_order_report(self, report: OrderReport) -> None: ...

    def on_orders(self, orders: Iterable[Order]) -> None:
        """Orders the batch changed (fills, acknowledgements, cancels, denials). Called once per batch,
        before its commit: the service stages what a restart needs here."""
        ...

    def restore(self) -> None:
        """At the engine's start, after the books are loaded and resynced: go on with the day's lines
        as last committed (no one hands them over again)."""
        ...

    def resave(self) -> None:
        """A commit failed and the books were reloaded: stage the lines' state again with the next batch."""
        ...


class Execution(ExecutionService, ExecutionHooks, Protocol):
    """What the engine owns as `engine.execution`: the planner's contract and the engine's hooks."""
