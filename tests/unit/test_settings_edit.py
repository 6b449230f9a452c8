"""Saving settings edits the user's file in place (app/config/edit.py): comments, key order, blank
lines, line endings and a byte order mark survive; a file the loader refuses is refused the same way
and left as it was."""

from __future__ import annotations

import tomllib
from datetime import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.config import SettingsError, load_settings
from app.config.edit import settings_file_with, update_settings_file

COMMENTED = """\
# 我的设置 (my settings): keep this note
[general]
# sim until the broker account is open
mode = "sim"  # not live yet

[bigquant]
strategy_ids = ["alpha_01"]  # the one strategy
# base_url = "https://example.com"

[schedule]
pre_open_fetch = "08:45"
"""


@pytest.fixture
def config_file(isolated_dirs: dict[str, Path]) -> Path:
    path = isolated_dirs["config_file"]
    path.parent.mkdir(parents=True)
    return path


def test_a_save_keeps_the_users_comments_and_key_order(config_file: Path) -> None:
    config_file.write_text(COMMENTED, encoding="utf-8")

    settings = update_settings_file(
        config_file,
        {"bigquant": {"strategy_ids": ("alpha_01", "beta-2")}, "schedule": {"pre_open_fetch": time(8, 40)}},
    )

    assert settings.bigquant.strategy_ids == ("alpha_01", "beta-2")
    assert settings.schedule.pre_open_fetch == time(8, 40)
    assert config_file.read_text(encoding="utf-8") == COMMENTED.replace(
        'strategy_ids = ["alpha_01"]', 'strategy_ids = ["alpha_01", "beta-2"]'
    ).replace('"08:45"', '"08:40"')


def test_new_keys_go_to_the_end_of_their_section_and_new_sections_to_the_end(config_file: Path) -> None:
    config_file.write_text(COMMENTED, encoding="utf-8")

    update_settings_file(
        config_file, {"general": {"language": "en"}, "fees": {"commission_rate": D("0.0002")}}
    )

    text = config_file.read_text(encoding="utf-8")
    assert text.startswith(COMMENTED.split("\n\n")[0] + '\nlanguage = "en"\n')  # inside [general]
    assert text.endswith('[fees]\ncommission_rate = "0.0002"\n')
    assert text.count("#") == COMMENTED.count("#")
    assert load_settings(path=config_file).fees.commission_rate == D("0.0002")


def test_a_byte_order_mark_is_read_and_kept(config_file: Path) -> None:
    # Windows Notepad may save UTF-8 with a BOM: the loader reads it and a save keeps it
    config_file.write_bytes(b"\xef\xbb\xbf" + COMMENTED.encode("utf-8"))
    assert load_settings(path=config_file).bigquant.strategy_ids == ("alpha_01",)

    update_settings_file(config_file, {"general": {"mode": "sim"}, "bigquant": {"strategy_ids": ["b"]}})

    data = config_file.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert "# 我的设置 (my settings): keep this note" in data.decode("utf-8-sig")
    assert load_settings(path=config_file).bigquant.strategy_ids == ("b",)


def test_windows_line_endings_stay_windows_line_endings(config_file: Path) -> None:
    config_file.write_bytes(COMMENTED.replace("\n", "\r\n").encode("utf-8"))

    update_settings_file(
        config_file, {"general": {"language": "en"}, "fees": {"commission_rate": D("0.0002")}}
    )

    data = config_file.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")  # no bare LF, the new lines included
    assert b"# sim until the broker account is open\r\n" in data


def test_a_gbk_file_is_refused_as_the_loader_refuses_it_and_left_as_it_was(config_file: Path) -> None:
    original = "# 我的设置\n[general]\nmode = 'sim'\n".encode("gbk")
    config_file.write_bytes(original)
    with pytest.raises(SettingsError) as loading:
        load_settings(path=config_file)

    with pytest.raises(SettingsError) as saving:
        update_settings_file(config_file, {"general": {"language": "en"}})

    assert str(saving.value) == str(loading.value)
    assert "not UTF-8 text" in str(saving.value) and str(config_file) in str(saving.value)
    assert config_file.read_bytes() == original
    assert not list(config_file.parent.glob("*.tmp"))


def test_a_file_that_is_not_toml_is_refused_and_left_as_it_was(config_file: Path) -> None:
    original = "[general]\nmode = \n"
    config_file.write_text(original, encoding="utf-8")

    with pytest.raises(SettingsError, match=r"not a valid TOML file"):
        update_settings_file(config_file, {"general": {"language": "en"}})

    assert config_file.read_text(encoding="utf-8") == original


def test_a_section_name_taken_by_a_plain_key_is_refused(config_file: Path) -> None:
    config_file.write_text('general = "sim"\n', encoding="utf-8")

    with pytest.raises(SettingsError, match=r"^general: settings go inside sections"):
        update_settings_file(config_file, {"general": {"mode": "sim"}})

    assert config_file.read_text(encoding="utf-8") == 'general = "sim"\n'


def test_a_missing_file_is_made(config_file: Path) -> None:
    update_settings_file(config_file, {"general": {"mode": "sim"}})

    assert tomllib.loads(config_file.read_text(encoding="utf-8")) == {"general": {"mode": "sim"}}


_comment = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30).map(
    lambda text: "# " + text
)
_value = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.lists(st.text(max_size=8), max_size=4),
)


@given(
    comments=st.lists(_comment, min_size=1, max_size=4),
    old=_value,
    new=_value,
    crlf=st.booleans(),
)
def test_any_comments_survive_and_the_changed_value_reads_back(
    comments: list[str], old: object, new: object, crlf: bool
) -> None:
    text = "\n".join([comments[0], "[s]", *comments[1:], f"k = {_toml(old)}  {comments[0]}", "other = 1", ""])
    if crlf:
        text = text.replace("\n", "\r\n")

    merged = settings_file_with(text, {"s": {"k": new}, "t": {"k": new}})

    assert tomllib.loads(merged) == {"s": {"k": new, "other": 1}, "t": {"k": new}}
    lines = merged.splitlines()
    for comment in comments:
        assert comment in lines or any(line.endswith(comment) for line in lines)
    assert ("\r\n" in merged) is crlf


def _toml(value: object) -> str:
    import tomlkit

    return tomlkit.item(value).as_string()
