"""Alerts and log: every alert the engine raised (and every command that failed), newest at the
bottom, bounded; warnings and worse in colour."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from PySide6.QtCore import QT_TR_NOOP
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QWidget

from app.core.messages import AlertRaised
from app.ui.bridge import EngineBridge
from app.ui.panels.base import Panel
from app.ui.read_model import ReadModel
from app.ui.table_model import Column, RowTableModel
from app.ui.words import core_text, tr

_LEVEL = {
    "info": QT_TR_NOOP("信息"),
    "warning": QT_TR_NOOP("警告"),
    "error": QT_TR_NOOP("错误"),
    "critical": QT_TR_NOOP("严重"),
}
_COLOR = {"warning": QColor("#b26a00"), "error": QColor("#c62828"), "critical": QColor("#b71c1c")}
MAX_ROWS = 1000


class AlertRow(NamedTuple):
    n: int
    ts: datetime
    level: str
    category: str
    message: str


def alerts_model(parent: Any = None) -> RowTableModel[AlertRow]:
    columns: list[Column[AlertRow]] = [
        Column(tr("时间"), lambda r: f"{r.ts:%H:%M:%S}", "center"),
        Column(
            tr("级别"), lambda r: tr(_LEVEL.get(r.level, r.level)), "center", lambda r: _COLOR.get(r.level)
        ),
        Column(tr("类别"), lambda r: r.category),
        Column(
            tr("内容"),
            lambda r: core_text(r.message),
            color=lambda r: _COLOR.get(r.level),
            tip=lambda r: r.message,
        ),
    ]
    return RowTableModel(columns, key=lambda r: r.n, max_rows=MAX_ROWS, parent=parent)


class AlertsPanel(Panel):
    def __init__(self, read_model: ReadModel, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(read_model, bridge, parent)
        self.show_table(alerts_model(self))
        self._n = 0
        read_model.reloaded.connect(self.reload)
        read_model.alerts_added.connect(self.on_alerts)
        bridge.command_failed.connect(self.on_command_failed)
        self.reload()

    def _rows(self, alerts: list[AlertRaised]) -> list[AlertRow]:
        rows = []
        for a in alerts:
            self._n += 1
            rows.append(AlertRow(self._n, a.ts, a.level, a.category, a.message))
        return rows

    def reload(self) -> None:
        self.table_model.set_rows(self._rows(list(self.model_cache.alerts)))
        self.fit(self.view, force=True)
        self.view.scrollToBottom()

    def on_alerts(self, alerts: list[AlertRaised]) -> None:
        bar = self.view.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 2
        self.table_model.upsert(self._rows(alerts))
        self.fit(self.view)
        if at_bottom:
            self.view.scrollToBottom()

    def on_command_failed(self, words: str) -> None:
        now = self.model_cache.status.now or datetime.now().astimezone()
        self._n += 1
        self.table_model.upsert([AlertRow(self._n, now, "error", tr("操作"), words)])
