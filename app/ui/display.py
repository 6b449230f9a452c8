"""How numbers look in the window (the field's conventions): codes as 600000.SH, prices with two
decimals (funds three), red for up and green for down, big volumes in 万/亿."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor

from app.domain.instruments import Board, classify

UP = QColor("#e0312d")  # 红涨
DOWN = QColor("#0f9d3a")  # 绿跌
FLAT = QColor("#404040")
UP_HEX, DOWN_HEX = UP.name(), DOWN.name()


@lru_cache(maxsize=16384)
def price_places(code: str) -> int:
    """3 for listed funds (tick ¥0.001), else 2; an unknown code gets 2."""
    try:
        return 3 if classify(code).board is Board.FUND else 2
    except ValueError:
        return 2


def price_text(value: Decimal | float | None, code: str) -> str:
    if value is None:
        return "-"
    places = price_places(code)
    return f"{Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP):.{places}f}"


def change_color(value: Decimal | float | None, reference: Decimal | float | None) -> QColor:
    if value is None or reference is None or not reference or value == reference:
        return FLAT
    return UP if value > reference else DOWN


def percent_text(value: Decimal | float | None, reference: Decimal | float | None) -> str:
    if value is None or reference is None or not reference:
        return "-"
    pct = (Decimal(value) - Decimal(reference)) / Decimal(reference) * 100
    return f"{pct:+.2f}%"


def volume_text(shares: int | None) -> str:
    """Shares as 手 (lots of 100) with 万/亿 for large numbers, as Chinese terminals show volume."""
    if shares is None:
        return "-"
    return big_number_text(Decimal(shares) / 100)


_WESTERN = ((Decimal("1e9"), "B"), (Decimal("1e6"), "M"), (Decimal("1e4"), "K"))


def big_number_text(value: Decimal | float | int | None) -> str:
    """万 (1e4) and 亿 (1e8) in Chinese; K, M and B once the English catalogue translates them."""
    if value is None:
        return "-"
    v = Decimal(value)
    yi, wan = QCoreApplication.translate("", "亿"), QCoreApplication.translate("", "万")
    if yi != "亿":  # another language: thousands, millions, billions
        for scale, unit in _WESTERN:
            if abs(v) >= scale:
                return f"{v / scale:.2f}{unit}"
        return f"{v:.0f}"
    if abs(v) >= Decimal("1e8"):
        return f"{v / Decimal('1e8'):.2f}{yi}"
    if abs(v) >= Decimal("1e4"):
        return f"{v / Decimal('1e4'):.2f}{wan}"
    return f"{v:.0f}"


def money_text(value: Decimal | None) -> str:
    return "-" if value is None else f"{value:,.2f}"
