"""`python -m app`: --version, doctor, secrets, config; in a subprocess and in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

import app.__main__ as cli
from app import __version__
from app.config import load_settings
from app.doctor import (
    Check,
    Dependency,
    DoctorReport,
    Status,
    can_print_symbols,
    check_data_dir,
    check_database,
    check_dependency,
    check_python,
    check_qmt,
    format_report,
    probe_xtquant,
)
from app.secrets import SecretStore
from tests.helpers.memory_keyring import MemoryKeyring

REPO = Path(__file__).resolve().parents[2]
SECRET_VALUE = "ak-TEST-27182818-never-printed"
NATIVE_MISSING = {
    "xtconstant": "",
    "xttype": "",
    "xtpythonclient": "ModuleNotFoundError: No module named 'xtquant.xtpythonclient'",
}
ALL_LOADED = {"xtconstant": "", "xttype": "", "xtpythonclient": ""}


def run_app(
    *args: str, extra_env: dict[str, str] | None = None, keyring_backend: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m app ...` in the repository, with the test's isolated TILLER_CONFIG / TILLER_DATA_DIR."""
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("TILLER__")}
    # Never the real OS keyring: the in-memory one (importable from the repository) unless told otherwise.
    env["PYTHON_KEYRING_BACKEND"] = keyring_backend or "tests.helpers.memory_keyring.MemoryKeyring"
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=60,
        check=False,
    )


# --- subprocess -------------------------------------------------------------------------------


def test_version_then_prints_tiller_and_version() -> None:
    completed = run_app("--version")

    assert completed.returncode == 0
    assert completed.stdout == f"tiller {__version__}\n"
    assert __version__ == "0.1.0"


def test_doctor_when_clean_setup_then_exit_0_and_mentions_keyring() -> None:
    completed = run_app("doctor")

    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "keyring: memory keyring MemoryKeyring; secrets set: none" in completed.stdout
    assert "database: not created yet, will be created at first run" in completed.stdout
    assert "Tiller can run here" in completed.stdout


def test_doctor_never_imports_xtquant_or_the_gui_in_its_own_process() -> None:
    # What keeps doctor quick, asserted as behaviour rather than timed (timings belong in bench/):
    # `import xtquant` runs a PyPI version check that can block for 10 s, so doctor probes it in a
    # child process, and nothing of the window or the HTTP server is loaded for a check.
    code = (
        "import sys, app.__main__ as m; m.main(['doctor']); "
        "print('LOADED', sorted(n for n in ('xtquant', 'PySide6', 'pyqtgraph', 'http.server') if n in sys.modules))"
    )
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("TILLER__")}
    env["PYTHON_KEYRING_BACKEND"] = "tests.helpers.memory_keyring.MemoryKeyring"
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
        encoding="utf-8", errors="replace", timeout=60, check=False,
    )  # fmt: skip

    assert "Tiller can run here" in completed.stdout, completed.stdout + completed.stderr  # doctor ran
    assert "LOADED []" in completed.stdout, completed.stdout + completed.stderr


def test_doctor_when_setting_invalid_in_env_then_exit_1_naming_it() -> None:
    completed = run_app("doctor", extra_env={"TILLER__FEES__COMMISSION_RATE": "abc"})

    assert completed.returncode == 1
    assert (
        "settings: fees.commission_rate: expected a decimal between 0 and 0.003, was 'abc' "
        "(from env TILLER__FEES__COMMISSION_RATE)"
    ) in completed.stdout
    assert "Tiller cannot run here" in completed.stdout


def test_doctor_when_database_corrupt_then_exit_1_with_plain_message(isolated_dirs: dict[str, Path]) -> None:
    paths = pytest.importorskip("app.storage.paths")
    database = paths.database_path(isolated_dirs["data_dir"], "SIM001", "sim")
    database.parent.mkdir(parents=True)
    database.write_bytes(b"this is not a database, it was overwritten by accident" * 100)
    before = database.read_bytes()

    completed = run_app("doctor")

    assert completed.returncode == 1
    assert "The database file is damaged" in completed.stdout
    assert str(database) in completed.stdout
    assert "Traceback" not in completed.stdout + completed.stderr
    assert database.read_bytes() == before


def test_doctor_when_no_keyring_backend_in_sim_then_warns_and_exit_0() -> None:
    completed = run_app("doctor", keyring_backend="keyring.backends.fail.Keyring")

    assert completed.returncode == 0, completed.stdout
    assert "keyring: unavailable:" in completed.stdout
    assert "not needed for the simulated setup" in completed.stdout


def test_doctor_when_console_cannot_print_symbols_then_ascii_marks() -> None:
    completed = run_app("doctor", extra_env={"PYTHONIOENCODING": "ascii"})

    assert completed.returncode == 0, completed.stderr
    assert "[ok] Python:" in completed.stdout
    assert "✓" not in completed.stdout


