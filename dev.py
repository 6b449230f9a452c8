#!/usr/bin/env python3
"""Set up and run Tiller with nothing but Python 3.11+ (stdlib only).

    python dev.py run [ARGS...]   create .venv if needed, install Tiller, run `python -m app ARGS`
    python dev.py test [ARGS...]  create .venv if needed, install Tiller with its test extra, run pytest
    python dev.py translations    regenerate the English catalogue (app/resources/i18n/tiller_en.ts
                                  by pyside6-lupdate, tiller_en.qm by lrelease; lists texts lacking English)

On Windows use `py dev.py …`. The virtual environment is re-synced whenever pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
MIN_PYTHON = (3, 11)


def venv_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env(env_dir: Path, extra: str) -> Path:
    """Create the venv and install the project (editable) once per pyproject.toml + extra."""
    python = venv_python(env_dir)
    if not python.exists():
        print(f"Creating a virtual environment in {env_dir} …", flush=True)
        venv.EnvBuilder(with_pip=True).create(env_dir)
    stamp = env_dir / f".tiller-installed-{extra or 'base'}"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not stamp.exists() or stamp.read_text() != wanted:
        target = f"{ROOT}[{extra}]" if extra else str(ROOT)
        print(f"Installing Tiller and its dependencies ({extra or 'runtime'}) …", flush=True)
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check"]
        subprocess.run([*pip, "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "--quiet", "-e", target], check=True)
        stamp.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        print(
            f"Tiller needs Python {'.'.join(map(str, MIN_PYTHON))} or newer, this is {sys.version.split()[0]}"
        )
        return 2
    if not argv or argv[0] not in {"run", "test", "translations"}:
        print(__doc__)
        return 2
    env_dir = Path(os.environ.get("TILLER_VENV", ROOT / ".venv"))
    command, rest = argv[0], argv[1:]
    try:
        python = ensure_env(env_dir, "test" if command == "test" else "")
    except subprocess.CalledProcessError as exc:
        print(f"Setting up failed: {exc}. Check your network access to PyPI and try again.")
        return 1
    if command == "run":
        return subprocess.call([str(python), "-m", "app", *rest], cwd=ROOT)
    if command == "translations":
        return subprocess.call([str(python), "-m", "app.ui.catalogue"], cwd=ROOT)
    code = subprocess.call([str(python), "-m", "pytest", *rest], cwd=ROOT)
    if code == 5:  # pytest: no tests were collected — never a pass
        print("pytest collected no tests: failing.")
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
