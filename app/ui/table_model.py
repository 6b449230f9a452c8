"""One QAbstractTableModel for every table of the window: rows keyed, bounded, updated in place.

`upsert(rows)` replaces rows whose key is known and appends the others; it emits `dataChanged` for the
changed rows only (one signal per run of adjacent rows), `rowsInserted` for the new ones, and drops the
oldest rows past `max_rows` (tables never grow without bound, unlike vn.py's monitors). Nothing is
re-sorted on an update. A row is any immutable value; columns say how to show it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

R = TypeVar("R")
Index = QModelIndex | QPersistentModelIndex
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    header: str
    text: Callable[[R], str]
    align: str = "left"  # left | right | center
    color: Callable[[R], QColor | None] | None = None
    tip: Callable[[R], str] | None = None


class RowTableModel(QAbstractTableModel, Generic[R]):
    KEY_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # the row's key
    ROW_ROLE = int(Qt.ItemDataRole.UserRole) + 2  # the row itself

    def __init__(
        self,
        columns: Sequence[Column[R]],
        key: Callable[[R], Hashable],
        *,
        max_rows: int = 2000,
        parent: Any = None,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._key = key
        self.max_rows = max_rows
        self._rows: list[R] = []
        self._index: dict[Hashable, int] = {}

    # ------------------------------------------------------------------ Qt's model interface
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return self.columns[section].header if 0 <= section < len(self.columns) else None
        return str(section + 1)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if not 0 <= index.column() < len(self.columns):
            return None
        row = self._rows[index.row()]
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.text(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return {"right": _RIGHT, "center": _CENTER}.get(column.align, _LEFT)
        if role == Qt.ItemDataRole.ForegroundRole and column.color is not None:
            return column.color(row)
        if role == Qt.ItemDataRole.ToolTipRole and column.tip is not None:
            return column.tip(row) or None
        if role == self.KEY_ROLE:
            return self._key(row)
        if role == self.ROW_ROLE:
            return row
        return None

    # ------------------------------------------------------------------ changes
    def set_rows(self, rows: Iterable[R]) -> None:
        """Replace every row (a snapshot): the newest `max_rows` are kept."""
        rows = list(rows)[-self.max_rows :] if self.max_rows else list(rows)
        self.beginResetModel()
        self._rows = []
        self._index = {}
        for row in rows:
            key = self._key(row)
            if key in self._index:
                self._rows[self._index[key]] = row
            else:
                self._index[key] = len(self._rows)
                self._rows.append(row)
        self.endResetModel()

    def upsert(self, rows: Iterable[R]) -> list[int]:
        """Update known rows in place and append new ones; returns the changed rows' numbers (before
        any oldest rows were dropped to stay within `max_rows`)."""
        changed: list[int] = []
        new: list[R] = []
        pending: dict[Hashable, int] = {}
        for row in rows:
            key = self._key(row)
            at = self._index.get(key)
            if at is not None:
                if self._rows[at] != row:
                    self._rows[at] = row
                    changed.append(at)
            elif key in pending:
                new[pending[key]] = row
            else:
                pending[key] = len(new)
                new.append(row)
        for start, end in _runs(sorted(set(changed))):
            self.dataChanged.emit(self.index(start, 0), self.index(end, len(self.columns) - 1))
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for row in new:
                self._index[self._key(row)] = len(self._rows)
                self._rows.append(row)
            self.endInsertRows()
        self._bound()
        return sorted(set(changed))

    def remove(self, keys: Iterable[Hashable]) -> None:
        for key in keys:
            at = self._index.get(key)
            if at is None:
                continue
            self.beginRemoveRows(QModelIndex(), at, at)
            del self._rows[at]
            self.endRemoveRows()
            self._reindex()

    def _bound(self) -> None:
        extra = len(self._rows) - self.max_rows if self.max_rows else 0
        if extra > 0:
            self.beginRemoveRows(QModelIndex(), 0, extra - 1)
            del self._rows[:extra]
            self.endRemoveRows()
            self._reindex()

    def _reindex(self) -> None:
        self._index = {self._key(r): i for i, r in enumerate(self._rows)}

    # ------------------------------------------------------------------ reading
    def row(self, number: int) -> R | None:
        return self._rows[number] if 0 <= number < len(self._rows) else None

    def rows(self) -> list[R]:
        return list(self._rows)

    def row_of(self, key: Hashable) -> int | None:
        return self._index.get(key)

    def text(self, number: int, column: int) -> str:
        return self.columns[column].text(self._rows[number])

    def refresh_all(self) -> None:
        """Every cell may read differently (e.g. names arrived): one dataChanged over the table."""
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, len(self.columns) - 1))


def _runs(numbers: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs
