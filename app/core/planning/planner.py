"""Batches of planned orders (and target weights) -> plan lines. Pure: no engine, no storage.

The rules, in the order they apply (every change is kept on the line with its reason):

1. Scaling: a strategy's planned quantities are sized on its paper capital; they are multiplied by
   its allotment's scale (allotted / paper capital). If the followed strategies' allotments together
   exceed the investor's capital, every scale is reduced in proportion.
2. Sells: capped at the strategy's sellable quantity (T+1, its own shares and unattributed ones,
   never another strategy's: ledger.py), and made valid for the board (whole lots, or the whole odd
   remainder; STAR/BSE: at least the minimum or the whole balance).
3. Buys: rounded down to the board's lot (STAR 200 then steps of 1, BSE 100 then 1, else 100s).
4. Cash: if the buys cost more than the cash available (after fees, less what working orders hold
   and what earlier plan lines still need), every buy is scaled down pro rata, then trimmed step by
   step until the total fits. Proceeds of today's sells are not counted until they are booked: a
   later re-plan (a new batch) sees them in the cash.
5. A line that ends at zero is skipped with its reason. Sells come before buys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from app.core.planning.model import (
    _LINE_FIELDS,
    ZERO,
    Change,
    LineSource,
    LineState,
    PlanLine,
    StrategySettings,
    TargetBatch,
)
from app.domain.errors import DomainError, QuantityError
from app.domain.fees import FeeSchedule
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, InstrumentStatus
from app.domain.quantity import check_quantity, lot_size, quantity_step, round_down_to_lot
from app.domain.side import Side
from app.domain.signals import CLOSE, SignalBatch

# (strategy, code) -> shares the strategy may sell now; code -> the account's sellable shares
Sellable = Callable[[str, str], int]


@dataclass(slots=True)
class PlanInputs:
    """What the planner reads of the account and the market at planning time."""

    instruments: Mapping[str, InstrumentInfo]
    last_prices: Mapping[str, Decimal]
    strategy_sellable: Sellable  # (strategy, code) -> shares
    account_sellable: Mapping[str, int]
    strategy_holding: Callable[[str, str], int]  # (strategy, code) -> shares held (today's buys too)
    strategy_codes: Callable[[str], Iterable[str]]  # codes a strategy holds
    cash_budget: Decimal  # available cash less what earlier plan lines still need
    investor_capital: Decimal | None = None  # cash + market value; None: allotments are not capped
    fees: FeeSchedule = field(default_factory=FeeSchedule)


def line_price(info: InstrumentInfo, last: Decimal | None, side: Side, offset: Decimal) -> Decimal:
    """The limit a line is planned at: the last price (else the previous close) moved `offset` through
    the market, on the tick (up for buys, down for sells), inside the day's limits."""
    base = last if last is not None and last > 0 else info.prev_close
    tick = info.tick
    if side is Side.BUY:
        price = (base * (1 + offset) / tick).to_integral_value(ROUND_CEILING) * tick
        if info.up_limit is not None:
            price = min(price, info.up_limit)
    else:
        price = (base * (1 - offset) / tick).to_integral_value(ROUND_FLOOR) * tick
        if info.down_limit is not None:
            price = max(price, info.down_limit)
        price = max(price, tick)
    return price


def plan(
    batches: Sequence[SignalBatch | TargetBatch],
    strategies: Mapping[str, StrategySettings],
    inputs: PlanInputs,
    *,
    taken: set[tuple[str, str]] = frozenset(),  # type: ignore[assignment]  # (strategy, line id) already planned
) -> list[PlanLine]:
    """Plan lines for the batches: sells first, then buys; skipped lines are kept (with their reason)."""
    scales = _scales(strategies, inputs.investor_capital)
    lines: list[PlanLine] = []
    for batch in batches:
        settings = strategies.get(batch.strategy_id)
        if isinstance(batch, TargetBatch):
            raw = _target_lines(batch, settings, inputs)
        else:
            raw = [_signal_line(line, settings) for line in batch.lines]
        for line in raw:
            if (line.strategy_id, line.line_id) in taken:
                continue
            draft = _Draft(line)
            lines.append(draft if draft.skipped else _scale(draft, scales.get(line.strategy_id)))  # type: ignore[arg-type]
    return finish(lines, inputs)


