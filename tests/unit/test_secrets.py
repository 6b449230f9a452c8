"""Secrets only through the OS keyring (ARCHITECTURE.md, invariant 6), here an in-memory one."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backends import chainer, fail, null

from app.config import load_settings, write_default_config
from app.doctor import Status, check_keyring, format_report, run_doctor
from app.secrets import (
    SECRET_NAMES,
    SERVICE_NAME,
    SecretsError,
    SecretStore,
    SecretsUnavailableError,
    UnknownSecretNameError,
    keyring_status,
)
from tests.helpers.memory_keyring import MemoryKeyring

SECRET_VALUE = "sk-TEST-4f1c9e7a-do-not-leak"


def _no_xtquant_probe(package_dir: Path) -> dict[str, str]:
    return {"xtconstant": "", "xttype": "", "xtpythonclient": "ModuleNotFoundError: test"}


class _LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("the collection is locked")


class _EmptyChainer(chainer.ChainerBackend):
    backends = ()  # type: ignore[assignment]


def test_secret_store_when_set_then_get_returns_it_under_service_tiller(
    memory_keyring: MemoryKeyring,
) -> None:
    store = SecretStore()

    store.set("bigquant.secret_key", f"  {SECRET_VALUE}\n")

    assert store.get("bigquant.secret_key") == SECRET_VALUE
    assert store.is_set("bigquant.secret_key")
    assert memory_keyring.passwords == {(SERVICE_NAME, "bigquant.secret_key"): SECRET_VALUE}


def test_secret_store_when_deleted_then_unset_and_second_delete_reports_false() -> None:
    store = SecretStore()
    store.set("webhook.wecom", SECRET_VALUE)

    assert store.delete("webhook.wecom") is True
    assert store.get("webhook.wecom") is None
    assert store.is_set("webhook.wecom") is False
    assert store.delete("webhook.wecom") is False


@pytest.mark.parametrize("operation", ["get", "set", "delete", "is_set"])
def test_secret_store_when_name_unknown_then_refused_and_nothing_stored(
    operation: str, memory_keyring: MemoryKeyring
) -> None:
    store = SecretStore()
    arguments = ("bigquant.secretkey", SECRET_VALUE) if operation == "set" else ("bigquant.secretkey",)

    with pytest.raises(UnknownSecretNameError, match=r"unknown secret name, was 'bigquant.secretkey'"):
        getattr(store, operation)(*arguments)

    assert memory_keyring.passwords == {}


@pytest.mark.parametrize("value", ["", "   \n", None])
def test_secret_store_when_value_empty_then_refused_and_nothing_stored(
    value: str | None, memory_keyring: MemoryKeyring
) -> None:
    with pytest.raises(SecretsError, match=r"bigquant.access_key: expected a non-empty value, was empty"):
        SecretStore().set("bigquant.access_key", value)  # type: ignore[arg-type]

    assert memory_keyring.passwords == {}


def test_secret_store_repr_and_markers_never_show_values() -> None:
    store = SecretStore()
    store.set("smtp.password", SECRET_VALUE)

    markers = store.status_markers()

    assert SECRET_VALUE not in repr(store)
    assert "tiller" in repr(store)
    assert markers["smtp.password"] == "***set***"
    assert markers["bigquant.access_key"] == "unset"
    assert set(markers) == SECRET_NAMES
    assert SECRET_VALUE not in json.dumps(markers)


def test_keyring_status_when_memory_backend_then_usable() -> None:
    usable, description = keyring_status()

    assert usable is True
    assert "MemoryKeyring" in description


@pytest.mark.parametrize(
    ("platform", "words"),
    [
        (
            "linux",
            "Linux without a desktop session: no Secret Service; install and unlock gnome-keyring or KWallet",
        ),
        ("win32", "Windows Credential Manager"),
        ("darwin", "macOS Keychain"),
    ],
)
def test_keyring_status_when_no_backend_then_reason_for_the_platform(platform: str, words: str) -> None:
    keyring.set_keyring(fail.Keyring())

    usable, reason = keyring_status(platform=platform)

    assert usable is False
    assert words in reason


@pytest.mark.parametrize(
    "backend", [_EmptyChainer(), null.Keyring()], ids=["chainer-without-backends", "null"]
)
def test_keyring_status_when_chainer_empty_or_null_then_unusable(
    backend: keyring.backend.KeyringBackend,
) -> None:
    keyring.set_keyring(backend)

    usable, reason = keyring_status(platform="linux")

    assert usable is False
    assert reason


def test_secret_store_when_no_backend_then_every_operation_raises_the_reason() -> None:
    keyring.set_keyring(fail.Keyring())
    store = SecretStore()

    for call in (
        lambda: store.get("qmt.account_id"),
        lambda: store.set("qmt.account_id", "123"),
        lambda: store.delete("qmt.account_id"),
    ):
        with pytest.raises(
            SecretsUnavailableError,
            match=r"no usable OS keyring: .*gnome-keyring|Credential Manager|Keychain",
        ):
            call()
    assert store.status_markers() == dict.fromkeys(sorted(SECRET_NAMES), "unavailable")


def test_secret_store_when_backend_locked_then_unavailable_error_not_keyring_error() -> None:
    store = SecretStore(_LockedKeyring())

    with pytest.raises(
        SecretsUnavailableError,
        match=r"could not read bigquant.access_key from the keyring: the collection is locked",
    ):
        store.get("bigquant.access_key")
    with pytest.raises(SecretsUnavailableError, match=r"could not store"):
        store.set("bigquant.access_key", SECRET_VALUE)


def test_no_keyring_when_loading_settings_and_checking_sim_setup_then_all_still_work(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())

    settings = load_settings()
    sanitized = settings.sanitized(SecretStore())
    report = run_doctor(probe=_no_xtquant_probe)
    keyring_check = check_keyring(settings)

    assert settings.general.mode == "sim"
    assert sanitized["secrets"]["bigquant.access_key"] == "unavailable"
    assert keyring_check.status is Status.WARN
    assert "not needed for the simulated setup" in keyring_check.detail
    assert "keyring: unavailable" in format_report(report)
    assert all(
        check.status is not Status.FAIL
        for check in report.checks
        if check.name in {"keyring", "QMT", "settings"}
    )


def test_no_keyring_when_live_mode_then_keyring_check_fails() -> None:
    keyring.set_keyring(fail.Keyring())

    check = check_keyring(load_settings(argv_overrides=["general.mode=live"]))

    assert check.status is Status.FAIL
    assert "live trading needs" in check.detail


def test_secret_when_set_then_never_in_settings_file_sanitized_report_or_logs(
    isolated_dirs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = SecretStore()
    for name in SECRET_NAMES:
        store.set(name, SECRET_VALUE)
    config_file = write_default_config(isolated_dirs["config_file"])

    settings = load_settings()
    sanitized = json.dumps(settings.sanitized(store))
    report = format_report(run_doctor(probe=_no_xtquant_probe))
    store.get("bigquant.secret_key")
    store.delete("bigquant.secret_key")

    assert SECRET_VALUE not in config_file.read_text(encoding="utf-8")
    assert SECRET_VALUE not in sanitized
    assert '"bigquant.secret_key": "***set***"' in sanitized
    assert SECRET_VALUE not in report
    assert "secrets set: bigquant.access_key" in report
    assert SECRET_VALUE not in caplog.text
    assert SECRET_VALUE not in repr(settings)
