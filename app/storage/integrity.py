"""Look at an existing database file without changing it (ARCHITECTURE.md: integrity check at start).

The check runs on a separate read-only connection (`mode=ro`), before the real connection turns on
WAL or migrates anything: a read-write connection that closes after finding damage could still
checkpoint a WAL into the damaged file, and a damaged file must stay byte for byte as it was so the
user (or a recovery tool) can still rescue it. PRAGMA quick_check walks every b-tree page, so it
finds damaged or missing pages; it does not checksum the values stored in rows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from app.storage.errors import (
    SQLITE_CORRUPT,
    SQLITE_NOTADB,
    DatabaseCorruptError,
    StorageError,
    translate_sqlite_error,
)
from app.storage.paths import backup_dir

# https://www.sqlite.org/fileformat.html#the_database_header
SQLITE_HEADER_MAGIC = b"SQLite format 3\x00"
# SQLITE_READONLY_ROLLBACK: a crash left a hot rollback journal that only a writer may replay.
SQLITE_READONLY_ROLLBACK = 776
_JOURNAL_SUFFIXES = ("-wal", "-journal")
_MAX_REPORTED_PROBLEMS = 5


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What an integrity-checked database file holds, read before anything is written."""

    page_count: int
    user_version: int
    application_id: int
    schema_object_count: int

    @property
    def is_empty(self) -> bool:
        return self.page_count == 0


def corrupt_error(path: Path, detail: str, exc: sqlite3.Error | None = None) -> DatabaseCorruptError:
    return DatabaseCorruptError(
        path,
        detail,
        backup_folder=backup_dir(path.parent),
        sqlite_errorcode=getattr(exc, "sqlite_errorcode", None),
        sqlite_errorname=getattr(exc, "sqlite_errorname", None),
    )


def check_header(path: Path) -> None:
    """A non-empty file must start with the SQLite magic string, or it is not a database at all."""
    with path.open("rb") as file:
        head = file.read(len(SQLITE_HEADER_MAGIC))
    if head and head != SQLITE_HEADER_MAGIC:
        raise corrupt_error(
            path, f"file is not a database (the first bytes are {head[:16]!r}, not a SQLite header)"
        )


def quick_check(conn: sqlite3.Connection) -> list[str]:
    """SQLite's PRAGMA quick_check: an empty list when the file is sound, else the problems found."""
    rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
    return [] if rows == ["ok"] else rows


def describe_problems(problems: list[str]) -> str:
    lines = [line for row in problems for line in row.splitlines() if line.strip()]
    shown = "; ".join(lines[:_MAX_REPORTED_PROBLEMS])
    more = len(lines) - _MAX_REPORTED_PROBLEMS
    return f"integrity check failed: {shown}" + (f" (and {more} more)" if more > 0 else "")


def inspect_connection(conn: sqlite3.Connection, path: Path) -> FileFacts:
    """Integrity-check an open connection and read the facts that decide how to open the file."""
    try:
        problems = quick_check(conn)
        if problems:
            raise corrupt_error(path, describe_problems(problems))
        return FileFacts(
            page_count=int(conn.execute("PRAGMA page_count").fetchone()[0]),
            user_version=int(conn.execute("PRAGMA user_version").fetchone()[0]),
            application_id=int(conn.execute("PRAGMA application_id").fetchone()[0]),
            schema_object_count=int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]),
        )
    except sqlite3.Error as exc:
        if (exc.sqlite_errorcode or 0) & 0xFF in (SQLITE_CORRUPT, SQLITE_NOTADB):
            raise corrupt_error(path, f"{exc.sqlite_errorname}: {exc}", exc) from exc
        raise translate_sqlite_error(exc, path=path) from exc


def read_only_uri(path: Path, *, immutable: bool = False) -> str:
    # immutable=1: SQLite neither locks the file nor creates -wal/-shm files next to it.
    return f"{path.resolve().as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def inspect_file(path: Path, *, timeout: float) -> FileFacts | None:
    """Check an existing file on a read-only connection; leaves the file's bytes as they were.

    Without a -wal or -journal file next to it, the file is complete and no connection is
    writing it, so it is read as immutable and nothing at all is created next to it (a refused
    file leaves the folder as it was). With one, SQLite must read it too, on a normal read-only
    connection. Returns None when only a writer can look at the file: a crash left a hot
    rollback journal, which SQLite replays (restoring the last committed state) on the first
    read-write access.
    """
    check_header(path)
    immutable = not any(_sidecar(path, suffix).exists() for suffix in _JOURNAL_SUFFIXES)
    try:
        conn = sqlite3.connect(
            read_only_uri(path, immutable=immutable), uri=True, timeout=timeout, isolation_level=None
        )
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, path=path) from exc
    try:
        return inspect_connection(conn, path)
    except StorageError as exc:
        if exc.sqlite_errorcode == SQLITE_READONLY_ROLLBACK:
            return None
        raise
    finally:
        conn.close()
