"""Transactions and error translation on a sqlite3 connection (qutebrowser's sql.Transaction).

Connections are opened with `isolation_level=None`, so Python's sqlite3 never starts a
transaction behind our back; every write that must be atomic runs inside `sqlite_transaction`.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from app.storage.errors import translate_sqlite_error


def rollback_quietly(conn: sqlite3.Connection) -> None:
    # A failed statement may already have ended the transaction; ROLLBACK must not hide the cause.
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


@contextmanager
def translated_errors(*, path: Path | None = None) -> Iterator[None]:
    """Turn any sqlite3 error raised inside into a Known or Bug StorageError."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate_sqlite_error(exc, path=path) from exc


@contextmanager
def sqlite_transaction(conn: sqlite3.Connection, *, path: Path | None = None) -> Iterator[None]:
    """Commit if the block ends normally, roll back on any exception; sqlite3 errors are translated.

    The outermost block is BEGIN IMMEDIATE: the write lock is taken up front, so a busy database
    fails at the start (after the busy timeout) instead of halfway through. A nested block is a
    SAVEPOINT, so an inner failure undoes only the inner work.
    """
    with translated_errors(path=path):
        if conn.in_transaction:
            yield from _savepoint(conn)
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            rollback_quietly(conn)
            raise
        try:
            conn.execute("COMMIT")
        except BaseException:
            rollback_quietly(conn)
            raise


def _savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    name = f"tiller_{secrets.token_hex(8)}"
    conn.execute(f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        # An error such as RAISE(ROLLBACK) may have ended the whole transaction, savepoint included.
        if conn.in_transaction:
            conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
            conn.execute(f"RELEASE SAVEPOINT {name}")
        raise
    conn.execute(f"RELEASE SAVEPOINT {name}")
