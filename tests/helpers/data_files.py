"""Shared by the lock, damaged-file and packaging tests: a real data folder, hashes, the CLI in a child."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "SIM001"
DATABASE = f"tiller-sim-{ACCOUNT}.db"
BROKER = f"tiller-sim-{ACCOUNT}-broker.db"


def make_demo_folder(folder: Path) -> Path:
    """A data folder after one whole demo day: Tiller's database and the broker's file, closed."""
    from app.config import load_settings
    from app.demo import run_demo

    settings = load_settings(env={}, path=folder.parent / "no-settings.toml")
    run_demo(settings, seed=7, speed=0, data_dir=folder, out=io.StringIO(), progress=False)
    assert (folder / DATABASE).is_file() and (folder / BROKER).is_file()
    return folder


def copy_folder(template: Path, target: Path) -> Path:
    shutil.copytree(template, target)
    return target


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file directly in `folder` (SQLite's -shm index excluded: it is rebuilt)."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.iterdir())
        if path.is_file() and not path.name.endswith("-shm")
    }


def app_env(data_dir: Path, config: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("TILLER__")}
    env.update(
        TILLER_DATA_DIR=str(data_dir),
        TILLER_CONFIG=str(config),
        PYTHON_KEYRING_BACKEND="tests.helpers.memory_keyring.MemoryKeyring",
        PYTHONIOENCODING="utf-8",
    )
    env.update(extra)
    return env


def run_app(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m app ARGS` in a child process, from the repository."""
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="replace",
        timeout=timeout,
        check=False,
    )
