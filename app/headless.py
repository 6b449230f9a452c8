"""`python -m app run --headless`: Tiller with the scheduler and no window, printing what it does.

One day runner (`_run_day`) for both setups: the planned orders fetched on a worker thread at the
pre-open fetch job; the chain (app/scheduler/chain.py) plans them through the plan desk, approves at the
deadline unless paused and hands them to the execution service; after the close it reconciles against
the broker, settles, keeps the day's performance and syncs (to bigquant.sync_url, if set); then the
backup. With `files.inbox` set, file orders dropped there are taken in as they come
(docs/FILE_ORDERS.md). Ctrl-C stops it cleanly: the books are committed, the files closed, the account
lock released. A restart the same day plans nothing twice and resumes the lines already handed.

- Simulated (`run_headless`): the simulated broker and the synthetic market, the jobs as engine timers on
  a simulated clock that runs at `--speed` (1 = real time; 0 = as fast as it goes) from `--start`
  (default: now, so a late start is a real late start) to `--until`. Planned orders from `--signals` (a
  BigQuant planned-order file) or the bundled demo batch, re-dated to the day.
- Live (`run_live_headless`, general.mode = "live"): the QMT setup (bootstrap.build_live_setup: xttrader,
  xtdata's quotes and instrument details), the jobs on APScheduler (scheduler/live.py) on the live clock
  until the day's last job has run. Observe-only unless armed (`--arm`): then nothing is sent and each
  execution window says what it did not send and why. Planned orders from `--signals` or BigQuant.
  A simulated clock and a market (tests) drive the same live day in seconds (`_drive`).

The day's chain itself (`DayJobs`, and `live_day` for the live setup) is shared with the live window
(bootstrap.build_live_window_session), which runs the same jobs on APScheduler.
"""

from __future__ import annotations

import io
import logging
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
from app.scheduler.live import LiveScheduler
from app.scheduler.plan import Command, DayPlan, Handler, Job, Times, plan_day, plan_on_engine
from app.secrets import SecretStore
from app.sync_command import close_missed_day

CLOSE = time(15, 0)
log = logging.getLogger(__name__)


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
            self(f"[{event.ts:%H:%M:%S}] 实盘状态 (live state): {event.state} ({event.by}, {event.reason})")
        elif isinstance(event, AlertRaised) and event.level in ("warning", "error", "critical"):
            self(f"[{event.ts:%H:%M:%S}] 告警 (alert) {event.level}/{event.category}: {event.message}")

    def flush(self) -> None:
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            print(line, file=self.out, flush=True)


class _LogSay(_Say):
    def __call__(self, text: str) -> None:
        log.info("%s", text)


def log_say() -> _Say:
    """Lines to the log as they come (the window: what it shows comes from the engine's events)."""
    return _LogSay(io.StringIO())


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
    """The simulated setup's day: the simulated broker and the synthetic market on a simulated clock."""
    say = _Say(out)
    batches, source = _load_signals(options)
    # a day left without its close (stopped or crashed before 15:30): close and sync it first, in its own
    # session, while the broker still lists that day's orders; if it does not settle, today is held
    close_missed_day(settings, options.day, options.data_dir, out)
    specs = instrument_specs(batches[0], demo_positions()) if batches else []
    setup = build_sim_setup(
        settings, day=options.day, instruments=specs, data_dir=options.data_dir, seed=options.seed,
        start=options.start,
    )  # fmt: skip
    try:
        seed_account(setup, [(code, qty, cost) for code, qty, cost, _ in demo_positions()])
        setup.broker.connect()
    except BaseException:
        setup.close()
        raise

    def started(day: _Day) -> None:
        if options.arm:
            say("模拟盘无需布防，忽略 --arm (the simulated setup has nothing to arm: --arm ignored)")

    def drive(day: _Day, schedule: Callable[[], object], idle: Sequence[Any]) -> None:
        _drive(setup.engine, setup.clock, _SimMarket(setup), options, say, schedule, idle)

    day = _Day(
        settings=settings, say=say, engine=setup.engine, terminal=Terminal(setup.engine), day=options.day,
        db_path=setup.db_path, account_id=settings.account.account_id,
        source=FileSignalSource(options.signals) if options.signals is not None else _StaticSource(batches),
        source_name=source, strategy_ids=[b.strategy_id for b in batches],
        header=[f"Tiller 无界面运行 (headless) — 模拟账户 (simulated account) {settings.account.account_id}, "
                f"{options.day.isoformat()} {options.start:%H:%M} → {options.until:%H:%M}, "
                f"速度 (speed) {options.speed or '最快 (as fast as possible)'}; 信号 (signals): {source}"],
    )  # fmt: skip
    return _run_day(day, started=started, drive=drive, close=setup.close)


