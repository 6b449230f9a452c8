"""`python -m app sync --day` and `python -m app alerts`: the post-close by hand, and the alert stream.

sync exit codes: 0 the day settled (or was accepted) and its payload was delivered (or no
bigquant.sync_url is set: it stays in the outbox), 1 the day did not settle (differences or the broker
could not be queried; the payload still goes, its reconciliation says so), 2 bad usage (not a trading
day, a day in the future), 3 the payload was not acknowledged (it stays in the outbox and is retried).
"""

from __future__ import annotations

import argparse
import time as wall
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

from app.bootstrap import build_sim_setup, eod_store_for, sync_transport
from app.calendar_file import load_calendar
from app.config import Settings
from app.core.alerts import LEVELS
from app.core.eod.delivery import Backoff, Outcome, deliver_pending
from app.core.eod.reconcile import SettlementStatus
from app.core.terminal import Terminal
from app.domain.clock import CN_TZ
from app.secrets import SecretStore
from app.storage import database_path, open_database
from app.storage.eod_store import Outbox

EXIT_OK, EXIT_NOT_SETTLED, EXIT_USAGE, EXIT_NOT_DELIVERED = 0, 1, 2, 3
SYNC_BACKOFF = Backoff(first_s=1.0, factor=2.0, cap_s=8.0, attempts_per_round=4)


def run_sync(
    settings: Settings, args: argparse.Namespace, out: TextIO, *, backoff: Backoff | None = None
) -> int:
    day: date = args.day
    today = datetime.now(CN_TZ).date()
    calendar = load_calendar(settings.general.data_dir)
    if day > today:
        print(
            f"{day} 还没到 (is in the future): 只能对账已收盘的日子 (only a closed day can be reconciled)",
            file=out,
        )
        return EXIT_USAGE
    if not calendar.is_trading_day(day):
        print(f"{day} 不是交易日 (is not a trading day)", file=out)
        return EXIT_USAGE
    setup = build_sim_setup(settings, day=day, instruments=[], data_dir=args.data_dir)
    try:
        setup.broker.connect()
        terminal = Terminal(setup.engine)
        terminal.start()
        settlements = terminal.settlements(eod_store_for)
        if args.accept:
            if terminal.resolve_day(eod_store_for, day):
                print(
                    f"{day}: 差异已确认, 不再阻止下一交易日 (differences accepted: the next day may run)",
                    file=out,
                )
                return EXIT_OK
            print(
                f"{day}: 没有待确认的差异 (nothing to accept: the day settled or was never reconciled)",
                file=out,
            )
            return EXIT_NOT_SETTLED
        later = [s.day for s in settlements if s.day > day]
        if later:
            print(f"{day}: 之后的 {max(later)} 已清算, 券商已无该日委托 (a later day settled; the broker no longer "
                  f"lists {day}'s orders): 只重发已存的同步数据 (only the stored payload is sent again)", file=out)  # fmt: skip
            settled = next((s for s in settlements if s.day == day), None)
            status = settled.status if settled is not None else SettlementStatus.FAILED
        else:
            result = terminal.close_day(eod_store_for, day, account_id=settings.account.account_id)
            status = result.reconciliation.status
            print(f"{day} 对账 (reconciliation): {status.value}", file=out)
            for difference in result.reconciliation.differences:
                print(f"  {difference}", file=out)
            if result.outbox is not None:
                rev = "新版本 (new revision)" if result.new_revision else "未变 (unchanged)"
                print(
                    f"同步数据 (payload) {result.outbox.sync_id} r{result.outbox.revision}: {rev}", file=out
                )
        settled_ok = status in (SettlementStatus.OK, SettlementStatus.RESOLVED)
        code = EXIT_OK if settled_ok else EXIT_NOT_SETTLED
        # delivered while the engine still runs, so a failing sync is an alert in the stream
        return _export_and_deliver(settings, args, out, setup.db_path, day, code, backoff, terminal.alert)
    finally:
        setup.close()


def _export_and_deliver(
    settings: Settings,
    args: argparse.Namespace,
    out: TextIO,
    db_path: Path,
    day: date,
    code: int,
    backoff: Backoff | None,
    alert: Callable[[str, str, str], None],
) -> int:
    outbox = Outbox(db_path)
    try:
        entries = outbox.for_day(day)
        if args.export is not None:
            args.export.mkdir(parents=True, exist_ok=True)
            for sync_id, revision, payload, _ in entries:
                target = args.export / f"eod_sync-{day.isoformat()}-r{revision}.json"
                target.write_text(payload, encoding="utf-8")
                print(f"已导出 (exported) {target} ({sync_id[:12]}…)", file=out)
        if args.no_send:
            return code
        pending = [e for e in entries if e[3] is None]
        if not pending:
            if entries:
                print(f"{day} 的同步数据已送达 (already delivered)", file=out)
            return code
        transport = sync_transport(settings, SecretStore())
        if transport is None:
            print("未设置 bigquant.sync_url: 同步数据留在发件箱 (no sync URL set: the payload stays in the outbox)",
                  file=out)  # fmt: skip
            return code
        try:
            reports = deliver_pending(
                outbox, transport, now=lambda: datetime.now(UTC), wait=_sleep, backoff=backoff or SYNC_BACKOFF,
                only_day=day.isoformat(), alert=alert,
            )  # fmt: skip
        finally:
            transport.close()
        for r in reports:
            print(f"同步 (sync) {r.sync_id[:12]}…: {r.outcome.value} ({r.attempts} 次 / attempts) {r.message}".rstrip(),
                  file=out)  # fmt: skip
        if any(r.outcome is not Outcome.ACKNOWLEDGED for r in reports):
            print(
                "未送达, 已留在发件箱, 稍后重试 (not delivered: kept in the outbox, retried later)", file=out
            )
            return code if code != EXIT_OK else EXIT_NOT_DELIVERED
        return code
    finally:
        outbox.close()


