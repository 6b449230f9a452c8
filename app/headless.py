"""`python -m app run --headless`: Tiller with the scheduler and no window, printing what it does.

On the simulated setup (the only one there is until the QMT gateway lands): the simulated broker, the
synthetic market, the day's jobs from the scheduler's plan as engine timers on a simulated clock that
runs at `--speed` (1 = real time; 0 = as fast as it goes) from `--start` (default: now, so a late start
is a real late start) to `--until`. The planned orders come from `--signals` (a BigQuant planned-order
file) or the bundled demo batch, re-dated to the day. After the close it reconciles, settles, keeps the
day's performance and syncs (to bigquant.sync_url, if set). Ctrl-C stops it cleanly: the books are
committed, the broker file closed, the account lock released.
"""

from __future__ import annotations

import queue
import time as wall
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TextIO

from app.bootstrap import (
    alert_dispatcher,
    build_sim_setup,
    eod_store_for,
    outbox_factory,
    seed_account,
    sync_transport,
)
from app.calendar_file import load_calendar
from app.clients.planned_orders import load_planned_orders_file
from app.config import Settings
from app.core.alerts import AlertDispatcher
from app.core.auction_plan import plan_auction_orders
from app.core.engine import Engine
from app.core.eod.delivery import DeliveryWorker
from app.core.eod.service import close_day
from app.core.eod.settlement import block_message, blocking_settlement
from app.core.messages import AlertRaised, LiveStateChanged, QuotesArrived, StartDay
from app.core.terminal import Terminal
from app.demo import DEMO_BATCH, _demo_positions, _fallback_to_continuous, _instrument_specs
from app.domain.clock import CN_TZ
from app.domain.signals import SignalBatch
from app.scheduler.plan import Command, Job, Times, plan_day, plan_on_engine
from app.secrets import SecretStore
from app.sync_command import close_earlier_day, unsettled_days

CLOSE = time(15, 0)


@dataclass(frozen=True, slots=True)
class HeadlessOptions:
    day: date
    start: time
    until: time = time(16, 0)
    speed: float | None = 1.0  # simulated seconds per real second; None or 0: as fast as it goes
    signals: Path | None = None
    data_dir: Path | None = None
    seed: int | None = None
    arm: bool = False  # --arm: the simulated setup has nothing to arm (said, then ignored)


@dataclass
class _State:
    batches: list[SignalBatch] = field(default_factory=list)
    approved: bool = False
    open_sent: bool = False


