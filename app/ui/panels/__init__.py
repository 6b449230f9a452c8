"""The window's panels: each a QWidget fed through plain methods, commanding through the Terminal."""
