"""The execution policies: `PolicyExecutor` implements `ExecutionService` on the engine thread.

One line at a time has at most ONE working child. Re-pricing, a TWAP/VWAP slice, the auction
fallback and the end of a window all work the same way: the working child is cancelled, and only
once the broker has CONFIRMED its end are the line's leaves sent again. What a line has used is
counted from the orders themselves (`signal_id = line_id`): a working child counts its whole
quantity, an ended one what the broker says it filled (the larger of the OMS's fills and the
broker's own report of the order, so a fill racing a cancel is never sent twice). An order whose
fate Tiller only assumed (expired as lost in transit; it may still be adopted and fill) counts its
whole quantity. So a line's children never exceed its quantity, across re-pricing, partial fills,
restarts (children are found again by signal id) and cancels that race fills.

Policies (ExecutionRequest.policy) and their params (text; defaults from settings [execution],
then per strategy, then the line's own):
- auction_open: a limit order in the opening call auction at prev_close ± auction_offset (or at the
  daily limit with auction_price=limit); with fallback=true (default) what did not fill continues
  as `limit` from 9:30 until `end`.
- limit: a limit order priced from the live quote (the opposite best ± offset_ticks, inside the
  cage and the limits), re-priced every reprice_s until `end`.
- best5: one best-five IOC market order in continuous trading (the rest is cancelled by the broker).
- auction_close: a limit order in the closing call auction at last ± auction_offset.
- twap / vwap: `slices` slices over [start, end) (the lunch break does not count); the line's
  cumulative target rises evenly (twap) or along a U-shaped volume profile (vwap); each slice is
  capped at `participation` of the volume traded since the previous slice.
- broker_twap / broker_vwap: the whole line as ONE order worked by the broker's own algorithm over
  [start, end) (QMT's smart_algo_order_async; it needs the broker's permission), capped at the
  day's limit price. A refusal (no permission, or a broker without algorithms, like the simulated
  one) stops the line with the broker's words; Tiller's own twap/vwap need no permission.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from app.core.execution.base import ExecutionProgress, ExecutionRequest
from app.core.execution.conditions import (
    BelowMovingAverage,
    BreadthLimitDown,
    Condition,
    GapUpSkip,
    HistoryProvider,
    NotAtLimit,
    NotSuspended,
    Verdict,
    at_down_limit,
    first_problem,
)
from app.core.execution.sizing import child_qty, slice_times, u_shape_weights
from app.core.messages import ExecutionUpdated
from app.core.oms import NewOrder
from app.domain.clock import CN_TZ, TimerHandle
from app.domain.identifiers import ClientOrderId
from app.domain.market import InstrumentInfo, Quote
from app.domain.orders import Order, OrderStatus, PriceType
from app.domain.prices import price_cage, round_to_tick
from app.domain.reports import BrokerAlgo, OrderReport
from app.domain.sessions import Phase, can_cancel_at, phase_at
from app.domain.side import Side

if TYPE_CHECKING:
    from app.core.engine import Engine

log = logging.getLogger(__name__)

BROKER_POLICIES = {"broker_twap": "TWAP", "broker_vwap": "VWAP"}  # the broker's own algorithm (QMT)
POLICIES = ("auction_open", "limit", "best5", "auction_close", "twap", "vwap", *BROKER_POLICIES)
LUNCH = (time(11, 30), time(13, 0))
OPEN_AUCTION = time(9, 15)
CONTINUOUS_OPEN = time(9, 30)
CLOSE_AUCTION = time(14, 57)
_SAVED = "execution_lines:"  # meta key + trading day: the day's lines, so a restart goes on with them
MAX_REJECTS = 3  # a line whose children are refused this many times stops, with the reason


def _time(text: str) -> time:
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError("expected HH:MM or HH:MM:SS")
    return time(*(int(p) for p in parts))


def _dec(low: Decimal, high: Decimal) -> Callable[[str], Decimal]:
    def parse(text: str) -> Decimal:
        try:
            value = Decimal(text.strip())
        except InvalidOperation:
            raise ValueError("not a number") from None
        if not value.is_finite() or not low <= value <= high:
            raise ValueError(f"expected a number from {low} to {high}")
        return value

    return parse


def _int(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        text = text.strip()
        if not text.lstrip("+-").isdigit() or len(text) > 12:
            raise ValueError("not a whole number")
        value = int(text)
        if not low <= value <= high:
            raise ValueError(f"expected a whole number from {low} to {high}")
        return value

    return parse


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "on", "1"):
        return True
    if value in ("false", "no", "off", "0"):
        return False
    raise ValueError("expected true or false")


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip() not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return text.strip()

    return parse


@dataclass(frozen=True, slots=True)
class ExecParams:
    """A line's parameters, parsed (see the module docstring)."""

    auction_offset: Decimal = Decimal("0.02")
    auction_price: str = "offset"  # offset | limit
    offset_ticks: int = 0  # continuous limit: ticks beyond the opposite best (negative: passive)
    reprice_s: int = 30
    start: time | None = None  # None: at once (or the policy's session start)
    end: time = time(14, 56)
    slices: int = 10
    participation: Decimal = Decimal("0.2")
    fallback: bool = True
    gap_up_pct: Decimal = Decimal(0)  # 0: off
    below_ma: int = 0  # N-day moving average condition for buys; 0: off
    max_limit_down: int = 0  # breadth condition for buys; 0: off
    limit_price: Decimal | None = None  # the plan's limit: no buy child above it, no sell child below it


