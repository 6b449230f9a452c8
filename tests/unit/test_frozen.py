"""app.frozen: how Tiller starts itself as a child process, from source and frozen; the build
script's version numbers for Windows' file properties."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from app import frozen
from app.doctor import XTQUANT_PROBE_FLAG, probe_xtquant
from tests.helpers.data_files import REPO


def _build_module():
    spec = importlib.util.spec_from_file_location("tiller_installer_build", REPO / "installer" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_from_source_tiller_starts_itself_with_the_interpreter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)

    assert not frozen.is_frozen()
    assert frozen.self_command("doctor") == [sys.executable, "-m", "app", "doctor"]
    assert frozen.bundle_dir() is None


def test_frozen_tiller_starts_its_own_program(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    program = tmp_path / "Tiller" / "tiller-cli.exe"
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(program))
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path / "Tiller" / "_internal"), raising=False)

    assert frozen.is_frozen()
    assert frozen.self_command(XTQUANT_PROBE_FLAG, "x") == [str(program), XTQUANT_PROBE_FLAG, "x"]
    assert frozen.bundle_dir() == tmp_path / "Tiller" / "_internal"


def test_the_xtquant_probe_runs_through_the_command_line(tmp_path: Path) -> None:
    """The doctor's child is `python -m app --probe-xtquant DIR` (the same arguments frozen): it
    imports the modules under a bare package, so a broken __init__.py never runs."""
    package = tmp_path / "xtquant"
    package.mkdir()
    (package / "__init__.py").write_text("raise SystemExit('the real __init__ must not run')\n")
    (package / "xtconstant.py").write_text("STOCK_BUY = 23\n")
    (package / "xttype.py").write_text("from . import xtconstant\n")
    (package / "xtpythonclient.py").write_text("raise ImportError('DLL load failed')\n")

    report = probe_xtquant(package)

    assert report == {"xtconstant": "", "xttype": "", "xtpythonclient": "ImportError: DLL load failed"}


def test_the_probe_flag_needs_one_folder() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app", XTQUANT_PROBE_FLAG], capture_output=True, text=True, check=False,
        cwd=REPO,
    )  # fmt: skip

    assert result.returncode == 2
    assert "one folder" in json.loads(result.stdout)["error"]


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1.0", (0, 1, 0, 0)), ("1.2.3.4", (1, 2, 3, 4)), ("0.4.0.dev1", (0, 4, 0, 0)), ("2.0rc1", (2, 0, 0, 0)),
     ("1.99999.0", (1, 65535, 0, 0)), ("", (0, 0, 0, 0))],
)  # fmt: skip
def test_windows_file_versions_are_four_small_numbers(version: str, expected: tuple[int, ...]) -> None:
    assert _build_module().numeric_version(version) == expected


def test_the_version_resource_names_the_version(tmp_path: Path) -> None:
    path = _build_module().write_version_resource("1.2.3", tmp_path / "v.txt")

    text = path.read_text(encoding="utf-8")
    assert "filevers=(1, 2, 3, 0)" in text
    assert "StringStruct('ProductVersion', '1.2.3')" in text
    compile(text, str(path), "eval")  # PyInstaller evaluates it as a Python expression
