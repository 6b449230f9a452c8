"""Settings: defaults < TOML file < env TILLER__SECTION__KEY < --set, validated, frozen."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from datetime import time
from decimal import Decimal
from pathlib import Path

import pytest

from app.config import (
    AccountSettings,
    FeeSettings,
    Settings,
    SettingsError,
    default_config_path,
    default_data_dir,
    load_settings,
    write_default_config,
)
from app.secrets import SecretStore


@pytest.fixture
def config_file(isolated_dirs: dict[str, Path]) -> Path:
    path = isolated_dirs["config_file"]
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def env_with(**variables: str) -> dict[str, str]:
    """The test's isolated environment (TILLER_CONFIG, TILLER_DATA_DIR in tmp_path) plus `variables`."""
    return {**os.environ, **variables}


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults and layering --------------------------------------------------------------------


def test_load_settings_when_no_file_then_defaults(isolated_dirs: dict[str, Path]) -> None:
    settings = load_settings()

    assert settings.config_file == isolated_dirs["config_file"]
    assert settings.config_file_found is False
    assert settings.general.mode == "sim"
    assert settings.general.data_dir == isolated_dirs["data_dir"]
    assert settings.general.language == "zh_CN"
    assert settings.account == AccountSettings(account_id="SIM001", initial_cash=Decimal("1000000"))
    assert settings.fees == FeeSettings(
        Decimal("0.00025"), Decimal("5"), Decimal("0.0005"), Decimal("0.00001")
    )
    assert (settings.sim.seed, settings.sim.speed, settings.sim.participation, settings.sim.quote_levels) == (
        7,
        2000.0,
        Decimal("0.25"),
        5,
    )
    assert settings.bigquant.base_url == "https://bigquant.com/bigapis/trading/v1"
    assert settings.bigquant.strategy_ids == ()
    assert (settings.qmt.userdata_path, settings.qmt.session_id, settings.qmt.live_trading_enabled) == (
        "",
        0,
        False,
    )
    assert settings.schedule.pre_open_fetch == time(8, 50)
    assert settings.schedule.backup == time(15, 45)


def test_load_settings_when_file_env_and_cli_then_cli_beats_env_beats_file(config_file: Path) -> None:
    write(config_file, "[sim]\nseed = 1\nquote_levels = 1\n[general]\nlanguage = 'en'\n")
    env = {"TILLER__SIM__SEED": "2", "TILLER__SIM__QUOTE_LEVELS": "5", "TILLER_CONFIG": str(config_file)}

    only_file = load_settings(env={"TILLER_CONFIG": str(config_file)})
    file_and_env = load_settings(env=env)
    all_three = load_settings(env=env, argv_overrides=["sim.seed=3"])

    assert (only_file.sim.seed, only_file.sim.quote_levels, only_file.config_file_found) == (1, 1, True)
    assert (file_and_env.sim.seed, file_and_env.sim.quote_levels) == (2, 5)
    assert (all_three.sim.seed, all_three.sim.quote_levels, all_three.general.language) == (3, 5, "en")


def test_load_settings_when_path_given_then_it_beats_tiller_config(tmp_path: Path) -> None:
    other = write(tmp_path / "other.toml", "[account]\naccount_id = 'PAPER2'\n")

    assert load_settings(path=other).account.account_id == "PAPER2"


def test_load_settings_when_env_names_in_lower_case_then_still_applied() -> None:
    settings = load_settings(env=env_with(tiller__general__log_level="debug"))

    assert settings.general.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("toml_value", "expected"),
    [
        ("0.0001", Decimal("0.0001")),
        ("'0.0003'", Decimal("0.0003")),
        ("1e-4", Decimal("0.0001")),
        ("0", Decimal(0)),
    ],
)
def test_decimal_settings_when_toml_float_or_string_then_exact(
    config_file: Path, toml_value: str, expected: Decimal
) -> None:
    write(config_file, f"[fees]\ncommission_rate = {toml_value}\n")

    value = load_settings().fees.commission_rate

    assert value == expected
    assert str(value) == str(expected) or value.normalize() == expected.normalize()


def test_decimal_settings_when_float_from_toml_then_no_binary_noise(config_file: Path) -> None:
    write(config_file, "[sim]\nparticipation = 0.1\n[account]\ninitial_cash = 123456.78\n")

    settings = load_settings()

    assert settings.sim.participation == Decimal("0.1")
    assert settings.account.initial_cash == Decimal("123456.78")


