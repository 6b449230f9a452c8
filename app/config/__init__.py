"""Frozen, validated settings: defaults < TOML file < env TILLER__SECTION__KEY < command line.

Layering follows freqtrade (STYLE.md §3.4). Every value is validated at load time and a bad one
raises `SettingsError` naming the key, the value, what was expected and where it came from.
Secrets are never settings: they live in the OS keyring (`app.secrets`), and a secret-looking
key in the file or the environment is refused.

The package: `_fields` (the field helpers: `meta` and the value parsers), `paths` (where the
settings file and the data folder are), one module per section (`general`, `account`, `fees`,
`sim`, `orders`, `bigquant`, `qmt`, `schedule`, `alerts`, `execution`; `[risk]` is
`app.core.risk.limits.RiskLimits`), `sections` (the `SECTIONS` registry and `Settings`) and
`loader` (layering, validation, the default file).

To add a section: write `app/config/<section>.py` with a frozen dataclass whose fields all have a
default and `metadata=meta(parse=..., expected=..., help=...)` from `app.config._fields`; register
it in `SECTIONS` and add a field of that type to `Settings` (both in `app/config/sections.py`).
Loading, unknown-key hints, `config init` and `Settings.sanitized` then pick it up; checks that
span sections go in `loader._check_consistency`. Re-export the class here if callers need it.
"""

from app.config.account import AccountSettings
from app.config.alerts import ALERT_CHANNELS, AlertSettings
from app.config.bigquant import BigQuantSettings
from app.config.execution import ExecutionSettings
from app.config.fees import FeeSettings
from app.config.general import GeneralSettings
from app.config.loader import SettingsError, default_config_text, load_settings, write_default_config
from app.config.orders import OrderSettings
from app.config.paths import (
    CONFIG_ENV_VAR,
    CONFIG_FILE_NAME,
    DATA_DIR_ENV_VAR,
    ENV_PREFIX,
    default_config_path,
    default_data_dir,
)
from app.config.qmt import QmtSettings
from app.config.schedule import ScheduleSettings
from app.config.sections import SECTIONS, Settings
from app.config.sim import SimSettings
from app.core.risk.limits import RiskLimits

__all__ = [
    "ALERT_CHANNELS",
    "CONFIG_ENV_VAR",
    "CONFIG_FILE_NAME",
    "DATA_DIR_ENV_VAR",
    "ENV_PREFIX",
    "SECTIONS",
    "AccountSettings",
    "AlertSettings",
    "BigQuantSettings",
    "ExecutionSettings",
    "FeeSettings",
    "GeneralSettings",
    "OrderSettings",
    "QmtSettings",
    "RiskLimits",
    "ScheduleSettings",
    "Settings",
    "SettingsError",
    "SimSettings",
    "default_config_path",
    "default_config_text",
    "default_data_dir",
    "load_settings",
    "write_default_config",
]
