"""Exact decimal values in SQLite TEXT columns (ARCHITECTURE.md invariant 5: exact money).

sqlite-utils turns a `Decimal` into a `float` before inserting it (`jsonify_if_needed` in
sqlite_utils/db.py) and SQLite keeps only 15 significant digits of a REAL, so every price and
money value must go through `to_db` before it reaches a row, and come back through `from_db`.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def to_db(value: Decimal | None) -> str | None:
    """A Decimal as plain decimal text: no exponent, the given precision kept ("1.50" stays "1.50")."""
    if value is None:
        return None
    if isinstance(value, float):
        raise TypeError(
            f"money and prices must be Decimal, never float (use Decimal(str(x)) at the boundary), was {value!r}"
        )
    if not isinstance(value, Decimal):
        raise TypeError(f"money and prices must be Decimal, was {type(value).__name__} {value!r}")
    if not value.is_finite():
        raise ValueError(f"money and prices must be finite, was {value}")
    # format "f" never uses an exponent: Decimal("1E+2") -> "100", Decimal("1E-7") -> "0.0000001".
    return format(value, "f")


def from_db(text: str | None) -> Decimal | None:
    """The Decimal stored by `to_db`; bad text is a clear ValueError, never a silent zero."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise TypeError(f"a stored decimal must be TEXT, was {type(text).__name__} {text!r}")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"a stored decimal must be plain decimal text, was {text!r}") from None
    if not value.is_finite() or text != text.strip():
        raise ValueError(f"a stored decimal must be plain decimal text, was {text!r}")
    return value
