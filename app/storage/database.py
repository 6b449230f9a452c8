"""Open a Tiller database: check it, configure the connection, migrate it (ARCHITECTURE.md, Persistence).

Threads: the connection keeps sqlite3's default `check_same_thread=True`. The engine thread calls
`open_database` and is then the only thread that uses the returned `Database` (ARCHITECTURE.md,
Threads: one writer, the engine thread); another thread touching it gets an error, not a race.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Final

from app.storage import schema
from app.storage.backup import backup_file_name, check_keep, copy_database, prune_backups
from app.storage.errors import (
    DatabaseAccessError,
    DatabaseMissingError,
    KnownStorageError,
    NotATillerDatabaseError,
    StorageBugError,
    translate_os_error,
    translate_sqlite_error,
)
from app.storage.integrity import (
    FileFacts,
    inspect_connection,
    inspect_file,
    read_only_uri,
    refuse_unusable,
)
from app.storage.meta import Meta
from app.storage.paths import backup_dir
from app.storage.transactions import sqlite_transaction, translated_errors

if TYPE_CHECKING:
    import sqlite_utils

# synchronous=NORMAL in WAL mode: a committed transaction survives a crash of the process (it is in
# the WAL, which the OS holds), and the file is never corrupted; only a power cut or OS crash may
# lose the last few commits. Orders are safe even then, because on restart every intent is
# resolved against the broker's own order list (ARCHITECTURE.md invariant 1). FULL syncs the WAL at
# every commit (survives a power cut too) at the cost of one fsync per commit.
SYNCHRONOUS_MODES: Final = frozenset({"NORMAL", "FULL"})
DEFAULT_BUSY_TIMEOUT_SECONDS: Final = 5.0
# STRICT tables (schema.py) need SQLite 3.37.
MIN_SQLITE_VERSION: Final = (3, 37, 0)
# A new database is made under this suffix and moved into place whole (see _create_whole).
CREATING_SUFFIX: Final = ".creating"
SIDECARS: Final = ("-wal", "-shm", "-journal")


class Database:
    """An open Tiller database: `conn` the sqlite3 connection, `db` a sqlite-utils wrapper of it.

    The wrapper is made on first use only: sqlite-utils imports pandas and numpy wherever they are
    installed (about half a second and 50 MiB), and nothing on the engine's path needs it."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, read_only: bool) -> None:
        self.conn = conn
        self.path = path
        self.read_only = read_only
        self._db: sqlite_utils.Database | None = None

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn, execute_plugins=False)
        return self._db

    @property
    def schema_version(self) -> int:
        with translated_errors(path=self.path):
            return schema.read_user_version(self.conn)

    @property
    def journal_mode(self) -> str:
        with translated_errors(path=self.path):
            return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0])

    @property
    def backup_folder(self) -> Path:
        return backup_dir(self.path.parent)

    def transaction(self) -> AbstractContextManager[Database]:
        """Same as `transaction(database)`."""
        return transaction(self)

    def backup(self, dest: Path | None = None, *, now: datetime | None = None, keep: int = 10) -> Path:
        """Copy the open database to `dest`, by default `<data_dir>/backups/<stem>-YYYYMMDD-HHMMSS.db`.

        `now` names the default file and comes from the caller's Clock. With the default
        destination, only the newest `keep` backups of this database are kept.
        """
        check_keep(keep)
        if dest is None:
            if now is None:
                raise ValueError("now is required to name a backup in the default folder, was None")
            copied = copy_database(
                self.conn, self.path, self.backup_folder / backup_file_name(self.path.stem, now)
            )
            prune_backups(self.backup_folder, self.path.stem, keep)
            return copied
        return copy_database(self.conn, self.path, Path(dest))

    def close(self) -> None:
        """Close the connection; in WAL mode the last close folds the WAL back into the file."""
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Database {self.path} read_only={self.read_only}>"


@contextmanager
def transaction(database: Database) -> Iterator[Database]:
    """Commit the block's writes together or not at all; sqlite3 errors become StorageErrors."""
    with sqlite_transaction(database.conn, path=database.path):
        yield database


def open_database(
    path: Path | str,
    *,
    create: bool = True,
    app_version: str | None = None,
    now: datetime | None = None,
    synchronous: str = "NORMAL",
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS,
    read_only: bool = False,
    migrations: Sequence[schema.Migration] | None = None,
) -> Database:
    """Open (or create) the database at `path`, check its integrity and bring its schema up to date.

    A damaged file raises DatabaseCorruptError and is left byte for byte as it was; so is a file
    from a newer Tiller (SchemaTooNewError) or from another program (NotATillerDatabaseError).
    `read_only=True` opens an existing database for reading only (never created or migrated),
    e.g. to inspect a backup. `now` is recorded as the first start (default: the wall clock).
    `migrations` defaults to schema.MIGRATIONS; tests pass their own list.
    """
    path = Path(path)
    _check_arguments(synchronous=synchronous, busy_timeout=busy_timeout, now=now)
    migrations = schema.MIGRATIONS if migrations is None else migrations
    known_version = schema.latest_version(migrations)
    create = create and not read_only

    if not _is_existing_file(path):
        if not create:
            raise DatabaseMissingError(path)
        _create_whole(path, synchronous=synchronous, busy_timeout=busy_timeout, migrations=migrations)
    facts: FileFacts | None = inspect_file(path, timeout=busy_timeout)
    if facts is not None:
        _refuse_unusable(path, facts, known_version, create=create)

    conn = _connect(path, read_only=read_only, busy_timeout=busy_timeout)
    try:
        if facts is None:
            # A hot rollback journal: the read-write connection replays it, then we check.
            facts = inspect_connection(conn, path)
            _refuse_unusable(path, facts, known_version, create=create)
        with translated_errors(path=path):
            _configure(conn, path, read_only=read_only, synchronous=synchronous)
            database = Database(conn, path, read_only=read_only)
        if not read_only:
            schema.upgrade(database, migrations, path=path)
            Meta(database).record_start(now=now or datetime.now(UTC), app_version=app_version)
    except BaseException:
        conn.close()
        raise
    return database


