"""The composition root: the only module that builds concrete objects of every layer."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app import logs
from app.calendar_file import load_calendar
from app.config import Settings, SettingsError
from app.core.alerts import AlertChannel, AlertDispatcher, RateLimiter
from app.core.books_check import position_differences
from app.core.clock import LiveClock, SimClock
from app.core.engine import Engine
from app.core.execution.conditions import HistoryProvider
from app.core.execution.service import PolicyExecutor
from app.core.messages import Call, QuotesArrived, Resync
from app.core.ports import BrokerGateway, QuoteSource, TimedClock
from app.core.risk import RiskGate
from app.core.risk.arming import LiveGuard as ArmingGuard
from app.core.simulation import CallerAction, DayRunner, Progress, ScheduledAction
from app.core.terminal import Terminal
from app.domain.calendar import TradingCalendar
from app.domain.clock import CN_TZ
from app.domain.fees import FeeSchedule
from app.feeds.synthetic import SyntheticFeed
from app.feeds.universe import InstrumentSpec
from app.gateways.sim.broker import SimulatedBroker
from app.gateways.sim.store import APPLICATION_ID as SIM_APPLICATION_ID
from app.gateways.sim.store import SCHEMA_VERSION as SIM_SCHEMA_VERSION
from app.secrets import SecretStore
from app.storage import (
    DatabaseMissingError,
    NotATillerDatabaseError,
    database_path,
    open_database,
    translate_os_error,
)
from app.storage.checkpoint import WalCheckpointer
from app.storage.eod_store import Outbox, SqliteEodStore
from app.storage.integrity import check_existing_file
from app.storage.lock import AccountLock, acquire_account_lock
from app.storage.oms_store import SqliteOmsStore
from app.storage.schema import MIGRATIONS, TILLER_APPLICATION_ID, latest_version

if TYPE_CHECKING:
    from app.clients.fetch_worker import SignalFetchWorker
    from app.clients.sync import HttpSyncTransport
    from app.core.paced_day import PacedDay
    from app.devserver.server import DevServer
    from app.gateways.qmt import QmtGateway
    from app.gateways.qmt.quotes import XtDataQuotes

PRE_OPEN = time(9, 0)
log = logging.getLogger(__name__)


def configure_logging(
    settings: Settings, *, data_dir: Path | None = None, console_level: int = logging.ERROR
) -> Path:
    """Log to <data_dir>/logs/tiller.log (rotated, kept after a crash); only errors to the console.
    `data_dir`: the run's own data folder (--data-dir), else general.data_dir."""
    folder = settings.general.data_dir if data_dir is None else data_dir
    return logs.configure_logging(folder, level=settings.general.log_level, console_level=console_level)


def fee_schedule(settings: Settings) -> FeeSchedule:
    fees = settings.fees
    return FeeSchedule(
        commission_rate=fees.commission_rate,
        commission_min=fees.commission_min,
        stamp_duty_rate=fees.stamp_duty_rate,
        transfer_rate=fees.transfer_rate,
    )


@dataclass
class SimSetup:
    """A simulated trading day's parts, wired: clock, broker (exchange), quotes, engine.

    `lock` is the account's OS lock, held until `close()` (or the end of the process)."""

    clock: SimClock
    broker: SimulatedBroker
    feed: SyntheticFeed
    engine: Engine
    day: date
    db_path: Path
    broker_path: Path
    lock: AccountLock | None = None
    checkpointer: WalCheckpointer | None = None  # the broker file's WAL, off the order path

    @property
    def terminal(self) -> Terminal:
        """The one face callers use (commands in, snapshots and events out)."""
        return Terminal(self.engine)

    def day_runner(
        self,
        *,
        actions: Sequence[ScheduledAction] = (),
        calls: Sequence[CallerAction] = (),
        speed: float | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        progress_every: float = 0.02,
    ) -> DayRunner:
        """The day's driver: quotes into the simulated exchange and the engine, timers and the caller's
        actions (`calls`, run on the caller's thread through the Terminal) in time order."""
        return DayRunner(
            engine=self.engine, venue=self.broker, source=self.feed, clock=self.clock, day=self.day,
            actions=actions, calls=calls, speed=speed, on_progress=on_progress, progress_every=progress_every,
        )  # fmt: skip

    def close(self) -> None:
        try:
            try:
                self.engine.stop()
            finally:
                if self.checkpointer is not None:
                    self.checkpointer.close()
                self.broker.close()
        finally:
            if self.lock is not None:  # last: no file of the account is open any more
                self.lock.release()


def broker_file_path(db_path: Path) -> Path:
    """The simulated broker's own file, beside Tiller's database of the same account."""
    return db_path.with_name(db_path.stem + "-broker.db")


def check_session_files(db_path: Path, broker_path: Path | None = None) -> None:
    """Integrity-check the existing files of one account and mode before anything opens them.

    The same check (storage.integrity) for Tiller's database and the simulated broker's file:
    a damaged, foreign, empty or newer file raises a KnownStorageError and stays as it was."""
    if db_path.exists():
        with contextlib.suppress(DatabaseMissingError):  # a header-only file: set up at open
            check_existing_file(
                db_path,
                known_version=latest_version(MIGRATIONS),
                application_id=TILLER_APPLICATION_ID,
                require_id=True,
            )
    if broker_path is not None and broker_path.exists():
        try:
            check_existing_file(
                broker_path,
                known_version=SIM_SCHEMA_VERSION,
                application_id=SIM_APPLICATION_ID,
                require_id=False,  # files made before the id was set carry 0
            )
        except DatabaseMissingError as exc:  # SQLite header but no schema: not a broker file
            raise NotATillerDatabaseError(broker_path, "it holds no simulated broker books") from exc


