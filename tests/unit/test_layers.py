"""The import direction of ARCHITECTURE.md (Layers), checked on the source with ast."""

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
FORBIDDEN_IN_CORE = {
    "PySide6", "pyqtgraph", "httpx", "sqlite_utils", "sqlite3", "apscheduler", "keyring", "xtquant",
}  # fmt: skip
SIBLINGS = {"ui", "gateways", "feeds", "clients", "devserver", "storage", "scheduler"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def files_of(package: str) -> list[Path]:
    return sorted((APP / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["domain", "core"])
def test_domain_and_core_import_no_gui_io_or_vendor_library(package: str) -> None:
    offenders = [
        f"{path.relative_to(APP)} imports {name}"
        for path in files_of(package)
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN_IN_CORE
    ]
    assert offenders == []


def test_domain_imports_nothing_of_the_app_above_it() -> None:
    offenders = [
        f"{path.relative_to(APP)} imports {name}"
        for path in files_of("domain")
        for name in imported_modules(path)
        if name.startswith("app.") and not name.startswith("app.domain")
    ]
    assert offenders == []


def test_core_imports_only_domain_and_itself() -> None:
    offenders = [
        f"{path.relative_to(APP)} imports {name}"
        for path in files_of("core")
        for name in imported_modules(path)
        if name.startswith("app.") and not name.startswith(("app.domain", "app.core"))
    ]
    assert offenders == []


@pytest.mark.parametrize("package", sorted(SIBLINGS))
def test_sibling_layers_do_not_import_each_other(package: str) -> None:
    others = SIBLINGS - {package}
    offenders = [
        f"{path.relative_to(APP)} imports {name}"
        for path in files_of(package)
        for name in imported_modules(path)
        if name.startswith("app.") and name.split(".")[1] in others | {"bootstrap"}
    ]
    assert offenders == []


def test_the_checker_sees_a_forbidden_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sqlite3\nfrom PySide6.QtCore import QObject\n", encoding="utf-8")
    assert {"sqlite3", "PySide6.QtCore"} <= imported_modules(bad)


def private_imports(path: Path) -> set[str]:
    """`module._name` for every private name `path` imports from another module of the app."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app")
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    }


def test_no_module_takes_a_private_name_from_outside_its_own_package() -> None:
    # A subpackage's modules may share their private names (app/clients, app/core/planning); the
    # app's top-level modules (bootstrap, headless, demo, doctor...) and the layers only use what
    # another module makes public.
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        package = ".".join(("app", *path.relative_to(APP).parent.parts))
        offenders += [
            f"{path.relative_to(APP)} imports {name}"
            for name in private_imports(path)
            if package == "app" or name.rsplit(".", 2)[0] != package
        ]
    assert offenders == []


def test_the_private_import_checker_sees_one(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from app.demo import _demo_positions, DEMO_BATCH\n", encoding="utf-8")
    assert private_imports(bad) == {"app.demo._demo_positions"}
