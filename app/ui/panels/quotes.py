"""Quotes: the watchlist (自选股) and the five-level book (五档盘口) of the selected instrument.

Fed through plain methods: `set_instruments(infos)` (codes, names, previous closes),
`apply_quotes(quotes)` (any burst, the full market included: only watched codes are kept, and the
latest quote of each is applied at most once a frame), `set_watchlist(codes)`. The model emits
`dataChanged` for the rows that changed only, and holds at most `MAX_ROWS` instruments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    QStringListModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, Quote
from app.ui.display import (
    FLAT,
    big_number_text,
    change_color,
    percent_text,
    price_text,
    volume_text,
)
from app.ui.words import tr

MAX_ROWS = 500  # a watchlist longer than this is refused (the view stays fast and readable)
FRAME_MS = 50  # quote bursts are applied at most this often
LEVELS = 5

Index = QModelIndex | QPersistentModelIndex
_ROLES_SERVED = frozenset(
    {
        Qt.ItemDataRole.DisplayRole,
        Qt.ItemDataRole.ForegroundRole,
        Qt.ItemDataRole.TextAlignmentRole,
        Qt.ItemDataRole.UserRole,
    }
)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

_COLUMNS = ("code", "name", "last", "change", "pct", "volume", "amount", "bid1", "ask1", "prev_close")


def normalize_code(text: str) -> str | None:
    """'600000', '600000.sh' or '600000.SH 浦发银行' as 600000.SH; None when it is not a code."""
    head = text.strip().split(" ")[0] if text.strip() else ""
    try:
        return classify(head).code
    except (ValueError, TypeError):
        return None


class QuoteTableModel(QAbstractTableModel):
    """The watchlist's rows: one instrument each, in the order added."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._codes: list[str] = []
        self._row_of: dict[str, int] = {}
        self._quotes: dict[str, Quote] = {}
        self._names: dict[str, str] = {}
        self._prev: dict[str, Decimal] = {}
        self._cells: dict[str, tuple[list[str], list[Any]]] = {}  # by code: texts and colours shown
        self._headers = (
            tr("代码"), tr("名称"), tr("最新"), tr("涨跌"), tr("涨跌幅"), tr("成交量(手)"),
            tr("成交额"), tr("买一"), tr("卖一"), tr("昨收"),
        )  # fmt: skip

    # ------------------------------------------------------------------ Qt model
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._codes)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole and horizontal and 0 <= section < len(self._headers):
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called for every visible cell and role at each repaint: roles not served return at once,
        # and a row's texts and colours are made once per change of its quote (_row_cells).
        if role not in _ROLES_SERVED or not index.isValid():
            return None
        row = index.row()
        if not 0 <= row < len(self._codes):
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _LEFT if index.column() < 2 else _RIGHT
        code = self._codes[row]
        if role == Qt.ItemDataRole.UserRole:
            return code
        cells = self._cells.get(code)
        if cells is None:
            cells = self._cells[code] = self._row_cells(code)
        texts, colors = cells
        return texts[index.column()] if role == Qt.ItemDataRole.DisplayRole else colors[index.column()]

    def _row_cells(self, code: str) -> tuple[list[str], list[Any]]:
        return [self._text(code, c) for c in _COLUMNS], [self._color(code, c) for c in _COLUMNS]

    def _text(self, code: str, column: str) -> str:
        if column == "code":
            return code
        if column == "name":
            return self._names.get(code, "")
        quote = self._quotes.get(code)
        prev = self.prev_close(code)
        if column == "prev_close":
            return price_text(prev, code)
        if quote is None:
            return "-"
        if column == "last":
            return price_text(quote.last, code)
        if column == "change":
            return "-" if prev is None else price_text(quote.last - prev, code)
        if column == "pct":
            return percent_text(quote.last, prev)
        if column == "volume":
            return volume_text(quote.volume)
        if column == "amount":
            return big_number_text(quote.amount)
        if column == "bid1":
            return price_text(quote.best_bid, code)
        return price_text(quote.best_ask, code)

    def _color(self, code: str, column: str) -> Any:
        quote = self._quotes.get(code)
        if quote is None or column in ("code", "name", "volume", "amount", "prev_close"):
            return None
        prev = self.prev_close(code)
        if column in ("last", "change", "pct"):
            return change_color(quote.last, prev)
        price = quote.best_bid if column == "bid1" else quote.best_ask
        return change_color(price, prev) if price is not None else FLAT

    # ------------------------------------------------------------------ feeding
    @property
    def codes(self) -> list[str]:
        return list(self._codes)

    def code_at(self, row: int) -> str | None:
        return self._codes[row] if 0 <= row < len(self._codes) else None

    def row_of(self, code: str) -> int | None:
        return self._row_of.get(code)

    def quote(self, code: str) -> Quote | None:
        return self._quotes.get(code)

    def prev_close(self, code: str) -> Decimal | None:
        quote = self._quotes.get(code)
        if quote is not None and quote.prev_close:
            return quote.prev_close
        return self._prev.get(code)

    def set_instruments(self, infos: Iterable[InstrumentInfo]) -> None:
        for info in infos:
            self._names[info.code] = info.name
            self._prev[info.code] = info.prev_close
        self._cells.clear()
        if self._codes:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._codes) - 1, len(_COLUMNS) - 1))

    def add(self, code: str) -> bool:
        """Append `code`; False if already there. Raises ValueError when the list is full."""
        if code in self._row_of:
            return False
        if len(self._codes) >= MAX_ROWS:
            raise ValueError(
                tr("自选股已满 (the watchlist is full): at most {max}, was adding {code}").format(
                    max=MAX_ROWS, code=code
                )
            )
        row = len(self._codes)
        self.beginInsertRows(QModelIndex(), row, row)
        self._codes.append(code)
        self._row_of[code] = row
        self.endInsertRows()
        return True

    def remove(self, code: str) -> bool:
        row = self._row_of.get(code)
        if row is None:
            return False
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._codes[row]
        self._quotes.pop(code, None)
        self._cells.pop(code, None)
        self._row_of = {c: i for i, c in enumerate(self._codes)}
        self.endRemoveRows()
        return True

    def set_codes(self, codes: Sequence[str]) -> None:
        unique = list(dict.fromkeys(codes))[:MAX_ROWS]
        self.beginResetModel()
        self._codes = unique
        self._row_of = {c: i for i, c in enumerate(unique)}
        self._quotes = {c: q for c, q in self._quotes.items() if c in self._row_of}
        self._cells.clear()
        self.endResetModel()

    def apply_quotes(self, quotes: Iterable[Quote]) -> list[int]:
        """Take the watched codes' quotes; emit dataChanged for each run of changed rows. Returns the
        changed rows (sorted)."""
        changed: list[int] = []
        row_of, mine = self._row_of, self._quotes
        for q in quotes:
            row = row_of.get(q.code)
            if row is None:
                continue
            old = mine.get(q.code)
            if old is not None and _same(old, q):
                continue
            mine[q.code] = q
            self._cells.pop(q.code, None)
            changed.append(row)
        if not changed:
            return changed
        changed = sorted(set(changed))
        last_column = len(_COLUMNS) - 1
        start = prev = changed[0]
        for row in changed[1:]:
            if row != prev + 1:
                self.dataChanged.emit(self.index(start, 2), self.index(prev, last_column))
                start = row
            prev = row
        self.dataChanged.emit(self.index(start, 2), self.index(prev, last_column))
        return changed


