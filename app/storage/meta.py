"""App metadata in the `meta` table: first start, app version, counters.

The schema version is not a row here: it is `PRAGMA user_version`, moved only by migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from app.storage.schema import read_user_version
from app.storage.transactions import sqlite_transaction, translated_errors

if TYPE_CHECKING:
    from app.storage.database import Database

FIRST_START = "first_start"
LAST_START = "last_start"
APP_VERSION = "app_version"


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not key.strip():
        raise ValueError(f"a meta key must be a non-empty string, was {key!r}")


class Meta:
    """Key/value metadata of one database; use it on the thread that owns the database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def get(self, key: str, default: str | None = None) -> str | None:
        _check_key(key)
        with translated_errors(path=self._database.path):
            row = self._database.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else row[0]

    def set(self, key: str, value: str) -> None:
        _check_key(key)
        if not isinstance(value, str):
            raise TypeError(
                f"a meta value must be a str (format it first), was {type(value).__name__} {value!r}"
            )
        with sqlite_transaction(self._database.conn, path=self._database.path):
            self._database.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def increment(self, key: str, *, by: int = 1) -> int:
        """Add `by` to an integer counter (missing counts as 0) and return the new value, atomically."""
        _check_key(key)
        if isinstance(by, bool) or not isinstance(by, int) or by < 1:
            raise ValueError(f"a counter must grow by a positive int, was {by!r}")
        with sqlite_transaction(self._database.conn, path=self._database.path):
            current = self.get(key, "0")
            if current is None or not current.isdigit():
                raise ValueError(f"meta {key!r} is not a counter, its value was {current!r}")
            new_value = int(current) + by
            self.set(key, str(new_value))
        return new_value

    @property
    def schema_version(self) -> int:
        with translated_errors(path=self._database.path):
            return read_user_version(self._database.conn)

    @property
    def first_start(self) -> datetime | None:
        text = self.get(FIRST_START)
        return None if text is None else datetime.fromisoformat(text)

    def record_start(self, *, now: datetime, app_version: str | None) -> None:
        """At every open: the first start (once), the last start, the app version that opened it last.

        Writing at every open also makes a file that cannot be written (read-only file or folder)
        fail here, with a clear error, rather than at the first order.
        """
        with sqlite_transaction(self._database.conn, path=self._database.path):
            if self.get(FIRST_START) is None:
                self.set(FIRST_START, now.isoformat())
            self.set(LAST_START, now.isoformat())
            if app_version is not None:
                self.set(APP_VERSION, app_version)
