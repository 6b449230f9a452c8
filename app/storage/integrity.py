"""Look at an existing database file without changing it (ARCHITECTURE.md: integrity check at start).

The check runs on a separate read-only connection (`mode=ro`), before the real connection turns on
WAL or migrates anything: a read-write connection that closes after finding damage could still
checkpoint a WAL into the damaged file, and a damaged file must stay byte for byte as it was so the
user (or a recovery tool) can still rescue it. PRAGMA quick_check walks every b-tree page, so it
finds damaged or missing pages; it does not checksum the values stored in rows.
"""

from __future__ import annotations

import sqlite3
import struct
from dataclasses import dataclass
from pathlib import Path

from app.storage.errors import (
    SQLITE_CORRUPT,
    SQLITE_NOTADB,
    DatabaseCorruptError,
    DatabaseMissingError,
    NotATillerDatabaseError,
    SchemaTooNewError,
    StorageError,
    translate_os_error,
    translate_sqlite_error,
)
from app.storage.paths import backup_dir

# https://www.sqlite.org/fileformat.html#the_database_header
SQLITE_HEADER_MAGIC = b"SQLite format 3\x00"
# SQLITE_READONLY_ROLLBACK: a crash left a hot rollback journal that only a writer may replay.
SQLITE_READONLY_ROLLBACK = 776
_JOURNAL_SUFFIXES = ("-wal", "-journal")
WAL_HEADER_SIZE = 32
WAL_MAGIC = (0x377F0682, 0x377F0683)
WAL_FORMAT_VERSION = 3007000
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
    """The file must start with the SQLite magic string, or it is not a database at all.

    An empty file is refused too: Tiller creates a database whole (see database.py) and never
    leaves an empty one behind, so zero bytes where a database should be means its content was
    lost (a disk or sync tool cut it off), and silently starting over would hide that."""
    try:
        with path.open("rb") as file:
            head = file.read(len(SQLITE_HEADER_MAGIC))
    except OSError as exc:
        raise translate_os_error(exc, path=path) from exc
    if not head:
        raise corrupt_error(path, "the file is empty (0 bytes): whatever it held is gone")
    if head != SQLITE_HEADER_MAGIC:
        raise corrupt_error(
            path, f"file is not a database (the first bytes are {head[:16]!r}, not a SQLite header)"
        )
    check_wal_header(path)


def _wal_checksum(data: bytes, big_endian: bool) -> tuple[int, int]:
    # https://www.sqlite.org/fileformat.html#checksum_algorithm
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    s0 = s1 = 0
    for index in range(0, len(words), 2):
        s0 = (s0 + words[index] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[index + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def check_wal_header(path: Path) -> None:
    """A write-ahead log beside the file must carry a valid WAL header, or it is damaged.

    SQLite itself ignores a log whose header is bad (and a writer would then reset it): the
    transactions in it would be lost without a word. An empty log is normal (after a checkpoint);
    frames that end early are normal too (a crash mid-write), SQLite stops at the last good one."""
    wal = _sidecar(path, "-wal")
    try:
        if not wal.is_file():
            return
        with wal.open("rb") as file:
            header = file.read(WAL_HEADER_SIZE)
    except OSError as exc:
        raise translate_os_error(exc, path=wal) from exc
    if not header:
        return
    problem = ""
    if len(header) < WAL_HEADER_SIZE:
        problem = f"it is {len(header)} bytes, shorter than a WAL header"
    else:
        magic, version, page_size, _, _, _, check0, check1 = struct.unpack(">8I", header)
        if magic not in WAL_MAGIC:
            problem = f"it does not start with a WAL header (magic {magic:#010x})"
        elif version != WAL_FORMAT_VERSION:
            problem = f"unknown WAL format version {version}"
        elif page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
            problem = f"impossible page size {page_size}"
        elif _wal_checksum(header[:24], big_endian=bool(magic & 1)) != (check0, check1):
            problem = "the checksum of its header does not match"
    if problem:
        raise corrupt_error(path, f"the write-ahead log beside it ({wal.name}) is damaged: {problem}")


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


def refuse_unusable(
    path: Path, facts: FileFacts, *, known_version: int, application_id: int, create: bool
) -> None:
    """Refuse, before anything is written, a file Tiller must not touch or cannot use.

    `application_id` is the PRAGMA application_id of the kind of file expected (0 is accepted
    too: a file from before the id was set, or a brand-new one)."""
    if facts.user_version > known_version:
        raise SchemaTooNewError(path, facts.user_version, known_version)
    if facts.application_id not in (0, application_id):
        raise NotATillerDatabaseError(path, f"its application_id is {facts.application_id:#x}")
    if facts.user_version == 0 and facts.schema_object_count > 0:
        raise NotATillerDatabaseError(path, f"it already holds {facts.schema_object_count} tables or indexes")
    if facts.user_version == 0 and not create:
        # Only a header and no page (how SQLite sees a brand-new database): nothing to lose, so
        # create=True initialises it, while create=False treats it as missing.
        raise DatabaseMissingError(
            path, reason="holds no Tiller data yet", reason_zh="还没有任何 Tiller 数据"
        )


def check_existing_file(
    path: Path, *, known_version: int, application_id: int, require_id: bool, timeout: float = 5.0
) -> FileFacts | None:
    """The whole check of an existing file, on a read-only connection: it never changes the file.

    Raises a KnownStorageError for a damaged file (DatabaseCorruptError), one of another program
    or kind (NotATillerDatabaseError), one from a newer Tiller (SchemaTooNewError), and
    DatabaseMissingError for a SQLite file that holds nothing yet. `require_id`: a file with a
    schema version must also carry `application_id`. Returns None when a crash left a hot
    rollback journal that only a writer may replay (the writer checks again after it)."""
    facts = inspect_file(path, timeout=timeout)
    if facts is None:
        return None
    refuse_unusable(path, facts, known_version=known_version, application_id=application_id, create=False)
    if require_id and facts.application_id != application_id:
        raise NotATillerDatabaseError(path, "it has a schema version but not the application_id expected")
    return facts
