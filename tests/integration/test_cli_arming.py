"""The command line's arming (issue 9 item 5): `run --arm` with a typed confirmation (`--yes` in
scripts), the state in `run --headless` output, and `status`."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import app.__main__ as cli
from app import bootstrap, headless
from app.arming_cli import confirm_arming
from app.config import load_settings
from app.core.terminal import Terminal
from app.secrets import SecretStore
from tests.helpers.engine_day import DAY, make_setup

ACCOUNT = "8881234567"


def test_the_typed_confirmation_is_the_accounts_last_four_characters() -> None:
    out = io.StringIO()
    asked: list[str] = []
    assert confirm_arming(ACCOUNT, yes=False, ask=lambda p: asked.append(p) or " 4567 ", out=out)
    assert "******4567" in out.getvalue() and ACCOUNT not in out.getvalue()  # the id is never printed whole
    assert "last 4 characters" in asked[0]
    for typed in ("", "yes", "1234567", "4566"):
        out = io.StringIO()
        assert not confirm_arming(ACCOUNT, yes=False, ask=lambda p, t=typed: t, out=out)
        assert "not confirmed" in out.getvalue()

    def no_input(prompt: str) -> str:
        raise EOFError

    assert not confirm_arming(ACCOUNT, yes=False, ask=no_input, out=io.StringIO())  # no terminal: no
    out = io.StringIO()
    assert confirm_arming(ACCOUNT, yes=True, ask=lambda p: pytest.fail("--yes asks nothing"), out=out)
    assert "--yes" in out.getvalue()


def live_args(*extra: str) -> list[str]:
    return ["run", "--headless", "--set", "general.mode=live", *extra]


def test_arming_needs_the_setting_and_the_account_before_anything_runs(capsys) -> None:
    assert cli.main(live_args("--arm")) == 1
    assert "qmt.live_trading_enabled is false" in capsys.readouterr().err
    assert cli.main(live_args("--arm", "--set", "qmt.live_trading_enabled=true")) == 1
    assert "secrets set qmt.account_id" in capsys.readouterr().err
    assert cli.main(["run", "--headless", "--yes"]) == cli.EXIT_USAGE


def test_a_wrong_confirmation_arms_nothing(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    SecretStore().set("qmt.account_id", ACCOUNT)
    monkeypatch.setattr(cli, "read_confirmation", lambda prompt: "0000")
    monkeypatch.setattr(
        bootstrap, "build_live_setup", lambda s: pytest.fail("nothing is built"), raising=False
    )
    assert cli.main(live_args("--arm", "--set", "qmt.live_trading_enabled=true")) == 1
    assert "not confirmed" in capsys.readouterr().out


def test_without_the_live_setup_in_this_build_live_mode_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delattr(bootstrap, "build_live_setup", raising=False)
    assert cli.main(live_args()) == 1
    assert "cannot run the live QMT setup" in capsys.readouterr().err


@dataclass
class FakeLive:
    """What build_live_setup gives (.terminal, .close()), over the real engine and the simulated broker
    standing in for the account, with the live setup's guard."""

    terminal: Terminal
    setup: Any

    @property
    def engine(self) -> Any:
        return self.setup.engine

    @property
    def db_path(self) -> Path:
        return self.setup.db_path

    def close(self) -> None:
        self.setup.close()


def test_run_arm_confirmed_arms_the_live_account_and_says_so(
    monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path
) -> None:
    SecretStore().set("qmt.account_id", ACCOUNT)
    made: list = []

    def build_live_setup(settings, *, live_guard, **seams):  # clock, data_dir: the defaults
        setup = make_setup(tmp_path, settings=settings)
        live_guard(setup.engine)  # the seam, as build_live_setup calls it
        assert setup.engine.risk.live_guard is not None
        setup.broker.connect()
        setup.broker.begin_day(DAY)
        made.append(setup)
        return FakeLive(Terminal(setup.engine), setup)

    monkeypatch.setattr(bootstrap, "build_live_setup", build_live_setup, raising=False)
    monkeypatch.setattr(cli, "read_confirmation", lambda prompt: "4567")
    monkeypatch.setattr(headless, "keep_running", lambda: False)
    assert cli.main(live_args("--arm", "--set", "qmt.live_trading_enabled=true",
                              "--set", f"general.data_dir={tmp_path}")) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.index("observe-only") < out.index("live: ARMED")  # observe-only first, then armed
    with sqlite3.connect(made[0].db_path) as conn:
        assert conn.execute("SELECT who, action FROM live_audit").fetchall() == [("cli", "arm")]


def test_a_simulated_run_says_it_is_simulated_and_ignores_arm(capsys, tmp_path: Path) -> None:
    args = ["run", "--headless", "--day", "2026-11-23", "--start", "15:10", "--until", "15:20", "--speed", "0",
            "--data-dir", str(tmp_path), "--arm", "--yes"]  # fmt: skip
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "交易模式：模拟盘 (simulated broker: no real account)" in out
    assert "nothing to arm: --arm ignored" in out


def test_status_shows_the_mode_the_state_and_the_live_audit(capsys, tmp_path: Path) -> None:
    assert cli.main(["status"]) == 0
    assert "simulated" in capsys.readouterr().out
    SecretStore().set("qmt.account_id", ACCOUNT)
    live = ["status", "--set", "general.mode=live", "--set", f"general.data_dir={tmp_path}"]
    assert cli.main(live) == 0
    out = capsys.readouterr().out
    assert "observe-only" in out and "does not exist yet" in out
    settings = load_settings(argv_overrides=["general.mode=live", f"general.data_dir={tmp_path}"])
    from app.storage import database_path, open_database
    from app.storage.database import transaction

    with open_database(database_path(tmp_path, ACCOUNT, "live")) as database, transaction(database):
        database.conn.execute(
            "INSERT INTO live_audit (ts, who, action, detail) VALUES ('2026-11-23T09:30:00+08:00', 'cli', 'arm', 'x')"
        )
    assert settings.general.mode == "live"
    assert cli.main(live) == 0
    out = capsys.readouterr().out
    assert "live audit, the last 10" in out and "2026-11-23T09:30:00+08:00 cli arm x" in out
