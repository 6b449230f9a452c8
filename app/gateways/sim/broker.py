"""SimulatedBroker: an A-share counter behind the same BrokerGateway port as QMT.

It checks orders as a real counter does (RULES B1–B7) and refuses them with the counter's reason,
freezes cash and shares, matches against the quotes the day driver pushes (matching.py), charges
fees per fill, keeps T+1 positions, and keeps its books in its own SQLite file (store.py), so a
new SimulatedBroker on the same file carries on where the last one stopped.

Threading: `submit`, `cancel` and `on_quotes` only enqueue. The broker's own thread drains the
inbox in batches, processes the items in order, commits the whole batch in one transaction and
only then pushes the batch's reports to the handler, so Tiller never holds a report of something
the broker's file does not have. Every item is stamped with `clock.now()` when it is enqueued:
for the same inputs in the same order, the same reports, whatever the batching.

A dropped connection (`drop_connection`) loses every report produced while it is down, as QMT's
are; the exchange goes on matching. Only the answers to calls made while it is down still arrive
(a submit refused "未连接", a cancel refused likewise), so the caller is never left waiting.
A batch that fails to commit is forgotten: the books are reloaded from the file, nothing of the
batch is pushed, and the link drops as from a crashed counter.

Latencies (`ack_latency`, `fill_latency`, `cancel_latency`, simulated time, 0 by default) put the
races of orders in flight into a simulated day. A submit is parked, as if still on the wire, and
reaches the counter only when something stamped at or after its arrival time (stamp + latency)
comes through the inbox (the driver's next quotes, say): only then is it booked and acknowledged,
with the arrival time as its time. A cancel is taken by the counter at once (PENDING_CANCEL, xt
51/52) and confirmed by the exchange `cancel_latency` later: in between the order keeps matching, so
a fill can come between the request and its confirmation (the pending-cancel window); an order that
filled completely meanwhile gets a cancel error instead. A fill is booked when it happens, but its
trade report is pushed only once the inbox reaches its time + `fill_latency` (the order's report
goes out first, as xtquant's may). Parked submits and held reports are lost with the process (never
committed: lost in transit); a pending cancel is in the file and is still confirmed after a restart.
`end_day` lets everything on the wire arrive first. Time moves only with the inbox, so a seeded day
stays deterministic.

Modules: counter.py (the books and what happens to each order, cancel and quote), acceptance.py
(the checks on a new order), matching.py (the fill model), state.py and store.py (the file).
The model uses no randomness; `seed` only salts the exchange contract numbers (order_sysid).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.core.ports import ReportHandler
from app.domain.calendar import DEFAULT_CALENDAR, TradingCalendar
from app.domain.clock import Clock
from app.domain.errors import UnknownInstrumentError
from app.domain.fees import FeeSchedule
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, Quote
from app.domain.reports import (
    BrokerAsset,
    BrokerPosition,
    CancelOrder,
    ConnectionChanged,
    OrderReport,
    SubmitOrder,
    TradeReport,
)
from app.domain.side import Side
from app.gateways.sim.acceptance import CAGE_POLICIES, Acceptance
from app.gateways.sim.counter import Counter
from app.gateways.sim.store import Batch, MemoryBooks, SimStore, open_store

__all__ = ["CAGE_POLICIES", "SimulatedBroker"]

log = logging.getLogger(__name__)

DEFAULT_DROP_REASON = "连接断开 (connection to the simulated broker lost)"
_SUBMIT, _CANCEL, _QUOTES, _CALL, _STOP = range(5)


class _Call:
    """A synchronous command run on the broker thread; the caller waits for `done`."""

    __slots__ = ("args", "command", "done", "error", "result")

    def __init__(self, command: str, args: tuple) -> None:
        self.command = command  # the name of a Counter method taking (ts, *args)
        self.args = args
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.result: Any = None


class SimulatedBroker:
    """The simulated counter (see the module docstring and matching.py for the model)."""

    def __init__(
        self,
        db_path: Path,
        clock: Clock,
        *,
        fees: FeeSchedule = FeeSchedule(),  # noqa: B008 - frozen value object
        account_id: str = "SIM001",
        initial_cash: Decimal = Decimal("1000000"),
        seed: int = 7,
        participation: Decimal = Decimal("0.25"),
        cage_policy: str | Mapping[str, str] | None = None,
        calendar: TradingCalendar = DEFAULT_CALENDAR,
        ack_latency: timedelta = timedelta(0),
        fill_latency: timedelta = timedelta(0),
        cancel_latency: timedelta = timedelta(0),
        threaded: bool = True,
    ) -> None:
        for name, latency in (("ack", ack_latency), ("fill", fill_latency), ("cancel", cancel_latency)):
            if not isinstance(latency, timedelta) or latency < timedelta(0):
                raise ValueError(f"{name}_latency must be a timedelta of 0 or more, was {latency!r}")
        if not isinstance(participation, Decimal) or not (0 < participation <= 1):
            raise ValueError(f"participation must be a Decimal in (0, 1], was {participation!r}")
        if not isinstance(initial_cash, Decimal) or not initial_cash.is_finite() or initial_cash < 0:
            raise ValueError(f"initial_cash must be a non-negative Decimal, was {initial_cash!r}")
        if not isinstance(account_id, str) or not account_id.strip():
            raise ValueError(f"account_id must be a non-empty string, was {account_id!r}")
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an int, was {seed!r}")
        self._path = Path(db_path)
        self._clock = clock
        self._checks = Acceptance(fees, cage_policy)  # raises on an unknown cage policy
        self._account_id = account_id
        self._initial_cash = initial_cash
        self._seed = seed
        self._participation = participation
        self._calendar = calendar
        self._handler: ReportHandler | None = None
        self._ack_latency = ack_latency
        self._fill_latency = fill_latency
        self._cancel_latency = cancel_latency
        # On the wire (broker thread only): (arrival, seq, kind, payload), and fills' reports held back.
        self._parked: list[tuple[datetime, int, int, Any]] = []
        self._held: list[tuple[datetime, int, TradeReport]] = []
        self._wire_seq = itertools.count()
        self._flush_held = False

        # The inbox and the thread.
        self._cond = threading.Condition()
        self._inbox: list[tuple[int, datetime, Any]] = []
        self._enqueued = 0
        self._completed = 0
        self._thread: threading.Thread | None = None
        # threaded=False: no broker thread; whatever is enqueued is run at once in the caller's thread
        # (the engine's, for submits and cancels), stamped, processed, committed and its reports pushed
        # under one lock, so items are handled in stamp order and reports leave in that order. The
        # reports still reach the engine as later messages on its queue, never as calls into it.
        self._threaded = threaded
        self._inline_up = False  # threaded=False and connected
        self._proc_lock = threading.RLock()  # re-entered by the inline path (_enqueue → _run_batch)

        self._store: SimStore | MemoryBooks | None = None
        self._counter: Counter
        self._written_meta: dict[str, str] = {}
        self._open_store()

    # ================================================================== setup and state
    def _open_store(self) -> None:
        store = open_store(self._path)
        if store.is_new():
            batch = Batch(
                meta={
                    "account_id": self._account_id,
                    "initial_cash": str(self._initial_cash),
                    "cash": str(self._initial_cash),
                    "deposits": "0",
                    "next_order_id": "1",
                    "next_trade_id": "1",
                    "trading_day": "",
                    "day_first_order_id": "1",
                    "day_first_trade_id": "1",
                }
            )
            store.write(batch)
        self._store = store
        self._load()
        if self._account_id != self._counter.account_id:
            store.close()
            self._store = None
            raise ValueError(
                f"simulated broker file {self._path} belongs to account {self._counter.account_id}, "
                f"was opened as {self._account_id!r}"
            )

    def _load(self) -> None:
        """(Re)build the counter from the committed file."""
        self._counter = Counter(
            self._reader().load(),
            self._checks,
            participation=self._participation,
            seed=self._seed,
            calendar=self._calendar,
            cancel_window=self._cancel_latency,
        )
        self._written_meta = self._counter.meta()

    # ================================================================== the BrokerGateway port
    def set_report_handler(self, handler: ReportHandler) -> None:
        self._handler = handler

    @property
    def connected(self) -> bool:
        return (self._thread is not None or self._inline_up) and self._counter.link_up

    def connect(self) -> None:
        """Start the broker thread (or, not threaded, take work inline) and push ConnectionChanged(True)."""
        with self._cond:
            if self._thread is not None or self._inline_up:
                return
            if self._store is None:
                self._open_store()
            if self._threaded:
                self._thread = threading.Thread(target=self._run, name="sim-broker", daemon=True)
                self._thread.start()
            else:
                self._inline_up = True
        self._call("link", True, "模拟柜台已连接 (simulated broker connected)")

    def close(self) -> None:
        """Finish everything enqueued, stop the thread and close the file."""
        with self._cond:
            thread = self._thread
            if thread is not None:
                self._inbox.append((_STOP, self._clock.now(), None))
                self._enqueued += 1
                self._cond.notify()
        if thread is not None:
            thread.join()
            with self._cond:
                self._thread = None
                leftovers, self._inbox = self._inbox, []
            if leftovers:  # enqueued while stopping: answered as by a closed counter
                self._run_batch(leftovers)
        elif self._inline_up:
            self._enqueue(_STOP, None)  # the link goes down, as with the thread's last item
            self._inline_up = False
        if self._store is not None:
            self._store.close()
            self._store = None

    def submit(self, orders: Sequence[SubmitOrder]) -> None:
        self._enqueue(_SUBMIT, tuple(orders))

    def cancel(self, request: CancelOrder) -> None:
        self._enqueue(_CANCEL, request)

    def query_orders(self) -> list[OrderReport]:
        return self._reader().query_orders()

    def query_trades(self) -> list[TradeReport]:
        return self._reader().query_trades()

    def query_positions(self) -> list[BrokerPosition]:
        return self._reader().query_positions()

    def query_asset(self) -> BrokerAsset:
        return self._reader().query_asset()

    # ================================================================== market and day driver
    def set_instruments(self, infos: Sequence[InstrumentInfo]) -> None:
        """The day's reference data (prev close, limits, suspension, ST, listing day), by code."""
        infos = tuple(infos)
        for info in infos:
            if not isinstance(info, InstrumentInfo):
                raise ValueError(
                    f"set_instruments takes InstrumentInfo values, was {type(info).__name__} {info!r}"
                )
            try:
                classify(info.code, info.name, st=info.st)
            except UnknownInstrumentError as exc:
                raise ValueError(f"set_instruments: {exc}") from None
        self._call("set_instruments", infos)

    def on_quotes(self, quotes: Sequence[Quote]) -> None:
        """The market moved: snapshots in time order (called from the day driver's thread)."""
        self._enqueue(_QUOTES, tuple(quotes))

    def begin_day(self, day: date) -> None:
        """Start trading day `day`: yesterday's working orders expire (day orders), yesterday's
        buys become sellable (T+1). Idempotent for the current day; a later clock date whose day
        was not begun is begun by the first thing that reaches the broker on it."""
        if not isinstance(day, date) or isinstance(day, datetime):
            raise ValueError(f"begin_day takes a datetime.date, was {day!r}")
        self._call("begin_day", day)

    def end_day(self) -> None:
        """The close: every order still working is cancelled by the exchange (reports pushed)."""
        self._call("end_day")

    def set_position(self, code: str, qty: int, avg_price: Decimal) -> None:
        """Seed settled (sellable) shares, e.g. for the demo; cash does not change."""
        try:
            normalized = classify(code).code
        except (UnknownInstrumentError, TypeError) as exc:
            raise ValueError(f"set_position: {exc}") from None
        if isinstance(qty, bool) or not isinstance(qty, int) or qty < 0:
            raise ValueError(f"set_position: qty must be a whole number of shares ≥ 0, was {qty!r}")
        if not isinstance(avg_price, Decimal) or not avg_price.is_finite() or avg_price < 0:
            raise ValueError(f"set_position: avg_price must be a non-negative Decimal, was {avg_price!r}")
        self._call("set_position", normalized, qty, avg_price)

    def deposit(self, amount: Decimal) -> None:
        """Add cash to the account (银证转账 in)."""
        if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
            raise ValueError(f"deposit amount must be a positive Decimal, was {amount!r}")
        if amount != amount.quantize(Decimal("0.01")):
            raise ValueError(f"deposit amount must be in whole fen (0.01), was {amount}")
        self._call("deposit", amount)

    def drop_connection(self, reason: str = DEFAULT_DROP_REASON) -> None:
        """Simulate a lost connection: push ConnectionChanged(False), then push nothing."""
        self._call("link", False, reason)

    def restore_connection(self) -> None:
        """End a simulated drop: push ConnectionChanged(True); the client must query to catch up."""
        self._call("link", True, "连接恢复 (connection to the simulated broker restored)")

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Return once everything enqueued so far has been processed, committed and pushed."""
        with self._cond:
            target = self._enqueued
            if not self._cond.wait_for(lambda: self._completed >= target, timeout):
                raise TimeoutError(
                    f"simulated broker still busy after {timeout}s: {target - self._completed} items unprocessed"
                )

    def work_received(self) -> int:
        with self._cond:
            return self._enqueued

    def cash_identity(self) -> tuple[Decimal, Decimal]:
        """(cash, initial + deposits + sells − buys − fees) from the committed file: equal when the
        books are exact."""
        store = self._reader()
        cash = Decimal(store.meta("cash") or "0")
        expected = Decimal(store.meta("initial_cash") or "0") + Decimal(store.meta("deposits") or "0")
        for side, amount, fees in store.sum_trades():
            expected += (amount if side == Side.SELL.value else -amount) - fees
        return cash, expected

    # ================================================================== inbox and thread
    def _reader(self) -> SimStore | MemoryBooks:
        store = self._store
        if store is None:
            raise RuntimeError("the simulated broker is closed; connect() opens it again")
        return store

    def _enqueue(self, kind: int, payload: Any) -> None:
        with self._cond:
            if self._thread is not None:
                self._inbox.append((kind, self._clock.now(), payload))
                self._enqueued += 1
                self._cond.notify()
                return
        if self._inline_up:
            with self._proc_lock:  # stamped, processed and pushed in one go: in stamp order
                item = (kind, self._clock.now(), payload)
                with self._cond:
                    self._enqueued += 1
                self._run_batch([item])
            return
        item = (kind, self._clock.now(), payload)
        if self._store is None and kind != _SUBMIT and kind != _CANCEL:
            if kind == _CALL:
                raise RuntimeError("the simulated broker is closed; connect() opens it again")
            return  # quotes for a closed counter go nowhere
        # No thread (before connect, after close): answered here and now; the link is down, so
        # submits and cancels are refused "未连接" and nothing is booked. Counted like a queued item
        # so that wait_idle's "completed >= enqueued" stays exact.
        with self._cond:
            self._enqueued += 1
        self._run_batch([item])

    def _call(self, command: str, *args: Any) -> Any:
        call = _Call(command, args)
        self._enqueue(_CALL, call)
        if not call.done.wait(60):
            raise TimeoutError(f"simulated broker did not run {command} within 60s")
        if call.error is not None:
            raise call.error
        return call.result

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._inbox:
                    self._cond.wait()
                items, self._inbox = self._inbox, []
            self._run_batch(items)
            if items[-1][0] == _STOP:
                return

    def _run_batch(self, items: list[tuple[int, datetime, Any]]) -> None:
        """Process, commit, then push: the order that keeps Tiller behind the broker's file."""
        calls = [payload for kind, _, payload in items if kind == _CALL]
        with self._proc_lock:
            counter = self._counter
            try:
                self._process(counter, items)
                meta = counter.meta()
                written = self._written_meta
                if meta != written:  # only the entries that changed (cash, the next ids: not all seven)
                    counter.batch.meta.update((k, v) for k, v in meta.items() if written.get(k) != v)
                if counter.batch:
                    self._reader().write(counter.batch)
                    self._written_meta = meta
                reports = counter.out[:]
                if self._fill_latency or self._held:
                    reports = self._hold_fills(reports, items[-1][1], counter.link_up)
                self._flush_held = False
            except Exception as exc:
                # Nothing of the batch reached the file: forget it, reload, and go down like a
                # crashed counter; the client reconnects and queries (ARCHITECTURE.md invariant 1).
                log.exception(
                    "simulated broker failed on a batch of %d items; reloading its file", len(items)
                )
                reason = f"模拟柜台故障 (simulated broker failed: {exc})"
                reports = [ConnectionChanged(False, reason, self._clock.now())] if counter.link_up else []
                self._load()
                for call in calls:
                    if call.error is None:
                        call.error = RuntimeError(reason)
            finally:
                counter.out.clear()
                counter.batch = Batch()
        handler = self._handler
        if handler is not None:
            for report in reports:
                try:
                    handler(report)
                except Exception:
                    log.exception("report handler failed on %r", report)
        for call in calls:
            call.done.set()
        with self._cond:
            self._completed += len(items)
            self._cond.notify_all()

    def _process(self, counter: Counter, items: list[tuple[int, datetime, Any]]) -> None:
        parked = self._parked
        ack = self._ack_latency
        for kind, ts, payload in items:
            closing = kind == _CALL and payload.command == "end_day"
            if closing:
                self._flush_held = True  # the close: whatever is on the wire arrives first
            # What has arrived by now (submits on the wire, the exchange's answers to pending
            # cancels), in time order; submits first on a tie.
            while True:
                wire = parked[0][0] if parked else None
                confirm = counter.next_cancel_due()
                if wire is not None and (closing or wire <= ts) and (confirm is None or wire <= confirm):
                    arrival, _, parked_kind, parked_payload = heapq.heappop(parked)
                    self._process_one(counter, parked_kind, arrival, parked_payload)
                elif confirm is not None and (closing or confirm <= ts):
                    counter.confirm_cancel()
                else:
                    break
            if kind == _SUBMIT and ack and counter.link_up:
                heapq.heappush(parked, (ts + ack, next(self._wire_seq), kind, payload))
            else:
                self._process_one(counter, kind, ts, payload)

    def _hold_fills(self, reports: list[Any], now: datetime, link_up: bool) -> list[Any]:
        """Trade reports wait `fill_latency`; those whose time has come go out first (older)."""
        held = self._held
        if self._flush_held:
            self._flush_held = False
            now = datetime.max.replace(tzinfo=now.tzinfo)
        out = self._due_fills(now)  # older ones first
        fresh = []
        for report in reports:
            if type(report) is TradeReport and self._fill_latency:
                heapq.heappush(held, (report.ts + self._fill_latency, next(self._wire_seq), report))
            else:
                fresh.append(report)
        out += fresh
        out += self._due_fills(now)  # this batch's own, if already due: after its order reports
        return out if link_up else fresh  # while the link is down they are lost, as all reports

    def _due_fills(self, now: datetime) -> list[Any]:
        held, due = self._held, []
        while held and held[0][0] <= now:
            due.append(heapq.heappop(held)[2])
        return due

    @staticmethod
    def _process_one(counter: Counter, kind: int, ts: datetime, payload: Any) -> None:
        counter.roll_if_due(ts)
        if kind == _SUBMIT:
            for command in payload:
                counter.submit(command, ts)
        elif kind == _QUOTES:
            for quote in payload:
                counter.on_quote(quote)
        elif kind == _CANCEL:
            counter.cancel(payload, ts)
        elif kind == _CALL:
            try:
                payload.result = getattr(counter, payload.command)(ts, *payload.args)
            except ValueError as exc:  # refused before it changed anything
                payload.error = exc
        elif kind == _STOP:
            counter.set_link(False)
