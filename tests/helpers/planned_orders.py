"""One BigQuant planned order (BIGQUANT.md §1) as its JSON object, for the loader's tests."""

from __future__ import annotations

from typing import Any


def planned_item(**overrides: Any) -> dict[str, Any]:
    """A valid planned order (600000.SH, buy 100 at 10.05 on 2026-11-23); `overrides` replace fields."""
    base: dict[str, Any] = {
        "planned_order_id": "1",
        "strategy_id": "S",
        "trading_day": "2026-11-23",
        "order_dt": "2026-11-23T09:30:00+08:00",
        "instrument": "600000.SH",
        "name": "浦发银行",
        "direction": "1",
        "order_qty": 100,
        "order_price": 10.05,
    }
    base.update(overrides)
    return base
