"""The GUI benchmark, offscreen: Tiller's real window beside vn.py's monitor widgets under the same load.

    python bench/gui.py                       # both sides, two variants each, 60 s of load each (~6 min)
    python bench/gui.py --seconds 15          # shorter
    python bench/gui.py --no-peer             # Tiller only (the interest-set variant)
    python bench/gui.py --vnpy-python /work/venvs/vnpy-ui/bin/python

Load: a full market of 5,500 instruments (`app.feeds.market_universe`, seed 7, quotes from
`SyntheticFeed` from 9:30), one full-market picture every 3 s.

Tiller (`run_tiller`, a fresh child process per variant): the window `python -m app` opens —
`MainWindow` with `add_core_panels` (plan, account, positions, orders, trades, alerts) and
`add_market_panels` (quotes watchlist of 200 + five-level book, charts, strategies, risk) — on a real
engine and the simulated broker built by `build_sim_setup` over the whole universe, fed through the
real `EngineBridge` (subscribed to the Terminal) and `ReadModel`. The feeder thread plays the day's
feed: each picture goes to the broker (`on_quotes`) and to the engine (`QuotesArrived`); the engine
publishes `QuotesUpdated` to the bridge on its own thread. Each picture also submits two orders
through the Terminal (one fills, one rests and is cancelled by the next picture): the orders, trades
and positions tables change every snapshot. Two variants: the window's interest set on (as shipped:
only the watched, held, planned, ordered and charted codes cross to the GUI thread), and off (every
quote crosses, as before the interest set).

vn.py 4.5.0 (bench/gui_vnpy.py, its own venv, no vn.py code copied): `vnpy.trader.ui`'s TickMonitor
and `vnpy.chart`'s ChartWidget fed by its EventEngine, the same snapshots replayed; every instrument
sent to the monitor (vn.py has no watchlist: its TickMonitor shows every tick it is sent), and only
the 200 watched ones (as if subscribed to 200). vn.py has no engine or broker in this run, Tiller has
both: Tiller's memory and GUI-thread figures include its engine's work on the same interpreter.

First paint: from the driver's spawn of the child (wall clock: interpreter start, imports, building
the window) to the first Paint event of the main window; also from the script's first line. The
window starts as `python -m app` does (app/gui.py `WindowStart`): painted first, empty, the session
(engine and broker over the whole market) built after the first paint off the GUI thread and then
attached; the load starts once it is attached (phases: imports done, window built, session built,
attached). Stalls: a 5 ms heartbeat timer on the GUI thread (bench/gui_common.py). Results:
bench/results/gui.json and gui.md.
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
    # what Tiller's side needs, small: it plays the day from its own feed (same universe and seed), so
    # it never loads the 10 pictures of 5,500 quotes (0.3 s of CPU that `python -m app` does not spend)
    small = {
        "day": data["day"],
        "watchlist": watchlist,
        "instruments": len(names),
        "prev_close": data["prev_close"],
    }
    tiller_data(path).write_text(json.dumps(small), encoding="utf-8")
    return data


def tiller_data(path: Path) -> Path:
    return path.with_name(path.stem + "-tiller.json")


# --------------------------------------------------------------------------- Tiller's side (child)

HOLDINGS = 40  # opening positions (every 5th watched code): the positions table is live
ORDER_EVERY = 1  # orders per snapshot: one marketable buy (fills: trades, positions) and one resting
# buy that the next snapshot cancels (the orders table changes every snapshot)


def run_tiller(data_path: Path, seconds: float, interval: float, quotes: str = "interest") -> dict[str, Any]:
    """The real window on a real engine, started as `python -m app` starts (app/gui.py `WindowStart`):
    the main window with every panel is built and painted first, empty; the session is built after
    the first paint on the builder thread by a session factory — here `build_sim_setup` on the
    simulated broker with the whole universe (the same instruments and seed as the snapshots vn.py
    replays) — and attached through the real `EngineBridge` and `ReadModel`. The load starts once
    the session is attached (its snapshot loaded).
    The feeder thread is the day's feed: every `interval` s one full-market picture from the
    simulated feed (`SyntheticFeed.batches`, merged until every instrument moved), given to the broker
    (`on_quotes`) and to the engine (`QuotesArrived`); the engine publishes `QuotesUpdated` to the
    bridge's listener on its own thread. Each snapshot also submits two orders through the Terminal
    (OMS, risk gate, broker) and cancels the last resting one: the orders, trades and positions
    tables change every snapshot. `quotes`: "interest" (the window's interest set, as shipped) or
    "all" (the interest set switched off: every quote crosses to the GUI thread, as before)."""
    import gc
    from datetime import datetime
    from datetime import time as clock_time
    from decimal import Decimal

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.config import load_settings
    from app.gui import GuiOptions, WindowStart
    from bench.gui_common import run_load

    phases = {"imports": round(time.perf_counter() - STARTED, 3)}
    app = QApplication.instance() or QApplication(sys.argv[:1])
    data = json.loads(tiller_data(data_path).read_text(encoding="utf-8"))
    day = date.fromisoformat(data["day"])
    watchlist: list[str] = data["watchlist"]
    folder = Path(tempfile.mkdtemp(prefix="tiller-gui-bench-child-"))
    settings = load_settings(env={"TILLER_DATA_DIR": str(folder)}, path=folder / "none.toml")
    saved = QSettings(str(folder / "window.ini"), QSettings.Format.IniFormat)
    saved.setValue("quotes/watchlist", watchlist)  # the watchlist the window finds (as a user's saved one)
    saved.sync()
    prev_close = data["prev_close"]
    holdings = watchlist[::5][:HOLDINGS]
    parts: dict[str, Any] = {}

    class Session:
        """What the window attaches: the Terminal; the feeder drives the day (no day driver)."""

        def __init__(self, setup: Any, terminal: Any) -> None:
            self.setup, self.terminal, self.schedule = setup, terminal, []

        def start(self) -> None:
            pass

        def close(self) -> None:
            self.setup.close()

    def factory(options: GuiOptions, progress: Any) -> Session:  # the builder thread, after the first paint
        progress(0.02, "loading the trading modules")
        from app.bootstrap import build_sim_setup, seed_account
        from app.core.messages import StartDay
        from app.core.terminal import Terminal
        from app.feeds import market_universe
        from app.feeds.history import SyntheticHistory

        specs = market_universe(data["instruments"], 7)
        progress(0.3, "opening the books and the simulated broker")
        setup = build_sim_setup(
            settings, day=day, instruments=specs, data_dir=folder, seed=7, start=clock_time(9, 0)
        )
        try:
            seed_account(setup, [(c, 10_000, Decimal(repr(prev_close[c]))) for c in holdings])
            infos = setup.feed.instruments(day)
            setup.broker.connect()
            setup.broker.set_instruments(infos)
            setup.broker.begin_day(day)
            progress(0.7, "starting the engine")
            setup.engine.start()
            setup.engine.post(StartDay(day, infos))
            history = SyntheticHistory(specs, seed=7, calendar=setup.engine.calendar)
            terminal = Terminal(setup.engine, history=history)
        except BaseException:
            setup.close()
            raise
        parts.update(setup=setup, infos=infos, terminal=terminal)
        # The load generator's own set-up, before the load: its first picture makes every instrument's
        # price path (~1.5 s of Python for 5,500), which on the feeder thread during the load held the
        # GIL against the GUI thread: a stall of the bench's making (vn.py's side gets its snapshots
        # made beforehand). Later pictures are made as the load goes, both sides alike.
        feed_state["first"] = next_picture()
        phases["session_built"] = round(time.perf_counter() - STARTED, 3)
        return Session(setup, terminal)

    start = WindowStart(
        settings, GuiOptions(day=day, data_dir=folder, speed=None), factory,
        show_error=lambda text: print(text, file=sys.stderr, flush=True),
    )  # fmt: skip
    window, bridge, read_model = start.window, start.bridge, start.read_model
    if quotes == "all":  # the interest set off: every quote crosses (what the window did before)
        bridge.set_interest = lambda codes: None  # type: ignore[method-assign]
    window.resize(1600, 900)
    phases["window_built"] = round(time.perf_counter() - STARTED, 3)

    def attached() -> None:
        phases.setdefault("attached", round(time.perf_counter() - STARTED, 3))

    read_model.reloaded.connect(attached)
    pushed_ts: list[datetime] = []
    resting: list[Any] = []
    stats = {"orders": 0}
    feed_state: dict[str, Any] = {}

    def next_picture() -> tuple[datetime, list[Any]]:
        first = feed_state.pop("first", None)
        if first is not None:
            return first  # type: ignore[no-any-return]
        if not feed_state:
            feed_state["batches"] = iter(parts["setup"].feed.batches(day, since=clock_time(9, 30)))
            feed_state["codes"] = {i.code for i in parts["infos"]}
        batches, codes = feed_state["batches"], feed_state["codes"]
        merged: dict[str, Any] = {}
        newest = None
        while len(merged) < len(codes):
            newest, picture = next(batches)
            for q in picture:
                merged[q.code] = q
        assert newest is not None
        return newest, list(merged.values())

    def push(i: int) -> None:  # the feeder thread: the day's feed into the broker and the engine
        from app.core.messages import QuotesArrived
        from app.core.oms import NewOrder
        from app.domain.side import Side

        setup, terminal = parts["setup"], parts["terminal"]
        ts, picture = next_picture()
        if ts > setup.clock.now():
            setup.clock.advance_to(ts)
        setup.broker.on_quotes(picture)
        setup.engine.post(QuotesArrived(picture))
        pushed_ts.append(ts)
        by_code = {q.code: q for q in picture}
        buy = by_code[watchlist[(2 * i + 1) % len(watchlist)]]
        rest = by_code[watchlist[(2 * i + 2) % len(watchlist)]]
        orders = []
        if buy.ask_prices:
            orders.append(NewOrder(buy.code, Side.BUY, 100, buy.ask_prices[0]))
        if rest.bid_prices and rest.bid_prices[-1] > Decimal("0.05"):
            orders.append(NewOrder(rest.code, Side.BUY, 100, rest.bid_prices[-1] - Decimal("0.01")))
        if orders:
            ids = terminal.submit(orders)
            stats["orders"] += len(ids)
            for old in resting:
                terminal.cancel(old)
            resting[:] = ids[1:] if len(ids) > 1 else []

    def applied() -> int:
        seen = read_model.status.quotes_ts
        return 0 if seen is None else sum(1 for ts in pushed_ts if ts <= seen)

    gc.collect()
    count = max(1, round(seconds / interval))
    describe = {
        "side": "tiller",
        "panels": [
            "MainWindow: plan, account, positions, orders, trades, alerts, quotes (watchlist 200 + book), "
            "charts, strategies, risk — real engine + simulated broker, EngineBridge + ReadModel"
            + (" (interest set)" if quotes != "all" else " (interest set off: every quote crosses)")
        ],
        "rows_watched": len(watchlist),
        "holdings": len(holdings),
    }
    try:
        result = run_load(
            app, window, STARTED, push, interval=interval, count=count, applied=applied, describe=describe,
            ready=lambda: read_model.loaded,
        )  # fmt: skip
    finally:
        window.close()
        start.finish()
    result["quotes_crossed_per_snapshot"] = round(bridge.quotes_crossed / max(1, len(pushed_ts)))
    result["quotes_dropped_per_snapshot"] = round(bridge.quotes_dropped / max(1, len(pushed_ts)))
    result["phases_s"] = phases  # seconds from the script's first line
    result["orders_submitted"] = stats["orders"]
    result["orders_in_window"] = len(read_model.orders)
    result["trades_in_window"] = len(read_model.trades)
    return result


# --------------------------------------------------------------------------- the driver


def _child(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, Any]:
    from bench.gui_common import RESULT_PREFIX

    spawned = time.time()  # wall clock: the child's first paint is stamped on the same clock
    completed = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=1800)
    for line in completed.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX) :])
            wall = result.get("first_paint_wall")
            result["first_paint_from_spawn_s"] = None if wall is None else round(wall - spawned, 3)
            return result
    raise RuntimeError(
        f"{cmd[0]} {cmd[1]} gave no result (exit {completed.returncode}):\n{completed.stderr[-3000:]}"
    )


def _rounded(values: Any) -> Any:
    return None if values is None else [round(v, 1) for v in values]


def _table(results: list[dict[str, Any]]) -> str:
    rows = [
        ("what is on screen", "panels"),
        ("process spawned → first paint of the window (s)", "first_paint_from_spawn_s"),
        ("script's first line → first paint (s)", "first_paint_s"),
        ("process CPU until the first paint (s)", "first_paint_cpu_s"),
        (
            "  phases: imports done / window built / session built (after the paint) / attached (s)",
            "phases_s",
        ),
        ("GUI stall p50 (ms)", "stall_p50_ms"),
        ("GUI stall p99 (ms)", "stall_p99_ms"),
        ("GUI stall p99.9 (ms)", "stall_p999_ms"),
        ("GUI stall max (ms)", "stall_max_ms"),
        ("garbage collections during the load / longest (ms)", "gc"),
        ("  of them full (gen 2) / longest (ms)", "gc_full"),
        ("GUI-thread CPU per snapshot (ms)", "gui_cpu_ms_per_snapshot"),
        ("quotes crossing to the GUI thread per snapshot", "quotes_crossed_per_snapshot"),
        ("orders submitted / in the window's tables", None),
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
            if key is None and title.startswith("orders"):
                sent = r.get("orders_submitted")
                cells.append("-" if sent is None else f"{sent} / {r.get('orders_in_window')}")
            elif key is None:
                cells.append(f"{r.get('snapshots_pushed')} / {r.get('snapshots_applied')}")
            elif key == "phases_s":
                ph = r.get("phases_s")
                cells.append("-" if not ph else " / ".join(str(v) for v in ph.values()))
            elif key in ("gc", "gc_full"):
                n = r.get("gc_collections" if key == "gc" else "gc_full_collections")
                longest = r.get("gc_max_ms" if key == "gc" else "gc_full_max_ms")
                cells.append("-" if n is None else f"{n} / {longest}")
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
        "--quotes",
        choices=["interest", "all"],
        default="interest",
        help="(child) what crosses to the GUI: the window's interest set, or every quote",
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
            ("interest", "Tiller (real window; interest set)"),
            ("all", "Tiller (real window; interest set off, whole market to the GUI)"),
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
        "Tiller rows: the real main window (every panel) on a real engine + simulated broker in the same "
        "process, fed through EngineBridge/ReadModel, two orders per snapshot. vn.py rows: its TickMonitor "
        "and ChartWidget fed through its EventEngine (no engine or broker). Stall = how late a 5 ms "
        "heartbeat timer on the GUI thread fired. First paint from spawn = the driver's wall clock from "
        "starting the child to the window's first Paint event (Tiller: the window first, the session built "
        "after the first paint off the GUI thread and attached, as `python -m app` does; the phases row says "
        "when each step was done).\n\n"
    )
    (args.out / "gui.md").write_text(note + table + "\n", encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
