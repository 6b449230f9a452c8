"""The bridge's interest set: of a full-market burst only the quotes the window shows cross to the GUI
thread (the watchlist, the holdings, the plan's and the working orders' codes, the charted one); the
engine keeps every quote; a code added to the watchlist gets its last quote at once and its quotes
from then on. A real engine on the simulated broker, the real main window with every panel."""

from __future__ import annotations

import threading
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.core.messages import QuotesArrived
from app.domain.market import Quote
from tests.helpers.engine_day import settle
from tests.helpers.window_day import CODES, WAIT_MS, WindowSession, window_session

pytestmark = pytest.mark.gui
MARKET = 5500


@pytest.fixture
def session(tmp_path: Path, qtbot) -> WindowSession:  # type: ignore[no-untyped-def]
    s = window_session(tmp_path, qtbot, market=True)
    yield s
    s.close()


def _market(session: WindowSession, n: int, price: str) -> list[Quote]:
    """`n` quotes: the day's instruments and synthetic codes 300000.SZ, 300001.SZ, ... at `price`."""
    ts = session.setup.clock.now()
    p = D(price)
    codes = [s.code for s in CODES] + [f"{300000 + i:06d}.SZ" for i in range(n - len(CODES))]
    return [Quote(code, ts, p, p, p, p, D("10.00"), 100, p * 100) for code in codes]


def _burst(session: WindowSession, quotes: list[Quote]) -> None:
    """Post the quotes to the engine from another thread (as the feed does), then catch up."""
    poster = threading.Thread(target=lambda: session.setup.engine.post(QuotesArrived(tuple(quotes))))
    poster.start()
    poster.join()
    settle(session.setup)
    session.catch_up()


def _interest_ready(session: WindowSession, qtbot) -> frozenset[str]:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(
        lambda: session.bridge.interest == frozenset(session.window.interest_codes()), timeout=WAIT_MS
    )
    interest = session.bridge.interest
    assert interest is not None
    return interest


def test_a_full_market_burst_reaches_the_gui_as_only_the_interest_set(session: WindowSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    interest = _interest_ready(session, qtbot)
    watchlist = set(session.panel("quotes").watchlist())
    assert {s.code for s in CODES} <= watchlist <= interest  # the day's instruments by default
    assert {"000001.SZ", "510300.SH"} <= interest  # the holdings
    arrived: list[str] = []
    session.read_model.quotes_updated.connect(lambda quotes: arrived.extend(q.code for q in quotes))
    crossed, dropped = session.bridge.quotes_crossed, session.bridge.quotes_dropped

    _burst(session, _market(session, MARKET, "10.50"))

    assert arrived and set(arrived) <= interest
    assert set(arrived) == interest & {q.code for q in _market(session, MARKET, "1")}
    assert session.bridge.quotes_dropped - dropped == MARKET - len(set(arrived))
    assert session.bridge.quotes_crossed - crossed == len(set(arrived))
    assert "300042.SZ" not in session.read_model.quotes
    # the engine kept every quote: the Terminal still reads any
    assert session.terminal.quotes(["300042.SZ"])["300042.SZ"].last == D("10.50")
    # the status bar still knows quotes are flowing (the newest time crosses even when dropped)
    assert session.read_model.status.quotes_ts == session.setup.clock.now()
    quotes_panel = session.panel("quotes")
    quotes_panel.flush()
    assert quotes_panel.model.quote("600000.SH").last == D("10.50")


def test_a_code_added_to_the_watchlist_gets_its_last_quote_at_once_then_every_quote(
    session: WindowSession, qtbot
) -> None:  # type: ignore[no-untyped-def]
    _interest_ready(session, qtbot)
    _burst(session, _market(session, MARKET, "10.50"))
    code = "300042.SZ"
    assert code not in session.read_model.quotes
    quotes_panel = session.panel("quotes")

    assert quotes_panel.add_instrument(code)

    interest = _interest_ready(session, qtbot)
    assert code in interest
    # its last quote, read off the GUI thread (Terminal.quotes), without a new burst
    qtbot.waitUntil(lambda: code in session.read_model.quotes, timeout=WAIT_MS)
    assert session.read_model.quotes[code].last == D("10.50")
    quotes_panel.flush()
    assert quotes_panel.model.quote(code).last == D("10.50")
    # and its quotes from then on; a code still outside stays outside
    arrived: list[str] = []
    session.read_model.quotes_updated.connect(lambda quotes: arrived.extend(q.code for q in quotes))
    _burst(session, _market(session, MARKET, "10.70"))
    assert session.read_model.quotes[code].last == D("10.70")
    assert code in arrived and "300043.SZ" not in arrived and set(arrived) <= interest
    quotes_panel.flush()
    assert quotes_panel.model.quote(code).last == D("10.70")


def test_a_quote_read_for_a_new_code_never_overwrites_a_newer_one_delivered_meanwhile(
    session: WindowSession, qtbot
) -> None:  # type: ignore[no-untyped-def]
    interest = _interest_ready(session, qtbot)
    code = "600000.SH"
    assert code in interest
    _burst(session, _market(session, 10, "10.50"))
    newer = session.read_model.quotes[code]
    older = replace(newer, ts=newer.ts.replace(hour=9, minute=0), last=D("9.00"))
    assert older.ts < newer.ts
    session.bridge._on_quotes_read({code: older})  # a read that raced with a newer delivered quote
    assert session.read_model.quotes[code].last == D("10.50")


def test_codes_leaving_the_set_stop_crossing_and_dropping_the_set_lets_everything_through(
    session: WindowSession, qtbot
) -> None:  # type: ignore[no-untyped-def]
    _interest_ready(session, qtbot)
    quotes_panel = session.panel("quotes")
    assert quotes_panel.add_instrument("300007.SZ")
    _interest_ready(session, qtbot)
    assert quotes_panel.remove_instrument("300007.SZ")
    interest = _interest_ready(session, qtbot)
    assert "300007.SZ" not in interest
    before = session.read_model.quotes.get("300007.SZ")
    _burst(session, _market(session, 20, "10.90"))
    assert session.read_model.quotes.get("300007.SZ") == before
    session.bridge.clear_interest()
    _burst(session, _market(session, 20, "11.00"))
    assert session.read_model.quotes["300007.SZ"].last == D("11.00")


def test_the_charts_are_built_after_the_first_paint_and_catch_up(session: WindowSession, qtbot) -> None:  # type: ignore[no-untyped-def]
    from app.ui.charts import ChartPanel

    window = session.window
    qtbot.waitUntil(lambda: isinstance(window.panels["charts"], ChartPanel), timeout=WAIT_MS)
    charts, quotes = window.panels["charts"], session.panel("quotes")
    selected = quotes.selected()
    # the selected instrument, chosen before the charts existed
    assert selected and charts.intraday.code == selected
    assert selected in session.bridge.interest
    other = next(c for c in quotes.watchlist() if c != selected)
    quotes.select(other)
    qtbot.waitUntil(lambda: charts.intraday.code == other and not charts.loading, timeout=WAIT_MS)
    assert window.docks["charts"].widget().isAncestorOf(charts)


def test_opening_the_window_module_does_not_import_the_charts_library() -> None:
    import subprocess
    import sys

    code = "import sys, app.ui.main_window; print(sorted(m for m in ('pyqtgraph', 'pandas') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]"