def build_sim_setup(
    settings: Settings,
    *,
    day: date,
    instruments: Sequence[InstrumentSpec],
    data_dir: Path | None = None,
    seed: int | None = None,
    limit_up: Sequence[str] = (),
    limit_down: Sequence[str] = (),
    suspended: Sequence[str] = (),
    start: time = PRE_OPEN,
) -> SimSetup:
    # the user's calendar.toml lives in their data folder, even when the day's files go elsewhere
    calendar = load_calendar(settings.general.data_dir)
    data_dir = data_dir or settings.general.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise translate_os_error(exc, path=data_dir) from exc
    account = settings.account.account_id
    db_path = database_path(data_dir, account, "sim")
    broker_path = broker_file_path(db_path)
    # One process per account and mode: the lock comes before any file of the account is opened.
    lock = acquire_account_lock(db_path, account=account, mode="sim", now=datetime.now(UTC).astimezone())
    try:
        check_session_files(db_path, broker_path)
        return _wire_sim_setup(
            settings, day=day, instruments=instruments, db_path=db_path, broker_path=broker_path, lock=lock,
            calendar=calendar, seed=seed, limit_up=limit_up, limit_down=limit_down, suspended=suspended,
            start=start,
        )  # fmt: skip
    except BaseException:
        lock.release()
        raise


def sim_broker_options(
    settings: Settings, *, calendar: TradingCalendar, seed: int | None = None
) -> dict[str, Any]:
    """The simulated exchange's options from the settings (fees, cash, seed, participation, latencies,
    price-cage policy per exchange): build_sim_setup's broker, and any other venue that must match it
    (the xtpythonclient stand-in's exchange in the tests)."""
    return {
        "fees": fee_schedule(settings),
        "initial_cash": settings.account.initial_cash,
        "seed": settings.sim.seed if seed is None else seed,
        "participation": settings.sim.participation,
        "calendar": calendar,
        "ack_latency": _seconds(settings.sim.ack_latency_s),
        "fill_latency": _seconds(settings.sim.fill_latency_s),
        "cancel_latency": _seconds(settings.sim.cancel_latency_s),
        "cage_policy": {"SH": settings.sim.cage_sh, "SZ": settings.sim.cage_sz, "BJ": settings.sim.cage_bj},
    }


def _wire_sim_setup(
    settings: Settings,
    *,
    day: date,
    instruments: Sequence[InstrumentSpec],
    db_path: Path,
    broker_path: Path,
    lock: AccountLock,
    calendar: TradingCalendar,
    seed: int | None,
    limit_up: Sequence[str],
    limit_down: Sequence[str],
    suspended: Sequence[str],
    start: time,
) -> SimSetup:
    account = settings.account.account_id
    clock = SimClock(datetime.combine(day, start, CN_TZ))
    fees = fee_schedule(settings)
    broker = SimulatedBroker(
        broker_path,
        clock,
        account_id=account,
        threaded=False,  # the venue runs in the poster's thread (the engine's, for orders): one hop fewer
        **sim_broker_options(settings, calendar=calendar, seed=seed),
    )
    try:
        feed = SyntheticFeed(
            list(instruments),
            seed=settings.sim.seed if seed is None else seed,
            levels=settings.sim.quote_levels,
            limit_up=limit_up,
            limit_down=limit_down,
            suspended=suspended,
            calendar=calendar,
        )
        engine = _engine(settings, clock, broker, db_path, fees, day, calendar)
        # The broker runs in the engine's thread (threaded=False): its file's WAL is checkpointed by
        # a thread of its own, as Tiller's is (app/storage/checkpoint.py), so no order waits for it.
        checkpointer = WalCheckpointer(broker_path)
    except BaseException:
        broker.close()
        raise
    return SimSetup(clock, broker, feed, engine, day, db_path, broker_path, lock, checkpointer)


def make_live_guard(settings: Settings) -> ArmingGuard:
    """The arming guard of a live setup (app/core/risk/arming.py): observe-only until armed for the
    day, and arming needs `qmt.live_trading_enabled`. Give it to the risk gate,
    `RiskGate(settings.risk, live_guard=make_live_guard(settings))` (or use `live_risk_gate`, or
    `install_live_guard` on a built engine); the simulated setup has none."""
    return ArmingGuard(enabled=settings.qmt.live_trading_enabled)


def install_live_guard(settings: Settings) -> Callable[[Engine], None]:
    """`fn(engine)` puts the arming guard into a built engine's risk gate, before the engine starts: the
    form of build_live_setup's `live_guard` seam,
    `build_live_setup(settings, live_guard=install_live_guard(settings))`."""

    def install(engine: Engine) -> None:
        if engine.risk is None:  # a live engine without a gate could send anything: refuse to build it
            raise SetupError(
                "实盘引擎缺少风控闸门 (the live engine has no risk gate to put the arming guard in)"
            )
        engine.risk.live_guard = make_live_guard(settings)

    return install


def live_risk_gate(settings: Settings) -> RiskGate:
    """The risk gate of a live setup: the [risk] limits plus the arming guard."""
    return RiskGate(settings.risk, live_guard=make_live_guard(settings))


