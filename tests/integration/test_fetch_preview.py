"""`python -m app fetch` shows what the planner would do, against the account as the books know it,
and places no order (app/plan_preview.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import app.__main__ as cli
from app.core.planning.model import StrategySettings
from app.core.terminal import Terminal
from app.devserver.server import DEV_ACCESS_KEY, DEV_SECRET_KEY
from app.feeds import InstrumentSpec
from tests.helpers.bigquant import STRATEGY, dev_server
from tests.helpers.engine_day import make_setup, open_day
from tests.helpers.memory_keyring import MemoryKeyring


def _fetch(url: str, *extra: str) -> int:
    return cli.main(
        ["fetch", "--set", f"bigquant.base_url={url}", "--set", f"bigquant.strategy_ids={STRATEGY}",
         "--set", "bigquant.retries=0", "--day", "2026-11-23", *extra]
    )  # fmt: skip


@pytest.fixture
def keys(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.set_password("tiller", "bigquant.access_key", DEV_ACCESS_KEY)
    memory_keyring.set_password("tiller", "bigquant.secret_key", DEV_SECRET_KEY)


def test_fetch_on_a_new_account_plans_the_buys_and_skips_sells_of_shares_it_does_not_hold(
    keys: None, isolated_dirs: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    with dev_server() as server:
        assert _fetch(server.base_url) == 0
    out = capsys.readouterr().out
    preview = out[out.index("计划预览") :]
    assert "新账户 (a new account" in preview
    assert "→ 145909290  600519.SH 买 (buy) 100 股" in preview  # priced from the reference, a lot
    assert "→ 145909293  688981.SH 买 (buy) 250 股" in preview  # STAR: 200 then steps of 1
    assert "- 145909292  300750.SZ 卖 (sell) 200: 跳过" in preview  # nothing held: nothing to sell
    assert "no order is placed" in preview
    data = isolated_dirs["data_dir"]
    assert not data.exists() or not any(data.glob("*.db"))  # read only: no database was made


def test_fetch_reads_the_books_caps_sells_at_the_holding_and_leaves_the_books_alone(
    keys: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "books"
    codes = [InstrumentSpec("300750.SZ", prev_close=Decimal("250.00")),
             InstrumentSpec("600519.SH", prev_close=Decimal("1480.00"))]  # fmt: skip
    setup = make_setup(folder, codes=codes, positions=[("300750.SZ", 100, Decimal("240.00"))])
    open_day(setup)
    Terminal(setup.engine).set_strategy(StrategySettings(STRATEGY, Decimal("500000")))
    path = setup.db_path
    setup.close()
    before = path.read_bytes()
    with dev_server() as server:
        assert _fetch(server.base_url, "--data-dir", str(folder)) == 0
    out = capsys.readouterr().out
    preview = out[out.index("计划预览") :]
    assert f"账本 (the books) {path}" in preview  # the account's own file in --data-dir
    assert "→ 145909292  300750.SZ 卖 (sell) 100 股" in preview  # capped at the 100 held
    assert "capped" in preview
    assert path.read_bytes() == before


def test_fetch_json_has_no_preview_in_it(keys: None, capsys: pytest.CaptureFixture[str]) -> None:
    with dev_server() as server:
        assert _fetch(server.base_url, "--json") == 0
    document = json.loads(capsys.readouterr().out)
    assert set(document) == {"batches"}
