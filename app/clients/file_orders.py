"""File orders (文件单): a CSV or JSON batch, as a user's script or Excel writes it -> signal batches.

The columns accepted are documented in docs/FILE_ORDERS.md. Every row becomes a BigQuant
planned-order item (BIGQUANT.md §1) and goes through exactly the validation of an HTTP batch
(`planned_orders.parse_planned_orders`, then `bigquant.validate_batches`): a bad row is kept with
its reason and produces no order, the rest of the file goes on.

Bytes: UTF-8 (with or without the BOM Excel's "CSV UTF-8" writes), GBK/GB18030 (Excel's plain
"CSV" on a Chinese Windows), UTF-16 with a BOM (Excel's "Unicode text"). The only error that leaves
this module is `PlannedOrdersError` (a file that is not an order file at all).

A file without an id column gets ids from its content: the sha256 of its rows (as text, whatever
the encoding) and the row number. So the same content dropped twice, under any name, is the same
planned orders, and `take_in` makes orders of it once.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from app.clients.bigquant import validate_batches
from app.clients.planned_orders import (
    MAX_FILE_BYTES,
    PlannedOrdersError,
    parse_planned_orders,
    parse_planned_orders_json,
)
from app.domain.clock import CN_TZ
from app.domain.signals import SignalBatch

MAX_ROWS = 100_000
MAX_CELL_CHARS = 200
SUFFIXES = (".csv", ".json")

# field -> the column names accepted for it (compared after `_key`: trimmed, lower case, no spaces,
# '-' as '_'). BigQuant's planned-order keys, 掘金's file-order keys, plain English and Chinese.
COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("planned_order_id", "signal_id", "cl_ord_id", "client_order_id", "order_id", "id",
           "编号", "委托编号", "指令编号", "订单编号", "信号编号"),
    "code": ("instrument", "symbol", "code", "stock_code", "sec_code", "ticker",
             "代码", "证券代码", "股票代码", "合约代码"),
    "name": ("name", "sec_name", "stock_name", "名称", "证券名称", "股票名称", "证券简称"),
    "side": ("direction", "side", "bs", "方向", "买卖", "买卖方向", "委托方向", "交易方向", "买卖标志"),
    "qty": ("order_qty", "volume", "qty", "quantity", "amount_shares",
            "数量", "委托数量", "下单数量", "股数", "委托股数"),
    "price": ("order_price", "price", "limit_price", "价格", "委托价格", "下单价格", "委托价", "参考价"),
    "strategy": ("strategy_id", "strategy", "策略", "策略编号", "策略名称", "策略id"),
    "day": ("trading_day", "trade_date", "date", "交易日", "交易日期", "日期"),
    "time": ("order_dt", "exec_time", "time", "时间", "委托时间", "执行时间", "下单时间"),
}  # fmt: skip
REQUIRED = ("code", "side", "qty")
SIDES = {
    "1": "1", "b": "1", "buy": "1", "long": "1", "买": "1", "买入": "1", "证券买入": "1",
    "2": "2", "s": "2", "sell": "2", "short": "2", "卖": "2", "卖出": "2", "证券卖出": "2",
}  # fmt: skip
TIMES = {"open": time(9, 30), "开盘": time(9, 30), "close": time(15, 0), "收盘": time(15, 0)}
NO_PRICE = {"", "0", "0.0", "0.00", "市价", "market", "mkt"}
_EXCHANGE_PREFIX = {"SHSE": "SH", "SZSE": "SZ", "BJSE": "BJ", "SH": "SH", "SZ": "SZ", "BJ": "BJ"}
_EXCHANGE_SUFFIX = {"XSHG": "SH", "XSHE": "SZ", "SH": "SH", "SZ": "SZ", "BJ": "BJ", "BSE": "BJ"}


def _key(name: str) -> str:
    return re.sub(r"\s+", "", name).strip().lower().replace("-", "_").removeprefix("\ufeff")


_ALIASES = {_key(alias): field for field, aliases in COLUMNS.items() for alias in aliases}


def decode_order_file(data: bytes, *, what: str) -> str:
    """The text of an order file: UTF-8 (BOM or not), UTF-16 with a BOM, else GBK (as GB18030)."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings: Sequence[str] = ("utf-8-sig",)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ("utf-16",)
    else:
        encodings = ("utf-8", "gb18030")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise PlannedOrdersError(
        f"{what} 无法识别编码 (cannot be read as UTF-8, GBK or UTF-16)；"
        "请在 Excel 中另存为“CSV UTF-8”(save it from Excel as 'CSV UTF-8')"
    )


