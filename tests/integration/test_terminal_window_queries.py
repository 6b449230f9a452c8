"""What the Terminal gives the window (app/core/snapshot.py): one consistent snapshot, today's trades,
the newest alerts, the last quote of each code, the connection, and today's P&L on the account."""

from __future__ import annotations

import threading
from decimal import Decimal as D
from pathlib import Path

from app.core.oms import NewOrder
from app.core.terminal import Terminal
from app.domain.side import Side
from tests.helpers.engine_day import at, make_setup, open_day, settle


def test_snapshot_trades_quotes_alerts_and_day_pnl_agree_with_the_books(tmp_path: Path) -> None:
    # Arrange: a buy and a sell that fill, a day moved to mid-morning
    setup = open_day(make_setup(tmp_path))
    try:
        terminal = Terminal(setup.engine)
        at(setup, 9, 31)
        ids = terminal.submit([NewOrder("600000.SH", Side.BUY, 1000, D("10.10")),
                               NewOrder("000001.SZ", Side.SELL, 1000, D("11.20"))])  # fmt: skip
        at(setup, 9, 32)
        at(setup, 10, 0)
        terminal.alert("warning", "test", "一条告警 (an alert)")
        settle(setup)
        threads: list[str] = []

        # Act
        snap = terminal.snapshot(mark=lambda: threads.append(threading.current_thread().name) or 7)
        trades = terminal.trades()
        quotes = terminal.quotes()

        # Assert: one moment, taken on the engine thread
        assert threads == ["tiller-engine"] and snap.mark == 7
        assert snap.connected and terminal.connected()
        assert snap.trading_state == "active" and snap.halted is None
        assert {o.client_order_id for o in snap.orders} >= set(ids)
        # trades: every fill once, with its client order id
        assert trades == snap.trades and len(trades) >= 2
        assert {t.client_order_id for t in trades} == set(ids)
        # quotes: the last of each code, at the engine's now
        assert set(quotes) == {"600000.SH", "000001.SZ"}
        assert all(q.ts == snap.ts for q in quotes.values())
        assert terminal.quotes(["600000.SH", "688981.SH"]).keys() == {"600000.SH"}
        # alerts: the newest, oldest first
        assert terminal.alerts()[-1].message == "一条告警 (an alert)"
        assert terminal.alerts(limit=1) == terminal.alerts()[-1:]
        # today's P&L: now less yesterday's close (the positions carried in at their previous close,
        # the cash before today's fills)
        account = snap.account
        prev = {i.code: i.prev_close for i in snap.instruments}
        bought = {"600000.SH": 1000, "000001.SZ": -1000}
        opening_cash = account.cash - sum(
            (t.amount - t.fees) if t.side is Side.SELL else -(t.amount + t.fees) for t in trades
        )
        opening = opening_cash + sum((p.total - bought.get(p.code, 0)) * prev[p.code] for p in snap.positions)
        assert account.day_pnl == account.total_asset - opening
        assert terminal.account().day_pnl == account.day_pnl
    finally:
        setup.close()
