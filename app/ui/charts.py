"""Charts (pyqtgraph): the selected instrument's intraday line (分时) with its average-price line and
volume bars, its daily candles (日K), and the account's equity curve with drawdown (资金曲线).

Decimals become floats here and only here (STYLE.md §5). Each plot item is made once and updated
with setData; incoming quotes are folded into preallocated float64 arrays and drawn at most
`FRAME_MS` apart (STYLE.md §6). Fed through plain methods: `IntradayChart.set_bars` /
`apply_quotes`, `CandleChart.set_bars`, `EquityChart.set_equity` / `append_equity`, and
`ChartPanel.show_instrument(code)`, which loads the bars through the Terminal off the GUI thread.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import datetime, time
from decimal import Decimal
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QPainter, QPicture
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

from app.core.bars import Bar
from app.domain.clock import CN_TZ
from app.domain.market import Quote
from app.ui.display import DOWN_HEX, UP_HEX, price_places
from app.ui.words import tr
from app.ui.workers import Background

FRAME_MS = 100  # redraw at most 10 times a second
MINUTES = 241  # 9:30 … 11:30 (121 points) and 13:01 … 15:00 (120)
AVG_COLOR = "#e6a700"  # 均价线, yellow as on 同花顺/通达信
LINE_COLOR = "#1f5fbf"
MAX_CANDLES = 1000
MAX_EQUITY_POINTS = 100_000

pg.setConfigOptions(antialias=False, background="w", foreground="#333333")


def minute_index(t: time) -> int:
    """The 分时 slot of a wall-clock time: 0 = 9:30 (the auction print at 9:25 joins it),
    120 = 11:30 (and 13:00), 240 = 15:00."""
    m = t.hour * 60 + t.minute
    if m <= 9 * 60 + 30:
        return 0
    if m <= 11 * 60 + 30:
        return m - (9 * 60 + 30)
    if m <= 13 * 60:
        return 120
    return min(MINUTES - 1, 120 + m - 13 * 60)


_TICKS = [(0, "09:30"), (60, "10:30"), (120, "11:30/13:00"), (180, "14:00"), (240, "15:00")]


class _Chart(QWidget):
    """A pyqtgraph layout with a one-line title above it (a QLabel: changing its text re-lays out
    nothing inside the plots)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget(self)
        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.view, 1)