def unsettled_days(
    settings: Settings, data_dir: Path | None, before: date, *, mode: str | None = None
) -> list[date]:
    """Earlier days with orders or fills but no settlement (Tiller stopped before their close), oldest
    first; [] when there is no database yet. `mode`: whose books ("sim", "live"; default general.mode)."""
    path = database_path(
        data_dir or settings.general.data_dir, settings.account.account_id, mode or settings.general.mode
    )
    if not path.exists():
        return []
    database = open_database(path, read_only=True)
    try:
        rows = database.conn.execute(
            "SELECT trading_day FROM orders WHERE trading_day < ? AND trading_day IS NOT NULL "
            "UNION SELECT trading_day FROM trades WHERE trading_day < ? "
            "EXCEPT SELECT trading_day FROM settlements ORDER BY 1",
            (before.isoformat(), before.isoformat()),
        ).fetchall()
    finally:
        database.close()
    return [date.fromisoformat(r[0]) for r in rows if r[0]]


def close_earlier_day(settings: Settings, day: date, data_dir: Path | None, out: TextIO) -> SettlementStatus:
    """The close of a day Tiller missed (stopped or crashed before it): its own session, reconciled
    against the broker, recorded and put in the outbox (delivered by the run that follows)."""
    setup = build_sim_setup(settings, day=day, instruments=[], data_dir=data_dir)
    try:
        setup.broker.connect()
        terminal = Terminal(setup.engine)
        terminal.start()
        result = terminal.close_day(eod_store_for, day, account_id=settings.account.account_id)
    finally:
        setup.close()
    print(
        f"补做 {day} 的日终对账 (caught up the close of {day}): {result.reconciliation.status.value}",
        file=out,
    )
    for difference in result.reconciliation.differences:
        print(f"  {difference}", file=out)
    return result.reconciliation.status


def close_missed_day(
    settings: Settings, day: date, data_dir: Path | None, out: TextIO, *, mode: str | None = None
) -> SettlementStatus | None:
    """Before `day` runs on the simulated setup (`run --headless`, the window): the latest earlier day
    left without its close (stopped or crashed before it) is closed first, in its own session, while
    the broker still lists that day's orders (`close_earlier_day`, which says so on `out`). None: no
    day was left. Whether `day` may then trade automatically is the settlements' to say
    (`blocking_settlement`)."""
    missed = unsettled_days(settings, data_dir, day, mode=mode)
    if not missed:
        return None
    return close_earlier_day(settings, missed[-1], data_dir, out)


def _sleep(seconds: float) -> bool:
    wall.sleep(seconds)
    return False


def show_alerts(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    folder: Path = args.data_dir or settings.general.data_dir
    path = database_path(folder, settings.account.account_id, settings.general.mode)
    if not path.exists():
        print(f"还没有告警 (no alerts yet): {path} 不存在 (does not exist)", file=out)
        return 0
    since = ""
    if args.since:
        try:
            parsed = datetime.fromisoformat(args.since)
        except ValueError:
            print(f"--since 应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM (expected a day or moment), was {args.since!r}",
                  file=out)  # fmt: skip
            return EXIT_USAGE
        since = (parsed if parsed.tzinfo else parsed.replace(tzinfo=CN_TZ)).astimezone(CN_TZ).isoformat()
    if args.limit < 1:
        print(f"--limit 应为正整数 (must be positive), was {args.limit}", file=out)
        return EXIT_USAGE
    database = open_database(path, read_only=True)
    try:
        rows = database.conn.execute(
            "SELECT ts, level, category, message FROM alerts WHERE ts >= ? ORDER BY id DESC LIMIT ?",
            (since, args.limit * 10),
        ).fetchall()
    finally:
        database.close()
    floor = LEVELS[args.level]
    shown = [r for r in rows if LEVELS.get(r[1], 3) >= floor][: args.limit]
    if not shown:
        print("没有告警 (no alerts)" + (f" since {args.since}" if args.since else ""), file=out)
        return 0
    for ts, level, category, message in reversed(shown):
        print(f"{ts[:19].replace('T', ' ')}  {level:<8} {category or '-':<11} {message}", file=out)
    return 0
