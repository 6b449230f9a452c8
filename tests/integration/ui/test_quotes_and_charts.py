"""The quotes panel and the charts, fed from a real engine on the simulated broker."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.ui.charts import MINUTES, ChartPanel, minute_index
from app.ui.display import DOWN, UP
from app.ui.panels.quotes import MAX_ROWS, QuotesPanel, QuoteTableModel
from tests.helpers.ui_day import UiSession, save_screenshot, ui_session


@pytest.fixture
def session(tmp_path: Path) -> Iterator[UiSession]:
    s = ui_session(tmp_path / "day")
    yield s
    s.close()


@pytest.fixture
def quotes_panel(qtbot, session: UiSession) -> QuotesPanel:  # type: ignore[no-untyped-def]
    panel = QuotesPanel(session.terminal)
    qtbot.addWidget(panel)
    panel.resize(980, 360)
    panel.set_instruments(session.terminal.instruments())
    panel.set_watchlist(["600000.SH", "000001.SZ", "600519.SH", "300750.SZ", "510300.SH"])
    panel.show()
    return panel


def test_watchlist_shows_the_engines_quotes_red_up_green_down_with_two_or_three_decimals(
    quotes_panel: QuotesPanel, session: UiSession, tmp_path: Path, qtbot, qtmodeltester
) -> None:  # type: ignore[no-untyped-def]
    # Arrange: the engine's last batch of the morning
    last = {q.code: q for q in session.quotes[-1]}
    # Act
    quotes_panel.apply_quotes(session.quotes[-1])
    qtbot.waitUntil(lambda: quotes_panel.model.quote("600000.SH") is not None)
    # Assert: codes, names, decimals (ETF 3), colours
    model = quotes_panel.model
    qtmodeltester.check(model)
    row = {model.code_at(r): r for r in range(model.rowCount())}
    assert model.index(row["600000.SH"], 1).data() == "浦发银行"
    assert model.index(row["600000.SH"], 2).data() == f"{last['600000.SH'].last:.2f}"
    assert model.index(row["510300.SH"], 2).data() == f"{last['510300.SH'].last:.3f}"
    for code, q in last.items():
        color = model.index(row[code], 2).data(Qt.ItemDataRole.ForegroundRole)
        if q.last > q.prev_close:
            assert color == UP
        elif q.last < q.prev_close:
            assert color == DOWN
    # the book of the selected instrument: five asks above five bids
    assert quotes_panel.selected() == "600000.SH"
    book = quotes_panel.book
    qtmodeltester.check(book)
    q = last["600000.SH"]
    assert book.index(4, 1).data() == f"{q.ask_prices[0]:.2f}"  # 卖一
    assert book.index(5, 1).data() == f"{q.bid_prices[0]:.2f}"  # 买一
    assert book.index(0, 0).data() == "卖五" and book.index(9, 0).data() == "买五"
    shot = save_screenshot(quotes_panel, "quotes_panel", tmp_path / "screenshots")
    assert shot.stat().st_size > 5000


def test_updates_emit_data_changed_for_changed_rows_only(qtbot, session: UiSession) -> None:  # type: ignore[no-untyped-def]
    model = QuoteTableModel()
    model.set_codes(["600000.SH", "000001.SZ", "600519.SH", "300750.SZ"])
    batch = session.quotes[-1]
    model.apply_quotes(batch)
    seen: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda a, b, *_: seen.append((a.row(), b.row())))
    # the same quotes again: nothing changed, nothing emitted
    assert model.apply_quotes(batch) == []
    assert seen == []
    # one instrument moves: only its row
    moved = next(q for q in batch if q.code == "600519.SH")
    model.apply_quotes([replace(moved, last=moved.last + D("0.01"), volume=moved.volume + 100)])
    assert seen == [(2, 2)]


def test_a_burst_is_coalesced_to_the_latest_quote_applied_once(
    quotes_panel: QuotesPanel, session: UiSession, qtbot
) -> None:  # type: ignore[no-untyped-def]
    applied: list[int] = []
    quotes_panel.model.dataChanged.connect(lambda a, b, *_: applied.append(a.row()))
    for batch in session.quotes[-10:]:  # ten batches in one burst, the full set of instruments each
        quotes_panel.apply_quotes(batch)
    assert applied == []  # nothing drawn before the frame
    qtbot.waitUntil(lambda: bool(applied))
    final = {q.code: q for q in session.quotes[-1]}
    assert quotes_panel.model.quote("600519.SH") == final["600519.SH"]
    assert len(applied) <= len(final)  # one emission per run of rows at most, not one per quote


def test_add_and_remove_by_code_or_name_and_refuse_what_is_not_a_code(
    quotes_panel: QuotesPanel, qtbot
) -> None:  # type: ignore[no-untyped-def]
    changes: list[list[str]] = []
    quotes_panel.watchlist_changed.connect(changes.append)
    assert quotes_panel.remove_instrument("600519.SH")
    assert "600519.SH" not in quotes_panel.watchlist()
    # typed as the completer offers it ("code name") or as a bare code in lower case
    quotes_panel.search.setText("600519.sh 贵州茅台")
    quotes_panel.add_button.click()
    assert quotes_panel.watchlist()[-1] == "600519.SH"
    assert quotes_panel.selected() == "600519.SH"
    assert not quotes_panel.add_instrument("600519")  # already there
    assert not quotes_panel.add_instrument("浦发 银行!")
    assert quotes_panel.message.isVisible() and "不是有效的证券代码" in quotes_panel.message.text()
    assert changes[-1] == quotes_panel.watchlist()
    # the completer finds an instrument by its name
    completions = quotes_panel._completions.stringList()
    assert "600519.SH 贵州茅台" in completions
    quotes_panel.search.setText("茅台")
    completer = quotes_panel.search.completer()
    completer.setCompletionPrefix("茅台")
    assert completer.currentCompletion() == "600519.SH 贵州茅台"


def test_the_watchlist_is_bounded(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = QuotesPanel()
    qtbot.addWidget(panel)
    panel.set_watchlist([f"{600000 + i:06d}.SH" for i in range(MAX_ROWS + 50)])
    assert len(panel.watchlist()) == MAX_ROWS
    assert not panel.add_instrument("000001.SZ")
    assert "自选股已满" in panel.message.text()


def test_minute_slots_of_the_trading_day() -> None:
    from datetime import time

    assert minute_index(time(9, 25)) == 0
    assert minute_index(time(9, 31)) == 1
    assert minute_index(time(11, 30)) == 120
    assert minute_index(time(13, 0)) == 120
    assert minute_index(time(13, 1)) == 121
    assert minute_index(time(15, 0)) == MINUTES - 1


def test_charts_show_the_day_so_far_the_daily_candles_and_keep_up_with_quotes(
    qtbot, session: UiSession, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    panel = ChartPanel(session.terminal)
    qtbot.addWidget(panel)
    panel.resize(900, 520)
    panel.show()
    # Act: choose an instrument; the bars load off the GUI thread
    panel.show_instrument("600000.SH", D("10.00"))
    qtbot.waitUntil(lambda: not panel.loading, timeout=10_000)
    # Assert: the 分时 line ends at the engine's last price, with its average and volumes
    last = next(q for q in session.quotes[-1] if q.code == "600000.SH")
    chart = panel.intraday
    i = minute_index(last.ts.time())
    assert chart.price[i] == pytest.approx(float(last.last))
    assert chart.avg[i] == pytest.approx(float(last.amount) / last.volume, rel=1e-4)
    assert np.nansum(chart.volume) == last.volume  # every share of the day is in a bar
    assert len(panel.candles.bars) == 120 and panel.candles.bars[-1].close == D("10.00")
    save_screenshot(panel, "chart_intraday", tmp_path / "screenshots")
    panel.tabs.setCurrentIndex(1)
    save_screenshot(panel, "chart_daily", tmp_path / "screenshots")
    # a later quote moves the current minute on
    moved = replace(last, ts=last.ts.replace(minute=last.ts.minute + 1), last=last.last + D("0.05"),
                    volume=last.volume + 5000, amount=last.amount + D("49700"))  # fmt: skip
    panel.apply_quotes([moved])
    assert chart.price[i + 1] == pytest.approx(float(moved.last))
    assert chart.volume[i + 1] == 5000


def test_equity_curve_and_drawdown_from_the_engines_account(
    qtbot, session: UiSession, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime, time

    from app.domain.clock import CN_TZ
    from tests.helpers.engine_day import DAY
    from tests.helpers.ui_day import give

    panel = ChartPanel(session.terminal)
    qtbot.addWidget(panel)
    panel.resize(900, 520)
    panel.show()
    points = []
    for ts, batch in session.setup.feed.batches(DAY, since=time(10, 1)):
        if ts.minute % 5 == 0:
            give(session, ts, batch)
            points.append((ts, session.terminal.account().total_asset))
        if ts.time() > time(11, 0):
            break
    session.terminal.approve_plan()
    panel.set_equity(points)
    panel.tabs.setCurrentIndex(2)
    values = np.array([float(v) for _, v in points])
    peak = np.maximum.accumulate(values)
    assert panel.equity.points == len(points)
    assert panel.equity.drawdown().min() == pytest.approx(((values - peak) / peak * 100).min())
    panel.append_equity(datetime.combine(DAY, time(11, 5), CN_TZ), points[-1][1] - D("5000"))
    assert panel.equity.drawdown()[-1] < 0
    save_screenshot(panel, "chart_equity", tmp_path / "screenshots")
