"""Every kind of damaged data file, for Tiller's database and the simulated broker's alike: the demo
and the doctor say so in plain words (no traceback), exit non-zero, and leave every file as it was."""

from __future__ import annotations

import random
import shutil
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

import app.__main__ as cli
from app.bootstrap import build_sim_setup
from app.config import Settings
from app.feeds.universe import InstrumentSpec
from app.storage import DatabaseCorruptError, KnownStorageError, NotATillerDatabaseError, SchemaTooNewError
from app.storage.integrity import check_wal_header
from tests.helpers.data_files import BROKER, DATABASE, app_env, copy_folder, file_hashes, run_app

DAMAGED = "The database file is damaged"
FOREIGN = "is a SQLite database but not a Tiller one"
NEWER = "was made by a newer Tiller version"
DAY = date(2026, 11, 23)
LOCK = "tiller-sim-SIM001.lock"


def _page_size(path: Path) -> int:
    return int.from_bytes(path.read_bytes()[16:18], "big") or 65536


def truncate(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)


def random_bytes(path: Path) -> None:
    path.write_bytes(random.Random(1).randbytes(path.stat().st_size))


def zero_length(path: Path) -> None:
    path.write_bytes(b"")


def foreign_sqlite(path: Path) -> None:
    path.unlink()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('张三')")
    conn.close()


def newer_schema(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.close()


def garbage_page(path: Path) -> None:
    page_size = _page_size(path)
    middle = path.stat().st_size // page_size // 2
    with path.open("r+b") as file:
        file.seek(middle * page_size)
        file.write(random.Random(middle).randbytes(page_size))


def _with_wal(path: Path) -> None:
    """Leave a real write-ahead log beside the file: a transaction committed but never checkpointed."""
    copy = path.with_name("wal-source.db")
    shutil.copy(path, copy)
    conn = sqlite3.connect(copy, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('wal-test', 'x')")
    shutil.copy(copy, path)
    shutil.copy(copy.with_name(copy.name + "-wal"), path.with_name(path.name + "-wal"))
    conn.close()
    copy.unlink()
    check_wal_header(path)  # a valid log


def garbage_page_with_wal(path: Path) -> None:
    _with_wal(path)
    garbage_page(path)


def garbage_wal(path: Path) -> None:
    path.with_name(path.name + "-wal").write_bytes(random.Random(5).randbytes(4096 + 32))


DAMAGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (truncate, DAMAGED),
    "random-bytes": (random_bytes, DAMAGED),
    "zero-length": (zero_length, DAMAGED),
    "foreign-sqlite": (foreign_sqlite, FOREIGN),
    "newer-schema": (newer_schema, NEWER),
    "garbage-page": (garbage_page, DAMAGED),
    "garbage-page-with-wal": (garbage_page_with_wal, DAMAGED),
    "garbage-wal": (garbage_wal, DAMAGED),
}
CASES = [(name, which) for name in DAMAGES for which in (DATABASE, BROKER)]
IDS = [f"{name}-{'broker' if which == BROKER else 'tiller'}" for name, which in CASES]


@pytest.fixture
def damaged(
    request: pytest.FixtureRequest, tmp_path: Path, demo_folder_template: Path
) -> tuple[Path, Path, str]:
    name, which = request.param
    folder = copy_folder(demo_folder_template, tmp_path / "data")
    damage, words = DAMAGES[name]
    damage(folder / which)
    return folder, folder / which, words


def _assert_refused_in_plain_words(code: int, output: str, words: str, path: Path) -> None:
    assert code == 1, output
    assert words in output, output
    assert str(path) in output
    assert "Traceback" not in output


@pytest.mark.parametrize("damaged", CASES, ids=IDS, indirect=True)
def test_demo_and_doctor_refuse_a_damaged_file_in_plain_words_and_change_nothing(
    damaged: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, path, words = damaged
    monkeypatch.setenv("TILLER_DATA_DIR", str(folder))
    monkeypatch.setattr("app.doctor._xtquant_dir", lambda: None)  # no xtquant probe: not under test
    before = file_hashes(folder)

    demo = cli.main(["demo", "--data-dir", str(folder), "--speed", "0", "--quiet"])
    demo_output = "".join(capsys.readouterr())
    after_demo = file_hashes(folder)
    doctor = cli.main(["doctor"])
    doctor_output = "".join(capsys.readouterr())
    after_doctor = file_hashes(folder)

    _assert_refused_in_plain_words(demo, demo_output, words, path)
    _assert_refused_in_plain_words(doctor, doctor_output, words, path)
    assert "Tiller cannot run here" in doctor_output
    # The refused demo made only its lock file; no data file changed, none appeared.
    assert after_demo == {**before, LOCK: after_demo[LOCK]}
    assert after_doctor == after_demo


@pytest.mark.parametrize(
    "damaged", [("random-bytes", DATABASE), ("garbage-page-with-wal", BROKER)], indirect=True
)
def test_in_a_real_process_a_damaged_file_gives_plain_words_and_no_traceback(
    damaged: tuple[Path, Path, str], tmp_path: Path
) -> None:
    folder, path, words = damaged
    env = app_env(folder, tmp_path / "config.toml")
    before = file_hashes(folder)

    demo = run_app("demo", "--data-dir", str(folder), "--speed", "0", "--quiet", env=env)
    doctor = run_app("doctor", env=env)

    _assert_refused_in_plain_words(demo.returncode, demo.stdout + demo.stderr, words, path)
    _assert_refused_in_plain_words(doctor.returncode, doctor.stdout + doctor.stderr, words, path)
    after = file_hashes(folder)
    assert after == {**before, LOCK: after[LOCK]}


@pytest.mark.parametrize("damaged", CASES, ids=IDS, indirect=True)
def test_opening_a_session_on_a_damaged_file_raises_a_known_error_and_frees_the_account(
    damaged: tuple[Path, Path, str],
) -> None:
    folder, path, _ = damaged
    before = file_hashes(folder)

    with pytest.raises(KnownStorageError) as refused:
        build_sim_setup(Settings(), day=DAY, instruments=[InstrumentSpec("600000.SH")], data_dir=folder)

    assert isinstance(refused.value, DatabaseCorruptError | NotATillerDatabaseError | SchemaTooNewError)
    assert refused.value.path == path
    after = file_hashes(folder)
    after.pop(LOCK, None)
    before.pop(LOCK, None)
    assert after == before


def test_a_healthy_folder_passes_the_doctor_with_both_files_listed(
    tmp_path: Path,
    demo_folder_template: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = copy_folder(demo_folder_template, tmp_path / "data")
    monkeypatch.setenv("TILLER_DATA_DIR", str(folder))
    monkeypatch.setattr("app.doctor._xtquant_dir", lambda: None)
    before = file_hashes(folder)

    code = cli.main(["doctor"])

    out = capsys.readouterr().out
    assert code == 0, out
    assert f"database: {folder / DATABASE} (schema version" in out
    assert f"simulated broker file {BROKER}: {folder / BROKER} (schema version 1)" in out
    assert sorted(file_hashes(folder)) == sorted(before)  # nothing made beside them either
    assert file_hashes(folder) == before
