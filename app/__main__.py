"""`python -m app`: the command line.

Subcommands live in `SUBCOMMANDS`; each adds its own arguments and returns an exit code. Global
options (before or after the subcommand): `--set section.key=value` (repeatable) and `--config PATH`.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import logging
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from app import __version__
from app.config import Settings, SettingsError, default_config_path, load_settings, write_default_config
from app.doctor import XTQUANT_PROBE_FLAG, can_print_symbols, format_report, run_doctor, xtquant_probe_main
from app.failures import EXIT_INTERRUPTED, report_failure
from app.logs import configure_logging, current_log_file
from app.secrets import SECRET_NAMES, SET_MARKER, SecretsError, SecretStore, keyring_status

# Reads a secret without echoing it; tests replace it. Secrets never come from argv.
read_secret: Callable[[str], str] = getpass.getpass


@dataclass(frozen=True, slots=True)
class Subcommand:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def overrides_from_args(args: argparse.Namespace) -> list[str]:
    """Every --set, given before the subcommand or after it, in order."""
    return [*(getattr(args, "overrides", None) or []), *(getattr(args, "sub_overrides", None) or [])]


def config_path_from_args(args: argparse.Namespace) -> Path | None:
    return getattr(args, "sub_config", None) or getattr(args, "config", None)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """The settings for this run: file (or --config), env, then --set overrides."""
    return load_settings(argv_overrides=overrides_from_args(args), path=config_path_from_args(args))


def _safe_output(stream: TextIO) -> TextIO:
    # A Windows console code page cannot encode every character of a report: replace, never crash.
    reconfigure = getattr(stream, "reconfigure", None)
    if callable(reconfigure):
        with contextlib.suppress(ValueError, OSError):
            reconfigure(errors="replace")
    return stream


# --- doctor -----------------------------------------------------------------------------------


def _run_doctor(args: argparse.Namespace) -> int:
    report = run_doctor(argv_overrides=overrides_from_args(args), path=config_path_from_args(args))
    out = _safe_output(sys.stdout)
    print(format_report(report, symbols=can_print_symbols(getattr(out, "encoding", None))), file=out)
    return 0 if report.usable else 1


# --- secrets ----------------------------------------------------------------------------------


def _add_secrets_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="secrets_action", required=True, metavar="{set,delete,status}")
    names = sorted(SECRET_NAMES)
    store = _add_leaf(
        actions, "set", help="store a secret in the OS keyring (asks for the value, never shows it)"
    )
    store.add_argument("name", choices=names)
    delete = _add_leaf(actions, "delete", help="remove a secret from the OS keyring")
    delete.add_argument("name", choices=names)
    status = _add_leaf(actions, "status", help="which secrets are set (never their values)")
    status.add_argument("name", nargs="?", choices=names)


def _run_secrets(args: argparse.Namespace) -> int:
    store = SecretStore()
    try:
        if args.secrets_action == "set":
            value = _secret_from_stdin() if not _stdin_is_terminal() else None
            if value is None:
                value = read_secret(f"{args.name}（输入不显示 / input hidden）: ")
            store.set(args.name, value)
            print(f"{args.name}: stored in the OS keyring ({store.backend_name()})")
        elif args.secrets_action == "delete":
            removed = store.delete(args.name)
            print(f"{args.name}: {'deleted' if removed else 'was not set'}")
        else:
            usable, description = keyring_status()
            print(f"keyring: {description}" if usable else f"keyring unavailable: {description}")
            if not usable:
                return 1
            markers = store.status_markers()
            for name in [args.name] if args.name else sorted(markers):
                print(f"{name}: {'set' if markers[name] == SET_MARKER else 'not set'}")
    except SecretsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _stdin_is_terminal() -> bool:
    stdin = sys.stdin
    return stdin is None or stdin.isatty()


def _secret_from_stdin() -> str | None:
    """The first line of standard input (for scripts: `echo KEY | python -m app secrets set NAME`);
    None when standard input cannot be read (then the value is asked for)."""
    try:
        line = sys.stdin.readline()
    except (OSError, ValueError):
        return None
    return line.removeprefix("\ufeff").rstrip("\r\n")


# --- fetch ------------------------------------------------------------------------------------


def _iso_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, was {text!r}") from None


def _add_fetch_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--day", type=_iso_day, help="the trading day YYYY-MM-DD (default: today in China)")
    parser.add_argument("--json", action="store_true", help="print exactly one JSON object")
    parser.add_argument("--data-dir", type=Path, help="the data folder whose books the plan preview reads")


def _run_fetch(args: argparse.Namespace) -> int:
    """Fetch a day's batches from BigQuant and show them; places no order."""
    import json

    from app.clients.bigquant import BigQuantError, batches_as_json, format_batches, source_from_settings
    from app.domain.clock import CN_TZ

    settings = settings_from_args(args)
    day = args.day or datetime.now(CN_TZ).date()  # the command line's today; the core uses its Clock
    store = SecretStore()
    try:
        source = source_from_settings(
            settings.bigquant, store.get("bigquant.access_key"), store.get("bigquant.secret_key")
        )
        with source.client:
            batches = source.fetch(day)
    except (BigQuantError, SecretsError) as exc:
        print(f"获取失败 (fetch failed): {exc}；没有下任何订单 (no order was placed)", file=sys.stderr)
        return 1
    out = _safe_output(sys.stdout)
    if args.json:
        print(json.dumps(batches_as_json(batches), ensure_ascii=False), file=out)
    else:
        print(format_batches(batches, day), file=out)
        preview = _plan_preview(settings, batches, day, args.data_dir)
        if preview:
            print(preview, file=out)
    return 0


