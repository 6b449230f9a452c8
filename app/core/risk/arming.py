"""Live trading is armed on purpose (issue 9 item 5).

Connected to a real account, Tiller starts observe-only: it reads the account, quotes and the plan
and sends nothing. Sending needs two separate acts: `qmt.live_trading_enabled` in the settings
(`LiveGuard.enabled`), and arming for the day (`arm(engine, by)`, the Terminal's `arm`, or `--arm` on
the command line). Arming ends at the close of the trading day (`TRADING_DAY_END`), or on `disarm`.

The check is the first one of the risk gate (`RiskGate.live_guard`): while a live setup is not armed,
every new order is denied with the reason, whatever made it; cancels still go. The simulated setup
has no guard and is never affected. Every arm, disarm and expiry, and every order sent to the real
account, is written to the append-only `live_audit` table in the same commit as the change (so an
order's row is on disk before the order leaves). The arming is kept in `meta` for the day, so a
restart on the same day is still armed and one on the next day is not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from app.domain.clock import CN_TZ
from app.domain.orders import Order

TRADING_DAY_END = time(15, 0)  # the end of the closing auction; after-hours trading is out of scope
ARMING_META = "live_arming"  # meta key: the day's arming as JSON, "" when not armed
_MAX_WHO = 64


class LiveState(StrEnum):
    SIMULATED = "simulated"  # the built-in simulated broker: nothing to arm
    OBSERVE_ONLY = "observe_only"  # a real account, not armed (or not enabled): reads, sends nothing
    ARMED = "armed"  # a real account, enabled and armed for the day: orders go


class ArmingError(ValueError):
    """Arming or disarming refused; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Arming:
    day: date
    by: str
    at: datetime
    until: datetime

    def to_text(self) -> str:
        return json.dumps(
            {
                "day": self.day.isoformat(),
                "by": self.by,
                "at": self.at.isoformat(),
                "until": self.until.isoformat(),
            },
            ensure_ascii=False,
            sort_keys=True,
        )

    @classmethod
    def from_text(cls, text: str) -> Arming:
        data = json.loads(text)
        return cls(
            date.fromisoformat(data["day"]),
            str(data["by"]),
            datetime.fromisoformat(data["at"]),
            datetime.fromisoformat(data["until"]),
        )


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """What the window, the command line and the status line show."""

    state: LiveState
    enabled: bool = False
    armed_by: str = ""
    armed_at: datetime | None = None
    armed_until: datetime | None = None

    def describe(self) -> str:
        if self.state is LiveState.SIMULATED:
            return "交易模式：模拟盘 (simulated broker: no real account)"
        if self.state is LiveState.ARMED:
            assert self.armed_until is not None
            return (
                f"交易模式：实盘，已布防，可下单 (live: ARMED, orders are sent) — 由 {self.armed_by} "
                f"布防至 {self.armed_until:%Y-%m-%d %H:%M} (armed by {self.armed_by} until then)"
            )
        if not self.enabled:
            return (
                "交易模式：实盘，只观察不下单 (live: observe-only, no order is sent) — "
                "设置中未开启 qmt.live_trading_enabled (live trading is not enabled in the settings)"
            )
        return (
            "交易模式：实盘，只观察不下单 (live: observe-only, no order is sent) — 今日未布防 "
            "(not armed today: arm in the window, or with `python -m app run --headless --arm`)"
        )


def check_who(who: str) -> str:
    if not isinstance(who, str) or not who.strip() or len(who) > _MAX_WHO or not who.isprintable():
        raise ArmingError(
            f"操作人无效 (by must be a name of 1 to {_MAX_WHO} printable characters), was {who!r}"
        )
    return who.strip()


class LiveGuard:
    """The live setup's gate on sending: `refusal(now)` is None only when enabled and armed."""

    def __init__(self, *, enabled: bool, day_end: time = TRADING_DAY_END) -> None:
        self.enabled = enabled
        self.day_end = day_end
        self.arming: Arming | None = None

    def armed(self, now: datetime) -> bool:
        arming = self.arming
        return self.enabled and arming is not None and now < arming.until

    def status(self, now: datetime) -> LiveStatus:
        arming = self.arming
        if self.armed(now):
            assert arming is not None
            return LiveStatus(LiveState.ARMED, True, arming.by, arming.at, arming.until)
        return LiveStatus(LiveState.OBSERVE_ONLY, self.enabled)

    def refusal(self, now: datetime) -> str | None:
        """Why a new order may not go to the real account now, or None."""
        if self.armed(now):
            return None
        if not self.enabled:
            return (
                "实盘交易未开启，只观察不下单 (live trading is not enabled: observe-only, no order is sent); "
                "在设置中开启 qmt.live_trading_enabled 并布防 (enable it in the settings, then arm for the day)"
            )
        return (
            "实盘未布防，只观察不下单 (the live account is not armed today: observe-only, no order is sent); "
            "布防: 在窗口中布防，或 python -m app run --headless --arm (arm for the day first)"
        )

    def arm(self, by: str, now: datetime, day: date) -> Arming:
        by = check_who(by)
        if not self.enabled:
            raise ArmingError(
                "无法布防：设置中未开启实盘交易 (cannot arm: live trading is not enabled); "
                "设置 qmt.live_trading_enabled = true (set it in the settings file first)"
            )
        until = datetime.combine(day, self.day_end, CN_TZ)
        if now >= until or now.date() > day:
            raise ArmingError(
                f"无法布防：{day} 的交易已结束 (cannot arm: the trading day {day} is over); "
                "请在下一个交易日布防 (arm on the next trading day)"
            )
        self.arming = Arming(day, by, now, until)
        return self.arming

    def disarm(self) -> Arming | None:
        """Returns the arming ended (None if there was none)."""
        arming, self.arming = self.arming, None
        return arming

    def restore(self, text: str | None, now: datetime) -> str | None:
        """The day's arming as last committed, if it still holds; returns a warning when the stored one
        cannot be read (then not armed: the safe side)."""
        self.arming = None
        if not text:
            return None
        try:
            arming = Arming.from_text(text)
        except (ValueError, KeyError, TypeError) as exc:
            return f"布防记录无法读取，保持未布防 (the stored arming is unreadable, not armed): {exc}"
        if now < arming.until:
            self.arming = arming
        return None