_PARSERS: dict[str, Callable[[str], object]] = {
    "auction_offset": _dec(Decimal("-0.1"), Decimal("0.5")),  # negative: passive
    "auction_price": _choice("offset", "limit"),
    "offset_ticks": _int(-100, 100),
    "reprice_s": _int(1, 3600),
    "start": _time,
    "end": _time,
    "slices": _int(1, 1000),
    "participation": _dec(Decimal("0.0001"), Decimal(1)),
    "fallback": _bool,
    "gap_up_pct": _dec(Decimal(0), Decimal(1)),
    "below_ma": _int(0, 250),
    "max_limit_down": _int(0, 100_000),
    "limit_price": _dec(Decimal("0.0001"), Decimal(1_000_000)),
}
PARAM_NAMES = frozenset(_PARSERS)
assert {f.name for f in fields(ExecParams)} == PARAM_NAMES


def parse_params(*layers: Mapping[str, str]) -> ExecParams:
    """Later layers override earlier ones; raises ValueError naming the parameter and the value."""
    merged: dict[str, str] = {}
    for layer in layers:
        merged.update(layer)
    values: dict[str, object] = {}
    problems = []
    for name, text in merged.items():
        parser = _PARSERS.get(name)
        if parser is None:
            problems.append(f"未知参数 (unknown parameter) {name!r}")
            continue
        if not isinstance(text, str):
            problems.append(f"{name}: 参数须为文本 (must be text), was {text!r}")
            continue
        try:
            values[name] = parser(text)
        except (ValueError, TypeError) as exc:
            problems.append(f"{name}: {exc}, was {text[:40]!r}")
    if problems:
        raise ValueError("; ".join(problems))
    return ExecParams(**values)  # type: ignore[arg-type]


@dataclass(eq=False)
class _Line:
    request: ExecutionRequest
    params: ExecParams
    children: list[ClientOrderId] = field(default_factory=list)
    stage: str = "wait"  # auction | continuous | best5 | closing | ending
    state: str = "active"  # active | done | stopped | skipped
    note: str = ""
    target: int = 0  # how much the line may have used by now (twap/vwap rise it slice by slice)
    timers: list[TimerHandle] = field(default_factory=list)
    cancel_asked: set[ClientOrderId] = field(default_factory=set)
    rejects: int = 0
    seen_rejects: set[ClientOrderId] = field(default_factory=set)
    base_volume: int | None = None  # market volume at the previous slice (participation cap)
    best5_sent: bool = False
    broker_sent: bool = False  # broker_twap / broker_vwap: its one order has been placed
    repricing: bool = False  # the re-price timer runs
    last_progress: ExecutionProgress | None = None
    cap: int | None = None  # the risk gate cut a child down: the line ends at this many shares
    rate_wait: TimerHandle | None = None  # waiting for room under the order-rate limit
    fell_back: bool = False  # the opening auction's rest went on in continuous trading
    origin: datetime | None = None  # when the line was first started (kept across a restart)
    saved: tuple[object, ...] | None = None  # what was last staged of it (state, cap, fall-back)

    def persisted(self) -> tuple[object, ...]:
        return (self.state, self.cap, self.fell_back)

    @property
    def qty(self) -> int:
        """The shares the line will trade: the request's, or less once the risk gate resized a child."""
        return self.request.qty if self.cap is None else min(self.cap, self.request.qty)


class _Market:
    """The market as the engine sees it, for the conditions."""

    def __init__(self, executor: PolicyExecutor) -> None:
        self._x = executor

    def info(self, code: str) -> InstrumentInfo | None:
        return self._x.engine.oms.instruments.get(code)

    def quote(self, code: str) -> Quote | None:
        return self._x.quotes.get(code)

    def limit_down_count(self) -> int:
        return len(self._x.limit_down)


