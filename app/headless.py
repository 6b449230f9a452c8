"""`python -m app run --headless`: Tiller with the scheduler and no window, printing what it does.

On the simulated setup (the only one there is until the QMT gateway lands): the simulated broker, the
synthetic market, the day's jobs from the scheduler's plan as engine timers on a simulated clock that
runs at `--speed` (1 = real time; 0 = as fast as it goes) from `--start` (default: now, so a late start
is a real late start) to `--until`. The planned orders come from `--signals` (a BigQuant planned-order
file) or the bundled demo batch, re-dated to the day, fetched on a worker thread at the pre-open
fetch job; the chain (app/scheduler/chain.py) plans them through the plan desk, approves at the
deadline unless paused and hands them to the execution service. With `files.inbox` set, file orders
dropped there are taken in as they come (docs/FILE_ORDERS.md). After the close it reconciles, settles,
keeps the day's performance and syncs (to bigquant.sync_url, if set). Ctrl-C stops it cleanly: the books are
committed, the broker file closed, the account lock released.
"""

from __future__ import annotations

import queue
import time as wall
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TextIO

from app.bootstrap import (
    alert_dispatcher,
    build_sim_setup,
    eod_store_for,
    outbox_factory,
    seed_account,
    sync_transport,
)
from app.calendar_file import load_calendar
from app.clients.fetch_worker import SignalFetchWorker
from app.clients.file_inbox import FileInbox, collect_books
from app.clients.planned_orders import FileSignalSource, load_planned_orders_file
from app.config import Settings
from app.core.alerts import AlertDispatcher
from app.core.engine import Engine
from app.core.eod.delivery import DeliveryWorker
from app.core.eod.service import close_day
from app.core.eod.settlement import block_message, blocking_settlement
from app.core.messages import AlertRaised, LiveStateChanged, QuotesArrived, SignalsFetched, StartDay
from app.core.terminal import Terminal
from app.demo_data import DEMO_BATCH, demo_positions, instrument_specs
from app.domain.clock import CN_TZ
from app.domain.signals import SignalBatch
from app.plan_preview import followed
from app.scheduler.chain import day_handlers, plan_on_arrival, resume_handed
from app.scheduler.plan import Command, DayPlan, Handler, Job, Times, plan_day, plan_on_engine
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


class _StaticSource:
    """The day's planned orders already read (the demo batch re-dated): fetched like any source."""

    def __init__(self, batches: Sequence[SignalBatch]) -> None:
        self.batches = list(batches)

    def fetch(self, day: date) -> list[SignalBatch]:
        return [b for b in self.batches if b.trading_day == day]


def _follow(engine: Engine, terminal: Terminal, strategy_ids: Sequence[str]) -> list[str]:
    """Follow the day's strategies: the stored settings stand; a strategy not stored yet is followed
    at its full size (scale 1), its lines in the opening auction with the continuous fallback (a line
    at the close in the closing auction). Returns the strategies newly followed."""
    stored = engine.call(lambda e: list(e.plan.strategies.values()))
    capital = terminal.account().total_asset
    new = []
    for sid, strategy in followed(strategy_ids, stored, capital).items():
        if sid in {s.strategy_id for s in stored}:
            continue
        terminal.set_strategy(replace(strategy, policy="auction_open"), who="headless")
        new.append(sid)
    return new