# --- in-process: the command line -------------------------------------------------------------


def test_no_command_then_the_window_opens(monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 10: `python -m app` opens the window on the simulated setup (it used to print the help)
    opened: list[object] = []
    monkeypatch.setattr(cli, "_run_window", lambda args: opened.append(args) or 0)

    code = cli.main([])

    assert code == 0
    assert len(opened) == 1


def test_help_then_usage_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["--help"])

    out = capsys.readouterr().out
    assert code == 0
    assert "usage: python -m app" in out
    assert "doctor" in out
    assert "demo" in out


def test_secrets_set_then_stored_in_keyring_and_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring
) -> None:
    prompts: list[str] = []
    monkeypatch.setattr(cli, "read_secret", lambda prompt: prompts.append(prompt) or SECRET_VALUE)

    code = cli.main(["secrets", "set", "bigquant.access_key"])

    captured = capsys.readouterr()
    assert code == 0
    assert memory_keyring.passwords == {("tiller", "bigquant.access_key"): SECRET_VALUE}
    assert "bigquant.access_key: stored in the OS keyring" in captured.out
    assert SECRET_VALUE not in captured.out + captured.err + "".join(prompts)


def test_secrets_status_and_delete(capsys: pytest.CaptureFixture[str]) -> None:
    SecretStore().set("webhook.feishu", SECRET_VALUE)

    status_code = cli.main(["secrets", "status"])
    status_out = capsys.readouterr().out
    first = cli.main(["secrets", "delete", "webhook.feishu"])
    second = cli.main(["secrets", "delete", "webhook.feishu"])
    delete_out = capsys.readouterr().out

    assert status_code == 0
    assert "webhook.feishu: set" in status_out
    assert "bigquant.secret_key: not set" in status_out
    assert SECRET_VALUE not in status_out
    assert (first, second) == (0, 0)
    assert delete_out.splitlines() == ["webhook.feishu: deleted", "webhook.feishu: was not set"]
    assert SecretStore().get("webhook.feishu") is None


def test_secrets_set_when_no_keyring_then_exit_1_with_reason(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setattr(cli, "read_secret", lambda prompt: SECRET_VALUE)

    code = cli.main(["secrets", "set", "bigquant.secret_key"])

    captured = capsys.readouterr()
    assert code == 1
    assert "no usable OS keyring" in captured.err
    assert SECRET_VALUE not in captured.out + captured.err


def test_secrets_set_when_value_empty_then_exit_1_nothing_stored(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring
) -> None:
    monkeypatch.setattr(cli, "read_secret", lambda prompt: "  ")

    code = cli.main(["secrets", "set", "smtp.password"])

    assert code == 1
    assert "smtp.password: expected a non-empty value" in capsys.readouterr().err
    assert memory_keyring.passwords == {}


def test_secrets_set_when_name_unknown_then_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["secrets", "set", "bigquant.token"])

    assert code == 2
    assert "invalid choice: 'bigquant.token'" in capsys.readouterr().err


def test_config_init_then_file_written_loadable_and_not_overwritten(
    isolated_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    first = cli.main(["config", "init"])
    again = cli.main(["config", "init"])
    forced = cli.main(["config", "init", "--force"])

    captured = capsys.readouterr()
    assert (first, again, forced) == (0, 1, 0)
    assert isolated_dirs["config_file"].is_file()
    assert "pass --force to replace it" in captured.err
    assert load_settings().config_file_found is True


def test_config_show_when_set_before_and_after_command_then_both_apply_and_no_secret(
    capsys: pytest.CaptureFixture[str],
) -> None:
    SecretStore().set("bigquant.secret_key", SECRET_VALUE)

    code = cli.main(["--set", "sim.seed=3", "config", "show", "--set", "sim.speed=5"])

    out = capsys.readouterr().out
    assert code == 0
    assert "seed = 3" in out
    assert "speed = 5.0" in out
    assert "bigquant.secret_key = '***set***'" in out
    assert SECRET_VALUE not in out


def test_doctor_in_process_when_cli_override_invalid_then_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["doctor", "--set", "sim.quote_levels=3"])

    out = capsys.readouterr().out
    assert code == 1
    assert "sim.quote_levels: expected 1 or 5, was '3' (from --set sim.quote_levels)" in out
    assert "database: skipped: the settings did not load" in out


# --- in-process: doctor checks ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "status"), [((3, 10, 12), Status.FAIL), ((3, 11, 0), Status.OK), ((3, 13, 1), Status.OK)]
)
def test_check_python(version: tuple[int, int, int], status: Status) -> None:
    assert check_python(version).status is status