@dataclass
class _Day:
    """What a headless day runs on, simulated or live: the chain (fetch -> plan -> approve -> execute ->
    close -> reconcile -> settle -> sync) is the same; how time passes (`drive`) differs."""

    settings: Settings
    say: _Say
    engine: Engine
    terminal: Terminal
    day: date
    db_path: Path
    account_id: str
    source: Any  # a SignalSource
    source_name: str
    strategy_ids: list[str]
    header: list[str]
    # the live setup: the codes of batches about to reach the engine get their day details first
    before_batches: Callable[[Sequence[SignalBatch]], object] | None = None
    handlers: dict[Command, Handler] | None = None  # the jobs' commands, once made
    blocked: str | None = None  # why automatic trading is held today (an earlier day did not settle)
    jobs: DayJobs | None = None  # the day's chain, once wired
    ready: Callable[[], object] | None = None  # waits until the engine's books are ready to size the day

    def post(self, message: object) -> None:
        """Hand a message to the engine (a fetched batch: its codes' details first, on a live setup)."""
        if self.before_batches is not None and isinstance(message, SignalsFetched) and message.batches:
            self.before_batches(message.batches)
        self.engine.post(message)


def _run_day(
    day: _Day,
    *,
    started: Callable[[_Day], None],
    drive: Callable[[_Day, Callable[[], object], Sequence[Any]], None],
    close: Callable[[], None],
) -> int:
    """The headless day on a built setup (not started): the same for the simulated and the live setup.
    `started(day)` runs once the engine is up (the live setup: arming); `drive(day, schedule, idle)` makes
    time pass and calls `schedule()` (the day's jobs) once the day has begun; `close()` ends the setup."""
    say = day.say
    jobs: DayJobs | None = None
    interrupted = False
    try:
        jobs = DayJobs(day)
        jobs.start(started, start_terminal=True)
        if jobs.plan.jobs and jobs.calendar.is_trading_day(day.day):
            drive(day, jobs.on_engine_timers, jobs.idle)
        say("完成 (done)")
        say.flush()
        return 0
    except KeyboardInterrupt:
        interrupted = True
        say.flush()
        print("已停止 (stopped by Ctrl-C): 账本已保存 (the books are saved)", file=say.out, flush=True)
        raise
    finally:
        try:
            if jobs is not None:
                jobs.stop(drain=not interrupted)
        finally:
            close()


