"""The registry of settings sections (`SECTIONS`, the [name] in the file -> its frozen dataclass)
and `Settings`, one instance of each."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config._fields import plain
from app.config.account import AccountSettings
from app.config.alerts import AlertSettings
from app.config.bigquant import BigQuantSettings
from app.config.execution import ExecutionSettings
from app.config.fees import FeeSettings
from app.config.files import FilesSettings
from app.config.general import GeneralSettings
from app.config.orders import OrderSettings
from app.config.qmt import QmtSettings
from app.config.schedule import ScheduleSettings
from app.config.sim import SimSettings
from app.core.risk.limits import RiskLimits

if TYPE_CHECKING:
    from app.secrets import SecretStore

SECTIONS: dict[str, type] = {
    "general": GeneralSettings,
    "account": AccountSettings,
    "fees": FeeSettings,
    "sim": SimSettings,
    "orders": OrderSettings,
    "bigquant": BigQuantSettings,
    "qmt": QmtSettings,
    "schedule": ScheduleSettings,
    # The risk engine's limits (app/core/risk/limits.py: each field's parser, range and help);
    # also changeable at run time through Terminal.set_risk, audited.
    "risk": RiskLimits,
    "alerts": AlertSettings,
    "execution": ExecutionSettings,
    "files": FilesSettings,
}


@dataclass(frozen=True, slots=True)
class Settings:
    general: GeneralSettings = field(default_factory=GeneralSettings)
    account: AccountSettings = field(default_factory=AccountSettings)
    fees: FeeSettings = field(default_factory=FeeSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    orders: OrderSettings = field(default_factory=OrderSettings)
    bigquant: BigQuantSettings = field(default_factory=BigQuantSettings)
    qmt: QmtSettings = field(default_factory=QmtSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    risk: RiskLimits = field(default_factory=RiskLimits)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    files: FilesSettings = field(default_factory=FilesSettings)
    config_file: Path | None = None  # the file consulted (it may not exist)
    config_file_found: bool = False

    def sanitized(self, secrets: SecretStore | None = None) -> dict[str, Any]:
        """A plain, JSON-friendly dict safe to log. With a SecretStore, a `secrets` entry says which
        secret names are set ("***set***"/"unset"), never their values."""
        result: dict[str, Any] = {
            name: {f.name: plain(getattr(getattr(self, name), f.name)) for f in dataclasses.fields(section)}
            for name, section in SECTIONS.items()
        }
        result["config_file"] = None if self.config_file is None else str(self.config_file)
        if secrets is not None:
            result["secrets"] = secrets.status_markers()
        return result