def make_live_quotes(
    engine: Engine, xtdata: object | None = None, on_new_codes: Callable[[list[str]], None] | None = None
) -> XtDataQuotes:
    """The live setup's quotes (app/gateways/qmt/quotes.py): each xtdata push reaches the engine as ONE
    QuotesArrived, converted on the feed's own thread; a bad tick or a failing handler is an engine
    alert (once per code). `xtdata`: xtquant's module (default) or a stand-in. Subscribe what the
    account holds, the plan needs and the watchlist with `feed.subscribe(codes)`; `feed.close()` at the
    end. `on_new_codes(codes)`: before new codes are subscribed (LiveMarket.prepare posts their details)."""
    from app.gateways.qmt.quotes import XtDataQuotes

    feed = XtDataQuotes(
        xtdata,
        on_problem=lambda text: engine.post(Call(lambda e: e.alert("warning", "quotes", text))),
        calendar=engine.calendar,
        on_new_codes=on_new_codes,
    )
    feed.set_quote_handler(lambda quotes: engine.post(QuotesArrived(tuple(quotes))))
    return feed


def watched_codes(engine: Engine, watchlist: Sequence[str] = ()) -> list[str]:
    """On the engine thread: what the account holds, what works at the broker, what the plan and the
    fetched batches need, then the watchlist; each once, in that order."""
    oms = engine.oms
    codes = [c for c, p in oms.positions.items() if p.total]
    codes += [o.code for o in oms.working_orders()]
    codes += [line.code for line in engine.plan.snapshot().lines]
    codes += [line.code for batch in engine.signal_batches.values() for line in batch.lines]
    return list(dict.fromkeys([*codes, *watchlist]))


def follow_codes(engine: Engine, feed: XtDataQuotes, watchlist: Sequence[str] = ()) -> None:
    """Subscribe what `watched_codes` names now, and from then on each code an order, a fill, a fetched
    batch or a plan line brings (an engine listener that only hands the codes to `feed.want`)."""
    feed.subscribe(engine.call(lambda e: watched_codes(e, watchlist)))
    engine.subscribe(_codes_listener(feed.want))


def _codes_listener(want: Callable[[Iterable[str]], None]) -> Callable[[object], None]:
    """An engine listener handing on the codes an order, a fill, a fetched batch or a plan line brings."""
    from app.core.messages import OrderUpdated, SignalsReceived, TradeBooked
    from app.core.planning.model import PlanLineAdded

    def listener(event: object) -> None:  # engine thread: only hands codes on
        if isinstance(event, OrderUpdated):
            want((event.order.code,))
        elif isinstance(event, TradeBooked):
            want((event.trade.code,))
        elif isinstance(event, PlanLineAdded):
            want((event.line.code,))
        elif isinstance(event, SignalsReceived):
            want(line.code for batch in event.batches for line in batch.lines)

    return listener


def confirm_calendar_with_qmt(
    feed: XtDataQuotes, calendar: TradingCalendar, today: date, days: int = 60
) -> list[str]:
    """Compare Tiller's calendar with QMT's from `today` for `days` calendar days; the disagreements
    (or why QMT's calendar could not be read) in words, for a warning alert each. Empty: they agree."""
    return feed.confirm_calendar(calendar, today, today + timedelta(days=days))


class LiveMarket:
    """xtdata for a live engine: the day's instrument details (`get_instrument_detail`, posted to the engine
    as `StartDay`) and the quotes (`XtDataQuotes`) of what the account holds, what works at the broker,
    what the plan and the fetched batches need, and the watchlist (`qmt.watchlist`).

    `attach()` (before the engine starts) has the engine, once started, ask for `watched_codes` and then
    for each code an order, a fill, a batch or a plan line brings (an engine listener handing codes to the
    feed's non-blocking `want`, so the followed set follows the plan as it changes). The feed's thread
    reads the details of each new code (`prepare`) before subscribing it, so the engine knows the day's
    limits of a code before its first quote. `prepare(codes)` may also be called from any other thread but
    the engine's (the headless day does, before it hands a fetched batch to the engine: a line's code must
    be known then, or the engine rejects it as unknown)."""

    def __init__(self, engine: Engine, feed: XtDataQuotes, day: date, watchlist: Sequence[str] = ()) -> None:
        self.engine = engine
        self.feed = feed
        self.day = day
        self.watchlist = tuple(watchlist)
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def attach(self) -> None:
        from app.core.messages import StartDay

        want = self.feed.want
        self.engine.subscribe(_codes_listener(want))
        # the day begins (yesterday's buys settle, T+1) even when nothing is followed yet; then the codes
        self.engine.post(StartDay(self.day, ()))
        self.engine.post(Call(lambda e: want(watched_codes(e, self.watchlist))))

    def prepare(self, codes: Iterable[str]) -> list[str]:
        """Read the day's details of the codes not read yet and post them to the engine (one StartDay);
        returns the codes xtdata does not know or describes badly, with why (each also an engine alert).
        Blocks on xtdata: never call it on the engine thread."""
        from app.core.messages import StartDay
        from app.gateways.qmt.quotes import MARKETS

        with self._lock:
            new = [c for c in dict.fromkeys(codes) if c not in self._known and c not in MARKETS]
            self._known.update(new)
        if not new:
            return []
        infos, missing = self.feed.instruments(new, self.day)
        if infos:
            self.engine.post(StartDay(self.day, tuple(infos)))
        for text in missing:
            log.warning("live market: %s", text)
            self.engine.post(
                Call(lambda e, t=text: e.alert("warning", "quotes", f"证券资料不可用 (no details): {t}"))
            )
        return missing

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once every code asked for is subscribed and every push so far handed to the engine."""
        return self.feed.wait_idle(timeout)

    def close(self) -> None:
        self.feed.close()


def _engine(
    settings: Settings,
    clock: TimedClock,
    gateway: BrokerGateway,
    db_path: Path,
    fees: FeeSchedule,
    day: date,
    calendar: TradingCalendar,
) -> Engine:
    """The engine of a setup (simulated or live): Tiller's books in `db_path`, the risk gate of the
    [risk] settings, the execution service of the [execution] settings."""
    engine = Engine(
        clock=clock,
        gateway=gateway,
        store_factory=lambda: SqliteOmsStore(open_database(db_path, now=clock.now())),
        fees=fees,
        trading_day=day,
        calendar=calendar,
        answer_timeout=_seconds(settings.orders.answer_timeout_s),
        settle_time=_seconds(settings.orders.settle_time_s),
        risk=RiskGate(settings.risk),
    )
    engine.execution = build_execution(settings, engine)
    return engine


def build_execution(
    settings: Settings, engine: Engine, history: HistoryProvider | None = None
) -> PolicyExecutor:
    """The engine's execution service, with the [execution] defaults (bad ones: a SettingsError)."""
    try:
        return PolicyExecutor(
            engine,
            defaults=settings.execution.as_params(),
            strategy_defaults=settings.execution.strategy_defaults,
            history=history,
        )
    except ValueError as exc:
        raise SettingsError([f"execution.strategy_defaults: {exc}"]) from exc


