"""`python -m app demo`: one whole A-share trading day, headless, on the simulated broker.

The day's planned orders come from the bundled demo batch (BigQuant's planned-order format), served
by the local BigQuant-compatible server on 127.0.0.1 and fetched over HTTP with the real client;
quotes are synthetic; the simulated clock runs the day at `--speed`. At the end it prints what
happened: orders sent, filled, partly filled, rejected with reasons, fees, cash, positions, P&L.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time as wall
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from app.bootstrap import build_sim_setup, seed_account
from app.clients.bigquant import BigQuantClient, BigQuantSignalSource
from app.config import Settings
from app.core.auction_plan import DEFAULT_OFFSET, PlannedLine, clamp_to_limits, plan_auction_orders
from app.core.engine import Engine
from app.core.execution import ExecutionRequest
from app.core.messages import CancelAllOrders
from app.core.oms import NewOrder
from app.core.simulation import DayRunner, Progress, ScheduledAction
from app.core.summary import DaySummary, equity, summarize
from app.devserver.server import DEV_ACCESS_KEY, DEV_SECRET_KEY, DevServer, DevState, load_scenario
from app.domain.instruments import classify
from app.domain.orders import OrderStatus, PriceType
from app.domain.prices import round_to_tick
from app.domain.side import Side
from app.domain.signals import SignalBatch
from app.feeds.universe import InstrumentSpec
from app.resources import resource_path

DEMO_BATCH = resource_path("demo", "planned_orders.json")
DEMO_POSITIONS = resource_path("demo", "positions.json")
# Instruments a user trades by hand during the demo day, beside the strategy's.
MANUAL_CODES = {"600036.SH": Decimal("41.20"), "600000.SH": Decimal("10.05")}
LIMIT_UP = ("688981.SH",)
MANUAL_AT = time(10, 30)
CANCEL_AT = time(14, 50)  # what is still working is cancelled before the closing auction
CLOSE_AUCTION_AT = time(14, 57, 30)
FALLBACK_TRIES = 60  # seconds the headless fallback waits for the cancels' confirmations
ALREADY_DONE = "已执行过 (already done on an earlier run)"


@dataclass
class DemoResult:
    summary: DaySummary
    planned: list[PlannedLine]
    batch: SignalBatch
    seconds: float
    quotes: int
    data_dir: Path
    fetched_from: str = ""  # the local BigQuant-compatible server the batch came from


def run_demo(
    settings: Settings,
    *,
    seed: int | None = None,
    speed: float | None = None,
    data_dir: Path | None = None,
    batch_file: Path = DEMO_BATCH,
    out: TextIO = sys.stdout,
    progress: bool = True,
) -> DemoResult:
    started = wall.perf_counter()
    batches, fetched_from = _fetch_demo_batches(batch_file)
    if not batches:
        raise ValueError(f"{batch_file} 没有计划订单")
    batch = batches[0]
    positions = _demo_positions()
    specs = _instrument_specs(batch, positions)
    keep = data_dir is not None
    folder = data_dir or Path(tempfile.mkdtemp(prefix="tiller-demo-"))
    setup = build_sim_setup(settings, day=batch.trading_day, instruments=specs, data_dir=folder, seed=seed,
                            limit_up=LIMIT_UP)  # fmt: skip
    try:
        seed_account(setup, [(code, qty, cost) for code, qty, cost, _ in positions])
        setup.broker.connect()
        setup.engine.start()
        start_cash = setup.engine.call(lambda e: e.oms.cash.cash)
        planned: list[PlannedLine] = []
        runner = DayRunner(
            engine=setup.engine,
            venue=setup.broker,
            source=setup.feed,
            clock=setup.clock,
            day=batch.trading_day,
            actions=_actions(batch, planned),
            speed=speed if speed is not None else settings.sim.speed,
            on_progress=_progress_printer(out) if progress else None,
            progress_every=0.02 if out.isatty() else 0.1,  # a log gets ten lines, a terminal one live line
        )
        runner.start()
        start_equity = setup.engine.call(equity)
        runner.run()
        summary = setup.engine.call(lambda e: summarize(e, start_cash=start_cash, start_equity=start_equity))
        return DemoResult(
            summary, planned, batch, wall.perf_counter() - started, runner.quotes, folder, fetched_from
        )
    finally:
        setup.close()
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


def _fetch_demo_batches(batch_file: Path) -> tuple[list[SignalBatch], str]:
    """The demo's batch as a follower gets it: over HTTP from a local BigQuant-compatible server
    (127.0.0.1, a free port) serving `batch_file`, signed with the dev server's own published keys
    (never a real secret). Returns the batches and the URL they came from."""
    items = load_scenario(batch_file)
    days = sorted({item["trading_day"] for item in items if isinstance(item.get("trading_day"), str)})
    if not days:
        raise ValueError(f"{batch_file} 没有计划订单")
    state = DevState(items=items)
    with DevServer(state) as server:
        client = BigQuantClient(server.base_url, DEV_ACCESS_KEY, DEV_SECRET_KEY, retries=0)
        with client:
            source = BigQuantSignalSource(client, sorted(state.strategies()))
            batches = source.fetch(date.fromisoformat(days[0]))
        return [b for b in batches if b.lines or b.rejected], server.base_url


def _demo_positions() -> list[tuple[str, int, Decimal, Decimal]]:
    """(code, qty, cost, last price) of the demo account's opening positions."""
    items = json.loads(DEMO_POSITIONS.read_text(encoding="utf-8"))["data"]["items"]
    return [
        (i["instrument"], int(i["current_qty"]), Decimal(str(i["cost_price"])), Decimal(str(i["last_price"])))
        for i in items
    ]


