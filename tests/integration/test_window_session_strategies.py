"""The window's simulated session follows the demo's strategy by its name, and what the investor
sets for a strategy stands when the window is opened again (the session used to overwrite it with the
defaults at every start)."""

from __future__ import annotations

import dataclasses
from datetime import date, time
from decimal import Decimal
from pathlib import Path

from app.bootstrap import build_window_session
from app.config import load_settings
from app.demo_data import STRATEGY_A, STRATEGY_NAMES

DAY = date(2026, 11, 23)


def _open(tmp_path: Path):  # type: ignore[no-untyped-def]
    folder = tmp_path / "data"
    settings = load_settings(env={"TILLER_DATA_DIR": str(folder)}, path=tmp_path / "none.toml")
    return build_window_session(
        settings, day=DAY, data_dir=folder, speed=None, start=time(9, 0), until=time(9, 1)
    )


def test_the_demo_strategy_is_named_and_the_investors_settings_stand_at_the_next_start(
    tmp_path: Path,
) -> None:
    session = _open(tmp_path)
    try:
        found = {s.settings.strategy_id: s.settings for s in session.terminal.strategies()}
        assert found[STRATEGY_A].name == STRATEGY_NAMES[STRATEGY_A]
        edited = dataclasses.replace(
            found[STRATEGY_A], paper_capital=Decimal(123_456), name="我的动量", policy="twap"
        )
        session.terminal.set_strategy(edited, who="user")
    finally:
        session.close()

    again = _open(tmp_path)
    try:
        found = {s.settings.strategy_id: s.settings for s in again.terminal.strategies()}
        assert found[STRATEGY_A] == edited
        # a strategy stored without a name (as earlier versions left the demo's) is named; the rest stands
        again.terminal.set_strategy(dataclasses.replace(edited, name=""), who="user")
    finally:
        again.close()

    again = _open(tmp_path)
    try:
        found = {s.settings.strategy_id: s.settings for s in again.terminal.strategies()}
        assert found[STRATEGY_A] == dataclasses.replace(edited, name=STRATEGY_NAMES[STRATEGY_A])
    finally:
        again.close()
