"""A stand-in for xtquant's `xtdata` module, at the level of its documented functions (RULES.md A5).

xtquant's real xtdata talks to a running miniQMT through its native client, which ships for Windows
only, so tests replace the whole module: `installed()` puts this module in `sys.modules` as
`xtquant.xtdata` (and a bare `xtquant` package beside it, so xtquant's own `__init__` and its PyPI
version check never run). Nothing of xtquant's code is copied; the signatures and return shapes follow
xtdata.py and doc/xtdata.md of the 250807 wheel:

- `subscribe_whole_quote(code_list, callback=None)` -> a subscription number > 0; `code_list` holds
  markets ("SH", "SZ") or codes; the callback gets `{code: tick}` on xtdata's own thread;
- `unsubscribe_quote(seq)`; `get_full_tick(code_list)` -> `{code: tick}` (unknown codes left out);
- `get_instrument_detail(stock_code, iscomplete=False)` -> dict or None;
- `get_trading_dates(market, start_time='', end_time='', count=-1)` -> epoch ms of China's midnights;
- `get_trading_calendar(market, start_time='', end_time='')` -> 'YYYYMMDD' texts, SH/SZ only.

Ticks are what xtdata sends: float prices with noise, `volume`/`askVol`/`bidVol` in lots of 100,
books padded with 0. A callback that raises is caught and kept in `callback_errors`, as xtdata catches
and prints it. The test side: `reset()`, `add_instrument`, `set_tick`, `push` (from the push thread),
`connected`, `calls`.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

CN = timezone(timedelta(hours=8))
NOT_RUNNING = "无法连接xtquant服务，请检查QMT-投研版或QMT-极简版是否开启"

_lock = threading.Lock()
_seq = itertools.count(1)
connected = True
details: dict[str, dict[str, Any]] = {}
ticks: dict[str, dict[str, Any]] = {}
trading_days: list[date] = []
subscriptions: dict[int, tuple[tuple[str, ...], Callable[[Any], None] | None]] = {}
callback_errors: list[BaseException] = []
calls: list[tuple[str, tuple[Any, ...]]] = []
_pushes: queue.SimpleQueue[Any] = queue.SimpleQueue()
_thread: threading.Thread | None = None
push_thread_ids: set[int] = set()


def reset() -> None:
    global connected
    with _lock:
        connected = True
        details.clear()
        ticks.clear()
        trading_days.clear()
        subscriptions.clear()
        callback_errors.clear()
        calls.clear()
        push_thread_ids.clear()


def _client(name: str, *args: Any) -> None:
    calls.append((name, args))
    if not connected:
        raise Exception(NOT_RUNNING)


# ------------------------------------------------------------------ xtdata's documented functions
def subscribe_whole_quote(code_list: Sequence[str], callback: Callable[[Any], None] | None = None) -> int:
    _client("subscribe_whole_quote", tuple(code_list))
    with _lock:
        seq = next(_seq)
        subscriptions[seq] = (tuple(code_list), callback)
    return seq


def unsubscribe_quote(seq: int) -> None:
    _client("unsubscribe_quote", seq)
    with _lock:
        subscriptions.pop(seq, None)


def get_full_tick(code_list: Sequence[str]) -> dict[str, dict[str, Any]]:
    _client("get_full_tick", tuple(code_list))
    with _lock:
        return {code: dict(ticks[code]) for code in code_list if code in ticks}


def get_instrument_detail(stock_code: str, iscomplete: bool = False) -> dict[str, Any] | None:
    _client("get_instrument_detail", stock_code)
    with _lock:
        detail = details.get(stock_code)
        return None if detail is None else dict(detail)


def _bounds(start_time: str, end_time: str) -> tuple[date, date]:
    first = datetime.strptime(start_time, "%Y%m%d").date() if start_time else date.min
    last = datetime.strptime(end_time, "%Y%m%d").date() if end_time else date.max
    return first, last


def get_trading_dates(market: str, start_time: str = "", end_time: str = "", count: int = -1) -> list[int]:
    _client("get_trading_dates", market, start_time, end_time, count)
    first, last = _bounds(start_time, end_time)
    days = [d for d in trading_days if first <= d <= last]
    if count > 0:
        days = days[-count:]
    return [int(datetime.combine(d, time(0), CN).timestamp() * 1000) for d in days]


def get_trading_calendar(market: str, start_time: str = "", end_time: str = "") -> list[str]:
    _client("get_trading_calendar", market, start_time, end_time)
    if market not in ("SH", "SZ"):
        raise Exception("暂不支持除SH,SZ以外市场的交易日历")
    if not trading_days:
        raise Exception("交易日列表为空")
    first, last = _bounds(start_time, end_time)
    return [f"{d:%Y%m%d}" for d in trading_days if first <= d <= last]


# ------------------------------------------------------------------ the test side
def add_instrument(
    code: str,
    prev_close: float,
    *,
    name: str = "",
    up: float | None = None,
    down: float | None = None,
    tick: float = 0.01,
    status: int = 0,
    open_date: str | int = "19991110",
) -> None:
    """An instrument as get_instrument_detail gives it (floats; limits given as xtdata's floats)."""
    pct = 0.1
    with _lock:
        details[code] = {
            "ExchangeID": code.rsplit(".", 1)[-1], "InstrumentID": code.split(".")[0],
            "InstrumentName": name or code, "OpenDate": open_date, "PreClose": prev_close,
            "UpStopPrice": round(prev_close * (1 + pct), 2) if up is None else up,
            "DownStopPrice": round(prev_close * (1 - pct), 2) if down is None else down,
            "PriceTick": tick, "InstrumentStatus": status, "IsTrading": status == 0,
            "FloatVolume": 1e9, "TotalVolume": 2e9, "VolumeMultiple": 1,
        }  # fmt: skip


def make_tick(
    last: float,
    prev: float,
    *,
    ms: int = 1_733_118_954_000,
    volume_lots: int | float = 7586,
    amount: float = 862127800.0,
    bids: Sequence[float] | None = None,
    asks: Sequence[float] | None = None,
    bid_lots: Sequence[int | float] | None = None,
    ask_lots: Sequence[int | float] | None = None,
) -> dict[str, Any]:
    """A tick as subscribe_whole_quote delivers it (field names of doc/xtdata.md)."""
    bids = [round(last - 0.01 * i, 2) for i in range(5)] if bids is None else list(bids)
    asks = [round(last + 0.01 * (i + 1), 2) for i in range(5)] if asks is None else list(asks)
    return {
        "time": ms, "lastPrice": last, "open": prev, "high": max(last, prev), "low": min(last, prev),
        "lastClose": prev, "amount": amount, "volume": volume_lots, "pvolume": int(volume_lots * 100),
        "stockStatus": 3, "openInt": 13, "transactionNum": 37062, "lastSettlementPrice": prev,
        "settlementPrice": 0.0, "pe": 0.0, "askPrice": asks, "bidPrice": bids,
        "askVol": list(ask_lots) if ask_lots is not None else [100, 200, 300, 400, 500][: len(asks)],
        "bidVol": list(bid_lots) if bid_lots is not None else [100, 200, 300, 400, 500][: len(bids)],
        "volRatio": 0.0, "speed1Min": 0.0, "speed5Min": 0.0,
    }  # fmt: skip


def set_tick(code: str, tick: Mapping[str, Any]) -> None:
    with _lock:
        ticks[code] = dict(tick)


def _wanted(codes: tuple[str, ...], code: str) -> bool:
    return code in codes or code.rsplit(".", 1)[-1] in codes


def push(data: Mapping[str, Mapping[str, Any]], *, wait: bool = True) -> None:
    """Deliver `{code: tick}` to every subscription that covers the code, from xtdata's push thread
    (one callback per subscription per push, as the real one calls each subscription's callback)."""
    global _thread
    with _lock:
        ticks.update({code: dict(tick) for code, tick in data.items()})
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_deliver, name="xtdata-push", daemon=True)
            _thread.start()
    done = threading.Event()
    _pushes.put((dict(data), done))
    if wait and not done.wait(10):
        raise TimeoutError("the xtdata stand-in did not deliver a push in time")


def _deliver() -> None:
    push_thread_ids.add(threading.get_ident())
    while True:
        data, done = _pushes.get()
        with _lock:
            targets = list(subscriptions.values())
        for codes, callback in targets:
            chosen = {code: tick for code, tick in data.items() if _wanted(codes, code)}
            if chosen and callback is not None:
                try:
                    callback(chosen)
                except BaseException as exc:  # xtdata prints the traceback and goes on
                    callback_errors.append(exc)
        done.set()


@contextlib.contextmanager
def installed() -> Iterator[types.ModuleType]:
    """This module as `xtquant.xtdata` (and a bare `xtquant` package) for the duration."""
    this = sys.modules[__name__]
    package = types.ModuleType("xtquant")
    package.__path__ = []  # nothing else of xtquant is found through it
    package.xtdata = this  # type: ignore[attr-defined]
    saved = {name: sys.modules.get(name) for name in ("xtquant", "xtquant.xtdata")}
    sys.modules["xtquant"] = package
    sys.modules["xtquant.xtdata"] = this
    reset()
    try:
        yield this
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
        reset()
