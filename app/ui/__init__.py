"""The window (PySide6, pyqtgraph): panels fed by plain methods, commands to the Terminal off the GUI thread."""

from app.ui.qt_workarounds import install as _install_qt_workarounds

_install_qt_workarounds()  # before any of our signals (or pyqtgraph's) is emitted