def _seconds(value: Decimal) -> timedelta:
    return timedelta(seconds=float(value))


def seed_account(setup: SimSetup, positions: Sequence[tuple[str, int, Decimal]]) -> None:
    """Give a new simulated account its starting positions at the broker (as if bought on an earlier
    day), unless it already has any; the engine adopts them as its opening books at first start."""
    if setup.broker.query_positions():
        return
    for code, qty, cost in positions:
        setup.broker.set_position(code, qty, cost)


def eod_store_for(oms_store: SqliteOmsStore) -> SqliteEodStore:
    """The close's store on the engine's own connection (call on the engine thread)."""
    return SqliteEodStore(oms_store.database)


def outbox_factory(db_path: Path) -> Callable[[], Outbox]:
    """Opens the outbox's own connection; call it on the thread that will use it (the sync worker)."""
    return lambda: Outbox(db_path)


class SetupError(ValueError):
    """Something the investor must set up first (a secret, a setting); the message says what."""


def alert_channels(settings: Settings, secrets: SecretStore) -> list[AlertChannel]:
    """The channels of `alerts.channels`, with their secrets from the keyring."""
    from app.clients.notify import EmailChannel, WebhookChannel

    out: list[AlertChannel] = []
    cfg = settings.alerts
    for name in cfg.channels:
        if name == "email":
            password = secrets.get("smtp.password") or "" if cfg.smtp_user else ""
            if cfg.smtp_user and not password:
                raise SetupError(
                    "邮件告警需要 SMTP 密码 (e-mail alerts need the SMTP password): "
                    "python -m app secrets set smtp.password"
                )
            recipients = [a.strip() for a in cfg.email_to.split(",") if a.strip()]
            try:
                out.append(
                    EmailChannel(host=cfg.smtp_host, port=cfg.smtp_port, security=cfg.smtp_security,
                                 sender=cfg.email_from, recipients=recipients, user=cfg.smtp_user,
                                 password=password)
                )  # fmt: skip
            except ValueError as exc:
                raise SetupError(f"邮件告警未设置完整 (e-mail alerts are not fully set up): {exc}") from None
        else:
            url = secrets.get(f"webhook.{name}")
            if not url:
                raise SetupError(
                    f"{name} 告警需要 webhook 地址 (the {name} channel needs its webhook URL): "
                    f"python -m app secrets set webhook.{name}"
                )
            out.append(WebhookChannel(name, url, timeout_s=settings.bigquant.timeout_s))
    return out


def alert_dispatcher(settings: Settings, secrets: SecretStore) -> AlertDispatcher:
    cfg = settings.alerts
    limiter = RateLimiter(max_per_window=cfg.max_per_window, window_s=cfg.window_s, min_level=cfg.min_level)
    return AlertDispatcher(alert_channels(settings, secrets), limiter)


def sync_transport(settings: Settings, secrets: SecretStore) -> HttpSyncTransport | None:
    """The signed HTTP sender of the sync payload, or None when no bigquant.sync_url is set."""
    from app.clients.sync import HttpSyncTransport

    url = settings.bigquant.sync_url
    if not url:
        return None
    access, secret = secrets.get("bigquant.access_key"), secrets.get("bigquant.secret_key")
    if not access or not secret:
        raise SetupError(
            "日终同步需要 BigQuant 密钥 (the sync needs the BigQuant keys): "
            "python -m app secrets set bigquant.access_key ; python -m app secrets set bigquant.secret_key"
        )
    return HttpSyncTransport(url, access_key=access, secret_key=secret, timeout_s=settings.bigquant.timeout_s)


# ================================================================================== live (QMT)
LIVE_QUERY_INTERVAL = timedelta(seconds=60)  # periodic query of the broker's orders and trades


@dataclass
class LiveSetup:
    """A real QMT account's parts, wired: clock, gateway, engine, Terminal, and the quote seam.

    Nothing is started: `terminal.start()` opens the books, connects miniQMT and recovers against
    the broker's orders and trades of the day before any new order. `close()` stops everything
    this setup started and releases the account lock."""

    clock: TimedClock
    gateway: QmtGateway
    engine: Engine
    terminal: Terminal
    quotes: QuoteSource | XtDataQuotes | None  # xtdata's feed by default; the seam's when given
    day: date
    db_path: Path
    lock: AccountLock | None = None
    owns_clock: bool = False
    market: LiveMarket | None = None  # xtdata's details and quotes, wired (None: the seam's quotes)
    calendar_notes: tuple[str, ...] = ()  # where QMT's calendar disagrees with Tiller's, or why unread

    def close(self) -> None:
        try:
            try:
                try:
                    self.engine.stop()
                finally:
                    if self.market is not None:
                        self.market.close()
            finally:
                self.gateway.close()
        finally:
            try:
                if self.owns_clock and isinstance(self.clock, LiveClock):
                    self.clock.close()
            finally:
                if self.lock is not None:
                    self.lock.release()


