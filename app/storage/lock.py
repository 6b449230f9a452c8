"""One process per account and mode (ARCHITECTURE.md invariant 9), enforced by an OS file lock.

The lock is taken on `<database stem>.lock` beside the database, before any database file of the
account is opened, and held for the whole session. It is the operating system's own lock on an
open file — `fcntl.flock` on Linux and macOS, `msvcrt.locking` on Windows — so it goes away
with the process, however the process ends (SIGKILL, TerminateProcess, a power cut): nothing
stale is ever left to clean up, and the lock file itself is never deleted (deleting it would
let a third process lock a new file while the second still holds the old one).

After taking the lock, the owner writes who it is (pid, host, start time, command) into the lock
file, so a refused process can say which one holds the account. On Windows the locked byte lies
far past that text, because a locked range cannot even be read by another process.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from app.storage.errors import KnownStorageError, translate_os_error

LOCK_SUFFIX: Final = ".lock"
# Windows locks a byte range; this one lies far beyond the owner text, which stays readable.
_WINDOWS_LOCK_OFFSET: Final = 1 << 30
_MAX_OWNER_BYTES: Final = 4096


def lock_path_for(database: Path) -> Path:
    """The lock file of the account and mode whose database is `database`."""
    return Path(database).with_suffix(LOCK_SUFFIX)


@dataclass(frozen=True, slots=True)
class LockOwner:
    """What the process holding a lock wrote about itself; every field may be missing."""

    pid: int | None
    host: str
    started: str
    command: str

    def describe(self) -> str:
        pid = "unknown" if self.pid is None else str(self.pid)
        parts = [f"pid {pid}"]
        if self.host:
            parts.append(f"host {self.host}")
        parts.append(f"started {self.started or 'unknown (it is still starting)'}")
        if self.command:
            parts.append(f"command: {self.command}")
        return ", ".join(parts)


class AccountInUseError(KnownStorageError):
    """Another process holds the account's lock; this one must not open any of its files."""

    def __init__(self, lock_file: Path, account: str, mode: str, owner: LockOwner) -> None:
        pid = "未知" if owner.pid is None else str(owner.pid)
        message = (
            f"账户 {account}（{mode}）正由另一个 Tiller 进程使用：进程号 {pid}，"
            f"启动于 {owner.started or '未知'}。同一账户同一模式只能运行一个 Tiller。"
            "请关闭那个 Tiller（或等它结束）后再试；本进程没有打开也没有修改任何数据文件。\n"
            f"Account {account} ({mode}) is in use by another Tiller process ({owner.describe()}). "
            "Only one Tiller may run per account and mode: close that one (or wait for it to end), "
            f"then try again. This process opened and changed none of the data files. (lock: {lock_file})"
        )
        super().__init__(message, path=lock_file)
        self.owner = owner
        self.account = account
        self.mode = mode


def _lock(fd: int) -> bool:
    """Try to lock without waiting; False when another open file holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        # flock, not fcntl/lockf: its lock belongs to this open file, so closing some other
        # descriptor of the same file elsewhere in the process does not drop it.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


def read_owner(lock_file: Path) -> LockOwner | None:
    """Who last held (or holds) the lock, as it wrote itself down; None if nothing readable."""
    try:
        with Path(lock_file).open("rb") as file:
            raw = file.read(_MAX_OWNER_BYTES)
    except OSError:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    pid = data.get("pid")
    return LockOwner(
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        host=str(data.get("host", "")),
        started=str(data.get("started", "")),
        command=str(data.get("command", "")),
    )


def is_locked(lock_file: Path) -> bool:
    """Whether some process holds the lock now (checked by trying it; nothing is written)."""
    lock_file = Path(lock_file)
    if not lock_file.exists():
        return False
    try:
        fd = os.open(lock_file, os.O_RDWR | getattr(os, "O_BINARY", 0))
    except OSError:
        return False
    try:
        if _lock(fd):
            _unlock(fd)
            return False
        return True
    finally:
        os.close(fd)


def _command_line() -> str:
    if not sys.argv:
        return ""
    program = Path(sys.argv[0]).name
    if program == "__main__.py":  # python -m app
        program = "python -m app"
    return " ".join([program, *sys.argv[1:]])[:500]


class AccountLock:
    """The held lock of one account and mode; `release()` (or the process's end) frees it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            _unlock(fd)
        except OSError:
            pass  # closing the file releases it all the same
        finally:
            os.close(fd)

    def __enter__(self) -> AccountLock:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<AccountLock {self.path} held={self.held}>"


def acquire_account_lock(database: Path, *, account: str, mode: str, now: datetime) -> AccountLock:
    """Take the lock of the account and mode whose database is `database`, or raise AccountInUseError.

    `now` (aware, the wall clock of the composition root) is written as the start time. Only the
    lock file is opened (created if missing); a refused call writes nothing anywhere."""
    if now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware, was {now!r}")
    lock_file = lock_path_for(database)
    try:
        lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
    except OSError as exc:
        raise translate_os_error(exc, path=lock_file) from exc
    try:
        if not _lock(fd):
            owner = read_owner(lock_file) or LockOwner(None, "", "", "")
            raise AccountInUseError(lock_file, account, mode, owner)
        owner_text = json.dumps(
            {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": now.isoformat(timespec="seconds"),
                "command": _command_line(),
            },
            ensure_ascii=False,
        ).encode("utf-8")
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, owner_text)
        os.fsync(fd)
    except AccountInUseError:
        os.close(fd)
        raise
    except OSError as exc:
        os.close(fd)
        raise translate_os_error(exc, path=lock_file) from exc
    return AccountLock(lock_file, fd)


__all__ = [
    "LOCK_SUFFIX",
    "AccountInUseError",
    "AccountLock",
    "LockOwner",
    "acquire_account_lock",
    "is_locked",
    "lock_path_for",
    "read_owner",
]