class IntradayChart(_Chart):
    """分时: price line, average-price line, the previous close, volume bars (red up, green down)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = ""
        self.prev_close: float | None = None
        self.price = np.full(MINUTES, np.nan)
        self.avg = np.full(MINUTES, np.nan)
        self.volume = np.zeros(MINUTES)
        self._last_index = -1
        self._y_range: tuple[float, float] | None = None
        self._day_volume = 0  # cumulative shares at the latest quote
        self._base_volume = 0  # cumulative shares before the latest minute
        self._dirty = False
        self.price_plot = self.view.addPlot(row=0, col=0)
        self.volume_plot = self.view.addPlot(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.volume_plot.setXLink(self.price_plot)
        for plot in (self.price_plot, self.volume_plot):
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMouseEnabled(x=False, y=False)
            plot.hideButtons()
            plot.setXRange(-8, MINUTES + 7, padding=0)  # room for the 09:30 and 15:00 labels
            plot.getAxis("bottom").setTicks([_TICKS])
            plot.getAxis("left").setWidth(56)
        self.price_plot.getAxis("bottom").setStyle(showValues=False)
        self.price_line = self.price_plot.plot(pen=pg.mkPen(LINE_COLOR, width=1.5), connect="finite")
        self.avg_line = self.price_plot.plot(pen=pg.mkPen(AVG_COLOR, width=1.2), connect="finite")
        self.prev_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen("#999999", style=pg.QtCore.Qt.PenStyle.DashLine)
        )
        self.price_plot.addItem(self.prev_line)
        self.prev_line.hide()
        self.up_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=UP_HEX, pen=pg.mkPen(None))
        self.down_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=DOWN_HEX, pen=pg.mkPen(None))
        self.volume_plot.addItem(self.up_bars)
        self.volume_plot.addItem(self.down_bars)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.redraw)

    def clear_day(self, code: str, prev_close: Decimal | None) -> None:
        self.code = code
        self.prev_close = None if prev_close is None else float(prev_close)
        self.price[:] = np.nan
        self.avg[:] = np.nan
        self.volume[:] = 0
        self._last_index, self._day_volume, self._base_volume = -1, 0, 0
        self.redraw()

    def set_bars(self, code: str, prev_close: Decimal | None, bars: Sequence[Bar]) -> None:
        """Today's minute bars so far (replaces what was shown)."""
        self.clear_day(code, prev_close)
        total = 0
        for bar in bars:
            i = minute_index(bar.ts.astimezone(CN_TZ).time())
            total += bar.volume
            self.volume[i] += bar.volume
            self.price[i] = float(bar.close)
            if bar.avg_price is not None:
                self.avg[i] = float(bar.avg_price)
            if i >= self._last_index:
                if i > self._last_index:
                    self._base_volume = total - bar.volume
                self._last_index = i
        self._day_volume = total
        self.redraw()

    def apply_quotes(self, quotes: Iterable[Quote]) -> None:
        """Fold the shown instrument's quotes into the current minute; drawn within a frame."""
        code = self.code
        for q in quotes:
            if q.code != code or q.volume <= 0 or q.last <= 0:
                continue
            i = minute_index(q.ts.astimezone(CN_TZ).time())
            if i < self._last_index:
                continue  # late or out of order
            if i > self._last_index:
                self._base_volume = self._day_volume
                self._last_index = i
            self._day_volume = max(self._day_volume, q.volume)
            self.price[i] = float(q.last)
            self.volume[i] = self._day_volume - self._base_volume
            self.avg[i] = float(q.amount) / q.volume
            if self.prev_close is None and q.prev_close:
                self.prev_close = float(q.prev_close)
            self._dirty = True
        if self._dirty and not self._timer.isActive():
            self._timer.start()

    def redraw(self) -> None:
        self._dirty = False
        x = np.arange(MINUTES, dtype=float)
        self.price_line.setData(x, self.price)
        self.avg_line.setData(x, self.avg)
        if self.prev_close:
            self.prev_line.setValue(self.prev_close)
            self.prev_line.show()
            finite = self.price[np.isfinite(self.price)]
            step = self.prev_close * 0.005  # the range grows in steps of 0.5%: rarely redrawn axes
            widest = float(np.max(np.abs(finite - self.prev_close))) if len(finite) else 0.0
            spread = max(2, math.ceil(widest / step)) * step
            y_range = (self.prev_close - spread, self.prev_close + spread)
            if y_range != self._y_range:  # an unchanged range redraws no axis
                self._y_range = y_range
                self.price_plot.setYRange(*y_range, padding=0.05)
        else:
            self.prev_line.hide()
        # a minute's bar is red when its close is at or above the previous minute's close
        filled = np.isfinite(self.price)
        shown = np.where(filled, self.price, np.nan)
        before = np.concatenate(([self.prev_close or np.nan], shown[:-1]))
        before = _forward_fill(before)
        up = filled & (shown >= np.nan_to_num(before, nan=-1.0))
        down = filled & ~up
        self.up_bars.setOpts(x=x[up], height=self.volume[up] / 100)
        self.down_bars.setOpts(x=x[down], height=self.volume[down] / 100)
        last = self._last_index
        if last >= 0 and filled[last]:
            places = price_places(self.code)
            change = ""
            if self.prev_close:
                pct = (self.price[last] - self.prev_close) / self.prev_close * 100
                color = UP_HEX if pct > 0 else DOWN_HEX if pct < 0 else "#333333"
                change = f"<span style='color:{color}'>{self.price[last]:.{places}f} {pct:+.2f}%</span>"
            avg = tr("均价")
            self.title.setText(
                f"{self.code} {change} <span style='color:{AVG_COLOR}'>{avg} {self.avg[last]:.{places}f}</span>"
            )
        else:
            self.title.setText(self.code)


def _forward_fill(values: np.ndarray) -> np.ndarray:
    out = values.copy()
    for i in range(1, len(out)):
        if not np.isfinite(out[i]):
            out[i] = out[i - 1]
    return out


