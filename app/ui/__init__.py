"""The window (PySide6, pyqtgraph): panels fed by plain methods, commands to the Terminal off the GUI thread."""
