"""SQLite storage through sqlite-utils: one file per account and mode, WAL, numbered migrations.

Use the returned `Database` only on the thread that opened it (the engine thread). Write prices
and money with `to_db` (sqlite-utils would turn a Decimal into a float) inside `transaction`.
"""

from app.storage.database import Database, open_database, transaction
from app.storage.errors import (
    BackupExistsError,
    DatabaseAccessError,
    DatabaseBusyError,
    DatabaseCorruptError,
    DatabaseMissingError,
    DatabaseReadOnlyError,
    DiskFullError,
    DiskIOError,
    KnownStorageError,
    NotATillerDatabaseError,
    OutOfMemoryError,
    SchemaTooNewError,
    StorageBugError,
    StorageError,
    translate_os_error,
    translate_sqlite_error,
)
from app.storage.meta import Meta
from app.storage.money import from_db, to_db
from app.storage.paths import backup_dir, database_path, default_data_dir
from app.storage.schema import MIGRATIONS, Migration

__all__ = [
    "MIGRATIONS",
    "BackupExistsError",
    "Database",
    "DatabaseAccessError",
    "DatabaseBusyError",
    "DatabaseCorruptError",
    "DatabaseMissingError",
    "DatabaseReadOnlyError",
    "DiskFullError",
    "DiskIOError",
    "KnownStorageError",
    "Meta",
    "Migration",
    "NotATillerDatabaseError",
    "OutOfMemoryError",
    "SchemaTooNewError",
    "StorageBugError",
    "StorageError",
    "backup_dir",
    "database_path",
    "default_data_dir",
    "from_db",
    "open_database",
    "to_db",
    "transaction",
    "translate_os_error",
    "translate_sqlite_error",
]
