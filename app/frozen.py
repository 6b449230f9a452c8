"""Running from source or frozen (a PyInstaller bundle): the few places where it differs.

A frozen Tiller has no Python interpreter to hand: `sys.executable` is Tiller's own program, so
`sys.executable -m app ...` or `-c CODE` would start Tiller again with arguments it does not know.
Everything that starts Tiller as a child process goes through `self_command`.
"""

from __future__ import annotations

import sys
from pathlib import Path


def is_frozen() -> bool:
    """True inside a PyInstaller bundle (the bootloader sets `sys.frozen` and `sys._MEIPASS`)."""
    return bool(getattr(sys, "frozen", False))


def self_command(*args: str) -> list[str]:
    """The command line that runs Tiller's command line with `args`, from source or frozen."""
    if is_frozen():
        return [sys.executable, *args]
    return [sys.executable, "-m", "app", *args]


def bundle_dir() -> Path | None:
    """The folder the frozen program was unpacked into, or None from source."""
    if not is_frozen():
        return None
    return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))


__all__ = ["bundle_dir", "is_frozen", "self_command"]
