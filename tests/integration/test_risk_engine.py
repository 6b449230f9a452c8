"""The risk engine through the real engine: the gate inside OrderManager.create, trading states,
the kill switch with orders in flight, the monitors, run-time settings and their audit. Real engine
thread, real SQLite files, the simulated broker (with an acknowledgement latency where it matters)."""

from __future__ import annotations

import sqlite3
from datetime import time, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.bootstrap import SimSetup
from app.config import GeneralSettings, Settings, SimSettings
from app.core.messages import Call
from app.core.oms import NewOrder
from app.core.risk import RiskLimits, RiskSettingError
from app.core.terminal import Terminal
from app.domain.orders import OrderStatus, PriceType
from app.domain.side import Side
from tests.helpers import engine_day
from tests.helpers.engine_day import at, open_day, settle

BUY_CODE = "600000.SH"
HELD = "000001.SZ"  # 5,000 shares held from an earlier day (engine_day.OPENING_POSITIONS)


def make_setup(
    folder: Path,
    *,
    positions=engine_day.OPENING_POSITIONS,
    ack_latency_s: D = D(0),
    to: time | None = time(10, 0),
    **limits,
) -> SimSetup:
    settings = Settings(
        general=GeneralSettings(data_dir=folder),
        sim=SimSettings(ack_latency_s=ack_latency_s),
        risk=RiskLimits(**limits),
    )
    setup = open_day(engine_day.make_setup(folder, 3, settings=settings, positions=positions))
    if to is not None:
        at(setup, to)
    return setup


def later(setup: SimSetup, seconds: float) -> None:
    at(setup, (setup.clock.now() + timedelta(seconds=seconds)).time())


def last(setup: SimSetup, code: str = BUY_CODE) -> D:
    return setup.engine.call(lambda e: e.oms.last_prices[code])


def snapshot(setup: SimSetup, cid):
    return Terminal(setup.engine).order(cid)


def alerts(setup: SimSetup, category: str = "risk") -> list[str]:
    return setup.engine.call(lambda e: [a.message for a in e.alerts if a.category == category])


def rows(setup: SimSetup, sql: str) -> list[tuple]:
    with sqlite3.connect(setup.db_path) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


# ------------------------------------------------------------------ allowed, denied, resized
def test_a_denial_is_a_denied_order_with_the_risk_reason_nothing_held_nothing_sent(folder: Path) -> None:
    setup = make_setup(folder, blacklist=(BUY_CODE,))
    try:
        terminal = Terminal(setup.engine)
        available = terminal.account().available
        [cid] = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 1000, last(setup))])
        settle(setup)
        order = terminal.order(cid)
        assert order.status is OrderStatus.DENIED and "blacklist" in order.status_msg
        assert terminal.account().available == available
        assert all(o.client_order_id != cid for o in setup.broker.query_orders())
        [(kind, payload)] = rows(
            setup, f"SELECT kind, payload FROM order_events WHERE client_order_id = '{cid}'"
        )
        assert kind == "OrderDenied" and "blacklist" in payload
        # an order the lists do not name passes the same gate and trades
        [ok] = terminal.submit([NewOrder(HELD, Side.SELL, 100, last(setup, HELD) - D("0.05"))])
        settle(setup)
        assert terminal.order(ok).status is OrderStatus.FILLED
    finally:
        setup.close()


def test_a_resize_cuts_the_order_before_the_hold_keeps_the_note_and_alerts(folder: Path) -> None:
    setup = make_setup(folder, max_order_qty=550)
    try:
        terminal = Terminal(setup.engine)
        price = last(setup) - D("0.30")  # rests
        [cid] = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 1000, price)])
        settle(setup)
        order = terminal.order(cid)
        assert order.qty == 500 and order.status is OrderStatus.ACCEPTED
        assert "1000→500" in order.status_msg
        [broker_order] = [o for o in setup.broker.query_orders() if o.client_order_id == cid]
        assert broker_order.qty == 500
        frozen = terminal.account().frozen
        assert price * 500 < frozen < price * 1000  # held for 500 shares (and their fees), not 1000
        assert any("1000→500" in a and cid in a for a in alerts(setup))
        assert rows(setup, f"SELECT qty, status_msg FROM orders WHERE client_order_id = '{cid}'")[0][0] == 500
    finally:
        setup.close()


