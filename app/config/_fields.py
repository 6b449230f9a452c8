"""The field helpers of the settings sections: `meta` (a field's parser, expected text and help)
and the value parsers, each returning the typed value or raising ValueError/TypeError.

Decimal fields read from TOML floats go through `Decimal(str(x))`: TOML `0.1` parses to the float
0.1 whose shortest repr is "0.1", so the Decimal is exactly 0.1. Quoting the number ("0.1") works
too and is what `write_default_config` writes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.domain.setting_values import to_bool, to_decimal


@dataclass(frozen=True, slots=True)
class Spec:
    parse: Callable[[Any], Any]
    expected: str  # completes "expected ..."
    help: str


def meta(*, parse: Callable[[Any], Any], expected: str, help: str) -> dict[str, Spec]:
    """Field metadata: how to parse the raw value, what to say when it is wrong, what the key is for."""
    return {"spec": Spec(parse, expected, help)}


def _to_decimal(raw: Any) -> Decimal:
    return to_decimal(raw)  # see the module docstring: a float goes through its shortest text


def decimal(
    low: Decimal, high: Decimal | None = None, *, low_open: bool = False, places: int | None = None
) -> Callable[[Any], Decimal]:
    def parse(raw: Any) -> Decimal:
        value = _to_decimal(raw)
        if value < low or (low_open and value == low) or (high is not None and value > high):
            raise ValueError("out of range")
        if places is not None and value.as_tuple().exponent < -places:  # type: ignore[operator]
            raise ValueError("too many decimal places")
        return value

    return parse


def integer(
    low: int | None = None, high: int | None = None, choices: tuple[int, ...] | None = None
) -> Callable[[Any], int]:
    def parse(raw: Any) -> int:
        if isinstance(raw, bool):
            raise TypeError("a boolean is not an integer")
        if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d+\s*", raw):
            raw = int(raw)
        if not isinstance(raw, int):
            raise TypeError("not an integer")
        if (low is not None and raw < low) or (high is not None and raw > high):
            raise ValueError("out of range")
        if choices is not None and raw not in choices:
            raise ValueError("not one of the choices")
        return raw

    return parse


def positive_float(high: float) -> Callable[[Any], float]:
    def parse(raw: Any) -> float:
        if isinstance(raw, bool):
            raise TypeError("a boolean is not a number")
        if isinstance(raw, str):
            raw = float(raw.strip())
        if not isinstance(raw, int | float):
            raise TypeError("not a number")
        value = float(raw)
        if not math.isfinite(value) or not 0 < value <= high:
            raise ValueError("out of range")
        return value

    return parse


boolean = to_bool


def choice(*choices: str, case_insensitive: bool = False) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if not isinstance(raw, str):
            raise TypeError("not a string")
        value = raw.strip()
        for choice in choices:
            if value == choice or (case_insensitive and value.lower() == choice.lower()):
                return choice
        raise ValueError("not one of the choices")

    return parse


def matching(pattern: str) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if not isinstance(raw, str) or not re.fullmatch(pattern, raw.strip()):
            raise ValueError("does not match")
        return raw.strip()

    return parse


def string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError("not a string")
    return raw.strip()


def absolute_path(raw: Any) -> Path:
    # A relative data folder would depend on the working directory of whoever started the app.
    if not isinstance(raw, str | Path) or not str(raw).strip():
        raise ValueError("not a path")
    path = Path(str(raw).strip()).expanduser()
    if not path.is_absolute():
        raise ValueError("not absolute")
    return path


def http_url(raw: Any) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", raw.strip()):
        raise ValueError("not an http(s) URL")
    return raw.strip().rstrip("/")


def optional_http_url(raw: Any) -> str:
    if isinstance(raw, str) and not raw.strip():
        return ""
    return http_url(raw)


def optional_string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError("not a string")
    return raw.strip()


def hhmm(raw: Any) -> time:
    if isinstance(raw, time) and raw.second == 0 and raw.microsecond == 0 and raw.tzinfo is None:
        return raw  # a TOML local time such as 08:50:00
    if isinstance(raw, str) and (match := re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", raw.strip())):
        return time(int(match[1]), int(match[2]))
    raise ValueError("not HH:MM")


def id_list(raw: Any) -> tuple[str, ...]:
    # From the environment or --set a list is written "a,b,c".
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise TypeError("not a list of strings")
    ids = tuple(item.strip() for item in items if item.strip())
    if len(set(ids)) != len(ids) or not all(re.fullmatch(r"[\w.-]+", item) for item in ids):
        raise ValueError("bad ids")
    return ids


def plain(value: Any) -> Any:
    if isinstance(value, Decimal | Path):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple | list):
        return [plain(v) for v in value]
    return value
