"""[files]: file orders (文件单): a folder watched for CSV / JSON batches (docs/FILE_ORDERS.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config._fields import absolute_path, matching, meta, positive_float


def optional_folder(raw: Any) -> str:
    """An absolute folder, or empty (off); kept as text so `config init` writes it as it was given."""
    if isinstance(raw, str) and not raw.strip():
        return ""
    return str(absolute_path(raw))


@dataclass(frozen=True, slots=True)
class FilesSettings:
    inbox: str = field(
        default="",
        metadata=meta(
            parse=optional_folder,
            expected="an absolute folder path, or empty",
            help="file orders (文件单): CSV / JSON batches dropped here are taken in once; empty: off",
        ),
    )
    strategy_id: str = field(
        default="file",
        metadata=meta(
            parse=matching(r"[\w.-]{1,64}"),
            expected="an id of letters, digits, '_', '-', '.' (at most 64)",
            help="the strategy of a file's lines that name none (no 策略 / strategy_id column)",
        ),
    )
    stable_s: float = field(
        default=2.0,
        metadata=meta(
            parse=positive_float(600.0),
            expected="seconds, above 0 and at most 600",
            help="a dropped file is read only once its size and time have not changed for this long",
        ),
    )
    poll_s: float = field(
        default=1.0,
        metadata=meta(
            parse=positive_float(600.0),
            expected="seconds, above 0 and at most 600",
            help="how often the folder is looked at (and the result files brought up to date)",
        ),
    )

    @property
    def inbox_path(self) -> Path | None:
        return Path(self.inbox) if self.inbox else None