def test_a_position_cap_resizes_a_buy_through_the_engine(folder: Path) -> None:
    setup = make_setup(folder, max_position_pct=D("0.05"))
    try:
        terminal = Terminal(setup.engine)
        total = terminal.account().cash + sum((p.market_value for p in terminal.positions()), D(0))
        price = last(setup) - D("0.30")
        [cid] = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 20000, price)])
        order = terminal.order(cid)
        assert order.status is OrderStatus.SUBMITTED or order.status.is_working
        assert 0 < order.qty < 20000 and order.qty % 100 == 0
        assert order.qty * price <= D("0.05") * total < (order.qty + 100) * price
        # a second buy finds the first one's exposure: nothing left under the cap
        [second] = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 1000, price)])
        assert terminal.order(second).status is OrderStatus.DENIED
        assert "max position per instrument" in terminal.order(second).status_msg
    finally:
        setup.close()


# ------------------------------------------------------------------ trading states
def test_reducing_only_refuses_buys_and_lets_sells_reduce_then_halted_refuses_all(folder: Path) -> None:
    setup = make_setup(folder)
    try:
        terminal = Terminal(setup.engine)
        assert terminal.set_trading_state("reducing", "user") == ("active", "reducing")
        [buy, sell] = terminal.submit(
            [
                NewOrder(BUY_CODE, Side.BUY, 100, last(setup)),
                NewOrder(HELD, Side.SELL, 1000, last(setup, HELD) - D("0.05")),
            ]
        )
        settle(setup)
        assert terminal.order(buy).status is OrderStatus.DENIED
        assert "reducing" in terminal.order(buy).status_msg
        assert terminal.order(sell).status is OrderStatus.FILLED
        assert {p.code: p.total for p in terminal.positions()}[HELD] == 4000

        terminal.set_trading_state("halted", "user")
        ids = terminal.submit(
            [
                NewOrder(BUY_CODE, Side.BUY, 100, last(setup)),
                NewOrder(HELD, Side.SELL, 100, last(setup, HELD)),
                NewOrder(HELD, Side.SELL, 100, None, PriceType.BEST5_IOC),
            ]
        )
        assert [terminal.order(c).status for c in ids] == [OrderStatus.DENIED] * 3
        terminal.set_trading_state("active", "user")
        [again] = terminal.submit([NewOrder(HELD, Side.SELL, 100, last(setup, HELD) - D("0.05"))])
        settle(setup)
        assert terminal.order(again).status is OrderStatus.FILLED
        with pytest.raises(RiskSettingError, match="trading state"):
            terminal.set_trading_state("paused", "user")
    finally:
        setup.close()


# ------------------------------------------------------------------ the kill switch
def test_kill_switch_mid_day_cancels_every_working_order_in_flight_included(folder: Path) -> None:
    setup = make_setup(folder, ack_latency_s=D(5))
    try:
        terminal = Terminal(setup.engine)
        price = last(setup) - D("0.30")  # rests: nothing fills
        acked = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 100, price) for _ in range(2)])
        later(setup, 6)  # these two are acknowledged
        assert {terminal.order(c).status for c in acked} == {OrderStatus.ACCEPTED}
        flying = terminal.submit(
            [
                NewOrder(BUY_CODE, Side.BUY, 100, price - D("0.01")),
                NewOrder(HELD, Side.SELL, 500, last(setup, HELD) + D("0.50")),
            ]
        )
        settle(setup)
        assert {terminal.order(c).status for c in flying} == {OrderStatus.SUBMITTED}  # on the wire

        assert terminal.kill_switch("user") == 4
        refused = terminal.submit([NewOrder(HELD, Side.SELL, 100, last(setup, HELD))])
        assert terminal.order(refused[0]).status is OrderStatus.DENIED
        later(setup, 6)  # the acknowledgements arrive; their cancels go then
        later(setup, 2)
        statuses = {c: terminal.order(c).status for c in acked + flying}
        assert set(statuses.values()) == {OrderStatus.CANCELLED}, statuses
        broker = {o.client_order_id: o for o in setup.broker.query_orders()}
        assert all(broker[c].status is OrderStatus.CANCELLED for c in acked + flying)
        assert refused[0] not in broker  # nothing new reached the broker after the switch
        account = terminal.account()
        assert account.frozen == 0
        assert terminal.risk_settings()["trading_state"] == "halted"
        assert any("kill switch" in a for a in alerts(setup))
    finally:
        setup.close()


