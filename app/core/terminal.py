"""The Terminal: the one face the window, the scheduler and the command line talk to.

Commands go in (each becomes a message on the engine's queue, so it is handled on the engine
thread in order with everything else); immutable events come out to subscribers. Queries
return snapshots, never the engine's own objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from app.core.bars import Bar, BarHistory
from app.core.engine import Engine, Listener
from app.core.eod.service import EodResult, EodStore, close_day
from app.core.eod.settlement import Settlement
from app.core.execution.base import ExecutionProgress
from app.core.messages import (
    AccountSnapshot,
    AlertRaised,
    Call,
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
from app.core.risk import ArmingError, LiveState, LiveStatus, RiskSettingError, TradingState, arming
from app.core.snapshot import TerminalSnapshot, take_snapshot, trades_of_day
from app.core.summary import DaySummary, summarize
from app.domain.clock import CN_TZ
from app.domain.identifiers import ClientOrderId
from app.domain.market import InstrumentInfo, Quote
from app.domain.reports import TradeReport
from app.domain.side import Side
from app.domain.signals import SignalBatch, SignalLine


@dataclass(frozen=True, slots=True)
class StrategyStatus:
    """A strategy as the Strategies panel lists it: its settings, when its signals were last
    fetched, and how far today's plan lines of it got (lines, of which done: handed or skipped)."""

    settings: StrategySettings
    last_fetch: datetime | None
    lines: int
    done: int


