"""The composition root: the only module that builds concrete objects of every layer."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from app import logs
from app.calendar_file import load_calendar
from app.config import Settings, SettingsError
from app.core.alerts import AlertChannel, AlertDispatcher, RateLimiter
from app.core.clock import SimClock
from app.core.engine import Engine
from app.core.execution.conditions import HistoryProvider
from app.core.execution.service import PolicyExecutor
from app.core.messages import Call, QuotesArrived
from app.core.risk import RiskGate
from app.core.risk.arming import LiveGuard as ArmingGuard
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
from app.storage.eod_store import Outbox, SqliteEodStore
from app.storage.integrity import check_existing_file
from app.storage.lock import AccountLock, acquire_account_lock
from app.storage.oms_store import SqliteOmsStore
from app.storage.schema import MIGRATIONS, TILLER_APPLICATION_ID, latest_version

if TYPE_CHECKING:
    from app.clients.sync import HttpSyncTransport
    from app.gateways.qmt.quotes import XtDataQuotes

PRE_OPEN = time(9, 0)


def configure_logging(settings: Settings, *, console_level: int = logging.ERROR) -> Path:
    """Log to <data_dir>/logs/tiller.log (rotated, kept after a crash); only errors to the console."""
    return logs.configure_logging(
        settings.general.data_dir, level=settings.general.log_level, console_level=console_level
    )


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

    def close(self) -> None:
        try:
            try:
                self.engine.stop()
            finally:
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
        fees=fees,
        account_id=account,
        initial_cash=settings.account.initial_cash,
        seed=settings.sim.seed if seed is None else seed,
        participation=settings.sim.participation,
        calendar=calendar,
        ack_latency=_seconds(settings.sim.ack_latency_s),
        fill_latency=_seconds(settings.sim.fill_latency_s),
        cancel_latency=_seconds(settings.sim.cancel_latency_s),
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
        engine = Engine(
            clock=clock,
            gateway=broker,
            store_factory=lambda: SqliteOmsStore(open_database(db_path, now=clock.now())),
            fees=fees,
            trading_day=day,
            calendar=calendar,
            answer_timeout=_seconds(settings.orders.answer_timeout_s),
            settle_time=_seconds(settings.orders.settle_time_s),
            risk=RiskGate(settings.risk),
        )
        engine.execution = build_execution(settings, engine)
    except BaseException:
        broker.close()
        raise
    return SimSetup(clock, broker, feed, engine, day, db_path, broker_path, lock)


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


def make_live_quotes(engine: Engine, xtdata: object | None = None) -> XtDataQuotes:
    """The live setup's quotes (app/gateways/qmt/quotes.py): each xtdata push reaches the engine as ONE
    QuotesArrived, converted on the feed's own thread; a bad tick or a failing handler is an engine
    alert (once per code). `xtdata`: xtquant's module (default) or a stand-in. Subscribe what the
    account holds, the plan needs and the watchlist with `feed.subscribe(codes)`; `feed.close()` at the
    end."""
    from app.gateways.qmt.quotes import XtDataQuotes

    feed = XtDataQuotes(
        xtdata,
        on_problem=lambda text: engine.post(Call(lambda e: e.alert("warning", "quotes", text))),
        calendar=engine.calendar,
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
    from app.core.messages import OrderUpdated, SignalsReceived, TradeBooked
    from app.core.planning.model import PlanLineAdded

    feed.subscribe(engine.call(lambda e: watched_codes(e, watchlist)))

    def listener(event: object) -> None:
        if isinstance(event, OrderUpdated):
            feed.want((event.order.code,))
        elif isinstance(event, TradeBooked):
            feed.want((event.trade.code,))
        elif isinstance(event, PlanLineAdded):
            feed.want((event.line.code,))
        elif isinstance(event, SignalsReceived):
            feed.want(line.code for batch in event.batches for line in batch.lines)

    engine.subscribe(listener)


def confirm_calendar_with_qmt(
    feed: XtDataQuotes, calendar: TradingCalendar, today: date, days: int = 60
) -> list[str]:
    """Compare Tiller's calendar with QMT's from `today` for `days` calendar days; the disagreements
    (or why QMT's calendar could not be read) in words, for a warning alert each. Empty: they agree."""
    return feed.confirm_calendar(calendar, today, today + timedelta(days=days))


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