def parse_order_file(
    data: bytes,
    *,
    name: str,
    day: date,
    default_strategy: str,
    known_codes: Collection[str] | None = None,
) -> list[SignalBatch]:
    """The batches of one dropped file for `day` (CSV or JSON by its suffix). Bad rows are rejected
    with their reasons; a file that is not an order file raises PlannedOrdersError."""
    what = f"文件单 {name} (file order)"
    if len(data) > MAX_FILE_BYTES:
        raise PlannedOrdersError(f"{what} 太大 (too large): {len(data):,} 字节 (bytes)")
    text = decode_order_file(data, what=what)
    rows = _json_rows(text, what) if name.lower().endswith(".json") else _csv_rows(text, what)
    if len(rows) > MAX_ROWS:
        raise PlannedOrdersError(f"{what} 行数过多 (more than {MAX_ROWS:,} rows)")
    if not rows:
        raise PlannedOrdersError(f"{what} 没有委托 (no order rows)")
    items, refused = _items(rows, day=day, default_strategy=default_strategy)
    batches = validate_batches(parse_planned_orders(items, source=what), day, known_codes) if items else []
    for strategy, ident, reason in refused:
        at = next((i for i, b in enumerate(batches) if b.strategy_id == strategy), None)
        if at is None:
            batches.append(SignalBatch(strategy, day, (), ((ident, reason),)))
        else:
            batch = batches[at]
            batches[at] = SignalBatch(batch.strategy_id, day, batch.lines, (*batch.rejected, (ident, reason)))
    return sorted(batches, key=lambda b: b.strategy_id)