def _plan_preview(settings: Settings, batches: list, day: date, data_dir: Path | None) -> str:
    """What the planner would do (text output only: the --json schema is the issue's, unchanged)."""
    from app.plan_preview import format_preview, preview_plan

    if not any(batch.lines for batch in batches):
        return ""
    try:
        return format_preview(preview_plan(settings, batches, day, data_dir))
    except Exception as exc:  # the fetch worked: a preview that cannot be made is said, not fatal
        logging.getLogger(__name__).exception("plan preview for %s", day)
        return f"计划预览不可用 (no plan preview): {type(exc).__name__}: {exc}"


# --- serve-dev --------------------------------------------------------------------------------


def _add_serve_dev_arguments(parser: argparse.ArgumentParser) -> None:
    from app.devserver import FAULTS  # the names only: the server loads when the command runs

    parser.add_argument("--port", type=int, default=0, help="the port on 127.0.0.1 (default 0: a free one)")
    parser.add_argument("--scenario", type=Path, help="planned orders to serve (default: the bundled sample)")
    parser.add_argument("--demo", action="store_true", help="serve the demo day's two strategies' batches")
    parser.add_argument("--day", type=_iso_day, help="move the scenario's planned orders to this trading day")
    parser.add_argument("--fault", choices=sorted(FAULTS), help="answer every request with this fault")
    parser.add_argument("--sync-dir", type=Path, help="also write each received eod_sync payload here")


def _run_serve_dev(args: argparse.Namespace) -> int:
    from app.devserver.server import (
        DEV_ACCESS_KEY,
        DEV_SECRET_KEY,
        FAULTS,
        DevServer,
        DevState,
        default_items,
        demo_items,
        load_scenario,
        redate,
    )

    if not 0 <= args.port <= 65535:
        print(f"--port 应为 0 到 65535 (must be 0..65535), was {args.port}", file=sys.stderr)
        return 2
    items = load_scenario(args.scenario) if args.scenario else demo_items() if args.demo else default_items()
    if args.day:
        items = redate(items, args.day)
    state = DevState(items=items, sync_dir=args.sync_dir)
    state.set_fault(args.fault)
    server = DevServer(state, port=args.port)
    print(f"BigQuant 开发服务器 (dev server): {server.base_url}", flush=True)
    print(f"同步地址 (sync endpoint): POST {server.sync_url}")
    print(f"开发服务器自己的密钥，不是真实密钥 (the dev server's own keys, not real ones): "
          f"access_key={DEV_ACCESS_KEY} secret_key={DEV_SECRET_KEY}")  # fmt: skip
    if args.fault:
        print(f"故障注入 (fault): {args.fault}: {FAULTS[args.fault]}")
    print("按 Ctrl+C 停止 (Ctrl+C stops it)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


# --- config -----------------------------------------------------------------------------------


def _add_config_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="config_action", required=True, metavar="{path,show,init}")
    _add_leaf(actions, "path", help="print where the settings file is read from")
    _add_leaf(actions, "show", help="print the effective settings (no secrets)")
    init = _add_leaf(actions, "init", help="write a settings file with every default, commented")
    init.add_argument("--force", action="store_true", help="replace an existing file")


