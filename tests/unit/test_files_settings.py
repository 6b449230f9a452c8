"""The [files] settings section (file orders)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import SettingsError, load_settings


def settings(tmp_path: Path, *overrides: str):
    return load_settings(argv_overrides=list(overrides), env={}, path=tmp_path / "none.toml")


def test_off_by_default_and_an_absolute_folder_turns_it_on(tmp_path: Path) -> None:
    assert settings(tmp_path).files.inbox_path is None
    on = settings(
        tmp_path, f"files.inbox={tmp_path / 'in'}", "files.strategy_id=my-s.1", "files.stable_s=0.5"
    )
    assert on.files.inbox_path == tmp_path / "in"
    assert (on.files.strategy_id, on.files.stable_s) == ("my-s.1", 0.5)


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("files.inbox=relative/folder", "absolute folder"),
        ("files.strategy_id=has space", "an id"),
        ("files.strategy_id=" + "x" * 65, "an id"),
        ("files.stable_s=0", "above 0"),
        ("files.poll_s=1e400", "at most 600"),
    ],
)
def test_bad_values_are_refused_naming_the_key(tmp_path: Path, override: str, words: str) -> None:
    with pytest.raises(SettingsError, match=words) as info:
        settings(tmp_path, override)
    assert override.split("=")[0] in str(info.value)