class PolicyExecutor:
    """The ExecutionService: owned by the engine (`engine.execution`), used on the engine thread only."""

    def __init__(
        self,
        engine: Engine,
        *,
        defaults: Mapping[str, str] | None = None,
        strategy_defaults: Mapping[str, Mapping[str, str]] | None = None,
        history: HistoryProvider | None = None,
        extra_conditions: Sequence[Condition] = (),
    ) -> None:
        self.engine = engine
        self.defaults = dict(defaults or {})
        self.strategy_defaults = {k: dict(v) for k, v in (strategy_defaults or {}).items()}
        parse_params(self.defaults)  # bad settings fail here, at start-up, not on the first line
        for params in self.strategy_defaults.values():
            parse_params(self.defaults, params)
        self.history = history
        self.extra_conditions = tuple(extra_conditions)
        self.lines: dict[str, _Line] = {}
        self.by_code: dict[str, list[_Line]] = {}
        self.by_child: dict[ClientOrderId, _Line] = {}
        self.quotes: dict[str, Quote] = {}
        self.limit_down: set[str] = set()
        self.reported_filled: dict[ClientOrderId, int] = {}
        self.paused: set[Side] = set()
        self._market = _Market(self)
        self._dirty = False  # a line started, ended, resized or a side paused: stage the state
        self._day = None

    # ------------------------------------------------------------------ the contract
    def start(self, request: ExecutionRequest) -> None:
        if request.line_id in self.lines:
            return
        self._dirty = True
        self._open(request, self.engine.clock.now())

    def _open(
        self, request: ExecutionRequest, origin: datetime, saved: Mapping[str, object] | None = None
    ) -> None:
        """A line begins (`saved` None) or goes on after a restart from its saved state; `origin` is
        when it was first started (a TWAP's slices keep their times across a restart)."""
        now = self.engine.clock.now()
        try:
            if request.policy not in POLICIES:
                raise ValueError(f"未知执行方式 (unknown policy) {request.policy!r}")
            params = parse_params(
                self.defaults, self.strategy_defaults.get(request.strategy_id, {}), request.params
            )
            ok_qty = isinstance(request.qty, int) and not isinstance(request.qty, bool) and request.qty > 0
            if not ok_qty:
                raise ValueError(f"数量须为正整数 (qty must be a positive whole number), was {request.qty!r}")
        except ValueError as exc:
            line = _Line(request, ExecParams(), state="stopped", note=f"参数错误 (bad parameters): {exc}")
            line.origin = origin
            self.lines[request.line_id] = line
            self.engine._alert("warning", "execution", f"{request.line_id} {request.code}: {line.note}")
            self._progress(line)
            return
        line = _Line(request, params, target=request.qty)
        line.origin = origin
        self.lines[request.line_id] = line
        self.by_code.setdefault(request.code, []).append(line)
        # A restart: the line's children already at the broker are found by signal id.
        for order in self.engine.oms.orders.values():
            if order.signal_id == request.line_id and order.strategy_id == request.strategy_id:
                line.children.append(order.client_order_id)
                self.by_child[order.client_order_id] = line
                if order.status in (OrderStatus.DENIED, OrderStatus.REJECTED):
                    line.seen_rejects.add(order.client_order_id)
                if order.price_type is PriceType.BEST5_IOC:
                    line.best5_sent = True
        if saved is not None:
            cap = saved.get("cap")
            line.cap = cap if isinstance(cap, int) else None
            line.fell_back = bool(saved.get("fell_back"))
            state = saved.get("state")
            if state in ("done", "stopped", "skipped"):
                line.state, line.note = str(state), str(saved.get("note", ""))
                line.saved = line.persisted()
                self._progress(line)
                return
        if line.children:
            line.note = f"重启后接续，已用 {self._used(line)} 股 (resumed after a restart)"
        self._plan(line, now, origin)
        line.saved = line.persisted() if saved is not None else None
        self._progress(line)

    # ------------------------------------------------------------------ surviving a restart
    def restore(self) -> None:
        """At the engine's start (and at a new day): the day's lines as last committed go on by
        themselves — active ones re-planned from when they first started (a TWAP's remaining slices
        at their times), their children found by signal id and counted, so nothing is sent twice;
        ended ones stay ended; the paused sides stay paused. Nothing needs to hand them over again."""
        for line in self.lines.values():
            for timer in line.timers:
                self.engine.cancel_timer(timer)
            if line.rate_wait is not None:
                self.engine.cancel_timer(line.rate_wait)
        self.lines, self.by_code, self.by_child = {}, {}, {}
        self.reported_filled = {}
        self.quotes, self.limit_down = {}, set()  # at a new day, yesterday's are no guide
        day = self.engine.trading_day
        self._day = day
        text = self.engine.store.load_meta(_SAVED + day.isoformat())
        self._dirty = False
        if not text:
            self.paused = set()
            return
        try:
            saved = json.loads(text)
            self.paused = {Side(x) for x in saved.get("paused", [])}
            rows = list(saved.get("lines", []))
        except (ValueError, TypeError, AttributeError) as exc:
            self.engine._alert(
                "error", "execution", f"执行状态无法读取，未恢复 (execution state unreadable): {exc}"
            )
            return
        for row in rows:
            try:
                request = ExecutionRequest(
                    str(row["line_id"]), str(row["strategy_id"]), str(row["code"]), Side(row["side"]),
                    row["qty"], str(row["policy"]), {str(k): str(v) for k, v in dict(row["params"]).items()},
                )  # fmt: skip
                origin = datetime.fromisoformat(str(row["origin"]))
            except (KeyError, ValueError, TypeError) as exc:
                self.engine._alert(
                    "error", "execution", f"执行行无法恢复 (an execution line not restored): {exc}"
                )
                continue
            self._open(request, origin, row)

    def resave(self) -> None:
        self._dirty = True

    def _save(self) -> None:
        """Stage the day's lines (what a restart needs) in the engine's batch: one meta row per day."""
        self._dirty = False
        rows = []
        for line in self.lines.values():
            req = line.request
            rows.append({
                "line_id": req.line_id, "strategy_id": req.strategy_id, "code": req.code,
                "side": req.side.value, "qty": req.qty, "policy": req.policy, "params": dict(req.params),
                "origin": line.origin.isoformat(), "state": line.state, "cap": line.cap,
                "fell_back": line.fell_back, "note": line.note,
            })  # fmt: skip
            line.saved = line.persisted()
        paused = sorted(side.value for side in self.paused)
        self.engine.store.stage_meta(
            _SAVED + self.engine.trading_day.isoformat(),
            json.dumps({"paused": paused, "lines": rows}, ensure_ascii=False, separators=(",", ":")),
        )

    def pause(self, side: Side | None, *, cancel_working: bool = False) -> None:
        sides = (Side.BUY, Side.SELL) if side is None else (side,)
        self.paused.update(sides)
        self._dirty = True
        for line in self.lines.values():
            if line.request.side in sides and line.state == "active":
                line.note = "已暂停 (paused)"
                if cancel_working:
                    self._cancel_working(line)
                self._progress(line)

    def resume(self, side: Side | None) -> None:
        sides = (Side.BUY, Side.SELL) if side is None else (side,)
        self.paused.difference_update(sides)
        self._dirty = True
        for line in list(self.lines.values()):
            if line.request.side in sides and line.state == "active":
                line.note = "已恢复 (resumed)"
                self._pump(line)

    def stop(self, line_id: str, *, cancel_working: bool = True) -> None:
        line = self.lines.get(line_id)
        if line is None or line.state != "active":
            return
        line.state = "stopped"
        line.note = "已停止 (stopped)"
        for timer in line.timers:
            self.engine.cancel_timer(timer)
        if cancel_working:
            self._cancel_working(line)
        self._progress(line)

    def progress(self, line_id: str) -> ExecutionProgress | None:
        line = self.lines.get(line_id)
        return None if line is None else self._make_progress(line)

    # ------------------------------------------------------------------ engine hooks
    def on_quotes(self, quotes: Iterable[Quote]) -> None:
        infos = self.engine.oms.instruments
        touched = []
        for quote in quotes:
            self.quotes[quote.code] = quote
            if at_down_limit(quote, infos):
                self.limit_down.add(quote.code)
            else:
                self.limit_down.discard(quote.code)
            lines = self.by_code.get(quote.code)
            if lines:
                touched.extend(lines)
                for line in lines:  # a slice that came before any quote: measure from this one
                    if (
                        line.base_volume is None
                        and line.stage != "wait"
                        and line.request.policy in ("twap", "vwap")
                    ):
                        line.base_volume = quote.volume
        for line in touched:
            if line.state == "active" and line.stage != "wait":
                self._pump(line)

    def on_order_report(self, report: OrderReport) -> None:
        cid = report.client_order_id
        if cid is not None and cid in self.by_child and report.filled_qty > self.reported_filled.get(cid, 0):
            self.reported_filled[cid] = report.filled_qty

    def on_orders(self, orders: Iterable[Order]) -> None:
        """Orders changed in this batch (fills, acks, cancels): their lines go on."""
        touched: dict[int, _Line] = {}
        for order in orders:
            line = self.by_child.get(order.client_order_id)
            if line is not None:
                touched[id(line)] = line
                if (
                    order.status is OrderStatus.CANCELLED
                    and order.client_order_id not in line.cancel_asked
                    and order.price_type is PriceType.LIMIT  # an IOC's rest is cancelled by the broker
                    and line.state == "active"
                ):
                    # someone else (the user, cancel-all) cancelled a child: the policy does not fight
                    # them by sending it again; the line stops, and says why
                    line.state = "stopped"
                    line.note = (
                        f"子单 {order.client_order_id} 被撤销（非本策略所为），停止执行 "
                        f"(a child was cancelled from outside the policy: the line stops)"
                    )
                    for timer in line.timers:
                        self.engine.cancel_timer(timer)
        for line in touched.values():
            self._pump(line)
            self._progress(line)
        # the engine calls this once per batch, before its commit: what changed goes into that commit
        if self._dirty or any(line.saved != line.persisted() for line in self.lines.values()):
            self._save()

    # ------------------------------------------------------------------ counting
    def _child_used(self, order: Order) -> int:
        status = order.status
        if status in (OrderStatus.DENIED, OrderStatus.REJECTED, OrderStatus.CANCELLED, OrderStatus.FILLED):
            return max(order.filled_qty, self.reported_filled.get(order.client_order_id, 0))
        return order.qty  # working, initialized, in doubt, or expired (it may still be adopted)

    def _used(self, line: _Line) -> int:
        orders = self.engine.oms.orders
        return sum(self._child_used(orders[c]) for c in line.children if c in orders)

    def _working(self, line: _Line) -> list[Order]:
        orders = self.engine.oms.orders
        return [
            o
            for c in line.children
            if (o := orders.get(c)) is not None
            and (o.status.is_working or o.status is OrderStatus.INITIALIZED)
        ]

    def _filled(self, line: _Line) -> int:
        orders = self.engine.oms.orders
        return sum(orders[c].filled_qty for c in line.children if c in orders)

    # ------------------------------------------------------------------ planning
    def _at(self, t: time) -> datetime:
        return datetime.combine(self.engine.trading_day, t, CN_TZ)

    def _schedule(self, line: _Line, when: datetime, fn: Callable[[], None], name: str) -> None:
        if len(line.timers) > 32:  # the re-price timer re-arms itself all day: forget the spent ones
            line.timers = [t for t in line.timers if not (t.fired or t.cancelled)]
        line.timers.append(self.engine.schedule_at(when, fn, f"{line.request.line_id}: {name}"))

    def _plan(self, line: _Line, now: datetime, origin: datetime | None = None) -> None:
        policy, p = line.request.policy, line.params
        t = now.time()
        origin = now if origin is None else origin
        start = max(origin, self._at(p.start)) if p.start is not None else origin
        end = self._at(p.end)
        if policy == "auction_open":
            if t < time(9, 25):
                self._schedule(
                    line, max(start, self._at(OPEN_AUCTION)), lambda: self._begin(line, "auction"), "auction"
                )
                if p.fallback:
                    fallback_at = self._at(CONTINUOUS_OPEN)
                    self._schedule(line, fallback_at, lambda: self._begin(line, "continuous"), "fallback")
            elif p.fallback:
                self._schedule(line, start, lambda: self._begin(line, "continuous"), "continuous")
            else:
                line.state, line.note = "skipped", "跳过：已过集合竞价 (skipped: the opening auction is over)"
                return
            self._schedule(line, end, lambda: self._end_window(line), "end of window")
        elif policy == "auction_close":
            if t >= time(15, 0):
                line.state, line.note = "skipped", "跳过：已收盘 (skipped: the market is closed)"
                return
            self._schedule(
                line, max(start, self._at(CLOSE_AUCTION)), lambda: self._begin(line, "closing"), "close"
            )
        elif policy == "best5":
            self._schedule(line, start, lambda: self._begin(line, "best5"), "best five")
        elif policy in BROKER_POLICIES:
            begin = max(start, self._at(CONTINUOUS_OPEN))
            if end <= begin:
                line.state, line.note = "skipped", "跳过：时间窗已过 (skipped: the window is over)"
                return
            self._schedule(line, begin, lambda: self._begin(line, "broker"), "broker algorithm")
        elif policy == "limit":
            self._schedule(line, start, lambda: self._begin(line, "continuous"), "start")
            self._schedule(line, end, lambda: self._end_window(line), "end of window")
        else:  # twap | vwap
            begin = max(start, self._at(CONTINUOUS_OPEN))
            if end <= begin:
                line.state, line.note = "skipped", "跳过：时间窗已过 (skipped: the window is over)"
                return
            moments = slice_times(begin, end, p.slices, lunch=LUNCH)
            even = [1.0 / len(moments)] * len(moments)
            weights = even if policy == "twap" else u_shape_weights(moments)
            qty, cumulative = line.request.qty, 0.0
            line.target = 0
            caught_up: int | None = None  # slices whose time has passed (a restart): one catch-up now
            for k, when in enumerate(moments):
                cumulative += weights[k]
                target = qty if k == len(moments) - 1 else min(qty, int(qty * cumulative))
                if when <= now:
                    caught_up = target
                    continue
                self._schedule(line, when, lambda target=target: self._slice(line, target), f"slice {k + 1}")
            if caught_up is not None:
                self._schedule(line, now, lambda: self._slice(line, caught_up), "slices due")
            self._schedule(line, end, lambda: self._end_window(line), "end of window")

    def _begin(self, line: _Line, stage: str) -> None:
        if line.state != "active":
            return
        previous, line.stage = line.stage, stage
        if stage == "continuous" and previous == "auction":
            if self._working(line):
                line.fell_back = True
                line.note = "集合竞价未全部成交，转连续竞价 (the auction did not fill: continues in continuous trading)"
                log.info("%s %s: %s", line.request.line_id, line.request.code, line.note)
            self._cancel_working(line)  # the auction's rest continues in continuous trading
        if stage == "continuous" and line.request.policy in ("limit", "auction_open") and not line.repricing:
            self._schedule_reprice(line)
        self._pump(line)
        self._progress(line)

    def _slice(self, line: _Line, target: int) -> None:
        """A slice: the line may now have used `target` shares, but no more than `participation` of
        the volume traded since the previous slice on top of what it has used (unknown before the
        first quote: no cap)."""
        if line.state != "active":
            return
        line.stage = "continuous"
        quote = self.quotes.get(line.request.code)
        volume = quote.volume if quote is not None else None
        if line.base_volume is not None and volume is not None:
            cap = int(max(volume - line.base_volume, 0) * line.params.participation)
            target = min(target, self._used(line) + cap)
        line.base_volume = volume
        line.target = max(line.target, target)
        if not line.repricing:
            self._schedule_reprice(line)  # between slices too, unfilled children follow the quote
        self._reprice(line)
        self._pump(line)
        self._progress(line)

    def _schedule_reprice(self, line: _Line) -> None:
        line.repricing = True

        def tick() -> None:
            if line.state != "active" or line.stage == "ending":
                return
            self._reprice(line)
            self._pump(line)
            self._schedule_reprice(line)

        when = self.engine.clock.now() + timedelta(seconds=line.params.reprice_s)
        if when < self._at(line.params.end):
            self._schedule(line, when, tick, "re-price")

    def _end_window(self, line: _Line) -> None:
        if line.state != "active":
            return
        line.stage = "ending"
        working = self._working(line)
        self._cancel_working(line)
        left = line.qty - self._used(line)
        if not working:
            line.state = "done"
        line.note = (
            f"时间窗结束，撤销未成交 (end of window: the rest is cancelled), 剩余 {left}"
            if working or left
            else self._done_note(line)
        )
        self._progress(line)

    # ------------------------------------------------------------------ sending
    def _reprice(self, line: _Line) -> None:
        """A working child whose price is no longer the one the policy wants is cancelled (its leaves
        are sent again at the new price once the cancel is confirmed)."""
        now = self.engine.clock.now().time()
        if phase_at(now) is not Phase.CONTINUOUS:
            return
        want = self._continuous_price(line)
        for order in self._working(line):
            if order.price_type is PriceType.LIMIT and order.price != want:
                self._cancel(line, order)

    def _cancel_working(self, line: _Line) -> None:
        for order in self._working(line):
            self._cancel(line, order)

    def _cancel(self, line: _Line, order: Order) -> None:
        if order.client_order_id in line.cancel_asked or order.status is OrderStatus.PENDING_CANCEL:
            return
        if order.client_order_id in self.engine.cancel_asked:
            return  # someone else (the user, cancel-all) asked first: its end stops the line (on_orders)
        if not can_cancel_at(self.engine.clock.now().time()):
            return  # 9:20–9:25, the closing auction, the lunch break: asked again later
        line.cancel_asked.add(order.client_order_id)
        self.engine.cancel(order.client_order_id)

    def _fresh_quote(self, code: str, now: datetime) -> bool:
        """A quote of `code` from the current continuous session (not from before the lunch break)."""
        quote = self.quotes.get(code)
        if quote is None:
            return False
        session = self._at(LUNCH[1]) if now.time() >= LUNCH[1] else self._at(CONTINUOUS_OPEN)
        return quote.ts >= session

    def _continuous_price(self, line: _Line) -> Decimal | None:
        req = line.request
        info = self.engine.oms.instruments.get(req.code)
        quote = self.quotes.get(req.code)
        if info is None:
            return None
        tick = info.tick
        last = quote.last if quote is not None and quote.last > 0 else None
        ask = quote.best_ask if quote is not None else None
        bid = quote.best_bid if quote is not None else None
        if req.side is Side.BUY:
            ref = ask or bid or last or info.prev_close
            price = ref + line.params.offset_ticks * tick
        else:
            ref = bid or ask or last or info.prev_close
            price = ref - line.params.offset_ticks * tick
        cage = price_cage(
            req.code, req.side, best_ask=ask, best_bid=bid, last=last, prev_close=info.prev_close
        )
        if cage is not None:
            price = min(price, cage) if req.side is Side.BUY else max(price, cage)
        return self._within_limit_price(line, _clamp(round_to_tick(max(price, tick), tick), info))

    def _within_limit_price(self, line: _Line, price: Decimal) -> Decimal:
        """The plan's limit (the price a buy's cash was planned at) bounds every buy child: the line
        never spends more than the plan set aside for it."""
        limit = line.params.limit_price
        if limit is None or line.request.side is not Side.BUY:
            return price
        return min(price, limit)

    def _auction_price(self, line: _Line, closing: bool) -> Decimal | None:
        req, p = line.request, line.params
        info = self.engine.oms.instruments.get(req.code)
        if info is None:
            return None
        if p.auction_price == "limit":
            limit = info.up_limit if req.side is Side.BUY else info.down_limit
            if limit is not None:
                return limit
        quote = self.quotes.get(req.code)
        base = quote.last if closing and quote is not None and quote.last > 0 else info.prev_close
        factor = 1 + p.auction_offset if req.side is Side.BUY else 1 - p.auction_offset
        return self._within_limit_price(line, _clamp(round_to_tick(base * factor, info.tick), info))

    def _pump(self, line: _Line) -> None:
        """Send the line's next child if it may go now."""
        try:
            self._pump_unguarded(line)
        except Exception as exc:  # a bug in one line never takes the others down
            log.exception("execution: %s", line.request.line_id)
            line.note = f"内部错误 (internal error): {exc}"

    def _pump_unguarded(self, line: _Line) -> None:
        self._note_rejects(line)
        if line.state != "active":
            return
        working = self._working(line)
        used = self._used(line)
        req = line.request
        if line.stage == "ending":
            if not working:
                line.state = "done"
            return
        if used >= line.qty and not working:
            line.state, line.note = "done", self._done_note(line)
            for timer in line.timers:
                self.engine.cancel_timer(timer)
            return
        if line.stage == "wait" or working or req.side in self.paused:
            return
        if line.stage == "broker":
            self._pump_broker(line, used)
            return
        if line.stage == "best5" and line.best5_sent:
            line.state = "done"
            line.note = f"最优五档即时成交剩余撤销，成交 {self._filled(line)} (best five IOC: rest cancelled)"
            return
        allowed = min(line.target, line.qty) - used
        if allowed <= 0:
            return
        now = self.engine.clock.now()
        phase = phase_at(now.time())
        needed = {
            "auction": Phase.OPENING_AUCTION,
            "closing": Phase.CLOSING_AUCTION,
            "continuous": Phase.CONTINUOUS,
            "best5": Phase.CONTINUOUS,
        }[line.stage]
        if phase is not needed:
            if line.stage == "best5" and now.time() < CLOSE_AUCTION:
                line.note = "等待连续竞价 (waiting for continuous trading)"
            return
        conditions: list[Condition] = [NotSuspended(), NotAtLimit(), GapUpSkip(line.params.gap_up_pct)]
        conditions += [BelowMovingAverage(line.params.below_ma, self.history)]
        conditions += [BreadthLimitDown(line.params.max_limit_down), *self.extra_conditions]
        check = first_problem(conditions, req.code, req.side, self._market)
        if check.verdict is Verdict.SKIP:
            line.state, line.note = "skipped", check.reason
            self._cancel_working(line)
            return
        if check.verdict is Verdict.HOLD:
            line.note = check.reason
            return
        if line.stage in ("continuous", "best5") and not self._fresh_quote(req.code, now):
            line.note = "等待行情 (waiting for a quote)"  # priced from this session's quote, never blind
            return
        market = line.stage == "best5"
        info = self.engine.oms.instruments.get(req.code)
        if market and info is not None and info.up_limit is None:
            line.state = "skipped"
            line.note = (
                "跳过：无涨跌幅限制的股票不接受市价委托 (skipped: no market orders without a price limit)"
            )
            return
        holding = 0
        if req.side is Side.SELL:
            position = self.engine.oms.positions.get(req.code)
            holding = position.sellable if position is not None else 0
        qty = child_qty(req.code, req.side, allowed, line.qty - used, holding=holding, market=market)
        if qty <= 0:
            line.note = f"本次可发数量不足一手 (less than a lot to send now: {allowed})"
            return
        if market:
            price, price_type = None, PriceType.BEST5_IOC
        elif line.stage in ("auction", "closing"):
            price, price_type = self._auction_price(line, line.stage == "closing"), PriceType.LIMIT
        else:
            price, price_type = self._continuous_price(line), PriceType.LIMIT
        if not market and price is None:
            line.note = "无行情，暂不下单 (no market data yet)"
            return
        if self._wait_for_rate(line, now):
            return
        request = NewOrder(
            req.code, req.side, qty, price, price_type, strategy_id=req.strategy_id, signal_id=req.line_id
        )
        try:
            (cid,) = self.engine.place([request])
        except Exception as exc:  # halted, ids not reserved: asked again at the next chance
            line.note = f"下单未受理 (not placed): {exc}"
            return
        line.children.append(cid)
        self.by_child[cid] = line
        line.best5_sent = line.best5_sent or market
        line.note = f"{line.stage}: {qty} @ {price if price is not None else '最优五档'}"
        child = self.engine.oms.orders.get(cid)
        if child is not None and child.status is not OrderStatus.DENIED and child.qty < qty:
            # the risk gate resized the child (a position or value cap): the line ends with what it
            # allows rather than asking again and again for what it refuses
            line.cap = used + child.qty
            line.note = f"风控缩减 (resized by risk) {line.request.qty} -> {line.cap}: {child.status_msg}"
        self._note_rejects(line)

    def _pump_broker(self, line: _Line, used: int) -> None:
        """broker_twap / broker_vwap: one order for what is left, worked by the broker's algorithm."""
        req, orders = line.request, self.engine.oms.orders
        if line.broker_sent:  # its one order has ended (nothing is working)
            last = orders.get(line.children[-1]) if line.children else None
            if last is not None and last.status in (OrderStatus.DENIED, OrderStatus.REJECTED):
                line.state = "stopped"
                line.note = f"券商算法未执行 (the broker's algorithm was not run): {last.status_msg}"
            else:
                line.state = "done"
                line.note = f"券商算法结束，成交 {self._filled(line)} (the broker's algorithm ended)"
            return
        now = self.engine.clock.now()
        if phase_at(now.time()) is not Phase.CONTINUOUS:
            line.note = "等待连续竞价 (waiting for continuous trading)"
            return
        info = self.engine.oms.instruments.get(req.code)
        cap = None if info is None else (info.up_limit if req.side is Side.BUY else info.down_limit)
        if cap is None:
            line.state = "skipped"
            line.note = "跳过：券商算法需要涨跌停价作价格上限 (skipped: the broker algorithm needs the day's price limit)"
            return
        holding = 0
        if req.side is Side.SELL:
            position = self.engine.oms.positions.get(req.code)
            holding = position.sellable if position is not None else 0
        left = req.qty - used
        qty = child_qty(req.code, req.side, left, left, holding=holding, market=False)
        if qty <= 0:
            line.state, line.note = "done", f"可发数量不足一手 (less than a lot left: {left})"
            return
        start = max(now.time(), line.params.start or CONTINUOUS_OPEN)
        algo = BrokerAlgo(
            BROKER_POLICIES[req.policy], start.strftime("%H:%M:%S"), line.params.end.strftime("%H:%M:%S")
        )
        request = NewOrder(
            req.code, req.side, qty, cap, PriceType.LIMIT, strategy_id=req.strategy_id, signal_id=req.line_id
        )
        try:
            cid = self.engine.place_broker_algo(request, algo)
        except Exception as exc:  # halted, ids not reserved: asked again at the next chance
            line.note = f"下单未受理 (not placed): {exc}"
            return
        line.children.append(cid)
        self.by_child[cid] = line
        line.broker_sent = True
        line.note = f"券商算法 {algo.name} {algo.start}-{algo.end}: {qty} (the broker's algorithm)"
        self._note_rejects(line)

    @staticmethod
    def _done_note(line: _Line) -> str:
        parts = ["完成 (done)"]
        if line.fell_back:
            parts.append("集合竞价未成交部分转连续竞价成交 (the auction's rest filled in continuous trading)")
        if line.cap is not None:
            parts.append(f"风控缩减 (resized by risk) {line.request.qty} -> {line.cap}")
        return "; ".join(parts)

    def _wait_for_rate(self, line: _Line, now: datetime) -> bool:
        """True when the order-rate limit (risk.max_orders_per_second) has no room now: the line waits
        (a timer at the moment the oldest order of the last second leaves the window) instead of
        sending a child the gate would deny. So a plan of more lines than the limit is paced, not
        refused."""
        risk = self.engine.risk
        if risk is None:
            return False
        room, free_at = risk.rate_room(now)
        if room > 0:
            return False
        line.note = "限速排队 (queued: order-rate limit per second)"
        if line.rate_wait is None or line.rate_wait.fired or line.rate_wait.cancelled:
            when = free_at if free_at is not None and free_at > now else now + timedelta(milliseconds=100)

            def wake() -> None:
                line.rate_wait = None
                self._pump(line)
                self._progress(line)

            line.rate_wait = self.engine.schedule_at(when, wake, f"{line.request.line_id}: rate limit")
        return True

    def _note_rejects(self, line: _Line) -> None:
        orders = self.engine.oms.orders
        for cid in line.children:
            order = orders.get(cid)
            if cid in line.seen_rejects or order is None:
                continue
            if order.status in (OrderStatus.DENIED, OrderStatus.REJECTED):
                line.seen_rejects.add(cid)
                line.rejects += 1
                line.note = f"子单被拒 (child refused): {order.status_msg}"
                if line.rejects >= MAX_REJECTS and line.state == "active":
                    line.state = "stopped"
                    line.note = (
                        f"子单连续被拒，停止执行 (children refused {line.rejects} times): {order.status_msg}"
                    )

    # ------------------------------------------------------------------ progress
    def _make_progress(self, line: _Line) -> ExecutionProgress:
        working = bool(self._working(line)) or line.state == "active"
        return ExecutionProgress(
            line.request.line_id, self._used(line), self._filled(line), working, line.note
        )

    def _progress(self, line: _Line) -> None:
        progress = self._make_progress(line)
        if progress != line.last_progress:
            line.last_progress = progress
            self.engine.emit(ExecutionUpdated(progress))  # published after the batch's commit


def _clamp(price: Decimal, info: InstrumentInfo) -> Decimal:
    if info.up_limit is not None and price > info.up_limit:
        return info.up_limit
    if info.down_limit is not None and price < info.down_limit:
        return info.down_limit
    return price