def _run_config(args: argparse.Namespace) -> int:
    path = config_path_from_args(args) or default_config_path()
    try:
        if args.config_action == "path":
            print(f"{path} ({'exists' if path.exists() else 'not created; defaults apply'})")
        elif args.config_action == "show":
            _print_settings(settings_from_args(args).sanitized(SecretStore()))
        else:
            print(f"wrote {write_default_config(path, overwrite=args.force)}")
    except SettingsError as exc:
        print(f"设置有误 / settings error: {exc}", file=sys.stderr)
        return 1
    return 0


def _print_settings(sanitized: dict[str, object]) -> None:
    for section, values in sanitized.items():
        if isinstance(values, dict):
            print(f"[{section}]")
            for key, value in values.items():
                print(f"{key} = {value!r}")
        else:
            print(f"{section} = {values!r}")


# --- demo -------------------------------------------------------------------------------------


MAX_SPEED = 1e6  # simulated seconds per real second, as for the setting sim.speed


def _add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, help="seed of the synthetic quotes (default: sim.seed)")
    parser.add_argument(
        "--speed",
        type=float,
        help="simulated seconds per real second (default: sim.speed); 0 runs as fast as possible",
    )
    parser.add_argument(
        "--data-dir", type=Path, help="keep the day's databases in this folder (default: a temporary one)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress line")


def _run_demo(args: argparse.Namespace) -> int:
    # the trading stack loads only for this command
    from app.bootstrap import configure_logging as configure_demo_logging
    from app.demo import format_summary, run_demo

    out = _safe_output(sys.stdout)
    settings = settings_from_args(args)  # a SettingsError is reported by main()
    if args.speed is not None and not 0 <= args.speed <= MAX_SPEED:  # also refuses nan and inf
        print(
            f"--speed 应为 0 到 {MAX_SPEED:g} 之间的数 (must be a number from 0 to {MAX_SPEED:g}), "
            f"was {args.speed}",
            file=sys.stderr,
        )
        return 2
    speed = None if args.speed is None else (args.speed or 0.0)
    # the log goes with the books to --data-dir; without it, to general.data_dir (the books then go
    # to a temporary folder, removed at the end)
    log_file = configure_demo_logging(settings, data_dir=args.data_dir)
    result = run_demo(
        settings, seed=args.seed, speed=speed, data_dir=args.data_dir, out=out, progress=not args.quiet
    )
    print(format_summary(result), file=out)
    print(f"日志 (log): {log_file}", file=out)
    return 0


# --- run --headless, sync, alerts -------------------------------------------------------------

EXIT_NOT_SETTLED = 1  # sync: the day has differences or could not be reconciled
EXIT_USAGE = 2
EXIT_NOT_DELIVERED = 3  # sync: the payload is in the outbox but was not acknowledged


def _day(text: str):
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"应为日期 YYYY-MM-DD (expected a date YYYY-MM-DD), was {text!r}"
        ) from None