def _instrument_specs(
    batch: SignalBatch, positions: Sequence[tuple[str, int, Decimal, Decimal]]
) -> list[InstrumentSpec]:
    prev: dict[str, tuple[str, Decimal]] = {}
    for line in batch.lines:
        if line.ref_price is not None:
            tick = classify(line.code).tick
            prev[line.code] = (line.name, round_to_tick(line.ref_price, tick))
    for code, _, _, last in positions:
        prev.setdefault(code, ("", last))
    for code, price in MANUAL_CODES.items():
        prev.setdefault(code, ("", price))
    return [InstrumentSpec(code, name=name, prev_close=price) for code, (name, price) in prev.items()]


def _actions(batch: SignalBatch, planned: list[PlannedLine]) -> list[ScheduledAction]:
    at_open = [line for line in batch.lines if not line.at_close]
    at_close = [line for line in batch.lines if line.at_close]

    def send(lines: Sequence, policy: str) -> Callable[[Engine], None]:
        def run(e: Engine) -> None:  # a timer, on the engine thread
            # taken in first (on disk before any of its orders): a line becomes orders at most once,
            # however often the demo runs on the same data folder
            new, done = e.oms.take_in(replace(batch, lines=tuple(lines)), e.clock.now())
            sellable = {code: p.sellable for code, p in e.oms.positions.items()}
            lines_planned = plan_auction_orders(new, e.oms.instruments, sellable, dict(e.oms.last_prices))
            lines_planned += [PlannedLine(line, None, ALREADY_DONE) for line in done]
            planned.extend(lines_planned)
            # the execution policies place the children: the auction order and, for the open, its
            # fallback into continuous trading (app/core/execution)
            for p in lines_planned:
                if p.order is not None and e.execution is not None:
                    e.execution.start(
                        ExecutionRequest(p.line.signal_id, p.line.strategy_id, p.order.code, p.order.side,
                                         p.order.qty, policy, {"auction_offset": str(DEFAULT_OFFSET)})
                    )  # fmt: skip

        return run

    return [
        ScheduledAction(time(9, 16), "opening auction", send(at_open, "auction_open")),
        ScheduledAction(MANUAL_AT, "manual orders", _manual_orders),
        ScheduledAction(CANCEL_AT, "cancel before the close", _cancel_working),
        ScheduledAction(CLOSE_AUCTION_AT, "closing auction", send(at_close, "auction_close")),
    ]


# The headless day (app/headless.py) still re-prices its unfilled auction orders this way; the demo's
# lines go through the execution service's auction_open fallback instead.
def _fallback_to_continuous(e: Engine) -> None:
    """Auction orders not filled: cancel, then (a timer a second later, once the broker has confirmed
    the cancels) re-send what was cancelled at a marketable price inside the limits."""

    def unfilled() -> list[tuple[str, NewOrder]]:
        out = []
        for order in e.oms.working_orders():
            if order.external or order.leaves_qty == 0 or order.price is None:
                continue
            info = e.oms.instruments.get(order.code)
            last = e.oms.last_prices.get(order.code, order.price)
            tick = classify(order.code).tick
            factor = Decimal("1.005") if order.side is Side.BUY else Decimal("0.995")
            price = clamp_to_limits(round_to_tick(last * factor, tick), info)
            out.append((order.client_order_id, NewOrder(order.code, order.side, order.leaves_qty, price,
                                                        strategy_id=order.strategy_id, signal_id=order.signal_id)))  # fmt: skip
        return out

    pending = unfilled()
    for client_order_id, _ in pending:
        e.cancel(client_order_id)

    waiting = dict(pending)

    def resend(tries: int) -> None:
        # each cancelled order is re-sent once its cancel is confirmed (a slow counter takes longer)
        ended = [cid for cid in waiting if e.oms.orders[cid].status.is_final]
        e.place([waiting[cid] for cid in ended if e.oms.orders[cid].status is OrderStatus.CANCELLED])
        for cid in ended:
            del waiting[cid]
        if waiting and tries > 1:
            e.schedule_after(timedelta(seconds=1), lambda: resend(tries - 1), "auction fallback: re-send")

    e.schedule_after(timedelta(seconds=1), lambda: resend(FALLBACK_TRIES), "auction fallback: re-send")


