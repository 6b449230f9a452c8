"""The window on the live setup (bootstrap.build_live_window_session): xtquant's real xttrader against
the xtpythonclient stand-in (tests/helpers/qmt.py), the real arming guard, the window with its
LiveControls (app/ui/live.py) as `python -m app` builds it in live mode.

    w = live_window(tmp_path, qtbot)      # the window open on the account, observe-only
    w.at(9, 31)                           # quotes of that moment to the stand-in's exchange and the engine
    w.close()
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from PySide6.QtCore import QThreadPool

from app.bootstrap import LiveWindowSession, build_live_window_session, fee_schedule
from app.core.clock import SimClock
from app.core.planning.model import StrategySettings
from app.domain.clock import CN_TZ
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine
from app.feeds import InstrumentSpec
from app.feeds.synthetic import SyntheticFeed
from app.ui.bridge import EngineBridge
from app.ui.live import ArmDialog, LiveControls
from app.ui.main_window import MainWindow
from app.ui.read_model import ReadModel
from tests.helpers.qmt import (
    ACCOUNT,
    DAY,
    QmtDay,
    QmtVenue,
    live_settings,
    qmt_at,
    secrets_with_account,
    settle_qmt,
)
from tests.standins import xtpythonclient as standin

CODES = [
    InstrumentSpec("600000.SH", name="浦发银行", prev_close=D("10.00")),
    InstrumentSpec("000001.SZ", name="平安银行", prev_close=D("11.37")),
]
POSITIONS = (("000001.SZ", 5000, D("11.00")),)
STRATEGY = StrategySettings("s1", D("1000000"), name="示例策略", policy="twap", price_offset=D("0.01"))
WAIT_MS = 30000


def plan_batch(*lines: tuple[str, str, Side, int]) -> SignalBatch:
    return SignalBatch(
        "s1",
        DAY,
        tuple(SignalLine(lid, "s1", DAY, code, "", side, qty, None, OPEN) for lid, code, side, qty in lines),
    )


@dataclass
class LiveWindow:
    day: QmtDay
    session: LiveWindowSession
    read_model: ReadModel
    bridge: EngineBridge
    window: MainWindow
    controls: LiveControls
    qtbot: Any

    @property
    def terminal(self) -> Any:
        return self.session.terminal

    @property
    def exchange(self) -> standin.Exchange:
        return self.day.exchange

    def at(self, hh: int, mm: int = 0) -> None:
        qmt_at(self.day, hh, mm)
        self.catch_up()

    def catch_up(self) -> None:
        """Every command asked is done and every event published so far is in the read model."""
        self.bridge.wait_commands(WAIT_MS)
        settle_qmt(self.day)
        mark = self.bridge._mark()
        self.qtbot.waitUntil(lambda: self.bridge.applied >= mark, timeout=WAIT_MS)

    def close(self) -> None:
        self.bridge.wait_commands(WAIT_MS)
        self.window.close()
        QThreadPool.globalInstance().waitForDone(WAIT_MS)  # no read of the gateway left running
        try:
            self.session.close()  # as app/gui.py finishes: the day's jobs, then the setup
        finally:
            self.day.exchange.close()


def live_window(
    folder: Path,
    qtbot: Any,
    *,
    enabled: bool = True,
    start: time = time(9, 20),
    signals: Path | None = None,
    engine_timers: bool = True,
    xtdata: Any = None,
    **env: str,
) -> LiveWindow:
    """The window open on the live session, its day's jobs started as `python -m app` starts them
    (`session.start()` once the window follows the session). `engine_timers` (the default): the jobs
    as engine timers, fired as the test moves the SimClock (`w.at`); False: on APScheduler, timed
    from the SimClock's now on the wall clock, as the live clock runs them. `xtdata` (xtdata's stand-in,
    installed: tests/helpers/qmt_live_day.py xtdata_installed): no quote seam, build_live_setup wires
    xtdata as in production, the day's instruments known to it."""
    standin.install()
    userdata = folder / "userdata_mini"
    settings = live_settings(
        folder, userdata, qmt__live_trading_enabled="true" if enabled else "false", **env
    )
    clock = SimClock(datetime.combine(DAY, start, CN_TZ))
    broker = {"fees": fee_schedule(settings), "initial_cash": D("1000000"), "seed": 5}
    exchange = standin.configure(userdata, clock, account_id=ACCOUNT, broker_kwargs=broker)
    for code, qty, cost in POSITIONS:
        exchange.broker.set_position(code, qty, cost)
    feed = SyntheticFeed(list(CODES), seed=5, levels=settings.sim.quote_levels)
    infos = feed.instruments(DAY)
    exchange.set_instruments(infos)
    exchange.begin_day(DAY)
    if xtdata is not None:
        for info in infos:
            xtdata.add_instrument(info.code, float(info.prev_close), name=info.name, tick=float(info.tick))
    try:
        session = build_live_window_session(
            settings, clock=clock, secrets=secrets_with_account(), data_dir=folder,
            reconnect_delays=(0.01, 0.05, 0.2), query_interval=None, instruments=infos, signals=signals,
            quotes=feed if xtdata is None else None,
            engine_timers=engine_timers,
        )  # fmt: skip
    except BaseException:
        exchange.close()
        raise
    day = QmtDay(session.setup, exchange, QmtVenue(exchange, session.setup), feed, clock, settings, userdata)
    try:
        settle_qmt(day)
        read_model = ReadModel()
        bridge = EngineBridge(session.terminal)
        window = MainWindow(read_model, bridge, layout_file=folder / "window.ini", mode="实盘", schedule=[])
        window.session_attached(lambda: session.schedule)  # as app/gui.py attaches a built session
        qtbot.addWidget(window)
        window.add_core_panels()
        controls = LiveControls(window, session)
        session.terminal.subscribe(bridge.listener)
        bridge.refresh()
        session.start()
        window.resize(1440, 900)
        window.show()
        qtbot.waitUntil(lambda: read_model.loaded and controls.status is not None, timeout=WAIT_MS)
        return LiveWindow(day, session, read_model, bridge, window, controls, qtbot)
    except BaseException:
        try:
            session.close()
        finally:
            exchange.close()
        raise


def open_arm_dialog(w: LiveWindow) -> ArmDialog:
    w.controls.button.click()
    w.qtbot.waitUntil(
        lambda: w.controls.dialog is not None and w.controls.dialog.isVisible(), timeout=WAIT_MS
    )
    dialog = w.controls.dialog
    assert dialog is not None
    w.controls.arm_action.trigger()  # asked again meanwhile (the menu): still the one dialog
    assert w.controls.dialog is dialog
    return dialog


def arm_through_dialog(w: LiveWindow) -> None:
    dialog = open_arm_dialog(w)
    dialog.entry.setText(ACCOUNT[-4:])
    dialog.arm_button.click()
    w.qtbot.waitUntil(lambda: w.controls.armed, timeout=WAIT_MS)
    w.catch_up()