def test_halted_survives_a_restart_and_the_audit_says_who(folder: Path) -> None:
    setup = make_setup(folder)
    try:
        Terminal(setup.engine).kill_switch("cli")
    finally:
        setup.close()
    setup = make_setup(folder, to=time(10, 5))
    try:
        terminal = Terminal(setup.engine)
        assert terminal.risk_settings()["trading_state"] == "halted"
        [cid] = terminal.submit([NewOrder(HELD, Side.SELL, 100, last(setup, HELD))])
        assert terminal.order(cid).status is OrderStatus.DENIED
        [(_, who, key, old, new)] = terminal.risk_audit()
        assert (who, key, old, new) == ("cli", "trading_state", "active", "halted")
    finally:
        setup.close()


# ------------------------------------------------------------------ monitors
def test_stop_loss_sells_once_through_the_gate(folder: Path) -> None:
    # held at a cost of 20.00 while the price is about 11.37: far below the stop
    setup = make_setup(folder, positions=((HELD, 5000, D("20.00")),), stop_loss_pct=D("0.05"), to=None)
    try:
        terminal = Terminal(setup.engine)
        for hh, mm in ((9, 31), (9, 45), (10, 0), (10, 30)):
            at(setup, hh, mm)
        exits = [o for o in terminal.orders() if o.signal_id == "stop_loss"]
        assert len(exits) == 1
        [exit_] = exits
        assert (exit_.code, exit_.side, exit_.qty) == (HELD, Side.SELL, 5000)
        assert exit_.status is OrderStatus.FILLED
        assert any("stop-loss" in a for a in alerts(setup))
        assert not any(p.code == HELD and p.total for p in terminal.positions())
    finally:
        setup.close()


def test_take_profit_sells_once(folder: Path) -> None:
    # held at a cost of 5.00 while the price is about 11.37: far above the take-profit line
    setup = make_setup(folder, positions=((HELD, 5000, D("5.00")),), take_profit_pct=D("0.5"), to=time(9, 31))
    try:
        terminal = Terminal(setup.engine)
        at(setup, 10, 0)
        at(setup, 10, 30)
        [exit_] = [o for o in terminal.orders() if o.signal_id == "take_profit"]
        assert (exit_.side, exit_.qty, exit_.status) == (Side.SELL, 5000, OrderStatus.FILLED)
        assert any("take-profit" in a for a in alerts(setup))
    finally:
        setup.close()


def test_an_exit_refused_by_the_gate_is_denied_and_said(folder: Path) -> None:
    setup = make_setup(folder, positions=((HELD, 5000, D("5.00")),), to=time(9, 31))
    try:
        terminal = Terminal(setup.engine)
        terminal.set_trading_state("halted", "user")
        terminal.set_risk("take_profit_pct", "0.5", "user")
        at(setup, 9, 40)
        at(setup, 9, 50)
        [exit_] = [o for o in terminal.orders() if o.signal_id == "take_profit"]
        assert exit_.status is OrderStatus.DENIED and "halted" in exit_.status_msg
        assert any("exit sell denied" in a for a in alerts(setup))
        assert {p.code: p.total for p in terminal.positions()}[HELD] == 5000
    finally:
        setup.close()


def test_drawdown_alert_is_raised_once(folder: Path) -> None:
    setup = make_setup(folder, drawdown_alert_pct=D("0.0001"), to=None)
    try:
        for minute in range(31, 60):
            at(setup, 9, minute)
        for minute in range(0, 60, 5):
            at(setup, 10, minute)
        found = [a for a in alerts(setup) if "drawdown" in a]
        assert len(found) == 1
    finally:
        setup.close()


