"""`python -m app fetch`, `serve-dev` and `secrets set` from standard input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import app.__main__ as cli
from app.devserver.server import DEV_ACCESS_KEY, DEV_SECRET_KEY, DevState
from tests.helpers.bigquant import FIXTURE_IDS, STRATEGY, dev_server
from tests.helpers.memory_keyring import MemoryKeyring

REPO = Path(__file__).resolve().parents[2]
LINE_KEYS = {"signal_id", "code", "side", "qty", "price", "exec_time"}


def _keys(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("tiller", "bigquant.access_key", DEV_ACCESS_KEY)
    memory_keyring.set_password("tiller", "bigquant.secret_key", DEV_SECRET_KEY)


def _fetch(url: str, *extra: str) -> int:
    return cli.main(
        ["fetch", "--set", f"bigquant.base_url={url}", "--set", f"bigquant.strategy_ids={STRATEGY}",
         "--set", "bigquant.retries=0", *extra]
    )  # fmt: skip


def test_fetch_json_then_exactly_one_object_of_the_schema(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    _keys(memory_keyring)
    state = DevState()
    state.items[1] = dict(state.items[1], direction="9")  # one bad line: reported, the rest goes on
    with dev_server(state) as server:
        code = _fetch(server.base_url, "--day", "2026-11-23", "--json")
    out = capsys.readouterr().out

    assert code == 0
    document = json.loads(out)  # exactly one JSON object: anything else fails to parse
    assert set(document) == {"batches"}
    (batch,) = document["batches"]
    assert set(batch) == {"strategy_id", "trading_day", "batch_id", "lines", "rejected"}
    assert (batch["strategy_id"], batch["trading_day"]) == (STRATEGY, "2026-11-23")
    assert len(batch["batch_id"]) == 64
    assert all(set(line) == LINE_KEYS for line in batch["lines"])
    assert [line["signal_id"] for line in batch["lines"]] == [i for i in FIXTURE_IDS if i != "145909291"]
    assert batch["lines"][0] == {
        "signal_id": "145909290", "code": "600519.SH", "side": "buy", "qty": 100, "price": "1480.5",
        "exec_time": "09:30:00",
    }  # fmt: skip
    assert batch["rejected"] == [
        {"signal_id": "145909291", "reason": "direction 应为 '1'(买) 或 '2'(卖), was '9'"}
    ]


def test_fetch_text_then_accepted_and_rejected_lines_shown(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    _keys(memory_keyring)
    with dev_server() as server:
        code = _fetch(server.base_url, "--day", "2026-11-23")
    out = capsys.readouterr().out
    assert code == 0
    assert "接受 (accepted) 6" in out and "600519.SH" in out and "没有下任何订单 (no order was placed)" in out


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("auth", "the key was refused"),
        ("html", "not JSON"),
        ("http500", "HTTP 500"),
        ("page_missing", "missing"),
    ],
)
def test_fetch_json_when_fetch_fails_then_nonzero_reason_and_no_json(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str], fault: str, words: str
) -> None:
    _keys(memory_keyring)
    with dev_server() as server:
        server.state.set_fault(fault)
        code = _fetch(server.base_url, "--day", "2026-11-23", "--json", "--set", "bigquant.page_size=4")
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert words in captured.err and "no order was placed" in captured.err
    assert "Traceback" not in captured.err


def test_fetch_when_no_keys_then_says_how_to_set_them(capsys: pytest.CaptureFixture[str]) -> None:
    with dev_server() as server:
        code = _fetch(server.base_url, "--json")
        assert server.state.count() == 0
    assert code == 1
    assert "python -m app secrets set bigquant.access_key" in capsys.readouterr().err


def test_fetch_when_no_strategies_then_says_which_setting(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    _keys(memory_keyring)
    code = cli.main(["fetch", "--json", "--set", "bigquant.base_url=http://127.0.0.1:9/x"])
    assert code == 1
    assert "bigquant.strategy_ids" in capsys.readouterr().err


def test_fetch_when_strategy_ids_from_env_then_comma_list_followed(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _keys(memory_keyring)
    state = DevState()
    state.items = [*state.items, dict(state.items[0], planned_order_id="777", strategy_id="second")]
    with dev_server(state) as server:
        monkeypatch.setenv("TILLER__BIGQUANT__STRATEGY_IDS", f"{STRATEGY}, second")
        monkeypatch.setenv("TILLER__BIGQUANT__BASE_URL", server.base_url)
        code = cli.main(["fetch", "--day", "2026-11-23", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(b["strategy_id"], len(b["lines"])) for b in document["batches"]] == [
        (STRATEGY, 6),
        ("second", 1),
    ]


def test_fetch_when_bad_day_then_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fetch", "--day", "2026-02-30"]) == 2
    assert "expected a date YYYY-MM-DD" in capsys.readouterr().err


# --- secrets set from standard input ------------------------------------------------------------


class _Pipe(io.StringIO):
    def isatty(self) -> bool:
        return False


def test_secrets_set_when_stdin_is_not_a_terminal_then_value_read_from_it(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Pipe("\ufeffsk-from-a-script\r\nsecond line\n"))
    monkeypatch.setattr(cli, "read_secret", lambda prompt: pytest.fail("must not prompt"))
    assert cli.main(["secrets", "set", "bigquant.secret_key"]) == 0
    assert memory_keyring.passwords == {("tiller", "bigquant.secret_key"): "sk-from-a-script"}
    assert "sk-from-a-script" not in capsys.readouterr().out


def test_secrets_set_when_stdin_empty_then_refused_and_nothing_stored(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", _Pipe(""))
    assert cli.main(["secrets", "set", "bigquant.secret_key"]) == 1
    assert memory_keyring.passwords == {}
    assert "expected a non-empty value" in capsys.readouterr().err


def _run_app(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("TILLER__")}
    env["PYTHON_KEYRING_BACKEND"] = "tests.helpers.memory_keyring.MemoryKeyring"
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=REPO, env=env, input=stdin, capture_output=True,
        text=True, encoding="utf-8", errors="replace", timeout=60, check=False,
    )  # fmt: skip


def test_secrets_set_when_piped_in_a_real_process_then_stored_and_never_echoed() -> None:
    completed = _run_app("secrets", "set", "bigquant.access_key", stdin="ak-piped-value\n")
    assert completed.returncode == 0, completed.stderr
    assert "bigquant.access_key: stored in the OS keyring" in completed.stdout
    assert "ak-piped-value" not in completed.stdout + completed.stderr


# --- serve-dev ----------------------------------------------------------------------------------


def test_serve_dev_when_port_0_then_prints_the_url_and_serves(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("TILLER__")}
    env["PYTHON_KEYRING_BACKEND"] = "tests.helpers.memory_keyring.MemoryKeyring"
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve-dev", "--port", "0", "--day", "2026-12-01"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("BigQuant 开发服务器 (dev server): http://127.0.0.1:")
        url = first.split(": ", 1)[1].strip()
        _keys(memory_keyring)
        code = _fetch(url, "--day", "2026-12-01", "--json")
        document = json.loads(capsys.readouterr().out)
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert code == 0
    assert [line["signal_id"] for line in document["batches"][0]["lines"]] == FIXTURE_IDS  # moved to the day


def test_serve_dev_demo_serves_both_strategies_of_the_demo_day(
    memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {name: value for name, value in os.environ.items() if not name.upper().startswith("TILLER__")}
    env["PYTHON_KEYRING_BACKEND"] = "tests.helpers.memory_keyring.MemoryKeyring"
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve-dev", "--port", "0", "--demo"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
    )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(": ", 1)[1].strip()
        _keys(memory_keyring)
        both = "aec3e784-5c1e-4b0d-9f2a-3d6c1b7e9a10,5f1c9b2e-7d3a-4c8e-a6b4-2e9d0f3c1a77"
        code = cli.main(
            ["fetch", "--set", f"bigquant.base_url={url}", "--set", f"bigquant.strategy_ids={both}",
             "--set", "bigquant.retries=0", "--day", "2026-11-23", "--json"]
        )  # fmt: skip
        document = json.loads(capsys.readouterr().out)
    finally:
        process.kill()
        process.communicate(timeout=30)
    assert code == 0
    sizes = sorted(len(batch["lines"]) for batch in document["batches"])
    assert sizes == [5, 6]  # strategy B's five lines beside BigQuant's six-line sample


def test_serve_dev_when_scenario_unreadable_then_plain_error(tmp_path: Path) -> None:
    completed = _run_app("serve-dev", "--scenario", str(tmp_path / "missing.json"))
    assert completed.returncode == 1
    assert "cannot read the scenario file" in completed.stderr
    assert "Traceback" not in completed.stderr