class _Say:
    """Lines from any thread (timers run on the engine thread); printed by the main thread."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    def __call__(self, text: str) -> None:
        self.lines.put(text)

    def alert_listener(self, event: object) -> None:
        if isinstance(event, LiveStateChanged):
            self.lines.put(
                f"[{event.ts:%H:%M:%S}] 实盘状态 (live state): {event.state} ({event.by}, {event.reason})"
            )
        elif isinstance(event, AlertRaised) and event.level in ("warning", "error", "critical"):
            self.lines.put(
                f"[{event.ts:%H:%M:%S}] 告警 (alert) {event.level}/{event.category}: {event.message}"
            )

    def flush(self) -> None:
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            print(line, file=self.out, flush=True)


def _load_signals(options: HeadlessOptions) -> tuple[list[SignalBatch], str]:
    if options.signals is not None:
        batches = [b for b in load_planned_orders_file(options.signals) if b.trading_day == options.day]
        return batches, str(options.signals)
    demo = load_planned_orders_file(DEMO_BATCH)
    redated = [
        replace(
            b,
            trading_day=options.day,
            lines=tuple(replace(line, trading_day=options.day) for line in b.lines),
        )
        for b in demo
    ]
    return redated, "演示信号 (the demo batch, re-dated)"


def run_headless(settings: Settings, options: HeadlessOptions, out: TextIO) -> int:
    say = _Say(out)
    batches, source = _load_signals(options)
    calendar = load_calendar(settings.general.data_dir)
    # a day left without its close (stopped or crashed before 15:30): close and sync it first, in its own
    # session, while the broker still lists that day's orders; if it does not settle, today is held
    missed = unsettled_days(settings, options.data_dir, options.day)
    if missed:
        close_earlier_day(settings, missed[-1], options.data_dir, out)
    specs = _instrument_specs(batches[0], _demo_positions()) if batches else []
    setup = build_sim_setup(
        settings, day=options.day, instruments=specs, data_dir=options.data_dir, seed=options.seed,
        start=options.start,
    )  # fmt: skip
    worker: DeliveryWorker | None = None
    dispatcher: AlertDispatcher | None = None
    interrupted = False
    try:
        seed_account(setup, [(code, qty, cost) for code, qty, cost, _ in _demo_positions()])
        engine, clock = setup.engine, setup.clock
        terminal = Terminal(engine)
        setup.broker.connect()
        terminal.subscribe(say.alert_listener)
        if settings.alerts.channels:
            dispatcher = alert_dispatcher(settings, SecretStore())
            terminal.subscribe(dispatcher.listener)
            dispatcher.start()
        terminal.start()
        transport = sync_transport(settings, SecretStore()) if settings.bigquant.sync_url else None
        if transport is not None:
            worker = DeliveryWorker(
                outbox_factory(setup.db_path), transport, now=lambda: datetime.now(UTC), alert=terminal.alert,
                on_round=lambda reports: [say(f"同步 (sync) {r.trading_day}: {r.outcome.value} {r.message}".rstrip())
                                          for r in reports],
            )  # fmt: skip
            worker.start()
        say(f"Tiller 无界面运行 (headless) — 模拟账户 (simulated account) {settings.account.account_id}, "
            f"{options.day.isoformat()} {options.start:%H:%M} → {options.until:%H:%M}, "
            f"速度 (speed) {options.speed or '最快 (as fast as possible)'}; 信号 (signals): {source}")  # fmt: skip
        say(f"数据 (data): {setup.db_path}")
        say(terminal.live_status().describe())
        if options.arm:
            say("模拟盘无需布防，忽略 --arm (the simulated setup has nothing to arm: --arm ignored)")
        blocking = blocking_settlement(terminal.settlements(eod_store_for), options.day)
        blocked = None if blocking is None else block_message(blocking, options.day)
        if blocked:
            say(blocked)
        plan = plan_day(
            options.day, clock.now(), calendar, Times.from_settings(settings.schedule), blocked=blocked
        )
        for line in plan.describe():
            say(line)
        state = _State()
        handlers = _handlers(state, batches, settings.account.account_id, say, worker)
        say.flush()
        if plan.jobs and calendar.is_trading_day(options.day):
            _drive(setup, options, say, lambda: plan_on_engine(engine, plan, handlers))
        say("完成 (done)")
        say.flush()
        return 0
    except KeyboardInterrupt:
        interrupted = True
        say.flush()
        print("已停止 (stopped by Ctrl-C): 账本已保存 (the books are saved)", file=out, flush=True)
        raise
    finally:
        if worker is not None:
            if not interrupted:
                worker.drain(30.0)  # a payload kicked at the close gets its round before the end
            worker.stop()
        if dispatcher is not None:
            dispatcher.stop()
        setup.close()


def _handlers(
    state: _State, batches: Sequence[SignalBatch], account_id: str, say: _Say, worker: DeliveryWorker | None
) -> dict[Command, Callable[[Engine, Job], None]]:
    def stamp(e: Engine) -> str:
        return f"[{e.clock.now():%H:%M:%S}]"

    def note(job: Job) -> str:
        return f" — {job.note}" if job.note else ""

    def fetch(e: Engine, job: Job) -> None:
        state.batches = list(batches)
        n = sum(len(b.lines) for b in state.batches)
        say(
            f"{stamp(e)} 取得计划订单 (planned orders fetched): {len(state.batches)} 批 (batches), {n} 条 (lines){note(job)}"
        )

    def approve(e: Engine, job: Job) -> None:
        state.approved = True
        say(f"{stamp(e)} 计划自动批准 (plan approved automatically){note(job)}")

    def send(e: Engine, at_close: bool, why: str) -> None:
        if not state.approved:
            say(f"{stamp(e)} 计划未批准, 不下单 (the plan is not approved: no orders)")
            return
        placed = 0
        for batch in state.batches:
            lines = tuple(line for line in batch.lines if line.at_close == at_close)
            if not lines:
                continue
            new, done = e.oms.take_in(replace(batch, lines=lines), e.clock.now())
            sellable = {code: p.sellable for code, p in e.oms.positions.items()}
            planned = plan_auction_orders(new, e.oms.instruments, sellable, dict(e.oms.last_prices))
            orders = [p.order for p in planned if p.order is not None]
            e.place(orders)
            placed += len(orders)
            for p in planned:
                if p.order is None:
                    say(f"{stamp(e)}   {p.line.code} {p.line.side.value} {p.line.qty}: {p.note}")
            if done:
                say(f"{stamp(e)}   {len(done)} 条已执行过 (already done on an earlier run)")
        say(f"{stamp(e)} {why}: {placed} 笔委托 (orders)")

    def open_auction(e: Engine, job: Job) -> None:
        state.open_sent = True
        send(e, False, f"开盘集合竞价 (opening auction){note(job)}")

    def continuous(e: Engine, job: Job) -> None:
        if not state.open_sent:
            state.open_sent = True
            send(
                e,
                False,
                f"连续竞价, 代替错过的集合竞价 (continuous trading, in place of the missed auction){note(job)}",
            )
        else:
            say(
                f"{stamp(e)} 连续竞价: 未成交的集合竞价委托改价重发 (continuous: unfilled auction orders re-priced)"
            )
            _fallback_to_continuous(e)

    def monitor(e: Engine, job: Job) -> None:
        working = len(e.oms.working_orders())
        snap = e.account_snapshot()
        say(f"{stamp(e)} 盘中检查 (monitor): 在途委托 (working) {working}, 资金 (cash) {snap.cash}, "
            f"总资产 (total) {snap.total_asset}")  # fmt: skip

    def close_auction(e: Engine, job: Job) -> None:
        send(e, True, f"收盘集合竞价 (closing auction){note(job)}")

    def post_close(e: Engine, job: Job) -> None:
        result = close_day(e, eod_store_for(e.store), day=job.day, account_id=account_id)
        status = result.reconciliation.status.value
        say(f"{stamp(e)} 日终对账 (reconciliation) {job.day}: {status}{note(job)}")
        for d in result.reconciliation.differences:
            say(f"{stamp(e)}   {d}")
        if result.performance is not None:
            p = result.performance
            say(f"{stamp(e)} 绩效 (performance): 权益 (equity) {p.equity}, 当日 (day) {p.daily_return:.4%}, "
                f"累计 (cumulative) {p.cumulative_return:.4%}, 最大回撤 (max drawdown) {p.max_drawdown:.4%}")  # fmt: skip
        if result.outbox is not None:
            target = (
                "发送中 (sending)"
                if worker is not None
                else "未设置 bigquant.sync_url, 仅存入发件箱 (no sync_url: kept in the outbox)"
            )
            say(
                f"{stamp(e)} 同步数据 (sync payload) {result.outbox.sync_id[:12]}… r{result.outbox.revision}: {target}"
            )
            if worker is not None:
                worker.kick()

    def backup(e: Engine, job: Job) -> None:
        database = getattr(e.store, "database", None)
        if database is None:
            return
        path = database.backup(now=e.clock.now())
        say(f"{stamp(e)} 数据库已备份 (database backed up): {path}")

    return {
        Command.FETCH: fetch,
        Command.APPROVE: approve,
        Command.OPEN_AUCTION: open_auction,
        Command.CONTINUOUS: continuous,
        Command.MONITOR: monitor,
        Command.CLOSE_AUCTION: close_auction,
        Command.POST_CLOSE: post_close,
        Command.BACKUP: backup,
    }


def _drive(setup, options: HeadlessOptions, say: _Say, schedule: Callable[[], object]) -> None:
    """Move the simulated clock through the day from --start to --until: quotes into the broker and the
    engine, timers (the jobs) in time order, the exchange's close at 15:00, paced at --speed."""
    engine, venue, clock, feed, day = setup.engine, setup.broker, setup.clock, setup.feed, options.day
    wall_start, sim_start = wall.perf_counter(), clock.now()
    until = datetime.combine(day, options.until, CN_TZ)
    close = datetime.combine(day, CLOSE, CN_TZ)

    def settle() -> None:
        for _ in range(2):
            venue.wait_idle(30.0)
            engine.wait_idle(30.0)

    def pace(to: datetime) -> None:
        if not options.speed:
            return
        while True:
            ahead = (to - sim_start).total_seconds() / options.speed - (wall.perf_counter() - wall_start)
            if ahead <= 0:
                return
            wall.sleep(min(ahead, 0.25))

    def timers(upto: datetime) -> None:
        while (due := clock.next_timer_at()) is not None and due <= upto:
            settle()
            pace(due)
            clock.advance_to(max(due, clock.now()))
            settle()
            say.flush()

    infos = feed.instruments(day)
    venue.set_instruments(infos)
    venue.begin_day(day)
    engine.post(StartDay(day, infos))
    settle()
    standing = feed.snapshot(day, sim_start.time())  # the market as it stands when Tiller starts (late)
    if standing:
        venue.on_quotes(standing)
        venue.wait_idle(30.0)
        engine.post(QuotesArrived(standing))
        settle()
    schedule()  # the jobs, once the day and its prices are in: a job caught up runs now
    settle()
    say.flush()
    for ts, quotes in feed.batches(day):
        if ts > until or ts > close:
            break
        if ts <= sim_start:
            continue
        timers(ts)
        pace(ts)
        if ts > clock.now():
            clock.advance_to(ts)
        venue.on_quotes(quotes)
        venue.wait_idle(30.0)
        engine.post(QuotesArrived(quotes))
    if until >= close and clock.now() <= close:
        timers(close)
        settle()
        venue.end_day()  # the exchange's close: what is still working is cancelled
        settle()
    timers(until)
    settle()
    if until > clock.now():
        pace(until)
        clock.advance_to(until)
    say.flush()


