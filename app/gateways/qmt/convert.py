"""xtquant's objects and codes to Tiller's reports and back (RULES.md A2-A3). Pure: no xtquant import.

xttrader hands over xttype objects (XtOrder, XtTrade, XtPosition, XtAsset, XtOrderError,
XtCancelError, XtOrderResponse, XtCancelOrderResponse); these functions read their documented
attributes only, so any object with those attributes converts (the stand-in's in the tests).

Money: xtquant carries prices and amounts as floats. A limit or trade price is taken on its code's
tick (0.01 stocks, 0.001 funds), an average or cost price at 0.0001, an amount at 0.001, fees at the
fen, so float noise (10.230000000000001) never reaches the books. Volumes may come as floats
(1000.0); strings may come padded, or as GB18030 bytes.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from app.domain.clock import CN_TZ
from app.domain.errors import UnknownInstrumentError
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.orders import OrderStatus, PriceType, status_from_xt
from app.domain.prices import tick_size
from app.domain.reports import (
    BrokerAsset,
    BrokerPosition,
    CancelErrorReport,
    OrderErrorReport,
    OrderReport,
    SubmitResponse,
    TradeReport,
)
from app.domain.side import Side

# xtconstant (RULES.md A2-A3), repeated here so this module needs no xtquant
STOCK_BUY, STOCK_SELL = 23, 24
LATEST_PRICE, FIX_PRICE = 5, 11
SH_BEST5_CANCEL, SH_BEST5_LIMIT, PEER_BEST, OWN_BEST = 42, 43, 44, 45
SZ_IOC, SZ_BEST5_CANCEL, SZ_FOK = 46, 47, 48
MARKET_SH, MARKET_SZ, MARKET_BJ = 0, 1, 70

# Price type per exchange (SH, SZ, BJ); None: that exchange has no such order type.
_PRICE_TYPES: dict[PriceType, tuple[int | None, int | None, int | None]] = {
    PriceType.LIMIT: (FIX_PRICE, FIX_PRICE, FIX_PRICE),
    PriceType.BEST5_IOC: (SH_BEST5_CANCEL, SZ_BEST5_CANCEL, SH_BEST5_CANCEL),
    PriceType.BEST5_TO_LIMIT: (SH_BEST5_LIMIT, None, SH_BEST5_LIMIT),
    PriceType.PEER_BEST: (PEER_BEST, PEER_BEST, PEER_BEST),
    PriceType.OWN_BEST: (OWN_BEST, OWN_BEST, OWN_BEST),
    PriceType.IOC: (None, SZ_IOC, None),
    PriceType.FOK: (None, SZ_FOK, None),
}
_EXCHANGES = {"SH": 0, "SZ": 1, "BJ": 2}
_FROM_XT_PRICE_TYPE = {
    FIX_PRICE: PriceType.LIMIT,
    SH_BEST5_CANCEL: PriceType.BEST5_IOC,
    SZ_BEST5_CANCEL: PriceType.BEST5_IOC,
    SH_BEST5_LIMIT: PriceType.BEST5_TO_LIMIT,
    PEER_BEST: PriceType.PEER_BEST,
    OWN_BEST: PriceType.OWN_BEST,
    SZ_IOC: PriceType.IOC,
    SZ_FOK: PriceType.FOK,
}
_PRICE_Q = Decimal("0.001")
_CENT = Decimal("0.01")


class ConversionError(ValueError):
    """An xtquant object Tiller cannot read (a field missing or out of range)."""


def xt_price_type(price_type: PriceType, code: str) -> int:
    """The xtquant price type of `price_type` for `code`'s exchange; ValueError in words if none."""
    exchange = code.rsplit(".", 1)[-1].upper()
    index = _EXCHANGES.get(exchange)
    if index is None:
        raise ValueError(f"未知交易所 (unknown exchange) of {code!r}")
    value = _PRICE_TYPES[price_type][index]
    if value is None:
        raise ValueError(
            f"{exchange} 不支持此报价方式 (the {exchange} exchange has no {price_type.value} order type): {code}"
        )
    return value


def xt_side(side: Side) -> int:
    return STOCK_BUY if side is Side.BUY else STOCK_SELL


def side_from_xt(order_type: object) -> Side:
    if order_type == STOCK_BUY:
        return Side.BUY
    if order_type == STOCK_SELL:
        return Side.SELL
    raise ConversionError(f"不是股票买卖 (order_type {order_type!r} is neither buy 23 nor sell 24)")


def price_type_from_xt(value: object) -> PriceType:
    """Known market types by their code; a limit (11), latest price (5) or anything else as a limit."""
    return _FROM_XT_PRICE_TYPE.get(value, PriceType.LIMIT)  # type: ignore[call-overload]


