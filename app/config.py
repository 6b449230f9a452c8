"""Frozen, validated settings: defaults < TOML file < env TILLER__SECTION__KEY < command line.

Layering follows freqtrade (STYLE.md §3.4). Every value is validated at load time and a bad one
raises `SettingsError` naming the key, the value, what was expected and where it came from.
Secrets are never settings: they live in the OS keyring (`app.secrets`), and a secret-looking
key in the file or the environment is refused.

Decimal fields read from TOML floats go through `Decimal(str(x))`: TOML `0.1` parses to the float
0.1 whose shortest repr is "0.1", so the Decimal is exactly 0.1. Quoting the number ("0.1") works
too and is what `write_default_config` writes.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import sys
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from app.core.risk.limits import RiskLimits
from app.domain.setting_values import to_bool, to_decimal
from app.secrets import SECRET_NAMES

if TYPE_CHECKING:
    from app.secrets import SecretStore

ENV_PREFIX = "TILLER__"
CONFIG_ENV_VAR = "TILLER_CONFIG"
DATA_DIR_ENV_VAR = "TILLER_DATA_DIR"
CONFIG_FILE_NAME = "config.toml"

# Substrings that make a key look like a secret (besides the exact names in SECRET_NAMES).
_SECRET_KEY_MARKERS = (
    "secret",
    "password",
    "passwd",
    "token",
    "access_key",
    "api_key",
    "apikey",
    "private_key",
    "credential",
)


class SettingsError(ValueError):
    """One or more settings are wrong; `problems` lists each one in words a user understands."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems = (problems,) if isinstance(problems, str) else tuple(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            lines = "\n".join(f"  - {problem}" for problem in self.problems)
            message = f"{len(self.problems)} problems in the settings:\n{lines}"
        super().__init__(message)


# --- where files live -------------------------------------------------------------------------


def _env_value(env: Mapping[str, str], name: str) -> str:
    return env.get(name, "").strip()


def _home(env: Mapping[str, str], platform: str) -> Path:
    # What Path.home() reads on each platform, but from `env` so callers can pass their own.
    home = _env_value(env, "USERPROFILE" if platform == "win32" else "HOME")
    return Path(home) if home else Path.home()


def _user_folder(
    env: Mapping[str, str], platform: str, xdg_variable: str, xdg_fallback: tuple[str, ...]
) -> Path:
    """The per-user folder that holds Tiller's own folder (named "Tiller" there, "tiller" on Linux)."""
    if platform == "win32":
        appdata = _env_value(env, "APPDATA")
        return (Path(appdata) if appdata else _home(env, platform) / "AppData" / "Roaming") / "Tiller"
    if platform == "darwin":
        return _home(env, platform) / "Library" / "Application Support" / "Tiller"
    # XDG Base Directory spec: a relative value is invalid and must be ignored.
    xdg = _env_value(env, xdg_variable)
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else _home(env, platform).joinpath(*xdg_fallback)
    return base / "tiller"