def _hhmm(text: str):
    from datetime import time

    cleaned = text.strip().replace("：", ":")  # a full-width colon, as a Chinese keyboard types it
    if len(cleaned) >= 4 and cleaned[1] == ":":  # 9:40 as well as 09:40
        cleaned = "0" + cleaned
    try:
        parsed = time.fromisoformat(cleaned)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为时间 HH:MM (expected a time HH:MM), was {text!r}") from None
    return parsed.replace(tzinfo=None)


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--headless", action="store_true", help="no window: the scheduler runs the day and prints"
    )
    parser.add_argument("--day", type=_day, help="the trading day (default: today, China time)")
    parser.add_argument(
        "--start", type=_hhmm, help="the simulated clock starts here (default: now for today, else 08:30)"
    )
    parser.add_argument(
        "--until", type=_hhmm, default=None, help="stop at this time of the day (default: 16:00)"
    )
    parser.add_argument("--speed", type=float, default=None,
                        help="simulated seconds per real second (0: as fast as possible; default 1 headless, "
                             "60 in the window, where the status bar changes it)")  # fmt: skip
    parser.add_argument(
        "--signals", type=Path, help="a BigQuant planned-order file (default: the demo batch)"
    )
    parser.add_argument("--data-dir", type=Path, help="the data folder (default: general.data_dir)")
    parser.add_argument("--seed", type=int, help="seed of the synthetic quotes (default: sim.seed)")
    parser.add_argument("--exit-when-done", action="store_true",
                        help="window: close when the simulated day is over")  # fmt: skip
    parser.add_argument("--screenshot", type=Path, help="window: save the window as PNG before closing")
    parser.add_argument(
        "--arm", action="store_true",
        help="live: arm the real account for today (orders are sent until the close); asks to type the "
        "account's last 4 characters. Needs qmt.live_trading_enabled",
    )  # fmt: skip
    parser.add_argument("--yes", action="store_true", help="with --arm: no typed confirmation (scripts)")


