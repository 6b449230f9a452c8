"""Bundled data is found through one helper, inside the installed package, never by path arithmetic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import app
from app.failures import EXIT_KNOWN, explain
from app.resources import ResourceMissingError, resource_path

PACKAGE = Path(app.__file__).resolve().parent


def test_demo_files_resolve_inside_the_package() -> None:
    batch = resource_path("demo", "planned_orders.json")

    assert batch.is_file()
    assert batch.resolve().is_relative_to(PACKAGE / "resources")
    assert json.loads(batch.read_text(encoding="utf-8"))["data"]["items"]
    assert resource_path("demo").is_dir()


def test_a_missing_resource_is_a_known_error_saying_reinstall() -> None:
    with pytest.raises(ResourceMissingError) as missing:
        resource_path("demo", "no-such-file.json")

    assert isinstance(missing.value, FileNotFoundError)
    assert "demo/no-such-file.json" in str(missing.value)
    explanation = explain(missing.value)
    assert explanation is not None and "Reinstall Tiller" in explanation.message
    assert EXIT_KNOWN == 1


@pytest.mark.parametrize(
    "parts", [(), ("",), ("..", "config.py"), ("demo/positions.json",), ("demo\\x",), (".",)]
)
def test_only_plain_names_are_taken(parts: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="plain file and folder names"):
        resource_path(*parts)


def test_no_module_finds_resources_relative_to_its_own_file() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if '"resources"' in path.read_text(encoding="utf-8") and path.parent.name != "resources"
    ]
    assert offenders == []