LiveGuard = Callable[[Engine], None]
"""SEAM for the observe-only/arming guard (qmt9b): called with the built engine before anything
starts; it installs the check that refuses every new order to the real account until armed."""


def UNGUARDED(engine: Engine) -> None:
    """`build_live_setup(..., live_guard=UNGUARDED)`: no arming guard. Only for tests and benchmarks
    that drive the xtpythonclient stand-in (nothing real behind it); every real live setup takes the
    default, the arming guard of `install_live_guard`."""


def build_live_setup(
    settings: Settings,
    *,
    clock: TimedClock | None = None,
    secrets: SecretStore | None = None,
    data_dir: Path | None = None,
    live_guard: LiveGuard | None = None,
    quotes: QuoteSource | None = None,
    reconnect_delays: Sequence[float] | None = None,
    query_interval: timedelta | None = LIVE_QUERY_INTERVAL,
) -> LiveSetup:
    """The live setup (`general.mode = "live"`): Tiller's books of the account in their own file
    (`tiller-live-<hash>.db`, never the simulated one's), the QMT gateway on xtquant's xttrader, the
    engine and the Terminal. The account id is the keyring secret `qmt.account_id`; miniQMT's folder
    is `qmt.userdata_path` or found in the usual install folders. `clock` defaults to the live clock;
    a SimClock drives a day at any hour in tests.

    With `qmt.live_trading_enabled` off (the default) the gateway sends nothing new to the account:
    every order is refused "observe-only" before it leaves (cancels and queries still go), whatever
    the guard says. `live_guard` defaults to the arming guard for the day (`install_live_guard`): the
    account is observe-only until armed; `UNGUARDED` only for the stand-in's tests.

    Quotes: by default xtquant's xtdata (`make_live_quotes`, wired by a `LiveMarket`): once the engine has
    started it follows what the account holds, what works at the broker, the plan, the fetched batches and
    `qmt.watchlist`, each code's day details (get_instrument_detail) posted before its first quote, and
    the followed set grows as the plan changes. QMT's calendar is compared with Tiller's
    (`confirm_calendar_with_qmt`); a disagreement, or a calendar QMT cannot give, is a warning in the log
    and an alert (`LiveSetup.calendar_notes`), never a failed start; so is an xtdata that cannot be loaded
    (no quotes then). `quotes` is the seam for tests: a feed given is kept as it is and nothing is wired."""
    from app.gateways.qmt import QmtGateway, find_userdata_path
    from app.gateways.qmt.errors import masked

    if settings.general.mode != "live":
        raise SetupError(
            f"general.mode 是 {settings.general.mode!r}，不是 'live' (general.mode is {settings.general.mode!r}, "
            "not 'live'): python -m app config set general.mode live"
        )
    secrets = secrets if secrets is not None else SecretStore()
    account = (secrets.get("qmt.account_id") or "").strip()
    if not account:
        raise SetupError(
            "未设置 QMT 资金账号 (the QMT account id is not set): python -m app secrets set qmt.account_id"
        )
    userdata = find_userdata_path(settings.qmt.userdata_path)
    calendar = load_calendar(settings.general.data_dir)
    data_dir = data_dir or settings.general.data_dir
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise translate_os_error(exc, path=data_dir) from exc
    db_path = database_path(data_dir, account, "live")
    lock = acquire_account_lock(
        db_path, account=masked(account), mode="live", now=datetime.now(UTC).astimezone()
    )
    owns_clock = clock is None
    live_clock: TimedClock = LiveClock() if clock is None else clock
    try:
        check_session_files(db_path)
        day = live_clock.now().date()
        fees = fee_schedule(settings)
        gateway = QmtGateway(
            account, userdata, live_clock, session_id=settings.qmt.session_id,
            call_timeout=float(settings.orders.answer_timeout_s),
            sending_enabled=settings.qmt.live_trading_enabled,
            **({"reconnect_delays": tuple(reconnect_delays)} if reconnect_delays is not None else {}),
        )  # fmt: skip
        engine = _engine(settings, live_clock, gateway, db_path, fees, day, calendar)
        # the arming guard goes in before anything can be sent: observe-only until armed for the day
        (install_live_guard(settings) if live_guard is None else live_guard)(engine)
        if query_interval is not None:
            schedule_periodic_resync(engine, query_interval)
        market: LiveMarket | None = None
        notes: list[str] = []
        if quotes is None:
            market, notes = _live_market(settings, engine, day)
            quotes = None if market is None else market.feed
    except BaseException:
        if owns_clock and isinstance(live_clock, LiveClock):
            live_clock.close()
        lock.release()
        raise
    return LiveSetup(
        live_clock,
        gateway,
        engine,
        Terminal(engine),
        quotes,
        day,
        db_path,
        lock,
        owns_clock,
        market,
        tuple(notes),
    )


def _live_market(settings: Settings, engine: Engine, day: date) -> tuple[LiveMarket | None, list[str]]:
    """xtdata's feed wired to a built (not started) live engine, and QMT's calendar compared with Tiller's.
    What goes wrong is said (log and engine alerts, posted to be raised once the engine runs), never
    raised: the account can still be watched and traded without them."""
    from app.gateways.qmt.quotes import QuoteError

    def warn(category: str, text: str) -> None:
        log.warning("live setup: %s", text)
        engine.post(Call(lambda e: e.alert("warning", category, text)))

    holder: list[LiveMarket] = []
    try:
        feed = make_live_quotes(engine, on_new_codes=lambda codes: holder[0].prepare(codes))
    except QuoteError as exc:
        warn(
            "quotes", f"{exc}; 无行情，执行策略等待报价 (no quotes: the execution policies wait for a quote)"
        )
        return None, []
    market = LiveMarket(engine, feed, day, settings.qmt.watchlist)
    holder.append(market)
    try:
        notes = confirm_calendar_with_qmt(feed, engine.calendar, day)
    except Exception as exc:  # a calendar check must never stop the start
        log.exception("live setup: confirming the calendar with QMT failed")
        notes = [f"QMT 交易日历核对出错 (confirming the calendar with QMT failed): {exc}"]
    for text in notes:
        warn("calendar", f"与 QMT 交易日历核对 (calendar checked with QMT): {text}")
    if not notes:
        log.info("live setup: QMT's calendar agrees with Tiller's from %s", day)
    market.attach()
    return market, notes


