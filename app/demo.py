"""`python -m app demo`: one whole A-share trading day, headless, on the simulated broker.

The day as Tiller runs it, through the Terminal only (the composition root, app/bootstrap.py, builds
everything): the batches of two followed strategies, served by the local BigQuant-compatible server on
127.0.0.1 and fetched over HTTP with the real client → the planner (PlanDesk: scaled to each strategy's
allotment, capped, rounded, skipped, every change with its reason) → approval → the execution policies
(opening auction with its fallback into continuous trading, TWAP, closing auction) with every order
through the risk gate → interventions at set simulated times (a pause of buys mid-morning and the
resume, a stop-loss switched on, hand-typed orders, cancel-all before the close) → after the close,
reconciliation against the broker and the day's sync payload delivered to the local server. Quotes are
synthetic; the simulated clock runs the day at `--speed`. The summary prints the plan with every note,
the risk decisions, the policies, the interventions and the P&L per strategy.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time as wall
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Protocol, TextIO

from app.bootstrap import build_sim_setup, eod_store_for, outbox_factory, seed_account
from app.clients.bigquant import BigQuantClient, BigQuantSignalSource
from app.clients.sync import HttpSyncTransport
from app.config import Settings
from app.core.eod.delivery import DeliveryReport, deliver_pending
from app.core.eod.service import EodResult
from app.core.execution.base import ExecutionProgress
from app.core.messages import OrderSnapshot
from app.core.oms import NewOrder
from app.core.planning.ledger import StrategyPosition
from app.core.planning.model import AllotKind, PlanError, PlanSnapshot, StrategySettings
from app.core.simulation import CallerAction, DayRunner, Progress
from app.core.summary import DaySummary
from app.core.terminal import Terminal
from app.demo_data import (
    DEMO_BATCHES,
    MANUAL_CODES,
    STRATEGY_A,
    STRATEGY_B,
    STRATEGY_NAMES,
    demo_positions,
    instrument_specs,
)
from app.devserver.server import (
    DEV_ACCESS_KEY,
    DEV_SECRET_KEY,
    DevServer,
    DevState,
    load_scenario,
)
from app.domain.clock import Clock
from app.domain.orders import OrderStatus, PriceType
from app.domain.prices import round_to_tick
from app.domain.side import Side
from app.domain.signals import SignalBatch

# The followed strategies: A trades its paper account one to one; B gets a fixed 500,000 of its
# 2,000,000 paper capital (its quantities are scaled by 0.25).
STRATEGIES = (
    StrategySettings(STRATEGY_A, Decimal(700_000), AllotKind.RATIO, Decimal(1), name=STRATEGY_NAMES[STRATEGY_A],
                     policy="auction_open"),
    StrategySettings(STRATEGY_B, Decimal(2_000_000), AllotKind.AMOUNT, Decimal(500_000), name=STRATEGY_NAMES[STRATEGY_B],
                     policy="auction_open"),
)  # fmt: skip
TWAP_LINE = "245910003"  # B's 长江电力 buy: spread over the day (a per-line override of B's default)
FALLBACK_LINE = "145909291"  # A's 平安银行 buy: priced at the previous close, it may miss the auction
# The risk settings the investor sets before the open (who: cli), and the stop-loss switched on at 10:00.
RISK_SETTINGS = (("max_position_pct", "0.15"), ("blacklist", "601857.SH"))
STOP_LOSS = ("stop_loss_pct", "0.12")
LIMIT_UP = ("688981.SH",)
PAUSE_AT = time(10, 0)
MANUAL_AT = time(10, 30)
RESUME_AT = time(10, 45)
CANCEL_AT = time(14, 50)  # what is still working is cancelled before the closing auction
ALREADY_DONE = "已执行过 (already done on an earlier run)"
USER = "user"


@dataclass
class DemoResult:
    summary: DaySummary
    plan: PlanSnapshot
    progress: dict[str, ExecutionProgress]
    batches: list[SignalBatch]
    seconds: float
    quotes: int
    data_dir: Path
    fetched_from: str = ""  # the local BigQuant-compatible server the batches came from
    already_done: list[str] = field(default_factory=list)  # fetched line ids planned on an earlier run
    interventions: list[str] = field(default_factory=list)  # what the investor did, when
    risk_audit: list[tuple] = field(default_factory=list)
    strategy_positions: list[StrategyPosition] = field(default_factory=list)
    eod: EodResult | None = None
    sync: list[DeliveryReport] = field(default_factory=list)
    strategies: tuple[StrategySettings, ...] = STRATEGIES

    @property
    def lines(self) -> int:
        return sum(len(b.lines) for b in self.batches)


def run_demo(
    settings: Settings,
    *,
    seed: int | None = None,
    speed: float | None = None,
    data_dir: Path | None = None,
    batch_files: Sequence[Path] = DEMO_BATCHES,
    out: TextIO = sys.stdout,
    progress: bool = True,
) -> DemoResult:
    started = wall.perf_counter()
    positions = demo_positions()
    keep = data_dir is not None
    folder = data_dir or Path(tempfile.mkdtemp(prefix="tiller-demo-"))
    try:
        with served_batches(batch_files) as (server, batches):
            specs = instrument_specs(batches, positions)
            setup = build_sim_setup(settings, day=batches[0].trading_day, instruments=specs, data_dir=folder,
                                    seed=seed, limit_up=LIMIT_UP)  # fmt: skip
            try:
                seed_account(setup, [(code, qty, cost) for code, qty, cost, _ in positions])
                setup.broker.connect()
                return run_day(setup, settings, batches, server, speed=speed, out=out, progress=progress,
                               started=started, folder=folder)  # fmt: skip
            finally:
                setup.close()
    finally:
        if not keep:
            shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def served_batches(
    batch_files: Sequence[Path] = DEMO_BATCHES,
) -> Iterator[tuple[DevServer, list[SignalBatch]]]:
    """The local BigQuant-compatible server serving `batch_files`, and the batches fetched from it
    over HTTP; the server stays up inside the block (the close delivers the day's sync to it)."""
    items = [item for path in batch_files for item in load_scenario(path)]
    state = DevState(items=items)
    with DevServer(state) as server:
        batches = _fetch_batches(server, state, items)
        if not batches:
            raise ValueError(f"{', '.join(map(str, batch_files))} 没有计划订单")
        yield server, batches


class DaySetup(Protocol):
    """What the demo's day uses of a setup: SimSetup, or the live setup with a driver of its venue
    (tests/helpers/qmt.py). The account is already seeded and the broker reachable."""

    @property
    def terminal(self) -> Terminal: ...
    @property
    def clock(self) -> Clock: ...
    @property
    def day(self) -> date: ...
    @property
    def db_path(self) -> Path: ...

    def day_runner(
        self,
        *,
        calls: Sequence[CallerAction] = (),
        speed: float | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        progress_every: float = 0.02,
    ) -> DayRunner: ...


def run_day(
    setup: DaySetup,
    settings: Settings,
    batches: list[SignalBatch],
    server: DevServer,
    *,
    speed: float | None = None,
    out: TextIO = sys.stdout,
    progress: bool = True,
    started: float | None = None,
    folder: Path | None = None,
) -> DemoResult:
    """The demo's trading day on `setup`: the plan before the open, the day with the investor's
    interventions, the close (reconciliation) and the sync delivered to `server`."""
    started = wall.perf_counter() if started is None else started
    terminal: Terminal = setup.terminal
    terminal.start()
    rerun = bool(terminal.orders())  # this folder already traded the day: nothing is sent again
    start_cash = terminal.account().cash
    interventions: list[str] = []

    def did(what: str) -> None:
        interventions.append(f"{setup.clock.now():%H:%M:%S} {what}")

    runner = setup.day_runner(
        calls=_interventions(terminal, did, rerun),
        speed=speed if speed is not None else settings.sim.speed,
        on_progress=_progress_printer(out) if progress else None,
        progress_every=0.02 if out.isatty() else 0.1,  # a log gets ten lines, a terminal one live line
    )
    runner.start()  # the day's instruments and prices are in: plan before the open
    start_equity = terminal.account().total_asset
    already = _plan_the_day(terminal, batches, did)
    runner.run()
    summary = terminal.day_summary(start_cash=start_cash, start_equity=start_equity)
    eod = terminal.close_day(eod_store_for, setup.day, account_id=settings.account.account_id,
                             opening_equity=start_equity)  # fmt: skip
    sync = _deliver(setup.db_path, server)
    return DemoResult(
        summary=summary, plan=terminal.plan(), progress=terminal.execution_progress(), batches=batches,
        seconds=wall.perf_counter() - started, quotes=runner.quotes, data_dir=folder or setup.db_path.parent,
        fetched_from=server.base_url, already_done=already, interventions=interventions,
        risk_audit=terminal.risk_audit(), strategy_positions=terminal.strategy_positions(), eod=eod, sync=sync,
    )  # fmt: skip


def _fetch_batches(server: DevServer, state: DevState, items: list[dict]) -> list[SignalBatch]:
    """The demo's batches as a follower gets them: over HTTP from the local BigQuant-compatible server
    (127.0.0.1, a free port), signed with the dev server's own published keys (never a real secret)."""
    days = sorted({item["trading_day"] for item in items if isinstance(item.get("trading_day"), str)})
    if not days:
        return []
    client = BigQuantClient(server.base_url, DEV_ACCESS_KEY, DEV_SECRET_KEY, retries=0)
    with client:
        source = BigQuantSignalSource(client, sorted(state.strategies()))
        batches = source.fetch(date.fromisoformat(days[0]))
    order = {s.strategy_id: i for i, s in enumerate(STRATEGIES)}
    return sorted((b for b in batches if b.lines or b.rejected), key=lambda b: order.get(b.strategy_id, 99))


def _plan_the_day(
    terminal: Terminal, batches: Sequence[SignalBatch], did: Callable[[str], None]
) -> list[str]:
    """Before the open, through the Terminal: risk settings, the followed strategies, the plan, two
    per-line overrides, approval. Returns the fetched lines an earlier run already planned."""
    for key, value in RISK_SETTINGS:
        old, new = terminal.set_risk(key, value, who="cli")
        if old != new:
            did(f"风控设置 (risk) {key}: {old or '—'} -> {new} (cli)")
    for strategy in STRATEGIES:
        terminal.set_strategy(strategy, who=USER)
    added = terminal.plan_batches(batches, who="planner")
    new_ids = {x.line_id for x in added}
    already = [line.signal_id for b in batches for line in b.lines if line.signal_id not in new_ids]
    plan = terminal.plan()
    waiting = {x.line_id: x for x in plan.lines if x.state.value == "planned"}
    for line_id, edit in ((TWAP_LINE, {"policy": "twap"}), (FALLBACK_LINE, {"price_offset": Decimal(0)})):
        if line_id in waiting:
            try:
                terminal.edit_line(line_id, who=USER, **edit)  # type: ignore[arg-type]
                did(f"修改计划行 (edit line) {line_id}: {edit}")
            except PlanError as exc:
                did(f"修改计划行未成 (edit refused) {line_id}: {exc}")
    approved = terminal.approve_plan(who=USER)
    if approved:
        did(f"批准计划 (approve the plan): {approved} 行 (lines)")
    return already


def _interventions(terminal: Terminal, did: Callable[[str], None], rerun: bool) -> list[CallerAction]:
    """The investor's day, at set simulated times, through the Terminal."""

    def pause() -> None:
        terminal.pause_buys(who=USER, cancel_working=True)
        did("暂停买入 (pause buys), 撤销在途买单 (working buy children cancelled)")

    def stop_loss() -> None:
        key, value = STOP_LOSS
        old, new = terminal.set_risk(key, value, who=USER)
        if old != new:
            did(f"风控设置 (risk) {key}: {old} -> {new} — 止损监控开启 (the stop-loss monitor is on)")

    def manual() -> None:
        if rerun:
            did("手工委托已在前一次运行下过，不再发送 (hand-typed orders: already sent on an earlier run)")
            return
        ids = terminal.submit(_manual_orders(terminal))
        did(f"手工委托 (hand-typed orders): {len(ids)} 笔")

    def resume() -> None:
        terminal.resume(who=USER)
        did("恢复买入 (resume)")

    def cancel_all() -> None:
        terminal.cancel_all_orders(who=USER)
        did("全部撤单 (cancel all working orders) before the closing auction")

    return [
        CallerAction(PAUSE_AT, "pause buys", pause),
        CallerAction(PAUSE_AT, "stop-loss on", stop_loss),
        CallerAction(MANUAL_AT, "manual orders", manual),
        CallerAction(RESUME_AT, "resume", resume),
        CallerAction(CANCEL_AT, "cancel all", cancel_all),
    ]


def _deliver(db_path: Path, server: DevServer) -> list[DeliveryReport]:
    """The day's sync payload (put in the outbox by the close) delivered to the local server."""
    transport = HttpSyncTransport(server.sync_url, access_key=DEV_ACCESS_KEY, secret_key=DEV_SECRET_KEY)
    outbox = outbox_factory(db_path)()
    try:
        return deliver_pending(outbox, transport, now=lambda: datetime.now(UTC), wait=lambda _s: True)
    finally:
        outbox.close()
        transport.close()


def _manual_orders(terminal: Terminal) -> list[NewOrder]:
    """What an investor might type by hand mid-morning: each shows a rule or a risk check at work."""
    last = terminal.last_prices()
    cmb = last.get("600036.SH", MANUAL_CODES["600036.SH"])
    spdb = last.get("600000.SH", MANUAL_CODES["600000.SH"])
    return [
        NewOrder("600000.SH", Side.BUY, 150, spdb),  # not a board lot: denied before it leaves
        NewOrder("000001.SZ", Side.SELL, 1000, last.get("000001.SZ", Decimal("11.37"))),  # bought today: T+1
        NewOrder("600036.SH", Side.BUY, 1000, round_to_tick(cmb * Decimal("1.04"), Decimal("0.01"))),  # cage
        NewOrder("600036.SH", Side.BUY, 2000, None, PriceType.BEST5_IOC),  # best five, rest cancelled
        NewOrder("601857.SH", Side.BUY, 1000, last.get("601857.SH", MANUAL_CODES["601857.SH"])),  # blacklist
        NewOrder("600000.SH", Side.BUY, 60000, spdb - Decimal("0.10")),  # above the position cap: resized
    ]


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
def _name(strategy_id: str) -> str:
    for s in STRATEGIES:
        if s.strategy_id == strategy_id:
            return s.name
    if strategy_id == "risk":
        return "风控止损 (risk monitor)"
    return strategy_id[:8] or "账户，手工与原有持仓 (account: by hand, carried in)"


def format_summary(result: DemoResult) -> str:
    s = result.summary
    lines = [
        "",
        f"== Tiller 模拟交易日 {s.trading_day} (simulated trading day) ==",
        f"计划订单 (planned orders) 取自 {result.fetched_from}: {len(result.batches)} 个策略, {result.lines} 条",
        "跟踪策略 (followed strategies):",
    ]
    for st in result.strategies:
        lines.append(
            f"  {st.name} {st.strategy_id[:8]}: 模拟资金 (paper) {st.paper_capital:,} → 分配 (allotted) "
            f"{st.allotted:,} ({st.allot_kind.value} {st.allot_value}, ×{st.scale:.4g}); 默认执行 (policy) {st.policy}"
        )
    lines += ["", "计划 (the plan) — 每行的调整与原因 (every change to a line and its reason):"]
    done = set(result.already_done)
    for x in result.plan.lines:
        progress = result.progress.get(x.line_id)
        asked = f"{x.requested_qty}->{x.qty}" if x.requested_qty != x.qty else f"{x.qty}"
        state = x.state.value
        if progress is not None:
            state += f", 成交 (filled) {progress.filled_qty}/{x.qty}"
        lines.append(
            f"  {_name(x.strategy_id)} {x.line_id} {x.code} {x.name} {x.side.value} {asked} "
            f"[{x.policy}; {state}]"
        )
        for c in x.changes:
            if c.kind not in ("approved", "handed"):
                lines.append(f"      - {c.kind}: {c.reason}")
        children = [o for o in s.orders if o.signal_id == x.line_id and o.strategy_id == x.strategy_id]
        if children:
            lines.append("      - 子委托 (child orders): " + "; ".join(_child(o) for o in children))
        if progress is not None and progress.note:
            lines.append(f"      - 执行 (execution): {progress.note}")
        if x.line_id in done:
            lines.append(f"      - {ALREADY_DONE}")
    lines += ["", "风控 (risk):"]
    for ts, who, key, old, new in result.risk_audit:
        lines.append(f"  设置 (setting) {_hms(ts)} {who}: {key} {old or '—'} -> {new}")
    for o in s.orders:
        if "风控" in o.status_msg:
            verdict = "缩减 (resized)" if o.status is not OrderStatus.DENIED else "拒绝 (denied)"
            lines.append(
                f"  {verdict} {o.code} {o.side.value} {o.qty} ({o.strategy_id[:8] or '手工'}): {o.status_msg}"
            )
        elif o.strategy_id == "risk":
            lines.append(
                f"  {o.signal_id} {o.code} {o.side.value} {o.qty}: {o.status.value}, 成交 {o.filled_qty}"
            )
    lines += ["", "干预 (interventions):"]
    lines += [f"  {x}" for x in result.interventions]
    lines += [f"  记录 (plan audit) {_hms(a.ts)} {a.who}: {a.action} {a.line_id} {a.detail}".rstrip()
              for a in result.plan.audit if a.action not in ("set_strategy",)]  # fmt: skip
    counts = s.counts
    lines.append("")
    lines.append(
        "委托 (orders): "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
        + f"; 总计 {len(s.orders)}，成交笔数 (trades) {s.trades}"
    )
    lines.append(
        f"{'代码':<10} {'方向':<4} {'数量':>8} {'价格':>9} {'成交':>8} {'均价':>9} {'费用':>7}  来源  状态 / 原因"
    )
    for o in s.orders:
        price = "市价" if o.price is None else f"{o.price}"
        avg = "" if o.avg_price is None else f"{o.avg_price:.3f}"
        reason = f" {o.status_msg}" if o.status_msg else ""
        source = f"{o.strategy_id[:8]}:{o.signal_id}" if o.strategy_id else "手工 (hand)"
        lines.append(
            f"{o.code:<10} {o.side.value:<4} {o.qty:>8} {price:>9} {o.filled_qty:>8} {avg:>9} {o.fees:>7.2f}  "
            f"{source} {o.status.value}{reason}"
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
    lines += ["", "按策略 (per strategy):"]
    holdings: dict[str, list[str]] = {}
    for sp in result.strategy_positions:
        if sp.total:
            holdings.setdefault(sp.strategy_id, []).append(f"{sp.code} {sp.total}")
    if result.eod is not None:
        for a in result.eod.attribution:
            lines.append(
                f"  {_name(a.strategy_id)}: 委托 {a.orders}, 成交 {a.trades}, 买入 {a.bought:,.2f}, 卖出 {a.sold:,.2f}, "
                f"费用 {a.fees:,.2f}, 当日盈亏 (P&L) {a.pnl:,.2f}; 持仓 {', '.join(holdings.get(a.strategy_id, [])) or '—'}"
            )
        rec = result.eod.reconciliation
        lines += ["", f"日终对账 (reconciliation with the broker): {rec.status.value}"]
        lines += [f"  {d}" for d in rec.differences]
        if result.eod.outbox is not None:
            sent = (
                ", ".join(f"{r.outcome.value}" for r in result.sync) or "已送达 (delivered on an earlier run)"
            )
            lines.append(
                f"同步 (sync) {result.eod.outbox.sync_id[:12]}… r{result.eod.outbox.revision}: {sent}"
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


def _child(o: OrderSnapshot) -> str:
    price = "市价" if o.price is None else f"{o.price}"
    return f"{o.created_at:%H:%M:%S} {o.qty}@{price} {o.status.value} {o.filled_qty}"


def _hms(ts: object) -> str:
    if isinstance(ts, datetime):
        return f"{ts:%H:%M:%S}"
    text = str(ts)
    return text[11:19] if len(text) >= 19 else text