# How long `run_live_headless` goes on: until Ctrl-C (tests replace it).
def _keep_running() -> bool:
    wall.sleep(0.25)
    return True


keep_running: Callable[[], bool] = _keep_running


def run_live_headless(settings: Settings, *, arm: bool, out: TextIO) -> int:
    """general.mode = "live": the QMT setup (bootstrap.build_live_setup), observe-only unless `arm`
    (confirmed by the caller), printing the live state, its changes and the alerts until Ctrl-C. The
    setup is expected as build_sim_setup gives one: built, not started. The day's jobs on the live
    scheduler are wired when the QMT gateway lands."""
    from app import bootstrap
    from app.arming_cli import arm_from_cli

    say = _Say(out)
    setup = bootstrap.build_live_setup(  # type: ignore[attr-defined]
        settings, live_guard=bootstrap.install_live_guard(settings)
    )
    try:
        terminal = setup.terminal
        terminal.subscribe(say.alert_listener)
        terminal.start()
        say(f"Tiller 无界面运行实盘 (headless, live QMT account); 数据 (data): {settings.general.data_dir}")
        say(terminal.live_status().describe())
        say.flush()
        if arm:
            arm_from_cli(terminal, out)
        while keep_running():
            say.flush()
        say.flush()
        return 0
    except KeyboardInterrupt:
        say.flush()
        print("已停止 (stopped by Ctrl-C): 账本已保存 (the books are saved)", file=out, flush=True)
        raise
    finally:
        setup.close()
