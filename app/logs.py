"""Tiller's log file: `<data_dir>/logs/tiller.log`, rotated, kept after a crash.

The console gets only errors, and never a traceback: a traceback is for the log (and for whoever
reads it to fix a bug), the console is for the user. Records logged with `extra={"console":
False}` go to the file only (the command line's error handler uses it for the traceback it has
already explained in plain words).
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
LOG_FILE_NAME = "tiller.log"
_MAX_BYTES = 5_000_000
_BACKUPS = 5


class ConsoleFormatter(logging.Formatter):
    """The message line only: no traceback, no stack."""

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return super().format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def _for_console(record: logging.LogRecord) -> bool:
    return bool(getattr(record, "console", True))


def log_file_in(data_dir: Path) -> Path:
    return Path(data_dir) / "logs" / LOG_FILE_NAME


def configure_logging(data_dir: Path, *, level: str = "INFO", console_level: int = logging.ERROR) -> Path:
    """Log to <data_dir>/logs/tiller.log; only errors, without traceback, to the console.

    Calling it again replaces Tiller's handlers (e.g. once the settings are known). Secrets never
    reach a log: none are in Settings, and nothing logs the keyring's values."""
    path = log_file_in(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
    )
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in list(root.handlers):
        if getattr(handler, "_tiller", False):
            root.removeHandler(handler)
            handler.close()
    file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
    console = logging.StreamHandler()
    console.setLevel(console_level)
    console.setFormatter(ConsoleFormatter(LOG_FORMAT))
    console.addFilter(_for_console)
    for handler in (file_handler, console):
        handler._tiller = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    return path


def current_log_file() -> Path | None:
    """The file Tiller logs to now, if logging is configured."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "_tiller", False) and isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


__all__ = ["LOG_FORMAT", "ConsoleFormatter", "configure_logging", "current_log_file", "log_file_in"]
