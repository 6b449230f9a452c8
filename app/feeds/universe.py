"""Which instruments a synthetic day trades: specs, well-known names and a full-market universe.

A spec names a code and, optionally, what a real feed would tell about it (name, previous close,
days since listing, ST flag). What is left out is filled in by `SyntheticFeed`, seeded.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

from app.domain.instruments import Board, classify

# Well-known instruments with a rough reference price, so that a demo shows 贵州茅台 in the
# thousands and a bank near ten yuan. The prices are only the centre of a seeded draw, not data.
WELL_KNOWN: dict[str, tuple[str, Decimal]] = {
    "600519.SH": ("贵州茅台", Decimal("1450.00")),
    "000001.SZ": ("平安银行", Decimal("11.50")),
    "300750.SZ": ("宁德时代", Decimal("260.00")),
    "688981.SH": ("中芯国际", Decimal("90.00")),
    "600767.SH": ("*ST运盛", Decimal("2.10")),
    "430047.BJ": ("诺思兰德", Decimal("15.00")),
    "600000.SH": ("浦发银行", Decimal("10.20")),
    "600036.SH": ("招商银行", Decimal("40.00")),
    "601318.SH": ("中国平安", Decimal("50.00")),
    "000858.SZ": ("五粮液", Decimal("130.00")),
    "002594.SZ": ("比亚迪", Decimal("300.00")),
    "510300.SH": ("沪深300ETF", Decimal("4.000")),
    "601398.SH": ("工商银行", Decimal("6.50")),
    "601988.SH": ("中国银行", Decimal("5.00")),
    "600900.SH": ("长江电力", Decimal("28.00")),
    "600276.SH": ("恒瑞医药", Decimal("50.00")),
    "000333.SZ": ("美的集团", Decimal("70.00")),
    "000651.SZ": ("格力电器", Decimal("40.00")),
    "300059.SZ": ("东方财富", Decimal("22.00")),
    "688111.SH": ("金山办公", Decimal("280.00")),
    "159915.SZ": ("创业板ETF", Decimal("2.200")),
    "588000.SH": ("科创50ETF", Decimal("1.000")),
}

# Rough share of listed A-share stocks per board (about 1,700 SH main, 1,500 SZ main,
# 1,380 ChiNext, 590 STAR, 280 BSE) and the code prefixes each board uses (instruments.py).
_BOARD_MIX: tuple[tuple[float, tuple[str, ...], str], ...] = (
    (0.31, ("600", "601", "603", "605"), "SH"),
    (0.27, ("000", "001", "002", "003"), "SZ"),
    (0.25, ("300", "301"), "SZ"),
    (0.11, ("688",), "SH"),
    (0.02, ("920",), "BJ"),
    (
        0.03,
        (
            "430",
            "830",
            "831",
            "832",
            "833",
            "834",
            "835",
            "836",
            "837",
            "838",
            "839",
            "870",
            "871",
            "872",
            "873",
        ),
        "BJ",
    ),
)
_ST_SHARE = 0.03  # about 150 of 5,500 stocks carry ST or *ST
_NEW_LISTING_SHARE = 0.003  # a handful of stocks in their first five days

MAX_UNIVERSE = 20_000


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """One instrument of a synthetic day. None means "let the feed choose" (name from the
    well-known table or "样本<code>", a seeded previous close, ST from the name)."""

    code: str
    name: str = ""
    prev_close: Decimal | None = None
    listing_day: int | None = None  # 1 = first trading day after listing; None = long listed
    st: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.code, str):
            raise TypeError(f"code must be a str, was {type(self.code).__name__} {self.code!r}")
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, was {type(self.name).__name__} {self.name!r}")
        if self.prev_close is not None and not isinstance(self.prev_close, Decimal):
            raise TypeError(
                f"prev_close must be a Decimal or None (floats cannot hold prices exactly), "
                f"was {type(self.prev_close).__name__} {self.prev_close!r}"
            )
        if self.prev_close is not None and not (self.prev_close.is_finite() and self.prev_close > 0):
            raise ValueError(f"prev_close must be a positive price, was {self.prev_close}")
        if self.listing_day is not None and (
            isinstance(self.listing_day, bool)
            or not isinstance(self.listing_day, int)
            or self.listing_day < 1
        ):
            raise ValueError(
                f"listing_day counts from 1 (the listing day) or is None, was {self.listing_day!r}"
            )
        if self.st is not None and not isinstance(self.st, bool):
            raise TypeError(f"st must be a bool or None, was {self.st!r}")


def default_name(code: str) -> str:
    """The well-known short name of a canonical code, else "样本<six digits>"."""
    known = WELL_KNOWN.get(code)
    return known[0] if known is not None else f"样本{code[:6]}"


def market_universe(n: int, seed: int = 7) -> list[InstrumentSpec]:
    """`n` distinct, plausible instruments across SH main, SZ main, ChiNext, STAR and BSE, sorted
    by code: the well-known table first (all of it when `n` allows), the rest drawn per board in
    rough market proportions, with a few ST names and new listings. Deterministic for a seed."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_UNIVERSE:
        raise ValueError(f"n must be an int from 1 to {MAX_UNIVERSE}, was {n!r}")
    known = list(WELL_KNOWN)
    if n <= len(known):
        return sorted((InstrumentSpec(code, WELL_KNOWN[code][0]) for code in known[:n]), key=lambda s: s.code)
    rng = random.Random(f"universe|{seed}")
    taken = set(known)
    specs = [InstrumentSpec(code, WELL_KNOWN[code][0]) for code in known]
    weights = [share for share, _, _ in _BOARD_MIX]
    while len(specs) < n:
        _, prefixes, suffix = rng.choices(_BOARD_MIX, weights)[0]
        prefix = rng.choice(prefixes)
        code = f"{prefix}{rng.randrange(10 ** (6 - len(prefix))):0{6 - len(prefix)}d}.{suffix}"
        if code in taken:
            continue
        taken.add(code)
        specs.append(_generated_spec(code, rng))
    return sorted(specs, key=lambda s: s.code)


def _generated_spec(code: str, rng: random.Random) -> InstrumentSpec:
    board = classify(code).board
    draw = rng.random()
    if board in (Board.SH_MAIN, Board.SZ_MAIN) and draw < _ST_SHARE:
        prefix = "*ST" if draw < _ST_SHARE / 2 else "ST"
        return InstrumentSpec(code, f"{prefix}样本{code[:6]}")
    if draw > 1 - _NEW_LISTING_SHARE:
        # Exchange naming convention: "N" on the listing day, "C" on days 2-5 of a
        # registration-based listing (no price limit then, RULES B1).
        listing_day = rng.randint(1, 5) if board is not Board.BSE else 1
        mark = "N" if listing_day == 1 else "C"
        return InstrumentSpec(code, f"{mark}样本{code[:6]}", listing_day=listing_day)
    return InstrumentSpec(code, f"样本{code[:6]}")
