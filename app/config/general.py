"""[general]: sim or live, the data folder, log level, language."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.config._fields import absolute_path, choice, meta
from app.config.paths import default_data_dir


@dataclass(frozen=True, slots=True)
class GeneralSettings:
    mode: str = field(
        default="sim",
        metadata=meta(
            parse=choice("sim", "live"),
            expected="'sim' or 'live'",
            help="sim: the built-in simulated broker; live: QMT",
        ),
    )
    data_dir: Path = field(
        default_factory=default_data_dir,
        metadata=meta(
            parse=absolute_path,
            expected="an absolute folder path",
            help="where the databases, backups and logs are kept",
        ),
    )
    log_level: str = field(
        default="INFO",
        metadata=meta(
            parse=choice("DEBUG", "INFO", "WARNING", "ERROR", case_insensitive=True),
            expected="one of DEBUG, INFO, WARNING, ERROR",
            help="how much goes into the log",
        ),
    )
    language: str = field(
        default="zh_CN",
        metadata=meta(parse=choice("zh_CN", "en"), expected="'zh_CN' or 'en'", help="interface language"),
    )
