"""What a plan is made of: followed strategies and their allotments, plan lines and every change
made to them, with its reason (for the plan panel and the summary)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum, unique

from app.domain.bounds import BoundsError, check_money
from app.domain.side import Side
from app.domain.signals import OPEN

ZERO = Decimal(0)
DEFAULT_OFFSET = Decimal("0.02")
POLICIES = frozenset({"auction_open", "limit", "best5", "auction_close", "twap", "vwap"})
MAX_RATIO = Decimal(100)


class PlanError(ValueError):
    """An intervention or a setting that cannot be applied; the message says why, in words."""


@unique
class AllotKind(StrEnum):
    RATIO = "ratio"  # a ratio of the strategy's paper capital
    AMOUNT = "amount"  # a fixed amount of the investor's money


@dataclass(frozen=True, slots=True)
class StrategySettings:
    """A followed strategy and its allotment (产品笔记 一.2: 跟踪策略, 以实盘方式, 选择 OMS 执行策略)."""

    strategy_id: str
    paper_capital: Decimal  # the strategy's paper account capital (its planned orders are sized on it)
    allot_kind: AllotKind = AllotKind.RATIO
    allot_value: Decimal = Decimal(1)
    name: str = ""
    followed: bool = True
    policy: str = "limit"  # the default execution policy of its lines
    price_offset: Decimal = DEFAULT_OFFSET

    def __post_init__(self) -> None:
        if (
            not isinstance(self.strategy_id, str)
            or not self.strategy_id.strip()
            or len(self.strategy_id) > 64
        ):
            raise PlanError(f"策略编号无效 (strategy id must be 1-64 characters), was {self.strategy_id!r}")
        for name in ("paper_capital", "allot_value"):
            try:
                value = check_money(getattr(self, name), name=name)
            except BoundsError as exc:
                raise PlanError(str(exc)) from exc
            if value <= 0:
                raise PlanError(f"{name} 须为正数 (must be positive), was {value}")
        if self.allot_kind is AllotKind.RATIO and self.allot_value > MAX_RATIO:
            raise PlanError(f"分配比例过大 (allotment ratio above {MAX_RATIO}), was {self.allot_value}")
        if self.policy not in POLICIES:
            raise PlanError(f"执行方式未知 (unknown policy), was {self.policy!r}; known: {sorted(POLICIES)}")
        check_offset(self.price_offset)

    @property
    def allotted(self) -> Decimal:
        """The investor's money this strategy trades with."""
        if self.allot_kind is AllotKind.RATIO:
            return self.paper_capital * self.allot_value
        return self.allot_value

    @property
    def scale(self) -> Decimal:
        """Planned quantities (sized on the paper capital) are multiplied by this."""
        return self.allotted / self.paper_capital


def check_offset(offset: object) -> Decimal:
    if not isinstance(offset, Decimal) or not offset.is_finite() or not ZERO <= offset < Decimal("0.5"):
        raise PlanError(f"价格偏移须在 0 到 0.5 之间 (price offset must be in [0, 0.5)), was {offset!r}")
    return offset


@unique
class LineState(StrEnum):
    PLANNED = "planned"  # waiting for approval
    APPROVED = "approved"  # approved, waiting (its side is paused)
    HANDED = "handed"  # handed to execution: its children carry signal_id = line_id
    SKIPPED = "skipped"


@unique
class LineSource(StrEnum):
    SIGNAL = "signal"  # a planned order
    TARGET = "target"  # from a target weight
    ROTATION = "rotation"  # a followed strategy was switched: its position is rotated out


@dataclass(frozen=True, slots=True)
class Change:
    """One change made to a line: kind is rounded | capped | scaled | cash | risk | skipped | edited |
    rotated | approved; before/after are the quantities (None when the quantity did not change)."""

    kind: str
    reason: str
    before: int | None = None
    after: int | None = None
    who: str = "planner"
    ts: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanLine:
    line_id: str  # travels as signal_id on every child order
    strategy_id: str
    trading_day: date
    code: str
    side: Side
    requested_qty: int  # as the source asked (paper account shares, or the target's difference)
    qty: int  # what the plan will trade
    price: Decimal | None  # the estimate the cash was planned at (and the buy's limit)
    policy: str = "limit"
    price_offset: Decimal = DEFAULT_OFFSET
    exec_time: time = OPEN
    state: LineState = LineState.PLANNED
    source: LineSource = LineSource.SIGNAL
    name: str = ""
    changes: tuple[Change, ...] = field(default=())

    def changed(self, change: Change, **values: object) -> PlanLine:
        values["changes"] = (*self.changes, change)
        return self.with_values(**values)

    def with_values(self, **values: object) -> PlanLine:
        """A copy with some fields changed (dataclasses.replace, without its cost: the planner copies a
        line for every change it makes)."""
        new = object.__new__(PlanLine)
        setter = object.__setattr__
        for name in _LINE_FIELDS:
            setter(new, name, values[name] if name in values else getattr(self, name))
        return new

    @property
    def skipped(self) -> bool:
        return self.state is LineState.SKIPPED

    @property
    def reasons(self) -> str:
        return "；".join(c.reason for c in self.changes)


_LINE_FIELDS = tuple(f.name for f in fields(PlanLine))


@dataclass(frozen=True, slots=True)
class TargetBatch:
    """Target weights of one strategy for one day, for sources that publish targets instead of orders:
    each weight is a fraction of the strategy's allotted capital; a held code absent from it is 0."""

    strategy_id: str
    trading_day: date
    weights: tuple[tuple[str, Decimal], ...]
    exec_time: time = OPEN


@dataclass(frozen=True, slots=True)
class AuditEntry:
    ts: datetime
    who: str
    action: str
    line_id: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class PlanStatus:
    trading_day: date
    approved_at: datetime | None = None
    approved_by: str = ""
    paused_buys: bool = False
    paused_sells: bool = False
    auto_approve_at: time | None = None

    @property
    def approved(self) -> bool:
        return self.approved_at is not None


@dataclass(frozen=True, slots=True)
class LineProgress:
    """A line's children as they stand: shares sent (working or done) and filled."""

    sent: int = 0
    filled: int = 0
    working: bool = False


@dataclass(frozen=True, slots=True)
class PlanSnapshot:
    status: PlanStatus
    lines: tuple[PlanLine, ...]
    audit: tuple[AuditEntry, ...]
    progress: Mapping[str, LineProgress] = field(default_factory=dict)  # by line id, handed lines only

    def describe(self) -> list[str]:
        """The plan in words, a line each, for the summary and the log: what each line asked, what the
        plan made of it and why, and how far it got."""
        out = []
        for x in self.lines:
            p = self.progress.get(x.line_id)
            done = f"，已成交 {p.filled}/{x.qty}" if p is not None else ""
            asked = f"{x.requested_qty}->{x.qty}" if x.requested_qty != x.qty else f"{x.qty}"
            why = f" — {x.reasons}" if x.reasons else ""
            out.append(
                f"{x.strategy_id} {x.line_id} {x.code} {x.side.value} {asked} [{x.state.value}{done}]{why}"
            )
        return out

    def line(self, line_id: str) -> PlanLine:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)


# ---------------------------------------------------------------------------- events (published after commit)
@dataclass(frozen=True, slots=True)
class PlanLineAdded:
    line: PlanLine


@dataclass(frozen=True, slots=True)
class PlanLineChanged:
    line: PlanLine


@dataclass(frozen=True, slots=True)
class PlanLineSkipped:
    line: PlanLine


@dataclass(frozen=True, slots=True)
class PlanStateChanged:
    status: PlanStatus
    action: str
    who: str
