"""One process per account and mode (ARCHITECTURE.md invariant 9): a second Tiller on the same data
folder is refused, names the first, and touches nothing; the lock dies with its process."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.bootstrap import build_sim_setup
from app.config import Settings
from app.feeds.universe import InstrumentSpec
from app.storage import DatabaseCorruptError
from app.storage.lock import (
    AccountInUseError,
    acquire_account_lock,
    is_locked,
    lock_path_for,
    read_owner,
)
from tests.helpers.data_files import BROKER, DATABASE, REPO, app_env, copy_folder, file_hashes, run_app

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
HOLDER = """
import sys
from datetime import UTC, datetime
from pathlib import Path
from app.storage.lock import acquire_account_lock
lock = acquire_account_lock(Path(sys.argv[1]), account="SIM001", mode="sim", now=datetime.now(UTC))
print("locked", flush=True)
sys.stdin.read()  # hold the lock until the test closes our stdin
"""


def wait_until(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- in process -----------------------------------------------------------------------------------


def test_second_lock_on_the_same_account_is_refused_until_the_first_is_released(tmp_path: Path) -> None:
    database = tmp_path / DATABASE
    first = acquire_account_lock(database, account="SIM001", mode="sim", now=NOW)

    with pytest.raises(AccountInUseError) as refused:
        acquire_account_lock(database, account="SIM001", mode="sim", now=NOW)
    assert is_locked(lock_path_for(database))
    first.release()
    again = acquire_account_lock(database, account="SIM001", mode="sim", now=NOW)
    again.release()

    import os

    assert refused.value.owner.pid == os.getpid()
    assert f"pid {os.getpid()}" in str(refused.value)
    assert "2026-12-02T09:30:00+00:00" in str(refused.value)
    assert "正由另一个 Tiller 进程使用" in str(refused.value)
    assert not is_locked(lock_path_for(database))
    assert not database.exists()  # only the lock file was made


def test_other_accounts_and_modes_lock_independently(tmp_path: Path) -> None:
    with (
        acquire_account_lock(tmp_path / "tiller-sim-A.db", account="A", mode="sim", now=NOW),
        acquire_account_lock(tmp_path / "tiller-sim-B.db", account="B", mode="sim", now=NOW),
        acquire_account_lock(tmp_path / "tiller-live-0123.db", account="A", mode="live", now=NOW),
    ):
        assert is_locked(tmp_path / "tiller-sim-A.lock")


@pytest.mark.parametrize("content", [b"", b"\xff\xfe garbage", b"[1, 2]", b'{"pid": true}'])
def test_unreadable_owner_text_is_no_owner_and_still_refused(tmp_path: Path, content: bytes) -> None:
    database = tmp_path / DATABASE
    with acquire_account_lock(database, account="SIM001", mode="sim", now=NOW):
        lock_path_for(database).write_bytes(content)
        with pytest.raises(AccountInUseError) as refused:
            acquire_account_lock(database, account="SIM001", mode="sim", now=NOW)

    assert refused.value.owner.pid is None
    assert "pid unknown" in str(refused.value)


def test_lock_needs_an_aware_time(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        acquire_account_lock(tmp_path / DATABASE, account="SIM001", mode="sim", now=datetime(2026, 1, 1))


def test_session_holds_the_lock_until_closed_and_a_second_session_is_refused(tmp_path: Path) -> None:
    specs = [InstrumentSpec("600000.SH")]
    day = NOW.date()
    setup = build_sim_setup(Settings(), day=day, instruments=specs, data_dir=tmp_path)
    try:
        with pytest.raises(AccountInUseError):
            build_sim_setup(Settings(), day=day, instruments=specs, data_dir=tmp_path)
        assert is_locked(lock_path_for(setup.db_path))
    finally:
        setup.close()

    assert not is_locked(lock_path_for(setup.db_path))
    build_sim_setup(Settings(), day=day, instruments=specs, data_dir=tmp_path).close()


def test_a_session_that_fails_to_open_releases_the_lock(tmp_path: Path) -> None:
    (tmp_path / BROKER).write_bytes(b"not a database at all" * 50)

    with pytest.raises(DatabaseCorruptError):
        build_sim_setup(
            Settings(), day=NOW.date(), instruments=[InstrumentSpec("600000.SH")], data_dir=tmp_path
        )

    assert not is_locked(tmp_path / "tiller-sim-SIM001.lock")
    assert not (tmp_path / DATABASE).exists()


# --- real second processes ------------------------------------------------------------------------


def test_demo_while_another_process_holds_the_account_is_refused_and_touches_nothing(
    tmp_path: Path, demo_folder_template: Path
) -> None:
    folder = copy_folder(demo_folder_template, tmp_path / "data")
    env = app_env(tmp_path / "settings-data", tmp_path / "config.toml")
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder / DATABASE)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = file_hashes(folder)

        refused = run_app("demo", "--data-dir", str(folder), "--speed", "0", "--quiet", env=env)

        after = file_hashes(folder)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
        assert holder.stdout is not None
        holder.stdout.close()
    output = refused.stdout + refused.stderr
    assert refused.returncode == 1, output
    assert f"pid {holder.pid}" in refused.stderr
    assert "is in use by another Tiller process" in refused.stderr
    assert "Traceback" not in output
    assert after == before
    assert {DATABASE, BROKER} <= set(before)

    # The holder is gone, and its lock with it.
    assert not is_locked(folder / "tiller-sim-SIM001.lock")


def test_two_concurrent_demo_runs_the_second_refused_and_a_killed_first_frees_the_account(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data"
    env = app_env(tmp_path / "settings-data", tmp_path / "config.toml")
    first = subprocess.Popen(
        [sys.executable, "-m", "app", "demo", "--data-dir", str(folder), "--speed", "300", "--quiet"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: is_locked(folder / "tiller-sim-SIM001.lock"), what="the first demo's lock")
        wait_until(lambda: (read_owner(folder / "tiller-sim-SIM001.lock") or None) is not None, what="owner")

        second = run_app("demo", "--data-dir", str(folder), "--speed", "0", "--quiet", env=env)

        assert first.poll() is None, "the first demo ended before the second was refused"
    finally:
        first.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no clean-up runs
        first.wait(timeout=30)
    assert second.returncode == 1, second.stdout + second.stderr
    assert f"pid {first.pid}" in second.stderr
    assert "Traceback" not in second.stdout + second.stderr

    wait_until(
        lambda: not is_locked(folder / "tiller-sim-SIM001.lock"), what="the lock to go with the process"
    )
    third = run_app("demo", "--data-dir", str(folder), "--speed", "0", "--quiet", env=env)
    assert third.returncode == 0, third.stdout + third.stderr