class _Draft:
    """A plan line being planned: changed in place (one PlanLine is made of it at the end)."""

    __slots__ = _LINE_FIELDS

    def __init__(self, line: PlanLine) -> None:
        for name in _LINE_FIELDS:
            setattr(self, name, getattr(line, name))
        self.changes = list(line.changes)  # type: ignore[assignment]

    def changed(self, change: Change, **values: object) -> _Draft:
        self.changes.append(change)  # type: ignore[attr-defined]
        return self.with_values(**values)

    def with_values(self, **values: object) -> _Draft:
        for name, value in values.items():
            setattr(self, name, value)
        return self

    @property
    def skipped(self) -> bool:
        return self.state is LineState.SKIPPED  # type: ignore[attr-defined]

    def freeze(self) -> PlanLine:
        values = {name: getattr(self, name) for name in _LINE_FIELDS}
        values["changes"] = tuple(values["changes"])
        return PlanLine(**values)


def finish(lines: Sequence[PlanLine], inputs: PlanInputs) -> list[PlanLine]:
    """Rules 2-5 on lines already scaled: market checks, sells, buys, cash; sells first."""
    used_strategy: dict[tuple[str, str], int] = {}
    used_account: dict[str, int] = {}
    out: list[PlanLine] = []
    drafts = [x if isinstance(x, _Draft) else _Draft(x) for x in lines]
    for line in sorted(drafts, key=lambda x: x.side is Side.BUY):  # type: ignore[attr-defined]
        if line.skipped:
            out.append(line)
            continue
        line = _price(line, inputs)
        if not line.skipped:
            if line.side is Side.SELL:
                line = _cap_sell(line, inputs, used_strategy, used_account)
            else:
                line = _round_buy(line)
        out.append(line)
    return [x.freeze() for x in fit_cash(out, inputs.cash_budget, inputs.fees)]  # type: ignore[attr-defined]


def buy_cost(line: PlanLine, fees: FeeSchedule, qty: int | None = None) -> Decimal:
    qty = line.qty if qty is None else qty
    if qty <= 0 or line.price is None:
        return ZERO
    amount = line.price * qty
    return amount + fees.cost_for_amount(line.code, Side.BUY, amount)


def fit_cash(lines: list[PlanLine], budget: Decimal, fees: FeeSchedule) -> list[PlanLine]:
    """Scale the live buys down pro rata (then step by step) until their cost fits `budget`."""
    buys = [
        i
        for i, x in enumerate(lines)
        if x.side is Side.BUY and not x.skipped and x.state is LineState.PLANNED
    ]
    costs = {i: buy_cost(lines[i], fees) for i in buys}
    total = sum(costs.values(), ZERO)
    if total <= budget:
        return lines
    budget = max(budget, ZERO)
    ratio = budget / total if total > 0 else ZERO
    qty = {i: round_down_to_lot(lines[i].code, int(lines[i].qty * ratio)) for i in buys}
    costs = {i: buy_cost(lines[i], fees, qty[i]) for i in buys}
    total = sum(costs.values(), ZERO)
    while total > budget:  # the ¥5 minimum commission can keep the pro-rata total above the budget
        i = max((i for i in buys if qty[i] > 0), key=lambda k: costs[k])
        code = lines[i].code
        step = quantity_step(code)
        qty[i] = round_down_to_lot(code, qty[i] - step) if qty[i] - step >= lot_size(code) else 0
        total -= costs[i]
        costs[i] = buy_cost(lines[i], fees, qty[i])
        total += costs[i]
    out = list(lines)
    for i in buys:
        line = lines[i]
        if qty[i] == line.qty:
            continue
        reason = (
            f"现金不足，买入按比例缩减 (not enough cash: buys scaled down pro rata to fit {budget} after fees) "
            f"{line.qty} -> {qty[i]}"
        )
        line = line.changed(Change("cash", reason, line.qty, qty[i]), qty=qty[i])
        out[i] = _zero_skip(line)
    return out


