"""The alerts panel after a restart: the day's earlier alerts come from the database (read on the
bridge's command thread with the snapshot), each once, oldest first, bounded; a store that cannot
be read still lets the snapshot through."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from app.core.messages import AlertRaised
from app.domain.clock import CN_TZ
from app.storage.memory_store import MemoryOmsStore
from app.ui.bridge import DAY_ALERTS, with_earlier_alerts
from tests.helpers.engine_day import DAY
from tests.helpers.window_day import WAIT_MS, window_session

pytestmark = pytest.mark.gui


def _messages(session) -> list[str]:  # type: ignore[no-untyped-def]
    model = session.panel("alerts").table_model
    return [model.data(model.index(r, 3)) for r in range(model.rowCount())]


def test_alerts_of_an_earlier_session_are_shown_after_reopening_each_once(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "day"
    first = window_session(folder, qtbot, plan=False)
    try:
        for n in range(3):
            first.terminal.alert("warning", "test", f"第一次会话告警 {n} (first session alert {n})")
        first.catch_up()
        qtbot.waitUntil(
            lambda: "第一次会话告警 2 (first session alert 2)" in _messages(first), timeout=WAIT_MS
        )
    finally:
        first.close()

    second = window_session(folder, qtbot, plan=False)
    try:
        second.terminal.alert("error", "test", "第二次会话告警 (second session alert)")
        second.catch_up()
        second.bridge.refresh()  # a fresh snapshot: this session's alert is in the store and in memory
        second.bridge.wait_commands(WAIT_MS)
        qtbot.waitUntil(lambda: "第二次会话告警 (second session alert)" in _messages(second), timeout=WAIT_MS)
        shown = _messages(second)
        earlier = [f"第一次会话告警 {n} (first session alert {n})" for n in range(3)]
        assert [m for m in shown if m in earlier] == earlier  # all three, once each, oldest first
        assert shown.count("第二次会话告警 (second session alert)") == 1
        assert shown.index(earlier[-1]) < shown.index("第二次会话告警 (second session alert)")
    finally:
        second.close()


def test_a_store_that_cannot_be_read_still_lets_the_snapshot_through(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    session = window_session(tmp_path / "day", qtbot, plan=False)
    try:

        def broken(limit: int = 500, timeout: float = 10.0) -> tuple[AlertRaised, ...]:
            raise OSError("disk I/O error")

        session.terminal.day_alerts = broken  # type: ignore[method-assign]
        session.terminal.alert("info", "test", "仍然显示 (still shown)")
        session.catch_up()
        got: list[object] = []
        session.bridge.snapshot_arrived.connect(got.append)
        session.bridge.refresh()
        qtbot.waitUntil(lambda: bool(got), timeout=WAIT_MS)
        assert any(a.message == "仍然显示 (still shown)" for a in got[0].alerts)  # type: ignore[attr-defined]
    finally:
        session.close()


def _alert(n: int, minute: int = 0) -> AlertRaised:
    return AlertRaised("info", "test", f"a{n}", datetime.combine(DAY, time(9, minute), CN_TZ))


def test_merge_keeps_each_alert_once_oldest_first_and_bounded() -> None:
    from app.core.snapshot import TerminalSnapshot

    fields = {f: None for f in TerminalSnapshot.__dataclass_fields__}  # only the alerts are read
    base = TerminalSnapshot(**{**fields, "alerts": ()})  # type: ignore[arg-type]
    session = (_alert(10, 30), _alert(11, 31), _alert(11, 31))  # a true repeat: both shown
    stored = (_alert(11, 31), _alert(11, 31), _alert(10, 30), _alert(2, 2), _alert(1, 1))  # newest first
    merged = with_earlier_alerts(replace(base, alerts=session), stored)
    assert [a.message for a in merged.alerts] == ["a1", "a2", "a10", "a11", "a11"]
    many = tuple(
        AlertRaised("info", "t", f"m{n}", datetime.combine(DAY, time(9), CN_TZ) + timedelta(seconds=n))
        for n in range(DAY_ALERTS + 50)
    )
    bounded = with_earlier_alerts(base, tuple(reversed(many)))
    assert [a.message for a in bounded.alerts] == [a.message for a in many[-DAY_ALERTS:]]
    assert with_earlier_alerts(replace(base, alerts=session), ()).alerts == session


def test_store_reads_the_day_newest_first_bounded(tmp_path: Path) -> None:
    from app.storage.database import open_database
    from app.storage.oms_store import SqliteOmsStore

    def at(day: date, hh: int, mm: int = 0) -> datetime:
        return datetime.combine(day, time(hh, mm), CN_TZ)

    rows = [
        (at(DAY - timedelta(days=1), 23, 59), "yesterday"),
        (at(DAY, 0, 0), "midnight"),
        (at(DAY, 9, 30), "open"),
        (at(DAY, 14, 59), "close"),
        (at(DAY + timedelta(days=1), 0, 0), "tomorrow"),
    ]
    start = at(DAY, 0)
    memory = MemoryOmsStore()
    for ts, message in rows:
        memory.stage_alert(ts, "info", "t", message)
    memory.commit()
    assert [r[3] for r in memory.load_alerts(start, start + timedelta(days=1), 10)] == [
        "close",
        "open",
        "midnight",
    ]
    assert [r[3] for r in memory.load_alerts(start, start + timedelta(days=1), 2)] == ["close", "open"]

    store = SqliteOmsStore(open_database(tmp_path / "tiller.db"))
    for ts, message in rows:
        store.stage_alert(ts.astimezone(CN_TZ), "info", "t", message)
    store.commit()
    got = store.load_alerts(start, start + timedelta(days=1), 10)
    assert [r[3] for r in got] == ["close", "open", "midnight"]
    assert got[0][0] == at(DAY, 14, 59)
    assert [r[3] for r in store.load_alerts(start, start + timedelta(days=1), 1)] == ["close"]
    assert store.load_alerts(start, start + timedelta(days=1), 0) == []