def test_check_dependency_when_missing_then_fail_with_install_hint() -> None:
    check = check_dependency(Dependency("nothing", "tiller_no_such_module", ("tiller-no-such",), (1, 0)))

    assert check.status is Status.FAIL
    assert "not installed" in check.detail
    assert "pip install 'tiller-no-such>=1.0'" in check.detail


@pytest.mark.parametrize(("mode", "status"), [("sim", Status.WARN), ("live", Status.FAIL)])
def test_check_dependency_when_live_only_missing_then_depends_on_mode(mode: str, status: Status) -> None:
    dependency = Dependency("xt", "tiller_no_such_module", ("tiller-no-such",), (1,), live_only=True)

    assert check_dependency(dependency, mode).status is status


def test_check_dependency_when_major_version_too_new_then_fail() -> None:
    # As APScheduler 4 would be: pytest here is >= 8, so "< 2" fails.
    check = check_dependency(Dependency("pytest", "pytest", ("pytest",), (1, 0), below=(2,)))

    assert check.status is Status.FAIL
    assert "Tiller needs >= 1.0, < 2" in check.detail


def test_check_dependency_when_installed_then_ok_with_version() -> None:
    check = check_dependency(Dependency("pytest", "pytest", ("pytest",), (8, 0)))

    assert check.status is Status.OK
    assert check.detail == __import__("importlib.metadata").metadata.version("pytest")


def test_check_qmt_when_native_module_missing_in_sim_then_warning_naming_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.doctor._xtquant_dir", lambda: Path("/fake/xtquant"))

    (check,) = check_qmt(load_settings(), probe=lambda package_dir: NATIVE_MISSING)

    assert check.status is Status.WARN
    assert check.detail.startswith(
        "QMT 不可用 / unavailable on this machine: xtquant's native module xtpythonclient"
    )
    assert check.detail.endswith("the simulated broker will be used")


def test_check_qmt_when_live_and_native_missing_then_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.doctor._xtquant_dir", lambda: Path("/fake/xtquant"))

    checks = check_qmt(
        load_settings(argv_overrides=["general.mode=live"]), probe=lambda package_dir: NATIVE_MISSING
    )

    assert [(check.name, check.status) for check in checks] == [
        ("QMT", Status.FAIL),
        ("QMT userdata", Status.FAIL),
    ]
    assert "simulated broker" not in checks[0].detail