@pytest.mark.parametrize(
    ("override", "attribute", "expected"),
    [
        ("general.log_level=warning", ("general", "log_level"), "WARNING"),
        ("general.mode=live", ("general", "mode"), "live"),
        ("qmt.live_trading_enabled=yes", ("qmt", "live_trading_enabled"), True),
        ("qmt.live_trading_enabled=0", ("qmt", "live_trading_enabled"), False),
        ("qmt.session_id=42", ("qmt", "session_id"), 42),
        ("bigquant.strategy_ids=abc, d-2 ,", ("bigquant", "strategy_ids"), ("abc", "d-2")),
        ("bigquant.base_url=http://127.0.0.1:8765/v1/", ("bigquant", "base_url"), "http://127.0.0.1:8765/v1"),
        ("bigquant.timeout_s=2.5", ("bigquant", "timeout_s"), 2.5),
        ("sim.speed=60", ("sim", "speed"), 60.0),
        ("sim.participation=1", ("sim", "participation"), Decimal(1)),
        ("schedule.post_close=16:05", ("schedule", "post_close"), time(16, 5)),
        ("fees.commission_min=0", ("fees", "commission_min"), Decimal(0)),
        ("account.initial_cash=50000.50", ("account", "initial_cash"), Decimal("50000.50")),
    ],
)
def test_override_when_valid_then_parsed_to_its_type(
    override: str, attribute: tuple[str, str], expected: object
) -> None:
    settings = load_settings(argv_overrides=[override])

    assert getattr(getattr(settings, attribute[0]), attribute[1]) == expected


def test_toml_native_types_when_used_then_accepted(config_file: Path) -> None:
    write(
        config_file,
        "[bigquant]\nstrategy_ids = ['s1', 's2']\n[schedule]\npre_open_fetch = 08:40:00\n[qmt]\nlive_trading_enabled = true\n",
    )

    settings = load_settings()

    assert settings.bigquant.strategy_ids == ("s1", "s2")
    assert settings.schedule.pre_open_fetch == time(8, 40)
    assert settings.qmt.live_trading_enabled is True


# --- validation -------------------------------------------------------------------------------


def test_bad_value_from_env_then_error_names_key_value_expectation_and_source() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env=env_with(TILLER__FEES__COMMISSION_RATE="0.5"))

    assert str(caught.value) == (
        "fees.commission_rate: expected a decimal between 0 and 0.003, was '0.5' "
        "(from env TILLER__FEES__COMMISSION_RATE)"
    )


def test_bad_value_from_file_then_error_names_file_and_key(config_file: Path) -> None:
    write(config_file, "[sim]\nquote_levels = 3\n")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert (
        str(caught.value)
        == f"sim.quote_levels: expected 1 or 5, was 3 (from {config_file}, [sim] quote_levels)"
    )


def test_bad_value_from_cli_then_error_names_set_option() -> None:
    with pytest.raises(
        SettingsError,
        match=r"^general\.mode: expected 'sim' or 'live', was 'paper' \(from --set general\.mode\)$",
    ):
        load_settings(argv_overrides=["general.mode=paper"])


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("general.mode", "LIVE!"),
        ("general.data_dir", "relative/folder"),
        ("general.log_level", "TRACE"),
        ("general.language", "fr"),
        ("account.account_id", "has space"),
        ("account.account_id", "../escape"),
        ("account.initial_cash", "0"),
        ("account.initial_cash", "-5"),
        ("account.initial_cash", "100.001"),
        ("fees.commission_rate", "-0.0001"),
        ("fees.commission_rate", "0.0031"),
        ("fees.commission_rate", "abc"),
        ("fees.commission_rate", "NaN"),
        ("fees.commission_min", "-1"),
        ("fees.stamp_duty_rate", "-0.0005"),
        ("fees.transfer_rate", "Infinity"),
        ("sim.seed", "1.5"),
        ("sim.speed", "0"),
        ("sim.speed", "nan"),
        ("sim.participation", "0"),
        ("sim.participation", "1.01"),
        ("sim.quote_levels", "10"),
        ("bigquant.base_url", "ftp://bigquant.com"),
        ("bigquant.base_url", "bigquant.com"),
        ("bigquant.strategy_ids", "a,a"),
        ("bigquant.strategy_ids", "bad id"),
        ("bigquant.timeout_s", "-1"),
        ("qmt.session_id", "-1"),
        ("qmt.live_trading_enabled", "maybe"),
        ("schedule.pre_open_fetch", "8:50"),
        ("schedule.backup", "24:00"),
        ("schedule.post_close", "15:60"),
    ],
)
def test_bad_value_when_set_then_settings_error_names_the_key(key: str, bad: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(argv_overrides=[f"{key}={bad}"])

    assert str(caught.value).startswith(f"{key}: expected ")
    assert f"was {bad!r} (from --set {key})" in str(caught.value)


@pytest.mark.parametrize(
    ("key", "toml"),
    [
        ("sim.seed", "true"),
        ("sim.speed", "true"),
        ("fees.commission_min", "false"),
        ("qmt.userdata_path", "3"),
    ],
)
def test_wrong_toml_type_then_error(config_file: Path, key: str, toml: str) -> None:
    section, name = key.split(".")
    write(config_file, f"[{section}]\n{name} = {toml}\n")

    with pytest.raises(
        SettingsError,
        match=rf"^{key}: expected .*, was {toml.title() if toml in ('true', 'false') else toml} ",
    ):
        load_settings()


def test_several_problems_then_all_reported_at_once() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            env=env_with(TILLER__SIM__SEED="x"),
            argv_overrides=["fees.commission_rate=1", "sim.quote_levels=2"],
        )

    assert len(caught.value.problems) == 3
    assert str(caught.value).startswith("3 problems in the settings:\n  - ")


