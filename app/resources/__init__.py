"""Tiller's bundled data (demo batch, demo positions, the recorded sample day), found in one way.

Every user goes through `resource_path`, which asks the import system where this package is
(`importlib.resources`), never `__file__` arithmetic or the working directory. That works alike
from a source checkout, from an installed wheel (the files are package data, see pyproject.toml)
and from a PyInstaller bundle (whose spec must collect `app/resources` as data: PyInstaller's
importer then serves `files()` from the unpacked bundle folder).
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from pathlib import Path

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


class ResourceMissingError(FileNotFoundError):
    """A file Tiller ships is missing: the installation is incomplete."""

    def __init__(self, relative: str, where: str) -> None:
        super().__init__(
            f"Tiller 自带的文件缺失：{relative}（在 {where} 中没有找到）。请重新安装 Tiller。\n"
            f"A file shipped with Tiller is missing: {relative} (not found in {where}). "
            "Reinstall Tiller."
        )
        self.relative = relative


def resource_path(*parts: str) -> Path:
    """The file or folder `app/resources/<parts...>` as a real path on disk.

    Raises ResourceMissingError if it is not there. A package served from a zip archive has its
    file extracted to a temporary folder that lives as long as the process."""
    if not parts or any(not part or part in {".", ".."} or "/" in part or "\\" in part for part in parts):
        raise ValueError(f"resource_path takes plain file and folder names, was {parts!r}")
    root = resources.files(__name__)
    target = root.joinpath(*parts)
    relative = "/".join(parts)
    if not target.is_file() and not target.is_dir():
        raise ResourceMissingError(relative, str(root))
    if isinstance(target, Path):
        return target
    return _extracted.enter_context(resources.as_file(target))  # pragma: no cover - zipped installs


__all__ = ["ResourceMissingError", "resource_path"]
