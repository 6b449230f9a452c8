"""The window on a real engine on the simulated broker, for the window's tests; and screenshots.

`window_session(folder, qtbot)` opens the day of tests/helpers/engine_day.py (Tiller's SQLite file,
the simulated broker's, the real execution policies), follows strategy "s1" with TWAP lines (a buy of
600000.SH and a sell of 000001.SZ, so children go out slice by slice through the day), and builds the
window (read model, bridge, main window with the core panels) subscribed to the engine. The test
moves the day with `session.at(hh, mm)` and waits for the window with `session.wait_loaded()` /
`qtbot.waitUntil`.

`save_screenshot(widget, name, folder)` saves `widget.grab()` as <folder>/<name>.png and, when env
TILLER_SCREENSHOTS names a folder, there too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import time
from decimal import Decimal as D
from pathlib import Path
from typing import Any

from app.bootstrap import SimSetup
from app.core.planning.model import StrategySettings
from app.core.terminal import Terminal
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine
from app.feeds import InstrumentSpec
from app.feeds.history import SyntheticHistory
from app.ui.bridge import EngineBridge
from app.ui.main_window import MainWindow
from app.ui.read_model import ReadModel
from tests.helpers.engine_day import DAY, at, make_setup, open_day, settle

CODES = [
    InstrumentSpec("600000.SH", name="浦发银行", prev_close=D("10.00")),
    InstrumentSpec("000001.SZ", name="平安银行", prev_close=D("11.37")),
    InstrumentSpec("510300.SH", name="沪深300ETF", prev_close=D("3.912")),
]
POSITIONS = (("000001.SZ", 5000, D("11.00")), ("510300.SH", 20000, D("3.800")))
STRATEGY = StrategySettings("s1", D("1000000"), name="示例策略", policy="twap", price_offset=D("0.01"))
WAIT_MS = 30000


def plan_lines() -> tuple[SignalLine, ...]:
    return (
        SignalLine("b1", "s1", DAY, "600000.SH", "浦发银行", Side.BUY, 3000, None, OPEN),
        SignalLine("s1", "s1", DAY, "000001.SZ", "平安银行", Side.SELL, 3000, None, OPEN),
        SignalLine("b2", "s1", DAY, "510300.SH", "沪深300ETF", Side.BUY, 1000, None, OPEN),
    )


@dataclass
class WindowSession:
    setup: SimSetup
    terminal: Terminal
    read_model: ReadModel
    bridge: EngineBridge
    window: MainWindow
    qtbot: Any

    def at(self, hh: int, mm: int = 0) -> None:
        """Move the day to hh:mm (quotes, timers, fills), then let the window catch up."""
        at(self.setup, hh, mm)
        self.catch_up()

    def catch_up(self) -> None:
        """Every event the engine published so far is in the read model."""
        self.bridge.wait_commands(WAIT_MS)
        settle(self.setup)
        mark = self.bridge._mark()
        self.qtbot.waitUntil(lambda: self.bridge.applied >= mark, timeout=WAIT_MS)

    def wait_loaded(self) -> None:
        self.qtbot.waitUntil(lambda: self.read_model.loaded, timeout=WAIT_MS)

    def panel(self, name: str) -> Any:
        return self.window.panel(name)

    def children(self, line_id: str, side: Side) -> list[Any]:
        return [o for o in self.terminal.orders() if o.signal_id == line_id and o.side is side]

    def close(self) -> None:
        self.bridge.wait_commands(WAIT_MS)
        self.window.close()
        self.setup.close()


def window_session(
    folder: Path, qtbot: Any, *, plan: bool = True, approve: bool = False, market: bool = False
) -> WindowSession:
    """`market`: also the quotes, charts, strategies and risk panels (MainWindow.add_market_panels),
    with the charts' bar history the same walk as the day's feed."""
    setup = make_setup(folder, 5, codes=CODES, positions=POSITIONS)
    try:
        open_day(setup)
        history = SyntheticHistory(CODES, seed=5, calendar=setup.engine.calendar) if market else None
        terminal = Terminal(setup.engine, history=history)
        at(setup, 9, 20)
        if plan:
            terminal.set_strategy(STRATEGY)
            terminal.plan_batches([SignalBatch("s1", DAY, plan_lines())])
            if approve:
                terminal.approve_plan()
        read_model = ReadModel()
        bridge = EngineBridge(terminal)
        window = MainWindow(
            read_model,
            bridge,
            layout_file=folder / "window.ini",
            schedule=[(setup.clock.now().replace(hour=15, minute=30), "日终对账")],
        )
        qtbot.addWidget(window)
        window.add_core_panels()
        if market:
            window.add_market_panels(terminal)
        terminal.subscribe(bridge.listener)
        bridge.refresh()
        window.resize(1440, 900)
        window.show()
        session = WindowSession(setup, terminal, read_model, bridge, window, qtbot)
        session.wait_loaded()
        return session
    except BaseException:
        setup.close()
        raise


def save_screenshot(widget: Any, name: str, folder: Path) -> Path:
    """Grab `widget` as drawn and save it as <folder>/<name>.png (and under TILLER_SCREENSHOTS)."""
    image = widget.grab()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert image.save(str(path)), f"could not save the screenshot {path}"
    extra = os.environ.get("TILLER_SCREENSHOTS")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        assert image.save(str(Path(extra) / f"{name}.png"))
    return path


MIDDAY = time(10, 30)
