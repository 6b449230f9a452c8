"""The one finder of miniQMT's userdata_mini folder (app/gateways/qmt/paths.py), used by the gateway
(bootstrap.build_live_setup) and the doctor alike: the setting, and the usual install folders laid out
as on Windows (drive roots and Program Files) under tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.config import load_settings
from app.doctor import Status, check_qmt
from app.gateways.qmt import QmtError, find_userdata_path
from app.gateways.qmt import paths as qmt_paths
from app.gateways.qmt.probe import userdata_folder


def drives(tmp_path: Path) -> dict[str, Path]:
    """C:\\ and D:\\ and C:\\Program Files, as folders under tmp_path."""
    found = {"C": tmp_path / "C", "D": tmp_path / "D", "PF": tmp_path / "C" / "Program Files"}
    for folder in found.values():
        folder.mkdir(parents=True, exist_ok=True)
    return found


def test_the_setting_wins_and_must_be_a_folder(tmp_path: Path) -> None:
    roots = drives(tmp_path)
    installed = roots["D"] / "国金证券QMT交易端" / "userdata_mini"
    installed.mkdir(parents=True)
    configured = roots["C"] / "迅投极速交易终端 睿智融科版" / "userdata_mini"
    configured.mkdir(parents=True)
    assert find_userdata_path(f"  {configured}  ", roots=roots.values()) == configured
    assert userdata_folder(str(configured), roots=roots.values()) == (configured, "")
    with pytest.raises(QmtError, match=r"qmt\.userdata_path .* is not an existing folder"):
        find_userdata_path(str(roots["D"] / "不存在" / "userdata_mini"), roots=roots.values())
    (roots["D"] / "a-file").write_text("x", encoding="utf-8")
    with pytest.raises(QmtError, match="is not an existing folder"):
        find_userdata_path(str(roots["D"] / "a-file"))  # a file is not the folder


def test_the_usual_install_folders_are_found_at_a_drives_top_and_in_program_files(tmp_path: Path) -> None:
    roots = drives(tmp_path)
    with pytest.raises(QmtError) as info:
        find_userdata_path("", roots=roots.values())
    assert "no miniQMT userdata_mini folder found" in str(info.value) and str(roots["D"]) in str(info.value)
    assert "qmt.userdata_path" in str(info.value)
    in_program_files = roots["PF"] / "QMT" / "userdata_mini"
    in_program_files.mkdir(parents=True)
    (roots["D"] / "tools" / "bin" / "deeper" / "userdata_mini").mkdir(parents=True)  # too deep: not looked at
    (roots["D"] / "x").mkdir()
    (roots["D"] / "x" / "userdata_mini").write_text("a file", encoding="utf-8")  # not a folder
    assert find_userdata_path("", roots=roots.values()) == in_program_files
    assert userdata_folder("", roots=roots.values()) == (in_program_files, "")


def test_several_install_folders_are_named_and_none_is_guessed(tmp_path: Path) -> None:
    roots = drives(tmp_path)
    first = roots["D"] / "国金证券QMT交易端" / "userdata_mini"
    second = roots["PF"] / "华鑫证券QMT" / "userdata_mini"
    for folder in (first, second):
        folder.mkdir(parents=True)
    with pytest.raises(QmtError, match="several userdata_mini folders") as info:
        find_userdata_path("", roots=roots.values())
    assert str(first) in str(info.value) and str(second) in str(info.value)
    folder, why = userdata_folder("", roots=roots.values())
    assert folder is None and why == str(info.value)


def test_off_windows_no_install_folder_is_looked_for() -> None:
    if qmt_paths.sys.platform == "win32":
        pytest.skip("on Windows the drives are looked at")
    assert qmt_paths.install_roots() == []
    with pytest.raises(QmtError, match="this is not Windows"):
        find_userdata_path("")


@pytest.mark.parametrize("mode", ["sim", "live"])
def test_the_doctor_names_the_folder_the_gateway_would_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    roots = drives(tmp_path)
    monkeypatch.setattr(qmt_paths, "install_roots", lambda: list(roots.values()))
    monkeypatch.setattr("app.doctor._xtquant_dir", lambda: None)  # no xtquant probe: not under test
    settings = load_settings(argv_overrides=[f"general.mode={mode}"], path=tmp_path / "none.toml")
    found = [c for c in check_qmt(settings) if c.name == "QMT userdata"]
    if mode == "live":
        assert found[0].status is Status.FAIL and "no miniQMT userdata_mini folder found" in found[0].detail
    else:
        assert found == []  # the simulated setup does not need one
    folder = roots["D"] / "国金QMT交易端模拟" / "userdata_mini"
    folder.mkdir(parents=True)
    (check,) = [c for c in check_qmt(settings) if c.name == "QMT userdata"]
    assert find_userdata_path("") == folder  # what the gateway would use (same install_roots)
    assert check.status is Status.OK and str(folder) in check.detail and "not set" in check.detail
    (roots["C"] / "QMT" / "userdata_mini").mkdir(parents=True)
    (check,) = [c for c in check_qmt(settings) if c.name == "QMT userdata"]
    assert check.status is not Status.OK and "several" in check.detail
    with pytest.raises(QmtError, match="several"):
        find_userdata_path("")  # the gateway refuses to guess too