# ---------------------------------------------------------------------------- on the engine thread
def _guard(engine: Any) -> LiveGuard:
    risk = engine.risk
    guard = None if risk is None else risk.live_guard
    if guard is None:
        raise ArmingError("模拟盘无需布防 (the simulated setup has nothing to arm)")
    return guard


def status(engine: Any) -> LiveStatus:
    risk = engine.risk
    guard = None if risk is None else risk.live_guard
    if guard is None:
        return LiveStatus(LiveState.SIMULATED)
    return guard.status(engine.clock.now())


def arm(engine: Any, by: str) -> LiveStatus:
    """Arm the live account for the engine's trading day: recorded (meta + audit) in this batch's
    commit, an alert and a LiveStateChanged event; expires by itself at the close."""
    from app.core.messages import LiveStateChanged

    guard = _guard(engine)
    now = engine.clock.now()
    arming = guard.arm(by, now, engine.oms.trading_day)
    engine.store.stage_meta(ARMING_META, arming.to_text())
    engine.store.stage_live_audit(now, arming.by, "arm", f"armed for {arming.day} until {arming.until:%H:%M}")
    _schedule_expiry(engine, arming)
    engine.alert(
        "critical",
        "live",
        f"实盘已布防，将发送委托 (live account ARMED by {arming.by} until {arming.until:%H:%M})",
    )
    engine.emit(LiveStateChanged(LiveState.ARMED.value, arming.by, "armed", now))
    return guard.status(now)


def disarm(engine: Any, by: str) -> LiveStatus:
    from app.core.messages import LiveStateChanged

    guard = _guard(engine)
    by = check_who(by)
    now = engine.clock.now()
    ended = guard.disarm()
    engine.store.stage_meta(ARMING_META, "")
    engine.store.stage_live_audit(now, by, "disarm", "" if ended is None else f"was armed by {ended.by}")
    engine.alert("warning", "live", f"实盘已撤防，只观察不下单 (live account disarmed by {by}: observe-only)")
    engine.emit(LiveStateChanged(LiveState.OBSERVE_ONLY.value, by, "disarmed", now))
    return guard.status(now)


def restore(engine: Any) -> None:
    """At start and after a rebuild: the arming as on disk, if it still holds today."""
    risk = engine.risk
    guard = None if risk is None else risk.live_guard
    if guard is None:
        return
    now = engine.clock.now()
    warning = guard.restore(engine.store.load_meta(ARMING_META), now)
    if warning is not None:
        engine.alert("error", "live", warning)
    if guard.arming is not None:
        _schedule_expiry(engine, guard.arming)
    engine.alert("warning" if guard.armed(now) else "info", "live", guard.status(now).describe())


def _schedule_expiry(engine: Any, arming: Arming) -> None:
    engine.schedule_at(arming.until, lambda: _expire(engine, arming), "arming expires")


def _expire(engine: Any, arming: Arming) -> None:
    from app.core.messages import LiveStateChanged

    guard = engine.risk.live_guard
    if guard is None or guard.arming != arming:  # disarmed or armed again meanwhile
        return
    now = engine.clock.now()
    guard.arming = None
    engine.store.stage_meta(ARMING_META, "")
    engine.store.stage_live_audit(
        now, "clock", "expire", f"armed for {arming.day} by {arming.by}: the day is over"
    )
    engine.alert(
        "warning", "live", "布防已到期，只观察不下单 (the arming expired at the close: observe-only)"
    )
    engine.emit(LiveStateChanged(LiveState.OBSERVE_ONLY.value, "clock", "expired", now))


def audit_order(store: Any, order: Order, now: datetime) -> None:
    """One order about to be sent to the real account: who (its strategy, or the user), what."""
    who = order.strategy_id or "user"
    price = "market" if order.price is None else f"{order.price}"
    detail = json.dumps(
        {
            "client_order_id": order.client_order_id,
            "code": order.code,
            "side": order.side.value,
            "qty": order.qty,
            "price": price,
            "price_type": order.price_type.value,
            "strategy_id": order.strategy_id,
            "signal_id": order.signal_id,
        },
        ensure_ascii=False,
        sort_keys=True,
    )
    store.stage_live_audit(now, who, "order", detail)
