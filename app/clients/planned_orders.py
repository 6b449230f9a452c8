"""BigQuant planned orders (BIGQUANT.md §1) → signal batches, one per strategy and trading day.

Tolerant of extra fields, strict about the ones used. A bad line is kept with its reason and
produces no order; the rest of the batch goes on.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from app.domain.errors import DomainError
from app.domain.instruments import classify
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine

DIRECTIONS = {"1": Side.BUY, "2": Side.SELL}


class PlannedOrdersError(ValueError):
    """A response or file that is not a planned-order list at all."""


class FileSignalSource:
    """Planned orders from a JSON file in BigQuant's format (the demo's batch, a file drop)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fetch(self, day: date) -> list[SignalBatch]:
        return [batch for batch in load_planned_orders_file(self.path) if batch.trading_day == day]


def load_planned_orders_file(path: Path) -> list[SignalBatch]:
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlannedOrdersError(f"无法读取计划订单文件 {path}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise PlannedOrdersError(
            f"计划订单文件 {path} 不是有效的 JSON（第 {exc.lineno} 行）: {exc.msg}"
        ) from exc
    return parse_planned_orders(payload, source=str(path))


def parse_planned_orders(payload: Any, *, source: str = "response") -> list[SignalBatch]:
    """Accepts the API envelope `{"code": 0, "data": {"items": [...]}}` or a bare list of items."""
    if isinstance(payload, dict):
        if payload.get("code", 0) != 0:
            raise PlannedOrdersError(
                f"{source}: BigQuant 返回错误 {payload.get('code')}: {payload.get('message')}"
            )
        data = payload.get("data")
        items = data.get("items") if isinstance(data, dict) else None
    else:
        items = payload
    if not isinstance(items, list):
        raise PlannedOrdersError(f"{source}: 没有 data.items 列表 (expected a list of planned orders)")
    lines: dict[tuple[str, date], list[SignalLine]] = defaultdict(list)
    rejected: dict[tuple[str, date], list[tuple[str, str]]] = defaultdict(list)
    loose: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        try:
            line = _line(item)
        except (ValueError, TypeError, KeyError, DomainError) as exc:
            ident = (
                str(item.get("planned_order_id", f"#{position}"))
                if isinstance(item, dict)
                else f"#{position}"
            )
            key = _batch_key(item)
            (rejected[key] if key else loose).append((ident, _reason(exc)))
            continue
        if line.signal_id in seen:
            rejected[(line.strategy_id, line.trading_day)].append((line.signal_id, "重复的 planned_order_id"))
            continue
        seen.add(line.signal_id)
        lines[(line.strategy_id, line.trading_day)].append(line)
    keys = sorted(set(lines) | set(rejected))
    batches = [
        SignalBatch(
            strategy, day, tuple(lines.get((strategy, day), ())), tuple(rejected.get((strategy, day), ()))
        )
        for strategy, day in keys
    ]
    if loose:
        if not batches:
            raise PlannedOrdersError(
                f"{source}: 没有一条有效的计划订单: " + "; ".join(f"{i}: {r}" for i, r in loose)
            )
        first = batches[0]
        batches[0] = SignalBatch(first.strategy_id, first.trading_day, first.lines, (*first.rejected, *loose))
    return batches


def _batch_key(item: Any) -> tuple[str, date] | None:
    try:
        return str(item["strategy_id"]), date.fromisoformat(str(item["trading_day"]))
    except (TypeError, KeyError, ValueError):
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"缺少字段 {exc.args[0]} (missing field)"
    return str(exc)


def _line(item: Any) -> SignalLine:
    if not isinstance(item, dict):
        raise TypeError(f"计划订单应为对象 (an object), was {type(item).__name__}")
    signal_id = _text(item, "planned_order_id")
    strategy_id = _text(item, "strategy_id")
    day = date.fromisoformat(_text(item, "trading_day"))
    instrument = classify(_text(item, "instrument"), str(item.get("name") or ""))
    direction = str(item["direction"])
    if direction not in DIRECTIONS:
        raise ValueError(f"direction 应为 '1'(买) 或 '2'(卖), was {direction!r}")
    qty = item["order_qty"]
    if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
        raise ValueError(f"order_qty 应为正整数股数, was {qty!r}")
    ref_price = _price(item.get("order_price"))
    return SignalLine(
        signal_id=signal_id,
        strategy_id=strategy_id,
        trading_day=day,
        code=instrument.code,
        name=str(item.get("name") or ""),
        side=DIRECTIONS[direction],
        qty=qty,
        ref_price=ref_price,
        exec_time=_exec_time(item.get("order_dt")),
    )


def _text(item: dict[str, Any], key: str) -> str:
    value = item[key]
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValueError(f"{key} 不能为空 (must not be empty)")
    if not isinstance(value, str | int):
        raise ValueError(f"{key} 应为字符串, was {value!r}")
    return str(value).strip()


def _price(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"order_price 应为数字, was {value!r}")
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"order_price 应为数字, was {value!r}") from None
    if not price.is_finite() or price <= 0:
        raise ValueError(f"order_price 应为正数, was {value!r}")
    return price


def _exec_time(value: Any) -> time:
    if value is None:
        return OPEN
    try:
        return datetime.fromisoformat(str(value)).time().replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"order_dt 不是有效时间, was {value!r}") from None