# ------------------------------------------------------------------ run-time settings and the audit
def test_run_time_changes_are_validated_applied_and_audited_append_only(folder: Path) -> None:
    setup = make_setup(folder)
    try:
        terminal = Terminal(setup.engine)
        assert terminal.risk_settings()["max_order_qty"] == "0"
        assert terminal.set_risk("max_order_qty", "300", "user") == ("0", "300")
        assert terminal.set_risk("blacklist", "600036.SH,600000.SH", "schedule") == (
            "",
            "600000.SH,600036.SH",
        )
        assert terminal.set_risk("max_orders_per_second", 300, "cli") == ("50", "300")
        for key, value in (("max_orders_per_second", 301), ("max_orders_per_day", 20001), ("nope", 1)):
            with pytest.raises(RiskSettingError):
                terminal.set_risk(key, value, "user")
        with pytest.raises(RiskSettingError, match="who"):
            terminal.set_risk("max_order_qty", "200", "someone")
        assert terminal.risk_settings()["max_order_qty"] == "300"  # refusals changed nothing

        [cid] = terminal.submit([NewOrder(HELD, Side.SELL, 1000, last(setup, HELD) - D("0.05"))])
        assert terminal.order(cid).qty == 300  # in force at once
        [denied] = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 100, last(setup))])
        assert "blacklist" in terminal.order(denied).status_msg

        audit = terminal.risk_audit()
        assert [(who, key, old, new) for _, who, key, old, new in audit] == [
            ("user", "max_order_qty", "0", "300"),
            ("schedule", "blacklist", "", "600000.SH,600036.SH"),
            ("cli", "max_orders_per_second", "50", "300"),
        ]
        assert all(ts.tzinfo is not None for ts, *_ in audit)
        with sqlite3.connect(setup.db_path) as conn:
            for sql in ("UPDATE risk_audit SET new_value = '1'", "DELETE FROM risk_audit"):
                with pytest.raises(sqlite3.DatabaseError):
                    conn.execute(sql)
    finally:
        setup.close()
    setup = make_setup(folder, to=time(10, 5))  # a restart keeps the run-time changes
    try:
        terminal = Terminal(setup.engine)
        settings_ = terminal.risk_settings()
        assert (settings_["max_order_qty"], settings_["blacklist"]) == ("300", "600000.SH,600036.SH")
        assert len(terminal.risk_audit()) == 3
    finally:
        setup.close()


def test_the_order_rate_ceiling_counts_cancels_through_the_engine(folder: Path) -> None:
    setup = make_setup(folder, max_orders_per_second=3)
    try:
        terminal = Terminal(setup.engine)
        price = last(setup) - D("0.30")
        first = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 100, price) for _ in range(2)])
        for cid in first:
            terminal.cancel(cid)
        settle(setup)
        # 2 orders + 2 cancels within the same simulated second: the next order is refused
        [refused] = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 100, price)])
        assert "per second" in terminal.order(refused).status_msg
        later(setup, 1)
        [ok] = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 100, price)])
        assert terminal.order(ok).status is not OrderStatus.DENIED
    finally:
        setup.close()