class CandleItem(pg.GraphicsObject):
    """Daily candles drawn once into a QPicture: red hollow-free bodies for up days, green for down."""

    def __init__(self) -> None:
        super().__init__()
        self._picture = QPicture()
        self._rect = QRectF()

    def set_data(self, opens: np.ndarray, highs: np.ndarray, lows: np.ndarray, closes: np.ndarray) -> None:
        picture = QPicture()
        painter = QPainter(picture)
        up_pen, down_pen = pg.mkPen(UP_HEX), pg.mkPen(DOWN_HEX)
        up_brush, down_brush = pg.mkBrush(UP_HEX), pg.mkBrush(DOWN_HEX)
        for i, (o, h, lo, c) in enumerate(zip(opens, highs, lows, closes, strict=True)):
            up = c >= o
            painter.setPen(up_pen if up else down_pen)
            painter.setBrush(up_brush if up else down_brush)
            painter.drawLine(QPointF(i, lo), QPointF(i, h))
            height = c - o if abs(c - o) > 1e-9 else (h - lo) * 0.002 or 1e-6
            painter.drawRect(QRectF(i - 0.35, o, 0.7, height))
        painter.end()
        self.prepareGeometryChange()
        self._picture = picture
        if len(closes):
            self._rect = QRectF(-0.5, float(np.min(lows)), len(closes), float(np.max(highs) - np.min(lows)))
        else:
            self._rect = QRectF()
        self.update()

    def paint(self, painter: QPainter, *args: Any) -> None:
        painter.drawPicture(0, 0, self._picture)

    def boundingRect(self) -> QRectF:
        return QRectF(self._rect)


class CandleChart(_Chart):
    """日K: candles and volume bars of the days before today (oldest left)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bars: list[Bar] = []
        self.price_plot = self.view.addPlot(row=0, col=0)
        self.volume_plot = self.view.addPlot(row=1, col=0)
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.volume_plot.setXLink(self.price_plot)
        for plot in (self.price_plot, self.volume_plot):
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.hideButtons()
            plot.getAxis("left").setWidth(56)
        self.price_plot.getAxis("bottom").setStyle(showValues=False)
        self.candles = CandleItem()
        self.price_plot.addItem(self.candles)
        self.up_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=UP_HEX, pen=pg.mkPen(None))
        self.down_bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=DOWN_HEX, pen=pg.mkPen(None))
        self.volume_plot.addItem(self.up_bars)
        self.volume_plot.addItem(self.down_bars)

    def set_bars(self, code: str, bars: Sequence[Bar]) -> None:
        bars = list(bars)[-MAX_CANDLES:]
        self.bars = bars
        o = np.array([float(b.open) for b in bars], dtype=float)
        h = np.array([float(b.high) for b in bars], dtype=float)
        lo = np.array([float(b.low) for b in bars], dtype=float)
        c = np.array([float(b.close) for b in bars], dtype=float)
        v = np.array([b.volume / 100 for b in bars], dtype=float)
        self.candles.set_data(o, h, lo, c)
        x = np.arange(len(bars), dtype=float)
        up = c >= o
        self.up_bars.setOpts(x=x[up], height=v[up])
        self.down_bars.setOpts(x=x[~up], height=v[~up])
        if bars:
            self.price_plot.setXRange(-1, len(bars), padding=0)
            self.price_plot.setYRange(float(lo.min()), float(h.max()), padding=0.05)
            ticks = [(i, f"{bars[i].ts:%m-%d}") for i in range(0, len(bars), max(1, len(bars) // 6))]
            self.volume_plot.getAxis("bottom").setTicks([ticks])
            places = price_places(code)
            daily, close = tr("日K"), tr("收")
            self.title.setText(
                f"{code} {daily}  {bars[0].ts:%Y-%m-%d} … {bars[-1].ts:%Y-%m-%d}  {close} {c[-1]:.{places}f}"
            )
        else:
            self.title.setText(code)


class MoneyAxis(pg.AxisItem):
    """Yuan as 1,057,000 (never 1.057e+06)."""

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [f"{v:,.0f}" for v in values]


class EquityChart(_Chart):
    """资金曲线: total assets over time, and below it the drawdown from the running peak (%)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._t = np.empty(0)
        self._v = np.empty(0)
        axis = pg.DateAxisItem(orientation="bottom", utcOffset=-8 * 3600)
        axis2 = pg.DateAxisItem(orientation="bottom", utcOffset=-8 * 3600)
        self.equity_plot = self.view.addPlot(
            row=0, col=0, axisItems={"bottom": axis, "left": MoneyAxis(orientation="left")}
        )
        self.drawdown_plot = self.view.addPlot(row=1, col=0, axisItems={"bottom": axis2})
        self.view.ci.layout.setRowStretchFactor(0, 3)
        self.view.ci.layout.setRowStretchFactor(1, 1)
        self.drawdown_plot.setXLink(self.equity_plot)
        for plot in (self.equity_plot, self.drawdown_plot):
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.hideButtons()
            plot.getAxis("left").setWidth(84)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
        self.equity_plot.getAxis("bottom").setStyle(showValues=False)
        self.equity_line = self.equity_plot.plot(pen=pg.mkPen(LINE_COLOR, width=1.5))
        self.drawdown_line = self.drawdown_plot.plot(
            pen=pg.mkPen(DOWN_HEX, width=1), fillLevel=0, brush=pg.mkBrush(15, 157, 58, 70)
        )

    @property
    def points(self) -> int:
        return len(self._t)

    def drawdown(self) -> np.ndarray:
        """Drawdown from the running peak, as a percentage (0 or negative)."""
        if not len(self._v):
            return np.empty(0)
        peak = np.maximum.accumulate(self._v)
        return np.where(peak > 0, (self._v - peak) / peak * 100, 0.0)

    def set_equity(self, points: Iterable[tuple[datetime, Decimal]]) -> None:
        pairs = list(points)[-MAX_EQUITY_POINTS:]
        self._t = np.array([p[0].timestamp() for p in pairs], dtype=float)
        self._v = np.array([float(p[1]) for p in pairs], dtype=float)
        self._draw()

    def append_equity(self, ts: datetime, value: Decimal) -> None:
        self._t = np.append(self._t, ts.timestamp())[-MAX_EQUITY_POINTS:]
        self._v = np.append(self._v, float(value))[-MAX_EQUITY_POINTS:]
        self._draw()

    def _draw(self) -> None:
        dd = self.drawdown()
        self.equity_line.setData(self._t, self._v)
        self.drawdown_line.setData(self._t, dd)
        if len(self._v):
            worst = float(dd.min())
            self.drawdown_plot.setYRange(min(worst, -0.1) * 1.1, 0, padding=0)
            change = (self._v[-1] / self._v[0] - 1) * 100 if self._v[0] else 0.0
            color = UP_HEX if change > 0 else DOWN_HEX if change < 0 else "#333333"
            assets, drawdown = tr("总资产"), tr("最大回撤")
            self.title.setText(
                f"{assets} {self._v[-1]:,.2f}  <span style='color:{color}'>{change:+.2f}%</span>"
                f"  {drawdown} <span style='color:{DOWN_HEX}'>{worst:.2f}%</span>"
            )
        else:
            self.title.setText("")


