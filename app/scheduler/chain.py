"""The trading day's chain: fetch -> plan -> approve -> execute -> monitor -> close and sync -> backup.

Each scheduler job only posts a command to the engine (plan.py); the commands do their work on the
engine thread through the plan desk (`engine.plan`, app/core/planning) and the execution service
(`engine.execution`, app/core/execution). Batches reach the engine as `SignalsFetched` messages (the
HTTP fetch worker, the file inbox); `plan_on_arrival` plans each new batch when it is stored, and,
once today's plan has been approved (automatic mode), approves its lines at once unless paused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.core.execution.base import ExecutionRequest
from app.core.messages import Call, SignalsReceived
from app.core.planning.model import PlanError
from app.domain.signals import CLOSE
from app.scheduler.plan import Command, Handler, Job

Say = Callable[[str], None]


def plan_arrivals(engine: Any, batches: list[Any], who: str = "planner") -> list[Any]:
    """On the engine thread: plan the batches (lines already taken in are left alone); if today's plan
    is already approved, approve the new lines too (lines of a paused side still wait)."""
    desk = engine.plan
    today = [b for b in batches if b.trading_day == desk.day]
    if not today:
        return []
    added = desk.add_batches(today, who)
    at_close_policy(engine, added)
    added = [desk.lines.get(x.line_id, x) for x in added]
    if (
        added
        and desk.status.approved_at is not None
        and not (desk.status.paused_buys and desk.status.paused_sells)
        and not_sending(engine) is None  # observe-only: new lines wait too (the windows say so)
    ):
        desk.approve("auto")
    return added


def plan_on_arrival(engine: Any, say: Say | None = None) -> Callable[[object], None]:
    """An engine listener: each batch stored for the first time is planned by a `Call` posted back to
    the engine (a listener only hands events on)."""

    def listener(event: object) -> None:
        if not isinstance(event, SignalsReceived) or not event.new_batch_ids:
            return
        new = set(event.new_batch_ids)
        batches = [b for b in event.batches if b.batch_id in new]

        def run(e: Any) -> None:
            added = plan_arrivals(e, batches)
            if say is None or not added:
                return
            skipped = [x for x in added if x.skipped]
            approved = e.plan.status.approved_at is not None
            say(
                f"[{e.clock.now():%H:%M:%S}] 已计划 (planned) {len(added)} 行 (lines)"
                + (f", {len(skipped)} 行跳过 (skipped)" if skipped else "")
                + (
                    "; 计划已批准，新行直接批准 (the plan is approved: the new lines are approved at once)"
                    if approved
                    else ""
                )
            )
            for x in skipped:
                why = next((c.reason for c in reversed(x.changes) if c.kind == "skipped"), "")
                say(f"    {x.line_id} {x.code} {x.side.value} {x.requested_qty}: {why}")

        engine.post(Call(run))

    return listener


# ------------------------------------------------------------------------------ the day's jobs
def at_close_policy(engine: Any, lines: list[Any]) -> None:
    """A line to trade at the close (BigQuant's order_dt 15:00) under the opening-auction default
    goes to the closing auction instead (a recorded edit, before it is approved)."""
    for line in lines:
        if not line.skipped and line.exec_time >= CLOSE and line.policy == "auction_open":
            try:
                engine.plan.edit(line.line_id, "scheduler", policy="auction_close")
            except PlanError as exc:  # the line stays as planned; the investor sees why
                engine._alert(
                    "warning", "plan", f"{line.line_id}: 未改为收盘集合竞价 (not moved to the close): {exc}"
                )


def not_sending(engine: Any) -> str | None:
    """On the engine thread: why no new order may leave now (a live account observe-only: not enabled or
    not armed, app/core/risk/arming.py), or None (armed, or the simulated setup, which has no guard)."""
    risk = getattr(engine, "risk", None)
    guard = None if risk is None else getattr(risk, "live_guard", None)
    return None if guard is None else guard.refusal(engine.clock.now())


def day_handlers(
    request_fetch: Callable[[Any], None],
    close: Callable[[Any, Any, Any], None],
    say: Say,
    *,
    source: str = "",
    sending: Callable[[Any], str | None] = not_sending,
) -> dict[Command, Handler]:
    """The commands of the scheduler's jobs (each runs on the engine thread, posted by a timer or by
    APScheduler). `request_fetch(day)` hands the fetch to a worker thread (never HTTP or files here);
    `close(engine, day, job)` runs the close of the day (reconcile, settle, performance, sync).

    `sending(engine)` says why nothing may be sent now (a live account observe-only), or None. Then the
    approval and the execution windows send nothing: the plan is not approved, its lines stay waiting in
    it, each marked why (a `held` change), and every window says, line by line, what it would have sent.
    Armed later (a restart with --arm the same day), the approval catches up and they go."""

    def stamp(e: Any) -> str:
        return f"[{e.clock.now():%H:%M:%S}]"

    def note(job: Job) -> str:
        return f" — {job.note}" if job.note else ""

    def fetch(e: Any, job: Job) -> None:
        say(
            f"{stamp(e)} 获取计划订单 (fetching planned orders){f' from {source}' if source else ''}{note(job)}"
        )
        request_fetch(job.day)

    def held(e: Any, job: Job, name: str, why: str, policies: tuple[str, ...] | None) -> None:
        desk = e.plan
        waiting = [
            x for x in desk._ordered()
            if x.state.value in ("planned", "approved") and (policies is None or x.policy in policies)
        ]  # fmt: skip
        say(f"{stamp(e)} {name}: 观察模式，未发送 (observe-only: NOT sent) {len(waiting)} 行 (lines) — {why}"
            f"{note(job)}")  # fmt: skip
        for x in waiting:
            price = "" if x.price is None else f" @ {x.price}"
            say(f"    未发送 (not sent) {x.line_id} {x.code} {x.side.value} {x.qty}{price} ({x.policy})")
            desk.hold(x.line_id, f"观察模式，未发送 (observe-only, not sent): {why}", "scheduler")

    def approve(e: Any, job: Job) -> None:
        desk = e.plan
        why = sending(e)
        if why is not None:
            held(e, job, "计划未批准 (the plan is not approved)", why, None)
            return
        if desk.status.paused_buys and desk.status.paused_sells:
            say(f"{stamp(e)} 计划已暂停，未自动批准 (the plan is paused: not approved){note(job)}")
            return
        count = desk.approve("auto")
        waiting = sum(1 for x in desk.lines.values() if x.state.value == "approved")
        lines = (
            f"{count} 行 (lines)"
            if count
            else "尚无计划行，之后到达的将直接批准 (no lines yet: lines arriving later are approved at once)"
        )
        say(
            f"{stamp(e)} 计划自动批准 (plan approved automatically): {lines}"
            + (f", {waiting} 行因暂停等待 (waiting: paused)" if waiting else "")
            + note(job)
        )

    def window(name: str, policies: tuple[str, ...]) -> Handler:
        def run(e: Any, job: Job) -> None:
            desk = e.plan
            why = sending(e)
            if why is not None:
                held(e, job, name, why, policies)
                return
            if desk.status.approved_at is None:
                say(f"{stamp(e)} {name}: 计划未批准，不下单 (the plan is not approved: no orders){note(job)}")
                return
            mine = [x for x in desk.lines.values() if x.policy in policies and x.state.value == "handed"]
            say(
                f"{stamp(e)} {name}: {len(mine)} 行由执行服务执行 (lines worked by the execution service){note(job)}"
            )

        return run

    def monitor(e: Any, job: Job) -> None:
        working = len(e.oms.working_orders())
        snap = e.account_snapshot()
        lines = e.plan.snapshot()
        handed = [x for x in lines.lines if x.state.value == "handed"]
        filled = sum(
            1 for x in handed if (p := lines.progress.get(x.line_id)) is not None and p.filled >= x.qty
        )
        halted = f", 暂停交易 (halted): {e.halted}" if getattr(e, "halted", None) else ""
        say(f"{stamp(e)} 盘中检查 (monitor): 计划行 (lines) {len(handed)} 已交执行 (handed), {filled} 已成交 (filled); "
            f"在途委托 (working) {working}, 资金 (cash) {snap.cash}, 总资产 (total) {snap.total_asset}{halted}")  # fmt: skip

    def post_close(e: Any, job: Job) -> None:
        close(e, job.day, job)

    def backup(e: Any, job: Job) -> None:
        database = getattr(e.store, "database", None)
        if database is None:
            return
        path = database.backup(now=e.clock.now())
        say(f"{stamp(e)} 数据库已备份 (database backed up): {path}")

    return {
        Command.FETCH: fetch,
        Command.APPROVE: approve,
        Command.OPEN_AUCTION: window("开盘集合竞价 (opening auction)", ("auction_open",)),
        Command.CONTINUOUS: window(
            "连续竞价 (continuous trading)", ("auction_open", "limit", "best5", "twap", "vwap")
        ),
        Command.MONITOR: monitor,
        Command.CLOSE_AUCTION: window("收盘集合竞价 (closing auction)", ("auction_close",)),
        Command.POST_CLOSE: post_close,
        Command.BACKUP: backup,
    }


def resume_handed(engine: Any) -> int:
    """On the engine thread, at start: lines handed to execution by an earlier run (a crash, a restart)
    go on. The execution service restores the lines it saved itself (PolicyExecutor.restore, at engine
    start); a handed line it does not know is handed to it again: it finds the line's children by
    signal id and goes on with what is left (a passed auction continues in continuous trading).
    Returns how many handed lines are still being worked."""
    execution = engine.execution
    if execution is None:
        return 0
    count = 0
    for line in engine.plan.lines.values():
        if line.state.value != "handed":
            continue
        progress = execution.progress(line.line_id)
        if progress is not None:  # restored by the execution service itself
            count += progress.working
            continue
        params = {"auction_offset": str(line.price_offset)}  # as PlanDesk._hand gives them
        if line.price is not None:
            params["limit_price"] = str(line.price)
        execution.start(
            ExecutionRequest(
                line.line_id, line.strategy_id, line.code, line.side, line.qty, line.policy, params
            )
        )
        count += 1
    return count
