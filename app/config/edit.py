"""Changing some values of the user's settings file in place: the settings dialog and the first-run
wizard save through `update_settings_file`.

The file is edited, not rewritten: tomlkit keeps the user's comments, key order, blank lines and
line endings, and a byte order mark the file starts with stays. The merged text is checked by
`load_settings` before it replaces the file (atomically); on any problem the file stays as it was.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError

from app.config._fields import plain
from app.config.loader import UTF8_BOM, SettingsError, load_settings, read_settings_text
from app.config.sections import Settings


def _clean_env() -> dict[str, str]:
    # The file is what is checked: environment overrides (TILLER__...) must not hide a bad value.
    return {k: v for k, v in os.environ.items() if not k.upper().startswith("TILLER__")}


def settings_file_with(
    text: str, changes: Mapping[str, Mapping[str, Any]], origin: str = "the settings file"
) -> str:
    """`text` (TOML) with `changes` ({section: {key: value}}) set: what was there is kept as it was
    written, a changed key stays where it stood (with its comment), a new key goes at the end of its
    section and a new section at the end of the file. Raises SettingsError when `text` is not TOML
    or a section's name is taken by something that is not a table."""
    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise SettingsError(f"{origin}: not a valid TOML file: {exc}") from None
    for section, values in changes.items():
        table = document.get(section)
        if table is None:
            table = document[section] = tomlkit.table()
        elif not isinstance(table, dict):
            raise SettingsError(
                f"{section}: settings go inside sections such as [general] or [fees], "
                f"was a top-level key (from {origin})"
            )
        for key, value in values.items():
            table[key] = plain(value)
    merged = tomlkit.dumps(document)
    if "\r\n" in text:  # a Windows file keeps its line endings, the new lines too
        merged = merged.replace("\r\n", "\n").replace("\n", "\r\n")
    return merged


def update_settings_file(path: Path, changes: Mapping[str, Mapping[str, Any]]) -> Settings:
    """Merge `changes` ({section: {key: value}}) into the TOML file at `path` (made if missing) and
    return the settings it now gives. The user's comments and key order are kept; the merged file
    is checked by `load_settings` first, and on any problem a SettingsError is raised and the file
    stays as it was. A file that is not UTF-8 (e.g. saved as GBK) is refused as the loader refuses
    it."""
    try:
        text, bom = read_settings_text(path)
    except FileNotFoundError:
        text, bom = "", False
    merged = settings_file_with(text, changes, str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes((UTF8_BOM if bom else b"") + merged.encode("utf-8"))
    try:
        load_settings(path=temporary, env=_clean_env())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    temporary.replace(path)  # atomic: never a half-written settings file
    return load_settings(path=path, env=_clean_env())