def test_check_qmt_when_everything_loads_and_userdata_exists_then_ok(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("app.doctor._xtquant_dir", lambda: Path("/fake/xtquant"))
    settings = load_settings(argv_overrides=["general.mode=live", f"qmt.userdata_path={tmp_path}"])

    checks = check_qmt(settings, probe=lambda package_dir: ALL_LOADED)

    assert [check.status for check in checks] == [Status.OK, Status.OK]


@pytest.mark.parametrize(("mode", "status"), [("sim", Status.WARN), ("live", Status.FAIL)])
def test_check_qmt_when_xttype_broken_or_userdata_missing_then_by_mode(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, mode: str, status: Status
) -> None:
    monkeypatch.setattr("app.doctor._xtquant_dir", lambda: Path("/fake/xtquant"))
    settings = load_settings(
        argv_overrides=[f"general.mode={mode}", f"qmt.userdata_path={tmp_path / 'gone'}"]
    )
    broken = {**ALL_LOADED, "xttype": "SyntaxError: bad"}

    checks = check_qmt(settings, probe=lambda package_dir: broken)

    assert [check.status for check in checks] == [status, status]
    assert "xtquant.xttype: SyntaxError: bad" in checks[0].detail
    assert "is not an existing folder" in checks[1].detail


def test_check_qmt_when_xtquant_not_installed_then_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.doctor._xtquant_dir", lambda: None)

    (check,) = check_qmt(load_settings(), probe=lambda package_dir: pytest.fail("no probe without xtquant"))

    assert check.status is Status.WARN
    assert "xtquant is not installed; the simulated broker will be used" in check.detail


def _fake_xtquant(root: Path, native_source: str | None) -> Path:
    package = root / "xtquant"
    package.mkdir()
    # The real __init__ runs a PyPI version check; the probe must not run __init__ at all.
    (package / "__init__.py").write_text(f"open({str(root / 'init-ran')!r}, 'w').close()\n", encoding="utf-8")
    (package / "xtconstant.py").write_text("STOCK_BUY = 23\n", encoding="utf-8")
    (package / "xttype.py").write_text("from . import xtconstant as _XTCONST_\n", encoding="utf-8")
    if native_source is not None:
        (package / "xtpythonclient.py").write_text(native_source, encoding="utf-8")
    return package


def test_probe_xtquant_then_imports_submodules_without_running_package_init(tmp_path: Path) -> None:
    package = _fake_xtquant(tmp_path, native_source=None)

    result = probe_xtquant(package)

    assert result["xtconstant"] == ""
    assert result["xttype"] == ""
    assert result["xtpythonclient"].startswith("ModuleNotFoundError")
    assert not (tmp_path / "init-ran").exists()


def test_probe_xtquant_when_native_module_crashes_process_then_reported(tmp_path: Path) -> None:
    package = _fake_xtquant(
        tmp_path, native_source="import sys\nsys.stderr.write('fatal: bad dll\\n')\nimport os\nos._exit(3)\n"
    )

    result = probe_xtquant(package)

    assert result["xtpythonclient"] == "the probe process failed: fatal: bad dll"


def test_probe_xtquant_when_import_hangs_then_timeout_reported(tmp_path: Path) -> None:
    package = _fake_xtquant(tmp_path, native_source="import time\ntime.sleep(30)\n")

    result = probe_xtquant(package, timeout_s=1.0)

    assert result["xtpythonclient"] == "importing xtquant's modules took longer than 1 s"


@pytest.mark.skipif(sys.platform == "win32", reason="xtquant's native module loads on Windows")
def test_probe_real_xtquant_off_windows_then_python_parts_load_and_native_does_not() -> None:
    spec = pytest.importorskip("importlib.util").find_spec("xtquant")
    if spec is None:
        pytest.skip("xtquant not installed")

    result = probe_xtquant(Path(next(iter(spec.submodule_search_locations))))

    assert (result["xtconstant"], result["xttype"]) == ("", "")
    assert "xtpythonclient" in result["xtpythonclient"]


def test_check_database_when_missing_corrupt_or_valid(isolated_dirs: dict[str, Path]) -> None:
    storage = pytest.importorskip("app.storage")
    settings = load_settings()
    path = storage.database_path(settings.general.data_dir, "SIM001", "sim")

    missing = check_database(settings)
    storage.open_database(path).close()
    valid = check_database(settings)
    path.write_bytes(b"\x00garbage" * 512)
    corrupt = check_database(settings)

    assert (missing.status, valid.status, corrupt.status) == (Status.OK, Status.OK, Status.FAIL)
    assert "not created yet" in missing.detail
    assert "schema version" in valid.detail
    assert "The database file is damaged" in corrupt.detail


def test_check_database_when_live_then_account_from_keyring() -> None:
    pytest.importorskip("app.storage")
    settings = load_settings(argv_overrides=["general.mode=live"])

    without_account = check_database(settings)
    SecretStore().set("qmt.account_id", "88001234")
    with_account = check_database(settings)

    assert without_account.status is Status.FAIL
    assert "python -m app secrets set qmt.account_id" in without_account.detail
    assert with_account.status is Status.OK
    assert "tiller-live-" in with_account.detail
    assert "88001234" not in with_account.detail


def test_check_data_dir_when_path_is_a_file_then_fail(isolated_dirs: dict[str, Path]) -> None:
    isolated_dirs["data_dir"].write_text("not a folder", encoding="utf-8")

    check = check_data_dir(load_settings())

    assert check.status is Status.FAIL
    assert "is a file, not a folder" in check.detail


def test_format_report_symbols_ascii_and_summary() -> None:
    report = DoctorReport(
        (
            Check("a", Status.OK, "fine"),
            Check("b", Status.WARN, "meh"),
            Check("c", Status.FAIL, "line 1\nline 2"),
        )
    )

    fancy = format_report(report, symbols=True)
    plain = format_report(report, symbols=False)

    assert report.usable is False
    assert "✓ a: fine\n! b: meh\n✗ c: line 1\n    line 2" in fancy
    assert "[ok] a: fine\n[warn] b: meh\n[FAIL] c: line 1" in plain
    assert plain.endswith("Tiller cannot run here: fix 1 problem(s) marked [FAIL] (c).")
    assert format_report(DoctorReport((Check("a", Status.WARN, "x"),))).endswith(
        "Tiller can run here (1 warning(s))."
    )


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", True), ("cp1252", False), ("ascii", False), (None, False), ("no-such-codec", False)],
)
def test_can_print_symbols(encoding: str | None, expected: bool) -> None:
    assert can_print_symbols(encoding) is expected


@pytest.mark.parametrize("speed", ["nan", "inf", "-inf", "1e400", "-1", "1e7"])
def test_demo_refuses_a_speed_that_is_not_a_sane_number(
    speed: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["demo", "--quiet", f"--speed={speed}"])

    err = capsys.readouterr().err
    assert code == 2
    assert "--speed" in err and "0 到 1e+06" in err
    assert "Traceback" not in err
