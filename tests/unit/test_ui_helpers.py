"""Small pieces of the window that need no widget: code normalising (typed by users), number display,
the Qt warning recorder."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from app.ui.display import percent_text, price_text, volume_text
from app.ui.panels.quotes import normalize_code


@given(st.text())
def test_normalize_code_never_raises_and_gives_a_canonical_code_or_none(text: str) -> None:
    code = normalize_code(text)
    assert code is None or (len(code) == 9 and code[6] == "." and code[7:] in ("SH", "SZ", "BJ"))


def test_normalize_code_reads_what_users_type() -> None:
    assert normalize_code("600000") == "600000.SH"
    assert normalize_code(" 000001.sz ") == "000001.SZ"
    assert normalize_code("600519.SH 贵州茅台") == "600519.SH"
    assert normalize_code("\ufeff600000") is None or normalize_code("\ufeff600000") == "600000.SH"
    assert normalize_code("浦发银行") is None
    assert normalize_code("") is None


def test_prices_have_two_decimals_funds_three() -> None:
    assert price_text(D("9.9"), "600000.SH") == "9.90"
    assert price_text(D("3.9125"), "510300.SH") == "3.913"
    assert price_text(None, "600000.SH") == "-"
    assert percent_text(D("11"), D("10")) == "+10.00%"
    assert percent_text(D("9"), D("0")) == "-"
    assert volume_text(123_456_789_00) == "1.23亿"


def test_the_qt_warning_recorder_sees_a_warning() -> None:
    from PySide6.QtCore import qInstallMessageHandler, qWarning

    from tests.helpers.qt_warnings import QtWarnings

    recorder = QtWarnings()
    previous = qInstallMessageHandler(recorder)
    try:
        qWarning("a test warning")
    finally:
        qInstallMessageHandler(previous)
    assert len(recorder.messages) == 1 and "a test warning" in recorder.messages[0]
