"""An OrderManager on a real SQLite file, without an engine: for tests of the OMS's own rules."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from app.core.oms import OrderManager
from app.domain.fees import FeeSchedule
from app.storage import open_database
from app.storage.oms_store import SqliteOmsStore

DAY = date(2026, 11, 23)
FEES = FeeSchedule()


class Alerts(list):
    """Records the OMS's alerts as (level, category, message)."""

    def __call__(self, level: str, category: str, message: str) -> None:
        self.append((level, category, message))


def make_oms(path: Path, alerts: Alerts | None = None, day: date = DAY) -> OrderManager:
    """The OMS on the database at `path`, loaded as a start would load it."""
    oms = OrderManager(
        store=SqliteOmsStore(open_database(path)),
        fees=FEES,
        trading_day=day,
        alert=alerts if alerts is not None else Alerts(),
    )
    oms.load()
    return oms
