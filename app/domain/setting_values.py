"""Parsers of setting values shared by the settings file (app/config/) and the risk limits
(app/core/risk/limits.py), which cannot import the top-level config: one definition of what a
decimal or a yes/no setting accepts, for every source (TOML, TILLER__ variables, --set, run time).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

TRUE_WORDS = frozenset({"true", "yes", "on", "1"})
FALSE_WORDS = frozenset({"false", "no", "off", "0"})


def to_decimal(raw: Any, *, accept_decimal: bool = False) -> Decimal:
    """A finite Decimal from an int or text (a float through its shortest text); never a bool."""
    if isinstance(raw, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(raw, float):
        raw = str(raw)
    if isinstance(raw, str):
        raw = raw.strip()
    if not isinstance(raw, str | int) and not (accept_decimal and isinstance(raw, Decimal)):
        raise TypeError(f"not a number: {type(raw).__name__}")
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueError("not a decimal number") from exc
    if not value.is_finite():
        raise ValueError("not a finite number")
    return value


def to_bool(raw: Any) -> bool:
    """A bool, or one of the words in TRUE_WORDS / FALSE_WORDS (any case, spaces around)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return raw.strip().lower() in TRUE_WORDS
    raise ValueError("not a boolean")