def test_approve_deadline_when_not_after_fetch_then_refused() -> None:
    with pytest.raises(
        SettingsError,
        match=r"schedule\.approve_deadline: expected a time after schedule\.pre_open_fetch \(08:50\), was '08:45'",
    ):
        load_settings(argv_overrides=["schedule.approve_deadline=08:45"])


def test_unknown_key_in_file_then_error_with_suggestion(config_file: Path) -> None:
    write(config_file, "[fees]\ncomission_rate = 0.0002\n")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    message = str(caught.value)
    assert message.startswith(
        f"fees.comission_rate: unknown setting (from {config_file}, [fees] comission_rate)"
    )
    assert "did you mean fees.commission_rate?" in message


def test_unknown_section_then_error_lists_known_sections(config_file: Path) -> None:
    write(config_file, "[shedule]\nbackup = '16:00'\n")

    with pytest.raises(
        SettingsError,
        match=r"^\[shedule\]: unknown section .*did you mean \[schedule\]\? Known sections: general, account",
    ):
        load_settings()


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TILLER__FEES__NOPE": "1"}, "fees.nope: unknown setting (from env TILLER__FEES__NOPE)"),
        ({"TILLER__FEES": "1"}, "TILLER__FEES: expected an environment variable named TILLER__SECTION__KEY"),
        (
            {"TILLER__A__B__C": "1"},
            "TILLER__A__B__C: expected an environment variable named TILLER__SECTION__KEY",
        ),
    ],
)
def test_bad_env_names_then_error(env: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(env=env_with(**env))

    assert str(caught.value).startswith(expected)


@pytest.mark.parametrize("override", ["fees.commission_rate", "fees=1", "a.b.c=1", ".x=1"])
def test_malformed_set_then_error_says_expected_form(override: str) -> None:
    with pytest.raises(SettingsError, match=r"^--set: expected section\.key=value, was "):
        load_settings(argv_overrides=[override])


def test_malformed_toml_then_error_names_file_and_line(config_file: Path) -> None:
    write(config_file, "[general]\nmode = 'sim'\nlanguage = \n")

    with pytest.raises(SettingsError) as caught:
        load_settings()

    assert str(caught.value).startswith(f"{config_file}: not a valid TOML file: ")
    assert "line 3" in str(caught.value)


def test_settings_file_not_utf8_then_error_names_file(config_file: Path) -> None:
    config_file.write_bytes("[general]\nlanguage = '中文'\n".encode("gbk"))

    with pytest.raises(SettingsError, match=r"not a valid TOML file: not UTF-8 text"):
        load_settings()


def test_settings_path_is_a_folder_then_error_names_it(config_file: Path) -> None:
    config_file.mkdir()

    with pytest.raises(SettingsError, match=r"cannot read the settings file"):
        load_settings()


def test_top_level_key_in_file_then_error(config_file: Path) -> None:
    write(config_file, "mode = 'live'\n")

    with pytest.raises(SettingsError, match=r"^mode: settings go inside sections such as \[general\]"):
        load_settings()


def test_bad_settings_file_then_left_untouched(config_file: Path) -> None:
    original = "[fees]\ncommission_rate = 0.01\n"
    write(config_file, original)

    with pytest.raises(SettingsError):
        load_settings()

    assert config_file.read_text(encoding="utf-8") == original
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["config.toml"]


# --- secrets are refused from every source -------------------------------------------------


SECRET_VALUE = "sk-live-31415926-do-not-echo"


@pytest.mark.parametrize(
    ("toml", "name_in_advice"),
    [
        (f"[bigquant]\nsecret_key = '{SECRET_VALUE}'\n", "python -m app secrets set bigquant.secret_key"),
        (f"[bigquant]\naccess_key = '{SECRET_VALUE}'\n", "python -m app secrets set bigquant.access_key"),
        (f"[qmt]\naccount_id = '{SECRET_VALUE}'\n", "python -m app secrets set qmt.account_id"),
        (f"[webhook]\nwecom = '{SECRET_VALUE}'\n", "python -m app secrets set webhook.wecom"),
        (f"[general]\napi_token = '{SECRET_VALUE}'\n", "python -m app secrets set <name>"),
        (f"[qmt]\naccount_password = '{SECRET_VALUE}'\n", "python -m app secrets set <name>"),
        (f"password = '{SECRET_VALUE}'\n", "python -m app secrets set <name>"),
    ],
)
def test_secret_in_settings_file_then_refused_without_echoing_it(
    config_file: Path, toml: str, name_in_advice: str
) -> None:
    write(config_file, toml)

    with pytest.raises(SettingsError) as caught:
        load_settings()

    message = str(caught.value)
    assert "looks like a secret and secrets are never read from settings" in message
    assert name_in_advice in message
    assert str(config_file) in message
    assert SECRET_VALUE not in message


def test_secret_in_env_or_cli_then_refused_without_echoing_it() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            env=env_with(TILLER__BIGQUANT__SECRET_KEY=SECRET_VALUE),
            argv_overrides=[f"smtp.password={SECRET_VALUE}", f"bigquant.access_key{SECRET_VALUE}"],
        )

    message = str(caught.value)
    assert "from env TILLER__BIGQUANT__SECRET_KEY" in message
    assert "python -m app secrets set smtp.password" in message
    assert SECRET_VALUE not in message


