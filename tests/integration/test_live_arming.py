"""Live trading armed on purpose (issue 9 item 5): a live setup starts observe-only; orders need
qmt.live_trading_enabled AND arming for the day; cancels always go; every arm, disarm, expiry and order
sent to the real account is in the append-only live_audit table.

The session is the real engine, real SQLite files and the real simulated broker standing in for the
real account, with the live setup's guard (bootstrap.make_live_guard) in its risk gate: exactly what
the live setup adds to the gate."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, time
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.bootstrap import install_live_guard
from app.config import load_settings
from app.core.messages import LiveStateChanged
from app.core.oms import NewOrder
from app.core.risk import ArmingError, LiveGuard, LiveState
from app.core.risk.arming import Arming
from app.core.terminal import Terminal
from app.domain.clock import CN_TZ
from app.domain.orders import OrderStatus
from app.domain.side import Side
from tests.helpers.engine_day import DAY, at, make_setup, open_day, settle


def live_settings(folder: Path, enabled: bool = True):
    return load_settings(
        env={
            "TILLER_DATA_DIR": str(folder),
            "TILLER__QMT__LIVE_TRADING_ENABLED": "true" if enabled else "false",
        },
        path=folder / "none.toml",
    )


def live_session(folder: Path, *, enabled: bool = True, start: time = time(9, 0)):
    settings = live_settings(folder, enabled)
    setup = make_setup(folder, settings=settings, start=start)
    install_live_guard(settings)(setup.engine)  # what build_live_setup's live_guard seam does
    events: list = []
    setup.engine.subscribe(lambda e: events.append(e) if isinstance(e, LiveStateChanged) else None)
    open_day(setup)
    return setup, Terminal(setup.engine), events


BUY = NewOrder("600000.SH", Side.BUY, 100, D("10.00"), strategy_id="s1", signal_id="line-1")


def broker_orders(setup) -> list:
    return setup.broker.query_orders()


def test_a_live_setup_starts_observe_only_and_sends_nothing(tmp_path: Path) -> None:
    setup, terminal, _ = live_session(tmp_path)
    try:
        status = terminal.live_status()
        assert status.state is LiveState.OBSERVE_ONLY and status.enabled
        at(setup, 9, 31)
        (cid,) = terminal.submit([BUY])
        settle(setup)
        order = terminal.order(cid)
        assert order.status is OrderStatus.DENIED
        assert "实盘未布防" in order.status_msg and "not armed" in order.status_msg
        assert broker_orders(setup) == []
        assert terminal.live_audit() == []  # nothing was sent
        assert setup.engine.call(lambda e: e.oms.cash.frozen) == 0  # nothing held
    finally:
        setup.close()


def test_armed_orders_go_and_are_audited_then_disarmed_only_cancels_go(tmp_path: Path) -> None:
    setup, terminal, events = live_session(tmp_path)
    try:
        at(setup, 9, 31)
        status = terminal.arm(by="cli")
        assert status.state is LiveState.ARMED and status.armed_by == "cli"
        assert status.armed_until == datetime.combine(DAY, time(15, 0), CN_TZ)
        low = NewOrder("600000.SH", Side.BUY, 100, D("9.50"), strategy_id="s1", signal_id="line-1")
        (cid,) = terminal.submit([low])  # below the market: stays working
        settle(setup)
        assert terminal.order(cid).status is OrderStatus.ACCEPTED
        assert [o.client_order_id for o in broker_orders(setup)] == [cid]
        terminal.disarm(by="user")
        (refused,) = terminal.submit([BUY])
        terminal.cancel(cid)  # a cancel is never refused
        settle(setup)
        assert terminal.order(refused).status is OrderStatus.DENIED
        assert terminal.order(cid).status is OrderStatus.CANCELLED
        audit = terminal.live_audit()
        assert [(who, action) for _, who, action, _ in audit] == [
            ("cli", "arm"),
            ("s1", "order"),
            ("user", "disarm"),
        ]
        sent = json.loads(audit[1][3])
        assert sent | {"client_order_id": cid} == {
            "client_order_id": cid, "code": "600000.SH", "side": "buy", "qty": 100, "price": "9.50",
            "price_type": "limit", "strategy_id": "s1", "signal_id": "line-1",
        }  # fmt: skip
        assert all(ts.tzinfo is not None for ts, *_ in audit)
        assert [(e.state, e.by, e.reason) for e in events] == [
            ("armed", "cli", "armed"), ("observe_only", "user", "disarmed"),
        ]  # fmt: skip
    finally:
        setup.close()
    with sqlite3.connect(setup.db_path) as conn:  # on disk, append-only
        assert [r[0] for r in conn.execute("SELECT action FROM live_audit ORDER BY id")] == [
            "arm",
            "order",
            "disarm",
        ]
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM live_audit")


def test_not_enabled_in_the_settings_it_cannot_be_armed(tmp_path: Path) -> None:
    setup, terminal, events = live_session(tmp_path, enabled=False)
    try:
        with pytest.raises(ArmingError, match="live trading is not enabled"):
            terminal.arm(by="cli")
        status = terminal.live_status()
        assert status.state is LiveState.OBSERVE_ONLY and not status.enabled
        assert "qmt.live_trading_enabled" in status.describe()
        at(setup, 9, 31)
        (cid,) = terminal.submit([BUY])
        assert "not enabled" in terminal.order(cid).status_msg
        assert terminal.live_audit() == [] and events == []
    finally:
        setup.close()


def test_the_arming_expires_at_the_close(tmp_path: Path) -> None:
    setup, terminal, events = live_session(tmp_path)
    try:
        terminal.arm(by="cli")
        at(setup, 14, 59)
        assert terminal.live_status().state is LiveState.ARMED
        at(setup, 15, 0)
        assert terminal.live_status().state is LiveState.OBSERVE_ONLY
        assert [(e.state, e.by, e.reason) for e in events][-1] == ("observe_only", "clock", "expired")
        assert [a[2] for a in terminal.live_audit()] == ["arm", "expire"]
        with pytest.raises(ArmingError, match="is over"):
            terminal.arm(by="cli")
    finally:
        setup.close()


def test_a_restart_the_same_day_is_still_armed_after_the_close_it_is_not(tmp_path: Path) -> None:
    setup, terminal, _ = live_session(tmp_path)
    terminal.arm(by="cli")
    setup.close()
    setup, terminal, _ = live_session(tmp_path, start=time(10, 0))
    try:
        assert terminal.live_status().state is LiveState.ARMED
        assert terminal.live_status().armed_by == "cli"
    finally:
        setup.close()
    setup, terminal, _ = live_session(tmp_path, start=time(15, 30))
    try:
        assert terminal.live_status().state is LiveState.OBSERVE_ONLY
    finally:
        setup.close()
    # the settings turned off meanwhile: the stored arming no longer lets orders go
    setup, terminal, _ = live_session(tmp_path, enabled=False, start=time(9, 0))
    try:
        setup.engine.call(lambda e: e.risk.live_guard.restore(Arming(DAY, "cli", e.clock.now(),
                                                                     datetime.combine(DAY, time(15), CN_TZ)).to_text(),
                                                               e.clock.now()))  # fmt: skip
        assert terminal.live_status().state is LiveState.OBSERVE_ONLY
    finally:
        setup.close()


def test_an_arming_whose_write_fails_is_not_armed(tmp_path: Path) -> None:
    setup, terminal, _ = live_session(tmp_path)
    try:

        def break_next_commit(e) -> None:
            real = e.store.commit

            def failing() -> None:
                if not e.store._live_audit:  # not yet the arming's batch
                    return real()
                e.store.commit = real
                raise sqlite3.OperationalError("disk I/O error")

            e.store.commit = failing

        setup.engine.call(break_next_commit)
        with pytest.raises(ArmingError, match="not saved"):
            terminal.arm(by="cli")
        assert terminal.live_status().state is LiveState.OBSERVE_ONLY
        assert terminal.live_audit() == []
        assert terminal.arm(by="cli").state is LiveState.ARMED  # the disk works again
    finally:
        setup.close()


def test_the_simulated_setup_is_never_affected(tmp_path: Path) -> None:
    setup = open_day(make_setup(tmp_path, settings=live_settings(tmp_path)))
    terminal = Terminal(setup.engine)
    try:
        assert terminal.live_status().state is LiveState.SIMULATED
        assert "simulated" in terminal.live_status().describe()
        with pytest.raises(ArmingError, match="nothing to arm"):
            terminal.arm(by="cli")
        at(setup, 9, 31)
        (cid,) = terminal.submit([BUY])
        settle(setup)
        assert terminal.order(cid).status is not OrderStatus.DENIED
        assert terminal.live_audit() == []
    finally:
        setup.close()


@pytest.mark.parametrize("who", ["", "   ", "a\nb", "x" * 65, 7])
def test_who_must_be_a_short_printable_name(who) -> None:
    guard = LiveGuard(enabled=True)
    with pytest.raises(ArmingError, match="printable"):
        guard.arm(who, datetime.combine(DAY, time(9), CN_TZ), DAY)
    assert guard.arming is None


def test_an_unreadable_stored_arming_is_not_armed() -> None:
    guard = LiveGuard(enabled=True)
    now = datetime.combine(DAY, time(9), CN_TZ)
    assert "unreadable" in guard.restore('{"day": "2026-11-23"}', now)
    assert "unreadable" in guard.restore("\ufeff{not json", now)
    assert guard.arming is None and guard.refusal(now) is not None
    assert guard.restore("", now) is None and guard.arming is None