def _run_run(args: argparse.Namespace) -> int:
    if not args.headless:  # the window: nothing of the engine is imported before it is painted
        return _run_window(args)
    from datetime import datetime, time

    from app.bootstrap import configure_logging as configure_run_logging
    from app.domain.clock import CN_TZ
    from app.headless import HeadlessOptions, run_headless

    if args.speed is None:
        args.speed = 1.0
    if not 0 <= args.speed <= MAX_SPEED:
        print(f"--speed 应为 0 到 {MAX_SPEED:g} 之间的数 (must be from 0 to {MAX_SPEED:g}), was {args.speed}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    settings = settings_from_args(args)
    if args.yes and not args.arm:
        print("--yes 只与 --arm 一起用 (--yes goes with --arm)", file=sys.stderr)
        return EXIT_USAGE
    if settings.general.mode == "live":
        return _run_live(settings, args)
    now = datetime.now(CN_TZ)
    day = args.day or now.date()
    start = args.start or (now.time().replace(second=0, microsecond=0) if day == now.date() else time(8, 30))
    until = args.until or time(16, 0)
    if until <= start:
        print(
            f"--until 应晚于开始时间 (must be after the start, {start:%H:%M}), was {until:%H:%M}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    configure_run_logging(settings, data_dir=args.data_dir)
    options = HeadlessOptions(day=day, start=start, until=until, speed=args.speed or None, signals=args.signals,
                              data_dir=args.data_dir, seed=args.seed, arm=args.arm)  # fmt: skip
    return run_headless(settings, options, _safe_output(sys.stdout))


def _run_window(args: argparse.Namespace) -> int:
    """The window (app/gui.py): `python -m app` with no command, or `run`; on the simulated setup, or on
    the QMT account (observe-only until armed in the window) when general.mode = "live"."""
    from datetime import time

    from app.gui import GuiOptions, run_gui

    speed = 60.0 if getattr(args, "speed", None) is None else args.speed
    if not 0 <= speed <= MAX_SPEED:
        print(f"--speed 应为 0 到 {MAX_SPEED:g} 之间的数 (must be from 0 to {MAX_SPEED:g}), was {speed}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    settings = settings_from_args(args)
    start = getattr(args, "start", None) or time(8, 45)
    until = getattr(args, "until", None) or time(15, 35)
    if until <= start:
        print(f"--until 应晚于开始时间 (must be after the start, {start:%H:%M}), was {until:%H:%M}",
              file=sys.stderr)  # fmt: skip
        return EXIT_USAGE
    # as bootstrap.configure_logging, without importing the composition root before the window is up
    data_dir = getattr(args, "data_dir", None)  # the log goes with the books, as demo and --headless
    log_file = configure_logging(
        data_dir or settings.general.data_dir, level=settings.general.log_level, console_level=logging.ERROR
    )
    if getattr(args, "arm", False):
        print("--arm 用于 run --headless；窗口中请点状态栏的“布防…” (--arm is for run --headless; in the window, "
              "arm with 布防… in the status bar)", file=sys.stderr)  # fmt: skip
    options = GuiOptions(
        day=getattr(args, "day", None), start=start, until=until, speed=speed or None,
        data_dir=getattr(args, "data_dir", None), seed=getattr(args, "seed", None),
        exit_when_done=bool(getattr(args, "exit_when_done", False)), screenshot=getattr(args, "screenshot", None),
    )  # fmt: skip
    return run_gui(settings, options, log_file)


def _run_status(args: argparse.Namespace) -> int:
    from app.arming_cli import print_status

    return print_status(settings_from_args(args), SecretStore(), _safe_output(sys.stdout))


# Reads the typed confirmation of --arm; tests replace it.
read_confirmation: Callable[[str], str] = input


def _run_live(settings: Settings, args: argparse.Namespace) -> int:
    """general.mode = "live": the QMT setup. Arming is confirmed before anything connects."""
    from app import bootstrap
    from app.arming_cli import confirm_arming

    out = _safe_output(sys.stdout)
    if args.arm:
        if not settings.qmt.live_trading_enabled:
            print("无法布防：设置中未开启实盘交易 (cannot arm: qmt.live_trading_enabled is false); "
                  "python -m app run --set qmt.live_trading_enabled=true …, or set it in the settings file",
                  file=sys.stderr)  # fmt: skip
            return 1
        account = SecretStore().get("qmt.account_id")
        if not account:
            print("实盘账户未设置 (the live account is not set): python -m app secrets set qmt.account_id",
                  file=sys.stderr)  # fmt: skip
            return 1
        if not confirm_arming(account, yes=args.yes, ask=read_confirmation, out=out):
            return 1
    if getattr(bootstrap, "build_live_setup", None) is None:
        print("此版本尚不能运行实盘 (this build cannot run the live QMT setup yet); "
              "set general.mode = \"sim\" for the simulated broker", file=sys.stderr)  # fmt: skip
        return 1
    from app.headless import run_live_headless

    ignored = [
        f"--{name}" for name in ("day", "start", "until", "seed") if getattr(args, name, None) is not None
    ]
    if ignored:
        print(f"实盘按实时时钟运行，忽略 {' '.join(ignored)} (live mode runs on the live clock: "
              f"{' '.join(ignored)} ignored)", file=out, flush=True)  # fmt: skip
    return run_live_headless(settings, arm=args.arm, out=out, signals=args.signals, data_dir=args.data_dir)


def _add_sync_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--day", type=_day, required=True, help="the trading day to reconcile and sync")
    parser.add_argument("--accept", action="store_true",
                        help="accept the day's differences (it no longer blocks the next automatic run)")  # fmt: skip
    parser.add_argument(
        "--export", type=Path, metavar="DIR", help="also write the day's payload to this folder"
    )
    parser.add_argument("--no-send", action="store_true", help="reconcile and store, do not send")
    parser.add_argument("--data-dir", type=Path, help="the data folder (default: general.data_dir)")


def _run_sync(args: argparse.Namespace) -> int:
    from app.sync_command import run_sync

    return run_sync(settings_from_args(args), args, _safe_output(sys.stdout))


def _add_alerts_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", help="from this day or moment on (YYYY-MM-DD or YYYY-MM-DDTHH:MM)")
    parser.add_argument("--level", choices=["info", "warning", "error", "critical"], default="info",
                        help="the least serious level shown (default: info)")  # fmt: skip
    parser.add_argument("--limit", type=int, default=200, help="at most this many, the newest (default 200)")
    parser.add_argument("--data-dir", type=Path, help="the data folder (default: general.data_dir)")


def _run_alerts(args: argparse.Namespace) -> int:
    from app.sync_command import show_alerts

    return show_alerts(settings_from_args(args), args, _safe_output(sys.stdout))


SUBCOMMANDS: dict[str, Subcommand] = {
    "demo": Subcommand(
        "run one simulated A-share trading day (simulated broker, synthetic quotes) and print a summary",
        _add_demo_arguments,
        _run_demo,
    ),
    "doctor": Subcommand(
        "check whether Tiller can run here, and say why not", lambda parser: None, _run_doctor
    ),
    "secrets": Subcommand(
        "store, delete or list secrets in the OS keyring", _add_secrets_arguments, _run_secrets
    ),
    "config": Subcommand("the settings file: path, show, init", _add_config_arguments, _run_config),
    "run": Subcommand(
        "run Tiller: the window (the default with no command), or --headless: the scheduler with no window "
        "(simulated broker), printing what it does",
        _add_run_arguments,
        _run_run,
    ),
    "status": Subcommand(
        "the trading mode and whether a live account is armed (simulated / observe-only / armed), with the "
        "live audit's last rows",
        lambda parser: None,
        lambda args: _run_status(args),
    ),
    "sync": Subcommand(
        "reconcile a day and sync it now (exit 0 settled and delivered, 1 not settled, 3 not delivered)",
        _add_sync_arguments,
        _run_sync,
    ),
    "alerts": Subcommand("show the alerts kept in the database", _add_alerts_arguments, _run_alerts),
    "fetch": Subcommand(
        "fetch a day's BigQuant planned orders and show them, accepted and rejected (places no order)",
        _add_fetch_arguments,
        _run_fetch,
    ),
    "serve-dev": Subcommand(
        "run a local BigQuant-compatible server on 127.0.0.1 (development, tests, the demo)",
        _add_serve_dev_arguments,
        _run_serve_dev,
    ),
}

NO_COMMAND_HINT = (
    "With no command, python -m app opens the window on a simulated day (on the QMT account when "
    'general.mode = "live")'
)


def _common_options(prefix: str) -> argparse.ArgumentParser:
    # Shared by the main parser and every subcommand so they work before or after it; the
    # subcommands' copies get their own names (a subparser's values replace the main parser's).
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--set",
        dest=f"{prefix}overrides",
        action="append",
        metavar="SECTION.KEY=VALUE",
        help="override one setting (repeatable), e.g. --set fees.commission_rate=0.0003",
    )
    common.add_argument(
        "--config", dest=f"{prefix}config", type=Path, metavar="PATH", help="read this settings file"
    )
    return common


def _add_leaf(actions: argparse._SubParsersAction, name: str, *, help: str) -> argparse.ArgumentParser:
    """A subcommand parser that also takes --set and --config (use it for nested actions too)."""
    return actions.add_parser(name, help=help, parents=[_common_options("sub_")])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="Tiller: an A-share trading terminal (BigQuant signals, QMT, a simulated broker).",
        parents=[_common_options("")],
    )
    parser.add_argument("--version", action="version", version=f"tiller {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, subcommand in SUBCOMMANDS.items():
        sub = _add_leaf(commands, name, help=subcommand.help)
        subcommand.add_arguments(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [XTQUANT_PROBE_FLAG]:  # the doctor's child process (app/doctor.py), not for users
        return xtquant_probe_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error argparse has already printed
        return exc.code if isinstance(exc.code, int) else 0
    try:
        if args.command is None:  # the window (simulated, or live by general.mode)
            return _run_window(args)
        return SUBCOMMANDS[args.command].run(args)
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        return report_failure(
            exc, command=args.command or "gui", log_file=_ensure_log_file(args), stream=sys.stderr
        )


def _ensure_log_file(args: argparse.Namespace) -> Path | None:
    """The log file the failure goes to: the one configured, else one in the data folder of the
    settings (or the default data folder, or the temporary folder, when those cannot be used)."""
    current = current_log_file()
    if current is not None:
        return current
    from app.storage.paths import default_data_dir

    folders: list[Callable[[], Path]] = [
        lambda: settings_from_args(args).general.data_dir,
        default_data_dir,
        lambda: Path(tempfile.gettempdir()) / "tiller",
    ]
    for folder in folders:
        try:
            path = folder()
            if not path.is_absolute():  # e.g. a relative TILLER_DATA_DIR: never a folder in the cwd
                continue
            return configure_logging(path)
        except (OSError, ValueError):
            continue
    return None


if __name__ == "__main__":
    sys.exit(main())