# --- the result -------------------------------------------------------------------------------


def test_data_dir_env_when_relative_then_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TILLER_DATA_DIR", "relative/data")

    with pytest.raises(
        SettingsError, match=r"^TILLER_DATA_DIR: expected an absolute folder path, was 'relative/data'"
    ):
        load_settings()


def test_settings_error_when_given_one_string_then_one_problem() -> None:
    error = SettingsError("sim.seed: expected an integer, was 'x'")

    assert error.problems == ("sim.seed: expected an integer, was 'x'",)
    assert str(error) == "sim.seed: expected an integer, was 'x'"


def test_settings_when_loaded_then_frozen() -> None:
    settings = load_settings()

    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.fees.commission_rate = Decimal("0.003")  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.general = settings.general  # type: ignore[misc]


def test_sanitized_then_plain_json_without_secrets_entry_unless_store_given() -> None:
    settings = load_settings(argv_overrides=["bigquant.strategy_ids=a,b"])

    plain = settings.sanitized()
    with_store = settings.sanitized(SecretStore())

    assert json.loads(json.dumps(plain)) == plain
    assert plain["fees"]["commission_rate"] == "0.00025"
    assert plain["schedule"]["approve_deadline"] == "09:10"
    assert plain["bigquant"]["strategy_ids"] == ["a", "b"]
    assert "secrets" not in plain
    assert with_store["secrets"]["bigquant.access_key"] == "unset"


def test_write_default_config_then_it_loads_back_to_the_defaults(config_file: Path) -> None:
    write_default_config(config_file)

    loaded = load_settings()

    assert loaded.config_file_found is True
    assert dataclasses.replace(loaded, config_file=None, config_file_found=False) == Settings()
    assert "python -m app secrets set" in config_file.read_text(encoding="utf-8")


def test_write_default_config_when_file_exists_then_refused_unless_overwrite(config_file: Path) -> None:
    write(config_file, "[sim]\nseed = 99\n")

    with pytest.raises(SettingsError, match=r"a settings file is already there; pass --force"):
        write_default_config(config_file)
    assert load_settings().sim.seed == 99

    write_default_config(config_file, overwrite=True)
    assert load_settings().sim.seed == 7


