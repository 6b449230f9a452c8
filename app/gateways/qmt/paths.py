"""Where miniQMT is, and which session id to use (RULES.md A1: the userdata_mini folder; a session id
unique among the programs connected to the same miniQMT).

The ONE finder of the `userdata_mini` folder: the QMT gateway (bootstrap.build_live_setup) and the
doctor's check both call `find_userdata_path`, so they never disagree about which folder is used.
"""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterable
from pathlib import Path

from app.gateways.qmt.errors import QmtError

USERDATA_NAME = "userdata_mini"
_SESSION_RANGE = (100_000, 2**31 - 1)
_EXAMPLE = '"D:\\国金证券QMT交易端\\userdata_mini"'


def install_roots() -> list[Path]:
    """Where QMT installs are looked for: the top of each drive C: to H: that exists and the Program Files
    folders (Windows only; nowhere elsewhere)."""
    if sys.platform != "win32":
        return []
    roots = [Path(f"{letter}:\\") for letter in "CDEFGH" if Path(f"{letter}:\\").exists()]
    roots += [Path(p) for k in ("ProgramFiles", "ProgramFiles(x86)") if (p := os.environ.get(k))]
    return roots


def userdata_candidates(roots: Iterable[Path] | None = None) -> list[Path]:
    """The `userdata_mini` folders at `<root>/*/userdata_mini` and `<root>/*/*/userdata_mini` (a QMT install
    folder at the top of a drive or one level below, e.g. `D:\\国金证券QMT交易端\\userdata_mini` or
    `C:\\Program Files\\QMT\\userdata_mini`), sorted, each once; files and unreadable folders are skipped.
    `roots`: `install_roots()` by default."""
    found: set[Path] = set()
    for root in install_roots() if roots is None else roots:
        for pattern in (f"*/{USERDATA_NAME}", f"*/*/{USERDATA_NAME}"):
            try:
                found.update(p for p in root.glob(pattern) if p.is_dir())
            except OSError:
                continue
    return sorted(found)


def find_userdata_path(
    configured: str = "", candidates: Iterable[Path] | None = None, *, roots: Iterable[Path] | None = None
) -> Path:
    """The userdata_mini folder: the configured one (`qmt.userdata_path`, which must be a folder), else
    the one found in the usual install folders (`userdata_candidates(roots)`, or the existing ones of
    `candidates` when given). None found, or several: QmtError saying what was looked at and what to
    set."""
    if configured.strip():
        path = Path(os.path.expandvars(configured.strip())).expanduser()
        if not path.is_dir():
            raise QmtError(
                f"找不到 miniQMT 的 userdata_mini 文件夹 (qmt.userdata_path {path} is not an existing folder). "
                "请在设置中填写 miniQMT 安装目录下的 userdata_mini 路径 "
                "(set qmt.userdata_path to the userdata_mini folder inside the miniQMT install folder)"
            )
        return path
    if candidates is not None:
        looked = [Path(p) for p in candidates]
        found = [p for p in dict.fromkeys(looked) if p.is_dir()]
        where = "; ".join(str(p) for p in looked[:6]) + (" …" if len(looked) > 6 else "")
    else:
        looked = list(install_roots() if roots is None else roots)
        found = userdata_candidates(looked)
        where = "; ".join(f"{r}{os.sep}*{os.sep}{USERDATA_NAME}, {r}{os.sep}*{os.sep}*{os.sep}{USERDATA_NAME}"
                          for r in looked[:4]) + (" …" if len(looked) > 4 else "")  # fmt: skip
    if len(found) == 1:
        return found[0]
    if found:
        raise QmtError(
            "找到多个 miniQMT 的 userdata_mini，请在 qmt.userdata_path 中选一个 (several userdata_mini folders "
            f"were found, set qmt.userdata_path to one): {'; '.join(str(p) for p in found)}"
        )
    raise QmtError(
        "未找到 miniQMT (no miniQMT userdata_mini folder found"
        + (f" in the usual install folders: {where}" if looked else "; this is not Windows")
        + "). 请设置 qmt.userdata_path (set qmt.userdata_path: python -m app config set qmt.userdata_path "
        + _EXAMPLE
        + ")"
    )


def choose_session_id(
    configured: int = 0, *, avoid: Iterable[int] = (), rng: random.Random | None = None
) -> int:
    """The configured session id, else a random one (another running script on the same miniQMT is
    unlikely to hold it; a clash shows as a failed connect, which picks another)."""
    if configured:
        return configured
    rng = rng or random.SystemRandom()
    avoid = set(avoid)
    while True:
        session = rng.randint(*_SESSION_RANGE)
        if session not in avoid:
            return session
