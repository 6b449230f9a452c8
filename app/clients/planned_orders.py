"""BigQuant planned orders (BIGQUANT.md §1) → signal batches, one per strategy and trading day.

Tolerant of extra fields, strict about the ones used. A bad line is kept with its reason and
produces no order; the rest of the batch goes on. Whatever the input (any JSON value, any bytes in
a file), the only error that leaves this module is `PlannedOrdersError`: a non-UTF-8 file, nesting
too deep for the parser, a number of thousands of digits or `1e400` are a refused file or a
refused line with its reason, never a `UnicodeDecodeError`, `RecursionError` or `ValueError`.

Numbers are taken from the JSON text exactly (`parse_float=Decimal`, so 10.1 stays 10.1), and
quantities and prices must lie within `app.domain.bounds`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from app.domain.bounds import check_price, check_qty
from app.domain.errors import DomainError
from app.domain.instruments import classify
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine

DIRECTIONS = {"1": Side.BUY, "2": Side.SELL}

MAX_FILE_BYTES = 50 * 1024 * 1024  # a day's planned orders are kilobytes; 50 MB is a wrong file
MAX_ID_CHARS = 64  # planned_order_id and strategy_id
MAX_TEXT_CHARS = 64  # instrument, name, trading_day, order_dt, direction
MAX_INT_DIGITS = 30  # an integer longer than this is no id, quantity or code (2**63 has 19 digits)
_BOM = b"\xef\xbb\xbf"


class PlannedOrdersError(ValueError):
    """A response or file that is not a planned-order list at all."""


class FileSignalSource:
    """Planned orders from a JSON file in BigQuant's format (the demo's batch, a file drop)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fetch(self, day: date) -> list[SignalBatch]:
        return [batch for batch in load_planned_orders_file(self.path) if batch.trading_day == day]


class _HugeNumber:
    """A JSON integer too long to be anything this format holds: kept so its line is refused
    with a reason (int() of 5,000 digits raises ValueError, and would cost quadratic time)."""

    __slots__ = ("digits",)

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def __repr__(self) -> str:
        return f"<一个 {self.digits} 位的数 (a {self.digits}-digit number)>"


def _parse_int(text: str) -> int | _HugeNumber:
    return int(text) if len(text) <= MAX_INT_DIGITS else _HugeNumber(len(text))


def _parse_constant(name: str) -> Decimal:
    # NaN, Infinity, -Infinity: not JSON, but Python's parser accepts them; as Decimals they are
    # refused by the bounds with the line's reason.
    return Decimal(name)


def parse_planned_orders_json(text: str, *, source: str = "response") -> Any:
    """`json.loads` of a planned-order document, numbers exact; any failure is PlannedOrdersError."""
    try:
        return json.loads(text, parse_float=Decimal, parse_int=_parse_int, parse_constant=_parse_constant)
    except json.JSONDecodeError as exc:
        raise PlannedOrdersError(
            f"{source} 不是有效的 JSON（第 {exc.lineno} 行）(not valid JSON, line {exc.lineno}): {exc.msg}"
        ) from None
    except RecursionError:
        raise PlannedOrdersError(
            f"{source} 的 JSON 嵌套过深 (nested too deeply to be a planned-order list)"
        ) from None
    except (ValueError, ArithmeticError) as exc:  # e.g. a Decimal the context refuses
        raise PlannedOrdersError(f"{source} 不是有效的 JSON (not valid JSON): {exc}") from None


def load_planned_orders_file(path: Path) -> list[SignalBatch]:
    """Read a planned-order file: UTF-8 (a BOM, as Windows Notepad writes, is accepted), at most
    MAX_FILE_BYTES."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PlannedOrdersError(
                f"计划订单文件 {path} 太大 (too large): {size:,} 字节 (bytes), "
                f"上限 {MAX_FILE_BYTES:,} (at most {MAX_FILE_BYTES // 1024 // 1024} MB)"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise PlannedOrdersError(f"无法读取计划订单文件 {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:  # grew between stat and read
        raise PlannedOrdersError(f"计划订单文件 {path} 太大 (too large): {len(data):,} 字节 (bytes)")
    text = decode_utf8(data, what=f"计划订单文件 {path}", exc_type=PlannedOrdersError)
    return parse_planned_orders(
        parse_planned_orders_json(text, source=f"计划订单文件 {path}"), source=str(path)
    )


def decode_utf8(data: bytes, *, what: str, exc_type: type[Exception]) -> str:
    """`data` as UTF-8 text, a leading BOM dropped; else `exc_type` saying it is not UTF-8, what
    it looks like (GBK, as Chinese Windows saves "ANSI" text) and what to do."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            data.decode("gbk")
            looks = "，看起来是 GBK/ANSI 编码 (it looks like GBK, the Chinese Windows 'ANSI' encoding)"
        except UnicodeDecodeError:
            looks = ""
        raise exc_type(
            f"{what} 不是 UTF-8 编码 (is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}){looks}；"
            f"请用记事本“另存为”并选择 UTF-8 编码 (save it as UTF-8, e.g. Notepad: Save As, Encoding UTF-8)"
        ) from None


def parse_planned_orders(payload: Any, *, source: str = "response") -> list[SignalBatch]:
    """Accepts the API envelope `{"code": 0, "data": {"items": [...]}}` or a bare list of items."""
    try:
        return _parse(payload, source)
    except PlannedOrdersError:
        raise
    except RecursionError:
        raise PlannedOrdersError(f"{source}: 嵌套过深 (nested too deeply)") from None
    except Exception as exc:  # a bug must not pass as a crash of the caller's loop: name it
        raise PlannedOrdersError(f"{source}: 无法解析 (cannot be read): {type(exc).__name__}: {exc}") from exc


