"""Can QMT be reached from here, and if not, why (for `doctor` and the QMT gateway's start).

Everything here runs in-process and starts no child process, imports nothing of xtquant (its
`__init__` does a PyPI version check that can block for 10 s, RULES.md A4) and never loads its native
client: it looks at files and opens a TCP connection, nothing more.

- the `userdata_mini` folder: found by paths.py (`find_userdata_path`, `userdata_candidates`), the one
  finder the gateway uses too.
- `xtdata_servers(home)`: the xtdata services miniQMT announces in `~/.xtquant/*/xtdata.cfg` (what
  xtquant's own xtconn scans), plus xtdata's default 127.0.0.1:58610; `reachable(host, port)` tries
  a TCP connection to one.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from app.gateways.qmt.errors import QmtError
from app.gateways.qmt.paths import find_userdata_path, userdata_candidates

DEFAULT_XTDATA = ("127.0.0.1", 58610)  # xtdata.connect's default address


def userdata_folder(configured: str = "", roots: Iterable[Path] | None = None) -> tuple[Path | None, str]:
    """(the userdata_mini folder the gateway would use, "") or (None, why none): the gateway's own
    finder (paths.find_userdata_path), so the doctor and the gateway never disagree."""
    try:
        return find_userdata_path(configured, roots=roots), ""
    except QmtError as exc:
        return None, str(exc)


__all__ = [
    "DEFAULT_XTDATA",
    "XtdataServer",
    "reachable",
    "userdata_candidates",
    "userdata_folder",
    "xtdata_servers",
]


@dataclass(frozen=True, slots=True)
class XtdataServer:
    host: str
    port: int
    source: str  # the xtdata.cfg it was read from, or "default"
    running: bool | None = None  # xtconn's running_status lock: True held, False free, None unknown


def _home() -> Path:
    return Path(os.environ.get("USERPROFILE") or Path.home())


def xtdata_servers(home: Path | None = None) -> list[XtdataServer]:
    """The xtdata services announced under `<home>/.xtquant`, then the default address."""
    servers: list[XtdataServer] = []
    config_dir = (home or _home()) / ".xtquant"
    try:
        folders = sorted(p for p in config_dir.iterdir() if p.is_dir())
    except OSError:
        folders = []
    for folder in folders:
        cfg = folder / "xtdata.cfg"
        try:
            data = json.loads(cfg.read_text(encoding="utf-8-sig"))
        except (OSError, ValueError):
            continue
        if not isinstance(data, Mapping):
            continue
        port = data.get("port")
        if port.__class__ is not int or not 0 < port < 65536:
            continue
        host = data.get("ip") or DEFAULT_XTDATA[0]
        servers.append(XtdataServer(str(host), port, str(cfg), _running(folder / "running_status")))
    if not any((s.host, s.port) == DEFAULT_XTDATA for s in servers):
        servers.append(XtdataServer(*DEFAULT_XTDATA, "default"))
    return servers


def _running(status: Path) -> bool | None:
    """miniQMT keeps `running_status` open while it runs: opening it for writing is refused then (on
    Windows). Nothing is changed or removed (xtquant's own scan removes the file; this does not)."""
    if not status.exists():
        return False
    try:
        with open(status, "r+b"):
            return False if sys.platform == "win32" else None
    except PermissionError:
        return True
    except OSError:
        return None


def reachable(host: str, port: int, timeout_s: float = 0.5) -> str | None:
    """None if a TCP connection to host:port opens, else why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc.strerror or exc}"