class ChartPanel(QWidget):
    """The three charts in tabs. `show_instrument(code, prev_close)` loads the day so far and the daily
    candles through the Terminal off the GUI thread; `apply_quotes` keeps the 分时 live;
    `set_equity` / `append_equity` feed the equity curve."""

    def __init__(self, terminal: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._terminal = terminal
        self._background = Background(self)
        self._generation = 0
        self.tabs = QTabWidget(self)
        self.intraday = IntradayChart(self)
        self.candles = CandleChart(self)
        self.equity = EquityChart(self)
        self.tabs.addTab(self.intraday, self.tr("分时"))
        self.tabs.addTab(self.candles, self.tr("日K"))
        self.tabs.addTab(self.equity, self.tr("资金曲线"))
        self.status = QLabel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status)
        self.status.hide()

    @property
    def loading(self) -> bool:
        return self._background.pending > 0

    def show_instrument(self, code: str, prev_close: Decimal | None = None) -> None:
        self._generation += 1
        generation = self._generation
        self.intraday.clear_day(code, prev_close)
        self.candles.set_bars(code, [])
        if self._terminal is None:
            return
        terminal = self._terminal

        def load() -> tuple[list[Bar], list[Bar]]:
            return terminal.intraday_bars(code), terminal.daily_bars(code)

        def done(result: tuple[list[Bar], list[Bar]]) -> None:
            if generation != self._generation:
                return  # another instrument was chosen meanwhile
            self.status.hide()
            self.intraday.set_bars(code, prev_close, result[0])
            self.candles.set_bars(code, result[1])

        def failed(exc: BaseException) -> None:
            if generation == self._generation:
                self.status.setText(self.tr("图表数据读取失败 (could not load the chart): ") + str(exc))
                self.status.show()

        self._background.run(load, done, failed)

    def apply_quotes(self, quotes: Iterable[Quote]) -> None:
        self.intraday.apply_quotes(quotes)

    def set_equity(self, points: Iterable[tuple[datetime, Decimal]]) -> None:
        self.equity.set_equity(points)

    def append_equity(self, ts: datetime, value: Decimal) -> None:
        self.equity.append_equity(ts, value)