# ---------------------------------------------------------------------------- the steps
def _scales(strategies: Mapping[str, StrategySettings], capital: Decimal | None) -> dict[str, Decimal]:
    followed = {s: v for s, v in strategies.items() if v.followed}
    scales = {s: v.scale for s, v in followed.items()}
    allotted = sum((v.allotted for v in followed.values()), ZERO)
    if capital is not None and capital > 0 and allotted > capital:
        factor = capital / allotted
        scales = {s: x * factor for s, x in scales.items()}
    return scales


# policies that trade in the continuous session or the opening auction, and what a line due at the
# close (its exec_time, 15:00) takes instead: the strategy's default is for its lines at the open
_AT_CLOSE_POLICY = "auction_close"


def line_policy(default: str, at_close: bool) -> str:
    """The policy of one line: the strategy's default, except that a line due at the close goes into
    the closing call auction (a per-line override, `PlanDesk.edit`, can still change either)."""
    return _AT_CLOSE_POLICY if at_close else default


def _signal_line(line, settings: StrategySettings | None) -> PlanLine:  # type: ignore[no-untyped-def]
    plan_line = PlanLine(
        line_id=line.signal_id,
        strategy_id=line.strategy_id,
        trading_day=line.trading_day,
        code=line.code,
        side=line.side,
        requested_qty=line.qty,
        qty=line.qty,
        price=None,
        policy=line_policy(settings.policy if settings else "limit", line.at_close),
        price_offset=settings.price_offset if settings else PlanLine.price_offset,  # type: ignore[arg-type]
        exec_time=line.exec_time,
        name=line.name,
    )
    if settings is None or not settings.followed:
        return _skip(plan_line, "跳过：未跟踪此策略 (the strategy is not followed)")
    return plan_line


def _target_lines(
    batch: TargetBatch, settings: StrategySettings | None, inputs: PlanInputs
) -> list[PlanLine]:
    """Target weights -> the difference from what the strategy holds, as buy or sell lines."""
    weights = dict(batch.weights)
    for code in inputs.strategy_codes(batch.strategy_id):
        weights.setdefault(code, ZERO)  # held but not in the targets: sell it all
    out = []
    for code, weight in sorted(weights.items()):
        held = inputs.strategy_holding(batch.strategy_id, code)
        info = inputs.instruments.get(code)
        base = PlanLine(
            line_id=f"tw:{code}",
            strategy_id=batch.strategy_id,
            trading_day=batch.trading_day,
            code=code,
            side=Side.BUY,
            requested_qty=0,
            qty=0,
            price=None,
            policy=line_policy(settings.policy if settings else "limit", batch.exec_time >= CLOSE),
            exec_time=batch.exec_time,
            source=LineSource.TARGET,
        )
        if settings is None or not settings.followed:
            out.append(_skip(base, "跳过：未跟踪此策略 (the strategy is not followed)"))
            continue
        if info is None:
            out.append(_skip(base, "跳过：今日无此证券行情 (no market data for the instrument today)"))
            continue
        price = line_price(info, inputs.last_prices.get(code), Side.BUY, ZERO)
        target = int((weight * settings.allotted / price).to_integral_value(ROUND_FLOOR)) if weight > 0 else 0
        delta = target - held
        if delta == 0:
            continue
        side = Side.BUY if delta > 0 else Side.SELL
        reason = f"目标权重 {weight}：目标 {target} 股，持有 {held} 股 (target weight {weight}: {target} vs {held} held)"
        out.append(
            base.changed(
                Change("target", reason, None, abs(delta)),
                side=side,
                requested_qty=abs(delta),
                qty=abs(delta),
                price_offset=settings.price_offset,
            )
        )
    return out


