"""The child program of the crash test: one stretch of a simulated trading session, meant to be killed.

    python -m tests.helpers.crash_session --data-dir DIR --seed S --run N --since HH:MM:SS [--final]
        [--gateway sim|qmt] [--hold-send K --hold-where before|after]

Every run opens the same data folder (Tiller's database and the simulated broker's own file, as
bootstrap builds them), starts its SimClock at `--since` on the trading day, lets the engine
recover against the broker, then trades: each step moves the clock to the next synthetic quote
batch, hands it to the broker and the engine, and sends a random mix (seeded by the run) of
marketable and resting limit orders, best-five market orders, bursts of several orders (one group
commit), sells of more than is sellable (the OMS denies them) and cancels. It waits for the broker
or the engine only now and then, so a kill finds orders in flight, intents half written and fills
on their way.

Lines on stdout (flushed), read by tests/integration/test_crash_recovery.py:

    starting                      before the engine starts (a kill after it lands in recovery)
    recovered k=v ...             what recovery found (see `_recovery_stats`)
    running                       the session is trading
    step HH:MM:SS                 printed BEFORE the clock moves there: the next run starts later
    sent N                        N intents just committed and handed to the broker (a kill now
                                  finds them in flight)
    holding before|after N        with --hold-send K: the engine thread stopped inside its K-th hand-over
                                  of N committed intents to the broker, before the broker took them or
                                  right after (its answers not yet booked), and waits there to be killed
    day-over                      no more quote batches before the closing auction
    final k=v ...                 the clean last run (--final) settled the day and stopped

`--final` trades a few steps, settles, plays the closing auction and the close print, ends the day
at the broker (every working order cancelled), waits for both sides and stops cleanly.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sqlite3
import sys
import threading
import time as wall
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.bootstrap import build_sim_setup, seed_account
from app.config import AccountSettings, Settings, SimSettings
from app.core.engine import Engine
from app.core.messages import CancelOrder, QuotesArrived, StartDay, SubmitOrders
from app.core.oms import NewOrder
from app.domain.identifiers import ClientOrderId
from app.domain.instruments import classify
from app.domain.market import InstrumentInfo, Quote
from app.domain.orders import OrderStatus, PriceType
from app.domain.prices import round_to_tick
from app.domain.side import Side
from app.feeds.synthetic import SyntheticFeed
from app.feeds.universe import InstrumentSpec

DAY = date(2026, 11, 23)  # a Monday, a trading day
SESSION_START = time(9, 30)
LAST_STEP = time(14, 56, 59)  # the loop stays in continuous trading; the final run plays the close
CLOSE_AUCTION = time(14, 57)
INITIAL_CASH = Decimal("30000000")
# Main boards and ChiNext: 100-share lots, 2% price cage; prices spread from ~10 to ~270 yuan.
CODES = ("600000.SH", "600036.SH", "601318.SH", "000001.SZ", "000858.SZ", "300750.SZ")
OPENING_POSITIONS = (
    ("600000.SH", 600_000, Decimal("10.20")),
    ("600036.SH", 150_000, Decimal("39.80")),
    ("601318.SH", 120_000, Decimal("48.00")),
    ("000001.SZ", 500_000, Decimal("11.00")),
    ("000858.SZ", 40_000, Decimal("130.00")),
    ("300750.SZ", 20_000, Decimal("260.00")),
)
# Market buys are in the mix (their cash is held at the reserve price kept on the order);
# TILLER_CRASH_MARKET_BUYS=0 leaves them out.
MARKET_BUYS = os.environ.get("TILLER_CRASH_MARKET_BUYS", "1") != "0"
# TILLER_CRASH_LATENCY=S: the simulated counter takes S simulated seconds to receive each order and
# each cancel, so kills also find orders on the wire and cancels asked before the acknowledgement.
LATENCY = Decimal(os.environ.get("TILLER_CRASH_LATENCY", "0"))
SETTLE_TIMEOUT = 120.0  # seconds; generous: the machine may be busy with other work
FINAL_STEPS = 25
HOLD_SECONDS = 60.0  # how long a held engine thread waits for its kill


@dataclass(frozen=True, slots=True)
class View:
    """What the child knows of the books, refreshed from the engine now and then (so it may be stale)."""

    sellable: dict[str, int]
    working: list[ClientOrderId]
    last: dict[str, Decimal]


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    rng = random.Random(args.seed * 1_000_003 + args.run)
    settings = Settings(
        account=AccountSettings(initial_cash=INITIAL_CASH),
        sim=SimSettings(seed=args.seed, ack_latency_s=LATENCY, cancel_latency_s=LATENCY),
    )
    since = time.fromisoformat(args.since)
    data_dir = Path(args.data_dir)
    specs = [InstrumentSpec(code) for code in CODES]
    setup: Any
    if args.gateway == "qmt":
        # the live setup through xtquant's real xttrader.py and the xtpythonclient stand-in, whose
        # counter (the simulated broker) keeps its books in the userdata folder
        from tests.helpers.qmt_crash import build_qmt_crash_setup

        setup = build_qmt_crash_setup(data_dir, settings, specs, args.seed, since, OPENING_POSITIONS)
    else:
        broker_file_existed = any(data_dir.glob("*-broker.db"))
        setup = build_sim_setup(
            settings, day=DAY, instruments=specs, data_dir=data_dir, seed=args.seed, start=since
        )
        if not broker_file_existed:
            # Only a new account is seeded: seed_account would seed again an account that sold out.
            seed_account(setup, OPENING_POSITIONS)
    # A snapshot a second (bootstrap's feed has one every 3 s): the day has room for more runs.
    setup.feed = SyntheticFeed(specs, seed=args.seed, step_seconds=1, levels=settings.sim.quote_levels)
    setup.broker.connect()
    if args.hold_send:
        _hold_at_send(setup.engine, args.hold_send, args.hold_where)
    before = _local_statuses(setup.db_path)
    _say("starting")
    setup.engine.start(timeout=SETTLE_TIMEOUT)
    engine = setup.engine
    _say("recovered " + _kv(_recovery_stats(engine, before)))
    infos = setup.feed.instruments(DAY)
    setup.broker.set_instruments(infos)
    setup.broker.begin_day(DAY)
    engine.post(StartDay(DAY, infos))
    limits = {info.code: info for info in infos}
    view = _view(engine)
    batches = _batches(setup, since)  # generated before "running": a kill after it finds trading
    _say("running")
    for step, (ts, quotes) in enumerate(batches):
        if ts.time() > LAST_STEP or (args.final and step >= FINAL_STEPS):
            break
        _say(f"step {ts:%H:%M:%S}")
        setup.clock.advance_to(ts)
        setup.broker.on_quotes(quotes)
        if rng.random() < 0.2:
            setup.broker.wait_idle(SETTLE_TIMEOUT)  # sometimes the fills are in before we go on
        engine.post(QuotesArrived(quotes))
        if step % 7 == 0 or rng.random() < 0.1:
            view = _view(engine)
        _act(engine, rng, view, limits, quotes)
        if rng.random() < 0.05:
            _settle(setup)
        if not args.final and rng.random() < 0.1:
            wall.sleep(rng.uniform(0.0, 0.01))  # mostly busy: a kill should find work in flight
    if args.final:
        _finish_day(setup)
        _say("final " + _kv(_final_stats(engine)))
        setup.close()
        return 0
    _say("day-over")
    setup.close()
    return 0


# ------------------------------------------------------------------------------ trading
def _hold_at_send(engine: Engine, nth: int, where: str) -> None:
    """Stop the engine thread inside its `nth` hand-over of intents to the broker and say so, so the
    parent's kill lands exactly there: the intents committed as sent, and the broker either not yet
    holding them (`before`) or holding them with its answers not yet booked (`after`). Only where the
    kill lands depends on this; the engine is the real one and nothing else changes."""
    real = engine.gateway.submit
    calls = itertools.count(1)

    def submit(orders: Any) -> Any:
        if next(calls) != nth:
            return real(orders)
        result = real(orders) if where == "after" else None
        _say(f"holding {where} {len(orders)}")
        wall.sleep(HOLD_SECONDS)  # killed here; if not, the run goes on as it would have
        return real(orders) if where == "before" else result

    engine.gateway.submit = submit  # type: ignore[method-assign]


def _act(
    engine: Engine,
    rng: random.Random,
    view: View,
    limits: dict[str, InstrumentInfo],
    quotes: list[Quote],
) -> None:
    roll = rng.random()
    if roll < 0.3:
        burst = rng.randint(5, 12) if rng.random() < 0.15 else rng.randint(1, 3)
        requests = [_new_order(rng, view, limits, quotes) for _ in range(burst)]
        if rng.random() < 0.5:
            engine.submit(requests, timeout=SETTLE_TIMEOUT)  # answered after the group commit
            _say(f"sent {len(requests)}")  # intents on disk, on their way to the broker
        else:
            engine.post(SubmitOrders(requests))  # fire and forget: still queued when killed
    elif roll < 0.42 and view.working:
        for cid in rng.sample(view.working, min(len(view.working), rng.randint(1, 3))):
            engine.post(CancelOrder(cid))


def _new_order(
    rng: random.Random, view: View, limits: dict[str, InstrumentInfo], quotes: list[Quote]
) -> NewOrder:
    quote = rng.choice(quotes)
    code = quote.code
    info = limits[code]
    last = quote.last if quote.last > 0 else view.last.get(code, info.prev_close)
    sellable = view.sellable.get(code, 0)
    side = Side.SELL if sellable >= 100 and rng.random() < 0.5 else Side.BUY
    if side is Side.SELL:
        lots = sellable // 100
        qty = 100 * rng.randint(1, max(1, min(lots, 30)))
        if rng.random() < 0.08:
            qty = (lots + 1) * 100  # more than is sellable: the OMS must deny it
    else:
        target = Decimal(rng.randint(3_000, 40_000))
        qty = max(100, int(target / last) // 100 * 100)
    if rng.random() < 0.1 and (side is Side.SELL or MARKET_BUYS):
        return NewOrder(code, side, qty, None, PriceType.BEST5_IOC, strategy_id="crash")
    marketable = rng.random() < 0.6
    move = Decimal(rng.randint(5, 120)) / Decimal(10_000)  # 0.05% .. 1.2%, inside the 2% cage
    toward = (1 + move) if (side is Side.BUY) == marketable else (1 - move)
    price = round_to_tick(last * toward, classify(code).tick)
    if info.up_limit is not None and info.down_limit is not None:
        price = min(max(price, info.down_limit), info.up_limit)
    return NewOrder(code, side, qty, price, strategy_id="crash")


def _view(engine: Engine) -> View:
    def read(e: Engine) -> View:
        oms = e.oms
        return View(
            sellable={code: p.sellable for code, p in oms.positions.items()},
            working=[o.client_order_id for o in oms.working_orders() if not o.external],
            last=dict(oms.last_prices),
        )

    return engine.call(read, timeout=SETTLE_TIMEOUT)


def _batches(setup: Any, since: time) -> Iterator[tuple[datetime, list[Quote]]]:
    """The day's quote batches from `since` on, the first one already computed (the walk runs
    through the whole morning first, which takes a while)."""
    batches = setup.feed.batches(DAY, since=since)
    first = next(batches, None)
    return iter(()) if first is None else itertools.chain([first], batches)


def _settle(setup: Any) -> None:
    """Both sides idle, twice round: broker reports handled, and what they caused answered."""
    for _ in range(2):
        setup.broker.wait_idle(SETTLE_TIMEOUT)
        setup.engine.wait_idle(SETTLE_TIMEOUT)


def _finish_day(setup: Any) -> None:
    """Settle, play the closing auction and the close print, end the day, settle again."""
    _settle(setup)
    for ts, quotes in setup.feed.batches(DAY, since=max(CLOSE_AUCTION, setup.clock.now().time())):
        if ts > setup.clock.now():
            setup.clock.advance_to(ts)
        setup.broker.on_quotes(quotes)
        setup.engine.post(QuotesArrived(quotes))
    _settle(setup)
    setup.broker.end_day()
    _settle(setup)


# ------------------------------------------------------------------------------ what happened
def _local_statuses(db_path: Path) -> dict[str, str]:
    """The day's order statuses as committed in Tiller's file before this run's recovery."""
    if not db_path.exists():
        return {}
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(
            "SELECT client_order_id, status FROM orders WHERE trading_day = ?", (DAY.isoformat(),)
        ).fetchall()
    except sqlite3.OperationalError:  # killed before the schema was written
        return {}
    finally:
        conn.close()
    return dict(rows)