def default_config_path(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The settings file: $TILLER_CONFIG, else config.toml in the platform's user config folder
    (Windows %APPDATA%/Tiller, macOS ~/Library/Application Support/Tiller, Linux $XDG_CONFIG_HOME/tiller
    or ~/.config/tiller)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    override = _env_value(env, CONFIG_ENV_VAR)
    if override:
        return Path(override).expanduser()
    return _user_folder(env, platform, "XDG_CONFIG_HOME", (".config",)) / CONFIG_FILE_NAME


def default_data_dir(env: Mapping[str, str] | None = None, platform: str | None = None) -> Path:
    """The data folder, by the same rule as `app.storage.paths.default_data_dir` but reading `env`.

    $TILLER_DATA_DIR; else Windows %APPDATA%/Tiller, macOS ~/Library/Application Support/Tiller,
    Linux $XDG_DATA_HOME/tiller or ~/.local/share/tiller.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    override = _env_value(env, DATA_DIR_ENV_VAR)
    if override:
        return Path(override).expanduser()
    return _user_folder(env, platform, "XDG_DATA_HOME", (".local", "share"))


# --- value parsers: each returns the typed value or raises ValueError/TypeError -----------------


@dataclass(frozen=True, slots=True)
class _Spec:
    parse: Callable[[Any], Any]
    expected: str  # completes "expected ..."
    help: str


def _meta(*, parse: Callable[[Any], Any], expected: str, help: str) -> dict[str, _Spec]:
    """Field metadata: how to parse the raw value, what to say when it is wrong, what the key is for."""
    return {"spec": _Spec(parse, expected, help)}


def _to_decimal(raw: Any) -> Decimal:
    return to_decimal(raw)  # see module docstring: a float goes through its shortest text


def _decimal(
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


def _integer(
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


def _positive_float(high: float) -> Callable[[Any], float]:
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


_boolean = to_bool


def _choice(*choices: str, case_insensitive: bool = False) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if not isinstance(raw, str):
            raise TypeError("not a string")
        value = raw.strip()
        for choice in choices:
            if value == choice or (case_insensitive and value.lower() == choice.lower()):
                return choice
        raise ValueError("not one of the choices")

    return parse


def _matching(pattern: str) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        if not isinstance(raw, str) or not re.fullmatch(pattern, raw.strip()):
            raise ValueError("does not match")
        return raw.strip()

    return parse


def _string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError("not a string")
    return raw.strip()


def _absolute_path(raw: Any) -> Path:
    # A relative data folder would depend on the working directory of whoever started the app.
    if not isinstance(raw, str | Path) or not str(raw).strip():
        raise ValueError("not a path")
    path = Path(str(raw).strip()).expanduser()
    if not path.is_absolute():
        raise ValueError("not absolute")
    return path


def _http_url(raw: Any) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", raw.strip()):
        raise ValueError("not an http(s) URL")
    return raw.strip().rstrip("/")


def _optional_http_url(raw: Any) -> str:
    if isinstance(raw, str) and not raw.strip():
        return ""
    return _http_url(raw)


def _optional_string(raw: Any) -> str:
    if not isinstance(raw, str):
        raise TypeError("not a string")
    return raw.strip()


def _hhmm(raw: Any) -> time:
    if isinstance(raw, time) and raw.second == 0 and raw.microsecond == 0 and raw.tzinfo is None:
        return raw  # a TOML local time such as 08:50:00
    if isinstance(raw, str) and (match := re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", raw.strip())):
        return time(int(match[1]), int(match[2]))
    raise ValueError("not HH:MM")


def _id_list(raw: Any) -> tuple[str, ...]:
    # From the environment or --set a list is written "a,b,c".
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple) or not all(isinstance(item, str) for item in items):
        raise TypeError("not a list of strings")
    ids = tuple(item.strip() for item in items if item.strip())
    if len(set(ids)) != len(ids) or not all(re.fullmatch(r"[\w.-]+", item) for item in ids):
        raise ValueError("bad ids")
    return ids


# --- the settings, one frozen section each ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class GeneralSettings:
    mode: str = field(
        default="sim",
        metadata=_meta(
            parse=_choice("sim", "live"),
            expected="'sim' or 'live'",
            help="sim: the built-in simulated broker; live: QMT",
        ),
    )
    data_dir: Path = field(
        default_factory=default_data_dir,
        metadata=_meta(
            parse=_absolute_path,
            expected="an absolute folder path",
            help="where the databases, backups and logs are kept",
        ),
    )
    log_level: str = field(
        default="INFO",
        metadata=_meta(
            parse=_choice("DEBUG", "INFO", "WARNING", "ERROR", case_insensitive=True),
            expected="one of DEBUG, INFO, WARNING, ERROR",
            help="how much goes into the log",
        ),
    )
    language: str = field(
        default="zh_CN",
        metadata=_meta(parse=_choice("zh_CN", "en"), expected="'zh_CN' or 'en'", help="interface language"),
    )


@dataclass(frozen=True, slots=True)
class AccountSettings:
    # The id becomes part of the database file name, hence the narrow alphabet.
    account_id: str = field(
        default="SIM001",
        metadata=_meta(
            parse=_matching(r"[A-Za-z0-9_-]{1,32}"),
            expected="1 to 32 letters, digits, '_' or '-'",
            help="the simulated account's id (the real QMT account id is a secret: python -m app secrets set qmt.account_id)",
        ),
    )
    initial_cash: Decimal = field(
        default=Decimal("1000000"),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal("1e12"), low_open=True, places=2),
            expected="a positive amount in yuan with at most 2 decimals",
            help="cash of a new simulated account, yuan",
        ),
    )


@dataclass(frozen=True, slots=True)
class FeeSettings:
    # RULES.md B7: commission capped at 0.3%, ¥5 minimum; stamp duty 0.05% on sells; transfer 0.001%.
    commission_rate: Decimal = field(
        default=Decimal("0.00025"),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal("0.003")),
            expected="a decimal between 0 and 0.003",
            help="commission as a fraction of turnover (capped at 0.3%, RULES.md B7)",
        ),
    )
    commission_min: Decimal = field(
        default=Decimal("5"),
        metadata=_meta(
            parse=_decimal(Decimal(0), places=2),
            expected="a non-negative amount in yuan with at most 2 decimals",
            help="minimum commission per order, yuan (0 if your broker waives it: 免五)",
        ),
    )
    stamp_duty_rate: Decimal = field(
        default=Decimal("0.0005"),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(1)),
            expected="a decimal between 0 and 1",
            help="stamp duty on sells, fraction of turnover",
        ),
    )
    transfer_rate: Decimal = field(
        default=Decimal("0.00001"),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(1)),
            expected="a decimal between 0 and 1",
            help="transfer fee (过户费) on buys and sells, fraction of turnover",
        ),
    )


@dataclass(frozen=True, slots=True)
class SimSettings:
    seed: int = field(
        default=7,
        metadata=_meta(parse=_integer(), expected="an integer", help="random seed of the synthetic quotes"),
    )
    speed: float = field(
        default=2000.0,
        metadata=_meta(
            parse=_positive_float(1e6),
            expected="a number of simulated seconds per real second, above 0 and at most 1000000",
            help="how fast the simulated clock runs",
        ),
    )
    participation: Decimal = field(
        default=Decimal("0.25"),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(1), low_open=True),
            expected="a fraction above 0 and at most 1",
            help="share of the displayed volume one simulated order may take",
        ),
    )
    quote_levels: int = field(
        default=5,
        metadata=_meta(parse=_integer(choices=(1, 5)), expected="1 or 5", help="depth of simulated quotes"),
    )
    # Latencies of the simulated counter, in simulated seconds (0: at once). They let the races of
    # orders in flight happen in a simulated day: a cancel before the acknowledgement, a late answer.
    ack_latency_s: Decimal = field(
        default=Decimal(0),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(3600), places=3),
            expected="seconds from 0 to 3600, at most 3 decimals",
            help="how long an order takes to reach the simulated counter (its acknowledgement)",
        ),
    )
    fill_latency_s: Decimal = field(
        default=Decimal(0),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(3600), places=3),
            expected="seconds from 0 to 3600, at most 3 decimals",
            help="how long the simulated counter takes to push a fill (trade report)",
        ),
    )
    cancel_latency_s: Decimal = field(
        default=Decimal(0),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(3600), places=3),
            expected="seconds from 0 to 3600, at most 3 decimals",
            help="how long the exchange takes to confirm a cancel: meanwhile the order shows as pending "
            "cancel and can still fill",
        ),
    )
    # What the simulated exchange does with a limit order outside the price cage (RULES.md B6):
    # "exchange" follows that exchange's own rule (SZ holds it until in range, SH and BJ reject it).
    cage_sh: str = field(
        default="exchange",
        metadata=_meta(
            parse=_choice("exchange", "reject", "hold", "off"),
            expected="exchange, reject, hold or off",
            help="out-of-cage orders on Shanghai: exchange (its rule: reject), reject, hold or off",
        ),
    )
    cage_sz: str = field(
        default="exchange",
        metadata=_meta(
            parse=_choice("exchange", "reject", "hold", "off"),
            expected="exchange, reject, hold or off",
            help="out-of-cage orders on Shenzhen: exchange (its rule: hold until in range), reject, hold or off",
        ),
    )
    cage_bj: str = field(
        default="exchange",
        metadata=_meta(
            parse=_choice("exchange", "reject", "hold", "off"),
            expected="exchange, reject, hold or off",
            help="out-of-cage orders on Beijing: exchange (reject; unverified), reject, hold or off",
        ),
    )


@dataclass(frozen=True, slots=True)
class OrderSettings:
    answer_timeout_s: Decimal = field(
        default=Decimal(10),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(600), low_open=True, places=3),
            expected="seconds, above 0 and at most 600",
            help="a sent order the broker has not answered by then is queried (never assumed sent or not)",
        ),
    )
    settle_time_s: Decimal = field(
        default=Decimal(30),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(3600), low_open=True, places=3),
            expected="seconds, above 0 and at most 3600",
            help="an order the broker does not list stays in doubt this long, then is queried again "
            "(still unknown: expired as lost in transit; adopted should it appear later)",
        ),
    )


@dataclass(frozen=True, slots=True)
class BigQuantSettings:
    # The access and secret keys are secrets: python -m app secrets set bigquant.access_key
    base_url: str = field(
        default="https://bigquant.com/bigapis/trading/v1",
        metadata=_meta(
            parse=_http_url, expected="an http:// or https:// URL", help="BigQuant trading API (BIGQUANT.md)"
        ),
    )
    strategy_ids: tuple[str, ...] = field(
        default=(),
        metadata=_meta(
            parse=_id_list,
            expected="a list of distinct strategy ids (letters, digits, '_', '-', '.'); in env or --set: a,b,c",
            help="the strategies to follow",
        ),
    )
    timeout_s: float = field(
        default=10.0,
        metadata=_meta(
            parse=_positive_float(300.0), expected="seconds, above 0 and at most 300", help="HTTP timeout"
        ),
    )
    sync_url: str = field(
        default="",
        metadata=_meta(
            parse=_optional_http_url,
            expected="an http:// or https:// URL, or empty",
            help="where the post-close eod_sync/1 payload is posted (signed); empty: kept in the outbox only",
        ),
    )
    retries: int = field(
        default=3,
        metadata=_meta(
            parse=_integer(0, 10),
            expected="an integer from 0 to 10",
            help="retries with backoff after a temporary failure (no connection, timeout, HTTP 5xx or 429)",
        ),
    )
    page_size: int = field(
        default=3000,
        metadata=_meta(
            parse=_integer(1, 3000), expected="an integer from 1 to 3000", help="planned orders per page"
        ),
    )


@dataclass(frozen=True, slots=True)
class QmtSettings:
    userdata_path: str = field(
        default="",
        metadata=_meta(
            parse=_string,
            expected="a folder path (the QMT userdata_mini folder)",
            help="QMT's userdata_mini folder",
        ),
    )
    session_id: int = field(
        default=0,
        metadata=_meta(
            parse=_integer(0, 2**31 - 1),
            expected="an integer from 0 to 2147483647",
            help="xttrader session id; 0 chooses one",
        ),
    )
    live_trading_enabled: bool = field(
        default=False,
        metadata=_meta(
            parse=_boolean,
            expected="true or false",
            help="allow sending orders to a real account (it must also be armed for the day)",
        ),
    )


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    pre_open_fetch: time = field(
        default=time(8, 50),
        metadata=_meta(parse=_hhmm, expected="a time HH:MM", help="fetch today's signals"),
    )
    approve_deadline: time = field(
        default=time(9, 10),
        metadata=_meta(parse=_hhmm, expected="a time HH:MM", help="auto-approve the plan unless paused"),
    )
    post_close: time = field(
        default=time(15, 30), metadata=_meta(parse=_hhmm, expected="a time HH:MM", help="reconcile and sync")
    )
    backup: time = field(
        default=time(15, 45),
        metadata=_meta(parse=_hhmm, expected="a time HH:MM", help="daily database backup"),
    )
    open_auction: time = field(
        default=time(9, 15),
        metadata=_meta(parse=_hhmm, expected="a time HH:MM", help="send the opening-auction orders"),
    )
    continuous: time = field(
        default=time(9, 30),
        metadata=_meta(
            parse=_hhmm, expected="a time HH:MM", help="continuous trading: auction leftovers and the rest go"
        ),
    )
    close_auction: time = field(
        default=time(14, 57),
        metadata=_meta(parse=_hhmm, expected="a time HH:MM", help="send the closing-auction orders"),
    )
    monitor_every_min: int = field(
        default=5,
        metadata=_meta(
            parse=_integer(1, 60),
            expected="minutes, from 1 to 60",
            help="how often the intraday monitors run in trading hours",
        ),
    )


ALERT_CHANNELS = ("email", "wecom", "dingtalk", "feishu")


@dataclass(frozen=True, slots=True)
class AlertSettings:
    # Webhook URLs and the SMTP password are secrets: python -m app secrets set webhook.wecom
    channels: tuple[str, ...] = field(
        default=(),
        metadata=_meta(
            parse=_id_list,
            expected="a list of email, wecom, dingtalk, feishu; in env or --set: a,b",
            help="where alerts are also sent (they are always kept in the database)",
        ),
    )
    min_level: str = field(
        default="warning",
        metadata=_meta(
            parse=_choice("info", "warning", "error", "critical"),
            expected="one of info, warning, error, critical",
            help="the least serious alert that is sent",
        ),
    )
    max_per_window: int = field(
        default=5,
        metadata=_meta(
            parse=_integer(1, 1000),
            expected="an integer from 1 to 1000",
            help="alerts sent one by one per window; beyond that one summary goes at the window's end",
        ),
    )
    window_s: int = field(
        default=300,
        metadata=_meta(
            parse=_integer(10, 86400), expected="seconds, 10 to 86400", help="the rate-limit window"
        ),
    )
    smtp_host: str = field(
        default="", metadata=_meta(parse=_optional_string, expected="a host name", help="SMTP server")
    )
    smtp_port: int = field(
        default=465,
        metadata=_meta(parse=_integer(1, 65535), expected="a port, 1 to 65535", help="SMTP port"),
    )
    smtp_security: str = field(
        default="ssl",
        metadata=_meta(
            parse=_choice("ssl", "starttls", "none"),
            expected="ssl, starttls or none",
            help="how the SMTP connection is protected (none only for a local relay)",
        ),
    )
    smtp_user: str = field(
        default="", metadata=_meta(parse=_optional_string, expected="a user name", help="SMTP login")
    )
    email_from: str = field(
        default="", metadata=_meta(parse=_optional_string, expected="an address", help="sender address")
    )
    email_to: str = field(
        default="",
        metadata=_meta(
            parse=_optional_string, expected="addresses, comma separated", help="alert recipients"
        ),
    )


_EXEC_PARAM = r"[a-z_]{1,32}"


def _strategy_params(raw: Any) -> dict[str, dict[str, str]]:
    # [execution.strategy_defaults.<strategy id>] with <param> = "<text>": per-strategy defaults.
    if not isinstance(raw, dict):
        raise TypeError("not a table")
    out: dict[str, dict[str, str]] = {}
    for strategy, params in raw.items():
        if not isinstance(strategy, str) or not re.fullmatch(r"[\w.-]{1,64}", strategy):
            raise ValueError("bad strategy id")
        if not isinstance(params, dict):
            raise TypeError("not a table")
        table: dict[str, str] = {}
        for key, value in params.items():
            if not isinstance(key, str) or not re.fullmatch(_EXEC_PARAM, key):
                raise ValueError("bad parameter name")
            if isinstance(value, bool):
                value = "true" if value else "false"
            if isinstance(value, float):
                value = str(value)
            if not isinstance(value, str | int) or len(str(value)) > 40:
                raise ValueError("bad parameter value")
            table[key] = str(value).strip()
        out[strategy] = table
    return out


@dataclass(frozen=True, slots=True)
class ExecutionSettings:
    """Defaults of the execution policies (app/core/execution); a line's params override them."""

    auction_offset: Decimal = field(
        default=Decimal("0.02"),
        metadata=_meta(
            parse=_decimal(Decimal("-0.1"), Decimal("0.5"), places=4),
            expected="a fraction from -0.1 (passive) to 0.5",
            help="call-auction orders are priced this fraction through the reference price",
        ),
    )
    offset_ticks: int = field(
        default=0,
        metadata=_meta(
            parse=_integer(-100, 100),
            expected="an integer from -100 to 100",
            help="continuous limit orders: ticks beyond the opposite best quote (negative: passive)",
        ),
    )
    reprice_s: int = field(
        default=30,
        metadata=_meta(
            parse=_integer(1, 3600),
            expected="seconds from 1 to 3600",
            help="how often unfilled children are re-priced",
        ),
    )
    end: time = field(
        default=time(14, 56),
        metadata=_meta(
            parse=_hhmm,
            expected="a time HH:MM",
            help="end of a continuous window: what is still working then is cancelled",
        ),
    )
    slices: int = field(
        default=10,
        metadata=_meta(
            parse=_integer(1, 1000), expected="an integer from 1 to 1000", help="TWAP/VWAP slices"
        ),
    )
    participation: Decimal = field(
        default=Decimal("0.2"),
        metadata=_meta(
            parse=_decimal(Decimal("0.0001"), Decimal(1), places=4),
            expected="a fraction from 0.0001 to 1",
            help="TWAP/VWAP: a slice takes at most this share of the volume traded since the last",
        ),
    )
    fallback: bool = field(
        default=True,
        metadata=_meta(
            parse=_boolean,
            expected="true or false",
            help="an opening-auction order that did not fill continues in continuous trading",
        ),
    )
    gap_up_pct: Decimal = field(
        default=Decimal(0),
        metadata=_meta(
            parse=_decimal(Decimal(0), Decimal(1), places=4),
            expected="a fraction from 0 to 1 (0: off)",
            help="skip a buy when the open gaps up by more than this",
        ),
    )
    strategy_defaults: dict[str, dict[str, str]] = field(
        default_factory=dict,
        metadata=_meta(
            parse=_strategy_params,
            expected='a table [execution.strategy_defaults.<strategy>] of parameter = "text"',
            help="per-strategy defaults of the execution parameters",
        ),
    )

    def as_params(self) -> dict[str, str]:
        """The defaults as the text parameters of an ExecutionRequest."""
        return {
            "auction_offset": str(self.auction_offset),
            "offset_ticks": str(self.offset_ticks),
            "reprice_s": str(self.reprice_s),
            "end": f"{self.end:%H:%M}",
            "slices": str(self.slices),
            "participation": str(self.participation),
            "fallback": "true" if self.fallback else "false",
            "gap_up_pct": str(self.gap_up_pct),
        }


SECTIONS: dict[str, type] = {
    "general": GeneralSettings,
    "account": AccountSettings,
    "fees": FeeSettings,
    "sim": SimSettings,
    "orders": OrderSettings,
    "bigquant": BigQuantSettings,
    "qmt": QmtSettings,
    "schedule": ScheduleSettings,
    # The risk engine's limits (app/core/risk/limits.py: each field's parser, range and help);
    # also changeable at run time through Terminal.set_risk, audited.
    "risk": RiskLimits,
    "alerts": AlertSettings,
    "execution": ExecutionSettings,
}


@dataclass(frozen=True, slots=True)
class Settings:
    general: GeneralSettings = field(default_factory=GeneralSettings)
    account: AccountSettings = field(default_factory=AccountSettings)
    fees: FeeSettings = field(default_factory=FeeSettings)
    sim: SimSettings = field(default_factory=SimSettings)
    orders: OrderSettings = field(default_factory=OrderSettings)
    bigquant: BigQuantSettings = field(default_factory=BigQuantSettings)
    qmt: QmtSettings = field(default_factory=QmtSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    risk: RiskLimits = field(default_factory=RiskLimits)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    execution: ExecutionSettings = field(default_factory=ExecutionSettings)
    config_file: Path | None = None  # the file consulted (it may not exist)
    config_file_found: bool = False

    def sanitized(self, secrets: SecretStore | None = None) -> dict[str, Any]:
        """A plain, JSON-friendly dict safe to log. With a SecretStore, a `secrets` entry says which
        secret names are set ("***set***"/"unset"), never their values."""
        result: dict[str, Any] = {
            name: {f.name: _plain(getattr(getattr(self, name), f.name)) for f in dataclasses.fields(section)}
            for name, section in SECTIONS.items()
        }
        result["config_file"] = None if self.config_file is None else str(self.config_file)
        if secrets is not None:
            result["secrets"] = secrets.status_markers()
        return result


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal | Path):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, tuple):
        return list(value)
    return value


