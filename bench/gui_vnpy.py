"""vn.py's side of the GUI benchmark (bench/gui.py starts it with vn.py's own venv; nothing of Tiller
is imported and no vn.py code is copied).

    /work/venvs/vnpy-ui/bin/python bench/gui_vnpy.py --data snapshots.pickle --ticks all|watch

vn.py 4.5.0 as its trader window uses it: a MainEngine with its EventEngine (the OmsEngine caches every
tick), `vnpy.trader.ui.widget.TickMonitor` registered on EVENT_TICK (its signal is emitted from the
event engine's thread, queued to the GUI thread, one per tick), and `vnpy.chart.ChartWidget` with
candles and volume updated with the chart instrument's bar each snapshot. The feeder thread builds
each snapshot's TickData and puts one EVENT_TICK per instrument, then a marker event; the snapshot
counts as applied when the marker reaches the GUI thread (after every tick before it).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before any other import

import argparse  # noqa: E402
import sys  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gui_common import load_snapshots, print_result, run_load  # noqa: E402
from PySide6 import QtCore, QtWidgets  # noqa: E402
from vnpy.chart import CandleItem, ChartWidget, VolumeItem  # noqa: E402
from vnpy.event import Event, EventEngine  # noqa: E402
from vnpy.trader.constant import Exchange, Interval  # noqa: E402
from vnpy.trader.engine import MainEngine  # noqa: E402
from vnpy.trader.event import EVENT_TICK  # noqa: E402
from vnpy.trader.object import BarData, TickData  # noqa: E402
from vnpy.trader.ui.widget import TickMonitor  # noqa: E402

CN = timezone(timedelta(hours=8))
EXCHANGES = {"SH": Exchange.SSE, "SZ": Exchange.SZSE, "BJ": Exchange.BSE}
EVENT_MARKER = "eBenchMarker"


class Marker(QtCore.QObject):
    reached = QtCore.Signal(int)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--interval", type=float, default=3.0)
    p.add_argument("--ticks", choices=["all", "watch"], default="all")
    args = p.parse_args()

    app = QtWidgets.QApplication(sys.argv[:1])
    data = load_snapshots(args.data)
    watch = set(data["watchlist"])
    chart_code = data["chart_code"]

    event_engine = EventEngine()
    main_engine = MainEngine(event_engine)  # starts the event engine; adds the OMS, log and email engines
    window = QtWidgets.QMainWindow()
    window.setWindowTitle("vn.py GUI bench")
    splitter = QtWidgets.QSplitter(window)
    monitor = TickMonitor(main_engine, event_engine)
    chart = ChartWidget()
    chart.add_plot("candle", hide_x_axis=True)
    chart.add_plot("volume", maximum_height=200)
    chart.add_item(CandleItem, "candle", "candle")
    chart.add_item(VolumeItem, "volume", "volume")
    chart.add_cursor()
    splitter.addWidget(monitor)
    splitter.addWidget(chart)
    window.setCentralWidget(splitter)
    window.resize(1600, 900)

    applied = [0]
    marker = Marker()
    marker.reached.connect(lambda i: applied.__setitem__(0, applied[0] + 1))
    event_engine.register(EVENT_MARKER, lambda event: marker.reached.emit(event.data))

    class BarRelay(QtCore.QObject):
        bar = QtCore.Signal(object)

    bar_relay = BarRelay()
    bar_relay.bar.connect(chart.update_bar)  # queued: the chart is touched on the GUI thread only
    rows = data["snapshots"]
    shift = [0.0]
    bar_state: dict[str, float] = {}

    def push(i: int) -> None:
        snapshot = rows[i % len(rows)]
        if i and i % len(rows) == 0:
            shift[0] += snapshot[0][2] - rows[0][0][2] + args.interval
        put = event_engine.put
        for r in snapshot:
            code = r[0]
            if args.ticks == "watch" and code not in watch:
                continue
            symbol, suffix = code.split(".")
            bids, bid_volumes, asks, ask_volumes = r[10], r[11], r[12], r[13]
            levels = {}
            for n in range(5):
                levels[f"bid_price_{n + 1}"] = bids[n] if n < len(bids) else 0
                levels[f"bid_volume_{n + 1}"] = bid_volumes[n] / 100 if n < len(bid_volumes) else 0
                levels[f"ask_price_{n + 1}"] = asks[n] if n < len(asks) else 0
                levels[f"ask_volume_{n + 1}"] = ask_volumes[n] / 100 if n < len(ask_volumes) else 0
            tick = TickData(
                gateway_name="BENCH", symbol=symbol, exchange=EXCHANGES[suffix],
                datetime=datetime.fromtimestamp(r[2] + shift[0], CN), name=r[1], volume=r[8] / 100,
                turnover=r[9], last_price=r[3], open_price=r[4], high_price=r[5], low_price=r[6],
                pre_close=r[7], **levels,
            )  # fmt: skip
            put(Event(EVENT_TICK, tick))
            if code == chart_code:
                last = r[3]
                bar_state["high"] = max(bar_state.get("high", last), last)
                bar_state["low"] = min(bar_state.get("low", last), last)
                bar = BarData(
                    gateway_name="BENCH", symbol=symbol, exchange=EXCHANGES[suffix],
                    datetime=datetime.fromtimestamp(r[2] + shift[0], CN).replace(second=0, microsecond=0)
                    + timedelta(minutes=i), interval=Interval.MINUTE, volume=r[8] / 100, turnover=r[9],
                    open_price=r[4], high_price=bar_state["high"], low_price=bar_state["low"], close_price=last,
                )  # fmt: skip
                bar_relay.bar.emit(bar)
        put(Event(EVENT_MARKER, i))

    count = max(1, round(args.seconds / args.interval))
    describe = {
        "side": "vnpy",
        "panels": [
            "TickMonitor (" + ("all ticks" if args.ticks == "all" else "200 ticks") + ")",
            "ChartWidget",
        ],
        "rows_watched": len(data["snapshots"][0]) if args.ticks == "all" else len(watch),
    }
    result = run_load(
        app, window, STARTED, push, interval=args.interval, count=count, applied=lambda: applied[0],
        describe=describe,
    )  # fmt: skip
    result["monitor_rows"] = monitor.rowCount()
    print_result(result)
    main_engine.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