def _recovery_stats(engine: Engine, before: dict[str, str]) -> dict[str, int]:
    """unacked: intents committed as sent with no broker answer; expired: of those, not at the broker
    (expired as never sent, or in doubt until the settle re-query); in_doubt: orders in doubt; matched: of those, found at the broker by remark; caught_up: other orders whose
    status recovery changed; trades: fills booked by recovery; working: orders still working after."""
    after = engine.call(
        lambda e: {o.client_order_id: o.status for o in e.oms.orders.values() if not o.external},
        timeout=SETTLE_TIMEOUT,
    )
    unacked = [cid for cid, s in before.items() if s in ("initialized", "submitted")]
    # not at the broker: expired (never sent) or in doubt until the settle re-query
    not_there = (OrderStatus.EXPIRED, OrderStatus.IN_DOUBT)
    expired = sum(1 for cid in unacked if after.get(cid) in not_there)
    in_doubt = sum(1 for s in after.values() if s is OrderStatus.IN_DOUBT)
    caught_up = sum(
        1 for cid, s in before.items() if cid not in unacked and cid in after and after[cid].value != s
    )
    return {
        "unacked": len(unacked),
        "expired": expired,
        "matched": len(unacked) - expired,
        "caught_up": caught_up,
        "trades": sum(1 for n in engine.recovery_notes if n.startswith("补记成交")),
        "working": sum(1 for s in after.values() if s.is_working),
        "in_doubt": in_doubt,
        "notes": len(engine.recovery_notes),
    }