# --- loading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Raw:
    value: Any
    origin: str  # "from env TILLER__X__Y", ...


def _spec_of(section: str, key: str) -> _Spec | None:
    cls = SECTIONS.get(section)
    if cls is None:
        return None
    for f in dataclasses.fields(cls):
        if f.name == key:
            return f.metadata["spec"]
    return None


def _looks_secret(section: str, key: str) -> bool:
    lowered = key.lower()
    return f"{section}.{lowered}" in SECRET_NAMES or any(marker in lowered for marker in _SECRET_KEY_MARKERS)


def _without_secret(text: str) -> str:
    """`text` for an error message, unless it may hold a secret (e.g. `--set bigquant.secret_key:xyz`)."""
    lowered = text.lower()
    if any(name in lowered for name in SECRET_NAMES) or any(
        marker in lowered for marker in _SECRET_KEY_MARKERS
    ):
        return "(hidden: it may contain a secret)"
    return text


def _secret_refusal(section: str, key: str, origin: str) -> str:
    name = f"{section}.{key.lower()}" if section else key
    command = name if name in SECRET_NAMES else "<name>"
    known = "" if name in SECRET_NAMES else f" (names: {', '.join(sorted(SECRET_NAMES))})"
    # The value is deliberately not repeated: it is a secret.
    return (
        f"{name}: looks like a secret and secrets are never read from settings ({origin}); "
        f"store it in the OS keyring with `python -m app secrets set {command}`{known} and remove it from there"
    )


