"""`doctor` says whether QMT can be reached and why not (issue 9 item 6), in-process: xtquant's files,
the native client for this Python, the userdata_mini folder, miniQMT's xtdata service, the arming."""

from __future__ import annotations

import socket
import subprocess
from datetime import datetime, time
from pathlib import Path

import pytest

from app.config import load_settings
from app.core.risk.arming import ARMING_META, Arming
from app.doctor import Status, check_live_trading, check_miniqmt, run_doctor
from app.domain.clock import CN_TZ
from app.gateways.qmt.probe import userdata_candidates, xtdata_servers
from app.secrets import SecretStore
from app.storage import database_path, open_database
from app.storage.database import transaction

DAY = datetime(2026, 11, 23).date()


def fake_xtquant(root: Path, *natives: str) -> Path:
    package = root / "xtquant"
    package.mkdir()
    (package / "__init__.py").write_text("raise SystemExit('never run')\n", encoding="utf-8")
    (package / "xtconstant.py").write_text("STOCK_BUY = 23\n", encoding="utf-8")
    (package / "xttype.py").write_text("", encoding="utf-8")
    for name in natives:
        (package / name).write_bytes(b"MZ")
    return package


def test_the_new_qmt_checks_start_no_child_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """userdata_mini, miniQMT and the arming are looked at in-process (only the xtquant import probe, an
    earlier check, runs in a child)."""

    def no_child(*args, **kwargs):
        raise AssertionError(f"a child process was started: {args}")

    monkeypatch.setattr(subprocess, "run", no_child)
    monkeypatch.setattr(subprocess, "Popen", no_child)
    settings = load_settings(argv_overrides=["general.mode=live", f"general.data_dir={tmp_path}"])
    checks = [*check_miniqmt(settings, home=tmp_path), check_live_trading(settings, SecretStore())]
    assert [c.name for c in checks] == ["miniQMT", "live trading"]
    report = run_doctor(argv_overrides=["general.mode=live"], probe=lambda package_dir: {
        "xtconstant": "", "xttype": "", "xtpythonclient": "",
    })  # fmt: skip
    assert {"QMT", "miniQMT", "live trading"} <= {c.name for c in report.checks}


def test_userdata_mini_folders_are_found_one_and_two_levels_below_a_root(tmp_path: Path) -> None:
    (tmp_path / "国金证券QMT交易端" / "userdata_mini").mkdir(parents=True)
    (tmp_path / "Apps" / "QMT" / "userdata_mini").mkdir(parents=True)
    (tmp_path / "a" / "b" / "c" / "userdata_mini").mkdir(parents=True)  # too deep
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "userdata_mini").write_text("a file", encoding="utf-8")
    assert userdata_candidates([tmp_path, tmp_path / "missing"]) == [
        tmp_path / "Apps" / "QMT" / "userdata_mini",
        tmp_path / "国金证券QMT交易端" / "userdata_mini",
    ]


def test_xtdata_services_are_read_from_the_xtquant_folder(tmp_path: Path) -> None:
    folder = tmp_path / ".xtquant"
    for name, text in {
        "a": '\ufeff{"ip": "", "port": 58611}',  # BOM, no ip: localhost
        "b": "{not json",
        "c": '{"port": "58612"}',
        "d": '{"port": 70000}',
        "e": "[]",
    }.items():
        (folder / name).mkdir(parents=True)
        (folder / name / "xtdata.cfg").write_text(text, encoding="utf-8")
    (folder / "a" / "running_status").write_text("", encoding="utf-8")
    servers = xtdata_servers(tmp_path)
    assert [(s.host, s.port) for s in servers] == [("127.0.0.1", 58611), ("127.0.0.1", 58610)]
    assert servers[0].running is not True and (folder / "a" / "running_status").exists()  # never removed
    assert xtdata_servers(tmp_path / "nowhere")[0].source == "default"


def test_minqmt_is_only_asked_about_when_live_or_set_up(tmp_path: Path) -> None:
    assert check_miniqmt(load_settings(), home=tmp_path, reach=_fail) == []


def _fail(host: str, port: int) -> str:
    raise AssertionError("not asked in the simulated setup")


def test_a_running_xtdata_service_is_reached(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        (tmp_path / ".xtquant" / "s1").mkdir(parents=True)
        (tmp_path / ".xtquant" / "s1" / "xtdata.cfg").write_text(
            f'{{"ip": "127.0.0.1", "port": {port}}}', "utf-8"
        )
        (check,) = check_miniqmt(load_settings(argv_overrides=["general.mode=live"]), home=tmp_path)
    assert check.status is Status.OK and f"127.0.0.1:{port}" in check.detail


def test_miniqmt_not_running_is_said_with_what_was_tried(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (tmp_path / ".xtquant" / "s1").mkdir(parents=True)
    (tmp_path / ".xtquant" / "s1" / "xtdata.cfg").write_text(f'{{"port": {port}}}', "utf-8")
    settings = load_settings(argv_overrides=[f"qmt.userdata_path={tmp_path}"])  # sim, but set up
    (check,) = check_miniqmt(settings, home=tmp_path, reach=lambda h, p: "ConnectionRefusedError: refused")
    assert check.status is Status.WARN
    assert (
        "极简模式" in check.detail
        and f"127.0.0.1:{port}" in check.detail
        and "127.0.0.1:58610" in check.detail
    )
    live = load_settings(argv_overrides=["general.mode=live"])
    assert check_miniqmt(live, home=tmp_path, reach=lambda h, p: "refused")[0].status is Status.FAIL


def test_the_live_trading_line_reads_the_arming_from_the_database(tmp_path: Path) -> None:
    secrets = SecretStore()
    settings = load_settings(
        argv_overrides=["general.mode=live", "qmt.live_trading_enabled=true", f"general.data_dir={tmp_path}"]
    )
    assert "simulated" in check_live_trading(load_settings(), secrets).detail
    assert "account id" not in check_live_trading(settings, secrets).detail  # no account: observe-only
    secrets.set("qmt.account_id", "8881234567")
    now = datetime.combine(DAY, time(10), CN_TZ)
    assert "not armed today" in check_live_trading(settings, secrets, now).detail
    path = database_path(tmp_path, "8881234567", "live")
    until = datetime.combine(DAY, time(15), CN_TZ)
    with open_database(path, now=now) as database, transaction(database):
        database.conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            (ARMING_META, Arming(DAY, "cli", now, until).to_text()),
        )
    before = sorted(p.name for p in tmp_path.iterdir())
    check = check_live_trading(settings, secrets, now)
    assert check.status is Status.OK and "ARMED" in check.detail and "cli" in check.detail
    assert "observe-only" in check_live_trading(settings, secrets, until).detail
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # read-only: nothing created beside it
    off = load_settings(argv_overrides=["general.mode=live", f"general.data_dir={tmp_path}"])
    assert "qmt.live_trading_enabled" in check_live_trading(off, secrets, now).detail
    with open_database(path, now=now) as database, transaction(database):
        database.conn.execute("UPDATE meta SET value = '{broken' WHERE key = ?", (ARMING_META,))
    broken = check_live_trading(settings, secrets, now)
    assert broken.status is Status.WARN and "unreadable" in broken.detail