def _scale(line: PlanLine, scale: Decimal | None) -> PlanLine:
    if line.source is not LineSource.SIGNAL or scale is None or scale == 1:
        return line
    qty = int((line.qty * scale).to_integral_value(ROUND_FLOOR))
    reason = f"按分配资金缩放 ×{scale:.6g} (scaled to the allotment) {line.qty} -> {qty}"
    return line.changed(Change("scaled", reason, line.qty, qty), qty=qty)


def _price(line: PlanLine, inputs: PlanInputs) -> PlanLine:
    info = inputs.instruments.get(line.code)
    if info is None:
        return _skip(line, "跳过：今日无此证券行情 (no market data for the instrument today)")
    if info.status is InstrumentStatus.SUSPENDED:
        return _skip(line, "跳过：停牌 (suspended today)")
    try:
        classify(line.code)
    except DomainError as exc:
        return _skip(line, f"跳过：{exc}")
    return line.with_values(
        price=line_price(info, inputs.last_prices.get(line.code), line.side, line.price_offset)
    )


def _cap_sell(
    line: PlanLine,
    inputs: PlanInputs,
    used_strategy: dict[tuple[str, str], int],
    used_account: dict[str, int],
) -> PlanLine:
    key = (line.strategy_id, line.code)
    can = min(
        inputs.strategy_sellable(line.strategy_id, line.code) - used_strategy.get(key, 0),
        inputs.account_sellable.get(line.code, 0) - used_account.get(line.code, 0),
    )
    can = max(0, can)
    qty = line.qty
    if qty > can:
        reason = (
            f"卖出数量按本策略可卖 (T+1) 由 {qty} 调整为 {can} (capped at the strategy's sellable shares)"
        )
        line = line.changed(Change("capped", reason, qty, can), qty=can)
        qty = can
    elif 0 < can - qty < lot_size(line.code):
        # what would be left is below a lot: sell it all rather than leave an odd tail
        reason = f"余股不足一手，一并卖出 (the rest is below a lot: sold too) {qty} -> {can}"
        line = line.changed(Change("rounded", reason, qty, can), qty=can)
        qty = can
    account_can = inputs.account_sellable.get(line.code, 0) - used_account.get(line.code, 0)
    if qty > 0:
        valid = _valid_sell(line.code, qty, account_can)
        if valid != qty:
            reason = f"卖出数量按交易单位由 {qty} 调整为 {valid} (rounded to the board's lot)"
            line = line.changed(Change("rounded", reason, qty, valid), qty=valid)
            qty = valid
    used_strategy[key] = used_strategy.get(key, 0) + qty
    used_account[line.code] = used_account.get(line.code, 0) + qty
    return _zero_skip(line)


def _valid_sell(code: str, qty: int, holding: int) -> int:
    """The largest sell quantity ≤ qty that one order may carry from `holding` (RULES B3)."""
    try:
        check_quantity(code, Side.SELL, qty, holding=holding)
        return qty
    except QuantityError:
        pass
    step, minimum = quantity_step(code), lot_size(code)
    if step == 1:  # STAR/BSE: at least the minimum, or the whole balance below it
        return qty if qty >= minimum else 0
    return qty - qty % step


def _round_buy(line: PlanLine) -> PlanLine:
    rounded = round_down_to_lot(line.code, line.qty)
    if rounded != line.qty:
        reason = f"买入数量按交易单位由 {line.qty} 调整为 {rounded} (rounded down to the board's lot)"
        line = line.changed(Change("rounded", reason, line.qty, rounded), qty=rounded)
    return _zero_skip(line)


def _zero_skip(line: PlanLine) -> PlanLine:
    if line.qty > 0:
        return line
    return _skip(line, "跳过：数量为零 (nothing left to trade)")


def _skip(line: PlanLine, reason: str) -> PlanLine:
    return line.changed(Change("skipped", reason, line.qty, 0), state=LineState.SKIPPED, qty=0)
