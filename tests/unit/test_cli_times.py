"""Times typed on the command line (`run --until`, `demo --until`): as a person types them."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.__main__ import build_parser


def _until(text: str) -> time:
    return build_parser().parse_args(["run", "--until", text]).until  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("09:40", time(9, 40)), ("9:40", time(9, 40)), ("9：40", time(9, 40)), (" 14:57 ", time(14, 57)),
     ("15:00:30", time(15, 0, 30))],
)  # fmt: skip
def test_a_time_is_read_as_typed(typed: str, meant: time) -> None:
    assert _until(typed) == meant


@pytest.mark.parametrize("typed", ["25:00", "9", "9:4", "noon", "", "9:40pm", "9:60"])
def test_a_time_that_is_not_one_is_refused_in_words(typed: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _until(typed)
    assert exited.value.code == 2
    assert "expected a time HH:MM" in capsys.readouterr().err


@given(st.integers(0, 23), st.integers(0, 59))
def test_every_clock_time_round_trips(hour: int, minute: int) -> None:
    assert _until(f"{hour}:{minute:02d}") == time(hour, minute)
