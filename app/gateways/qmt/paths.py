"""Where miniQMT is, and which session id to use (RULES.md A1: the userdata_mini folder; a session id
unique among the programs connected to the same miniQMT)."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterable
from pathlib import Path

from app.gateways.qmt.errors import QmtError

# Install folders of the usual broker builds of miniQMT (the folder holding userdata_mini).
_INSTALL_NAMES = (
    "国金证券QMT交易端",
    "国金QMT交易端模拟",
    "迅投极速交易终端 睿智融科版",
    "迅投极速交易终端睿智融科版",
    "华鑫证券QMT",
    "中泰证券XTP极速交易终端",
    "国信iQuant策略交易平台",
    "QMT",
    "miniQMT",
)
_SESSION_RANGE = (100_000, 2**31 - 1)


def candidate_folders(drives: Iterable[str] | None = None) -> list[Path]:
    """The userdata_mini folders looked for when `qmt.userdata_path` is not set (Windows only)."""
    if drives is None:
        if sys.platform != "win32":
            return []
        drives = [f"{letter}:\\" for letter in "CDEFGH"]
    out: list[Path] = []
    for drive in drives:
        for base in (Path(drive), Path(drive) / "Program Files", Path(drive) / "Program Files (x86)"):
            out.extend(base / name / "userdata_mini" for name in _INSTALL_NAMES)
    return out


def find_userdata_path(configured: str = "", candidates: Iterable[Path] | None = None) -> Path:
    """The userdata_mini folder: the configured one (which must exist), else the first of the usual
    install folders that exists. Raises QmtError saying what was looked at and what to set."""
    if configured.strip():
        path = Path(os.path.expandvars(configured.strip())).expanduser()
        if not path.is_dir():
            raise QmtError(
                f"找不到 miniQMT 的 userdata_mini 文件夹 (qmt.userdata_path is not a folder): {path}. "
                "请在设置中填写 miniQMT 安装目录下的 userdata_mini 路径 "
                "(set qmt.userdata_path to the userdata_mini folder inside the miniQMT install folder)"
            )
        return path
    looked = list(candidate_folders() if candidates is None else candidates)
    for path in looked:
        if path.is_dir():
            return path
    shown = "; ".join(str(p) for p in looked[:6]) + (" …" if len(looked) > 6 else "")
    raise QmtError(
        "未找到 miniQMT (no miniQMT userdata_mini folder found"
        + (f" in the usual install folders: {shown}" if looked else "; this is not Windows")
        + "). 请设置 qmt.userdata_path (set qmt.userdata_path: python -m app config set qmt.userdata_path "
        '"D:\\国金证券QMT交易端\\userdata_mini")'
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