def schedule_periodic_resync(engine: Engine, interval: timedelta) -> None:
    """Every `interval` the broker's orders and trades are queried and the books caught up (a Resync on
    the engine's queue), then its positions and cash are compared with the books (check_holdings);
    on demand it is `Terminal.resync()`."""
    if interval <= timedelta(0):
        raise ValueError(f"the query interval must be positive, was {interval}")

    def tick() -> None:  # on the engine thread
        engine.post(Resync("periodic query"))  # orders and trades: caught up
        engine.post(Call(check_holdings))  # then positions and cash: compared, differences alerted
        engine.schedule_after(interval, tick, "periodic broker query")

    engine.schedule_after(interval, tick, "periodic broker query")


def check_holdings(engine: Engine) -> list[str]:
    """On the engine thread: the broker's positions and cash against the books, each difference an
    alert. Codes with a working order are left out (their fills may be on the way), and the cash
    while any order works."""
    if not engine.gateway.connected:
        return []
    try:
        busy = {o.code for o in engine.oms.working_orders()}
        mine = {c: p.total for c, p in engine.oms.positions.items() if c not in busy and p.total}
        theirs = [p for p in engine.gateway.query_positions() if p.code not in busy]
        found = position_differences(mine, theirs)
        if not busy:
            cash = engine.gateway.query_asset().cash
            if cash != engine.oms.cash.cash:
                found.append(f"资金不符 (cash differs): 本地 {engine.oms.cash.cash}，券商 {cash}")
    except Exception as exc:  # the broker could not be asked: said, and asked again next time
        engine.alert(
            "warning", "reconcile", f"查询券商持仓失败 (querying the broker's holdings failed): {exc}"
        )
        return []
    for text in found:
        engine.alert("warning", "reconcile", text)
    return found


# ---------------------------------------------------------------------------- the window's simulated day
@dataclass
class WindowSession:
    """What `python -m app` (the window) runs on: the simulated setup, the local BigQuant-compatible
    server and the fetch worker (HTTP off the engine thread), the Terminal the window talks to, the
    day's jobs (fetch, approval deadline, close) as engine timers, and the paced day driver.

    The plan flows through the planner: fetched batches are planned by `PlanDesk` (engine.plan),
    approved at the deadline unless paused (or earlier by the investor), and executed by the
    execution service. `start()` starts the day's thread; `close()` stops everything in order."""

    setup: SimSetup
    terminal: Terminal
    server: DevServer
    worker: SignalFetchWorker
    driver: PacedDay
    schedule: list[tuple[datetime, str]]
    account_id: str

    def start(self) -> None:
        self.driver.start()

    def close(self) -> None:
        try:
            self.driver.stop()
        finally:
            try:
                self.worker.stop(5.0)
            finally:
                try:
                    self.server.stop()
                finally:
                    self.setup.close()


def window_day(settings: Settings, today: date) -> date:
    """The simulated day the window shows: today if it is a trading day, else the next one."""
    calendar = load_calendar(settings.general.data_dir)
    day = today
    for _ in range(30):
        if calendar.is_trading_day(day):
            return day
        day += timedelta(days=1)
    return today


