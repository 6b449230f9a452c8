"""Exact decimals in TEXT columns: to_db / from_db, alone and through a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.storage import from_db, open_database, to_db, transaction

NOW = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)

TRICKY = [
    Decimal("0.1") + Decimal("0.2"),
    Decimal("1480.50"),
    Decimal("0.001"),
    Decimal("123456789.12"),
    Decimal("-2345.67"),
    Decimal("-0.01"),
    Decimal("0"),
    Decimal("1E+2"),
    Decimal("1E-7"),
    Decimal("99999999999999.9999"),
    Decimal("123456789.123456789"),  # more digits than a REAL keeps
]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1E+2"), "100"),
        (Decimal("1.50"), "1.50"),
        (Decimal("1480.50"), "1480.50"),
        (Decimal("0.1") + Decimal("0.2"), "0.3"),
        (Decimal("1E-7"), "0.0000001"),
        (Decimal("-12.340"), "-12.340"),
        (Decimal("123456789.12"), "123456789.12"),
        (None, None),
    ],
)
def test_to_db_writes_plain_decimal_text_without_exponent(value, text):
    assert to_db(value) == text


@pytest.mark.parametrize("value", TRICKY)
def test_to_db_then_from_db_gives_back_the_same_value_and_precision(value):
    back = from_db(to_db(value))

    assert back == value
    if value.as_tuple().exponent <= 0:  # "1E+2" comes back as "100": same value, no exponent
        assert back.as_tuple() == value.as_tuple()  # same digits, same precision ("1480.50")


@pytest.mark.parametrize("value", [0.1, 1480.5, float("nan")])
def test_to_db_rejects_float(value):
    with pytest.raises(TypeError, match="never float"):
        to_db(value)


@pytest.mark.parametrize("value", [100, "1.5", True])
def test_to_db_rejects_non_decimal(value):
    with pytest.raises(TypeError, match="must be Decimal"):
        to_db(value)


@pytest.mark.parametrize("value", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_to_db_rejects_non_finite(value):
    with pytest.raises(ValueError, match="finite"):
        to_db(value)


@pytest.mark.parametrize("text", ["abc", "", " 1.5", "1.5 ", "NaN", "Infinity", "1,5"])
def test_from_db_rejects_text_that_is_not_a_plain_decimal(text):
    with pytest.raises(ValueError, match="plain decimal text, was"):
        from_db(text)


@pytest.mark.parametrize("value", [15, 1.5, b"1.5"])
def test_from_db_rejects_non_text(value):
    with pytest.raises(TypeError, match="must be TEXT"):
        from_db(value)


def test_from_db_none_is_none():
    assert from_db(None) is None


@given(units=st.integers(min_value=-(10**15), max_value=10**15), places=st.integers(min_value=0, max_value=8))
def test_round_trip_is_exact_for_any_amount(units, places):
    value = Decimal(units).scaleb(-places)

    text = to_db(value)

    assert "E" not in text and "e" not in text
    assert from_db(text) == value
    assert str(from_db(text)) == str(Decimal(text))


def test_tricky_values_round_trip_exactly_through_a_real_file(tmp_path):
    path = tmp_path / "tiller.db"
    with open_database(path, now=NOW) as database, transaction(database):
        database.db["daily_positions"].insert_all(
            {
                "trading_day": "2025-03-03",
                "code": f"{index:06d}.SZ",
                "qty": 100,
                "avg_cost": to_db(value),
                "realized_pnl": to_db(-value),
                "unrealized_pnl": to_db(value),
            }
            for index, value in enumerate(TRICKY)
        )

    with open_database(path, now=NOW) as database:
        rows = list(database.db.query("SELECT * FROM daily_positions ORDER BY code"))

    assert [from_db(row["avg_cost"]) for row in rows] == TRICKY
    assert [from_db(row["realized_pnl"]) for row in rows] == [-value for value in TRICKY]
    assert [row["avg_cost"] for row in rows] == [to_db(value) for value in TRICKY]  # text kept as written
    assert all(isinstance(row["avg_cost"], str) for row in rows)