def _create_whole(
    path: Path, *, synchronous: str, busy_timeout: float, migrations: Sequence[schema.Migration]
) -> None:
    """Create a new database under a temporary name, with its schema, then move it into place.

    So a crash never leaves a half-made (e.g. empty) file at `path`, and an empty file there can
    only mean lost content (integrity.check_header refuses it). A leftover of a crashed creation
    is removed; the move never replaces a file that appeared meanwhile."""
    temporary = path.with_name(path.name + CREATING_SUFFIX)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (temporary, *(temporary.with_name(temporary.name + s) for s in SIDECARS)):
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise translate_os_error(exc, path=path.parent) from exc
    conn = _connect(temporary, read_only=False, busy_timeout=busy_timeout)
    try:
        with translated_errors(path=temporary):
            _configure(conn, temporary, read_only=False, synchronous=synchronous)
        schema.upgrade(Database(conn, temporary, read_only=False), migrations, path=temporary)
    finally:
        conn.close()  # the last close folds the WAL into the file and removes it
    try:
        _move_into_place(temporary, path)
    except OSError as exc:
        raise translate_os_error(exc, path=path) from exc


def _move_into_place(source: Path, target: Path) -> None:
    if os.name == "nt":
        os.rename(source, target)  # Windows: fails, never replaces, if target exists
        return
    try:
        os.link(source, target)  # fails if target exists; then the other file wins
    except FileExistsError:
        source.unlink()
        return
    except OSError:
        os.rename(source, target)  # a file system without hard links
    else:
        source.unlink()
    with contextlib.suppress(OSError):  # make the new name itself durable
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def _check_arguments(*, synchronous: str, busy_timeout: float, now: datetime | None) -> None:
    if synchronous not in SYNCHRONOUS_MODES:
        raise ValueError(f"synchronous must be one of {sorted(SYNCHRONOUS_MODES)}, was {synchronous!r}")
    if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, int | float) or busy_timeout <= 0:
        raise ValueError(f"busy_timeout must be a positive number of seconds, was {busy_timeout!r}")
    if now is not None and now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware (it is stored as the first start), was {now!r}")
    if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
        raise StorageBugError(
            f"Tiller needs SQLite {'.'.join(map(str, MIN_SQLITE_VERSION))} or newer, "
            f"was {sqlite3.sqlite_version}"
        )


def _is_existing_file(path: Path) -> bool:
    try:
        if not path.exists():
            return False
        if not path.is_file():
            raise DatabaseAccessError(
                f"数据库路径 {path} 不是一个文件（可能是文件夹）。\n"
                f"The database path {path} is not a file (perhaps a folder).",
                path=path,
            )
        return True
    except OSError as exc:
        raise translate_os_error(exc, path=path) from exc


def _refuse_unusable(path: Path, facts: FileFacts, known_version: int, *, create: bool) -> None:
    """Refuse, before anything is written, a file Tiller must not touch or cannot use."""
    refuse_unusable(
        path, facts, known_version=known_version, application_id=schema.TILLER_APPLICATION_ID, create=create
    )
    if facts.user_version > 0 and facts.application_id != schema.TILLER_APPLICATION_ID:
        raise NotATillerDatabaseError(path, "it has a schema version but no Tiller application_id")


def _connect(path: Path, *, read_only: bool, busy_timeout: float) -> sqlite3.Connection:
    # isolation_level=None: no implicit BEGIN from the sqlite3 module; transactions are explicit.
    try:
        if read_only:
            return sqlite3.connect(read_only_uri(path), uri=True, timeout=busy_timeout, isolation_level=None)
        return sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, path=path) from exc


def _configure(conn: sqlite3.Connection, path: Path, *, read_only: bool, synchronous: str) -> None:
    conn.execute("PRAGMA foreign_keys = ON")
    if not read_only:
        journal_mode = str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        if journal_mode.lower() != "wal":
            raise KnownStorageError(
                f"数据库 {path} 所在的磁盘不支持 WAL 日志模式（journal_mode 为 {journal_mode}），"
                "请把数据目录放在本地磁盘上。\n"
                f"The disk holding {path} does not support WAL mode (journal_mode stayed {journal_mode}); "
                "put the data folder on a local disk.",
                path=path,
            )
    conn.execute(f"PRAGMA synchronous = {synchronous}")


__all__ = ["SYNCHRONOUS_MODES", "Database", "open_database", "transaction"]
