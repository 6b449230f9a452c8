"""The post-close sync payload `eod_sync/1` (BIGQUANT.md §2).

Built from the broker's books (what really happened in the account) joined with Tiller's own (which
strategy and planned order each order and fill belongs to). Never holds a secret or the raw broker
account id (ARCHITECTURE.md invariant 6): the account is a hash. Money is a JSON number rounded to
the fen; inside Tiller it stays exact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.core.eod.reconcile import Reconciliation
from app.domain.clock import CN_TZ
from app.domain.orders import Order, OrderStatus, PriceType
from app.domain.reports import BrokerAsset, BrokerPosition, OrderReport, TradeReport

SCHEMA = "eod_sync/1"
FEN = Decimal("0.01")
# xtconstant price types as BigQuant sees them (FIX_PRICE 11, …; RULES.md A3); SZ codes for the rest
_PRICE_TYPE_CODES = {
    PriceType.LIMIT: 11,
    PriceType.BEST5_IOC: 42,
    PriceType.BEST5_TO_LIMIT: 43,
    PriceType.PEER_BEST: 44,
    PriceType.OWN_BEST: 45,
    PriceType.IOC: 46,
    PriceType.FOK: 48,
}


def account_hash(account_id: str) -> str:
    return hashlib.sha256(f"tiller-account|{account_id}".encode()).hexdigest()


def sync_id_of(account: str, day: date, revision: int) -> str:
    """sha256(account|trading_day|revision): the upsert key (`account` is already the hash)."""
    return hashlib.sha256(f"{account}|{day.isoformat()}|{revision}".encode()).hexdigest()


def money(value: Decimal) -> float:
    return float(value.quantize(FEN, rounding=ROUND_HALF_UP))


def number(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True, slots=True)
class DayFacts:
    """Everything the payload is made of, read at the close."""

    day: date
    account_id: str  # the raw broker account id: only its hash goes out
    asset: BrokerAsset
    positions: Sequence[BrokerPosition]
    broker_orders: Sequence[OrderReport]
    broker_trades: Sequence[TradeReport]
    local_orders: Sequence[Order]
    position_strategies: Mapping[str, str]  # code -> strategy_id, where Tiller knows it
    reconciliation: Reconciliation
    net_transfer: Decimal = Decimal(0)


def build_payload(facts: DayFacts, revision: int) -> dict[str, Any]:
    account = account_hash(facts.account_id)
    by_cid = {o.client_order_id: o for o in facts.local_orders}
    by_bid = {o.broker_order_id: o for o in facts.local_orders if o.broker_order_id is not None}

    def local_of(report: OrderReport | TradeReport) -> Order | None:
        found = by_cid.get(report.client_order_id) if report.client_order_id else None
        return found or by_bid.get(report.broker_order_id)

    strategies = sorted(
        {o.strategy_id for o in facts.local_orders if o.strategy_id}
        | {s for s in facts.position_strategies.values() if s}
    )
    asset = facts.asset
    positions = []
    for p in sorted(facts.positions, key=lambda p: p.code):
        if p.total <= 0:
            continue
        last = p.last_price
        value = None if last is None else last * p.total
        positions.append(
            {
                "instrument": p.code,
                "qty": p.total,
                "available_qty": p.sellable,
                "today_qty": max(0, p.total - p.sellable - p.frozen),
                "cost_price": number(p.avg_price),
                "last_price": number(last),
                "market_value": None if value is None else money(value),
                "pnl": None if last is None else money((last - p.avg_price) * p.total),
                "strategy_id": facts.position_strategies.get(p.code) or None,
            }
        )
    orders = []
    for r in sorted(facts.broker_orders, key=lambda r: (r.ts, r.broker_order_id)):
        local = local_of(r)
        orders.append(
            {
                "broker_order_id": _int_or_text(r.broker_order_id),
                "order_sysid": r.order_sysid,
                "client_order_id": r.client_order_id,
                "signal_id": (local.signal_id or None) if local else None,
                "strategy_id": (local.strategy_id or None) if local else None,
                "instrument": r.code,
                "side": r.side.value,
                "price_type": _PRICE_TYPE_CODES.get(r.price_type, 11),
                "price": number(r.price),
                "qty": r.qty,
                "filled_qty": r.filled_qty,
                "avg_price": number(r.avg_price),
                "status": r.status.value,
                "status_msg": r.status_msg,
                "order_time": r.ts.astimezone(CN_TZ).isoformat(),
            }
        )
    trades = []
    for t in sorted(facts.broker_trades, key=lambda t: (t.ts, t.broker_order_id, t.trade_id)):
        local = local_of(t)
        trades.append(
            {
                "traded_id": t.trade_id,
                "order_sysid": t.order_sysid,
                "broker_order_id": _int_or_text(t.broker_order_id),
                "instrument": t.code,
                "side": t.side.value,
                "price": number(t.price),
                "qty": t.qty,
                "amount": money(t.amount),
                "commission": money(t.fees),
                "traded_time": t.ts.astimezone(CN_TZ).isoformat(),
                "signal_id": (local.signal_id or None) if local else None,
                "strategy_id": (local.strategy_id or None) if local else None,
            }
        )
    return {
        "schema": SCHEMA,
        "sync_id": sync_id_of(account, facts.day, revision),
        "revision": revision,
        "trading_day": facts.day.isoformat(),
        "account": account,
        "strategies": strategies,
        "cash": {
            "currency": "CNY",
            "balance": money(asset.cash),
            "available": money(asset.available),
            "frozen": money(asset.frozen),
            "market_value": money(asset.market_value),
            "total_asset": money(asset.total_asset),
            "net_transfer": money(facts.net_transfer),
        },
        "positions": positions,
        "orders": orders,
        "trades": trades,
        "signal_outcomes": signal_outcomes(facts.local_orders),
        "reconciliation": {
            "status": facts.reconciliation.status.value,
            "differences": list(facts.reconciliation.differences),
        },
    }


def _int_or_text(value: str) -> int | str:
    return int(value) if value.isdigit() and len(value) < 19 else value


_ENDED_UNFILLED = {
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.REJECTED: "rejected",
    OrderStatus.DENIED: "skipped",
    OrderStatus.EXPIRED: "expired",
}


def signal_outcomes(orders: Sequence[Order]) -> list[dict[str, Any]]:
    """One outcome per planned order (signal id): filled, partially_filled, submitted, or how it ended."""
    by_signal: dict[str, list[Order]] = {}
    for o in orders:
        if o.signal_id:
            by_signal.setdefault(o.signal_id, []).append(o)
    out = []
    for signal_id, group in sorted(by_signal.items()):
        group.sort(key=lambda o: o.created_at)
        filled = sum(o.filled_qty for o in group)
        last = group[-1]
        reason: str | None = None
        if last.status is OrderStatus.FILLED:
            state = "filled"  # the last order of the line (a fallback's re-send included) completed it
        elif filled:
            state = "partially_filled"
            reason = last.status_msg or None
        elif last.status in _ENDED_UNFILLED:
            state = _ENDED_UNFILLED[last.status]
            reason = last.status_msg or None
        else:
            state = "submitted"
        out.append({"signal_id": signal_id, "state": state, "filled_qty": filled, "reason": reason})
    return out


def payload_json(payload: Mapping[str, Any]) -> str:
    """The bytes that go on the wire and into the outbox: compact, keys in order, UTF-8 kept."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False)


def same_content(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Two payloads of a day say the same, whatever their revision."""
    strip = ("sync_id", "revision")
    return {k: v for k, v in a.items() if k not in strip} == {k: v for k, v in b.items() if k not in strip}