def _final_stats(engine: Engine) -> dict[str, int]:
    def read(e: Engine) -> dict[str, int]:
        orders = [o for o in e.oms.orders.values() if not o.external]
        return {
            "orders": len(orders),
            "denied": sum(1 for o in orders if o.status is OrderStatus.DENIED),
            "filled": sum(1 for o in orders if o.status is OrderStatus.FILLED),
            "expired": sum(1 for o in orders if o.status is OrderStatus.EXPIRED),
            "trades": len(e.oms.trade_ids),
            "working": sum(1 for o in orders if o.status.is_working),
        }

    return engine.call(read, timeout=SETTLE_TIMEOUT)


def _kv(stats: dict[str, int]) -> str:
    return " ".join(f"{k}={v}" for k, v in stats.items())


_SAY = threading.Lock()


def _say(line: str) -> None:
    """One whole line: the engine thread (holding) and the main thread (step, sent) both speak, and
    print() writes the text and its newline separately, so two lines could run into one."""
    with _SAY:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.helpers.crash_session")
    parser.add_argument("--data-dir", required=True, help="the session's data folder, the same every run")
    parser.add_argument("--seed", type=int, required=True, help="the session's seed (quotes, sim broker)")
    parser.add_argument("--run", type=int, required=True, help="the run's number (seeds its order mix)")
    parser.add_argument("--since", default=SESSION_START.isoformat(), help="HH:MM:SS to start at")
    parser.add_argument("--final", action="store_true", help="a clean last run that ends the day")
    parser.add_argument("--hold-send", type=int, default=0,
                        help="stop the engine thread in its K-th hand-over to the broker, to be killed there")  # fmt: skip
    parser.add_argument("--hold-where", choices=("before", "after"), default="after",
                        help="with --hold-send: before the broker takes the intents or right after")  # fmt: skip
    parser.add_argument("--gateway", choices=("sim", "qmt"), default="sim",
                        help="sim: the simulated broker directly; qmt: through the QMT gateway and the stand-in")  # fmt: skip
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(main())