# ------------------------------------------------------------------ each check through the engine
@pytest.mark.parametrize(
    ("limits", "denied", "allowed", "word"),
    [
        # (settings, a request the gate refuses, one it lets through), prices relative to the last
        ({"whitelist": (HELD,)}, (BUY_CODE, Side.BUY, 100, "0"), (HELD, Side.BUY, 100, "0"), "whitelist"),
        (
            {"blocked_boards": ("sh_main",)},
            (BUY_CODE, Side.BUY, 100, "0"),
            (HELD, Side.BUY, 100, "0"),
            "board",
        ),
        (
            {"max_price_deviation_pct": D("0.02")},
            (BUY_CODE, Side.BUY, 100, "-0.50"),
            (BUY_CODE, Side.BUY, 100, "-0.10"),
            "too far",
        ),
        (
            {"price_cage": True},
            (BUY_CODE, Side.BUY, 100, "+0.40"),
            (BUY_CODE, Side.BUY, 100, "+0.10"),
            "cage",
        ),
        (
            {"max_new_buys_per_day": 1},
            (HELD, Side.BUY, 100, "0"),
            (BUY_CODE, Side.BUY, 100, "0"),
            "codes bought",
        ),
        (
            {"duplicate_window_s": D(5)},
            (BUY_CODE, Side.BUY, 100, "-0.30"),
            (BUY_CODE, Side.BUY, 200, "-0.30"),
            "same order",
        ),
    ],
)
def test_each_check_through_the_engine(
    folder: Path, limits: dict, denied: tuple, allowed: tuple, word: str
) -> None:
    setup = make_setup(folder, **limits)
    try:
        terminal = Terminal(setup.engine)

        def request(code, side, qty, delta):
            return NewOrder(code, side, qty, last(setup, code) + D(delta))

        if word == "codes bought":  # a code bought today first
            [first] = terminal.submit([request(*allowed)])
            assert terminal.order(first).status is not OrderStatus.DENIED
        if word == "same order":  # the same order a moment before
            [first] = terminal.submit([request(*denied)])
            assert terminal.order(first).status is not OrderStatus.DENIED
        [bad, good] = terminal.submit([request(*denied), request(*allowed)])
        settle(setup)
        assert terminal.order(bad).status is OrderStatus.DENIED
        assert word in terminal.order(bad).status_msg and "风控" in terminal.order(bad).status_msg
        assert terminal.order(good).status is not OrderStatus.DENIED, terminal.order(good).status_msg
        assert any(bad in a for a in alerts(setup))
    finally:
        setup.close()


def test_daily_turnover_cap_resizes_through_the_engine(folder: Path) -> None:
    setup = make_setup(folder, max_daily_turnover=D("15000"))
    try:
        terminal = Terminal(setup.engine)
        price = last(setup) - D("0.30")
        [first, second, third] = terminal.submit(
            [NewOrder(BUY_CODE, Side.BUY, 1000, price) for _ in range(3)]
        )
        assert terminal.order(first).qty == 1000
        cut = terminal.order(second)
        assert cut.qty == int(D("15000") / price - 1000) // 100 * 100 and "daily turnover" in cut.status_msg
        assert terminal.order(third).status is OrderStatus.DENIED
    finally:
        setup.close()


# ------------------------------------------------------------------ a failed write
def fail_next_commit(setup: SimSetup) -> None:
    """The next commit that carries a risk_audit row fails once (disk full), as
    tests/integration/test_commit_failures.py makes commits fail."""

    def arm(e) -> None:
        real = e.store.commit

        def failing() -> None:
            if not e.store._risk_audit:  # not the batch of the change
                return real()
            e.store.commit = real
            raise OSError(28, "No space left on device (injected)")

        e.store.commit = failing

    setup.engine.post(Call(arm))


def test_a_change_whose_commit_fails_is_undone_and_said(folder: Path) -> None:
    setup = make_setup(folder)
    try:
        terminal = Terminal(setup.engine)
        fail_next_commit(setup)
        with pytest.raises(RiskSettingError, match="not saved"):
            terminal.set_risk("max_order_qty", "300", "user")
        assert terminal.risk_settings()["max_order_qty"] == "0"  # memory follows the file
        assert terminal.risk_audit() == []
        assert terminal.set_risk("max_order_qty", "300", "user") == ("0", "300")  # and works again
        fail_next_commit(setup)
        price = last(setup) - D("0.30")
        [working] = terminal.submit([NewOrder(BUY_CODE, Side.BUY, 100, price)])
        settle(setup)
        assert terminal.kill_switch("user") == 1  # the first try is lost with its batch, the second holds
        settle(setup)
        assert terminal.order(working).status is OrderStatus.CANCELLED
        assert terminal.trading_state() == "halted"
        assert [row[2] for row in terminal.risk_audit()] == ["max_order_qty", "trading_state"]
    finally:
        setup.close()