def _same(a: Quote, b: Quote) -> bool:
    return (
        a.last == b.last
        and a.volume == b.volume
        and a.bid_prices[:1] == b.bid_prices[:1]
        and a.ask_prices[:1] == b.ask_prices[:1]
        and a.prev_close == b.prev_close
    )


class BookModel(QAbstractTableModel):
    """Five levels: 卖五 … 卖一 above 买一 … 买五; columns level, price, volume (手)."""

    ROWS = 2 * LEVELS

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._quote: Quote | None = None
        self._code = ""
        self._prev: Decimal | None = None
        self._labels = [
            tr("卖五"), tr("卖四"), tr("卖三"), tr("卖二"), tr("卖一"),
            tr("买一"), tr("买二"), tr("买三"), tr("买四"), tr("买五"),
        ]  # fmt: skip
        self._headers = (tr("档位"), tr("价格"), tr("数量(手)"))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.ROWS

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 3

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < 3
        ):
            return self._headers[section]
        return None

    def level(self, row: int) -> tuple[Decimal | None, int | None]:
        """(price, shares) of a row, None where the book has no such level."""
        q = self._quote
        if q is None:
            return None, None
        if row < LEVELS:  # asks, worst first
            i = LEVELS - 1 - row
            prices, volumes = q.ask_prices, q.ask_volumes
        else:
            i = row - LEVELS
            prices, volumes = q.bid_prices, q.bid_volumes
        if i >= len(prices):
            return None, None
        return prices[i], volumes[i] if i < len(volumes) else None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.ROWS:
            return None
        row, column = index.row(), index.column()
        price, volume = self.level(row)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return self._labels[row]
            if column == 1:
                return price_text(price, self._code) if price is not None else "-"
            return volume_text(volume) if volume is not None else "-"
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and price is not None:
            return change_color(price, self._prev)
        if role == Qt.ItemDataRole.TextAlignmentRole and column > 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def set_quote(self, code: str, quote: Quote | None, prev_close: Decimal | None) -> None:
        if quote is self._quote and code == self._code:
            return
        self._code, self._quote, self._prev = code, quote, prev_close
        self.dataChanged.emit(self.index(0, 0), self.index(self.ROWS - 1, 2))


