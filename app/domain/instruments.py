"""Security codes: which exchange and board a code belongs to, its tick and settlement cycle.

Only A-share stocks and exchange-listed funds are supported. Bonds, convertibles, B-shares,
indices and repos are refused with `UnknownInstrumentError` rather than guessed at: their lot
sizes, limits and fees differ and are not modelled here.
"""

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum, unique
from functools import lru_cache

from app.domain.errors import RuleViolation, UnknownInstrumentError


@unique
class Exchange(StrEnum):
    """Exchange; the value is the code suffix ("600000.SH")."""

    SH = "SH"  # Shanghai Stock Exchange (SSE)
    SZ = "SZ"  # Shenzhen Stock Exchange (SZSE)
    BJ = "BJ"  # Beijing Stock Exchange (BSE)


@unique
class Board(StrEnum):
    """Listing board; decides price limits, lot rules and per-order maximums."""

    SH_MAIN = "sh_main"
    SZ_MAIN = "sz_main"  # includes the former SME board (002), merged in 2021
    CHINEXT = "chinext"
    STAR = "star"
    BSE = "bse"
    FUND = "fund"  # ETFs, LOFs, closed-end funds and REITs listed on SSE/SZSE


STOCK_TICK = Decimal("0.01")  # RULES B2: A-shares ¥0.01
FUND_TICK = Decimal("0.001")  # RULES B2: listed funds/ETFs ¥0.001


def _expand(two_digit: str) -> tuple[str, ...]:
    return tuple(f"{two_digit}{d}" for d in "0123456789")


# Three-digit code prefix -> (exchange, board). Prefixes are unique across the three exchanges,
# so a bare six-digit code is enough to infer the exchange. Sources: RULES B1 ("Code prefixes
# [S] (rustdx)"); fund prefixes from the SSE/SZSE code allocation as given in the task brief.
_PREFIXES: dict[str, tuple[Exchange, Board]] = {
    **dict.fromkeys(("600", "601", "603", "605"), (Exchange.SH, Board.SH_MAIN)),
    **dict.fromkeys(("688", "689"), (Exchange.SH, Board.STAR)),  # 689: STAR CDRs
    # SH funds: 50x closed-end funds, LOFs and REITs (508); 51x/56x/58x ETFs (588/589 STAR ETFs).
    **dict.fromkeys(_expand("50") + _expand("51") + _expand("56") + _expand("58"), (Exchange.SH, Board.FUND)),
    **dict.fromkeys(("000", "001", "002", "003"), (Exchange.SZ, Board.SZ_MAIN)),
    **dict.fromkeys(("300", "301", "302"), (Exchange.SZ, Board.CHINEXT)),
    # SZ funds: 15x ETFs (159), 16x LOFs, 18x REITs (180) and closed-end funds (184).
    **dict.fromkeys(_expand("15") + _expand("16") + _expand("18"), (Exchange.SZ, Board.FUND)),
    # BSE: new code segment 920 (RULES B1 "92xxxx"; only 920 has been allocated, so the rest of
    # 92x is refused), legacy NEEQ-era codes 43/83/87. 82 (preferred shares) and 88 (subscription
    # codes) are not tradable stocks and are refused.
    "920": (Exchange.BJ, Board.BSE),
    **dict.fromkeys(_expand("43") + _expand("83") + _expand("87"), (Exchange.BJ, Board.BSE)),
}

# RULES B4: bond ETFs, gold ETFs, exchange-traded money-market funds, cross-border ETFs/LOFs and
# commodity-futures ETFs settle T+0; equity ETFs are T+1. A code alone cannot tell them apart,
# so these lists only cover what is known; pass `t_plus_zero=` to `classify` for the rest.
# SSE segments: 511xxx bond and money-market ETFs, 513xxx cross-border ETFs, 518xxx gold ETFs.
T_PLUS_ZERO_FUND_PREFIXES: frozenset[str] = frozenset({"511", "513", "518"})
# Known T+0 funds outside those segments (SZSE 159xxx mixes equity and T+0 ETFs).
T_PLUS_ZERO_FUND_CODES: frozenset[str] = frozenset(
    {
        "510900.SH",  # H-share (HSCEI) ETF, cross-border
        "159920.SZ",  # Hang Seng ETF, cross-border
        "159941.SZ",  # Nasdaq-100 ETF, cross-border
        "159934.SZ",  # gold ETF
        "159937.SZ",  # gold ETF
        "159980.SZ",  # non-ferrous metals futures ETF
        "159981.SZ",  # energy & chemicals futures ETF
        "159985.SZ",  # soybean meal futures ETF
    }
)

# Public REITs: listing-day limit 30% (see prices.py), otherwise like other funds.
REIT_PREFIXES: frozenset[str] = frozenset({"508", "180"})

_SUFFIXES = {member.value: member for member in Exchange}