# --- where the files are ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("platform", "env", "config_parts", "data_parts"),
    [
        ("win32", {"APPDATA": "/appdata"}, ("/appdata", "Tiller", "config.toml"), ("/appdata", "Tiller")),
        (
            "linux",
            {"HOME": "/home/u"},
            ("/home/u", ".config", "tiller", "config.toml"),
            ("/home/u", ".local", "share", "tiller"),
        ),
        pytest.param(
            "linux",
            {"HOME": "/home/u", "XDG_CONFIG_HOME": "/xdg/c", "XDG_DATA_HOME": "/xdg/d"},
            ("/xdg/c", "tiller", "config.toml"),
            ("/xdg/d", "tiller"),
            marks=pytest.mark.skipif(
                sys.platform == "win32",
                reason="a POSIX path such as /xdg/c has no drive, so Windows' pathlib does not call it absolute",
            ),
        ),
        # Relative XDG values are invalid and ignored (XDG Base Directory spec).
        (
            "linux",
            {"HOME": "/home/u", "XDG_CONFIG_HOME": "rel", "XDG_DATA_HOME": "rel"},
            ("/home/u", ".config", "tiller", "config.toml"),
            ("/home/u", ".local", "share", "tiller"),
        ),
        (
            "darwin",
            {"HOME": "/Users/u"},
            ("/Users/u", "Library", "Application Support", "Tiller", "config.toml"),
            ("/Users/u", "Library", "Application Support", "Tiller"),
        ),
    ],
)
def test_default_paths_per_platform(
    platform: str, env: dict[str, str], config_parts: tuple[str, ...], data_parts: tuple[str, ...]
) -> None:
    assert default_config_path(env, platform) == Path(*config_parts)
    assert default_data_dir(env, platform) == Path(*data_parts)


def test_default_paths_when_overridden_by_env_then_used_on_every_platform() -> None:
    env = {"TILLER_CONFIG": "/x/my.toml", "TILLER_DATA_DIR": "/y/data", "APPDATA": "/appdata"}

    for platform in ("win32", "linux", "darwin"):
        assert default_config_path(env, platform) == Path("/x/my.toml")
        assert default_data_dir(env, platform) == Path("/y/data")


@pytest.mark.parametrize("xdg_data_home", [None, "/somewhere/data"])
def test_default_data_dir_then_same_rule_as_storage_paths(
    monkeypatch: pytest.MonkeyPatch, xdg_data_home: str | None
) -> None:
    paths = pytest.importorskip("app.storage.paths")
    monkeypatch.delenv("TILLER_DATA_DIR")
    if xdg_data_home is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", xdg_data_home)

    assert default_data_dir() == paths.default_data_dir()
    assert load_settings().general.data_dir == paths.default_data_dir()


# --- orders in flight and the simulated counter's latencies ------------------------------------


def test_order_timeouts_and_sim_latencies_have_sane_defaults_and_parse_seconds() -> None:
    defaults = load_settings()
    assert defaults.orders.answer_timeout_s == Decimal(10)
    assert defaults.orders.settle_time_s == Decimal(30)
    assert (defaults.sim.ack_latency_s, defaults.sim.fill_latency_s, defaults.sim.cancel_latency_s) == (
        0,
        0,
        0,
    )

    settings = load_settings(
        argv_overrides=["orders.answer_timeout_s=2.5", "orders.settle_time_s=60", "sim.ack_latency_s=0.25"]
    )
    assert settings.orders.answer_timeout_s == Decimal("2.5")
    assert settings.orders.settle_time_s == Decimal(60)
    assert settings.sim.ack_latency_s == Decimal("0.25")


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("orders.answer_timeout_s=0", "orders.answer_timeout_s"),
        ("orders.answer_timeout_s=-1", "orders.answer_timeout_s"),
        ("orders.answer_timeout_s=1e400", "orders.answer_timeout_s"),
        ("orders.settle_time_s=nan", "orders.settle_time_s"),
        ("orders.settle_time_s=3601", "orders.settle_time_s"),
        ("sim.ack_latency_s=-0.001", "sim.ack_latency_s"),
        ("sim.fill_latency_s=0.0001", "sim.fill_latency_s"),
        ("sim.cancel_latency_s=soon", "sim.cancel_latency_s"),
    ],
)
def test_order_timeouts_and_latencies_when_out_of_range_then_refused_by_name(override: str, key: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{key.replace('.', '[.]')}: expected"):
        load_settings(argv_overrides=[override])