class QuotesPanel(QWidget):
    """The watchlist with a search box (code or name) and the five-level book of the selected row.

    Signals: `instrument_selected(code)` when the selection moves; `watchlist_changed(codes)` after an
    add or remove (for the lead to save it)."""

    instrument_selected = Signal(str)
    watchlist_changed = Signal(list)

    def __init__(self, terminal: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._terminal = terminal
        self.model = QuoteTableModel(self)
        self.book = BookModel(self)
        self._pending: dict[str, Quote] = {}
        self._names: dict[str, str] = {}
        self._selected: str | None = None
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(FRAME_MS)
        self._flush_timer.timeout.connect(self.flush)

        self.search = QLineEdit(self)
        self.search.setPlaceholderText(self.tr("输入代码或名称添加自选，如 600000 或 浦发"))
        self.search.setClearButtonEnabled(True)
        self._completions = QStringListModel(self)
        completer = QCompleter(self._completions, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setMaxVisibleItems(12)
        completer.activated.connect(self._add_from_text)
        self.search.setCompleter(completer)
        self.search.returnPressed.connect(lambda: self._add_from_text(self.search.text()))
        self.add_button = QPushButton(self.tr("添加"), self)
        self.add_button.clicked.connect(lambda: self._add_from_text(self.search.text()))
        self.remove_button = QPushButton(self.tr("删除"), self)
        self.remove_button.clicked.connect(self.remove_selected)
        self.message = QLabel(self)
        self.message.setWordWrap(True)

        self.table = QTableView(self)
        self.proxy = QSortFilterProxyModel(self)  # the search box also filters the list by code/name
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        # Codes and names never change: filter when the search text does, not on every quote
        # (a dynamic filter would read every column of every changed row again).
        self.proxy.setDynamicSortFilter(False)
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((82, 76, 64, 60, 66, 82, 78, 60, 60, 60)):
            header.resizeSection(column, width)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        QShortcut(QKeySequence.StandardKey.Delete, self.table, activated=self.remove_selected)

        self.book_title = QLabel(self.tr("五档盘口"), self)
        bold = QFont(self.book_title.font())
        bold.setBold(True)
        self.book_title.setFont(bold)
        self.book_view = QTableView(self)
        self.book_view.setModel(self.book)
        self.book_view.verticalHeader().setVisible(False)
        self.book_view.verticalHeader().setDefaultSectionSize(20)
        self.book_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.book_view.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.book_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        book_box = QWidget(self)
        book_layout = QVBoxLayout(book_box)
        book_layout.setContentsMargins(0, 0, 0, 0)
        book_layout.addWidget(self.book_title)
        book_layout.addWidget(self.book_view)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.add_button)
        top.addWidget(self.remove_button)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self.table)
        splitter.addWidget(book_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([700, 230])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)
        self.message.hide()
        self.search.textChanged.connect(self._filter)

    # ------------------------------------------------------------------ feeding (GUI thread)
    def set_instruments(self, infos: Iterable[InstrumentInfo]) -> None:
        infos = list(infos)
        self._names.update((i.code, i.name) for i in infos)
        self.model.set_instruments(infos)
        self._completions.setStringList([f"{c} {n}" for c, n in sorted(self._names.items())])

    def set_watchlist(self, codes: Sequence[str]) -> None:
        normalized = [c for c in (normalize_code(x) for x in codes) if c is not None]
        self.model.set_codes(normalized)
        if self.model.codes and self._selected not in self.model.codes:
            self.select(self.model.codes[0])

    def watchlist(self) -> list[str]:
        return self.model.codes

    def apply_quotes(self, quotes: Iterable[Quote]) -> None:
        """Keep the latest quote of each watched code; applied to the table once a frame."""
        watched, pending = self.model._row_of, self._pending
        for q in quotes:
            if q.code in watched:
                pending[q.code] = q
        if pending and not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Apply what came since the last frame now (the timer calls it; tests may too)."""
        self._flush_timer.stop()
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        self.model.apply_quotes(pending.values())
        if self._selected is not None and self._selected in pending:
            self._show_book(self._selected)

    # ------------------------------------------------------------------ the user
    def add_instrument(self, code: str) -> bool:
        normalized = normalize_code(code)
        if normalized is None:
            self._say(self.tr("不是有效的证券代码 (not a valid code): ") + code.strip())
            return False
        try:
            added = self.model.add(normalized)
        except ValueError as exc:
            self._say(str(exc))
            return False
        self.message.hide()
        if added:
            self.watchlist_changed.emit(self.model.codes)
        self.select(normalized)
        return added

    def remove_instrument(self, code: str) -> bool:
        removed = self.model.remove(code)
        if removed:
            if self._selected == code:
                self._selected = None
                codes = self.model.codes
                if codes:
                    self.select(codes[0])
                else:
                    self.book.set_quote("", None, None)
                    self.book_title.setText(self.tr("五档盘口"))
            self.watchlist_changed.emit(self.model.codes)
        return removed

    def remove_selected(self) -> None:
        if self._selected is not None:
            self.remove_instrument(self._selected)

    def select(self, code: str) -> None:
        row = self.model.row_of(code)
        if row is None:
            return
        proxy_index = self.proxy.mapFromSource(self.model.index(row, 0))
        if proxy_index.isValid():
            self.table.selectRow(proxy_index.row())
            self.table.scrollTo(proxy_index)
        if self._selected != code:
            self._set_selected(code)

    def selected(self) -> str | None:
        return self._selected

    def _set_selected(self, code: str) -> None:
        self._selected = code
        self._show_book(code)
        self.instrument_selected.emit(code)

    def _show_book(self, code: str) -> None:
        name = self._names.get(code, "")
        self.book_title.setText(self.tr("五档盘口") + f"  {code} {name}")
        self.book.set_quote(code, self.model.quote(code), self.model.prev_close(code))

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        code = self.model.code_at(self.proxy.mapToSource(current).row())
        if code is not None and code != self._selected:
            self._set_selected(code)

    def _add_from_text(self, text: str) -> None:
        if not text.strip():
            return
        if self.add_instrument(text):
            self.search.clear()

    def _filter(self, text: str) -> None:
        # Typing a code or a name narrows the watchlist too; a full code to add clears it.
        head = text.strip().split(" ")[0] if text.strip() else ""
        self.proxy.setFilterFixedString(head)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020")
        self.message.show()
