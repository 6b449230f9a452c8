"""The [execution] settings: defaults of the execution policies, validated at load."""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from app.config import ExecutionSettings, SettingsError, load_settings, write_default_config
from app.core.execution.service import parse_params


def _load(tmp_path: Path, text: str = "", **env: str):
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(env={"TILLER_DATA_DIR": str(tmp_path), **env}, path=path)


def test_defaults_are_valid_parameters(tmp_path: Path) -> None:
    execution = _load(tmp_path).execution
    assert execution.fallback is True and execution.end == time(14, 56)
    params = parse_params(execution.as_params())
    assert params.slices == execution.slices and params.participation == execution.participation


def test_file_env_and_per_strategy_tables(tmp_path: Path) -> None:
    text = (
        '[execution]\nslices = 6\nfallback = false\nend = "14:30"\n'
        "[execution.strategy_defaults.alpha]\nslices = 3\nparticipation = 0.05\nfallback = true\n"
    )
    execution = _load(tmp_path, text, TILLER__EXECUTION__GAP_UP_PCT="0.03").execution
    assert (execution.slices, execution.fallback, execution.end) == (6, False, time(14, 30))
    assert execution.gap_up_pct == Decimal("0.03")
    assert execution.strategy_defaults == {
        "alpha": {"slices": "3", "participation": "0.05", "fallback": "true"}
    }
    merged = parse_params(execution.as_params(), execution.strategy_defaults["alpha"], {"slices": "9"})
    assert (merged.slices, merged.participation, merged.fallback, merged.end) == (
        9, Decimal("0.05"), True, time(14, 30)
    )  # fmt: skip


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TILLER__EXECUTION__SLICES": "0"}, "execution.slices"),
        ({"TILLER__EXECUTION__PARTICIPATION": "1.5"}, "execution.participation"),
        ({"TILLER__EXECUTION__PARTICIPATION": "nan"}, "execution.participation"),
        ({"TILLER__EXECUTION__END": "25:00"}, "execution.end"),
        ({"TILLER__EXECUTION__FALLBACK": "perhaps"}, "execution.fallback"),
        ({"TILLER__EXECUTION__STRATEGY_DEFAULTS": "alpha"}, "execution.strategy_defaults"),
        ({"TILLER__EXECUTION__AUCTION_OFFSET": "1e400"}, "execution.auction_offset"),
    ],
)
def test_bad_values_are_refused_with_the_key(tmp_path: Path, env: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError, match=expected):
        _load(tmp_path, **env)


def test_a_bad_strategy_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"execution\.strategy_defaults"):
        _load(tmp_path, "[execution.strategy_defaults.alpha]\nslices = [1, 2]\n")


def test_an_unknown_or_bad_parameter_per_strategy_stops_the_start(tmp_path: Path) -> None:
    from app.bootstrap import build_execution

    settings = _load(tmp_path, '[execution.strategy_defaults.alpha]\ncolour = "red"\n')
    with pytest.raises(SettingsError, match="colour"):
        build_execution(settings, engine=None)  # type: ignore[arg-type]  # refused before any use
    settings = _load(tmp_path, '[execution.strategy_defaults.alpha]\nslices = "0"\n')
    with pytest.raises(SettingsError, match="slices"):
        build_execution(settings, engine=None)  # type: ignore[arg-type]


def test_the_written_default_file_loads_back(tmp_path: Path) -> None:
    path = write_default_config(tmp_path / "config.toml")
    assert "[execution]" in path.read_text(encoding="utf-8")
    settings = load_settings(env={"TILLER_DATA_DIR": str(tmp_path)}, path=path)
    assert settings.execution == ExecutionSettings()
