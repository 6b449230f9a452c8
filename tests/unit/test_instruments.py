import dataclasses
from decimal import Decimal

import pytest

from app.domain.errors import RuleViolation, UnknownInstrumentError
from app.domain.instruments import (
    Board,
    Exchange,
    Instrument,
    classify,
    is_st_name,
    normalize_code,
)

CENT = Decimal("0.01")
MILL = Decimal("0.001")


@pytest.mark.parametrize(
    ("code", "normalized", "exchange", "board", "tick", "t_plus_zero"),
    [
        # SSE main board 600/601/603/605
        ("600000.SH", "600000.SH", Exchange.SH, Board.SH_MAIN, CENT, False),
        ("601318", "601318.SH", Exchange.SH, Board.SH_MAIN, CENT, False),
        ("603288.sh", "603288.SH", Exchange.SH, Board.SH_MAIN, CENT, False),
        ("605499", "605499.SH", Exchange.SH, Board.SH_MAIN, CENT, False),
        # STAR 688/689
        ("688981.SH", "688981.SH", Exchange.SH, Board.STAR, CENT, False),
        ("689009", "689009.SH", Exchange.SH, Board.STAR, CENT, False),
        # SZSE main board 000/001/002/003
        ("000001.SZ", "000001.SZ", Exchange.SZ, Board.SZ_MAIN, CENT, False),
        ("001979", "001979.SZ", Exchange.SZ, Board.SZ_MAIN, CENT, False),
        ("002594.sz", "002594.SZ", Exchange.SZ, Board.SZ_MAIN, CENT, False),
        ("003816", "003816.SZ", Exchange.SZ, Board.SZ_MAIN, CENT, False),
        # ChiNext 300/301/302
        ("300750", "300750.SZ", Exchange.SZ, Board.CHINEXT, CENT, False),
        ("301269.SZ", "301269.SZ", Exchange.SZ, Board.CHINEXT, CENT, False),
        ("302132", "302132.SZ", Exchange.SZ, Board.CHINEXT, CENT, False),
        # BSE 920 and legacy 43/83/87
        ("920002.BJ", "920002.BJ", Exchange.BJ, Board.BSE, CENT, False),
        ("430047", "430047.BJ", Exchange.BJ, Board.BSE, CENT, False),
        ("830799.bj", "830799.BJ", Exchange.BJ, Board.BSE, CENT, False),
        ("872925", "872925.BJ", Exchange.BJ, Board.BSE, CENT, False),
        # SSE funds: equity ETFs T+1; 511 bond/money, 513 cross-border, 518 gold T+0
        ("510300.SH", "510300.SH", Exchange.SH, Board.FUND, MILL, False),
        ("588000", "588000.SH", Exchange.SH, Board.FUND, MILL, False),
        ("560010", "560010.SH", Exchange.SH, Board.FUND, MILL, False),
        ("511880", "511880.SH", Exchange.SH, Board.FUND, MILL, True),
        ("513100", "513100.SH", Exchange.SH, Board.FUND, MILL, True),
        ("518880", "518880.SH", Exchange.SH, Board.FUND, MILL, True),
        ("510900", "510900.SH", Exchange.SH, Board.FUND, MILL, True),
        ("501018", "501018.SH", Exchange.SH, Board.FUND, MILL, False),
        ("508000", "508000.SH", Exchange.SH, Board.FUND, MILL, False),
        # SZSE funds: 159 ETFs (mixed), 16x LOFs, 18x REITs
        ("159915.SZ", "159915.SZ", Exchange.SZ, Board.FUND, MILL, False),
        ("159920", "159920.SZ", Exchange.SZ, Board.FUND, MILL, True),
        ("159934", "159934.SZ", Exchange.SZ, Board.FUND, MILL, True),
        ("161725", "161725.SZ", Exchange.SZ, Board.FUND, MILL, False),
        ("180101", "180101.SZ", Exchange.SZ, Board.FUND, MILL, False),
        # surrounding whitespace is tolerated
        ("  600519.sh ", "600519.SH", Exchange.SH, Board.SH_MAIN, CENT, False),
    ],
)
def test_classify_known_code_gives_board_tick_and_settlement(
    code, normalized, exchange, board, tick, t_plus_zero
):
    instrument = classify(code)

    assert instrument.code == normalized
    assert instrument.exchange is exchange
    assert instrument.board is board
    assert instrument.tick == tick
    assert instrument.t_plus_zero is t_plus_zero
    assert instrument.symbol == normalized[:6]
    assert instrument.is_fund is (board is Board.FUND)


@pytest.mark.parametrize(
    "code",
    [
        "123456.SH",  # no such SSE segment (bond area)
        "123456",
        "abc",
        "600000.XX",
        "600000.SS",  # Yahoo-style suffix is not accepted
        "",
        "   ",
        "60000",
        "6000001",
        "600000.",
        "600000.SH.SH",
        "SH600000",
        "399001.SZ",  # SZSE index
        "000001.SH",  # SSE Composite index, not Ping An Bank
        "600000.SZ",  # SSE code with a SZSE suffix
        "300750.SH",
        "510300.SZ",
        "110059.SH",  # convertible bond: not supported
        "127045.SZ",  # convertible bond
        "900901.SH",  # B-share
        "200002.SZ",  # B-share
        "921000.BJ",  # unallocated BSE segment
        "820001.BJ",  # NEEQ preferred share
        "889001",  # BSE subscription code
        "６０００００",  # full-width digits
    ],
)
def test_classify_unrecognised_code_raises_unknown_instrument_naming_the_code(code):
    with pytest.raises(UnknownInstrumentError) as excinfo:
        classify(code)

    assert repr(code) in str(excinfo.value)
    assert isinstance(excinfo.value, ValueError)


