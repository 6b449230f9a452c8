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

from app.core.messages import Call, SignalsReceived

Say = Callable[[str], None]


def plan_arrivals(engine: Any, batches: list[Any], who: str = "planner") -> list[Any]:
    """On the engine thread: plan the batches (lines already taken in are left alone); if today's plan
    is already approved, approve the new lines too (lines of a paused side still wait)."""
    desk = engine.plan
    today = [b for b in batches if b.trading_day == desk.day]
    if not today:
        return []
    added = desk.add_batches(today, who)
    if added and desk.status.approved_at is not None and not (desk.status.paused_buys and desk.status.paused_sells):
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
            if say is not None and added:
                skipped = sum(1 for x in added if x.skipped)
                say(
                    f"[{e.clock.now():%H:%M:%S}] 已计划 (planned) {len(added)} 行 (lines)"
                    + (f", {skipped} 行跳过 (skipped)" if skipped else "")
                )

        engine.post(Call(run))

    return listener