class Terminal:
    def __init__(self, engine: Engine, history: BarHistory | None = None) -> None:
        self._engine = engine
        self._history = history

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

    # ------------------------------------------------------------------ risk
    def kill_switch(self, who: str = "user", timeout: float = 10.0) -> int:
        """Halt new orders and cancel every working order, those still on their way to the broker
        included (cancelled as soon as it acknowledges them). Returns how many were asked to cancel.
        Trading stays halted (across restarts) until `set_trading_state("active")`. Should the write
        fail (the batch is then undone), it is tried again."""
        for _ in range(3):
            count = self._engine.call(lambda e: e.kill_switch(who), timeout)
            self._engine.wait_idle(timeout)
            if self.trading_state(timeout) == TradingState.HALTED.value:
                return count
        raise RiskSettingError("一键停止未能写入数据库 (the kill switch could not be saved): see the alerts")

    def set_trading_state(
        self, state: TradingState | str, who: str = "user", timeout: float = 10.0
    ) -> tuple[str, str]:
        """active | reducing (sells only) | halted (nothing new). Returns (old, new); audited."""
        result = self._engine.call(lambda e: e.set_trading_state(state, who), timeout)
        self._engine.wait_idle(timeout)
        if self.trading_state(timeout) != result[1]:
            raise RiskSettingError(f"交易状态未能保存，未改变 (not saved, unchanged): {result[0]}")
        return result

    def trading_state(self, timeout: float = 10.0) -> str:
        return self._engine.call(lambda e: e._require_risk().state.value, timeout)

    def set_risk(self, key: str, value: object, who: str = "user", timeout: float = 10.0) -> tuple[str, str]:
        """Change one risk setting at run time (validated on the engine thread; RiskSettingError
        says why not). Returns (old, new) as text once the change and its audit row are on disk
        (one commit); a change whose write failed is undone and raises."""
        old, new = self._engine.call(lambda e: e.set_risk(key, value, who), timeout)
        self._engine.wait_idle(timeout)
        if self.risk_settings(timeout).get(key) != new:
            raise RiskSettingError(f"风控参数未能保存，未改变 (not saved, unchanged): risk.{key} = {old}")
        return old, new

    def risk_settings(self, timeout: float = 10.0) -> dict[str, str]:
        """The risk settings in force, as text, with the trading state under "trading_state"."""

        def read(e: Engine) -> dict[str, str]:
            risk = e._require_risk()
            return {**risk.limits.as_dict(), "trading_state": risk.state.value}

        return self._engine.call(read, timeout)

    def risk_audit(self, timeout: float = 10.0) -> list[tuple]:
        """Every committed change (ts, who, key, old, new), oldest first."""
        return self._engine.call(lambda e: e.store.load_risk_audit(), timeout)

    # ------------------------------------------------------------------ live trading armed on purpose
    def arm(self, by: str = "user", timeout: float = 10.0) -> LiveStatus:
        """Arm the live account for the trading day (needs qmt.live_trading_enabled): orders are sent
        from now until the close. Returns the state once the arming and its audit row are on disk;
        ArmingError says why not (simulated setup, not enabled, the day is over, not saved)."""
        self._engine.call(lambda e: arming.arm(e, by), timeout)
        self._engine.wait_idle(timeout)
        status = self.live_status(timeout)
        if status.state is not LiveState.ARMED:
            raise ArmingError("布防未能保存，仍只观察不下单 (the arming was not saved: still observe-only)")
        return status

    def disarm(self, by: str = "user", timeout: float = 10.0) -> LiveStatus:
        """Back to observe-only: no new order is sent (cancels still go). Tried again should the write
        fail, since a rebuild from the file would otherwise bring the arming back."""
        for _ in range(3):
            self._engine.call(lambda e: arming.disarm(e, by), timeout)
            self._engine.wait_idle(timeout)
            status = self.live_status(timeout)
            if status.state is not LiveState.ARMED:
                return status
        raise ArmingError("撤防未能写入数据库 (the disarm could not be saved): see the alerts")

    def live_status(self, timeout: float = 10.0) -> LiveStatus:
        """simulated | observe_only | armed, with who armed and until when."""
        return self._engine.call(arming.status, timeout)

    def live_audit(self, timeout: float = 10.0) -> list[tuple]:
        """Every arm, disarm, expiry and order sent to the real account: (ts, who, action, detail)."""
        return self._engine.call(lambda e: e.store.load_live_audit(), timeout)

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

    # ------------------------------------------------------------------ what the window reads
    # Copies taken on the engine thread; call them off the GUI thread (app/ui/bridge.py does).
    def snapshot(self, mark: Callable[[], Any] | None = None, timeout: float = 10.0) -> TerminalSnapshot:
        """Everything the window shows, consistent as of one moment (app/core/snapshot.py); `mark()`
        runs on the engine thread in the same step (its result is `snapshot.mark`)."""
        return self._engine.call(lambda e: take_snapshot(e, mark=mark), timeout)

    def trades(self, timeout: float = 10.0) -> tuple[TradeReport, ...]:
        """Today's fills in booking order (events: TradeBooked)."""
        return self._engine.call(trades_of_day, timeout)

    def alerts(self, limit: int = 500, timeout: float = 10.0) -> tuple[AlertRaised, ...]:
        """The newest alerts of this session, oldest first (all are in the database; events: AlertRaised)."""
        return self._engine.call(lambda e: tuple(e.alerts)[-limit:] if limit > 0 else (), timeout)

    def day_alerts(self, limit: int = 500, timeout: float = 10.0) -> tuple[AlertRaised, ...]:
        """The trading day's committed alerts from the database, earlier sessions' too, the newest
        `limit` of them, newest first."""

        def read(e: Engine) -> tuple[AlertRaised, ...]:
            start = datetime.combine(e.oms.trading_day, time(0), CN_TZ)
            rows = e.store.load_alerts(start, start + timedelta(days=1), limit)
            return tuple(AlertRaised(level, category, message, ts) for ts, level, category, message in rows)

        return self._engine.call(read, timeout)

    def quotes(self, codes: Iterable[str] | None = None, timeout: float = 10.0) -> dict[str, Quote]:
        """The last quote of each code seen today (of `codes`, if given; events: QuotesUpdated)."""
        wanted = None if codes is None else list(codes)
        return self._engine.call(
            lambda e: dict(e.quotes) if wanted is None else {c: e.quotes[c] for c in wanted if c in e.quotes},
            timeout,
        )

    def connected(self, timeout: float = 10.0) -> bool:
        """Whether the broker is connected (events: ConnectionStateChanged)."""
        return self._engine.call(lambda e: bool(e.gateway.connected), timeout)

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

    def execution_progress(self, timeout: float = 10.0) -> dict[str, ExecutionProgress]:
        """How each line handed to execution stands (sent, filled, working, the policy's latest note)."""

        def read(e: Engine) -> dict[str, ExecutionProgress]:
            if e.execution is None:
                return {}
            out = {}
            for line_id in e.plan.lines:
                progress = e.execution.progress(line_id)
                if progress is not None:
                    out[line_id] = progress
            return out

        return self._engine.call(read, timeout)

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

    def last_prices(self, timeout: float = 10.0) -> dict[str, Decimal]:
        """The last traded price of each code the engine has seen (quotes, or the previous close)."""
        return self._engine.call(lambda e: dict(e.oms.last_prices), timeout)

    def account(self, timeout: float = 10.0) -> AccountSnapshot:
        return self._engine.call(lambda e: e.account_snapshot(), timeout)

    def day_summary(self, *, start_cash: Decimal, start_equity: Decimal, timeout: float = 10.0) -> DaySummary:
        """The day in numbers (orders, positions, cash, fees, P&L) as the books stand now."""
        return self._engine.call(
            lambda e: summarize(e, start_cash=start_cash, start_equity=start_equity), timeout
        )

    def instruments(self, timeout: float = 10.0) -> list[InstrumentInfo]:
        """Today's instruments (code, name, limits), by code."""
        return self._engine.call(lambda e: [e.oms.instruments[c] for c in sorted(e.oms.instruments)], timeout)

    def strategies(self, timeout: float = 10.0) -> list[StrategyStatus]:
        """Every strategy the plan knows (followed or not), by id, with its last fetch and today's lines."""

        def read(e: Engine) -> list[StrategyStatus]:
            fetches = e.store.load_last_fetches()
            out = []
            for sid in sorted(e.plan.strategies):
                lines = [x for x in e.plan.lines.values() if x.strategy_id == sid]
                done = sum(1 for x in lines if x.state.value in ("handed", "skipped"))
                out.append(StrategyStatus(e.plan.strategies[sid], fetches.get(sid), len(lines), done))
            return out

        return self._engine.call(read, timeout)

    def intraday_bars(self, code: str, timeout: float = 10.0) -> list[Bar]:
        """Today's minute bars of `code` up to the engine's now ([] without a bar history). Reads the
        feed on the caller's thread: call it off the GUI thread."""
        if self._history is None:
            return []
        now = self._engine.call(lambda e: e.clock.now(), timeout).astimezone(CN_TZ)
        return self._history.intraday(code, now.date(), now.time())

    def daily_bars(self, code: str, count: int = 120, timeout: float = 10.0) -> list[Bar]:
        """Up to `count` daily candles before today, oldest first ([] without a bar history)."""
        if self._history is None:
            return []
        day = self._engine.call(lambda e: e.oms.trading_day, timeout)
        return self._history.daily(code, day, count)

    def wait_idle(self, timeout: float = 10.0) -> None:
        self._engine.wait_idle(timeout)