def decimal_of(value: object, quantum: Decimal = _PRICE_Q) -> Decimal:
    """A float (or int, or text) from xtquant as an exact Decimal at `quantum`, trailing zero of a
    whole-fen value dropped (10.230 -> 10.23). Raises ConversionError for NaN, inf or junk."""
    try:
        if isinstance(value, bool):
            raise TypeError
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
        if not number.is_finite() or abs(number) > Decimal("1e15"):
            raise ConversionError(f"数值越界 (number out of range): {value!r}")
        result = number.quantize(quantum, ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as exc:
        if isinstance(exc, ConversionError):
            raise
        raise ConversionError(f"不是数值 (not a number): {value!r}") from None
    if quantum < _CENT and result == result.quantize(_CENT):
        result = result.quantize(_CENT)
    return result


_LAST_SECOND = 4_102_416_000  # 2100-01-01 00:00 in China: anything later is not a time QMT meant
_FIRST_MS_SECOND = 946_656_000  # 2000-01-01 00:00 in China: a count of ms before it is no time either


def price_at_tick(value: object, code: str) -> Decimal:
    """A limit or trade price of `code` on its tick (¥0.01 stocks, ¥0.001 funds): 10.100000001 and
    10.099999999 are both 10.10. A code Tiller cannot classify is taken at ¥0.001."""
    try:
        tick = tick_size(code)
    except (UnknownInstrumentError, TypeError, ValueError):
        tick = _PRICE_Q
    return decimal_of(value, tick)


def ts_from_xt(value: object, fallback: datetime) -> datetime:
    """xtquant times are epoch seconds (epoch milliseconds are taken too); 0, negative, junk, NaN or an
    absurd value gives `fallback` (the clock's now)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return fallback
    if _LAST_SECOND <= value < _LAST_SECOND * 1000:  # milliseconds, of this century only
        value = value / 1000 if value >= _FIRST_MS_SECOND * 1000 else 0
    if not (0 < value < _LAST_SECOND):
        return fallback
    return datetime.fromtimestamp(int(value), CN_TZ)


def status_of(value: object) -> OrderStatus | None:
    """An xtquant order status (48-57; as an int, an integral float or digits) as Tiller's; None for
    255 (unknown) or anything else."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, str | bytes) and text(value).isascii() and text(value).isdigit():
        value = int(text(value))
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return status_from_xt(value)


def _code(obj: object) -> str:
    code = text(getattr(obj, "stock_code", None)).upper()
    if not code:
        raise ConversionError(f"证券代码为空 (no stock_code) on {type(obj).__name__}")
    return code


def remark_id(remark: object) -> ClientOrderId | None:
    """Tiller's client order id from an order remark; None for anything Tiller would not have sent."""
    remark = text(remark) if isinstance(remark, str | bytes) else None
    if not remark:
        return None
    try:
        return ClientOrderId(remark)
    except ValueError:
        return None


def broker_id(order_id: object) -> BrokerOrderId | None:
    """xtquant's order_id (an int) as Tiller's broker order id; None for -1, 0 or junk."""
    if isinstance(order_id, bool) or not isinstance(order_id, int) or order_id <= 0:
        return None
    return BrokerOrderId(str(order_id))


def _int(value: object, what: str) -> int:
    """A count of shares (or lots) from xtquant: an int, or a float that is one give or take float
    noise (1000.0, 999.9999999); anything else, a fraction of a share or < 0, is refused."""
    if isinstance(value, float) and math.isfinite(value) and abs(value - round(value)) < 1e-6:
        value = round(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value >= 2**53:
        raise ConversionError(f"{what} 不是非负整数 (is not a whole number ≥ 0): {value!r}")
    return value


def text(value: object) -> str:
    """A string field from xtquant as text: bytes decoded as GB18030 (what QMT writes), None as "",
    stray whitespace and NULs stripped."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("gb18030", errors="replace")
    return str(value).replace("\x00", "").strip()


def order_report(order: object, now: datetime) -> OrderReport:
    """An XtOrder as an OrderReport; status 255 (unknown) or an unlisted code reads as accepted."""
    boid = broker_id(getattr(order, "order_id", None))
    if boid is None:
        raise ConversionError(f"委托编号无效 (bad order_id): {getattr(order, 'order_id', None)!r}")
    code = _code(order)
    price_type = price_type_from_xt(getattr(order, "price_type", FIX_PRICE))
    price = getattr(order, "price", 0)
    filled = _int(getattr(order, "traded_volume", 0), "traded_volume")
    avg = getattr(order, "traded_price", 0)
    status = status_of(getattr(order, "order_status", 255)) or OrderStatus.ACCEPTED
    return OrderReport(
        broker_order_id=boid,
        client_order_id=remark_id(getattr(order, "order_remark", "")),
        code=code,
        side=side_from_xt(getattr(order, "order_type", None)),
        qty=_int(getattr(order, "order_volume", None), "order_volume"),
        price=price_at_tick(price, code) if price_type is PriceType.LIMIT and price else None,
        price_type=price_type,
        status=status,
        filled_qty=filled,
        avg_price=decimal_of(avg, Decimal("0.0001")) if filled and avg else None,
        ts=ts_from_xt(getattr(order, "order_time", 0), now),
        status_msg=text(getattr(order, "status_msg", None)),
        order_sysid=text(getattr(order, "order_sysid", None)),
        strategy_id=text(getattr(order, "strategy_name", None)),
    )


def trade_report(trade: object, now: datetime) -> TradeReport:
    """An XtTrade as a TradeReport; its identity is (day, order_id, traded_id) (ARCHITECTURE.md)."""
    boid = broker_id(getattr(trade, "order_id", None))
    if boid is None:
        raise ConversionError(
            f"成交的委托编号无效 (bad order_id on a trade): {getattr(trade, 'order_id', None)!r}"
        )
    traded_id = text(getattr(trade, "traded_id", None))
    if not traded_id:
        raise ConversionError(f"成交编号为空 (a trade without traded_id) of order {boid}")
    qty = _int(getattr(trade, "traded_volume", None), "traded_volume")
    if qty == 0:
        raise ConversionError(f"成交数量为 0 (a trade of 0 shares): {traded_id}")
    code = _code(trade)
    price = price_at_tick(getattr(trade, "traded_price", None), code)
    amount = getattr(trade, "traded_amount", None)
    return TradeReport(
        trade_id=TradeId(traded_id),
        broker_order_id=boid,
        client_order_id=remark_id(getattr(trade, "order_remark", "")),
        code=code,
        side=side_from_xt(getattr(trade, "order_type", None)),
        qty=qty,
        price=price,
        amount=decimal_of(amount) if amount else price * qty,
        fees=decimal_of(getattr(trade, "commission", 0) or 0, _CENT),
        ts=ts_from_xt(getattr(trade, "traded_time", 0), now),
        order_sysid=text(getattr(trade, "order_sysid", None)),
    )


def position(pos: object) -> BrokerPosition:
    last = getattr(pos, "last_price", 0)
    return BrokerPosition(
        code=_code(pos),
        total=_int(getattr(pos, "volume", None), "volume"),
        sellable=_int(getattr(pos, "can_use_volume", None), "can_use_volume"),
        frozen=_int(getattr(pos, "frozen_volume", 0) or 0, "frozen_volume"),
        # avg_price is QMT's 成本价 (cost, buy fees included, as Tiller's); open_price the fallback
        avg_price=decimal_of(
            getattr(pos, "avg_price", 0) or getattr(pos, "open_price", 0) or 0, Decimal("0.0001")
        ),
        last_price=decimal_of(last) if last else None,
    )


def asset(xt_asset: object) -> BrokerAsset:
    """XtAsset.cash is what is available; Tiller's `cash` is the balance, frozen included."""
    available = decimal_of(getattr(xt_asset, "cash", None), _CENT)
    frozen = decimal_of(getattr(xt_asset, "frozen_cash", 0) or 0, _CENT)
    market_value = decimal_of(getattr(xt_asset, "market_value", 0) or 0, _CENT)
    total = decimal_of(getattr(xt_asset, "total_asset", 0) or 0, _CENT)
    return BrokerAsset(available + frozen, frozen, available, market_value, total)


def submit_response(resp: object, cid: ClientOrderId | None, now: datetime) -> SubmitResponse | None:
    """XtOrderResponse -> SubmitResponse; None if it names no order Tiller can find."""
    cid = cid or remark_id(getattr(resp, "order_remark", ""))
    if cid is None:
        return None
    boid = broker_id(getattr(resp, "order_id", None))
    if boid is not None:
        return SubmitResponse(cid, boid, now)
    message = text(getattr(resp, "error_msg", None)) or "券商未接受委托 (the broker did not take the order)"
    return SubmitResponse(cid, None, now, f"委托失败 (order refused): {message}")


def order_error(err: object, cid: ClientOrderId | None, now: datetime) -> OrderErrorReport:
    error_id = getattr(err, "error_id", 0)
    message = text(getattr(err, "error_msg", None)) or "委托失败 (order refused)"
    return OrderErrorReport(
        client_order_id=cid or remark_id(getattr(err, "order_remark", "")),
        broker_order_id=broker_id(getattr(err, "order_id", None)),
        message=f"{message} (error {error_id})" if error_id else message,
        ts=now,
        error_id=error_id if isinstance(error_id, int) and not isinstance(error_id, bool) else 0,
    )


def cancel_error(
    err: object, cid: ClientOrderId | None, boid: BrokerOrderId | None, now: datetime
) -> CancelErrorReport | None:
    boid = broker_id(getattr(err, "order_id", None)) or boid
    if boid is None:
        return None
    error_id = getattr(err, "error_id", 0)
    message = text(getattr(err, "error_msg", None)) or "撤单失败 (cancel refused)"
    return CancelErrorReport(
        client_order_id=cid,
        broker_order_id=boid,
        message=f"{message} (error {error_id})" if error_id else message,
        ts=now,
        error_id=error_id if isinstance(error_id, int) and not isinstance(error_id, bool) else 0,
    )
