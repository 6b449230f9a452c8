"""Where the settings file and the data folder live, and the environment variables that move them."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ENV_PREFIX = "TILLER__"
CONFIG_ENV_VAR = "TILLER_CONFIG"
DATA_DIR_ENV_VAR = "TILLER_DATA_DIR"
CONFIG_FILE_NAME = "config.toml"


def _env_value(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _home(env: Mapping[str, str], platform: str) -> Path:
    # What Path.home() reads on each platform, but from `env` so callers can pass their own.
    home = _env_value(env, "USERPROFILE" if platform == "win32" else "HOME")
    return Path(home) if home else Path.home()


def _user_folder(
    env: Mapping[str, str], platform: str, xdg_variable: str, xdg_fallback: tuple[str, ...]
) -> Path:
    """The per-user folder that holds Tiller's own folder (named "Tiller" there, "tiller" on Linux)."""
    if platform == "win32":
        appdata = _env_value(env, "APPDATA")
        return (Path(appdata) if appdata else _home(env, platform) / "AppData" / "Roaming") / "Tiller"
    if platform == "darwin":
        return _home(env, platform) / "Library" / "Application Support" / "Tiller"
    # XDG Base Directory spec: a relative value is invalid and must be ignored.
    xdg = _env_value(env, xdg_variable)
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else _home(env, platform).joinpath(*xdg_fallback)
    return base / "tiller"


def default_config_path(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The settings file: $TILLER_CONFIG, else config.toml in the platform's user config folder
    (Windows %APPDATA%/Tiller, macOS ~/Library/Application Support/Tiller, Linux $XDG_CONFIG_HOME/tiller
    or ~/.config/tiller)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    override = _env_value(env, CONFIG_ENV_VAR)
    if override:
        return Path(override).expanduser()
    return _user_folder(env, platform, "XDG_CONFIG_HOME", (".config",)) / CONFIG_FILE_NAME


def default_data_dir(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The data folder, by the same rule as `app.storage.paths.default_data_dir` but reading `env`.

    $TILLER_DATA_DIR; else Windows %APPDATA%/Tiller, macOS ~/Library/Application Support/Tiller,
    Linux $XDG_DATA_HOME/tiller or ~/.local/share/tiller.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    override = _env_value(env, DATA_DIR_ENV_VAR)
    if override:
        return Path(override).expanduser()
    return _user_folder(env, platform, "XDG_DATA_HOME", (".local", "share"))
