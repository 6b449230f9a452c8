"""`python -m app doctor`: can Tiller run here, and if not, why.

One check a line: ✓ ok, ! warning (usable, with a limitation), ✗ failure (not usable). Checks are
cheap: packages are found with `importlib.util.find_spec` and versioned with `importlib.metadata`,
never imported; xtquant's modules are imported in a child process (see `probe_xtquant`). Whether
miniQMT can be reached is checked in-process, with no child process (app/gateways/qmt/probe.py: its
userdata_mini folder, the xtdata service it announces, a TCP connect), and so is the live trading state.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum, unique
from pathlib import Path

from app import __version__
from app.config import QmtSettings, Settings, SettingsError, load_settings
from app.frozen import self_command
from app.secrets import SecretsError, SecretStore, keyring_status

MINIMUM_PYTHON = (3, 11)
XTQUANT_PROBE_TIMEOUT_S = 10.0


@unique
class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str


@dataclass(frozen=True, slots=True)
class DoctorReport:
    checks: tuple[Check, ...]

    @property
    def usable(self) -> bool:
        return all(check.status is not Status.FAIL for check in self.checks)

    def with_status(self, status: Status) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if check.status is status)


def _severity(mode: str) -> Status:
    """What a missing live-only capability is: a warning in sim mode, a failure in live mode."""
    return Status.FAIL if mode == "live" else Status.WARN


# --- Python and packages ----------------------------------------------------------------------


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Check:
    shown = ".".join(str(part) for part in version)
    if tuple(version[:2]) < MINIMUM_PYTHON:
        return Check("Python", Status.FAIL, f"{shown}; Tiller needs Python 3.11 or newer")
    return Check("Python", Status.OK, shown)


@dataclass(frozen=True, slots=True)
class Dependency:
    name: str
    module: str
    distributions: tuple[str, ...]
    minimum: tuple[int, ...]
    below: tuple[int, ...] | None = None  # exclusive upper bound
    live_only: bool = False  # missing is a warning in sim mode


# The runtime dependencies of pyproject.toml, with its version bounds.
DEPENDENCIES: tuple[Dependency, ...] = (
    Dependency("PySide6", "PySide6", ("PySide6-Essentials", "PySide6"), (6, 6)),
    Dependency("pyqtgraph", "pyqtgraph", ("pyqtgraph",), (0, 13)),
    Dependency("pandas", "pandas", ("pandas",), (2, 0)),
    Dependency("sqlite-utils", "sqlite_utils", ("sqlite-utils",), (3, 36)),
    Dependency("httpx", "httpx", ("httpx",), (0, 27)),
    Dependency("keyring", "keyring", ("keyring",), (24,)),
    # APScheduler 4 is a different API; Tiller is written against 3.x.
    Dependency("APScheduler", "apscheduler", ("APScheduler",), (3, 10), below=(4,)),
    Dependency("xtquant", "xtquant", ("xtquant",), (250516,), live_only=True),
    Dependency("tomli-w", "tomli_w", ("tomli-w", "tomli_w"), (1, 0)),
    Dependency("tomlkit", "tomlkit", ("tomlkit",), (0, 12)),
)


def _version_tuple(text: str) -> tuple[int, ...]:
    match = re.match(r"\d+(\.\d+)*", text)
    return tuple(int(part) for part in match[0].split(".")) if match else ()


def _installed_version(distributions: tuple[str, ...]) -> str | None:
    for distribution in distributions:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            return importlib.metadata.version(distribution)
    return None


def _module_present(module: str) -> bool:
    # find_spec of a top-level name locates it without importing it.
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_dependency(dependency: Dependency, mode: str = "sim") -> Check:
    bounds = ".".join(map(str, dependency.minimum))
    wanted = f">= {bounds}" + (f", < {'.'.join(map(str, dependency.below))}" if dependency.below else "")
    if not _module_present(dependency.module):
        status = _severity(mode) if dependency.live_only else Status.FAIL
        need = "needed for live trading through QMT" if dependency.live_only else "needed"
        return Check(
            dependency.name,
            status,
            f"not installed ({need}: pip install '{dependency.distributions[0]}{wanted.replace(' ', '')}')",
        )
    version = _installed_version(dependency.distributions)
    if version is None:
        # e.g. xtquant copied from the QMT folder without package metadata
        return Check(dependency.name, Status.OK, "installed, version unknown (no package metadata)")
    parsed = _version_tuple(version)
    too_old = parsed < dependency.minimum
    too_new = dependency.below is not None and parsed >= dependency.below
    if too_old or too_new:
        return Check(dependency.name, Status.FAIL, f"{version} installed; Tiller needs {wanted}")
    return Check(dependency.name, Status.OK, version)


# --- settings, data folder, database ----------------------------------------------------------


def check_settings(
    *, env: Mapping[str, str] | None = None, argv_overrides: list[str] | None = None, path: Path | None = None
) -> tuple[Check, Settings | None]:
    try:
        settings = load_settings(env=env, argv_overrides=argv_overrides, path=path)
    except SettingsError as exc:
        return Check("settings", Status.FAIL, str(exc)), None
    where = (
        f"loaded from {settings.config_file}"
        if settings.config_file_found
        else f"no settings file at {settings.config_file}, defaults in use"
    )
    return Check("settings", Status.OK, f"{where}; mode {settings.general.mode}"), settings


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_data_dir(settings: Settings) -> Check:
    folder = settings.general.data_dir
    if folder.exists():
        if not folder.is_dir():
            return Check("data folder", Status.FAIL, f"{folder} is a file, not a folder (general.data_dir)")
        if not os.access(folder, os.W_OK):
            return Check("data folder", Status.FAIL, f"{folder} is not writable")
        return Check("data folder", Status.OK, str(folder))
    parent = _nearest_existing(folder)
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        return Check(
            "data folder",
            Status.FAIL,
            f"{folder} does not exist and cannot be created ({parent} is not writable)",
        )
    return Check("data folder", Status.OK, f"{folder} (will be created at first run)")


def _account_for_database(settings: Settings, secrets: SecretStore) -> tuple[str | None, str]:
    """(account id, why not) for the database of the current mode."""
    if settings.general.mode == "sim":
        return settings.account.account_id, ""
    try:
        account_id = secrets.get("qmt.account_id")
    except SecretsError as exc:
        return None, f"skipped: the live account id is kept in the keyring, which is unavailable ({exc})"
    if account_id is None:
        return None, "the live account id is not set: python -m app secrets set qmt.account_id"
    return account_id, ""


def current_database(settings: Settings, secrets: SecretStore) -> Path | None:
    """The database check_database looks at, if it can be named."""
    account_id, _ = _account_for_database(settings, secrets)
    if account_id is None:
        return None
    from app.storage import database_path

    return database_path(settings.general.data_dir, account_id, settings.general.mode)


def check_database(settings: Settings, secrets: SecretStore | None = None) -> Check:
    """The database of the current account and mode, opened read-only: the doctor never writes to it."""
    secrets = SecretStore() if secrets is None else secrets
    try:
        from app.storage import MIGRATIONS, DatabaseMissingError, KnownStorageError, database_path
        from app.storage.integrity import check_existing_file
        from app.storage.schema import TILLER_APPLICATION_ID, latest_version
    except ImportError as exc:
        return Check("database", Status.FAIL, f"the storage layer is missing from this build: {exc}")
    account_id, why_not = _account_for_database(settings, secrets)
    if account_id is None:
        return Check("database", _severity(settings.general.mode), why_not)
    path = database_path(settings.general.data_dir, account_id, settings.general.mode)
    if not path.exists():
        return Check("database", Status.OK, f"not created yet, will be created at first run: {path}")
    try:
        # The check Tiller runs at open, on a read-only (immutable when no journal is beside it)
        # connection: a read-only open of a WAL database would leave -wal and -shm files behind.
        facts = check_existing_file(
            path,
            known_version=latest_version(MIGRATIONS),
            application_id=TILLER_APPLICATION_ID,
            require_id=True,
        )
    except DatabaseMissingError:  # an empty file: SQLite's view of a brand-new database
        return Check("database", Status.OK, f"holds no data yet, will be set up at first run: {path}")
    except KnownStorageError as exc:
        return Check("database", Status.FAIL, str(exc))
    except Exception as exc:  # the doctor reports, it does not crash
        return Check(
            "database", Status.FAIL, f"{path}: unexpected error opening it: {type(exc).__name__}: {exc}"
        )
    if facts is None:
        return Check(
            "database",
            Status.WARN,
            f"{path}: a crash left a rollback journal; Tiller replays it at the next start",
        )
    return Check("database", Status.OK, f"{path} (schema version {facts.user_version}){_lock_note(path)}")


# --- every data file in the data folder ----------------------------------------------------------


def _data_files(folder: Path) -> list[Path]:
    """Tiller's databases and the simulated broker's files directly in the data folder."""
    try:
        return sorted(p for p in folder.glob("tiller-*.db") if p.is_file())
    except OSError:
        return []


def _lock_note(database: Path) -> str:
    from app.storage.lock import is_locked, lock_path_for, read_owner

    lock_file = lock_path_for(database)
    if not is_locked(lock_file):
        return ""
    owner = read_owner(lock_file)
    return f"; in use now by a Tiller process ({owner.describe() if owner else 'pid unknown'})"


def check_data_file(path: Path) -> Check:
    """One data file, checked read-only with the integrity check Tiller runs when it opens it."""
    try:
        from app.gateways.sim.store import APPLICATION_ID as SIM_APPLICATION_ID
        from app.gateways.sim.store import SCHEMA_VERSION as SIM_SCHEMA_VERSION
        from app.storage import MIGRATIONS, DatabaseMissingError, KnownStorageError
        from app.storage.integrity import check_existing_file
        from app.storage.schema import TILLER_APPLICATION_ID, latest_version
    except ImportError as exc:
        return Check(f"file {path.name}", Status.FAIL, f"the storage layer is missing from this build: {exc}")
    broker = path.name.endswith("-broker.db")
    name = f"{'simulated broker file' if broker else 'database'} {path.name}"
    try:
        if broker:
            facts = check_existing_file(
                path, known_version=SIM_SCHEMA_VERSION, application_id=SIM_APPLICATION_ID, require_id=False
            )
        else:
            facts = check_existing_file(
                path,
                known_version=latest_version(MIGRATIONS),
                application_id=TILLER_APPLICATION_ID,
                require_id=True,
            )
    except DatabaseMissingError:
        if broker:
            return Check(name, Status.FAIL, f"{path} is a SQLite file with no simulated broker books in it")
        return Check(name, Status.OK, f"holds no data yet, will be set up at first run: {path}")
    except KnownStorageError as exc:
        return Check(name, Status.FAIL, str(exc))
    except Exception as exc:  # the doctor reports, it does not crash
        return Check(name, Status.FAIL, f"{path}: unexpected error checking it: {type(exc).__name__}: {exc}")
    if facts is None:
        return Check(
            name, Status.WARN, f"{path}: a crash left a rollback journal; Tiller replays it at the next start"
        )
    note = "" if broker else _lock_note(path)
    return Check(name, Status.OK, f"{path} (schema version {facts.user_version}){note}")


def check_data_files(settings: Settings, *, skip: Path | None = None) -> list[Check]:
    """Every Tiller database and simulated broker file in the data folder, never modified."""
    return [check_data_file(path) for path in _data_files(settings.general.data_dir) if path != skip]


# --- trading calendar -------------------------------------------------------------------------


def check_calendar(settings: Settings | None, today: date | None = None) -> Check:
    """The SSE/SZSE closed days: the shipped ones plus <data folder>/calendar.toml. A warning when
    today or the next trading days lie beyond them (holidays would be traded as normal days); a
    failure when the user's file is broken (Tiller refuses to start with it)."""
    from app.calendar_file import CalendarFileError, load_calendar, user_calendar_path
    from app.domain.calendar import HORIZON_TRADING_DAYS, horizon_warning
    from app.domain.clock import CN_TZ

    today = datetime.now(CN_TZ).date() if today is None else today
    data_dir = None if settings is None else settings.general.data_dir
    try:
        calendar = load_calendar(data_dir)
    except CalendarFileError as exc:
        return Check("trading calendar", Status.FAIL, str(exc))
    where = "" if data_dir is None else f"; extend it in {user_calendar_path(data_dir)}"
    warning = horizon_warning(calendar, today, HORIZON_TRADING_DAYS)
    if warning is not None:
        return Check("trading calendar", Status.WARN, f"{warning}{where}")
    return Check(
        "trading calendar",
        Status.OK,
        f"closed days known {calendar.known_from}..{calendar.known_until} "
        f"(at least {HORIZON_TRADING_DAYS} trading days ahead){where}",
    )


