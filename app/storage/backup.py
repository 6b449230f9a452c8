"""Online backups through SQLite's backup API (ARCHITECTURE.md: a backup is taken daily).

`sqlite3.Connection.backup` copies a consistent snapshot while the database stays open and in
WAL mode. The copy is written to a ".partial" file, switched to a single-file journal mode,
integrity-checked, and only then renamed to its final name: a backup that exists is a good one.
"""

from __future__ import annotations

import os
import re
import sqlite3
from datetime import datetime
from pathlib import Path

from app.storage.errors import BackupExistsError, StorageBugError, translate_os_error, translate_sqlite_error
from app.storage.integrity import corrupt_error, describe_problems, quick_check

PARTIAL_SUFFIX = ".partial"


def backup_file_name(stem: str, now: datetime) -> str:
    """`<stem>-YYYYMMDD-HHMMSS.db`, from the caller's clock (local time reads best in a file list)."""
    return f"{stem}-{now:%Y%m%d-%H%M%S}.db"


def _backup_name_pattern(stem: str) -> re.Pattern[str]:
    return re.compile(re.escape(stem) + r"-\d{8}-\d{6}\.db")


def check_keep(keep: int) -> None:
    if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
        raise ValueError(f"keep must be an int of at least 1, was {keep!r}")


def copy_database(source: sqlite3.Connection, source_path: Path, dest: Path) -> Path:
    """Write a checked, single-file copy of `source` to `dest`; never overwrites an existing file."""
    if source.in_transaction:
        raise StorageBugError(
            f"a backup inside an open transaction would copy uncommitted work of {source_path}",
            path=source_path,
        )
    if dest.resolve() == source_path.resolve():
        raise ValueError(f"a backup must not replace the database itself, was {dest}")
    if dest.exists():
        raise BackupExistsError(dest)
    partial = dest.with_name(dest.name + PARTIAL_SUFFIX)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)  # left by an interrupted backup
    except OSError as exc:
        raise translate_os_error(exc, path=dest) from exc
    try:
        _write_checked_copy(source, source_path, partial)
        os.replace(partial, dest)
    except BaseException as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, sqlite3.Error):
            raise translate_sqlite_error(exc, path=dest) from exc
        if isinstance(exc, OSError):
            raise translate_os_error(exc, path=dest) from exc
        raise
    return dest


def _write_checked_copy(source: sqlite3.Connection, source_path: Path, partial: Path) -> None:
    target = sqlite3.connect(partial, isolation_level=None)
    try:
        source.backup(target)
        # The copied header says WAL; a backup should be one self-contained file.
        target.execute("PRAGMA journal_mode = DELETE").fetchone()
        problems = quick_check(target)
        if problems:
            raise corrupt_error(source_path, f"the backup copy {describe_problems(problems)}")
    finally:
        target.close()


def prune_backups(folder: Path, stem: str, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups of the database `stem`; other files are left alone."""
    check_keep(keep)
    pattern = _backup_name_pattern(stem)
    try:
        ours = sorted(
            (entry for entry in folder.iterdir() if entry.is_file() and pattern.fullmatch(entry.name)),
            key=lambda entry: entry.name,  # the timestamp in the name sorts oldest first
        )
        removed = ours[: max(len(ours) - keep, 0)]
        for old in removed:
            old.unlink()
    except OSError as exc:
        raise translate_os_error(exc, path=folder) from exc
    return removed
