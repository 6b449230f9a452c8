"""The plan's rows (schema v5): followed strategies, the per-strategy sub-ledger, plan lines, the
plan's state and its audit. Mixed into both OMS stores, staged like every other write and written
in the engine batch's one transaction (so a plan line handed to execution and the child orders made
for it reach the disk together, or neither does)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from app.core.planning.ledger import StrategyPosition
from app.core.planning.model import (
    AllotKind,
    AuditEntry,
    Change,
    LineSource,
    LineState,
    PlanLine,
    PlanStatus,
    StrategySettings,
)
from app.domain.side import Side
from app.storage.money import from_db, to_db

_UPSERT_STRATEGY = (
    "INSERT OR REPLACE INTO strategies (strategy_id, name, paper_capital, allot_kind, allot_value, followed, "
    "policy, price_offset, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_STRATEGY_POSITION = (
    "INSERT OR REPLACE INTO strategy_positions (strategy_id, code, total, settled, avg_cost, realized_pnl, "
    "t_plus_zero) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_UPSERT_PLAN_DAY = (
    "INSERT OR REPLACE INTO plan_days (trading_day, approved_at, approved_by, paused_buys, paused_sells, "
    "auto_approve_at) VALUES (?, ?, ?, ?, ?, ?)"
)
_LINE_COLUMNS = (
    "trading_day, strategy_id, line_id, seq, code, name, side, requested_qty, qty, price, policy, "
    "price_offset, exec_time, state, source, changes"
)
_UPSERT_PLAN_LINE = f"INSERT OR REPLACE INTO plan_lines ({_LINE_COLUMNS}) VALUES ({', '.join('?' * 16)})"
_INSERT_AUDIT = (
    "INSERT INTO plan_audit (trading_day, ts, who, action, line_id, detail) VALUES (?, ?, ?, ?, ?, ?)"
)


class PlanRows:
    """Staging shared by both stores; `_plan_commit_sql` / `_plan_commit_memory` write it."""

    def _plan_init(self) -> None:
        self._p_strategies: dict[str, tuple[StrategySettings, str, datetime]] = {}
        self._p_positions: dict[tuple[str, str], StrategyPosition] = {}
        self._p_days: dict[date, PlanStatus] = {}
        self._p_lines: dict[tuple[date, str, str], tuple[int, PlanLine]] = {}
        self._p_audit: list[tuple[date, AuditEntry]] = []

    def _plan_staged(self) -> bool:
        return bool(self._p_strategies or self._p_positions or self._p_days or self._p_lines or self._p_audit)

    def _plan_discard(self) -> None:
        self._p_strategies.clear()
        self._p_positions.clear()
        self._p_days.clear()
        self._p_lines.clear()
        self._p_audit.clear()

    # ------------------------------------------------------------------ staging
    def stage_strategy(self, settings: StrategySettings, who: str, ts: datetime) -> None:
        self._p_strategies[settings.strategy_id] = (settings, who, ts)

    def stage_strategy_position(self, position: StrategyPosition) -> None:
        self._p_positions[(position.strategy_id, position.code)] = replace(position)

    def stage_plan_status(self, status: PlanStatus) -> None:
        self._p_days[status.trading_day] = status

    def stage_plan_line(self, seq: int, line: PlanLine) -> None:
        self._p_lines[(line.trading_day, line.strategy_id, line.line_id)] = (seq, line)

    def stage_plan_audit(self, day: date, entry: AuditEntry) -> None:
        self._p_audit.append((day, entry))

    # ------------------------------------------------------------------ SQLite
    def _plan_commit_sql(self, conn: Any) -> None:
        if self._p_strategies:
            conn.executemany(
                _UPSERT_STRATEGY,
                [
                    (s.strategy_id, s.name, to_db(s.paper_capital), s.allot_kind.value, to_db(s.allot_value),
                     int(s.followed), s.policy, to_db(s.price_offset), ts.isoformat(), who)
                    for s, who, ts in self._p_strategies.values()
                ],
            )  # fmt: skip
        if self._p_positions:
            conn.executemany(
                _UPSERT_STRATEGY_POSITION,
                [
                    (p.strategy_id, p.code, p.total, p.settled, to_db(p.avg_cost), to_db(p.realized_pnl),
                     int(p.t_plus_zero))
                    for p in self._p_positions.values()
                ],
            )  # fmt: skip
        if self._p_days:
            conn.executemany(_UPSERT_PLAN_DAY, [_day_row(s) for s in self._p_days.values()])
        if self._p_lines:
            conn.executemany(_UPSERT_PLAN_LINE, [_line_row(seq, x) for seq, x in self._p_lines.values()])
        if self._p_audit:
            conn.executemany(
                _INSERT_AUDIT,
                [
                    (d.isoformat(), e.ts.isoformat(), e.who, e.action, e.line_id, e.detail)
                    for d, e in self._p_audit
                ],
            )

    def _sql_load_strategies(self, conn: Any) -> list[StrategySettings]:
        rows = conn.execute(
            "SELECT strategy_id, name, paper_capital, allot_kind, allot_value, followed, policy, price_offset "
            "FROM strategies ORDER BY strategy_id"
        ).fetchall()
        return [
            StrategySettings(
                r[0], from_db(r[2]), AllotKind(r[3]), from_db(r[4]), r[1], bool(r[5]), r[6], from_db(r[7])
            )
            for r in rows
        ]

    def _sql_load_strategy_positions(self, conn: Any) -> list[StrategyPosition]:
        rows = conn.execute(
            "SELECT strategy_id, code, total, settled, avg_cost, realized_pnl, t_plus_zero FROM strategy_positions"
        ).fetchall()
        return [
            StrategyPosition(r[0], r[1], r[2], r[3], from_db(r[4]), from_db(r[5]), bool(r[6])) for r in rows
        ]

    def _sql_load_plan(self, conn: Any, day: date) -> tuple[PlanStatus | None, list[PlanLine]]:
        row = conn.execute(
            "SELECT trading_day, approved_at, approved_by, paused_buys, paused_sells, auto_approve_at "
            "FROM plan_days WHERE trading_day = ?",
            (day.isoformat(),),
        ).fetchone()
        status = None if row is None else _status_from_row(row)
        lines = conn.execute(
            f"SELECT {_LINE_COLUMNS} FROM plan_lines WHERE trading_day = ? ORDER BY seq", (day.isoformat(),)
        ).fetchall()
        return status, [_line_from_row(r) for r in lines]

    def _sql_load_plan_audit(self, conn: Any, day: date) -> list[AuditEntry]:
        rows = conn.execute(
            "SELECT ts, who, action, line_id, detail FROM plan_audit WHERE trading_day = ? ORDER BY id",
            (day.isoformat(),),
        ).fetchall()
        return [AuditEntry(datetime.fromisoformat(r[0]), r[1], r[2], r[3], r[4]) for r in rows]


class MemoryPlanRows(PlanRows):
    """The same rows kept in memory (MemoryOmsStore)."""

    def _plan_memory_init(self) -> None:
        self._plan_init()
        self._c_strategies: dict[str, StrategySettings] = {}
        self._c_positions: dict[tuple[str, str], StrategyPosition] = {}
        self._c_days: dict[date, PlanStatus] = {}
        self._c_lines: dict[tuple[date, str, str], tuple[int, PlanLine]] = {}
        self._c_audit: list[tuple[date, AuditEntry]] = []

    def _plan_commit_memory(self) -> None:
        self._c_strategies.update({k: v[0] for k, v in self._p_strategies.items()})
        self._c_positions.update(self._p_positions)
        self._c_days.update(self._p_days)
        self._c_lines.update(self._p_lines)
        self._c_audit.extend(self._p_audit)

    def load_strategies(self) -> list[StrategySettings]:
        return [self._c_strategies[k] for k in sorted(self._c_strategies)]

    def load_strategy_positions(self) -> list[StrategyPosition]:
        return [replace(p) for p in self._c_positions.values()]

    def load_plan(self, day: date) -> tuple[PlanStatus | None, list[PlanLine]]:
        lines = sorted((v for k, v in self._c_lines.items() if k[0] == day), key=lambda v: v[0])
        return self._c_days.get(day), [line for _, line in lines]

    def load_plan_audit(self, day: date) -> list[AuditEntry]:
        return [e for d, e in self._c_audit if d == day]


# ---------------------------------------------------------------------------- rows
def _day_row(s: PlanStatus) -> tuple[Any, ...]:
    return (
        s.trading_day.isoformat(),
        None if s.approved_at is None else s.approved_at.isoformat(),
        s.approved_by,
        int(s.paused_buys),
        int(s.paused_sells),
        None if s.auto_approve_at is None else s.auto_approve_at.isoformat(),
    )


def _status_from_row(r: tuple[Any, ...]) -> PlanStatus:
    return PlanStatus(
        date.fromisoformat(r[0]),
        None if r[1] is None else datetime.fromisoformat(r[1]),
        r[2],
        bool(r[3]),
        bool(r[4]),
        None if r[5] is None else time.fromisoformat(r[5]),
    )


def _change_json(c: Change) -> dict[str, Any]:
    return {"kind": c.kind, "reason": c.reason, "before": c.before, "after": c.after, "who": c.who,
            "ts": None if c.ts is None else c.ts.isoformat()}  # fmt: skip


def _line_row(seq: int, x: PlanLine) -> tuple[Any, ...]:
    return (
        x.trading_day.isoformat(), x.strategy_id, x.line_id, seq, x.code, x.name, x.side.value, x.requested_qty,
        x.qty, to_db(x.price), x.policy, to_db(x.price_offset), x.exec_time.isoformat(), x.state.value,
        x.source.value, json.dumps([_change_json(c) for c in x.changes], ensure_ascii=False),
    )  # fmt: skip


def _line_from_row(r: tuple[Any, ...]) -> PlanLine:
    changes = tuple(
        Change(c["kind"], c["reason"], c["before"], c["after"], c["who"],
               None if c["ts"] is None else datetime.fromisoformat(c["ts"]))
        for c in json.loads(r[15])
    )  # fmt: skip
    price_offset = from_db(r[11])
    assert price_offset is not None
    return PlanLine(
        line_id=r[2], strategy_id=r[1], trading_day=date.fromisoformat(r[0]), code=r[4], side=Side(r[6]),
        requested_qty=r[7], qty=r[8], price=from_db(r[9]), policy=r[10], price_offset=price_offset,
        exec_time=time.fromisoformat(r[12]), state=LineState(r[13]), source=LineSource(r[14]), name=r[5],
        changes=changes,
    )  # fmt: skip


_ = Decimal  # money columns go through to_db/from_db
