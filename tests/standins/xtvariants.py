"""A second xtpythonclient behaviour set: what a real miniQMT (or another checker's stand-in) may do
within the documented interface (RULES.md A1-A4, xttrader.md), where ours happens to be tidy.

`VariantExchange` is the stand-in's exchange (tests/standins/xtpythonclient.py: the simulated broker
behind the native surface) with its pushes rewritten on their way out, per named variation:

    trade_before_order     order pushes come late: after the next push of another kind (a trade, a
                           response), so a fill can be heard before the order that made it
    order_before_response  the async response comes after the order's first push
    trades_late            trade pushes come after the next push of another kind: an order can be
                           heard filled (56) or cancelled (53/54) before its last trades
    remark_truncated       order_remark echoed cut to REMARK_KEEP characters (QMT keeps remarks short)
    remark_empty           order_remark echoed empty (order, trade, error pushes, responses, queries)
    strategy_missing       strategy_name absent from pushes (attribute deleted) and empty in responses
    pre_report             each order is first pushed as 48 (unsent) and 49 (queued) with no sysid and
                           no fills, then as the counter has it
    noise                  prices and amounts with float noise (10.100000001), volumes as floats (1000.0)
    skip_55                part-filled pushes (55) never come: 50 straight to 56, or to 52/53
    cancel_as_54           a part-filled order's cancel confirmed as 54 (cancelled) with its traded volume
    late_duplicates        every trade pushed again, after the next push (same traded_id, same content)
    foreign_threads        every push delivered from a new thread of its own (one after the other)
    foreign_orders         query_stock_orders also lists orders of other programs: another script's
                           remark, a hand order (empty remark), both final with nothing traded
    refusal_in_response    an order the counter refuses (faults.reject_next) is answered only by its
                           async response: order_id -1 and the reason in error_msg; no push, no error
    cancel_refused_late    a refused cancel (faults.refuse_cancels) is answered "sent" (cancel_result
                           0), then refused by a cancel error alone (its order_id and sysid), no order push
`connect_codes` (a list) is what connect() returns, one per call, before the exchange's own answer:
[-1, 0] is a miniQMT that refuses the first connect and takes the second. `subscribe_codes` likewise
for subscribe's answer (a non-zero code: the account was not subscribed).

Each push is rewritten on a copy (the counter's own objects are never changed). `drain()` lets out
whatever a variation still holds back, so `wait_idle` means every push was delivered, as in ours.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from app.domain.clock import Clock
from tests.standins import xtpythonclient as standin

REMARK_KEEP = 6
VARIATIONS = frozenset({
    "trade_before_order", "order_before_response", "trades_late", "remark_truncated", "remark_empty", "strategy_missing",
    "pre_report", "noise", "skip_55", "cancel_as_54", "late_duplicates", "foreign_threads", "foreign_orders",
    "refusal_in_response", "cancel_refused_late",
})  # fmt: skip
NOISE = 1e-9

ORDER_PUSH = "bindOnStockOrderCallback"
TRADE_PUSH = "bindOnStockTradeCallback"
ORDER_RESP = "bindOnOrderStockRespCallback"
ORDER_ERROR = "bindOnOrderErrorCallback"
ORDERS_QUERY = "bindOnQueryStockOrdersCallback"
TRADES_QUERY = "bindOnQueryStockTradesCallback"
POSITIONS_QUERY = "bindOnQueryStockPositionsCallback"


class VariantExchange(standin.Exchange):
    """The stand-in's exchange with the pushes of `variations` (see the module docstring)."""

    def __init__(self, path: Path, clock: Clock, *, variations: Iterable[str] = (), **kwargs: Any) -> None:
        chosen = frozenset(variations)
        unknown = chosen - VARIATIONS
        if unknown:
            raise ValueError(f"unknown variations {sorted(unknown)}; known: {sorted(VARIATIONS)}")
        self.variations = chosen
        self._vlock = threading.RLock()
        self._late: list[tuple[Any, str, tuple[Any, ...]]] = []
        self._pre_reported: set[int] = set()
        self.rewritten = 0
        self.connect_codes: list[int] = []
        self.subscribe_codes: list[int] = []
        super().__init__(path, clock, **kwargs)

    # ------------------------------------------------------------------ answers of another kind
    def attach(self, client: Any) -> int:
        with self._lock:
            if self.connect_codes:
                code = self.connect_codes.pop(0)
                if code != 0:
                    return code
        return super().attach(client)

    def subscribe(self, client: Any, seq: int, req: Any) -> None:
        with self._lock:
            code = self.subscribe_codes.pop(0) if self.subscribe_codes else 0
        if code:
            self._push(client, "bindOnSubscribeRespCallback", seq, code)
            return
        super().subscribe(client, seq, req)

    def _refuse(self, client: Any, seq: int, req: Any, message: str, *, error_first: bool) -> None:
        if "refusal_in_response" not in self.variations:
            super()._refuse(client, seq, req, message, error_first=error_first)
            return
        self._push(client, ORDER_RESP, seq, standin._OrderResp(
            self.account_id, -1, req.m_strStrategyName, req.m_strOrderRemark, message
        ))  # fmt: skip

    def cancel(self, client: Any, seq: int, req: Any) -> None:
        if "cancel_refused_late" not in self.variations or not self.faults.refuse_cancels:
            super().cancel(client, seq, req)
            return
        _, xttype = standin._xt()
        with self._lock:
            message = self.faults.refuse_cancels.pop(0)
        order_id = int(req.m_nOrderID or 0)
        sysid = next(
            (r.order_sysid for r in self.broker.query_orders() if int(r.broker_order_id) == order_id), ""
        )
        self._push(client, "bindOnCancelOrderStockRespCallback", seq,
                   standin._CancelResp(self.account_id, 0, order_id, "", ""))  # fmt: skip
        self._push(client, "bindOnCancelErrorCallback",
                   xttype.XtCancelError(self.account_id, order_id, 0, sysid, -2, message))  # fmt: skip

    # ------------------------------------------------------------------ delivery
    def _push(self, client: Any, name: str, *args: Any) -> None:
        if client is None:
            return
        v = self.variations
        with self._vlock:
            pushes = self._rewrite(name, args)
            for push_name, push_args in pushes:
                held = (
                    (push_name == ORDER_PUSH and "trade_before_order" in v)
                    or (push_name == ORDER_RESP and "order_before_response" in v)
                    or (push_name == TRADE_PUSH and "trades_late" in v)
                )
                if held:
                    self._late.append((client, push_name, push_args))
                    continue
                self._enqueue(client, push_name, push_args)
                late, self._late = self._late, []
                for item in late:
                    self._enqueue(*item)
                if push_name == TRADE_PUSH and "late_duplicates" in v:
                    self._late.append((client, push_name, (copy.copy(push_args[0]),)))

    def _enqueue(self, client: Any, name: str, args: tuple[Any, ...]) -> None:
        deliver = client._deliver
        if "foreign_threads" in self.variations:

            def deliver(*a: Any, _d: Any = client._deliver) -> None:
                thread = threading.Thread(target=_d, args=a, name="xtvariant-push")
                thread.start()
                thread.join()

        with self._cond:
            self._queue.append((deliver, (name, *args)))
            self._cond.notify_all()

    def drain(self, timeout: float = 5.0) -> None:
        with self._vlock:
            late, self._late = self._late, []
            for item in late:
                self._enqueue(*item)
        super().drain(timeout)

    # ------------------------------------------------------------------ rewriting
    def _rewrite(self, name: str, args: tuple[Any, ...]) -> list[tuple[str, tuple[Any, ...]]]:
        v = self.variations
        if name == ORDER_PUSH:
            order = self._fields(copy.copy(args[0]))
            if "skip_55" in v and order.order_status == 55:
                return []
            if "cancel_as_54" in v and order.order_status == 53:
                order.order_status = 54
            out: list[tuple[str, tuple[Any, ...]]] = []
            if "pre_report" in v and order.order_id not in self._pre_reported:
                self._pre_reported.add(order.order_id)
                for status in (48, 49):
                    early = copy.copy(order)
                    early.order_status, early.order_sysid = status, ""
                    early.traded_volume, early.traded_price = 0, 0.0
                    out.append((ORDER_PUSH, (early,)))
            out.append((ORDER_PUSH, (order,)))
            return out
        if name in (TRADE_PUSH, ORDER_ERROR):
            return [(name, (self._fields(copy.copy(args[0])),))]
        if name == ORDER_RESP:
            seq, resp = args
            resp = copy.copy(resp)
            resp.m_strOrderRemark = self._remark(resp.m_strOrderRemark)
            if "strategy_missing" in v:
                resp.m_strStrategyName = ""
            return [(name, (seq, resp))]
        if name in (ORDERS_QUERY, TRADES_QUERY, POSITIONS_QUERY):
            seq, rows = args
            rows = [self._fields(copy.copy(r)) for r in rows]
            if name == ORDERS_QUERY and "foreign_orders" in v and rows:
                rows += self._foreign(rows[0])
            return [(name, (seq, rows))]
        return [(name, args)]

    def _remark(self, remark: str) -> str:
        if "remark_empty" in self.variations:
            return ""
        if "remark_truncated" in self.variations:
            return remark[:REMARK_KEEP]
        return remark

    def _fields(self, obj: Any) -> Any:
        v = self.variations
        self.rewritten += 1
        if hasattr(obj, "order_remark"):
            obj.order_remark = self._remark(obj.order_remark)
        if "strategy_missing" in v and hasattr(obj, "strategy_name"):
            del obj.strategy_name
        if "noise" in v:
            for price in ("price", "traded_price", "traded_amount", "commission", "open_price", "avg_price",
                          "last_price", "market_value"):  # fmt: skip
                value = getattr(obj, price, None)
                if isinstance(value, float) and value:
                    setattr(obj, price, value + NOISE * (1 if obj.__class__.__name__ != "XtTrade" else -1))
            for volume in ("order_volume", "traded_volume", "volume", "can_use_volume", "frozen_volume"):
                value = getattr(obj, volume, None)
                if isinstance(value, int) and not isinstance(value, bool):
                    setattr(obj, volume, float(value))
        return obj

    def _foreign(self, model: Any) -> list[Any]:
        """Orders of other programs on the same account, both final with nothing traded."""
        rows = []
        for n, remark in ((1, "grid-bot-17"), (2, "")):
            row = copy.copy(model)
            row.order_id = 800_000_000 + n
            row.order_sysid = f"F{n}"
            row.order_remark, row.strategy_name = remark, "other"
            row.traded_volume, row.traded_price, row.order_status = 0, 0.0, 54
            rows.append(row)
        return rows


def configure_variant(path: Path, clock: Clock, variations: Iterable[str], **kwargs: Any) -> VariantExchange:
    """Like standin.configure: the exchange behind the userdata folder `path`, with `variations`."""
    key = Path(path).resolve()
    with standin._EXCHANGES_LOCK:
        old = standin._EXCHANGES.pop(key, None)
        if old is not None:
            old.close()
        exchange = VariantExchange(key, clock, variations=variations, **kwargs)
        standin._EXCHANGES[key] = exchange
        return exchange