# "ST", "*ST", "S*ST", "SST" at the start of the short name mark risk-warning stocks; the
# following character must not be an ASCII letter so that a word such as "STAR" is not taken.
_ST_NAME = re.compile(r"S?\*?ST(?![A-Za-z])")
_FULL_WIDTH = str.maketrans({"＊": "*", "Ｓ": "S", "Ｔ": "T"})


@dataclass(frozen=True, slots=True)
class Instrument:
    """A classified security: normalised code ("600000.SH"), board, tick and settlement cycle."""

    code: str
    exchange: Exchange
    board: Board
    tick: Decimal
    t_plus_zero: bool
    name: str = ""
    st: bool = False

    @property
    def symbol(self) -> str:
        """The six digits without the exchange suffix."""
        return self.code[:6]

    @property
    def is_fund(self) -> bool:
        return self.board is Board.FUND

    @property
    def is_reit(self) -> bool:
        return self.board is Board.FUND and self.code[:3] in REIT_PREFIXES


def is_st_name(name: str) -> bool:
    """True if a short name carries a risk-warning prefix: "ST", "*ST", "S*ST", "SST"."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, was {type(name).__name__} {name!r}")
    return _ST_NAME.match(name.strip().translate(_FULL_WIDTH)) is not None


def classify(
    code: str, name: str = "", *, st: bool | None = None, t_plus_zero: bool | None = None
) -> Instrument:
    """Classify a code such as "600000.SH", "600000" or "600000.sh".

    `st` overrides the ST flag derived from `name`; `t_plus_zero` overrides the fund T+0 lists
    (stocks are always T+1, RULES B4). Raises UnknownInstrumentError for anything else.
    """
    if type(code) is str and st is None and t_plus_zero is None and name == "" and type(name) is str:
        # the common call, classify(code), several times per order: one dict look-up
        found = _PLAIN.get(code)
        if found is None:
            found = _classify(code, "", None, None)  # raises for an unknown code: never remembered
            if len(_PLAIN) >= _PLAIN_MAX:
                _PLAIN.clear()
            _PLAIN[code] = found
        return found
    if not isinstance(code, str):
        raise TypeError(f"code must be a str, was {type(code).__name__} {code!r}")
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, was {type(name).__name__} {name!r}")
    if st is not None and not isinstance(st, bool):
        raise TypeError(f"st must be a bool or None, was {st!r}")
    if t_plus_zero is not None and not isinstance(t_plus_zero, bool):
        raise TypeError(f"t_plus_zero must be a bool or None, was {t_plus_zero!r}")
    return _classify(code, name, st, t_plus_zero)


def normalize_code(code: str) -> str:
    """The canonical form of a supported code: "600000" -> "600000.SH"."""
    return classify(code).code


_PLAIN_MAX = 16384
_PLAIN: dict[str, Instrument] = {}  # classify(code) with no name nor flags, by code


@lru_cache(maxsize=16384)
def _classify(code: str, name: str, st: bool | None, t_plus_zero: bool | None) -> Instrument:
    symbol, exchange, board = _parse(code)
    normalized = f"{symbol}.{exchange.value}"
    if board is Board.FUND:
        tick = FUND_TICK
        known_t0 = symbol[:3] in T_PLUS_ZERO_FUND_PREFIXES or normalized in T_PLUS_ZERO_FUND_CODES
        settles_t0 = known_t0 if t_plus_zero is None else t_plus_zero
    else:
        if t_plus_zero:
            raise RuleViolation(
                f"股票只能 T+1 交易 stocks settle T+1 (RULES B4), t_plus_zero was True for {normalized}"
            )
        tick = STOCK_TICK
        settles_t0 = False
    is_st = is_st_name(name) if st is None else st
    return Instrument(normalized, exchange, board, tick, settles_t0, name.strip(), is_st)


def _parse(code: str) -> tuple[str, Exchange, Board]:
    text = code.strip().upper()
    symbol, dot, suffix = text.partition(".")
    exchange: Exchange | None = None
    if dot:
        exchange = _SUFFIXES.get(suffix)
        if exchange is None:
            raise UnknownInstrumentError(
                f"不支持的交易所后缀 unknown exchange suffix (use .SH, .SZ or .BJ), was {code!r}"
            )
    if len(symbol) != 6 or not (symbol.isascii() and symbol.isdigit()):
        raise UnknownInstrumentError(f"证券代码应为 6 位数字 a security code has six digits, was {code!r}")
    entry = _PREFIXES.get(symbol[:3])
    if entry is None:
        raise UnknownInstrumentError(
            f"不支持的证券代码 unsupported code (not an A-share stock or listed fund), was {code!r}"
        )
    listed_on, board = entry
    if exchange is not None and exchange is not listed_on:
        raise UnknownInstrumentError(
            f"代码与交易所不符 code {symbol} belongs to {listed_on.value}, not {exchange.value}, was {code!r}"
        )
    return symbol, listed_on, board
