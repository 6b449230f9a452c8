"""The GUI benchmark, offscreen: Tiller's panels beside vn.py's monitor widgets under the same load.

    python bench/gui.py                       # both sides, two variants each, 60 s of load each (~6 min)
    python bench/gui.py --seconds 15          # shorter
    python bench/gui.py --no-peer             # Tiller only
    python bench/gui.py --vnpy-python /work/venvs/vnpy-ui/bin/python

Load (bench/gui_common.py says how each figure is taken): a full market of 5,500 instruments
(`app.feeds.market_universe`, quotes from `SyntheticFeed` from 9:30) as one snapshot every 3 s;
Tiller shows a 200-row watchlist with the five-level book (app/ui/panels/quotes.py) and the charts
(app/ui/charts.py: the 分时 of one watched instrument kept live, the equity curve appended per
snapshot). More panels join through `FACTORIES` (the lead adds the orders and positions tables).
vn.py 4.5.0 runs `vnpy.trader.ui`'s TickMonitor and `vnpy.chart`'s ChartWidget fed by its
EventEngine (bench/gui_vnpy.py, its own venv, no vn.py code copied), in two variants: every
instrument of the stream sent to the monitor (vn.py has no watchlist: its TickMonitor shows every
tick it is sent), and only the 200 watched ones (as if subscribed to 200). Tiller runs the same two:
every snapshot whole to the GUI thread (the quotes panel keeps the watched codes), and only the 200
watched instruments' quotes (what a bridge that forwards watched codes only would hand over).

Each side runs in a fresh child process; the driver writes bench/results/gui.json and gui.md.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()  # before any other import: "start" of start-to-first-paint

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DAY = date(2026, 11, 23)
INSTRUMENTS = 5500
WATCHLIST = 200
INTERVAL_S = 3.0
DISTINCT_SNAPSHOTS = 10  # cycled: the load is the same whether the run is 15 s or 10 min
DEFAULT_VNPY_PYTHON = Path("/work/venvs/vnpy-ui/bin/python")
RESULTS = HERE / "results"


# --------------------------------------------------------------------------- the data (driver)


def make_snapshots(path: Path, *, instruments: int = INSTRUMENTS, seed: int = 7) -> dict[str, Any]:
    """Write the snapshots both sides replay, as plain tuples (see bench/gui_common.py Row)."""
    from datetime import time as clock_time

    from app.feeds import SyntheticFeed, market_universe

    specs = market_universe(instruments, seed)
    feed = SyntheticFeed(specs, seed=seed)
    names = {info.code: info.name for info in feed.instruments(DAY)}
    snapshots: list[list[tuple]] = []
    merged: dict[str, tuple] = {}
    for ts, quotes in feed.batches(DAY, since=clock_time(9, 30)):
        for q in quotes:
            merged[q.code] = (
                q.code, names[q.code], ts.timestamp(), float(q.last), float(q.open), float(q.high),
                float(q.low), float(q.prev_close), q.volume, float(q.amount),
                [float(p) for p in q.bid_prices], list(q.bid_volumes),
                [float(p) for p in q.ask_prices], list(q.ask_volumes),
            )  # fmt: skip
        if len(merged) == len(names):  # a full-market picture (exchanges may stamp apart)
            snapshots.append(list(merged.values()))
            merged = {}
            if len(snapshots) == DISTINCT_SNAPSHOTS:
                break
    codes = sorted(names)
    step = max(1, len(codes) // WATCHLIST)
    watchlist = codes[::step][:WATCHLIST]
    data = {
        "day": DAY.isoformat(),
        "snapshots": snapshots,
        "watchlist": watchlist,
        "chart_code": watchlist[0],
        "names": names,
        "prev_close": {row[0]: row[7] for row in snapshots[0]},
    }
    with path.open("wb") as handle:
        pickle.dump(data, handle, protocol=4)
    return data


# --------------------------------------------------------------------------- Tiller's side (child)


@dataclass
class BenchContext:
    watchlist: list[str]
    chart_code: str
    names: dict[str, str]
    prev_close: dict[str, float]


@dataclass
class Panel:
    """A widget under load and what it does with each full-market snapshot (on the GUI thread)."""

    name: str
    widget: Any
    on_snapshot: Callable[[list[Any]], None]


def quotes_panel(ctx: BenchContext) -> Panel:
    from datetime import date as day_type
    from decimal import Decimal

    from app.domain.market import InstrumentInfo
    from app.ui.panels.quotes import QuotesPanel

    panel = QuotesPanel()
    infos = [
        InstrumentInfo(code, ctx.names[code], day_type(2026, 11, 23), Decimal(str(ctx.prev_close[code])), None, None,
                       Decimal("0.01"))
        for code in ctx.watchlist
    ]  # fmt: skip
    panel.set_instruments(infos)
    panel.set_watchlist(ctx.watchlist)

    def on_snapshot(quotes: list[Any]) -> None:
        panel.apply_quotes(quotes)
        panel.flush()  # the panel's own frame timer would coalesce further; count the full cost

    return Panel("quotes (watchlist 200 + book)", panel, on_snapshot)


def chart_panel(ctx: BenchContext) -> Panel:
    from decimal import Decimal

    from app.ui.charts import ChartPanel

    panel = ChartPanel()
    panel.show_instrument(ctx.chart_code, Decimal(str(ctx.prev_close[ctx.chart_code])))

    def on_snapshot(quotes: list[Any]) -> None:
        panel.apply_quotes(quotes)
        panel.intraday.redraw()  # drawn every snapshot (the panel's frame timer would merge bursts)
        last = quotes[-1]
        panel.append_equity(last.ts, Decimal(1_000_000) + last.last)

    return Panel("charts (分时 + equity)", panel, on_snapshot)


# The lead adds the orders and positions tables here (each: BenchContext -> Panel).
FACTORIES: list[Callable[[BenchContext], Panel]] = [quotes_panel, chart_panel]


def run_tiller(data_path: Path, seconds: float, interval: float, quotes: str = "all") -> dict[str, Any]:
    import gc
    from datetime import datetime
    from decimal import Decimal

    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter

    from app.domain.clock import CN_TZ
    from app.domain.market import Quote
    from bench.gui_common import load_snapshots, run_load

    app = QApplication.instance() or QApplication(sys.argv[:1])
    data = load_snapshots(data_path)
    ctx = BenchContext(data["watchlist"], data["chart_code"], data["names"], data["prev_close"])
    window = QMainWindow()
    window.setWindowTitle("Tiller GUI bench")
    splitter = QSplitter(window)
    panels = [factory(ctx) for factory in FACTORIES]
    for panel in panels:
        splitter.addWidget(panel.widget)
    window.setCentralWidget(splitter)
    window.resize(1600, 900)

    class Relay(QObject):
        snapshot = Signal(object)

    relay = Relay()
    applied = [0]

    def on_snapshot(quotes: list[Quote]) -> None:  # GUI thread
        for panel in panels:
            panel.on_snapshot(quotes)
        applied[0] += 1

    relay.snapshot.connect(on_snapshot)
    rows = data["snapshots"]
    shift = [0.0]

    if quotes == "watch":  # as vn.py subscribed to 200: only the watched instruments cross to the GUI
        watched = set(ctx.watchlist)
        rows = [[r for r in snapshot if r[0] in watched] for snapshot in rows]

    def build(i: int) -> list[Quote]:  # the feeder thread: what the engine and the bridge hand over
        snapshot = rows[i % len(rows)]
        if i and i % len(rows) == 0:
            shift[0] += snapshot[0][2] - rows[0][0][2] + interval
        dec = Decimal
        out = []
        for r in snapshot:
            prices = [dec(repr(x)) for x in (r[3], r[4], r[5], r[6], r[7])]
            ts = datetime.fromtimestamp(r[2] + shift[0], CN_TZ)
            bids = tuple(dec(repr(p)) for p in r[10])
            asks = tuple(dec(repr(p)) for p in r[12])
            amount = dec(repr(r[9]))
            out.append(Quote(r[0], ts, *prices, r[8], amount, bids, tuple(r[11]), asks, tuple(r[13])))
        return out

    def push(i: int) -> None:
        relay.snapshot.emit(build(i))  # queued to the GUI thread: one signal per snapshot, as the bridge

    gc.collect()
    count = max(1, round(seconds / interval))
    describe = {
        "side": "tiller",
        "panels": [p.name for p in panels],
        "rows_watched": len(ctx.watchlist),
        "quotes_to_gui": len(rows[0]),
    }
    return run_load(
        app,
        window,
        STARTED,
        push,
        interval=interval,
        count=count,
        applied=lambda: applied[0],
        describe=describe,
    )


# --------------------------------------------------------------------------- the driver


def _child(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    from bench.gui_common import RESULT_PREFIX

    completed = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=1800)
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])
    raise RuntimeError(
        f"{cmd[0]} {cmd[1]} gave no result (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
    )


def _rounded(values: Any) -> Any:
    return None if values is None else [round(v, 1) for v in values]


def _table(results: list[dict[str, Any]]) -> str:
    rows = [
        ("what is on screen", "panels"),
        ("start → first paint (s)", "first_paint_s"),
        ("GUI stall p50 (ms)", "stall_p50_ms"),
        ("GUI stall p99 (ms)", "stall_p99_ms"),
        ("GUI stall p99.9 (ms)", "stall_p999_ms"),
        ("GUI stall max (ms)", "stall_max_ms"),
        ("GUI-thread CPU per snapshot (ms)", "gui_cpu_ms_per_snapshot"),
        ("heartbeats", "beats"),
        ("snapshots pushed / applied", None),
        ("feeder: build+hand over a snapshot, median (ms)", "push_ms_median"),
        ("cut off by the watchdog (GUI thread still busy)", "timed_out"),
        ("RSS at end (MiB)", "rss_mib"),
        ("peak RSS (MiB)", "peak_rss_mib"),
    ]
    names = [r["label"] for r in results]
    lines = ["| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for title, key in rows:
        cells = []
        for r in results:
            if key is None:
                cells.append(f"{r.get('snapshots_pushed')} / {r.get('snapshots_applied')}")
            elif key == "panels":
                cells.append(", ".join(r.get("panels", [])))
            elif key == "timed_out":
                cells.append("yes" if r.get("timed_out") else "no")
            else:
                cells.append(str(r.get(key, "-")))
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--side", choices=["tiller"], help="(child) run one side")
    p.add_argument("--data", type=Path, help="(child) the snapshots file")
    p.add_argument(
        "--quotes", choices=["all", "watch"], default="all", help="(child) what crosses to the GUI"
    )
    p.add_argument("--seconds", type=float, default=60.0, help="seconds of load per side (default 60)")
    p.add_argument("--interval", type=float, default=INTERVAL_S, help="seconds between snapshots (default 3)")
    p.add_argument("--instruments", type=int, default=INSTRUMENTS)
    p.add_argument("--no-peer", action="store_true", help="Tiller only")
    p.add_argument("--vnpy-python", type=Path, default=DEFAULT_VNPY_PYTHON)
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if args.side == "tiller":
        from bench.gui_common import print_result

        print_result(run_tiller(args.data, args.seconds, args.interval, args.quotes))
        return 0

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="tiller-gui-bench-") as folder:
        work = Path(folder)
        data_path = work / "snapshots.pickle"
        made = time.perf_counter()
        data = make_snapshots(data_path, instruments=args.instruments)
        print(
            f"{len(data['snapshots'])} full-market snapshots of {len(data['snapshots'][0])} instruments "
            f"made in {time.perf_counter() - made:.1f} s; {args.seconds:.0f} s of load per side, one every "
            f"{args.interval:g} s",
            flush=True,
        )
        common = ["--data", str(data_path), "--seconds", str(args.seconds), "--interval", str(args.interval)]
        results = []
        for quotes, label in (
            ("all", "Tiller (GUI sent the whole market)"),
            ("watch", "Tiller (GUI sent the 200)"),
        ):
            cmd = [sys.executable, str(HERE / "gui.py"), "--side", "tiller", "--quotes", quotes, *common]
            result = _child(cmd, env, ROOT)
            result["label"] = label
            results.append(result)
            print(f"{label} done", flush=True)
            if args.no_peer:
                break
        if not args.no_peer:
            if not args.vnpy_python.exists():
                print(
                    f"no vn.py venv at {args.vnpy_python}: python3.11 -m venv /work/venvs/vnpy-ui && "
                    "/work/venvs/vnpy-ui/bin/pip install vnpy==4.5.0",
                    file=sys.stderr,
                )
                return 2
            home = work / "vnpy-home"  # vn.py writes .vntrader under the working folder or home
            (home / ".vntrader").mkdir(parents=True)
            vn_env = {**env, "HOME": str(home), "USERPROFILE": str(home)}
            for ticks, label in (
                ("all", "vn.py 4.5.0 (monitor sent the whole market)"),
                ("watch", "vn.py 4.5.0 (monitor sent the 200)"),
            ):
                script = str(HERE / "gui_vnpy.py")
                result = _child([str(args.vnpy_python), script, "--ticks", ticks, *common], vn_env, home)
                result["label"] = label
                results.append(result)
                print(f"{label} done", flush=True)
    table = _table(results)
    meta = {
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "load_average_before": load_before,
        "instruments": len(data["snapshots"][0]),
        "watchlist": len(data["watchlist"]),
        "interval_s": args.interval,
        "seconds_per_side": args.seconds,
        "qt_platform": "offscreen",
        "targets": {"stall_p99_ms": 16, "first_paint_s": 1.5},
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "gui.json").write_text(
        json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=2), encoding="utf-8"
    )
    note = (
        f"# GUI benchmark (bench/gui.py), offscreen\n\n{meta['instruments']} instruments every "
        f"{args.interval:g} s, watchlist {meta['watchlist']}, {args.seconds:.0f} s of load per side; "
        f"{meta['machine']}, {meta['cpu_count']} CPUs, load average before "
        f"{_rounded(meta['load_average_before'])}, after {_rounded(meta['load_average'])}.\n"
        "Targets (issue 10): stall p99 ≤ 16 ms, start → first paint ≤ 1.5 s.\n\n"
    )
    (args.out / "gui.md").write_text(note + table + "\n", encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
