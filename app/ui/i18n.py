"""The window's language: Chinese is in the source; English comes from a compiled Qt catalogue.

The texts go through Qt's translation system (`app.ui.words.tr`, the widgets' `self.tr`, the
`QT_TR_NOOP` markers of the tables of names). `pyside6-lupdate` collects them into
app/resources/i18n/tiller_en.ts, where the English is written, and `pyside6-lrelease` compiles
that into tiller_en.qm, shipped as package data and loaded here at start when
`general.language = "en"` (`python dev.py translations` regenerates both; a test checks the
committed files are up to date with the sources).

For Chinese, Qt's own catalogue of its standard texts (the Yes/No/Cancel of a message box) is
loaded from Qt's translations folder when it is there.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QTranslator

from app.resources import ResourceMissingError, resource_path

log = logging.getLogger(__name__)

CATALOGUES = {"en": "tiller_en.qm"}  # language -> the compiled catalogue in app/resources/i18n


def catalogue_path(language: str) -> Path | None:
    """The compiled catalogue of `language` (a Path), or None for Chinese (the source language)."""
    name = CATALOGUES.get(language)
    return None if name is None else resource_path("i18n", name)


def install_translator(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Install the catalogues of `language` on `app` (before the first widget is built: texts are
    translated when a widget is made). Returns the translators installed (children of `app`).
    A catalogue that is missing or unreadable leaves the window in Chinese, said in the log."""
    installed: list[QTranslator] = []
    if language.startswith("zh"):
        qt_own = QTranslator(app)
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if qt_own.load("qtbase_zh_CN", folder) and app.installTranslator(qt_own):
            installed.append(qt_own)
        return installed
    try:
        path = catalogue_path(language)
    except ResourceMissingError:
        log.error("the %s catalogue is missing: the window stays in Chinese", language, exc_info=True)
        return installed
    if path is None:
        return installed
    translator = QTranslator(app)
    if not translator.load(str(path)) or not app.installTranslator(translator):
        log.error("could not load the catalogue %s: the window stays in Chinese", path)
        return installed
    installed.append(translator)
    return installed


def remove_translators(app: QCoreApplication, translators: list[QTranslator]) -> None:
    """Undo `install_translator` (tests switch languages in one process)."""
    for translator in translators:
        app.removeTranslator(translator)
        translator.deleteLater()
