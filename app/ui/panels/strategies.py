"""Strategies: the strategies the plan knows — followed or not, allotment, mode, last fetch, today's
progress — one row each.

Fed through `set_strategies(statuses)` (a list of app.core.terminal.StrategyStatus) and
`set_mode(mode)` ("sim" or "live"); `refresh()` reads them through the Terminal off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QT_TR_NOOP, QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.planning.model import AllotKind
from app.core.terminal import StrategyStatus
from app.domain.clock import CN_TZ
from app.ui.display import money_text
from app.ui.words import tr
from app.ui.workers import Background

Index = QModelIndex | QPersistentModelIndex
MAX_ROWS = 1000

_POLICY_NAMES = {
    "auction_open": QT_TR_NOOP("集合竞价"),
    "limit": QT_TR_NOOP("限价"),
    "best5": QT_TR_NOOP("五档即成剩撤"),
    "auction_close": QT_TR_NOOP("收盘竞价"),
    "twap": "TWAP",
    "vwap": "VWAP",
}


class StrategyTableModel(QAbstractTableModel):
    COLUMNS = (
        "id",
        "name",
        "followed",
        "allotment",
        "allotted",
        "policy",
        "mode",
        "last_fetch",
        "today",
        "status",
    )

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[StrategyStatus] = []
        self._mode = "sim"
        self._headers = (
            tr("策略编号"), tr("名称"), tr("跟踪"), tr("分配"), tr("分配资金"), tr("执行方式"),
            tr("模式"), tr("最近获取信号"), tr("今日计划"), tr("状态"),
        )  # fmt: skip

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == "status":
            return QColor("#0f7a34") if row.settings.followed else QColor("#808080")
        if role == Qt.ItemDataRole.ForegroundRole and column == "mode" and self._mode == "live":
            return QColor("#c62828")
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("allotment", "allotted"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return row.settings.strategy_id
        return None

    def _text(self, row: StrategyStatus, column: str) -> str:
        s = row.settings
        if column == "id":
            return s.strategy_id
        if column == "name":
            return s.name
        if column == "followed":
            return tr("是") if s.followed else tr("否")
        if column == "allotment":
            if s.allot_kind is AllotKind.RATIO:
                return f"{s.allot_value.normalize():f} × {money_text(s.paper_capital)}"
            return money_text(s.allot_value)
        if column == "allotted":
            return money_text(s.allotted)
        if column == "policy":
            return tr(_POLICY_NAMES.get(s.policy, s.policy))
        if column == "mode":
            return tr("实盘") if self._mode == "live" else tr("模拟")
        if column == "last_fetch":
            return "-" if row.last_fetch is None else f"{row.last_fetch.astimezone(CN_TZ):%Y-%m-%d %H:%M:%S}"
        if column == "today":
            return f"{row.done}/{row.lines}" if row.lines else "-"
        if not s.followed:
            return tr("未跟踪")
        if row.lines and row.done == row.lines:
            return tr("今日已完成")
        return tr("执行中") if row.done else (tr("待执行") if row.lines else tr("跟踪中"))

    def set_rows(self, rows: Sequence[StrategyStatus]) -> None:
        rows = list(rows)[:MAX_ROWS]
        old = [r.settings.strategy_id for r in self._rows]
        if old == [r.settings.strategy_id for r in rows]:
            changed = [i for i, (a, b) in enumerate(zip(self._rows, rows, strict=True)) if a != b]
            self._rows = rows
            for i in changed:
                self.dataChanged.emit(self.index(i, 0), self.index(i, len(self.COLUMNS) - 1))
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def set_mode(self, mode: str) -> None:
        self._mode = mode
        if self._rows:
            column = self.COLUMNS.index("mode")
            self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))


class StrategiesPanel(QWidget):
    def __init__(self, terminal: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._terminal = terminal
        self._background = Background(self)
        self.model = StrategyTableModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.refresh_button = QPushButton(self.tr("刷新"), self)
        self.refresh_button.clicked.connect(self.refresh)
        self.message = QLabel(self)
        self.message.setStyleSheet("color: #b00020")
        self.message.hide()
        top = QHBoxLayout()
        title = QLabel(self.tr("跟踪的策略"), self)
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)

    @property
    def loading(self) -> bool:
        return self._background.pending > 0

    def set_strategies(self, statuses: Sequence[StrategyStatus]) -> None:
        self.message.hide()
        self.model.set_rows(statuses)

    def set_mode(self, mode: str) -> None:
        self.model.set_mode(mode)

    def refresh(self) -> None:
        if self._terminal is None:
            return
        terminal = self._terminal
        self._background.run(terminal.strategies, self.set_strategies, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(self.tr("策略读取失败 (could not read the strategies): ") + str(exc))
        self.message.show()