class DayJobs:
    """The trading day's chain wired on a built setup — the fetch worker, the planner on arrival, the
    jobs' commands (app/scheduler/chain.py day_handlers: fetch -> approve -> auctions/continuous ->
    close, reconcile, settle -> sync -> backup; held and said while a live account is observe-only),
    the sync's delivery worker, the alert channels, the file inbox — shared by `run --headless` (both
    setups) and the live window (bootstrap.build_live_window_session).

    `start()` wires it and makes the day's plan (`plan`); the jobs then run either as engine timers
    (`on_engine_timers`: a simulated clock fires them) or on APScheduler against the wall clock
    (`on_live_clock`: each job only posted to the engine). `stop()` ends everything it started,
    the scheduler's thread included; safe to call more than once."""

    def __init__(self, day: _Day) -> None:
        self.day = day
        day.jobs = self
        self.calendar = load_calendar(day.settings.general.data_dir)
        self.worker: DeliveryWorker | None = None
        self.dispatcher: AlertDispatcher | None = None
        self.fetcher: SignalFetchWorker | None = None
        self.inbox: FileInbox | None = None
        self.scheduler: LiveScheduler | None = None
        self.plan = DayPlan(day.day, ())

    @property
    def idle(self) -> tuple[Any, ...]:
        """What a simulated day waits on before the clock moves (a fetch on its way)."""
        return () if self.fetcher is None else (self.fetcher,)

    def start(self, started: Callable[[_Day], None] = lambda day: None, *, start_terminal: bool) -> DayPlan:
        day = self.day
        settings, say, engine, terminal = day.settings, day.say, day.engine, day.terminal
        terminal.subscribe(say.alert_listener)
        if settings.alerts.channels:
            self.dispatcher = alert_dispatcher(settings, SecretStore())
            terminal.subscribe(self.dispatcher.listener)
            self.dispatcher.start()
        if start_terminal:
            terminal.start()
        transport = sync_transport(settings, SecretStore()) if settings.bigquant.sync_url else None
        if transport is not None:
            self.worker = DeliveryWorker(
                outbox_factory(day.db_path), transport, now=lambda: datetime.now(UTC), alert=terminal.alert,
                on_round=lambda reports: [say(f"同步 (sync) {r.trading_day}: {r.outcome.value} {r.message}".rstrip())
                                          for r in reports],
            )  # fmt: skip
            self.worker.start()
        for line in day.header:
            say(line)
        say(f"数据 (data): {day.db_path}")
        strategy_ids = list(day.strategy_ids)
        if settings.files.inbox:
            strategy_ids.append(settings.files.strategy_id)
        say(terminal.live_status().describe())
        if day.ready is not None:
            day.ready()
        started(day)
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
            day.post(message)

        self.fetcher = SignalFetchWorker(day.source, deliver, name="signals").start()
        blocking = blocking_settlement(terminal.settlements(eod_store_for), day.day)
        blocked = None if blocking is None else block_message(blocking, day.day)
        if blocked:
            say(blocked)
        if settings.files.inbox and not blocked:
            self.inbox = _start_inbox(settings, engine, say, day.post)
        elif settings.files.inbox:
            say(
                f"文件单目录未启用 (the file-order folder is not watched while trading is held): {settings.files.inbox}"
            )
        self.plan = plan_day(
            day.day,
            engine.clock.now(),
            self.calendar,
            Times.from_settings(settings.schedule),
            blocked=blocked,
        )
        for line in self.plan.describe():
            say(line)
        day.handlers = day_handlers(
            self.fetcher.request, _closer(day.account_id, say, self.worker), say, source=day.source_name
        )
        day.blocked = blocked
        say.flush()
        return self.plan

    def resume(self) -> None:
        """Lines an earlier run left handed go on (on the engine thread; waits for it)."""
        engine, say = self.day.engine, self.day.say
        resumed = engine.call(resume_handed)
        if resumed:
            say(
                f"[{engine.clock.now():%H:%M:%S}] 接续执行 (resumed) {resumed} 行 (lines handed before a restart)"
            )

    def on_engine_timers(self, *, resume: bool = True) -> None:
        """The day's jobs as engine timers, after the lines an earlier run left handed are resumed
        (`resume=False`: `resume()` was called already)."""
        assert self.day.handlers is not None
        if resume:
            self.resume()
        plan_on_engine(self.day.engine, self.plan, self.day.handlers)

    def on_live_clock(
        self, *, resume: bool = True, on_plan: Callable[[DayPlan], None] = lambda plan: None
    ) -> LiveScheduler:
        """The day's jobs on APScheduler (each only posted to the engine), timed from the engine clock's
        now; the next days' plans too (a window left open overnight). Handed lines resumed first
        (`resume=False`: `resume()` was called already; this then never waits on the engine).
        `on_plan(plan)` hears each day's plan as it is made (APScheduler's thread for the next days')."""
        day = self.day
        assert day.handlers is not None
        if resume:
            self.resume()
        blocked = day.blocked
        self.scheduler = LiveScheduler(
            day.engine, self.calendar, day.handlers, times=Times.from_settings(day.settings.schedule),
            now=day.engine.clock.now, blocked=lambda d: blocked, on_plan=on_plan,
        )  # fmt: skip
        self.scheduler.start()
        return self.scheduler

    def stop_scheduler(self) -> None:
        """No job posted after this (APScheduler's thread ended); the rest stays up."""
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None:
            scheduler.shutdown()

    def stop(self, *, drain: bool = True) -> None:
        """Everything started, stopped in order (the scheduler first: no job posted after this)."""
        inbox, self.inbox = self.inbox, None
        fetcher, self.fetcher = self.fetcher, None
        worker, self.worker = self.worker, None
        dispatcher, self.dispatcher = self.dispatcher, None
        try:
            self.stop_scheduler()
        finally:
            try:
                if inbox is not None:
                    inbox.stop()
                if fetcher is not None:
                    fetcher.stop()
                if worker is not None:
                    if drain:
                        worker.drain(30.0)  # a payload kicked at the close gets its round before the end
                        self.day.say.flush()  # and what that round said (delivered, or why not) is printed
                    worker.stop()
            finally:
                if dispatcher is not None:
                    dispatcher.stop()