def _parse(payload: Any, source: str) -> list[SignalBatch]:
    if isinstance(payload, dict):
        code = payload.get("code", 0)
        if isinstance(code, bool) or code != 0:
            raise PlannedOrdersError(
                f"{source}: BigQuant 返回错误 {_show(code)}: {_show(payload.get('message'))}"
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
        except (ValueError, TypeError, KeyError, ArithmeticError, DomainError) as exc:
            ident = _ident(item, position)
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
                f"{source}: 没有一条有效的计划订单 (no valid planned order): "
                + "; ".join(f"{i}: {r}" for i, r in loose[:20])
                + (f"; … 另有 {len(loose) - 20} 条 (and {len(loose) - 20} more)" if len(loose) > 20 else "")
            )
        first = batches[0]
        batches[0] = SignalBatch(first.strategy_id, first.trading_day, first.lines, (*first.rejected, *loose))
    return batches


def _ident(item: Any, position: int) -> str:
    if isinstance(item, dict):
        try:
            return _id(item, "planned_order_id")
        except (ValueError, KeyError):
            pass
    return f"#{position}"


def _batch_key(item: Any) -> tuple[str, date] | None:
    if not isinstance(item, dict):
        return None
    try:
        return _id(item, "strategy_id"), _day(item)
    except (KeyError, ValueError):
        return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"缺少字段 {exc.args[0]} (missing field)"
    return str(exc)


def _show(value: Any) -> str:
    """A short, safe picture of a value from outside: never the repr of a whole nested structure
    (which may be huge or nested deeper than repr can recurse)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return "<一个极大的整数 (a huge integer)>"  # repr() of 5,000 digits raises ValueError
    if isinstance(value, Decimal):
        text = str(value)
    elif value is None or isinstance(value, bool | int | float | str | _HugeNumber):
        text = repr(value)
    else:
        return f"<{type(value).__name__}>"
    return text if len(text) <= 80 else text[:77] + "…"


def _line(item: Any) -> SignalLine:
    if not isinstance(item, dict):
        raise TypeError(f"计划订单应为对象 (an object), was {type(item).__name__}")
    signal_id = _id(item, "planned_order_id")
    strategy_id = _id(item, "strategy_id")
    day = _day(item)
    name = item.get("name")
    if name is None:
        name = ""
    elif not isinstance(name, str) or len(name) > MAX_TEXT_CHARS or not name.isprintable():
        raise ValueError(f"name 应为不超过 {MAX_TEXT_CHARS} 字的字符串 (a short text), was {_show(name)}")
    instrument = classify(_short_text(item, "instrument"), name)
    direction = item["direction"]
    if isinstance(direction, int) and not isinstance(direction, bool):
        direction = str(direction)
    if not isinstance(direction, str) or direction not in DIRECTIONS:
        raise ValueError(f"direction 应为 '1'(买) 或 '2'(卖), was {_show(direction)}")
    qty = item["order_qty"]
    if isinstance(qty, int) and qty.bit_length() > 128:
        raise ValueError(f"order_qty 超出范围 (out of range), was {_show(qty)}")
    qty = check_qty(qty, name="order_qty")
    return SignalLine(
        signal_id=signal_id,
        strategy_id=strategy_id,
        trading_day=day,
        code=instrument.code,
        name=name.strip(),
        side=DIRECTIONS[direction],
        qty=qty,
        ref_price=_price(item.get("order_price")),
        exec_time=_exec_time(item.get("order_dt")),
    )


def _id(item: dict[str, Any], key: str) -> str:
    """An id: a string or a whole number (never a bool, a float or a structure), at most MAX_ID_CHARS."""
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{key} 应为字符串或整数 (a string or an integer), was {_show(value)}")
    if isinstance(value, int) and value.bit_length() > 128:
        raise ValueError(f"{key} 太长 (too long), was {_show(value)}")
    text = str(value).strip()
    if not text:
        raise ValueError(f"{key} 不能为空 (must not be empty)")
    if len(text) > MAX_ID_CHARS or not text.isprintable():
        raise ValueError(
            f"{key} 应为不超过 {MAX_ID_CHARS} 个可见字符 (at most {MAX_ID_CHARS} printable characters), "
            f"was {_show(text)}"
        )
    return text


def _short_text(item: dict[str, Any], key: str) -> str:
    value = item[key]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{key} 应为非空字符串 (a non-empty text), was {_show(value)}")
    if len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"{key} 太长 (too long: {len(value)} characters), was {_show(value)}")
    return value.strip()


def _day(item: dict[str, Any]) -> date:
    text = _short_text(item, "trading_day")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"trading_day 不是有效日期 (not a date YYYY-MM-DD), was {_show(text)}") from None


def _price(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(f"order_price 应为数字 (a number), was {_show(value)}")
    if isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"order_price 应为数字 (a number), was {_show(value)}")
    try:
        # a float (from a parser without parse_float=Decimal) by its shortest repr: 10.1 -> "10.1"
        price = (
            value
            if isinstance(value, Decimal)
            else Decimal(repr(value) if isinstance(value, float) else value)
        )
    except (InvalidOperation, ValueError):
        raise ValueError(f"order_price 应为数字 (a number), was {_show(value)}") from None
    return check_price(price, name="order_price")


def _exec_time(value: Any) -> time:
    if value is None:
        return OPEN
    if not isinstance(value, str) or len(value) > MAX_TEXT_CHARS:
        raise ValueError(f"order_dt 不是有效时间 (not a date-time), was {_show(value)}")
    try:
        return datetime.fromisoformat(value).time().replace(tzinfo=None)
    except ValueError:
        raise ValueError(f"order_dt 不是有效时间 (not a date-time), was {_show(value)}") from None
