"""bootstrap.build_live_setup: selected by general.mode, the account from the keyring, its own books
file, the guard and quote seams, the periodic query; and the stand-in's native surface (RULES.md A4)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.bootstrap import SetupError, build_live_setup, build_sim_setup
from app.core.clock import LiveClock, SimClock
from app.core.engine import Engine
from app.core.oms import NewOrder
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus
from app.domain.side import Side
from app.feeds import InstrumentSpec
from app.gateways.qmt import QmtError
from app.secrets import SecretStore
from app.storage.lock import AccountInUseError
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.qmt import (
    ACCOUNT,
    DAY,
    live_settings,
    make_qmt_day,
    make_trader,
    open_qmt_day,
    qmt_at,
    secrets_with_account,
    settle_qmt,
)
from tests.standins import xtpythonclient as standin


@pytest.fixture(autouse=True)
def _standin_exchanges() -> Iterator[None]:
    yield
    standin.reset()


def test_only_live_mode_builds_it(tmp_path: Path) -> None:
    settings = live_settings(tmp_path, tmp_path, GENERAL__MODE="sim")
    with pytest.raises(SetupError, match=r"general\.mode"):
        build_live_setup(settings, secrets=secrets_with_account())


def test_the_account_comes_from_the_keyring(tmp_path: Path) -> None:
    settings = live_settings(tmp_path, tmp_path)
    with pytest.raises(SetupError, match=r"secrets set qmt\.account_id"):
        build_live_setup(settings, secrets=SecretStore(MemoryKeyring()))
    assert not list(tmp_path.glob("*.db"))  # nothing made


def test_a_missing_userdata_folder_is_said(tmp_path: Path) -> None:
    settings = live_settings(tmp_path, tmp_path / "nowhere")
    with pytest.raises(QmtError, match="userdata_mini"):
        build_live_setup(settings, secrets=secrets_with_account())


def test_live_books_have_their_own_file_and_lock(tmp_path: Path) -> None:
    userdata = tmp_path / "userdata_mini"
    userdata.mkdir()
    settings = live_settings(tmp_path, userdata, ACCOUNT__ACCOUNT_ID=ACCOUNT)
    clock = SimClock(_at(9, 0))
    live = build_live_setup(settings, clock=clock, secrets=secrets_with_account(), data_dir=tmp_path)
    try:
        assert live.db_path.name.startswith("tiller-live-") and ACCOUNT not in live.db_path.name
        with pytest.raises(AccountInUseError):
            build_live_setup(settings, clock=clock, secrets=secrets_with_account(), data_dir=tmp_path)
        # the simulated account of the same id is another file and another lock
        sim = build_sim_setup(settings, day=DAY, instruments=[InstrumentSpec("600000.SH")], data_dir=tmp_path)
        try:
            assert sim.db_path != live.db_path and sim.db_path.name.startswith("tiller-sim-")
        finally:
            sim.close()
    finally:
        live.close()
    again = build_live_setup(settings, clock=clock, secrets=secrets_with_account(), data_dir=tmp_path)
    again.close()  # the lock was released


def test_the_guard_seam_sees_the_engine_before_anything_starts(tmp_path: Path) -> None:
    userdata = tmp_path / "userdata_mini"
    userdata.mkdir()
    seen: list[Any] = []

    def guard(engine: Engine) -> None:
        seen.append((engine, engine._thread))

    live = build_live_setup(
        live_settings(tmp_path, userdata), clock=SimClock(_at(9, 0)), secrets=secrets_with_account(),
        live_guard=guard,
    )  # fmt: skip
    try:
        assert seen == [(live.engine, None)]
    finally:
        live.close()


def test_the_default_clock_is_the_live_one_and_is_closed_with_the_setup(tmp_path: Path) -> None:
    standin.install()
    userdata = tmp_path / "userdata_mini"
    exchange = standin.configure(userdata, LiveClock(), account_id=ACCOUNT)
    live = build_live_setup(
        live_settings(tmp_path, userdata), secrets=secrets_with_account(), data_dir=tmp_path
    )
    try:
        assert isinstance(live.clock, LiveClock) and live.owns_clock
        live.terminal.start()
        assert live.gateway.connected
        assert live.terminal.account().cash == D("1000000")
    finally:
        live.close()
        exchange.close()
    assert not live.gateway.connected


def test_the_broker_is_queried_periodically(tmp_path: Path) -> None:
    day = open_qmt_day(make_qmt_day(tmp_path / "acct", query_interval=timedelta(seconds=5)))
    try:
        asked: list[str] = []
        real = day.exchange.query
        day.exchange.query = lambda client, kind, seq, req: (
            asked.append(kind),
            real(client, kind, seq, req),
        )[1]
        for second in range(0, 22):  # time moves a moment at a time, as the day driver moves it
            qmt_at(day, 9, 30, second)
        assert asked.count("orders") >= 4 and asked.count("trades") >= 4
    finally:
        day.close()


# ------------------------------------------------------------------------------------ the stand-in (A4)
def test_xttrader_binds_every_callback_of_the_native_surface(tmp_path: Path) -> None:
    standin.install()
    from xtquant import xttrader

    source = Path(xttrader.__file__).read_text(encoding="utf-8")
    names = set(re.findall(r"bindOn\w+Callback", source))
    assert len(names) >= 40
    standin.configure(tmp_path, LiveClock(), account_id=ACCOUNT)
    trader = make_trader(tmp_path, 777)
    try:
        assert set(trader.async_client._bound) == names
    finally:
        trader.loop.close()


def test_request_classes_take_only_the_fields_xttrader_sets() -> None:
    req = standin.OrderStockReq()
    req.m_strOrderRemark = "T2611230A0001"
    with pytest.raises(AttributeError):
        req.m_strNoSuchField = "x"  # type: ignore[attr-defined]


def test_pushes_come_from_the_stand_ins_own_thread_and_books_outlive_a_restart(tmp_path: Path) -> None:
    day = open_qmt_day(make_qmt_day(tmp_path / "acct"))
    threads: set[str] = set()
    try:
        client = day.gateway.trader.async_client
        real = client._deliver
        client._deliver = lambda name, *a: (threads.add(threading.current_thread().name), real(name, *a))[1]
        qmt_at(day, 9, 31)
        day.exchange.faults.reject_next = ["拒单"]
        price = next(
            q for q in day.feed.snapshot(DAY, day.clock.now().time()) if q.code == "600000.SH"
        ).best_ask
        ids = day.setup.terminal.submit(
            [
                NewOrder("600000.SH", Side.BUY, 100, price),
                NewOrder("600000.SH", Side.BUY, 100, price),
            ]
        )
        settle_qmt(day)
        assert threads == {standin.PUSH_THREAD}
        before = {
            (o.order_id, o.order_remark, o.order_status)
            for o in day.gateway.trader.query_stock_orders(day.gateway._account)
        }
        assert {r for _, r, _ in before} == set(ids)
    finally:
        day.close()
    exchange = standin.configure(
        tmp_path / "acct" / "userdata_mini", SimClock(_at(15, 0)), account_id=ACCOUNT
    )
    from xtquant import xttype

    trader = make_trader(tmp_path / "acct" / "userdata_mini", 999)
    trader.register_callback(object())
    trader.start()
    try:
        assert trader.connect() == 0
        after = {
            (o.order_id, o.order_remark, o.order_status)
            for o in trader.query_stock_orders(xttype.StockAccount(ACCOUNT))
        }
        assert after == before
    finally:
        trader.stop()
        trader.loop.close()
        exchange.close()


def _at(hh: int, mm: int) -> datetime:
    return datetime.combine(DAY, time(hh, mm), CN_TZ)


def test_with_live_trading_off_nothing_reaches_the_account(tmp_path: Path) -> None:
    day = open_qmt_day(make_qmt_day(tmp_path / "acct", settings_env={"QMT__LIVE_TRADING_ENABLED": "false"}))
    try:
        qmt_at(day, 9, 31)
        assert day.gateway.sending_enabled is False
        (cid,) = day.setup.terminal.submit([NewOrder("600000.SH", Side.BUY, 100, D("10.00"))])
        settle_qmt(day)
        snapshot = day.engine.call(lambda e: (e.oms.orders[cid].status, e.oms.orders[cid].status_msg))
        assert snapshot[0].value == "rejected" and "observe-only" in snapshot[1]
        assert day.exchange.orders_received == 0 and day.exchange.broker.query_orders() == []
        assert day.setup.terminal.account().cash == D("1000000")  # reading the account still works
    finally:
        day.close()


def test_the_periodic_check_compares_positions_and_cash_with_the_broker(tmp_path: Path) -> None:
    from app.bootstrap import check_holdings

    day = open_qmt_day(make_qmt_day(tmp_path / "acct"))
    try:
        qmt_at(day, 9, 31)
        assert day.engine.call(check_holdings) == []  # the books agree
        # the counter's books move behind Tiller's back (a transfer of shares Tiller never heard of)
        day.exchange.broker.set_position("600000.SH", 300, D("10.00"))
        found = day.engine.call(check_holdings)
        assert len(found) == 1 and "600000.SH" in found[0] and "300" in found[0]
        assert any("600000.SH" in a.message for a in day.engine.call(lambda e: list(e.alerts)))
        day.exchange.faults.unanswered_queries = True
        day.gateway._call_timeout = 0.2
        assert day.engine.call(check_holdings) == []  # could not ask: said, not raised
        assert any("holdings failed" in a.message for a in day.engine.call(lambda e: list(e.alerts)))
    finally:
        day.close()


def test_a_live_setup_is_observe_only_until_armed_by_default(tmp_path: Path) -> None:
    """build_live_setup with no guard given takes the arming guard: through xtquant's real xttrader,
    an order is refused before it leaves until the account is armed for the day, then it goes."""
    day = open_qmt_day(make_qmt_day(tmp_path / "acct", live_guard=None))
    try:
        qmt_at(day, 9, 31)
        terminal = day.setup.terminal
        before = len(day.exchange.broker.query_orders())
        (refused,) = terminal.submit([NewOrder("600000.SH", Side.BUY, 100, D("10.00"))])
        settle_qmt(day)
        order = terminal.order(refused)
        assert order.status is OrderStatus.DENIED
        assert "布防" in order.status_msg or "armed" in order.status_msg
        assert len(day.exchange.broker.query_orders()) == before  # nothing reached the broker
        terminal.arm(by="test")
        (sent,) = terminal.submit([NewOrder("600000.SH", Side.BUY, 100, D("10.01"))])
        settle_qmt(day)
        assert terminal.order(sent).status is not OrderStatus.DENIED
        assert len(day.exchange.broker.query_orders()) == before + 1
    finally:
        day.close()