def _start_inbox(
    settings: Settings, engine: Engine, say: _Say, post: Callable[[object], None] | None = None
) -> FileInbox:
    folder = settings.files.inbox_path
    assert folder is not None
    inbox = FileInbox(
        folder, post or engine.post, today=lambda: engine.clock.now().date(),
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


class _SimMarket:
    """The simulated setup's market for `_drive`: the simulated broker is the exchange, and Tiller hears
    the synthetic feed's quotes directly (the same snapshots the exchange matches against)."""

    def __init__(self, setup: Any) -> None:
        self.setup = setup
        self.feed = setup.feed

    def open(self, day: date) -> None:
        infos = self.feed.instruments(day)
        self.setup.broker.set_instruments(infos)
        self.setup.broker.begin_day(day)
        self.setup.engine.post(StartDay(day, infos))

    def quotes(self, quotes: Sequence[Any]) -> None:
        self.setup.broker.on_quotes(quotes)
        self.setup.broker.wait_idle(30.0)
        self.setup.engine.post(QuotesArrived(quotes))

    def end_day(self) -> None:
        self.setup.broker.end_day()  # the exchange's close: what is still working is cancelled

    def wait_idle(self, timeout: float = 30.0) -> None:
        self.setup.broker.wait_idle(timeout)

    def work_received(self) -> int:
        return self.setup.broker.work_received()


def _drive(
    engine: Engine,
    clock: Any,
    market: Any,
    options: HeadlessOptions,
    say: _Say,
    schedule: Callable[[], object],
    idle: Sequence[Any] = (),
) -> None:
    """Move a simulated clock through the day from where it stands to --until: the market's quotes (to
    its exchange and to Tiller, `market.quotes`), timers (the jobs) in time order, the exchange's close at
    15:00, paced at --speed. `market` (DayMarket): `feed` (the day's quote snapshots: `snapshot`,
    `batches`), `open(day)`, `quotes(batch)`, `end_day()`, `wait_idle(timeout)`, `work_received()` (the
    exchange's count of work taken, to know when it has settled): the simulated broker and
    the synthetic feed (`_SimMarket`), or a stand-in exchange and xtdata for a live setup in tests."""
    feed, day = market.feed, options.day
    wall_start, sim_start = wall.perf_counter(), clock.now()
    until = datetime.combine(day, options.until, CN_TZ)
    close = datetime.combine(day, CLOSE, CN_TZ)

    def settle() -> None:
        """Round after round until a round gave the exchange nothing new (the engine's answers to reports
        are sent and matched before the clock moves on, so a day is the same for a seed, as DayRunner's)."""
        for _ in range(1000):
            before = market.work_received()
            for worker in idle:  # a fetch (or a subscription) on its way reaches the engine first
                worker.wait_idle(30.0)
            market.wait_idle(30.0)
            engine.wait_idle(30.0)
            if market.work_received() == before:
                return
        raise RuntimeError("the day does not settle: the engine and the exchange keep answering each other")

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

    market.open(day)
    settle()
    standing = feed.snapshot(day, sim_start.time())  # the market as it stands when Tiller starts (late)
    if standing:
        market.quotes(standing)
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
        market.quotes(quotes)
        settle()
    if until >= close and clock.now() <= close:
        timers(close)
        settle()
        market.end_day()  # the exchange's close: what is still working is cancelled
        settle()
    timers(until)
    settle()
    if until > clock.now():
        pace(until)
        clock.advance_to(until)
    say.flush()


# How long `run_live_headless` waits between looks at the day on the live clock (tests replace it).
def _keep_running() -> bool:
    wall.sleep(0.25)
    return True


keep_running: Callable[[], bool] = _keep_running


# The live run's clock and market: None is the live clock and the real market. Tests replace it with
# `lambda: (SimClock(...), market)` to drive a whole live day on a simulated clock in seconds (the
# command line in a child process included); `run_live_headless(clock=..., market=...)` does the same.
def _live_clock_and_market() -> tuple[Any, Any] | None:
    return None


simulated_live_day: Callable[[], tuple[Any, Any] | None] = _live_clock_and_market


def run_live_headless(
    settings: Settings,
    *,
    arm: bool,
    out: TextIO,
    signals: Path | None = None,
    data_dir: Path | None = None,
    clock: Any = None,
    market: Any = None,
    until: time = time(16, 0),
    speed: float | None = None,
) -> int:
    """general.mode = "live": the same headless day as the simulated one (fetch -> plan -> approve ->
    execute -> close -> reconcile -> settle -> sync, the jobs from the settings' schedule) on the QMT setup
    (`bootstrap.build_live_setup`: xttrader, xtdata's quotes and details, the arming guard).

    Observe-only unless `arm` (confirmed by the caller) arms the account for the day: then nothing is sent,
    the plan is not approved and every execution window says what it did not send and why (the lines stay
    in the plan, marked). Planned orders come from `signals` (a BigQuant planned-order file) or from
    BigQuant (`bigquant.strategy_ids`, keys in the keyring); never the demo batch. A restart the same day
    resumes: what was taken in is not planned again, handed lines go on from their children at the broker.

    On the live clock the jobs run on APScheduler (scheduler/live.py) and the run ends when the day's last
    job has run (or at Ctrl-C). `clock` (a SimClock) with `market` (the DayMarket `_drive` moves: a
    stand-in exchange and xtdata) drives the day from the clock's moment to `until` at `speed`; a clock
    without a market runs the jobs on APScheduler as the live clock does, timed from the clock's now."""
    from app import bootstrap
    from app.arming_cli import arm_from_cli

    if clock is None and market is None and (given := simulated_live_day()) is not None:
        clock, market = given
    say = _Say(out)
    source, source_name, strategy_ids = live_source(settings, signals)
    account = (SecretStore().get("qmt.account_id") or "").strip()
    setup = bootstrap.build_live_setup(  # type: ignore[attr-defined]
        settings, clock=clock, data_dir=data_dir, live_guard=bootstrap.install_live_guard(settings)
    )
    try:
        if market is not None and hasattr(market, "attach"):
            market.attach(setup)  # a stand-in market waits on the setup's threads (xttrader's, xtdata's feed)
        day = live_day(
            settings, setup, say, account=account, source=(source, source_name, strategy_ids),
            title="Tiller 无界面运行实盘 (headless, live QMT account {account})",
        )  # fmt: skip
    except BaseException:
        setup.close()
        raise
    engine, live_market = setup.engine, getattr(setup, "market", None)

    def started(day: _Day) -> None:
        if arm:
            say.flush()
            arm_from_cli(day.terminal, out)

    def drive(day: _Day, schedule: Callable[[], object], idle: Sequence[Any]) -> None:
        if market is not None:
            options = HeadlessOptions(day=day.day, start=engine.clock.now().time(), until=until, speed=speed)
            extra = (live_market,) if live_market is not None else ()
            _drive(engine, engine.clock, market, options, say, schedule, (*idle, *extra))
        else:
            _run_on_live_clock(day)

    return _run_day(day, started=started, drive=drive, close=setup.close)


def live_day(
    settings: Settings, setup: Any, say: _Say, *, account: str, source: tuple[Any, str, list[str]], title: str
) -> _Day:
    """The live day's chain on a built live setup (bootstrap.LiveSetup), for `DayJobs`: the planned orders'
    source (`live_source`), each fetched batch's codes given their day details first (xtdata), and the
    first codes' quotes in the books before the day is sized on them. `title` may hold {account} (masked).
    Shared by `run --headless` and the live window (bootstrap.build_live_window_session)."""
    from app.gateways.qmt.errors import masked

    engine = setup.engine
    live_market = getattr(setup, "market", None)
    today = engine.clock.now().date()
    found, source_name, strategy_ids = source

    def before_batches(batches: Sequence[SignalBatch]) -> None:
        if live_market is not None:  # a line's code unknown to the engine would be rejected
            live_market.prepare(line.code for b in batches for line in b.lines)

    def ready() -> None:
        engine.wait_idle(30.0)  # the first codes asked for (holdings, plan, watchlist) ...
        if live_market is not None:
            live_market.wait_idle(30.0)  # ... subscribed, their details and first quotes posted ...
        engine.wait_idle(30.0)  # ... and in the books before the day is sized on them

    return _Day(
        settings=settings, say=say, engine=engine, terminal=setup.terminal, day=today, db_path=setup.db_path,
        account_id=account, source=found, source_name=source_name, strategy_ids=strategy_ids,
        header=[f"{title.format(account=masked(account))} — {today.isoformat()}; 信号 (signals): {source_name}"],
        before_batches=before_batches, ready=ready,
    )  # fmt: skip


def live_source(
    settings: Settings, signals: Path | None, secrets: SecretStore | None = None
) -> tuple[Any, str, list[str]]:
    """The live day's planned orders: the file given, else BigQuant's followed strategies, else none."""
    if signals is not None:
        ids = list(dict.fromkeys(b.strategy_id for b in load_planned_orders_file(signals)))
        return FileSignalSource(signals), str(signals), ids
    if settings.bigquant.strategy_ids:
        from app.bootstrap import SetupError
        from app.clients.bigquant import source_from_settings

        secrets = secrets if secrets is not None else SecretStore()
        access, secret = secrets.get("bigquant.access_key"), secrets.get("bigquant.secret_key")
        if not access or not secret:
            raise SetupError(
                "实盘取信号需要 BigQuant 密钥 (fetching planned orders needs the BigQuant keys): "
                "python -m app secrets set bigquant.access_key ; python -m app secrets set bigquant.secret_key"
            )
        source = source_from_settings(settings.bigquant, access, secret)
        return (
            source,
            f"BigQuant {', '.join(settings.bigquant.strategy_ids)}",
            list(settings.bigquant.strategy_ids),
        )
    return (
        _StaticSource([]),
        "无 (none: no --signals and bigquant.strategy_ids is empty — nothing is planned)",
        [],
    )


def _run_on_live_clock(day: _Day) -> None:
    """The live clock: the day's jobs on APScheduler (each only posted to the engine), until the day's last
    job has run or Ctrl-C. Lines handed by an earlier run are resumed first."""
    engine, say = day.engine, day.say
    assert day.jobs is not None
    try:
        scheduler = day.jobs.on_live_clock()
        while keep_running():
            say.flush()
            if scheduler.pending() == 0:
                engine.wait_idle(30.0)  # the last job posted has run
                break
        say.flush()
    finally:
        day.jobs.stop_scheduler()
