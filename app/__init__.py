"""Tiller: an A-share desktop trading terminal."""

__version__ = "0.1.0"
