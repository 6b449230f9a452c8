"""Quote scenarios: the peer's tick run (100,000 ticks over 500 codes) and a full-market snapshot.

Quotes enter the engine as the live feed will deliver them: `engine.post(QuotesArrived(quotes))`
from the feed's thread. The time runs from the first push to `engine.wait_idle()` returning in
the pushing thread (every message handled, committed and its events published: stricter than the
peer's sentinel, which stamps the time on the event thread).

An engine listener is subscribed that only hands events on (a deque), as the UI bridge will, so
the engine builds its QuotesUpdated / AccountUpdated events as it does with a window open.
"""

from __future__ import annotations

import gc
import time
from collections import deque
from dataclasses import fields
from datetime import timedelta
from decimal import Decimal
from typing import Any

from app.core.messages import QuotesArrived
from app.domain.market import InstrumentInfo, Quote
from bench.rig import AT, DAY, Rig, hwm_mib, latency_summary_us, rss_mib
from bench.xtquote import XtQuoteConverter

LEVELS = 7  # price levels per code, cycled, as the peer's table (7 × codes entries)
AT_MS = int(AT.timestamp() * 1000)


def tick_codes(n: int) -> list[str]:
    """Half Shanghai main board from 600000, half Shenzhen from 000001 (the peer's symbols)."""
    sh = [f"{600000 + i:06d}.SH" for i in range(n // 2)]
    sz = [f"{1 + i:06d}.SZ" for i in range(n - n // 2)]
    return sh + sz


def xt_tick(last: float, ms: int) -> dict[str, Any]:
    """An xtdata tick as subscribe_whole_quote delivers it (RULES A5): floats, volumes in lots,
    five levels a side (the peer's book: bid_l = last − 0.01·l, ask_l = last + 0.01·(l − 1))."""
    return {
        "time": ms,
        "lastPrice": last,
        "open": last,
        "high": round(last + 0.05, 2),
        "low": round(last - 0.05, 2),
        "lastClose": last,
        "amount": 1e7,
        "volume": 10_000,
        "pvolume": 1_000_000,
        "stockStatus": 0,
        "openInt": 13,
        "transactionNum": 1234,
        "lastSettlementPrice": 0.0,
        "settlementPrice": 0.0,
        "pe": 0.0,
        "askPrice": [round(last + 0.01 * (lvl - 1), 2) for lvl in range(1, 6)],
        "bidPrice": [round(last - 0.01 * lvl, 2) for lvl in range(1, 6)],
        "askVol": [4 + lvl for lvl in range(1, 6)],
        "bidVol": [4 + lvl for lvl in range(1, 6)],
    }


def tick_table(codes: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """(code, tick) for LEVELS rounds over every code, each round 3 s later (the peer's table)."""
    return [
        (code, xt_tick(round(10.01 + 0.01 * k, 2), AT_MS + 3000 * k)) for k in range(LEVELS) for code in codes
    ]


class HandOff:
    """The listener: hands each event on and nothing more (engine.subscribe's contract). The deque
    stands for the UI's queue; bounded, as if the UI kept up, so it does not hoard every quote."""

    def __init__(self) -> None:
        self.events: deque[Any] = deque(maxlen=100)
        self.count = 0

    def __call__(self, event: Any) -> None:
        self.events.append(event)
        self.count += 1


def _prepare(rig: Rig, codes: list[str]) -> tuple[HandOff, list[tuple[str, dict[str, Any]]]]:
    listener = HandOff()
    rig.engine.subscribe(listener)
    table = tick_table(codes)
    # one first quote per code, untimed (the peer does the same)
    warm = XtQuoteConverter()
    rig.engine.post(QuotesArrived(warm.whole_quote(dict(table[: len(codes)]))))
    rig.engine.wait_idle()
    return listener, table


SOURCES = ("prebuilt", "fields", "xt")


def ticks(rig: Rig, m: int, n_codes: int, *, source: str, batched: bool) -> dict[str, Any]:
    """m ticks over n_codes codes, pushed from the calling thread (the feed's thread).

    source "prebuilt": Quote objects built beforehand (the peer's ticks_prebuilt).
    source "fields": Quote(**fields) built per push from precomputed values (exactly the peer's
    ticks_gen, which builds TickData(**kwargs) per push).
    source "xt": xtdata tick dicts (floats, lots) converted per push by XtQuoteConverter: the whole
    live path, stricter than the peer (its gateway's conversion is not in its figure).
    batched: one QuotesArrived per whole-market callback (all n_codes codes at one moment, as
    subscribe_whole_quote delivers them); else one QuotesArrived per tick.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, was {source!r}")
    codes = tick_codes(n_codes)
    listener, table = _prepare(rig, codes)
    nt = len(table)
    convert = XtQuoteConverter()
    names = [f.name for f in fields(Quote)]
    field_table = [{n: getattr(q, n) for n in names} for q in (convert.quote(c, t) for c, t in table)]
    gc.collect()
    rss_before = rss_mib()
    post = rig.engine.post
    result: dict[str, Any] = {"ticks": m, "codes": n_codes, "source": source, "batched": batched}
    perf = time.perf_counter
    if batched:
        starts = [start % nt for start in range(0, m, n_codes)]
        if source == "xt":
            callbacks = [dict(table[i : i + n_codes]) for i in starts]  # {code: tick}
            whole = convert.whole_quote
            t0 = perf()
            for data in callbacks:
                post(QuotesArrived(whole(data)))
        elif source == "fields":
            kwargs = [field_table[i : i + n_codes] for i in starts]
            t0 = perf()
            for batch in kwargs:
                post(QuotesArrived([Quote(**kw) for kw in batch]))
        else:
            t_b = perf()
            built = [[Quote(**kw) for kw in field_table[i : i + n_codes]] for i in starts]
            result["quote_build_only_per_s"] = round(m / (perf() - t_b), 1)
            gc.collect()
            result["rss_mib_with_prebuilt"] = rss_mib()
            t0 = perf()
            for quotes in built:
                post(QuotesArrived(quotes))
    elif source == "xt":
        one = convert.quote
        t0 = perf()
        for i in range(m):
            code, tick = table[i % nt]
            post(QuotesArrived((one(code, tick),)))
    elif source == "fields":
        t0 = perf()
        for i in range(m):
            post(QuotesArrived((Quote(**field_table[i % nt]),)))
    else:
        t_b = perf()
        singles = [Quote(**field_table[i % nt]) for i in range(m)]
        result["quote_build_only_per_s"] = round(m / (perf() - t_b), 1)
        gc.collect()
        result["rss_mib_with_prebuilt"] = rss_mib()
        t0 = perf()
        for quote in singles:
            post(QuotesArrived((quote,)))
    t_pushed = perf()
    rig.engine.wait_idle(300)
    t_done = perf()
    marks = rig.engine.call(lambda e: {c: e.oms.last_prices.get(c) for c in codes})
    last_code, last_tick = table[(m - 1) % nt]
    expected_last = Decimal(repr(last_tick["lastPrice"]))
    assert marks[last_code] == expected_last, (
        f"mark of {last_code} is {marks[last_code]}, expected {expected_last}"
    )
    assert all(v is not None for v in marks.values()), "a code has no mark after the tick run"
    result |= {
        "ticks_per_s": round(m / (t_done - t0), 1),
        "push_ticks_per_s": round(m / (t_pushed - t0), 1),
        "drain_after_push_ms": round((t_done - t_pushed) * 1e3, 1),
        "events_published": listener.count,
        "rss_mib_before_ticks": rss_before,
        "rss_mib_after_ticks": rss_mib(),
        "hwm_mib": hwm_mib(),
    }
    return result


# ---------------------------------------------------------------------------- full-market snapshot
def market_infos(n: int) -> list[InstrumentInfo]:
    """n instruments of a plausible full market (app.feeds.market_universe), with limits for DAY."""
    from app.feeds import SyntheticFeed, market_universe

    return SyntheticFeed(market_universe(n), seed=7).instruments(DAY)


def market_snapshots(infos: list[InstrumentInfo], count: int) -> list[list[Quote]]:
    """`count` full-market snapshots 3 s apart from 10:00, five levels a side, every code moving a
    few ticks inside its limits. Built directly (SyntheticFeed would walk the day from 9:15)."""
    snapshots = []
    for j in range(count):
        ts = AT + timedelta(seconds=3 * j)
        quotes = []
        for n, info in enumerate(infos):
            tick = info.tick
            move = ((n * 7 + j * 3) % 11 - 5) * tick
            last = info.prev_close + move
            if info.up_limit is not None and info.down_limit is not None:
                last = min(max(last, info.down_limit + 5 * tick), info.up_limit - 5 * tick)
            if last <= 5 * tick:
                last = 6 * tick
            bids = tuple(last - tick * i for i in range(5))
            asks = tuple(last + tick * (i + 1) for i in range(5))
            volume = 100_000 * (j + 1) + n * 100
            high, low = max(last, info.prev_close), min(last, info.prev_close)
            quote = Quote(
                info.code, ts, last, info.prev_close, high, low, info.prev_close, volume, last * volume,
                bids, (1000 + n % 7 * 100,) * 5, asks, (1200 + n % 5 * 100,) * 5,
            )  # fmt: skip
            quotes.append(quote)
        snapshots.append(quotes)
    return snapshots


def to_xt(quote: Quote) -> dict[str, Any]:
    """A Quote back as the xtdata dict a live callback would carry (floats, lots, padded books)."""
    pad = [0.0] * 5
    return {
        "time": int(quote.ts.timestamp() * 1000),
        "lastPrice": float(quote.last),
        "open": float(quote.open),
        "high": float(quote.high),
        "low": float(quote.low),
        "lastClose": float(quote.prev_close),
        "amount": float(quote.amount),
        "volume": quote.volume // 100,
        "pvolume": quote.volume,
        "stockStatus": 0,
        "openInt": 13,
        "transactionNum": 0,
        "lastSettlementPrice": 0.0,
        "askPrice": ([float(p) for p in quote.ask_prices] + pad)[:5],
        "bidPrice": ([float(p) for p in quote.bid_prices] + pad)[:5],
        "askVol": ([v // 100 for v in quote.ask_volumes] + [0] * 5)[:5],
        "bidVol": ([v // 100 for v in quote.bid_volumes] + [0] * 5)[:5],
    }


def snapshot(rig: Rig, infos: list[InstrumentInfo], snapshots: list[list[Quote]]) -> dict[str, Any]:
    """Each full-market snapshot handled by the engine (marks, QuotesUpdated, AccountUpdated),
    timed alone: from the post to wait_idle. Then the same from xtdata dicts (conversion
    included), the whole path (conversion, engine and simulated exchange, both waited for: the
    headline figure) and the simulated exchange's processing alone (matching + marks committed)."""
    listener = HandOff()
    rig.engine.subscribe(listener)
    perf = time.perf_counter
    engine_ms: list[float] = []
    for quotes in snapshots:
        gc.collect()
        t0 = perf()
        rig.engine.post(QuotesArrived(quotes))
        rig.engine.wait_idle()
        engine_ms.append(perf() - t0)
    raw_snapshots = [{q.code: to_xt(q) for q in quotes} for quotes in snapshots]
    # untimed: the converter gives back exactly the Quotes the dicts were made from
    assert XtQuoteConverter().whole_quote(raw_snapshots[-1]) == snapshots[-1], "xtdata round trip differs"
    convert = XtQuoteConverter()
    # cold: every book ladder seen for the first time (converted and checked); warm: the same
    # snapshots again, each ladder found in the converter's caches (a day's prices recur)
    raw_ms: dict[str, list[float]] = {"cold": [], "warm": []}
    for phase in ("cold", "warm"):
        for data in raw_snapshots:
            gc.collect()
            t0 = perf()
            rig.engine.post(QuotesArrived(convert.whole_quote(data)))
            rig.engine.wait_idle()
            raw_ms[phase].append(perf() - t0)
    # the whole path of a live simulated day: the feed thread converts xtdata's dicts and hands the
    # Quotes to the engine and to the simulated exchange; timed until both have done with them
    whole_ms: list[float] = []
    for data in raw_snapshots:
        gc.collect()
        t0 = perf()
        quotes = convert.whole_quote(data)
        rig.engine.post(QuotesArrived(quotes))
        rig.broker.on_quotes(quotes)
        rig.engine.wait_idle()
        rig.broker.wait_idle(60)
        whole_ms.append(perf() - t0)
    broker_ms: list[float] = []
    for quotes in snapshots[:5]:
        gc.collect()
        t0 = perf()
        rig.broker.on_quotes(quotes)
        rig.broker.wait_idle(60)
        broker_ms.append(perf() - t0)
    n = len(snapshots[0])
    last = snapshots[-1]
    marks = rig.engine.call(lambda e: [e.oms.last_prices.get(q.code) for q in last])
    assert marks == [q.last for q in last], "the engine's marks differ from the last snapshot"
    held = rig.engine.call(lambda e: sum(1 for p in e.oms.positions.values() if p.total))
    return {
        "instruments": n,
        "snapshots": len(snapshots),
        "positions_held": held,
        "engine_ms": _ms(engine_ms),
        "xt_convert_and_engine_cold_ms": _ms(raw_ms["cold"]),
        "xt_convert_and_engine_warm_ms": _ms(raw_ms["warm"]),
        "sim_exchange_ms": _ms(broker_ms),
        "whole_path_ms": _ms(whole_ms),
        "rss_mib_after": rss_mib(),
    }


def _ms(seconds: list[float]) -> dict[str, float]:
    summary = latency_summary_us(seconds)
    return {k.replace("_us", "_ms"): round(v / 1000, 2) for k, v in summary.items()}


def held_positions(infos: list[InstrumentInfo], count: int) -> list[tuple[str, int, Decimal]]:
    """Opening positions on `count` of the instruments, spread over the market."""
    step = max(1, len(infos) // max(1, count))
    return [(info.code, 1000, info.prev_close) for info in infos[::step][:count]]