# ------------------------------------------------------------------------------ reading rows
def _csv_rows(text: str, what: str) -> list[dict[str, Any]]:
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    delimiter = max(",\t;", key=header_line.count) if header_line else ","
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
        table = [row for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as exc:
        raise PlannedOrdersError(f"{what} 不是有效的 CSV (not valid CSV): {exc}") from None
    if not table:
        return []
    header = [_ALIASES.get(_key(cell)) for cell in table[0]]
    _check_header(header, table[0], what)
    rows: list[dict[str, Any]] = []
    for number, cells in enumerate(table[1:], start=2):
        row: dict[str, Any] = {"_row": number}
        if len(cells) > len(header) and any(c.strip() for c in cells[len(header) :]):
            row["_problem"] = (
                f"第 {number} 行的列数多于表头 (more cells than the header: {len(cells)} > {len(header)})"
            )
        for field, cell in zip(header, cells, strict=False):
            if field is not None and field not in row:
                row[field] = cell.strip()
        rows.append(row)
    return rows


def _check_header(fields: Sequence[str | None], names: Sequence[Any], what: str) -> None:
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        wanted = "; ".join(f"{f}: {' / '.join(COLUMNS[f][:6])}" for f in missing)
        shown = ", ".join(str(n)[:40] for n in names[:20])
        raise PlannedOrdersError(
            f"{what} 缺少必需的列 (missing required columns) — {wanted}；表头为 (the header is): {shown}"
        )
    doubled = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if doubled:
        raise PlannedOrdersError(
            f"{what} 有重复含义的列 (two columns mean the same field): {', '.join(doubled)}"
        )


def _json_rows(text: str, what: str) -> list[dict[str, Any]]:
    payload = parse_planned_orders_json(text, source=what)
    if isinstance(payload, dict):
        if "code" in payload and payload.get("code") != 0:
            raise PlannedOrdersError(
                f"{what}: 返回错误 (an error answer): {str(payload.get('message'))[:200]}"
            )
        data = payload.get("data", payload)
        payload = data.get("items") if isinstance(data, dict) else data
        if payload is None and isinstance(data, dict):
            payload = data.get("orders")
    if not isinstance(payload, list):
        raise PlannedOrdersError(
            f"{what}: 应为委托列表 (expected a list of orders, or {{data: {{items: [...]}}}})"
        )
    rows: list[dict[str, Any]] = []
    seen_fields: set[str] = set()
    for number, item in enumerate(payload, start=1):
        row: dict[str, Any] = {"_row": number}
        if not isinstance(item, dict):
            row["_problem"] = f"第 {number} 条应为对象 (an object), was {type(item).__name__}"
            rows.append(row)
            continue
        for name, value in item.items():
            field = _ALIASES.get(_key(name)) if isinstance(name, str) else None
            if field is None:
                continue
            if field in row:
                row["_problem"] = f"第 {number} 条有重复含义的字段 (two keys mean {field})"
                continue
            row[field] = _json_cell(value)
            seen_fields.add(field)
        rows.append(row)
    if rows and not any(set(REQUIRED) <= set(r) for r in rows):
        _check_header(sorted(seen_fields), sorted(seen_fields), what)
    return rows


def _json_cell(value: Any) -> Any:
    """Numbers and texts as text (as a CSV cell would be); anything else as it is, so the line is
    refused with a reason by the planned-order parser."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | Decimal):
        text = str(value)
        return text if len(text) <= MAX_CELL_CHARS else value
    return value


# ------------------------------------------------------------------------------ rows -> items
def _items(
    rows: list[dict[str, Any]], *, day: date, default_strategy: str
) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]]]:
    """BigQuant planned-order items, and the rows refused before the parser (strategy, id, reason)."""
    digest = _content_digest(rows)
    items: list[dict[str, Any]] = []
    refused: list[tuple[str, str, str]] = []
    for row in rows:
        ident = _text(row.get("id")) or f"{digest}-{row['_row']}"
        problem = row.get("_problem")
        if problem:
            strategy = _text(row.get("strategy"))
            if not (0 < len(strategy) <= 64 and strategy.isprintable()):
                strategy = default_strategy
            refused.append((strategy, ident[:64], problem))
        else:
            items.append(_item(row, ident, day, default_strategy))
    return items, refused


def _item(row: Mapping[str, Any], ident: Any, day: date, default_strategy: str) -> dict[str, Any]:
    trading_day = _day(row.get("day"), day)
    item: dict[str, Any] = {
        "planned_order_id": ident,
        "strategy_id": row.get("strategy") if _text(row.get("strategy")) else default_strategy,
        "trading_day": trading_day,
        "instrument": _code(row.get("code")),
        "name": row.get("name") if row.get("name") not in (None, "") else None,
        "direction": _side(row.get("side")),
        "order_qty": _qty(row.get("qty")),
        "order_price": _price(row.get("price")),
        "order_dt": _when(row.get("time"), trading_day),
    }
    return item


def _content_digest(rows: list[dict[str, Any]]) -> str:
    canon = [
        [str(row.get(f, "")) for f in ("code", "side", "qty", "price", "strategy", "day", "time", "name")]
        for row in rows
    ]
    text = json.dumps(canon, ensure_ascii=False, separators=(",", ":"))
    return "F" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:15]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _code(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    code = value.strip().upper()
    if "." in code:
        left, right = code.split(".", 1)
        if left in _EXCHANGE_PREFIX and right.isdigit():  # 掘金: SHSE.600000
            code = f"{right.zfill(6)}.{_EXCHANGE_PREFIX[left]}"
        elif right in _EXCHANGE_SUFFIX and left.isdigit():  # 600000.XSHG, 1.SZ (Excel dropped the zeros)
            code = f"{left.zfill(6)}.{_EXCHANGE_SUFFIX[right]}"
    elif len(code) > 2 and code[:2] in ("SH", "SZ", "BJ") and code[2:].isdigit():  # sh600000
        code = f"{code[2:].zfill(6)}.{code[:2]}"
    elif code.isdigit() and len(code) < 6:  # Excel turned 000001 into 1
        code = code.zfill(6)
    return code


def _side(value: Any) -> Any:
    if isinstance(value, str):
        return SIDES.get(value.strip().lower(), value)
    return value


def _qty(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    text = value.strip().replace(",", "")
    if re.fullmatch(r"[+]?\d{1,30}", text):
        return int(text)
    if re.fullmatch(r"[+]?\d{1,30}\.0+", text):  # Excel's 100.0
        return int(text.split(".")[0])
    return value  # refused by the bounds with the value in the reason


def _price(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if text.lower() in NO_PRICE:
            return None
        try:
            return Decimal(text) if len(text) <= 40 else value
        except InvalidOperation:
            return value
    return value


def _day(value: Any, default: date) -> Any:
    text = _text(value)
    if not text:
        return default.isoformat() if value in (None, "") else value
    for pattern in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    return text  # refused by the parser as not a date


def _when(value: Any, trading_day: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # at the open
    if not isinstance(value, str):
        return value
    text = value.strip()
    fixed = TIMES.get(text.lower())
    if fixed is None and re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
        parts = [int(p) for p in text.split(":")]
        try:
            fixed = time(*parts)
        except ValueError:
            return text
    if fixed is None:
        return text  # a full ISO date-time, or refused by the parser
    try:
        day = date.fromisoformat(trading_day) if isinstance(trading_day, str) else date(2000, 1, 1)
    except ValueError:
        day = date(2000, 1, 1)
    return datetime.combine(day, fixed, CN_TZ).isoformat()