def _unknown_key(section: str, key: str, origin: str) -> str:
    if section not in SECTIONS:
        hint = difflib.get_close_matches(section, SECTIONS, n=1)
        suggestion = f"; did you mean [{hint[0]}]?" if hint else ""
        return f"[{section}]: unknown section ({origin}){suggestion} Known sections: {', '.join(SECTIONS)}"
    keys = [f.name for f in dataclasses.fields(SECTIONS[section])]
    hint = difflib.get_close_matches(key, keys, n=1)
    suggestion = f"; did you mean {section}.{hint[0]}?" if hint else ""
    return f"{section}.{key}: unknown setting ({origin}){suggestion} Known keys in [{section}]: {', '.join(keys)}"


class _Collector:
    """Gathers raw values layer by layer, later layers winning, and the problems found on the way."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, str], _Raw] = {}
        self.problems: list[str] = []

    def put(self, section: str, key: str, value: Any, origin: str) -> None:
        if _looks_secret(section, key):
            self.problems.append(_secret_refusal(section, key, origin))
        elif _spec_of(section, key) is None:
            self.problems.append(_unknown_key(section, key, origin))
        else:
            self.values[(section, key)] = _Raw(value, origin)

    def add_file(self, path: Path) -> bool:
        """Read the TOML file; False when it does not exist (defaults apply)."""
        try:
            with path.open("rb") as handle:
                document = tomllib.load(handle)
        except FileNotFoundError:
            return False
        except tomllib.TOMLDecodeError as exc:  # its message carries "(at line N, column M)"
            self.problems.append(f"{path}: not a valid TOML file: {exc}")
            return True
        except UnicodeDecodeError as exc:
            self.problems.append(
                f"{path}: not a valid TOML file: not UTF-8 text ({exc.reason} at byte {exc.start})"
            )
            return True
        except OSError as exc:
            self.problems.append(f"{path}: cannot read the settings file: {exc.strerror or exc}")
            return True
        for section, table in document.items():
            if not isinstance(table, dict):
                origin = f"from {path}"
                if _looks_secret("", section):
                    self.problems.append(_secret_refusal("", section, origin))
                else:
                    self.problems.append(
                        f"{section}: settings go inside sections such as [general] or [fees], "
                        f"was a top-level key ({origin})"
                    )
                continue
            for key, value in table.items():
                self.put(section, key, value, f"from {path}, [{section}] {key}")
        return True

    def add_env(self, env: Mapping[str, str]) -> None:
        for name, value in env.items():
            if not name.upper().startswith(ENV_PREFIX):
                continue
            parts = name[len(ENV_PREFIX) :].lower().split("__")
            if len(parts) != 2 or not all(parts):
                self.problems.append(
                    f"{name}: expected an environment variable named TILLER__SECTION__KEY, was {name!r}"
                )
                continue
            self.put(parts[0], parts[1], value, f"from env {name}")

    def add_overrides(self, overrides: Iterable[str]) -> None:
        for item in overrides:
            name, sep, value = item.partition("=")
            parts = name.strip().lower().split(".")
            if not sep or len(parts) != 2 or not all(parts):
                shown = name if sep else _without_secret(item)
                self.problems.append(f"--set: expected section.key=value, was {shown!r}")
                continue
            self.put(parts[0], parts[1], value, f"from --set {parts[0]}.{parts[1]}")


def _build_section(section: str, cls: type, collected: _Collector, defaults: Mapping[str, Any]) -> Any:
    kwargs: dict[str, Any] = dict(defaults)
    for f in dataclasses.fields(cls):
        raw = collected.values.get((section, f.name))
        if raw is None:
            continue
        spec: _Spec = f.metadata["spec"]
        try:
            kwargs[f.name] = spec.parse(raw.value)
        except (ValueError, TypeError):
            collected.problems.append(
                f"{section}.{f.name}: expected {spec.expected}, was {raw.value!r} ({raw.origin})"
            )
    return cls(**kwargs)


def _check_consistency(settings: Settings) -> list[str]:
    # Signals must be in before the plan can be approved (ARCHITECTURE.md, the trading day).
    problems = []
    schedule = settings.schedule
    if schedule.approve_deadline <= schedule.pre_open_fetch:
        problems.append(
            f"schedule.approve_deadline: expected a time after schedule.pre_open_fetch "
            f"({schedule.pre_open_fetch:%H:%M}), was '{schedule.approve_deadline:%H:%M}'"
        )
    unknown = [c for c in settings.alerts.channels if c not in ALERT_CHANNELS]
    if unknown:
        problems.append(
            f"alerts.channels: expected some of {', '.join(ALERT_CHANNELS)}, was {', '.join(unknown)}"
        )
    return problems


def load_settings(
    *,
    argv_overrides: list[str] | None = None,
    env: Mapping[str, str] | None = None,
    path: Path | None = None,
) -> Settings:
    """Defaults < the TOML file (`path`, else `default_config_path(env)`) < env TILLER__SECTION__KEY
    < `argv_overrides` ("section.key=value"). Raises SettingsError listing every problem."""
    env = os.environ if env is None else env
    path = default_config_path(env) if path is None else Path(path)
    collected = _Collector()
    found = collected.add_file(path)
    collected.add_env(env)
    collected.add_overrides(argv_overrides or ())

    data_dir = default_data_dir(env)
    if not data_dir.is_absolute() and ("general", "data_dir") not in collected.values:
        collected.problems.append(
            f"{DATA_DIR_ENV_VAR}: expected an absolute folder path, was {str(data_dir)!r} (from env {DATA_DIR_ENV_VAR})"
        )
    sections = {
        name: _build_section(name, cls, collected, {"data_dir": data_dir} if name == "general" else {})
        for name, cls in SECTIONS.items()
    }
    if collected.problems:
        raise SettingsError(collected.problems)
    settings = Settings(**sections, config_file=path, config_file_found=found)
    problems = _check_consistency(settings)
    if problems:
        raise SettingsError(problems)
    return settings


# --- writing a commented default file ---------------------------------------------------------


def default_config_text(env: Mapping[str, str] | None = None) -> str:
    """A settings file with every key at its default and a comment saying what it does.

    `data_dir` is left commented out so the platform default (or TILLER_DATA_DIR) keeps applying.
    """
    defaults = Settings(general=GeneralSettings(data_dir=default_data_dir(env)))
    lines = [
        "# Tiller settings. Precedence: this file < env TILLER__SECTION__KEY < --set section.key=value.",
        "# Secrets (BigQuant keys, the QMT account, webhooks, SMTP) never go here:",
        "#   python -m app secrets set <name>",
    ]
    for name in SECTIONS:
        section = getattr(defaults, name)
        lines += ["", f"[{name}]"]
        for f in dataclasses.fields(section):
            value = _plain(getattr(section, f.name))
            # Decimals as strings keep them exact; tomli_w formats and quotes everything else.
            entry = tomli_w.dumps({f.name: value}).rstrip("\n")
            lines.append(f"# {f.metadata['spec'].help}")
            lines.append(f"# {entry}" if f.name == "data_dir" else entry)
    return "\n".join(lines) + "\n"


def write_default_config(
    path: Path, *, overwrite: bool = False, env: Mapping[str, str] | None = None
) -> Path:
    """Write `default_config_text()` to `path`; refuses to replace an existing file unless `overwrite`."""
    if path.exists() and not overwrite:
        raise SettingsError([f"{path}: a settings file is already there; pass --force to replace it"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(default_config_text(env), encoding="utf-8")
    temporary.replace(path)  # atomic: never a half-written settings file
    return path
