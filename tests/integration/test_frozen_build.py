"""The frozen build: installer/build.py makes the one-folder bundle and the tarball on this machine,
and the frozen programs run: `--version`, `doctor`, `demo --speed 0`, and the window offscreen.

Slow (PyInstaller takes minutes): `python dev.py test -m slow tests/integration/test_frozen_build.py`.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from app import __version__
from tests.helpers.data_files import REPO

pytestmark = pytest.mark.slow

WINDOWS = sys.platform == "win32"
CLI = "tiller-cli.exe" if WINDOWS else "tiller"
WINDOW = "Tiller.exe" if WINDOWS else "tiller-window"


def _run(args: list[str], *, env: dict[str, str], timeout: float = 600, cwd: Path | None = None):
    return subprocess.run(
        args, capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout,
        check=False, env=env, cwd=cwd,
    )  # fmt: skip


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("frozen")
    result = _run(
        [sys.executable, str(REPO / "installer" / "build.py"), "--dist", str(root / "dist"),
         "--work", str(root / "work"), "--no-installer"],
        env=dict(os.environ), timeout=1800,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert f"Bundle: {root / 'dist' / 'Tiller'}" in result.stdout
    assert "MiB" in result.stdout
    return root / "dist"


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's environment: no Python of ours on the path, data and settings in their own folders."""
    env = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("TILLER", "PYTHON", "VIRTUAL_ENV"))
    }
    env.update(TILLER_DATA_DIR=str(tmp_path / "data"), TILLER_CONFIG=str(tmp_path / "config.toml"),
               QT_QPA_PLATFORM="offscreen", PYTHONIOENCODING="utf-8")  # fmt: skip
    return env


def test_the_bundle_has_both_programs_and_the_tarball_holds_it(built: Path) -> None:
    bundle = built / "Tiller"
    assert (bundle / CLI).is_file()
    assert (bundle / WINDOW).is_file()
    if not WINDOWS:
        (tarball,) = built.glob(f"tiller-{__version__}-linux-*.tar.gz")
        with tarfile.open(tarball) as tar:
            names = tar.getnames()
        assert f"tiller-{__version__}/{CLI}" in names
        assert f"tiller-{__version__}/{WINDOW}" in names
    # the test tools and the sources of the repository do not ship
    assert not list(bundle.rglob("pytest*"))
    assert not list(bundle.rglob("hypothesis"))


def test_frozen_version(built: Path, user_env: dict[str, str], tmp_path: Path) -> None:
    result = _run([str(built / "Tiller" / CLI), "--version"], env=user_env, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"tiller {__version__}"


def test_frozen_doctor_finds_every_dependency_and_probes_xtquant_without_python(
    built: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    result = _run([str(built / "Tiller" / CLI), "doctor"], env=user_env, cwd=tmp_path)

    out = result.stdout
    assert f"tiller {__version__} doctor" in out
    for name in ("PySide6", "pyqtgraph", "pandas", "httpx", "keyring", "APScheduler", "xtquant"):
        line = next(line for line in out.splitlines() if line[2:].startswith(f"{name}:"))
        assert line.startswith("✓"), line
        assert "version unknown" not in line, line
    qmt = next(line for line in out.splitlines() if "QMT" in line)
    # the probe ran as a child of the frozen program itself (there is no python -c to run here):
    # on Linux it reports the Windows-only native client, never a failed probe process
    assert "probe process" not in qmt, qmt
    if not WINDOWS:
        assert "xtpythonclient" in qmt
    assert "Traceback" not in out + result.stderr
    assert result.returncode == 0, out + result.stderr


def test_frozen_demo_runs_a_whole_day(built: Path, user_env: dict[str, str], tmp_path: Path) -> None:
    result = _run(
        [str(built / "Tiller" / CLI), "demo", "--speed", "0", "--quiet", "--data-dir", str(tmp_path / "day")],
        env=user_env, cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "当日盈亏" in result.stdout
    log = Path(user_env["TILLER_DATA_DIR"]) / "logs" / "tiller.log"
    assert log.is_file(), "the frozen program logs to the user's data folder"


@pytest.mark.skipif(importlib.util.find_spec("app.ui") is None, reason="the window has not landed yet")
def test_frozen_window_starts_offscreen_and_keeps_running(
    built: Path, user_env: dict[str, str], tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [str(built / "Tiller" / WINDOW)], env=user_env, cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.2)
        alive = process.poll() is None
    finally:
        process.terminate()
        try:
            out, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
    assert alive, f"the window exited with {process.returncode}: {out[-2000:]} {err[-2000:]}"
    assert "Traceback" not in err, err[-3000:]
