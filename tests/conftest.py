"""Fixtures for every test: no real keyring, no real config or data folder, GUI tests marked."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.qt_warnings import qt_warnings_fail  # noqa: F401 - a fixture, used below

# Before anything imports Qt (STYLE.md §5, pytest-qt).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test gets a fresh in-memory keyring; the previous backend is restored after."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Point the settings file and the data folder into tmp_path; drop any TILLER__* variable."""
    for name in list(os.environ):
        if name.upper().startswith("TILLER__"):
            monkeypatch.delenv(name)
    config_file = tmp_path / "config" / "config.toml"
    data_dir = tmp_path / "data"
    monkeypatch.setenv("TILLER_CONFIG", str(config_file))
    monkeypatch.setenv("TILLER_DATA_DIR", str(data_dir))
    return {"config_file": config_file, "data_dir": data_dir}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # qutebrowser's tests/conftest.py: a test that needs Qt is a `gui` test (pytest -m "not gui").
    # `slow` tests (the long crash loop) run only when asked for: pytest -m slow.
    run_slow = "slow" in (config.option.markexpr or "")
    skip_slow = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if {"qtbot", "qapp"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.gui)
        if not run_slow and item.get_closest_marker("slow") is not None:
            item.add_marker(skip_slow)


@pytest.fixture(scope="session")
def demo_folder_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder after one whole demo day (made once per run); copy it before changing it."""
    from tests.helpers.data_files import make_demo_folder

    return make_demo_folder(tmp_path_factory.mktemp("demo-template") / "data")


@pytest.fixture(autouse=True)
def tiller_log_handlers() -> Iterator[None]:
    """A test that runs a command in-process configures Tiller's log handlers: remove them after."""
    yield
    import logging

    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_tiller", False):
            root.removeHandler(handler)
            handler.close()


@pytest.fixture(autouse=True)
def _fail_on_qt_warnings(request: pytest.FixtureRequest) -> None:
    """Any Qt warning fails a GUI test (tests/helpers/qt_warnings.py)."""
    if {"qtbot", "qapp"} & set(request.fixturenames):
        request.getfixturevalue("qt_warnings_fail")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Collect the tests' Qt objects (windows, start-ups, their signal connections) while the
    QApplication still lives: left to the interpreter's own last collection, after Qt's teardown,
    PySide6 frees them into a dead library and the process aborts after every test passed."""
    import gc
    import sys

    if "PySide6.QtWidgets" in sys.modules:
        gc.collect()
