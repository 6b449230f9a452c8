"""The risk engine: one gate every order passes before anything is held, the trading state,
the intraday monitors and the validated, audited settings (ARCHITECTURE.md, The risk engine)."""

from app.core.risk.arming import ArmingError, LiveGuard, LiveState, LiveStatus
from app.core.risk.gate import (
    ALLOW,
    AccountView,
    Allow,
    Decision,
    Deny,
    PlainAccountView,
    Resize,
    RiskGate,
    TradingState,
)
from app.core.risk.limits import (
    EXCHANGE_MAX_PER_DAY,
    EXCHANGE_MAX_PER_SECOND,
    WHO,
    RiskLimits,
    RiskSettingError,
)
from app.core.risk.monitor import ExitOrder, RiskMonitor

__all__ = [
    "ALLOW",
    "EXCHANGE_MAX_PER_DAY",
    "EXCHANGE_MAX_PER_SECOND",
    "WHO",
    "AccountView",
    "Allow",
    "ArmingError",
    "Decision",
    "Deny",
    "ExitOrder",
    "LiveGuard",
    "LiveState",
    "LiveStatus",
    "PlainAccountView",
    "Resize",
    "RiskGate",
    "RiskLimits",
    "RiskMonitor",
    "RiskSettingError",
    "TradingState",
]
