"""The command line's side of live trading armed on purpose: `run --arm` (a typed confirmation, or
`--yes` in scripts) and `status` (simulated / observe-only / armed, and the live audit's last rows).

The arming itself is the engine's (app/core/risk/arming.py, `Terminal.arm`); this only asks the
person at the keyboard first and reads the live database read-only for `status`."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import TextIO

from app.config import Settings
from app.core.risk.arming import LiveStatus
from app.core.terminal import Terminal
from app.secrets import SecretStore

CONFIRM_CHARS = 4  # the account id's last characters the person types to confirm


def arming_words(account_id: str) -> tuple[str, str]:
    """(what arming the account means, in words; the characters to type to confirm it): the command
    line's `run --arm` and the window's arm dialog say and ask the same."""
    tail = account_id[-CONFIRM_CHARS:]
    masked = "*" * max(len(account_id) - CONFIRM_CHARS, 0) + tail
    return (
        f"布防实盘账户 {masked}：今日收盘前 Tiller 将向该账户发送委托 (arming the live account {masked}: until "
        "today's close Tiller SENDS ORDERS to it).",
        tail,
    )


def confirm_arming(account_id: str, *, yes: bool, ask: Callable[[str], str], out: TextIO) -> bool:
    """Ask the person to type the account id's last characters; `yes` skips it (scripts). True when
    confirmed; the refusal is printed."""
    text, tail = arming_words(account_id)
    print(text, file=out, flush=True)
    if yes:
        print("已用 --yes 确认 (confirmed by --yes)", file=out, flush=True)
        return True
    try:
        typed = ask(
            f"请输入账户末 {CONFIRM_CHARS} 位确认 (type the last {CONFIRM_CHARS} characters to confirm): "
        )
    except EOFError:
        typed = ""
    if typed.strip() == tail:
        return True
    print("未确认，不布防，只观察不下单 (not confirmed: not armed, observe-only)", file=out, flush=True)
    return False


def arm_from_cli(terminal: Terminal, out: TextIO) -> LiveStatus:
    """Arm after a confirmed `--arm` (who: cli); prints the state."""
    status = terminal.arm(by="cli")
    print(status.describe(), file=out, flush=True)
    return status


def print_status(
    settings: Settings, secrets: SecretStore, out: TextIO, *, now: datetime | None = None
) -> int:
    """`python -m app status`: the mode, the live state and the live audit's last rows."""
    from app.doctor import check_live_trading, current_database

    line = check_live_trading(settings, secrets, now)
    print(f"模式 (mode): {settings.general.mode}", file=out)
    print(line.detail, file=out)
    if settings.general.mode != "live":
        return 0
    path = current_database(settings, secrets)
    if path is None or not path.exists():
        print("实盘数据库尚未创建 (the live database does not exist yet)", file=out)
        return 0
    from app.storage.integrity import read_only_uri

    immutable = not any(path.with_name(path.name + s).exists() for s in ("-wal", "-journal"))
    conn = sqlite3.connect(read_only_uri(path, immutable=immutable), uri=True, timeout=1.0)
    try:
        rows = conn.execute(
            "SELECT ts, who, action, detail FROM live_audit ORDER BY id DESC LIMIT 10"
        ).fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        conn.close()
    print(
        "实盘审计，最近 10 条 (live audit, the last 10):"
        if rows
        else "实盘审计为空 (the live audit is empty)",
        file=out,
    )
    for ts, who, action, detail in reversed(rows):
        print(f"  {ts} {who} {action} {detail}", file=out)
    return 0
