"""Storage errors, sorted by who must act (STYLE.md §2.4, qutebrowser's misc/sql.py).

- `KnownStorageError`: the user must do something (free disk space, close the other program,
  restore a backup). Its message is shown as is, in Chinese and English.
- `StorageBugError`: Tiller itself is wrong (bad SQL, a constraint the code broke). It is a crash
  with a report, never a dialog asking the user to fix it.

`translate_sqlite_error` does the sorting from SQLite's result codes, which Python 3.11 exposes as
`sqlite_errorcode` / `sqlite_errorname` (https://www.sqlite.org/rescode.html).
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

from app.storage.paths import backup_dir

# Primary result codes (the low byte of an extended code), https://www.sqlite.org/rescode.html
SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_NOMEM = 7
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26


def _which_file(path: Path | None) -> str:
    return str(path) if path is not None else "(数据库 / database)"


class StorageError(Exception):
    """Base of every error the storage layer raises."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        sqlite_errorcode: int | None = None,
        sqlite_errorname: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.sqlite_errorcode = sqlite_errorcode
        self.sqlite_errorname = sqlite_errorname


class KnownStorageError(StorageError):
    """A problem the user must act on; the message says what happened and what to do."""


class StorageBugError(StorageError):
    """A programming error in Tiller (bad SQL, a broken constraint): report it, do not ask the user."""


class DiskFullError(KnownStorageError):
    """SQLITE_FULL or ENOSPC."""


class DatabaseBusyError(KnownStorageError):
    """SQLITE_BUSY / SQLITE_LOCKED after the busy timeout: another program holds the file."""


class DatabaseReadOnlyError(KnownStorageError):
    """SQLITE_READONLY: the file, its folder or the connection is read-only."""


class DatabaseAccessError(KnownStorageError):
    """SQLITE_CANTOPEN / SQLITE_PERM / an OS permission error: the file cannot be opened at all."""


class DiskIOError(KnownStorageError):
    """SQLITE_IOERR: the disk failed to read or write."""


class OutOfMemoryError(KnownStorageError):
    """SQLITE_NOMEM."""


class DatabaseCorruptError(KnownStorageError):
    """The file is damaged or is not a SQLite database. Tiller never writes to such a file."""

    def __init__(
        self,
        path: Path | None,
        detail: str,
        *,
        backup_folder: Path | None = None,
        sqlite_errorcode: int | None = None,
        sqlite_errorname: str | None = None,
    ) -> None:
        where = _which_file(path)
        folder = str(backup_folder) if backup_folder is not None else "备份文件夹 / the backups folder"
        message = (
            f"数据库文件已损坏：{where}\n"
            f"SQLite 报告：{detail}\n"
            "Tiller 没有修改这个文件。\n"
            f"您可以：(1) 关闭 Tiller，从 {folder} 中取最新的备份复制回来替换它；"
            "或 (2) 把这个文件移到别处保存（便于排查），Tiller 下次启动时会新建一个空数据库。\n"
            "\n"
            f"The database file is damaged: {where}\n"
            f"SQLite said: {detail}\n"
            "Tiller did NOT modify this file.\n"
            f"What you can do: (1) close Tiller and restore the latest backup from {folder}; "
            "or (2) move this file aside (keep it for diagnosis) and Tiller will create a new, "
            "empty database at the next start."
        )
        super().__init__(
            message, path=path, sqlite_errorcode=sqlite_errorcode, sqlite_errorname=sqlite_errorname
        )
        self.detail = detail
        self.backup_folder = backup_folder


class DatabaseMissingError(KnownStorageError):
    """The database file does not exist (or is empty) and the caller asked not to create it."""

    def __init__(self, path: Path, reason: str = "does not exist", reason_zh: str = "不存在") -> None:
        message = (
            f"找不到数据库文件：{path}（{reason_zh}）。请检查数据目录和账户设置。\n"
            f"The database file {path} {reason}. Check the data folder and the account settings."
        )
        super().__init__(message, path=path)


class SchemaTooNewError(KnownStorageError):
    """The file's schema version is newer than this Tiller knows; the file is left untouched."""

    def __init__(self, path: Path, found_version: int, known_version: int) -> None:
        message = (
            f"数据库 {path} 是由更新版本的 Tiller 创建的（结构版本 {found_version}，"
            f"本版本最高支持 {known_version}）。请安装最新版 Tiller 再打开它。Tiller 没有修改这个文件。\n"
            f"The database {path} was made by a newer Tiller version (schema version {found_version}; "
            f"this version knows up to {known_version}). Install the newer Tiller to open it. "
            "Tiller did NOT modify this file."
        )
        super().__init__(message, path=path)
        self.found_version = found_version
        self.known_version = known_version


