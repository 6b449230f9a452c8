"""The plan desk: today's plan of the account, on the engine thread.

It takes batches in (each planned order once: `OrderManager.take_in` and the `signal_lines` table),
plans them (planner.py), keeps the lines and every change with its reason, and hands approved
lines to the engine's `ExecutionService` as `ExecutionRequest`s, sells before buys. Everything it
changes is staged on the engine's store and committed with the engine's batch, so a line handed to
execution and the child orders placed for it reach the disk together; a handed line is never
handed again — not after a re-fetch, a re-plan nor a restart. Its events are published after the
commit, like the engine's.

Interventions (产品笔记 三.5): approve (or auto-approve at a set time unless paused), pause buys /
sells / all (optionally cancelling working children), resume, skip a line, edit a line (quantity,
policy, price offset), cancel an order, cancel all. Each takes effect at once and is recorded with
who and when (the `plan_audit` table, and on the line's changes).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.core.execution.base import ExecutionRequest, ExecutionService
from app.core.planning.model import (
    POLICIES,
    ZERO,
    AuditEntry,
    Change,
    LineProgress,
    LineSource,
    LineState,
    PlanError,
    PlanLine,
    PlanLineAdded,
    PlanLineChanged,
    PlanLineSkipped,
    PlanSnapshot,
    PlanStateChanged,
    PlanStatus,
    StrategySettings,
    TargetBatch,
    check_offset,
)
from app.core.planning.planner import PlanInputs, buy_cost, finish, line_price, plan
from app.domain.clock import CN_TZ, TimerHandle
from app.domain.errors import QuantityError
from app.domain.quantity import check_quantity, round_down_to_lot
from app.domain.side import Side
from app.domain.signals import SignalBatch

if TYPE_CHECKING:
    from app.core.engine import Engine

log = logging.getLogger(__name__)
_WAITING = (LineState.PLANNED, LineState.APPROVED)
_AUTO_APPROVE = "plan_auto_approve"  # meta key: the standing auto-approve time (HH:MM:SS, or "")


class PlanDesk:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.day: date = engine.trading_day
        self.status = PlanStatus(self.day)
        self.strategies: dict[str, StrategySettings] = {}
        self.lines: dict[str, PlanLine] = {}  # by line id (unique in the day), in plan order
        self._seq: dict[str, int] = {}
        self.audit: list[AuditEntry] = []
        self._timer: TimerHandle | None = None

    # ------------------------------------------------------------------ loading
    def load(self, day: date) -> None:
        """Today's plan as last committed (a restart, a rebuild, a new day)."""
        store = self.engine.store
        strategies = {s.strategy_id: s for s in store.load_strategies()}  # everything read first:
        status, lines = store.load_plan(day)  # a failed read changes nothing
        audit = store.load_plan_audit(day)
        self.day = day
        self.strategies = strategies
        self.status = status or PlanStatus(day)
        self.lines, self._seq = {}, {}
        for line in lines:
            self._seq[line.line_id] = len(self._seq)
            self.lines[line.line_id] = line
        self.audit = audit
        if status is None:  # a new day: the standing auto-approve time carries over
            standing = store.load_meta(_AUTO_APPROVE)
            if standing:
                self.status = replace(self.status, auto_approve_at=time.fromisoformat(standing))
        self._schedule_auto_approve()

    def carry(
        self, memory: tuple[dict[str, PlanLine], PlanStatus, list[AuditEntry], dict[str, StrategySettings]]
    ) -> None:
        """After a failed commit and a reload: what the desk had answered (lines, pauses, approvals,
        settings, audit) but the file lost is staged again, so the plan stays what callers were told.
        A line handed in the lost batch stays handed (never handed twice); its children were recorded
        as never sent, and the line says so."""
        lines, status, audit, strategies = memory
        now = self._now()
        for line_id, line in lines.items():
            if self.lines.get(line_id) == line:
                continue
            stored = self.lines.get(line_id)
            if line.state is LineState.HANDED and (stored is None or stored.state is not LineState.HANDED):
                reason = "数据库写入失败，子委托未发送 (a commit failed: this line's children were not sent)"
                line = line.changed(Change("handed", reason, None, None, "engine", now))
            self._put(line)
        if status != self.status:
            self.status = status
            self.engine.store.stage_plan_status(status)
        stored_audit = set(self.audit)
        for entry in audit:
            if entry not in stored_audit:
                self.audit.append(entry)
                self.engine.store.stage_plan_audit(self.day, entry)
        for sid, settings in strategies.items():
            if self.strategies.get(sid) != settings:
                self.strategies[sid] = settings
                self.engine.store.stage_strategy(settings, "engine", now)
        self._schedule_auto_approve()

    def memory(self) -> tuple[dict[str, PlanLine], PlanStatus, list[AuditEntry], dict[str, StrategySettings]]:
        return dict(self.lines), self.status, list(self.audit), dict(self.strategies)

    # ------------------------------------------------------------------ queries
    def snapshot(self) -> PlanSnapshot:
        handed = {x.line_id: x.strategy_id for x in self.lines.values() if x.state is LineState.HANDED}
        sums: dict[str, list[int]] = {}
        for o in self.engine.oms.orders.values() if handed else ():
            if handed.get(o.signal_id) == o.strategy_id:
                acc = sums.setdefault(o.signal_id, [0, 0, 0])
                acc[0] += o.qty if o.status.is_working else o.filled_qty
                acc[1] += o.filled_qty
                acc[2] |= o.status.is_working
        progress = {i: LineProgress(*(sums.get(i) or (0, 0, 0))[:2], bool((sums.get(i) or (0, 0, 0))[2]))
                    for i in handed}  # fmt: skip
        return PlanSnapshot(self.status, tuple(self.lines.values()), tuple(self.audit), progress)

    def _sent(self) -> dict[str, int]:
        """Shares in child orders (working, or filled) of each handed line: one pass over the orders."""
        handed = {x.line_id: x.strategy_id for x in self.lines.values() if x.state is LineState.HANDED}
        sent: dict[str, int] = {}
        if handed:
            for o in self.engine.oms.orders.values():
                if handed.get(o.signal_id) == o.strategy_id:
                    sent[o.signal_id] = sent.get(o.signal_id, 0) + (
                        o.qty if o.status.is_working else o.filled_qty
                    )
        return sent

    def pending_qty(self, line: PlanLine, sent: dict[str, int] | None = None) -> int:
        """Shares of the line not yet in any child order (all of it until it is handed)."""
        if line.state in _WAITING:
            return line.qty
        if line.state is LineState.SKIPPED:
            return 0
        execution = self.engine.execution
        if execution is not None:
            progress = execution.progress(line.line_id)
            if progress is not None and not progress.working:
                return 0  # the policy is done with it (filled, or given up): it needs nothing more
        if sent is None:
            sent = self._sent()
        return max(0, line.qty - sent.get(line.line_id, 0))

    def inputs(self, exclude: str | None = None) -> PlanInputs:
        """The account and market as the planner sees them now, less what plan lines still need."""
        oms = self.engine.oms
        working = oms.working_orders()
        pending_sells: dict[tuple[str, str], int] = {}
        pending_code: dict[str, int] = {}
        pending_cash = ZERO
        sent = self._sent()
        for line in self.lines.values():
            if line.line_id == exclude:
                continue
            left = self.pending_qty(line, sent)
            if left <= 0:
                continue
            if line.side is Side.SELL:
                key = (line.strategy_id, line.code)
                pending_sells[key] = pending_sells.get(key, 0) + left
                pending_code[line.code] = pending_code.get(line.code, 0) + left
            else:
                pending_cash += buy_cost(line, oms.fees, left)
        positions = oms.positions
        ledger = oms.ledger

        def strategy_sellable(strategy_id: str, code: str) -> int:
            own = ledger.sellable(strategy_id, code, positions.get(code), working)
            return own - pending_sells.get((strategy_id, code), 0)

        def holding(strategy_id: str, code: str) -> int:
            row = ledger.get(strategy_id, code)
            return 0 if row is None else row.total

        last = oms.last_prices
        market_value = sum((p.total * last.get(c, p.avg_cost) for c, p in positions.items()), ZERO)
        return PlanInputs(
            instruments=oms.instruments,
            last_prices=last,
            strategy_sellable=strategy_sellable,
            account_sellable={c: p.sellable - pending_code.get(c, 0) for c, p in positions.items()},
            strategy_holding=holding,
            strategy_codes=lambda s: [p.code for p in ledger.of_strategy(s)],
            cash_budget=oms.cash.available - pending_cash,
            investor_capital=oms.cash.cash + market_value,
            fees=oms.fees,
        )

    # ------------------------------------------------------------------ strategies
    def set_strategy(self, settings: StrategySettings, who: str) -> None:
        now = self._now()
        old = self.strategies.get(settings.strategy_id)
        self.strategies[settings.strategy_id] = settings
        self.engine.store.stage_strategy(settings, who, now)
        detail = f"{old} -> {settings}" if old else str(settings)
        self._record(who, "set_strategy", "", detail)

    def switch_strategy(
        self, old: str, new: str, who: str, *, new_holds: Iterable[str] | None = None,
        settings: StrategySettings | None = None,
    ) -> list[PlanLine]:  # fmt: skip
        """Follow `new` instead of `old`: old's positions that new holds are re-attributed to new; the
        rest are rotated out by sell lines the investor sees and approves like any other."""
        if old not in self.strategies:
            raise PlanError(f"未跟踪的策略 (not a known strategy): {old}")
        if settings is None:
            if new not in self.strategies:
                raise PlanError(f"新策略需设置分配资金 (the new strategy needs its settings): {new}")
            settings = self.strategies[new]
        if settings.strategy_id != new or old == new:
            raise PlanError(
                f"策略切换参数不一致 (switch {old} -> {new} with settings of {settings.strategy_id})"
            )
        self.set_strategy(replace(self.strategies[old], followed=False), who)
        self.set_strategy(replace(settings, followed=True), who)
        oms = self.engine.oms
        holds = set(new_holds) if new_holds is not None else {p.code for p in oms.ledger.of_strategy(new)}
        rotate: list[PlanLine] = []
        for row in oms.ledger.of_strategy(old):
            if row.code in holds:
                for changed in oms.ledger.transfer(old, new, row.code):
                    self.engine.store.stage_strategy_position(changed)
                self._record(who, "transfer", "", f"{row.code}: {old} -> {new}")
                continue
            line_id = self._unique_id(f"rot:{old[:12]}:{row.code}")
            reason = f"策略切换，轮出 (rotated out: switching from {old} to {new}) {row.total}"
            rotate.append(
                PlanLine(
                    line_id=line_id, strategy_id=old, trading_day=self.day, code=row.code, side=Side.SELL,
                    requested_qty=row.total, qty=row.total, price=None, policy=settings.policy,
                    price_offset=settings.price_offset, source=LineSource.ROTATION,
                    changes=(Change("rotated", reason, None, row.total, who, self._now()),),
                )
            )  # fmt: skip
        self._record(who, "switch_strategy", "", f"{old} -> {new}")
        return self._add(finish(rotate, self.inputs()))

    # ------------------------------------------------------------------ planning
    def add_batches(
        self, batches: Sequence[SignalBatch | TargetBatch], who: str = "planner"
    ) -> list[PlanLine]:
        """Plan the batches' new lines; lines already planned (or taken in) are left as they are."""
        now = self._now()
        fresh: list[SignalBatch | TargetBatch] = []
        for batch in batches:
            if batch.trading_day != self.day:
                self.engine._alert(
                    "warning", "plan",
                    f"批次日期不是今日，未计划 (batch of {batch.trading_day} is not today's {self.day}): "
                    f"{batch.strategy_id}",
                )  # fmt: skip
                continue
            if isinstance(batch, SignalBatch):
                new, _ = self.engine.oms.take_in(batch, now)
                if new:
                    fresh.append(replace(batch, lines=tuple(new)))
            else:
                fresh.append(batch)
        taken = {(x.strategy_id, x.line_id) for x in self.lines.values()}
        lines = plan(fresh, self.strategies, self.inputs(), taken=taken)
        added = self._add(lines)
        if added:
            self._record(who, "plan", "", f"{len(added)} lines")
        return added

    def _add(self, lines: Sequence[PlanLine]) -> list[PlanLine]:
        added = []
        for line in lines:
            owner = self.lines.get(line.line_id)
            if owner is not None:
                if owner.strategy_id == line.strategy_id:
                    continue
                line = replace(line, line_id=self._unique_id(f"{line.line_id}@{line.strategy_id[:12]}"))
            self._put(line)
            self.engine.emit(PlanLineSkipped(line) if line.skipped else PlanLineAdded(line))
            added.append(line)
        return added

    def _unique_id(self, base: str) -> str:
        line_id, n = base[:40], 1
        while line_id in self.lines:
            n += 1
            line_id = f"{base[:36]}#{n}"
        return line_id

    def _put(self, line: PlanLine) -> None:
        seq = self._seq.setdefault(line.line_id, len(self._seq))
        self.lines[line.line_id] = line
        self.engine.store.stage_plan_line(seq, line)

    # ------------------------------------------------------------------ interventions
    def approve(self, who: str) -> int:
        """Approve every line waiting for approval; returns how many. Lines of a paused side wait."""
        now = self._now()
        count = 0
        for line in self._ordered():
            if line.state is LineState.PLANNED:
                self._change(line, Change("approved", f"已批准 (approved by {who})", None, None, who, now),
                             state=LineState.APPROVED)  # fmt: skip
                count += 1
        self._set_status(replace(self.status, approved_at=now, approved_by=who), "approve", who)
        self._dispatch()
        return count

    def pause(self, side: Side | None, who: str, *, cancel_working: bool = False) -> None:
        buys = self.status.paused_buys or side in (None, Side.BUY)
        sells = self.status.paused_sells or side in (None, Side.SELL)
        what = {None: "pause_all", Side.BUY: "pause_buys", Side.SELL: "pause_sells"}[side]
        self._set_status(replace(self.status, paused_buys=buys, paused_sells=sells), what, who,
                         "cancel working" if cancel_working else "")  # fmt: skip
        execution = self.engine.execution
        if execution is not None:
            execution.pause(side, cancel_working=cancel_working)
        elif cancel_working:
            from app.core.messages import CancelAllOrders

            self.engine.cancel_all(CancelAllOrders(side))

    def resume(self, side: Side | None, who: str) -> None:
        buys = self.status.paused_buys and side is Side.SELL
        sells = self.status.paused_sells and side is Side.BUY
        self._set_status(replace(self.status, paused_buys=buys, paused_sells=sells),
                         {None: "resume", Side.BUY: "resume_buys", Side.SELL: "resume_sells"}[side], who)  # fmt: skip
        if self.engine.execution is not None:
            self.engine.execution.resume(side)
        self._dispatch()

    def skip(self, line_id: str, who: str, reason: str = "") -> PlanLine:
        line = self._line(line_id)
        if line.state is LineState.SKIPPED:
            raise PlanError(f"此行已跳过 (line {line_id} is already skipped)")
        now = self._now()
        if line.state is LineState.HANDED and self.engine.execution is not None:
            self.engine.execution.stop(line_id, cancel_working=True)
        text = f"人工跳过 (skipped by {who})" + (f": {reason}" if reason else "")
        line = self._change(line, Change("skipped", text, line.qty, None, who, now), state=LineState.SKIPPED)
        self._record(who, "skip", line_id, reason)
        return line

    def hold(self, line_id: str, reason: str, who: str) -> PlanLine:
        """Say on a line still waiting why it was not sent now (e.g. a live account observe-only): a `held`
        change, the line's state unchanged (it is sent once allowed); the same reason is not repeated."""
        line = self._line(line_id)
        if line.state not in _WAITING:
            raise PlanError(f"此行已交执行或已跳过 (line {line_id} is {line.state.value})")
        last = line.changes[-1] if line.changes else None
        if last is not None and last.kind == "held" and last.reason == reason:
            return line
        return self._change(line, Change("held", reason, None, None, who, self._now()))

    def edit(
        self, line_id: str, who: str, *, qty: int | None = None, policy: str | None = None,
        price_offset: Decimal | None = None,
    ) -> PlanLine:  # fmt: skip
        """Change a line not yet handed to execution. The new quantity must keep every plan rule (lot,
        the strategy's sellable shares, cash after fees); a refused edit changes nothing."""
        line = self._line(line_id)
        if line.state not in _WAITING:
            raise PlanError(
                f"此行已交执行或已跳过，不能修改 (line {line_id} is {line.state.value}: skip it and cancel its orders)"
            )
        values: dict[str, Any] = {}
        notes: list[str] = []
        if policy is not None and policy != line.policy:
            if policy not in POLICIES:
                raise PlanError(f"执行方式未知 (unknown policy), was {policy!r}; known: {sorted(POLICIES)}")
            values["policy"] = policy
            notes.append(f"执行方式 {line.policy} -> {policy}")
        inputs = self.inputs(exclude=line_id)
        if price_offset is not None and price_offset != line.price_offset:
            check_offset(price_offset)
            info = inputs.instruments.get(line.code)
            values["price_offset"] = price_offset
            if info is not None:
                values["price"] = line_price(info, inputs.last_prices.get(line.code), line.side, price_offset)
            notes.append(f"价格偏移 {line.price_offset} -> {price_offset}")
        new_qty = line.qty
        if qty is not None and qty != line.qty:
            if type(qty) is not int or qty <= 0:
                raise PlanError(
                    f"数量须为正整数，不要交易请跳过 (qty must be a positive whole number; skip the line instead), was {qty!r}"
                )
            new_qty = qty
            values["qty"] = qty
            notes.append(f"数量 {line.qty} -> {qty}")
        if not values:
            return line
        candidate = replace(line, **values)
        self._check_edit(candidate, inputs)
        text = f"人工修改 (edited by {who}): " + "；".join(notes)
        before = line.qty if new_qty != line.qty else None
        line = self._change(line, Change("edited", text, before, new_qty if before is not None else None, who,
                                         self._now()), **values)  # fmt: skip
        self._record(who, "edit", line_id, "；".join(notes))
        return line

    def _check_edit(self, line: PlanLine, inputs: PlanInputs) -> None:
        if line.side is Side.BUY:
            if round_down_to_lot(line.code, line.qty) != line.qty:
                raise PlanError(
                    f"买入数量不符合交易单位 (buy quantity breaks the board's lot rule): {line.code} {line.qty}"
                )
            cost = buy_cost(line, inputs.fees)
            if cost > inputs.cash_budget:
                raise PlanError(
                    f"现金不足 (not enough cash after fees): needs {cost}, available for the plan {inputs.cash_budget}"
                )
            return
        can = min(
            inputs.strategy_sellable(line.strategy_id, line.code), inputs.account_sellable.get(line.code, 0)
        )
        if line.qty > can:
            raise PlanError(
                f"可卖数量不足 (not enough sellable shares of the strategy): {line.code} 可卖 {can}, was {line.qty}"
            )
        try:
            check_quantity(line.code, Side.SELL, line.qty, holding=inputs.account_sellable.get(line.code, 0))
        except QuantityError as exc:
            raise PlanError(str(exc)) from exc

    def resize(self, line_id: str, qty: int, reason: str, who: str = "risk") -> PlanLine:
        """A line made smaller by a check outside the planner (the risk engine's limits): kept as a
        change with its reason; a line resized to zero is skipped. Only lines not yet handed."""
        line = self._line(line_id)
        if line.state not in _WAITING:
            raise PlanError(f"此行已交执行或已跳过 (line {line_id} is {line.state.value})")
        if type(qty) is not int or not 0 <= qty <= line.qty:
            raise PlanError(f"只能减少数量 (a resize may only lower the quantity {line.qty}), was {qty!r}")
        if line.side is Side.BUY and qty:
            qty = round_down_to_lot(line.code, qty)
        values: dict[str, Any] = {"qty": qty}
        if qty == 0:
            values["state"] = LineState.SKIPPED
        line = self._change(line, Change("risk", reason, line.qty, qty, who, self._now()), **values)
        self._record(who, "resize", line_id, reason)
        return line

    def cancel_order(self, client_order_id: str, who: str) -> None:
        self._record(who, "cancel_order", "", client_order_id)
        self.engine.cancel(client_order_id)  # type: ignore[arg-type]

    def kill(self, who: str) -> None:
        """The plan's part of the kill switch: every side paused and every working child cancelled
        (the risk engine's kill switch refuses new orders on top)."""
        self._record(who, "kill_switch", "", "")
        self.pause(None, who, cancel_working=True)

    def cancel_all(self, side: Side | None, who: str) -> None:
        from app.core.messages import CancelAllOrders

        self._record(who, "cancel_all", "", "" if side is None else side.value)
        self.engine.cancel_all(CancelAllOrders(side))

    def set_auto_approve(self, at: time | None, who: str) -> None:
        """Approve at `at` today and on the following days (a standing setting), unless paused."""
        self.engine.store.stage_meta(_AUTO_APPROVE, "" if at is None else at.isoformat())
        self._set_status(replace(self.status, auto_approve_at=at), "auto_approve", who,
                         "off" if at is None else at.isoformat())  # fmt: skip
        self._schedule_auto_approve()

    # ------------------------------------------------------------------ handing to execution
    def _dispatch(self) -> None:
        """Hand approved lines of sides not paused to execution: sells first, each line once."""
        if self.status.approved_at is None:
            return
        execution = self.engine.execution
        for line in self._ordered():
            if line.state is not LineState.APPROVED:
                continue
            if (line.side is Side.BUY and self.status.paused_buys) or (
                line.side is Side.SELL and self.status.paused_sells
            ):
                continue
            if execution is None:
                self.engine._alert(
                    "error", "plan", f"无执行服务，计划行未执行 (no execution service): {line.line_id}"
                )
                return
            self._hand(line, execution)

    def _hand(self, line: PlanLine, execution: ExecutionService) -> None:
        # in the execution policies' terms (app/core/execution/service.py ExecParams): the line's price
        # offset is the auction's, and the price its cash was planned at bounds its buy children
        params = {"auction_offset": str(line.price_offset)}
        if line.price is not None:
            params["limit_price"] = str(line.price)
        request = ExecutionRequest(
            line.line_id, line.strategy_id, line.code, line.side, line.qty, line.policy, params
        )
        # marked handed first: even if the service raises halfway, the line is never handed again
        line = self._change(line, Change("handed", f"已交执行 (handed to execution: {line.policy})", None, None,
                                         "planner", self._now()), state=LineState.HANDED)  # fmt: skip
        try:
            execution.start(request)
        except Exception as exc:
            log.exception("execution.start failed for %s", line.line_id)
            self.engine._alert(
                "error", "plan", f"执行服务出错 (the execution service failed) {line.line_id}: {exc}"
            )

    # ------------------------------------------------------------------ helpers
    def _ordered(self) -> list[PlanLine]:
        return sorted(self.lines.values(), key=lambda x: (x.side is Side.BUY, self._seq[x.line_id]))

    def _line(self, line_id: str) -> PlanLine:
        line = self.lines.get(line_id)
        if line is None:
            raise PlanError(f"计划中没有此行 (no line {line_id!r} in today's plan)")
        return line

    def _change(self, line: PlanLine, change: Change, **values: Any) -> PlanLine:
        line = line.changed(change, **values)
        self._put(line)
        self.engine.emit(PlanLineSkipped(line) if line.skipped else PlanLineChanged(line))
        return line

    def _set_status(self, status: PlanStatus, action: str, who: str, detail: str = "") -> None:
        self.status = status
        self.engine.store.stage_plan_status(status)
        self._record(who, action, "", detail)
        self.engine.emit(PlanStateChanged(status, action, who))

    def _record(self, who: str, action: str, line_id: str, detail: str) -> None:
        entry = AuditEntry(self._now(), who, action, line_id, detail)
        self.audit.append(entry)
        self.engine.store.stage_plan_audit(self.day, entry)

    def _now(self) -> datetime:
        return self.engine.clock.now()

    def _schedule_auto_approve(self) -> None:
        if self._timer is not None:
            self.engine.cancel_timer(self._timer)
            self._timer = None
        at = self.status.auto_approve_at
        if at is None or self.status.approved_at is not None:
            return
        self._timer = self.engine.schedule_at(datetime.combine(self.day, at, CN_TZ), self._auto_approve,
                                              "plan auto-approve")  # fmt: skip

    def _auto_approve(self) -> None:
        self._timer = None
        if self.status.approved_at is not None:
            return
        if self.status.paused_buys and self.status.paused_sells:
            self._record(
                "auto", "auto_approve_skipped", "", "计划已暂停，未自动批准 (paused: not auto-approved)"
            )
            return
        guard = getattr(self.engine.risk, "live_guard", None)
        why = None if guard is None else guard.refusal(self._now())
        if why is not None:  # a live account observe-only: the lines wait in the plan, nothing is handed
            self._record(
                "auto",
                "auto_approve_skipped",
                "",
                f"观察模式，未自动批准 (observe-only: not auto-approved): {why}",
            )
            return
        self.approve("auto")