def build_window_session(
    settings: Settings,
    *,
    day: date,
    data_dir: Path | None = None,
    seed: int | None = None,
    start: time = time(8, 45),
    until: time = time(15, 35),
    speed: float | None = 60.0,
    instruments: Sequence[InstrumentSpec] | None = None,
    positions: Sequence[tuple[str, int, Decimal]] | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> WindowSession:
    """The simulated setup the window opens on by default (nothing is started yet but the engine).

    As `run --headless` does, the latest earlier day left without its close (Tiller stopped or crashed
    before 15:30) is closed first, in its own session (`sync_command.close_missed_day`); if the latest
    earlier close did not settle, the day is held (no fetch, approval or execution; an alert says
    why and what to run). `progress(fraction, words)` is told each step (the window's start-up shows
    it); it may raise to stop the build, and everything built so far is closed."""
    import io

    from app.clients.bigquant import BigQuantClient, BigQuantSignalSource
    from app.clients.fetch_worker import SignalFetchWorker
    from app.core.eod.service import close_day
    from app.core.eod.settlement import block_message, blocking_settlement
    from app.core.messages import AlertRaised, Call, SignalsReceived
    from app.core.paced_day import PacedDay
    from app.core.planning.model import StrategySettings
    from app.demo_data import STRATEGY_NAMES, demo_positions
    from app.devserver.server import (
        DEV_ACCESS_KEY,
        DEV_SECRET_KEY,
        DevServer,
        DevState,
        default_items,
        redate,
    )
    from app.feeds.history import SyntheticHistory
    from app.scheduler.plan import Command, Times, plan_day, plan_on_engine
    from app.sync_command import close_missed_day

    step = progress or (lambda _fraction, _words: None)
    step(0.1, "检查之前的交易日 (checking that earlier days were closed)")
    caught_up = io.StringIO()  # what the catch-up close said: an alert of today's session
    close_missed_day(settings, day, data_dir, caught_up, mode="sim")
    items = redate(default_items(), day)
    if instruments is None:
        specs: dict[str, InstrumentSpec] = {}
        for item in items:
            price = Decimal(str(item.get("order_price") or "10"))
            tick = Decimal("0.01")
            specs[item["instrument"]] = InstrumentSpec(
                item["instrument"], name=str(item.get("name") or ""), prev_close=price.quantize(tick)
            )
        for code, _qty, _cost, last in demo_positions():
            specs.setdefault(code, InstrumentSpec(code, prev_close=last))
        instruments = list(specs.values())
    if positions is None:
        positions = [(code, qty, cost) for code, qty, cost, _ in demo_positions()]
    step(0.3, "打开账本与模拟券商 (opening the books and the simulated broker)")
    setup = build_sim_setup(
        settings, day=day, instruments=instruments, data_dir=data_dir, seed=seed, start=start
    )
    server: DevServer | None = None
    worker: SignalFetchWorker | None = None
    try:
        seed_account(setup, positions)
        engine, clock = setup.engine, setup.clock
        history = SyntheticHistory(
            list(instruments), seed=settings.sim.seed if seed is None else seed,
            levels=settings.sim.quote_levels, calendar=setup.engine.calendar,
        )  # fmt: skip  # the charts' bars: the same walk as the live feed's
        terminal = Terminal(engine, history=history)
        step(0.5, "启动本地信号服务 (starting the local signal server)")
        state = DevState(items=items)
        server = DevServer(state).start()
        client = BigQuantClient(server.base_url, DEV_ACCESS_KEY, DEV_SECRET_KEY, retries=0)
        strategy_ids = sorted(state.strategies())
        source = BigQuantSignalSource(client, strategy_ids)
        worker = SignalFetchWorker(source, engine.post, name="bigquant-dev").start()
        driver = PacedDay(engine=engine, venue=setup.broker, feed=setup.feed, clock=clock, day=day,
                          until=until, speed=speed)  # fmt: skip
        capital = settings.account.initial_cash

        def planned(event: object) -> None:  # engine thread: only hand on
            if isinstance(event, SignalsReceived) and event.day == day:
                batches = [b for b in event.batches if b.batch_id in event.new_batch_ids]
                engine.post(Call(lambda e: _plan_and_release(e, batches, driver)))
            elif isinstance(event, AlertRaised) and event.category == "signals" and event.level == "error":
                driver.release()  # the fetch failed (said by the alert): the day goes on without a plan

        def fetch(e: Engine, job: object) -> None:
            driver.hold()  # the clock waits for the fetch (it runs over HTTP on the worker's thread)
            worker_ = worker
            assert worker_ is not None
            worker_.request(day)

        def post_close(e: Engine, job: Any) -> None:
            result = close_day(e, eod_store_for(e.store), day=job.day, account_id=settings.account.account_id)
            e.alert(
                "info", "eod", f"日终对账 (reconciliation) {job.day}: {result.reconciliation.status.value}"
            )

        terminal.subscribe(planned)
        step(0.7, "启动引擎，与券商核对 (starting the engine, recovering against the broker)")
        setup.broker.connect()
        terminal.start()
        step(0.9, "安排今日任务 (planning the day)")
        if caught_up.getvalue().strip():
            terminal.alert("info", "eod", caught_up.getvalue().strip())
        blocking = blocking_settlement(terminal.settlements(eod_store_for), day)
        blocked = None if blocking is None else block_message(blocking, day)
        if blocked:  # as run --headless: no fetch, approval or execution until the investor looks
            terminal.alert("warning", "eod", blocked)
        stored = {s.settings.strategy_id: s.settings for s in terminal.strategies()}  # the investor's stand
        for sid in strategy_ids:
            name = STRATEGY_NAMES.get(sid, "")
            known = stored.get(sid)
            if known is None:
                terminal.set_strategy(StrategySettings(sid, capital, name=name, policy="limit"), who="user")
            elif not known.name and name:  # never named (earlier versions left it empty): named now
                terminal.set_strategy(replace(known, name=name), who="user")
        times = Times.from_settings(settings.schedule)
        terminal.set_auto_approve(times.approve_deadline, who="user")
        plan = plan_day(day, clock.now(), load_calendar(settings.general.data_dir), times, blocked=blocked)
        handlers: dict[Command, Any] = {Command.FETCH: fetch, Command.POST_CLOSE: post_close}
        schedule = job_words(plan)

        def on_started() -> None:
            plan_on_engine(engine, plan, handlers)

        driver.on_started = on_started
        return WindowSession(setup, terminal, server, worker, driver, schedule, settings.account.account_id)
    except BaseException:
        if worker is not None:
            worker.stop(5.0)
        if server is not None:
            server.stop()
        setup.close()
        raise


_JOB_WORDS = {
    "fetch": "取信号",
    "approve": "批准截止",
    "open_auction": "开盘竞价",
    "continuous": "连续竞价",
    "close_auction": "收盘竞价",
    "post_close": "日终对账",
    "backup": "备份",
}


def job_words(plan: Any) -> list[tuple[datetime, str]]:
    """A day plan's jobs as the status bar names them (the market monitor left out), in time order."""
    return sorted((j.at, _JOB_WORDS.get(j.command.value, j.command.value)) for j in plan.jobs
                  if j.command.value != "monitor")  # fmt: skip


def _plan_and_release(engine: Engine, batches: list[Any], driver: Any) -> None:
    try:
        lines = engine.plan.add_batches(batches, "planner")
        engine.alert("info", "signals", f"已取得信号并生成计划 (signals planned): {len(lines)} 条计划行")
    finally:
        driver.release()


# ---------------------------------------------------------------------------- the window's live day
@dataclass
class LiveWindowSession:
    """What the window runs on when `general.mode = "live"`: the QMT setup (build_live_setup), started
    (books opened, miniQMT connected, the day's orders recovered) and observe-only until armed. The
    same face as WindowSession where the window uses it (`terminal`, `schedule`, `account_id`,
    `mode`, `driver`, `start()`, `close()`); what only a live day has: `account` (the QMT account id,
    for the arming's typed confirmation), `live_trading_enabled` and `connection_state()`."""

    setup: LiveSetup
    terminal: Terminal
    schedule: list[tuple[datetime, str]]
    account_id: str  # Tiller's account name of the books ([account] account_id), as WindowSession's
    account: str  # the QMT account id (the keyring's qmt.account_id)
    live_trading_enabled: bool
    mode: str = "live"
    driver: PacedDay | None = None  # a live day has no paced driver: the clock is the wall's
    jobs: Any = None  # the day's chain (app/headless.py DayJobs), its jobs running once started
    engine_timers: bool = False  # tests: the jobs as engine timers on a SimClock (its advance fires them)

    def connection_state(self) -> Any:
        """The QMT link now (app/gateways/qmt/gateway.py ConnectionState): connected, reconnecting
        since when, attempts, the last error. Thread-safe; the window asks off its own thread."""
        return self.setup.gateway.state()

    def start(self) -> None:
        """The day's jobs begin (the engine was started by the builder: it must connect first; lines an
        earlier run left handed were resumed there): on APScheduler against the wall clock, each job
        only posted to the engine."""
        if self.jobs is None:
            return
        if self.engine_timers:
            self.jobs.on_engine_timers(resume=False)
        else:  # never waits on the engine: the GUI thread calls it
            self.jobs.on_live_clock(resume=False, on_plan=self._planned)

    def _planned(self, plan: Any) -> None:
        """A day's jobs planned (the next day's, on APScheduler's thread, for a window left open
        overnight): the status bar's schedule gains them. The list is replaced whole, never changed
        in place, so the GUI thread reading it sees the old or the new one."""
        self.schedule = sorted({*self.schedule, *job_words(plan)})

    def close(self) -> None:
        """The scheduler stopped first (no job posted after it), then the fetch, sync and alert
        workers, then the setup (the engine, xtdata, the gateway, the account lock)."""
        try:
            if self.jobs is not None:
                self.jobs.stop(drain=False)
        finally:
            self.setup.close()


def build_live_window_session(
    settings: Settings,
    *,
    clock: TimedClock | None = None,
    secrets: SecretStore | None = None,
    data_dir: Path | None = None,
    quotes: QuoteSource | None = None,
    live_guard: LiveGuard | None = None,
    reconnect_delays: Sequence[float] | None = None,
    query_interval: timedelta | None = LIVE_QUERY_INTERVAL,
    instruments: Sequence[Any] = (),
    signals: Path | None = None,
    engine_timers: bool = False,
) -> LiveWindowSession:
    """The window's live session: `build_live_setup` (the arming guard unless `live_guard` says
    otherwise), then the Terminal started (connect miniQMT, recover) and the day begun, and the day's
    chain wired as `run --headless` wires it (app/headless.py `live_day`, `DayJobs`: fetch -> plan ->
    approval -> auctions/continuous -> close, reconcile, settle -> sync -> backup, from the settings'
    schedule; observe-only holds each line and says why in the plan). `schedule` is the day's jobs
    for the status bar; they start with `start()`. Planned orders from `signals` (a BigQuant
    planned-order file) or BigQuant (`bigquant.strategy_ids`), as the headless run's.

    Raises what the investor must fix, in words (SetupError, QmtError, the account lock's error,
    TimeoutError); everything it built is closed again then. `secrets`, `clock`, `quotes`,
    `reconnect_delays`, `query_interval`, `instruments` and `engine_timers` (the jobs as engine timers
    on a SimClock rather than on APScheduler) are for tests on the stand-in."""
    from app.headless import DayJobs, live_day, live_source, log_say

    secrets = secrets if secrets is not None else SecretStore()
    no_source: str | None = None
    try:
        source = live_source(settings, signals, secrets)
    except SetupError as exc:  # the window still watches the account; the alert says what to set
        no_source = str(exc)
        source = live_source(replace(settings, bigquant=replace(settings.bigquant, strategy_ids=())), None)
    setup = build_live_setup(
        settings, clock=clock, secrets=secrets, data_dir=data_dir, live_guard=live_guard, quotes=quotes,
        reconnect_delays=reconnect_delays, query_interval=query_interval,
    )  # fmt: skip
    jobs: Any = None
    try:
        setup.terminal.start()
        setup.terminal.start_day(setup.day, instruments)
        if no_source is not None:
            setup.terminal.alert("error", "signals", no_source)
        account = (secrets.get("qmt.account_id") or "").strip()
        day = live_day(
            settings, setup, log_say(), account=account, source=source,
            title="Tiller 窗口实盘 (the window, live QMT account {account})",
        )  # fmt: skip
        jobs = DayJobs(day)
        plan = jobs.start(start_terminal=False)
        jobs.resume()  # lines handed by an earlier run go on (here, off the GUI thread)
        schedule = job_words(plan)
        return LiveWindowSession(
            setup, setup.terminal, schedule, settings.account.account_id, account,
            settings.qmt.live_trading_enabled, jobs=jobs, engine_timers=engine_timers,
        )  # fmt: skip
    except BaseException:
        try:
            if jobs is not None:
                jobs.stop(drain=False)
        finally:
            setup.close()
        raise
