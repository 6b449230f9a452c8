"""Ports: what the core needs from the outside world, as Protocols (ARCHITECTURE.md, Layers).

Gateways, feeds, clients and storage implement these; the core never imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from app.core.planning.ledger import StrategyPosition
from app.core.planning.model import AuditEntry, PlanLine, PlanStatus, StrategySettings
from app.domain.clock import Clock, TimedClock, TimerHandle, TimerService
from app.domain.identifiers import ClientOrderId
from app.domain.market import InstrumentInfo, Quote
from app.domain.orders import Order, OrderEvent
from app.domain.positions import Position
from app.domain.reports import (
    BrokerAsset,
    BrokerPosition,
    BrokerReport,
    CancelOrder,
    OrderReport,
    SubmitOrder,
    TradeReport,
)
from app.domain.signals import SignalBatch, SignalLine

__all__ = [
    "BrokerGateway",
    "Clock",
    "MarketData",
    "Notifier",
    "OmsStore",
    "QuoteSource",
    "ReportHandler",
    "SignalSource",
    "SimulatedVenue",
    "TimedClock",
    "TimerHandle",
    "TimerService",
]

ReportHandler = Callable[[BrokerReport], None]


class BrokerGateway(Protocol):
    """A broker account (vn.py's BaseGateway contract, STYLE.md §4).

    - `submit` and `cancel` never block on the broker: outcomes arrive as reports.
    - Reports are pushed from the gateway's own thread to the handler, which only enqueues.
    - The query methods are synchronous and are called from the engine thread only,
      never from inside a report callback (that deadlocks xtquant, RULES.md A1).
    - Pushed objects are immutable.
    """

    def set_report_handler(self, handler: ReportHandler) -> None: ...

    def connect(self) -> None:
        """Connect and subscribe the account; raises GatewayError with a message for the user."""
        ...

    def close(self) -> None: ...

    @property
    def connected(self) -> bool: ...

    def submit(self, orders: Sequence[SubmitOrder]) -> None:
        """Send orders (a batch for speed); each gets a SubmitResponse."""
        ...

    def cancel(self, request: CancelOrder) -> None: ...

    def query_orders(self) -> list[OrderReport]:
        """Today's orders at the broker, Tiller's and others'."""
        ...

    def query_trades(self) -> list[TradeReport]: ...

    def query_positions(self) -> list[BrokerPosition]: ...

    def query_asset(self) -> BrokerAsset: ...


class QuoteSource(Protocol):
    """A day of market data without a broker: replayed or synthetic."""

    def instruments(self, day: date) -> list[InstrumentInfo]: ...

    def batches(self, day: date) -> Iterator[tuple[datetime, list[Quote]]]:
        """Quote snapshots in time order; each batch holds the snapshots stamped at one moment."""
        ...


class MarketData(Protocol):
    """Live quotes pushed from the outside (xtdata subscriptions)."""

    def set_quote_handler(self, handler: Callable[[Sequence[Quote]], None]) -> None: ...

    def subscribe(self, codes: Sequence[str]) -> None: ...

    def instrument(self, code: str, day: date) -> InstrumentInfo | None: ...


class SignalSource(Protocol):
    """Where a day's planned orders come from: BigQuant's API, a file drop folder, a plug-in."""

    def fetch(self, day: date) -> list[SignalBatch]:
        """The batches for `day`; a bad line is kept in `SignalBatch.rejected`, never raised."""
        ...


class Notifier(Protocol):
    def alert(self, level: str, category: str, message: str) -> None: ...


class SimulatedVenue(Protocol):
    """The simulated broker seen as an exchange: the day driver feeds it the market."""

    def set_instruments(self, infos: Sequence[InstrumentInfo]) -> None: ...

    def on_quotes(self, quotes: Sequence[Quote]) -> None: ...

    def begin_day(self, day: date) -> None: ...

    def end_day(self) -> None: ...

    def wait_idle(self, timeout: float = 5.0) -> None: ...

    def work_received(self) -> int:
        """How many items (quotes, orders, cancels, calls) the venue has been given so far: the day
        driver knows the engine sent it nothing new when this did not move."""
        ...


class OmsStore(Protocol):
    """The OMS's persistence, owned by the engine thread (one SQLite connection).

    `stage_*` collects writes; `commit` writes everything staged in ONE transaction
    (group commit). Nothing staged is visible to a restart until `commit` returns.
    """

    def install_tag(self) -> str:
        """Two base-36 characters fixed when the database was created (keeps remarks unique
        even if a user starts over with a new database on the same day)."""
        ...

    def reserve_order_seqs(self, day: date, count: int) -> int:
        """Reserve `count` sequence numbers of `day` for client order ids, durably and at once (its
        own committed transaction, not the batch's); returns the first. None is ever handed out twice."""
        ...

    def load_cash(self) -> Decimal | None: ...

    def load_positions(self) -> list[Position]: ...

    def load_orders(self, day: date) -> list[Order]:
        """Today's orders and any older one still working, with the trade ids applied to each."""
        ...

    def load_trades(self, day: date) -> list[TradeReport]:
        """The fills booked for `day`, in the order they were booked."""
        ...

    def load_signal_ids(self, strategy_id: str, day: date) -> set[str]:
        """The planned-order lines of a strategy and day already taken in (SignalLine.signal_id)."""
        ...

    def load_signal_batch_ids(self, day: date) -> set[str]:
        """The batches of `day` already stored (fetched or taken in), by SignalBatch.batch_id."""
        ...

    def stage_signal_batch(self, batch: SignalBatch, source: str, fetched_at: datetime) -> None:
        """A fetched batch, stored once (a batch already there is left as it is); its lines are not
        taken in by this."""
        ...

    def load_meta(self, key: str) -> str | None: ...

    def stage_meta(self, key: str, value: str) -> None: ...

    def stage_new_order(self, order: Order) -> None:
        """A new intent: written as an INSERT, so an id that is already stored fails the commit."""
        ...

    def stage_order(self, order: Order) -> None:
        """A change to a stored order (or to one staged new in the same batch)."""
        ...

    def stage_signal_lines(self, batch: SignalBatch, lines: Sequence[SignalLine], taken_at: datetime) -> None:
        """Record planned-order lines as taken in (each at most once: a second time fails the commit)."""
        ...

    def stage_event(self, event: OrderEvent) -> None: ...

    def stage_trade(
        self, report: TradeReport, client_order_id: ClientOrderId, strategy_id: str, day: date
    ) -> None: ...

    def stage_position(self, position: Position) -> None: ...

    def stage_cash(self, cash: Decimal) -> None: ...

    def stage_alert(self, ts: datetime, level: str, category: str, message: str) -> None: ...

    def load_alerts(self, start: datetime, end: datetime, limit: int) -> list[tuple[datetime, str, str, str]]:
        """Committed alerts with start <= ts < end as (ts, level, category, message), newest first,
        at most `limit` (the window shows the day's earlier alerts from them)."""
        ...

    def stage_risk_audit(self, ts: datetime, who: str, key: str, old: str | None, new: str | None) -> None:
        """One change of a risk setting or of the trading state, for the append-only audit."""
        ...

    def load_last_fetches(self) -> dict[str, datetime]:
        """When each strategy's signals were last fetched (committed batches from a source)."""
        ...

    def load_risk_audit(self) -> list[tuple[datetime, str, str, str | None, str | None]]:
        """The committed audit as (ts, who, key, old, new), oldest first."""
        ...

    def stage_live_audit(self, ts: datetime, who: str, action: str, detail: str) -> None:
        """A real account armed, disarmed or expired, or an order sent to it (app/core/risk/arming.py),
        for the append-only live audit; action: arm | disarm | expire | order."""
        ...

    def load_live_audit(self) -> list[tuple[datetime, str, str, str]]:
        """The committed live audit as (ts, who, action, detail), oldest first."""
        ...

    # the plan (schema v4, app/core/planning): staged and committed with the batch like the rest
    def load_strategies(self) -> list[StrategySettings]: ...

    def load_strategy_positions(self) -> list[StrategyPosition]: ...

    def load_plan(self, day: date) -> tuple[PlanStatus | None, list[PlanLine]]: ...

    def load_plan_audit(self, day: date) -> list[AuditEntry]: ...

    def stage_strategy(self, settings: StrategySettings, who: str, ts: datetime) -> None: ...

    def stage_strategy_position(self, position: StrategyPosition) -> None: ...

    def stage_plan_status(self, status: PlanStatus) -> None: ...

    def stage_plan_line(self, seq: int, line: PlanLine) -> None: ...

    def stage_plan_audit(self, day: date, entry: AuditEntry) -> None: ...

    def commit(self) -> None: ...

    def discard(self) -> None:
        """Drop everything staged (after a failed commit)."""
        ...

    def close(self) -> None: ...
