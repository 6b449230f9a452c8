"""Where Tiller keeps its databases and backups.

One SQLite file per account and mode (ARCHITECTURE.md, Persistence): live and simulated trading
never share a file (freqtrade's separate dry-run database, STYLE.md §3.3). A live broker account id
never appears in a file name: file names leak into screenshots, support mails and sync logs.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

DATA_DIR_ENV = "TILLER_DATA_DIR"
MODES = frozenset({"sim", "live"})
BACKUP_FOLDER_NAME = "backups"

# 12 hex digits (48 bits) of sha256 tell accounts apart without showing the id.
_HASH_DIGITS = 12
_SIM_ID_MAX_LENGTH = 40
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_-]+")


def default_data_dir() -> Path:
    """The per-user data folder; $TILLER_DATA_DIR wins on every platform."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        appdata = os.environ.get("APPDATA", "").strip()
        base = Path(appdata) if appdata else Path.home() / "AppData" / "Roaming"
        return base / "Tiller"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Tiller"
    # XDG Base Directory spec: a relative $XDG_DATA_HOME is invalid and must be ignored.
    xdg_data_home = os.environ.get("XDG_DATA_HOME", "").strip()
    if xdg_data_home and Path(xdg_data_home).is_absolute():
        return Path(xdg_data_home) / "tiller"
    return Path.home() / ".local" / "share" / "tiller"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH_DIGITS]


def _sim_name_part(account_id: str) -> str:
    safe = _UNSAFE_NAME_CHARS.sub("_", account_id).strip("_")[:_SIM_ID_MAX_LENGTH]
    if safe == account_id:
        return safe
    # Sanitizing lost information ("a/b" and "a_b" would collide): add the hash of the real id.
    return f"{safe}-{_short_hash(account_id)}" if safe else _short_hash(account_id)


def database_path(data_dir: Path, account_id: str, mode: str) -> Path:
    """The database file of one account in one mode, directly inside `data_dir`."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {sorted(MODES)}, was {mode!r}")
    if not isinstance(account_id, str) or not account_id.strip():
        raise ValueError(f"account_id must be a non-empty string, was {account_id!r}")
    if mode == "live":
        return Path(data_dir) / f"tiller-live-{_short_hash(account_id)}.db"
    return Path(data_dir) / f"tiller-sim-{_sim_name_part(account_id)}.db"


def backup_dir(data_dir: Path) -> Path:
    """The folder holding the backups of every database in `data_dir`."""
    return Path(data_dir) / BACKUP_FOLDER_NAME
