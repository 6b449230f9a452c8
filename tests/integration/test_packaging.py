"""The built wheel carries Tiller's resources: installed into a fresh virtual environment, away from
the source tree, the demo runs and finds its data inside the installed package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.helpers.data_files import REPO

SHIPPED = ("app/resources/demo/planned_orders.json", "app/resources/demo/planned_orders_b.json",
           "app/resources/demo/positions.json", "app/resources/demo/2026-11-20.jsonl.gz",
           "app/domain/calendar_closed.toml", "app/resources/i18n/tiller_en.qm")  # fmt: skip


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=300,
        check=False,
        **kwargs,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the sources (the build leaves build/ and *.egg-info behind)."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(REPO / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    # Offline: the test extra installs setuptools and wheel into this environment.
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "-w", str(root / "dist"), str(source)],
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (path,) = (root / "dist").glob("tiller-*.whl")
    return path


def test_wheel_contains_the_resources_and_no_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())

    assert set(SHIPPED) <= names
    assert "app/resources/__init__.py" in names
    assert not any(name.startswith(("tests/", "bench/", "resources/")) for name in names)


def test_installed_wheel_runs_the_demo_from_its_own_resources(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(
        _run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip()
    )
    # The dependencies come from this test environment's site-packages, added as plain path lines:
    # a .pth line does not run the .pth files in that folder, so the editable hook that maps `app`
    # to the source tree stays off, and `app` can only come from the wheel.
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "tiller-test-deps.pth").write_text("\n".join(sorted(ours)) + "\n", encoding="utf-8")
    installed = _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index",
         "--disable-pip-version-check", str(wheel)],
    )  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    work = tmp_path / "elsewhere"  # not the repository: nothing can be found relative to it
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.upper().startswith("TILLER__")}
    env.update(TILLER_DATA_DIR=str(tmp_path / "data"), TILLER_CONFIG=str(tmp_path / "config.toml"))
    env["PYTHONIOENCODING"] = "utf-8"

    where = _run(
        [str(python), "-c", "import app, app.resources as r; print(app.__file__); "
         "print(r.resource_path('demo', 'planned_orders.json'))"],
        cwd=work, env=env,
    )  # fmt: skip
    demo = _run([str(python), "-m", "app", "demo", "--speed", "0", "--quiet"], cwd=work, env=env)

    assert where.returncode == 0, where.stderr
    package_file, resource = (Path(line) for line in where.stdout.splitlines())
    assert package_file.is_relative_to(site)
    assert resource == site / "app" / "resources" / "demo" / "planned_orders.json"
    assert resource.is_file()
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "当日盈亏" in demo.stdout
