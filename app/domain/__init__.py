"""Pure domain: A-share rules and the trading model. No I/O."""

from app.domain.calendar import DEFAULT_CALENDAR, TradingCalendar
from app.domain.errors import DomainError, PriceError, QuantityError, RuleViolation, UnknownInstrumentError
from app.domain.fees import FeeBreakdown, FeeSchedule
from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.instruments import Board, Exchange, Instrument, classify, is_st_name, normalize_code
from app.domain.orders import Order, OrderStatus, PriceType, status_from_xt
from app.domain.positions import Position
from app.domain.prices import check_price, is_on_tick, price_cage, price_limits, round_to_tick, tick_size
from app.domain.quantity import check_quantity, lot_size, max_order_qty, quantity_step, round_down_to_lot
from app.domain.sessions import (
    Phase,
    accepts_market_orders,
    accepts_orders,
    can_cancel_at,
    is_auction,
    phase_at,
    trading_day_boundaries,
)
from app.domain.side import Side

__all__ = [
    "DEFAULT_CALENDAR",
    "Board",
    "BrokerOrderId",
    "ClientOrderId",
    "DomainError",
    "Exchange",
    "FeeBreakdown",
    "FeeSchedule",
    "Instrument",
    "Order",
    "OrderStatus",
    "Phase",
    "Position",
    "PriceError",
    "PriceType",
    "QuantityError",
    "RuleViolation",
    "Side",
    "TradeId",
    "TradingCalendar",
    "UnknownInstrumentError",
    "accepts_market_orders",
    "accepts_orders",
    "can_cancel_at",
    "check_price",
    "check_quantity",
    "classify",
    "is_auction",
    "is_on_tick",
    "is_st_name",
    "lot_size",
    "max_order_qty",
    "normalize_code",
    "phase_at",
    "price_cage",
    "price_limits",
    "quantity_step",
    "round_down_to_lot",
    "round_to_tick",
    "status_from_xt",
    "tick_size",
    "trading_day_boundaries",
]
