"""What every panel of the window shares: the read model it draws from, the bridge it commands
through, a line that says what happened (errors in words), and a confirmation for destructive actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMessageBox, QVBoxLayout, QWidget

from app.ui.bridge import EngineBridge
from app.ui.read_model import ReadModel
from app.ui.words import table_view, tr

FIT_ROWS = 300
ALWAYS_FIT_ROWS = 60  # values change width as they move: small tables are measured on every update


def ask(parent: QWidget, title: str, text: str) -> bool:
    """A plain yes/no question, 'no' the default (destructive actions)."""
    answer = QMessageBox.question(
        parent,
        title,
        text,
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


class Panel(QWidget):
    def __init__(self, read_model: ReadModel, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_cache = read_model
        self.bridge = bridge
        self.terminal = bridge.terminal
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # destructive actions ask first; tests replace it (a modal box would wait for a click)
        self.confirm: Callable[[str, str], bool] = lambda title, text: ask(self, title, text)
        self.last_error = ""
        self._fitted_rows = -1

    def show_table(self, model: Any) -> None:
        """A panel that is one table: `model` in a table view filling the panel (`table_model`, `view`)."""
        self.table_model = model
        self.view = table_view(self)
        self.view.setModel(model)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)

    def say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c62828;" if error else "color: #404040;")
        self.message.setText(text)
        if error:
            self.last_error = text

    def command(
        self, fn: Callable[[], Any], done_text: str, done: Callable[[Any], None] | None = None
    ) -> None:
        """Run a Terminal command off the GUI thread; say how it went."""

        def ok(result: Any) -> None:
            self.say(done_text)
            if done is not None:
                done(result)

        self.bridge.run(fn, ok, lambda words: self.say(words, error=True))

    def fit(self, view: Any, *, force: bool = False) -> None:
        """Columns as wide as their contents when rows were added (small tables only: measuring a big
        one on every update would stall the GUI thread; the user's own widths are kept then)."""
        rows = view.model().rowCount()
        if force or rows <= ALWAYS_FIT_ROWS or (rows != self._fitted_rows and rows <= FIT_ROWS):
            self._fitted_rows = rows
            view.resizeColumnsToContents()
            header = view.horizontalHeader()
            if header.stretchLastSection():  # measuring sized the last column too: let it fill again
                header.setStretchLastSection(False)
                header.setStretchLastSection(True)

    def shortcut(self, keys: str, slot: Callable[[], Any]) -> QShortcut:
        sc = QShortcut(QKeySequence(keys), self)
        sc.setContext(Qt.ShortcutContext.WindowShortcut)
        sc.activated.connect(slot)
        return sc


__all__ = ["Panel", "ask", "tr"]
