"""The command line's top-level handler: a known error in plain words with what to do, an unexpected
one as a short line with the log's path; never a traceback on the console, always one in the log."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest

import app.__main__ as cli
from app.clients.planned_orders import PlannedOrdersError
from app.config import SettingsError
from app.failures import EXIT_KNOWN, EXIT_UNEXPECTED, explain
from app.logs import ConsoleFormatter
from app.storage import DatabaseCorruptError, DiskFullError, StorageBugError
from app.storage.lock import AccountInUseError, LockOwner
from tests.helpers.data_files import app_env, run_app


def raising(exc: BaseException):
    def run(args) -> int:
        raise exc

    return run


def replace_command(monkeypatch: pytest.MonkeyPatch, name: str, exc: BaseException) -> None:
    monkeypatch.setitem(cli.SUBCOMMANDS, name, cli.Subcommand("test", lambda parser: None, raising(exc)))


def log_text(isolated_dirs: dict[str, Path]) -> str:
    return (isolated_dirs["data_dir"] / "logs" / "tiller.log").read_text(encoding="utf-8")


def test_unexpected_error_prints_a_short_message_and_the_log_path_and_logs_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_dirs: dict[str, Path]
) -> None:
    replace_command(monkeypatch, "doctor", RuntimeError("the flux capacitor broke"))

    code = cli.main(["doctor"])

    captured = capsys.readouterr()
    log_file = isolated_dirs["data_dir"] / "logs" / "tiller.log"
    assert code == EXIT_UNEXPECTED
    assert "RuntimeError: the flux capacitor broke" in captured.err
    assert f"details in the log: {log_file}" in captured.err
    assert "Traceback" not in captured.out + captured.err
    assert len(captured.err.splitlines()) <= 5
    logged = log_text(isolated_dirs)
    assert "Traceback" in logged and "RuntimeError: the flux capacitor broke" in logged
    assert "doctor failed (unexpected error)" in logged


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (SettingsError("fees.commission_rate: expected a decimal, was 'abc'"), "Fix the setting named above"),
        (PlannedOrdersError("计划订单文件 x.json 不是有效的 JSON"), "no order was placed"),
        (
            OSError(errno.EACCES, "Permission denied", "D:\\Tiller\\data"),
            "Cannot access D:\\Tiller\\data: Permission denied",
        ),
        (DiskFullError("The disk is full; cannot write x.db."), "The disk is full"),
        (DatabaseCorruptError(Path("x.db"), "integrity check failed"), "restore the latest backup"),
        (
            AccountInUseError(
                Path("a.lock"), "SIM001", "sim", LockOwner(4242, "pc", "2026-12-02T09:00:00", "")
            ),
            "pid 4242",
        ),
    ],
    ids=["settings", "planned-orders", "os-error-with-path", "disk-full", "corrupt", "account-in-use"],
)
def test_known_error_prints_its_message_and_what_to_do_without_traceback(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    isolated_dirs: dict[str, Path],
    exc: BaseException,
    words: str,
) -> None:
    replace_command(monkeypatch, "doctor", exc)

    code = cli.main(["doctor"])

    captured = capsys.readouterr()
    assert code == EXIT_KNOWN
    assert words in captured.err
    assert "Traceback" not in captured.out + captured.err
    assert "unexpected" not in captured.err
    assert "Traceback" in log_text(isolated_dirs)  # the details are still kept


@pytest.mark.parametrize(
    "exc",
    [
        StorageBugError("Storage bug on x.db: no such table"),
        OSError("no path"),
        ValueError("x"),
        KeyError("k"),
    ],
)
def test_bugs_and_errors_without_a_path_are_unexpected(exc: BaseException) -> None:
    assert explain(exc) is None


def test_when_the_data_folder_cannot_hold_a_log_the_temporary_folder_does(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], isolated_dirs: dict[str, Path]
) -> None:
    isolated_dirs["data_dir"].parent.mkdir(parents=True, exist_ok=True)
    isolated_dirs["data_dir"].write_text("a file where the data folder should be", encoding="utf-8")
    temporary = isolated_dirs["data_dir"].parent / "tmp"
    temporary.mkdir()
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.setenv(name, str(temporary))
    monkeypatch.setattr("tempfile.tempdir", None)
    replace_command(monkeypatch, "doctor", RuntimeError("boom"))

    code = cli.main(["doctor"])

    err = capsys.readouterr().err
    assert code == EXIT_UNEXPECTED
    assert "details in the log:" in err
    assert "Traceback" not in err
    logged = next(line for line in err.splitlines() if "details in the log:" in line).split(": ", 1)[1]
    assert Path(logged).is_file()
    assert Path(logged).is_relative_to(temporary)


def test_console_formatter_never_shows_a_traceback() -> None:
    try:
        raise RuntimeError("inner")
    except RuntimeError as exc:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, (type(exc), exc, None))
    record.stack_info = "Stack (most recent call last): ..."

    text = ConsoleFormatter("%(levelname)s %(message)s").format(record)
    full = logging.Formatter("%(message)s").format(record)

    assert text == "ERROR failed"
    assert "RuntimeError: inner" in full  # the record itself keeps its traceback for the file


def test_settings_error_in_a_real_process_is_plain_and_logged(tmp_path: Path) -> None:
    env = app_env(tmp_path / "data", tmp_path / "config.toml", TILLER__SIM__PARTICIPATION="2")

    run = run_app("demo", "--speed", "0", env=env)

    assert run.returncode == EXIT_KNOWN
    assert "sim.participation" in run.stderr
    assert "Fix the setting named above" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr
