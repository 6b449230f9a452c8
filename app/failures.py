"""What the user sees when a command fails (the command line's top-level handler, app/__main__.py).

Errors are sorted by who must act (freqtrade's exceptions, qutebrowser's crash handler):

- a **known** error is something the user can fix — a damaged or locked data file, a bad setting,
  a bad planned-order file, a missing file, a full disk. Its message says what happened and what
  to do; it is printed without a traceback, and the command exits with EXIT_KNOWN.
- anything else is **unexpected**: a bug in Tiller. One short line says so and where the log is;
  the command exits with EXIT_UNEXPECTED.

Either way the traceback goes to the log file only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

EXIT_KNOWN = 1
EXIT_UNEXPECTED = 70  # EX_SOFTWARE of BSD's sysexits: an internal error
EXIT_INTERRUPTED = 130

log = logging.getLogger("app.failures")


@dataclass(frozen=True, slots=True)
class Explanation:
    """A known error in plain words: what happened, and what to do (may be empty if the message says it)."""

    message: str
    advice: str = ""


def explain(exc: BaseException) -> Explanation | None:
    """The plain-words explanation of a known error, or None for an unexpected one (a bug)."""
    # Imported here: the command line loads only what the failing command needed.
    from app.clients.bigquant import BigQuantError
    from app.clients.planned_orders import PlannedOrdersError
    from app.config import SettingsError
    from app.devserver.server import DevServerError
    from app.feeds.errors import FeedError
    from app.gateways.qmt.errors import QmtError
    from app.gateways.sim.store import SimStoreError
    from app.resources import ResourceMissingError
    from app.secrets import SecretsError
    from app.storage.errors import KnownStorageError

    if isinstance(exc, KnownStorageError):  # damaged/foreign/newer file, account in use, disk full …
        return Explanation(str(exc))
    if isinstance(exc, SettingsError):
        return Explanation(
            f"设置有误 / settings error: {exc}",
            "请改正上面指出的设置项（设置文件、环境变量 TILLER__… 或 --set）后再运行。\n"
            "Fix the setting named above (in the settings file, a TILLER__ variable or --set) and run again.",
        )
    if isinstance(exc, PlannedOrdersError):
        return Explanation(
            f"计划订单有误 / planned orders error: {exc}",
            "请检查上面指出的计划订单文件或 BigQuant 的回应；没有下任何订单。\n"
            "Check the planned-order file or BigQuant response named above; no order was placed.",
        )
    if isinstance(exc, BigQuantError):
        return Explanation(
            f"从 BigQuant 获取信号失败 / fetching signals from BigQuant failed: {exc}",
            "没有下任何订单 (no order was placed)。\nNo order was placed.",
        )
    if isinstance(exc, DevServerError):
        return Explanation(f"开发服务器 / dev server: {exc}")
    if isinstance(exc, FeedError):
        return Explanation(
            f"行情数据有误 / market data error: {exc}",
            "请检查上面指出的行情文件。\nCheck the quotes file named above.",
        )
    if isinstance(exc, SimStoreError):
        return Explanation(
            f"模拟券商文件无法使用 / the simulated broker's file cannot be used: {exc}",
            "请把这个文件移到别处（Tiller 会新建一个模拟账户），或换一个数据目录。\n"
            "Move the file aside (Tiller then starts a new simulated account) or use another data folder.",
        )
    if isinstance(exc, SecretsError):
        return Explanation(f"error: {exc}")
    if isinstance(exc, QmtError):  # miniQMT not reachable, or it refused: the message says why
        return Explanation(f"QMT: {exc}")
    if isinstance(exc, ResourceMissingError):
        return Explanation(str(exc))
    if isinstance(exc, OSError) and exc.filename is not None:
        where = exc.filename if exc.filename2 is None else f"{exc.filename} → {exc.filename2}"
        reason = exc.strerror or str(exc)
        return Explanation(
            f"无法访问 {where}：{reason}\nCannot access {where}: {reason}",
            "请检查这个路径是否存在、是否有权限访问、磁盘是否已满。\n"
            "Check that the path exists, that you may access it, and that the disk is not full.",
        )
    return None


def report_failure(exc: BaseException, *, command: str, log_file: Path | None, stream: TextIO) -> int:
    """Log the traceback (file only), print the plain-words report on `stream`, return the exit code."""
    explanation = explain(exc)
    kind = "known error" if explanation is not None else "unexpected error"
    if log_file is not None:  # with no handler, logging's last resort would print the traceback
        log.error("%s failed (%s)", command, kind, exc_info=exc, extra={"console": False})
    where = str(log_file) if log_file is not None else "(没有日志 / no log file could be written)"
    if explanation is not None:
        text = explanation.message + (f"\n{explanation.advice}" if explanation.advice else "")
        print(text, file=stream)
        return EXIT_KNOWN
    summary = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    print(
        f"Tiller 出现了意外错误，命令 {command} 没有完成：{summary}\n"
        f"Tiller hit an unexpected error; the command {command} did not finish: {summary}\n"
        f"详情见日志 / details in the log: {where}\n"
        "这是 Tiller 的缺陷，请把这个日志文件附在问题报告里。/ This is a bug in Tiller: "
        "please attach that log file to a bug report.",
        file=stream,
    )
    return EXIT_UNEXPECTED


__all__ = ["EXIT_INTERRUPTED", "EXIT_KNOWN", "EXIT_UNEXPECTED", "Explanation", "explain", "report_failure"]
