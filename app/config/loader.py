"""Loading the settings: defaults < TOML file < env TILLER__SECTION__KEY < command line, every
problem collected into one `SettingsError`; secret-looking keys refused; the commented default file.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from app.config._fields import Spec, plain
from app.config.alerts import ALERT_CHANNELS
from app.config.general import GeneralSettings
from app.config.paths import DATA_DIR_ENV_VAR, ENV_PREFIX, default_config_path, default_data_dir
from app.config.sections import SECTIONS, Settings
from app.secrets import SECRET_NAMES

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


# --- loading ----------------------------------------------------------------------------------

UTF8_BOM = b"\xef\xbb\xbf"


def read_settings_text(path: Path) -> tuple[str, bool]:
    """The settings file's text, and whether it starts with a UTF-8 byte order mark (Windows Notepad
    may write one; it is not part of the TOML). FileNotFoundError passes; a file that cannot be read
    or is not UTF-8 raises SettingsError naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise SettingsError(f"{path}: cannot read the settings file: {exc.strerror or exc}") from None
    bom = data.startswith(UTF8_BOM)
    try:
        return data[len(UTF8_BOM) if bom else 0 :].decode("utf-8"), bom
    except UnicodeDecodeError as exc:
        at = exc.start + (len(UTF8_BOM) if bom else 0)
        raise SettingsError(
            f"{path}: not a valid TOML file: not UTF-8 text ({exc.reason} at byte {at})"
        ) from None


@dataclass(frozen=True, slots=True)
class _Raw:
    value: Any
    origin: str  # "from env TILLER__X__Y", ...


def _spec_of(section: str, key: str) -> Spec | None:
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
            text, _ = read_settings_text(path)
            document = tomllib.loads(text)
        except FileNotFoundError:
            return False
        except tomllib.TOMLDecodeError as exc:  # its message carries "(at line N, column M)"
            self.problems.append(f"{path}: not a valid TOML file: {exc}")
            return True
        except SettingsError as exc:
            self.problems.extend(exc.problems)
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
        spec: Spec = f.metadata["spec"]
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
            value = plain(getattr(section, f.name))
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
