"""What the planner would do with fetched batches, against the account as Tiller's books know it.

For `python -m app fetch`: the pure planning function (app/core/planning/planner.py `plan`) on the
account read from the database, read-only (no engine, no account lock, no order). Prices: the last
close Tiller recorded for a code (`daily_positions`), else the batch's reference price; a code with
neither is skipped by the planner ("no market data"), as the engine would before its quotes.
Strategies: as stored; a strategy not stored yet is followed at its full size (scale 1), as
`run --headless` follows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from app.bootstrap import fee_schedule
from app.config import Settings
from app.core.planning.ledger import StrategyLedger
from app.core.planning.model import LineState, PlanLine, StrategySettings
from app.core.planning.planner import PlanInputs, plan
from app.domain.errors import DomainError
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, InstrumentStatus
from app.domain.positions import Position
from app.domain.prices import price_limits, round_to_tick
from app.domain.side import Side
from app.domain.signals import SignalBatch
from app.storage import database_path, open_database
from app.storage.oms_store import SqliteOmsStore

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class PlanPreview:
    lines: tuple[PlanLine, ...]
    cash: Decimal
    source: str  # where the books came from, in words
    already: tuple[str, ...] = ()  # line ids already in today's plan (not planned again)


def followed(
    strategy_ids: Sequence[str], stored: Sequence[StrategySettings], capital: Decimal
) -> dict[str, StrategySettings]:
    """The stored strategies, and each of `strategy_ids` not stored followed at scale 1 (ratio 1 of its
    paper capital). Tiller does not know a BigQuant strategy's paper capital; it is recorded as half
    of an even share of the investor's capital, so that the allotments together stay under the
    capital as prices move and the planned quantities are followed as they are, never scaled down
    (the investor may set the real figures: Terminal.set_strategy)."""
    out = {s.strategy_id: s for s in stored}
    new = [sid for sid in dict.fromkeys(strategy_ids) if sid not in out]
    even = capital / max(len(new) + len(out), 1) / 2
    share = max(even, Decimal(1)).quantize(Decimal("1"))
    for sid in new:
        out[sid] = StrategySettings(sid, share)
    return out


def preview_plan(
    settings: Settings, batches: Sequence[SignalBatch], day: date, data_dir: Path | None = None
) -> PlanPreview:
    folder = data_dir or settings.general.data_dir
    path = database_path(folder, settings.account.account_id, settings.general.mode)
    cash = settings.account.initial_cash
    positions: list[Position] = []
    stored: list[StrategySettings] = []
    ledger = StrategyLedger()
    closes: dict[str, Decimal] = {}
    taken: set[tuple[str, str]] = set()
    trading_today = False
    source = f"新账户 (a new account: {cash} cash, no positions)"
    if path.exists():
        database = open_database(path, read_only=True)
        try:
            store = SqliteOmsStore(database)
            cash = store.load_cash() or ZERO
            positions = store.load_positions()
            stored = store.load_strategies()
            ledger = StrategyLedger(store.load_strategy_positions())
            _, lines = store.load_plan(day)
            taken = {(x.strategy_id, x.line_id) for x in lines}
            trading_today = bool(store.load_orders(day))
            rows = database.conn.execute(
                "SELECT code, last_price FROM daily_positions WHERE trading_day < ? AND last_price IS NOT NULL "
                "ORDER BY trading_day",
                (day.isoformat(),),
            ).fetchall()
            closes = {code: Decimal(price) for code, price in rows}
        finally:
            database.close()
        source = f"账本 (the books) {path}"
    if not trading_today:  # a new day: yesterday's buys have settled (T+1)
        positions = [replace(p, settled=p.total) for p in positions]
        ledger.roll_day()
    by_code = {p.code: p for p in positions if p.total}
    prices = dict(closes)
    names: dict[str, str] = {}
    for batch in batches:
        for line in batch.lines:
            names.setdefault(line.code, line.name)
            if line.code not in prices and line.ref_price is not None:
                prices[line.code] = line.ref_price
    for code, p in by_code.items():
        prices.setdefault(code, p.avg_cost)
    instruments = {
        code: info for code in prices if (info := _info(code, names.get(code, ""), day, prices[code]))
    }
    market_value = sum((p.total * prices.get(c, p.avg_cost) for c, p in by_code.items()), ZERO)
    capital = cash + market_value
    strategies = followed([b.strategy_id for b in batches], stored, capital)
    inputs = PlanInputs(
        instruments=instruments,
        last_prices={c: i.prev_close for c, i in instruments.items()},
        strategy_sellable=lambda s, c: ledger.sellable(s, c, by_code.get(c), ()),
        account_sellable={c: p.settled for c, p in by_code.items()},
        strategy_holding=lambda s, c: row.total if (row := ledger.get(s, c)) is not None else 0,
        strategy_codes=lambda s: [p.code for p in ledger.of_strategy(s)],
        cash_budget=cash,
        investor_capital=capital,
        fees=fee_schedule(settings),
    )
    already = tuple(i for s, i in sorted(taken) if any(b.strategy_id == s for b in batches))
    lines = plan(list(batches), strategies, inputs, taken=taken)
    return PlanPreview(tuple(lines), cash, source, already)


def _info(code: str, name: str, day: date, price: Decimal) -> InstrumentInfo | None:
    try:
        instrument = classify(code, name)
        prev = round_to_tick(price, instrument.tick)
        limits = price_limits(code, prev, on=day, st=instrument.st) if prev > 0 else None
    except (DomainError, ValueError, ArithmeticError):
        return None
    if prev <= 0:
        return None
    return InstrumentInfo(
        code, name, day, prev, limits[0] if limits else None, limits[1] if limits else None, instrument.tick,
        InstrumentStatus.NORMAL, instrument.st,
    )  # fmt: skip


def format_preview(preview: PlanPreview) -> str:
    out = [
        f"计划预览 (what the planner would do; no order is placed) — {preview.source}, 可用资金 (cash) {preview.cash}"
    ]
    if not preview.lines and not preview.already:
        out.append("  没有可计划的行 (nothing to plan)")
    for line in preview.lines:
        side = "买 (buy)" if line.side is Side.BUY else "卖 (sell)"
        if line.state is LineState.SKIPPED:
            why = next((c.reason for c in reversed(line.changes) if c.kind == "skipped"), "")
            out.append(f"  - {line.line_id}  {line.code} {side} {line.requested_qty}: {why}")
            out.extend(f"      {c.reason}" for c in line.changes if c.kind != "skipped")
            continue
        price = "-" if line.price is None else str(line.price)
        out.append(
            f"  → {line.line_id}  {line.code} {side} {line.qty} 股 (shares) @ {price} "
            f"[{line.policy}]"
            + (f"  (原 / requested {line.requested_qty})" if line.qty != line.requested_qty else "")
        )
        for change in line.changes:
            out.append(f"      {change.reason}")
    if preview.already:
        out.append(f"  {len(preview.already)} 行已在今日计划中 (already in today's plan, not planned again)")
    return "\n".join(out)