# --- keyring ----------------------------------------------------------------------------------


def check_keyring(settings: Settings | None, secrets: SecretStore | None = None) -> Check:
    mode = "sim" if settings is None else settings.general.mode
    usable, description = keyring_status()
    if not usable:
        consequence = (
            "live trading needs the BigQuant keys and the QMT account from it"
            if mode == "live"
            else "not needed for the simulated setup; BigQuant keys cannot be stored until it works"
        )
        return Check("keyring", _severity(mode), f"unavailable: {description}; {consequence}")
    markers = (SecretStore() if secrets is None else secrets).status_markers()
    stored = [name for name, marker in markers.items() if marker == "***set***"]
    listing = ", ".join(stored) if stored else "none"
    return Check("keyring", Status.OK, f"{description}; secrets set: {listing}")


# --- QMT / xtquant ----------------------------------------------------------------------------

# Runs in a child process. A stand-in parent package lets the submodules import without running
# xtquant/__init__.py, whose PyPI version check can block for 10 s (RULES.md A4). The child process
# also keeps a crashing or hanging native module away from the doctor.
XTQUANT_PROBE_FLAG = "--probe-xtquant"


def xtquant_probe_main(args: list[str]) -> int:
    """The child's side of `probe_xtquant` (`python -m app --probe-xtquant DIR`, or the frozen
    program with the same arguments): import xtquant's modules from DIR under a bare package, so
    xtquant/__init__.py never runs, and print one JSON line."""
    import importlib
    import types

    if len(args) != 1:
        print(json.dumps({"error": f"{XTQUANT_PROBE_FLAG} takes one folder"}))
        return 2
    package = types.ModuleType("xtquant")
    package.__path__ = [args[0]]
    package.__package__ = "xtquant"
    sys.modules["xtquant"] = package
    result = {}
    for name in ("xtconstant", "xttype", "xtpythonclient"):
        try:
            importlib.import_module("xtquant." + name)
            result[name] = ""
        except BaseException as exc:
            result[name] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(result), flush=True)
    return 0


