"""`python -m app run --headless` for a short span, `sync --day` and its exit codes, `alerts`."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import app.__main__ as cli
import app.sync_command as sync_command
from app.core.eod.delivery import Backoff
from app.secrets import SecretStore
from tests.helpers.sync_server import SyncServer

REPO = Path(__file__).resolve().parents[2]
DAY = "2026-11-23"
NEXT = "2026-11-24"


def headless(
    folder: Path, *extra: str, day: str = DAY, start: str = "14:50", until: str = "15:50"
) -> list[str]:
    return ["run", "--headless", "--day", day, "--start", start, "--until", until, "--speed", "0",
            "--data-dir", str(folder), "--seed", "3", *extra]  # fmt: skip


def db_of(folder: Path) -> Path:
    return folder / "tiller-sim-SIM001.db"


def query(folder: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db_of(folder))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_run_headless_for_a_short_span_trades_closes_settles_and_backs_up(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "d"
    assert cli.main(headless(folder)) == 0
    out = capsys.readouterr().out
    assert (
        "open_auction 09:15: 已错过开盘集合竞价" in out and "continuous trading" in out
    )  # said what it skipped
    assert "收盘集合竞价 (closing auction)" in out
    assert f"日终对账 (reconciliation) {DAY}: ok" in out
    assert "数据库已备份 (database backed up)" in out and "完成 (done)" in out
    assert query(folder, "SELECT trading_day, status FROM settlements") == [(DAY, "ok")]
    assert query(folder, "SELECT count(*) FROM sync_outbox WHERE delivered_at IS NULL") == [(1,)]
    assert query(folder, "SELECT count(*) FROM daily_performance") == [(1,)]
    assert list((folder / "backups").glob("*.db"))
    assert (folder / "logs" / "tiller.log").exists()  # the log is in --data-dir too


def test_run_headless_delivers_the_sync_to_the_configured_url(tmp_path: Path, capsys, monkeypatch) -> None:
    folder = tmp_path / "d"
    with SyncServer() as server:
        SecretStore().set("bigquant.access_key", server.access_key)
        SecretStore().set("bigquant.secret_key", server.secret_key)
        assert cli.main([*headless(folder), "--set", f"bigquant.sync_url={server.url}"]) == 0
        out = capsys.readouterr().out
        assert len(server.applied) == 1 and server.bad_signatures == 0
        [payload] = server.applied.values()
        assert payload["trading_day"] == DAY and payload["reconciliation"]["status"] == "ok"
    assert "acknowledged" in out
    assert query(folder, "SELECT count(*) FROM sync_outbox WHERE delivered_at IS NULL") == [(0,)]


def test_sync_day_exit_codes(tmp_path: Path, capsys, monkeypatch) -> None:
    folder = tmp_path / "d"
    data = ["--data-dir", str(folder)]
    assert cli.main(["sync", "--day", "2026-11-22", *data]) == 2  # a Sunday
    assert "not a trading day" in capsys.readouterr().out
    assert cli.main(["sync", "--day", "2099-01-05", *data]) == 2
    assert cli.main(["sync", "--day", "23/11/2026", *data]) == 2  # argparse: a clear usage error

    assert cli.main(headless(folder)) == 0
    capsys.readouterr()
    assert cli.main(["sync", "--day", DAY, *data, "--export", str(tmp_path / "x")]) == 0
    out = capsys.readouterr().out
    assert "未变 (unchanged)" in out and "no sync URL set" in out
    [exported] = (tmp_path / "x").glob("eod_sync-2026-11-23-r1.json")
    assert json.loads(exported.read_text(encoding="utf-8"))["schema"] == "eod_sync/1"

    # a server that is down: kept in the outbox, exit 3
    monkeypatch.setattr(sync_command, "SYNC_BACKOFF", Backoff(first_s=0.01, cap_s=0.01, attempts_per_round=2))
    SecretStore().set("bigquant.access_key", "ak-test")
    SecretStore().set("bigquant.secret_key", "sk-test")
    with SyncServer() as server:
        url = server.url
        server.statuses = [503] * 10
        assert cli.main(["sync", "--day", DAY, *data, "--set", f"bigquant.sync_url={url}"]) == 3
        assert "not delivered" in capsys.readouterr().out
        [(level, message)] = query(folder, "SELECT level, message FROM alerts WHERE category = 'sync'")
        assert level == "warning" and "HTTP 503" in message  # the failing sync is in the alert stream
        server.statuses = []
        assert cli.main(["sync", "--day", DAY, *data, "--set", f"bigquant.sync_url={url}"]) == 0
        assert "acknowledged" in capsys.readouterr().out and len(server.applied) == 1
        assert cli.main(["sync", "--day", DAY, *data, "--set", f"bigquant.sync_url={url}"]) == 0
        assert "already delivered" in capsys.readouterr().out and sum(server.receipts.values()) == 3


def test_a_day_with_differences_exits_1_blocks_the_next_run_until_accepted(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "d"
    data = ["--data-dir", str(folder)]
    assert cli.main(headless(folder)) == 0
    conn = sqlite3.connect(db_of(folder))
    conn.execute("UPDATE account SET cash = CAST(CAST(cash AS REAL) + 100 AS TEXT)")  # the books drift
    conn.execute("UPDATE account SET cash = printf('%.2f', CAST(cash AS REAL))")
    conn.commit()
    conn.close()
    capsys.readouterr()

    assert cli.main(["sync", "--day", DAY, *data]) == 1
    out = capsys.readouterr().out
    assert "differences" in out and "cash differs" in out and "新版本 (new revision)" in out

    assert cli.main(headless(folder, day=NEXT, start="08:30", until="09:40")) == 0
    out = capsys.readouterr().out
    assert f"no automatic run on {NEXT}: {DAY} did not settle" in out
    assert f"python -m app sync --day {DAY} --accept" in out
    assert "取得计划订单" not in out  # no fetch, no orders

    assert cli.main(["sync", "--day", DAY, *data, "--accept"]) == 0
    assert cli.main(["sync", "--day", DAY, *data, "--accept"]) == 1  # nothing left to accept
    capsys.readouterr()
    assert cli.main(headless(folder, day=NEXT, start="08:30", until="09:40")) == 0
    out = capsys.readouterr().out
    assert "did not settle" not in out and "取得计划订单" in out


def test_alerts_command_lists_the_stream_with_since_and_level(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "d"
    assert cli.main(["alerts", "--data-dir", str(folder)]) == 0
    assert "no alerts yet" in capsys.readouterr().out
    assert cli.main(headless(folder)) == 0
    conn = sqlite3.connect(db_of(folder))
    conn.executemany(
        "INSERT INTO alerts (ts, level, category, message) VALUES (?, ?, ?, ?)",
        [("2026-11-20T10:00:00+08:00", "error", "order", "委托被拒 old"),
         ("2026-11-23T10:00:00+08:00", "error", "sync", "日终同步被拒绝 new"),
         ("2026-11-23T10:01:00+08:00", "info", "connection", "券商已连接 info")],
    )  # fmt: skip
    conn.commit()
    conn.close()
    capsys.readouterr()
    assert cli.main(["alerts", "--data-dir", str(folder), "--since", DAY, "--level", "warning"]) == 0
    out = capsys.readouterr().out
    assert "日终同步被拒绝 new" in out and "old" not in out and "券商已连接 info" not in out
    assert cli.main(["alerts", "--data-dir", str(folder), "--since", "yesterday"]) == 2


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a child, which Windows does not deliver")
def test_run_headless_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    log = tmp_path / "out.txt"
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TILLER__")}
    env["PYTHON_KEYRING_BACKEND"] = "tests.helpers.memory_keyring.MemoryKeyring"
    with log.open("w", encoding="utf-8") as sink:
        child = subprocess.Popen(
            [sys.executable, "-m", "app", "run", "--headless", "--day", DAY, "--start", "09:00", "--until", "16:00",
             "--speed", "20", "--seed", "3", "--data-dir", str(folder)],
            cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while "计划 (plan)" not in log.read_text(encoding="utf-8"):
                assert child.poll() is None and time.monotonic() < deadline, log.read_text(encoding="utf-8")
                time.sleep(0.05)
            child.send_signal(signal.SIGINT)
            assert child.wait(60) == 130
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(30)
    text = log.read_text(encoding="utf-8")
    assert "stopped by Ctrl-C" in text and "Traceback" not in text
    # the lock is released and the books are whole: the next command opens the same account and agrees
    assert db_of(folder).exists()
    assert cli.main(["sync", "--day", DAY, "--data-dir", str(folder), "--no-send"]) == 0


def test_a_day_left_without_its_close_is_closed_first_by_the_next_run(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "d"
    assert cli.main(headless(folder, start="09:00", until="14:00")) == 0  # stopped before the close
    assert query(folder, "SELECT count(*) FROM settlements") == [(0,)]
    capsys.readouterr()

    assert cli.main(headless(folder, day=NEXT, start="08:30", until="09:40")) == 0
    out = capsys.readouterr().out
    assert f"caught up the close of {DAY}): ok" in out
    assert query(folder, "SELECT trading_day, status FROM settlements") == [(DAY, "ok")]
    assert query(folder, "SELECT trading_day FROM sync_outbox") == [(DAY,)]
    assert "取得计划订单" in out  # settled: the next day runs
