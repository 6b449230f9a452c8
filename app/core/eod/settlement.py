"""The settlement of a day, and the rule that a day that did not settle blocks the next automatic run
(PRODUCT_NOTES 七.2: 清算出错时，有告警，否则不可以进行下一日的策略运行)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.core.eod.reconcile import SettlementStatus


@dataclass(frozen=True, slots=True)
class Settlement:
    day: date
    status: SettlementStatus
    differences: tuple[str, ...]
    settled_at: datetime | None = None


class SettlementBlockedError(RuntimeError):
    """The automatic run of a day is refused because an earlier day did not settle."""

    def __init__(self, blocking: Settlement, day: date) -> None:
        self.blocking = blocking
        self.day = day
        super().__init__(block_message(blocking, day))


def blocking_settlement(settlements: Sequence[Settlement], day: date) -> Settlement | None:
    """The most recent settlement before `day` if it did not settle (differences or failed), else None.

    Only the latest earlier day counts: each day is settled after the one before, so an older day
    that did not settle has already blocked (and been resolved, or re-synced) before a later one ran."""
    earlier = [s for s in settlements if s.day < day]
    if not earlier:
        return None
    latest = max(earlier, key=lambda s: s.day)
    if latest.status in (SettlementStatus.OK, SettlementStatus.RESOLVED):
        return None
    return latest


def block_message(blocking: Settlement, day: date) -> str:
    what = "对账有差异" if blocking.status is SettlementStatus.DIFFERENCES else "对账失败"
    english = "had differences" if blocking.status is SettlementStatus.DIFFERENCES else "failed to reconcile"
    shown = "; ".join(blocking.differences[:3])
    more = f" (+{len(blocking.differences) - 3} more)" if len(blocking.differences) > 3 else ""
    d = blocking.day.isoformat()
    return (
        f"{day.isoformat()} 不自动运行：{d} 未清算 ({what}) "
        f"(no automatic run on {day.isoformat()}: {d} did not settle, it {english}): {shown}{more}. "
        f"请核对后执行 (check the account, then run) `python -m app sync --day {d}` 重新对账 (to reconcile "
        f"again), 或确认差异无误后执行 (or, if the differences are understood, accept them with) "
        f"`python -m app sync --day {d} --accept`."
    )


def check_can_run(settlements: Sequence[Settlement], day: date) -> None:
    """Raise SettlementBlockedError when the automatic run of `day` must wait for the investor."""
    blocking = blocking_settlement(settlements, day)
    if blocking is not None:
        raise SettlementBlockedError(blocking, day)