def _manual_orders(e: Engine) -> None:
    """What an investor might type by hand mid-morning: each shows a rule at work."""

    def orders() -> list[NewOrder]:
        last = e.oms.last_prices
        cmb = last.get("600036.SH", MANUAL_CODES["600036.SH"])
        spdb = last.get("600000.SH", MANUAL_CODES["600000.SH"])
        return [
            NewOrder("600000.SH", Side.BUY, 150, spdb),  # not a board lot: denied before it leaves
            NewOrder(
                "000001.SZ", Side.SELL, 1000, last.get("000001.SZ", Decimal("11.37"))
            ),  # bought today: T+1
            NewOrder(
                "600036.SH", Side.BUY, 1000, round_to_tick(cmb * Decimal("1.04"), Decimal("0.01"))
            ),  # cage
            NewOrder("600036.SH", Side.BUY, 2000, None, PriceType.BEST5_IOC),  # best five, rest cancelled
            NewOrder(
                "600000.SH", Side.BUY, 60000, spdb - Decimal("0.10")
            ),  # large and passive: fills in parts
        ]

    e.place(orders())


def _cancel_working(e: Engine) -> None:
    e.cancel_all(CancelAllOrders())


def _progress_printer(out: TextIO) -> Callable[[Progress], None]:
    tty = out.isatty()

    def show(p: Progress) -> None:
        bar = "#" * int(p.fraction * 30)
        line = f"模拟交易日 {p.now:%H:%M:%S} [{bar:<30}] {p.fraction:4.0%}  行情 {p.quotes:,}"
        print(
            ("\r" + line) if tty else line, end="" if tty and p.fraction < 1 else "\n", file=out, flush=True
        )

    return show


# ------------------------------------------------------------------------------------ report
def format_summary(result: DemoResult) -> str:
    s = result.summary
    lines = [
        "",
        f"== Tiller 模拟交易日 {s.trading_day} (simulated trading day) ==",
        f"策略 {result.batch.strategy_id}: {len(result.batch.lines)} 条计划订单 (planned orders)",
    ]
    for p in result.planned:
        status = "已下单" if p.order is not None else "跳过"
        detail = f"{p.order.qty} @ {p.order.price}" if p.order is not None else ""
        note = f"  — {p.note}" if p.note else ""
        lines.append(
            f"  {p.line.code} {p.line.name} {p.line.side.value} {p.line.qty}: {status} {detail}{note}"
        )
    counts = s.counts
    lines.append("")
    lines.append(
        "委托 (orders): "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + f"; 总计 {len(s.orders)}，成交笔数 (trades) {s.trades}"
    )
    lines.append(
        f"{'代码':<10} {'方向':<4} {'数量':>8} {'价格':>9} {'成交':>8} {'均价':>9} {'费用':>7}  状态 / 原因"
    )
    for o in s.orders:
        price = "市价" if o.price is None else f"{o.price}"
        avg = "" if o.avg_price is None else f"{o.avg_price:.3f}"
        reason = f" {o.status_msg}" if o.status_msg else ""
        lines.append(
            f"{o.code:<10} {o.side.value:<4} {o.qty:>8} {price:>9} {o.filled_qty:>8} {avg:>9} {o.fees:>7.2f}  "
            f"{o.status.value}{reason}"
        )
    lines.append("")
    lines.append(
        f"{'持仓':<10} {'数量':>8} {'可卖':>8} {'成本':>9} {'现价':>9} {'市值':>12} {'浮动盈亏':>11}"
    )
    for p in s.positions:
        if p.total == 0:
            continue
        last = "" if p.last_price is None else f"{p.last_price}"
        lines.append(
            f"{p.code:<10} {p.total:>8} {p.sellable:>8} {p.avg_cost:>9.3f} {last:>9} {p.market_value:>12.2f} "
            f"{p.unrealized_pnl:>11.2f}"
        )
    a = s.account
    lines += [
        "",
        f"资金 (cash): 期初 {s.start_cash:,.2f} → 期末 {a.cash:,.2f}; 可用 {a.available:,.2f}; 冻结 {a.frozen:,.2f}",
        f"费用合计 (fees): {s.fees:,.2f}; 已实现盈亏 (realized): {s.realized_pnl:,.2f}; "
        f"浮动盈亏 (unrealized): {s.unrealized_pnl:,.2f}",
        f"总资产 (equity): {s.start_equity:,.2f} → {s.equity:,.2f}; 当日盈亏 (day P&L): {s.day_pnl:,.2f}",
        f"用时 {result.seconds:.1f} 秒，处理行情 {result.quotes:,} 笔",
    ]
    return "\n".join(lines)