XtquantProbe = Callable[[Path], dict[str, str]]


def probe_xtquant(package_dir: Path, timeout_s: float = XTQUANT_PROBE_TIMEOUT_S) -> dict[str, str]:
    """{"xtconstant"|"xttype"|"xtpythonclient": "" if it imports, else the error}, from a child process."""
    names = ("xtconstant", "xttype", "xtpythonclient")
    try:
        completed = subprocess.run(
            self_command(XTQUANT_PROBE_FLAG, str(package_dir)),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout_s,
            check=False,
            # no console window flashing up when the GUI runs the doctor on Windows
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
        )
    except subprocess.TimeoutExpired:
        return dict.fromkeys(names, f"importing xtquant's modules took longer than {timeout_s:g} s")
    except OSError as exc:
        return dict.fromkeys(names, f"the probe process could not start: {exc}")
    try:
        result = json.loads(completed.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        # no report: the child died, e.g. inside a native module
        tail = completed.stderr.strip().splitlines()[-1:] or [f"exit code {completed.returncode}"]
        return dict.fromkeys(names, f"the probe process failed: {tail[0]}")
    return {name: str(result.get(name, "not probed")) for name in names}


def _xtquant_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec("xtquant")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _native_builds(package_dir: Path) -> str:
    """The platforms xtpythonclient was built for, e.g. "win_amd64", from its file names."""
    platforms = {
        match[1]
        for name in glob.glob(str(package_dir / "xtpythonclient*"))
        if (match := re.search(r"xtpythonclient\.[^.-]+-([^.]+)\.", Path(name).name))
    }
    return ", ".join(sorted(platforms)) or "none"


def check_qmt(settings: Settings | None, probe: XtquantProbe = probe_xtquant) -> list[Check]:
    mode = "sim" if settings is None else settings.general.mode
    qmt = QmtSettings() if settings is None else settings.qmt
    severity = _severity(mode)
    fallback = "; the simulated broker will be used" if mode == "sim" else ""
    unavailable = "QMT 不可用 / unavailable on this machine"
    checks: list[Check] = []

    package_dir = _xtquant_dir()
    if package_dir is None:
        checks.append(Check("QMT", severity, f"{unavailable}: xtquant is not installed{fallback}"))
    else:
        result = probe(package_dir)
        broken = {name: error for name, error in result.items() if error and name != "xtpythonclient"}
        if broken:
            detail = "; ".join(f"xtquant.{name}: {error}" for name, error in broken.items())
            checks.append(Check("QMT", severity, f"{unavailable}: {detail}{fallback}"))
        elif result["xtpythonclient"]:
            checks.append(
                Check(
                    "QMT",
                    severity,
                    f"{unavailable}: xtquant's native module xtpythonclient does not load "
                    f"({result['xtpythonclient']}; it ships for Windows only, builds found for: "
                    f"{_native_builds(package_dir)}){fallback}",
                )
            )
        else:
            checks.append(
                Check(
                    "QMT", Status.OK, f"xtquant loads (xttype, xtconstant, xtpythonclient) from {package_dir}"
                )
            )

    # the gateway's own finder (app/gateways/qmt/paths.py), so the doctor names the folder it would use
    from app.gateways.qmt.probe import userdata_folder

    folder, why = userdata_folder(qmt.userdata_path)
    if folder is not None:
        how = "" if qmt.userdata_path.strip() else " (found; qmt.userdata_path is not set)"
        checks.append(Check("QMT userdata", Status.OK, f"{folder}{how}"))
    elif qmt.userdata_path.strip():
        checks.append(Check("QMT userdata", severity, f"{why}{fallback}"))
    elif "several" in why:
        checks.append(Check("QMT userdata", severity, why))
    elif mode == "live":
        checks.append(Check("QMT userdata", Status.FAIL, why))
    return checks


def check_miniqmt(
    settings: Settings | None,
    *,
    home: Path | None = None,
    reach: Callable[[str, int], str | None] | None = None,
) -> list[Check]:
    """Is miniQMT running and can its xtdata service be reached (a TCP connect, in-process)? Only asked
    in live mode or once qmt.userdata_path is set: the simulated setup does not need it."""
    if settings is None or (settings.general.mode != "live" and not settings.qmt.userdata_path):
        return []
    from app.gateways.qmt.probe import reachable, xtdata_servers

    reach = reachable if reach is None else reach
    tried: list[str] = []
    for server in xtdata_servers(home)[:5]:
        why = reach(server.host, server.port)
        if why is None:
            return [
                Check(
                    "miniQMT",
                    Status.OK,
                    f"运行中，行情服务可连接 (running: xtdata at {server.host}:{server.port})",
                )
            ]
        state = " (running_status held: miniQMT runs)" if server.running else ""
        tried.append(f"{server.host}:{server.port}{state}: {why}")
    return [
        Check(
            "miniQMT",
            _severity(settings.general.mode),
            "miniQMT 未运行或无法连接 (not running or not reachable): 请启动 QMT 并勾选极简模式登录 "
            f"(start QMT with 极简模式 ticked and log in); tried {'; '.join(tried)}",
        )
    ]


def check_live_trading(settings: Settings | None, secrets: SecretStore, now: datetime | None = None) -> Check:
    """simulated / observe-only / armed, as the live database records it (read-only)."""
    from app.core.risk.arming import ARMING_META, LiveGuard, LiveState, LiveStatus

    if settings is None or settings.general.mode != "live":
        return Check("live trading", Status.OK, LiveStatus(LiveState.SIMULATED).describe())
    from app.domain.clock import CN_TZ

    guard = LiveGuard(enabled=settings.qmt.live_trading_enabled)
    now = datetime.now(CN_TZ) if now is None else now
    path = current_database(settings, secrets)
    text = None
    if path is not None and path.exists():
        try:
            text = _read_meta(path, ARMING_META)
        except Exception as exc:  # the doctor reports, it does not crash
            return Check(
                "live trading", Status.WARN, f"{guard.status(now).describe()}; 布防状态无法读取 ({exc})"
            )
    warning = guard.restore(text, now)
    if warning is not None:
        return Check("live trading", Status.WARN, warning)
    return Check("live trading", Status.OK, guard.status(now).describe())


def _read_meta(path: Path, key: str) -> str | None:
    import sqlite3

    from app.storage.integrity import read_only_uri

    immutable = not any(path.with_name(path.name + s).exists() for s in ("-wal", "-journal"))
    conn = sqlite3.connect(read_only_uri(path, immutable=immutable), uri=True, timeout=1.0)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.OperationalError:  # an older schema without it, or no meta at all
        return None
    finally:
        conn.close()
    return None if row is None else row[0]


# --- the whole report -------------------------------------------------------------------------


def run_doctor(
    *,
    env: Mapping[str, str] | None = None,
    argv_overrides: list[str] | None = None,
    path: Path | None = None,
    secrets: SecretStore | None = None,
    probe: XtquantProbe = probe_xtquant,
) -> DoctorReport:
    secrets = SecretStore() if secrets is None else secrets
    settings_check, settings = check_settings(env=env, argv_overrides=argv_overrides, path=path)
    mode = "sim" if settings is None else settings.general.mode
    checks = [
        check_python(),
        *(check_dependency(dependency, mode) for dependency in DEPENDENCIES),
        settings_check,
    ]
    if settings is None:
        checks.append(Check("database", Status.WARN, "skipped: the settings did not load"))
    else:
        checks += [check_data_dir(settings), check_database(settings, secrets)]
        checks += check_data_files(settings, skip=current_database(settings, secrets))
    checks.append(check_calendar(settings))
    checks.append(check_keyring(settings, secrets))
    checks += check_qmt(settings, probe)
    checks += check_miniqmt(settings)
    checks.append(check_live_trading(settings, secrets))
    return DoctorReport(tuple(checks))


_SYMBOLS = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗"}
_ASCII_SYMBOLS = {Status.OK: "[ok]", Status.WARN: "[warn]", Status.FAIL: "[FAIL]"}


def can_print_symbols(encoding: str | None) -> bool:
    """False for consoles that cannot show ✓/✗ (e.g. a Windows code page)."""
    if not encoding:
        return False
    try:
        "✓✗".encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def format_report(report: DoctorReport, *, symbols: bool = True) -> str:
    marks = _SYMBOLS if symbols else _ASCII_SYMBOLS
    lines = [f"tiller {__version__} doctor"]
    for check in report.checks:
        first, *rest = check.detail.splitlines() or [""]
        lines.append(f"{marks[check.status]} {check.name}: {first}")
        lines += [f"    {line}".rstrip() for line in rest]
    failures, warnings = report.with_status(Status.FAIL), report.with_status(Status.WARN)
    if report.usable:
        summary = "Tiller can run here" + (f" ({len(warnings)} warning(s))." if warnings else ".")
    else:
        names = ", ".join(dict.fromkeys(check.name for check in failures))
        summary = (
            f"Tiller cannot run here: fix {len(failures)} problem(s) marked {marks[Status.FAIL]} ({names})."
        )
    return "\n".join([*lines, "", summary])