def run_headless(settings: Settings, options: HeadlessOptions, out: TextIO) -> int:
    say = _Say(out)
    batches, source = _load_signals(options)
    calendar = load_calendar(settings.general.data_dir)
    # a day left without its close (stopped or crashed before 15:30): close and sync it first, in its own
    # session, while the broker still lists that day's orders; if it does not settle, today is held
    missed = unsettled_days(settings, options.data_dir, options.day)
    if missed:
        close_earlier_day(settings, missed[-1], options.data_dir, out)
    specs = instrument_specs(batches[0], demo_positions()) if batches else []
    setup = build_sim_setup(
        settings, day=options.day, instruments=specs, data_dir=options.data_dir, seed=options.seed,
        start=options.start,
    )  # fmt: skip
    worker: DeliveryWorker | None = None
    dispatcher: AlertDispatcher | None = None
    fetcher: SignalFetchWorker | None = None
    inbox: FileInbox | None = None
    interrupted = False
    try:
        seed_account(setup, [(code, qty, cost) for code, qty, cost, _ in demo_positions()])
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
        strategy_ids = [b.strategy_id for b in batches]
        if settings.files.inbox:
            strategy_ids.append(settings.files.strategy_id)
        for sid in _follow(engine, terminal, strategy_ids):
            say(f"跟踪策略 (following) {sid}: 全额 (at full size), 开盘集合竞价, 未成交转连续竞价 "
                f"(opening auction, the rest in continuous trading)")  # fmt: skip
        terminal.subscribe(plan_on_arrival(engine, say))

        def deliver(message: SignalsFetched) -> None:
            if message.error is None:
                n = sum(len(b.lines) for b in message.batches)
                rejected = sum(len(b.rejected) for b in message.batches)
                say(f"取得计划订单 (planned orders fetched) {message.source}: {len(message.batches)} 批 (batches), "
                    f"{n} 条 (lines)" + (f", {rejected} 条拒绝 (rejected)" if rejected else ""))  # fmt: skip
            engine.post(message)

        source_obj = (
            FileSignalSource(options.signals) if options.signals is not None else _StaticSource(batches)
        )
        fetcher = SignalFetchWorker(source_obj, deliver, name="signals").start()
        say(terminal.live_status().describe())
        if options.arm:
            say("模拟盘无需布防，忽略 --arm (the simulated setup has nothing to arm: --arm ignored)")
        blocking = blocking_settlement(terminal.settlements(eod_store_for), options.day)
        blocked = None if blocking is None else block_message(blocking, options.day)
        if blocked:
            say(blocked)
        if settings.files.inbox and not blocked:
            inbox = _start_inbox(settings, engine, say)
        elif settings.files.inbox:
            say(
                f"文件单目录未启用 (the file-order folder is not watched while trading is held): {settings.files.inbox}"
            )
        plan = plan_day(
            options.day, clock.now(), calendar, Times.from_settings(settings.schedule), blocked=blocked
        )
        for line in plan.describe():
            say(line)
        handlers = day_handlers(
            fetcher.request, _closer(settings.account.account_id, say, worker), say, source=source
        )
        say.flush()
        if plan.jobs and calendar.is_trading_day(options.day):
            _drive(setup, options, say, lambda: _schedule(engine, plan, handlers, say), idle=(fetcher,))
        say("完成 (done)")
        say.flush()
        return 0
    except KeyboardInterrupt:
        interrupted = True
        say.flush()
        print("已停止 (stopped by Ctrl-C): 账本已保存 (the books are saved)", file=out, flush=True)
        raise
    finally:
        if inbox is not None:
            inbox.stop()
        if fetcher is not None:
            fetcher.stop()
        if worker is not None:
            if not interrupted:
                worker.drain(30.0)  # a payload kicked at the close gets its round before the end
                say.flush()  # and what that round said (delivered, or why not) is printed
            worker.stop()
        if dispatcher is not None:
            dispatcher.stop()
        setup.close()


def _schedule(engine: Engine, plan: DayPlan, handlers: dict[Command, Handler], say: _Say) -> None:
    """The day's jobs as engine timers, after the lines an earlier run left handed are resumed."""
    resumed = engine.call(resume_handed)
    if resumed:
        say(
            f"[{engine.clock.now():%H:%M:%S}] 接续执行 (resumed) {resumed} 行 (lines handed before a restart)"
        )
    plan_on_engine(engine, plan, handlers)


def _start_inbox(settings: Settings, engine: Engine, say: _Say) -> FileInbox:
    folder = settings.files.inbox_path
    assert folder is not None
    inbox = FileInbox(
        folder, engine.post, today=lambda: engine.clock.now().date(),
        default_strategy=settings.files.strategy_id, stable_s=settings.files.stable_s, poll_s=settings.files.poll_s,
        known_codes=lambda day: engine.call(lambda e: set(e.oms.instruments) if e.trading_day == day else None),
        books=lambda: engine.call(collect_books), say=say,
    ).start()  # fmt: skip
    say(f"文件单目录 (file-order folder): {folder}")
    return inbox


def _closer(account_id: str, say: _Say, worker: DeliveryWorker | None) -> Callable[[Engine, date, Job], None]:
    def close(e: Engine, day: date, job: Job) -> None:
        stamp = f"[{e.clock.now():%H:%M:%S}]"
        note = f" — {job.note}" if job.note else ""
        result = close_day(e, eod_store_for(e.store), day=day, account_id=account_id)
        status = result.reconciliation.status.value
        say(f"{stamp} 日终对账 (reconciliation) {day}: {status}{note}")
        for d in result.reconciliation.differences:
            say(f"{stamp}   {d}")
        if result.performance is not None:
            p = result.performance
            say(f"{stamp} 绩效 (performance): 权益 (equity) {p.equity}, 当日 (day) {p.daily_return:.4%}, "
                f"累计 (cumulative) {p.cumulative_return:.4%}, 最大回撤 (max drawdown) {p.max_drawdown:.4%}")  # fmt: skip
        if result.outbox is not None:
            target = (
                "发送中 (sending)"
                if worker is not None
                else "未设置 bigquant.sync_url, 仅存入发件箱 (no sync_url: kept in the outbox)"
            )
            say(
                f"{stamp} 同步数据 (sync payload) {result.outbox.sync_id[:12]}… r{result.outbox.revision}: {target}"
            )
            if worker is not None:
                worker.kick()

    return close


def _drive(
    setup, options: HeadlessOptions, say: _Say, schedule: Callable[[], object], idle: Sequence[Any] = ()
) -> None:
    """Move the simulated clock through the day from --start to --until: quotes into the broker and the
    engine, timers (the jobs) in time order, the exchange's close at 15:00, paced at --speed."""
    engine, venue, clock, feed, day = setup.engine, setup.broker, setup.clock, setup.feed, options.day
    wall_start, sim_start = wall.perf_counter(), clock.now()
    until = datetime.combine(day, options.until, CN_TZ)
    close = datetime.combine(day, CLOSE, CN_TZ)

    def settle() -> None:
        for _ in range(2):
            for worker in idle:  # a fetch on its way reaches the engine before the clock moves on
                worker.wait_idle(30.0)
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
