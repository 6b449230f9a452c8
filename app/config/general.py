"""[general]: sim or live, the data folder, log level, language."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from app.config._fields import absolute_path, choice, meta
from app.config.paths import default_data_dir

_LANGUAGE = choice("zh_CN", "zh", "zh-CN", "en", case_insensitive=True)


def _language(raw: object) -> str:
    """zh_CN (also written zh or zh-CN) or en."""
    value = _LANGUAGE(raw)
    return "en" if value == "en" else "zh_CN"


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
        metadata=meta(
            parse=_language,
            expected="'zh_CN' (or 'zh') or 'en'",
            help="interface language: zh_CN Chinese, en English (takes effect at the next start)",
        ),
    )
