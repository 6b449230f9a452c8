"""Data folder per platform, one database file per account and mode, no raw live account ids."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import pytest

from app.storage import backup_dir, database_path, default_data_dir


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ("TILLER_DATA_DIR", "APPDATA", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    # Path.home() reads HOME on POSIX and USERPROFILE on Windows.
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("USERPROFILE", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.mark.parametrize("platform", ["win32", "darwin", "linux"])
def test_tiller_data_dir_env_wins_on_every_platform(monkeypatch, clean_env, platform):
    monkeypatch.setattr(sys, "platform", platform)
    monkeypatch.setenv("TILLER_DATA_DIR", "/srv/tiller-data")
    monkeypatch.setenv("APPDATA", "/should/not/be/used")

    assert default_data_dir() == Path("/srv/tiller-data")


def test_windows_uses_appdata(monkeypatch, clean_env):
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("APPDATA", r"C:\Users\张三\AppData\Roaming")

    assert default_data_dir() == Path(r"C:\Users\张三\AppData\Roaming") / "Tiller"


def test_windows_without_appdata_falls_back_to_roaming_under_home(monkeypatch, clean_env):
    monkeypatch.setattr(sys, "platform", "win32")

    assert default_data_dir() == clean_env / "AppData" / "Roaming" / "Tiller"


def test_macos_uses_application_support(monkeypatch, clean_env):
    monkeypatch.setattr(sys, "platform", "darwin")

    assert default_data_dir() == clean_env / "Library" / "Application Support" / "Tiller"


def test_linux_uses_xdg_data_home(monkeypatch, clean_env):
    monkeypatch.setattr(sys, "platform", "linux")
    xdg = clean_env.parent / "xdg"  # absolute on every platform ("/data/xdg" has no drive on Windows)
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))

    assert default_data_dir() == xdg / "tiller"


@pytest.mark.parametrize("xdg", [None, "", "relative/dir"])
def test_linux_without_usable_xdg_data_home_uses_local_share(monkeypatch, clean_env, xdg):
    monkeypatch.setattr(sys, "platform", "linux")
    if xdg is not None:
        monkeypatch.setenv("XDG_DATA_HOME", xdg)

    assert default_data_dir() == clean_env / ".local" / "share" / "tiller"


def test_backup_dir_is_inside_the_data_dir(tmp_path):
    assert backup_dir(tmp_path) == tmp_path / "backups"


def test_sim_database_uses_the_readable_account_id(tmp_path):
    assert database_path(tmp_path, "demo", "sim") == tmp_path / "tiller-sim-demo.db"


def test_live_database_name_hides_the_account_id(tmp_path):
    path = database_path(tmp_path, "8881234567", "live")

    assert "8881234567" not in path.name
    assert path.name == f"tiller-live-{hashlib.sha256(b'8881234567').hexdigest()[:12]}.db"
    assert path.parent == tmp_path


def test_live_and_sim_of_the_same_account_never_share_a_file(tmp_path):
    assert database_path(tmp_path, "8881234567", "live") != database_path(tmp_path, "8881234567", "sim")


def test_database_path_is_stable_and_distinct_per_account(tmp_path):
    assert database_path(tmp_path, "A1", "live") == database_path(tmp_path, "A1", "live")
    assert database_path(tmp_path, "A1", "live") != database_path(tmp_path, "A2", "live")


@pytest.mark.parametrize(
    "account_id", ["模拟账户", "a/b", "../../etc/passwd", "CON", "sim account:1", "x" * 200, "a\\b"]
)
def test_sim_names_are_safe_file_names_inside_the_data_dir(tmp_path, account_id):
    path = database_path(tmp_path, account_id, "sim")

    assert path.parent == tmp_path
    assert re.fullmatch(r"tiller-sim-[A-Za-z0-9_-]+\.db", path.name)
    assert len(path.name) <= 80


def test_sim_ids_that_sanitize_alike_still_get_different_files(tmp_path):
    assert database_path(tmp_path, "a/b", "sim") != database_path(tmp_path, "a_b", "sim")
    assert database_path(tmp_path, "模拟一", "sim") != database_path(tmp_path, "模拟二", "sim")


@pytest.mark.parametrize("mode", ["paper", "LIVE", "", None])
def test_unknown_mode_is_a_value_error_naming_the_value(tmp_path, mode):
    with pytest.raises(
        ValueError, match=rf"mode must be one of \['live', 'sim'\], was {re.escape(repr(mode))}"
    ):
        database_path(tmp_path, "demo", mode)


@pytest.mark.parametrize("account_id", ["", "   ", None])
def test_empty_account_id_is_a_value_error(tmp_path, account_id):
    with pytest.raises(ValueError, match="account_id must be a non-empty string"):
        database_path(tmp_path, account_id, "sim")