@pytest.mark.parametrize("code", [600000, None, b"600000", Decimal("600000")])
def test_classify_non_string_code_raises_type_error(code):
    with pytest.raises(TypeError, match="code must be a str"):
        classify(code)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ST华通", True),
        ("*ST金科", True),
        ("S*ST前锋", True),
        ("SST天海", True),
        ("  ST康美", True),
        ("＊ＳＴ金科", True),  # full-width asterisk and letters
        ("平安银行", False),
        ("", False),
        ("华ST", False),  # only a prefix counts
        ("STAR科技", False),  # "ST" followed by a letter is a word, not the marker
        ("st华通", False),  # exchange names use capitals
    ],
)
def test_is_st_name_recognises_risk_warning_prefixes(name, expected):
    assert is_st_name(name) is expected


def test_classify_derives_st_from_name_and_strips_the_name():
    instrument = classify("000001", " *ST金科 ")

    assert instrument.st is True
    assert instrument.name == "*ST金科"


def test_classify_explicit_st_overrides_the_name():
    assert classify("600000", "浦发银行", st=True).st is True
    assert classify("600000", "ST浦发", st=False).st is False


def test_classify_fund_t_plus_zero_override_wins_over_the_lists():
    assert classify("159915", t_plus_zero=True).t_plus_zero is True
    assert classify("511880", t_plus_zero=False).t_plus_zero is False


def test_classify_stock_declared_t_plus_zero_is_refused():
    with pytest.raises(RuleViolation, match="T\\+1"):
        classify("600000", t_plus_zero=True)

    assert classify("600000", t_plus_zero=False).t_plus_zero is False


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"st": 1}, "st must be"), ({"t_plus_zero": "yes"}, "t_plus_zero")]
)
def test_classify_non_bool_flags_raise_type_error(kwargs, message):
    with pytest.raises(TypeError, match=message):
        classify("600000", **kwargs)


def test_classify_same_code_returns_the_cached_instrument():
    assert classify("600000.SH") is classify("600000.SH")


def test_instrument_is_frozen():
    instrument = classify("600000")

    with pytest.raises(dataclasses.FrozenInstanceError):
        instrument.tick = Decimal("0.1")  # type: ignore[misc]


def test_instrument_reit_flag_only_for_reit_segments():
    assert classify("508000").is_reit is True
    assert classify("180101").is_reit is True
    assert classify("510300").is_reit is False
    assert classify("600000").is_reit is False


def test_instrument_can_be_built_directly():
    instrument = Instrument("600000.SH", Exchange.SH, Board.SH_MAIN, CENT, False)

    assert instrument.name == ""
    assert instrument.st is False


@pytest.mark.parametrize(
    ("code", "expected"),
    [("600000", "600000.SH"), ("000001.sz", "000001.SZ"), (" 920002 ", "920002.BJ"), ("159915", "159915.SZ")],
)
def test_normalize_code_adds_or_uppercases_the_suffix(code, expected):
    assert normalize_code(code) == expected


def test_normalize_code_unknown_code_raises():
    with pytest.raises(UnknownInstrumentError, match="'999999'"):
        normalize_code("999999")


def test_classify_by_code_alone_remembers_only_good_codes_and_agrees_with_the_full_call(monkeypatch):
    from app.domain import instruments

    monkeypatch.setattr(instruments, "_PLAIN", {})
    for _ in range(2):  # an unknown code raises every time: nothing is remembered for it
        with pytest.raises(UnknownInstrumentError):
            classify("999999.SH")
    assert "999999.SH" not in instruments._PLAIN
    for code in ("600000.sh", " 600000", "510300", "000001.SZ"):
        assert classify(code) == classify(code, "", st=None, t_plus_zero=None) == classify(code, " ")
        assert classify(code) is classify(code)
    assert classify("600000.SH", "ST 浦发").st is True  # a name goes the full way: never the plain entry
    assert classify("600000.SH").st is False
    assert classify("510300.SH", t_plus_zero=True).t_plus_zero is True
    assert classify("510300.SH").t_plus_zero is False
    with pytest.raises(TypeError, match="code must be a str"):
        classify(600000)  # type: ignore[arg-type]


def test_classify_by_code_alone_forgets_everything_when_full(monkeypatch):
    from app.domain import instruments

    monkeypatch.setattr(instruments, "_PLAIN", {})
    monkeypatch.setattr(instruments, "_PLAIN_MAX", 2)
    classify("600000.SH")
    classify("600036.SH")
    classify("000001.SZ")
    assert list(instruments._PLAIN) == ["000001.SZ"]