class NotATillerDatabaseError(KnownStorageError):
    """A valid SQLite file that belongs to some other program; Tiller will not write into it."""

    def __init__(self, path: Path, detail: str) -> None:
        message = (
            f"文件 {path} 是 SQLite 数据库，但不是 Tiller 的数据库（{detail}）。Tiller 没有修改它。"
            "请检查数据目录设置，或把这个文件移走。\n"
            f"The file {path} is a SQLite database but not a Tiller one ({detail}). "
            "Tiller did NOT modify it. Check the data folder setting, or move the file away."
        )
        super().__init__(message, path=path)


class BackupExistsError(KnownStorageError):
    """A backup file with the same name already exists; backups are never overwritten."""

    def __init__(self, path: Path) -> None:
        message = (
            f"备份文件已存在，不会覆盖：{path}\nA backup file already exists and is never overwritten: {path}"
        )
        super().__init__(message, path=path)


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF


def translate_sqlite_error(exc: sqlite3.Error, *, path: Path | None = None) -> StorageError:
    """Sort a sqlite3 error into a Known (user acts) or Bug (Tiller is wrong) storage error."""
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", None)
    primary = _primary_code(exc)
    where = _which_file(path)
    said = f"{name or type(exc).__name__}: {exc}"
    codes = {"path": path, "sqlite_errorcode": code, "sqlite_errorname": name}
    if primary == SQLITE_FULL:
        return DiskFullError(
            f"磁盘已满，无法写入数据库 {where}。请清理磁盘空间后重试。\n"
            f"The disk is full; cannot write the database {where}. Free some disk space and retry. ({said})",
            **codes,
        )
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return DatabaseBusyError(
            f"数据库 {where} 正被另一个程序占用（可能是另一个 Tiller 窗口）。请关闭它后重试。\n"
            f"The database {where} is locked by another program (perhaps another Tiller window). "
            f"Close it and retry. ({said})",
            **codes,
        )
    if primary == SQLITE_READONLY:
        return DatabaseReadOnlyError(
            f"数据库 {where} 是只读的，无法写入。请检查文件和所在文件夹的权限（以及是否被设为只读）。\n"
            f"The database {where} is read-only; cannot write to it. Check the permissions of the "
            f"file and its folder. ({said})",
            **codes,
        )
    if primary in (SQLITE_CANTOPEN, SQLITE_PERM):
        return DatabaseAccessError(
            f"无法打开数据库 {where}。请检查路径是否存在、是否有访问权限。\n"
            f"Cannot open the database {where}. Check that the folder exists and that you may "
            f"access it. ({said})",
            **codes,
        )
    if primary == SQLITE_IOERR:
        return DiskIOError(
            f"读写数据库 {where} 时磁盘出错。请检查磁盘（或 U 盘、网络盘是否已断开）。\n"
            f"A disk error occurred reading or writing the database {where}. Check the disk "
            f"(or whether a removable or network drive went away). ({said})",
            **codes,
        )
    if primary == SQLITE_NOMEM:
        return OutOfMemoryError(
            f"内存不足，无法访问数据库 {where}。请关闭其他程序后重试。\n"
            f"Out of memory while using the database {where}. Close other programs and retry. ({said})",
            **codes,
        )
    if primary in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return DatabaseCorruptError(
            path,
            said,
            backup_folder=None if path is None else backup_dir(path.parent),
            sqlite_errorcode=code,
            sqlite_errorname=name,
        )
    # SQLITE_ERROR (syntax, no such table), SQLITE_CONSTRAINT, SQLITE_MISUSE, SQLITE_RANGE, and the
    # code-less ProgrammingError/InterfaceError (closed connection, wrong thread, bad parameters).
    return StorageBugError(f"Storage bug on {where}: {said}", **codes)


def translate_os_error(exc: OSError, *, path: Path | None = None) -> KnownStorageError:
    """Sort an OS error met around the database files (folders, backups) into a Known error."""
    where = str(path) if path is not None else str(exc.filename or "")
    said = f"{type(exc).__name__}: {exc}"
    if exc.errno == errno.ENOSPC:
        return DiskFullError(
            f"磁盘已满，无法写入 {where}。请清理磁盘空间后重试。\n"
            f"The disk is full; cannot write {where}. Free some disk space and retry. ({said})",
            path=path,
        )
    if exc.errno == errno.EROFS:
        return DatabaseReadOnlyError(
            f"{where} 所在的磁盘是只读的。\nThe disk holding {where} is read-only. ({said})", path=path
        )
    if isinstance(exc, PermissionError):
        return DatabaseAccessError(
            f"没有权限访问 {where}。请检查文件和文件夹的权限。\n"
            f"No permission to access {where}. Check the permissions of the file and its folder. ({said})",
            path=path,
        )
    return KnownStorageError(
        f"访问 {where} 时出错。\nAn error occurred accessing {where}. ({said})", path=path
    )
