"""The strategies panel and the risk settings panel on a real engine on the simulated broker."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path

import pytest

from app.core.messages import SignalsFetched
from app.domain.clock import CN_TZ
from app.domain.side import Side
from app.domain.signals import OPEN, SignalBatch, SignalLine
from app.ui.panels.risk_settings import HINTS, LABELS, RiskSettingsPanel, check_value, risk_fields
from app.ui.panels.strategies import StrategiesPanel
from tests.helpers.engine_day import DAY, settle
from tests.helpers.ui_day import STRATEGY, UiSession, save_screenshot, ui_session


@pytest.fixture
def session(tmp_path: Path) -> Iterator[UiSession]:
    s = ui_session(tmp_path / "day", until=time(9, 35))
    yield s
    s.close()


def test_strategies_panel_lists_the_followed_strategy_with_allotment_mode_last_fetch_and_progress(
    qtbot, qtmodeltester, session: UiSession, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Arrange: a batch fetched from the signal source, recorded with its time
    fetched = SignalBatch(
        STRATEGY.strategy_id, DAY,
        (SignalLine("f1", STRATEGY.strategy_id, DAY, "600519.SH", "贵州茅台", Side.BUY, 100, None, OPEN),),
    )  # fmt: skip
    session.setup.engine.post(SignalsFetched(DAY, "bigquant", (fetched,)))
    settle(session.setup)
    session.terminal.approve_plan()
    settle(session.setup)
    panel = StrategiesPanel(session.terminal)
    qtbot.addWidget(panel)
    panel.resize(980, 220)
    panel.show()
    # Act
    panel.refresh()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1 and not panel.loading, timeout=10_000)
    # Assert
    model = panel.model
    qtmodeltester.check(model)
    text = {name: model.index(0, i).data() for i, name in enumerate(model.COLUMNS)}
    assert text["id"] == "alpha_01" and text["name"] == "动量精选"
    assert text["followed"] == "是" and text["mode"] == "模拟"
    assert text["allotted"] == "1,000,000.00"
    assert text["last_fetch"] == session.setup.clock.now().astimezone(CN_TZ).strftime("%Y-%m-%d %H:%M:%S")
    statuses = session.terminal.strategies()
    assert text["today"] == f"{statuses[0].done}/{statuses[0].lines}"
    panel.set_mode("live")
    assert model.index(0, model.COLUMNS.index("mode")).data() == "实盘"
    save_screenshot(panel, "strategies_panel", tmp_path / "screenshots")


def test_strategies_panel_says_why_when_reading_fails(qtbot) -> None:  # type: ignore[no-untyped-def]
    class Broken:
        def strategies(self) -> list:
            raise OSError("磁盘已满 (disk full)")

    panel = StrategiesPanel(Broken())
    qtbot.addWidget(panel)
    panel.refresh()
    qtbot.waitUntil(lambda: not panel.loading)
    assert "磁盘已满" in panel.message.text() and not panel.message.isHidden()


@pytest.fixture
def risk_panel(qtbot, session: UiSession) -> RiskSettingsPanel:  # type: ignore[no-untyped-def]
    panel = RiskSettingsPanel(session.terminal)
    qtbot.addWidget(panel)
    panel.resize(1000, 620)
    panel.show()
    panel.refresh()
    qtbot.waitUntil(lambda: not panel.busy and panel.editors["max_orders_per_second"].text() == "50")
    return panel


def test_every_risk_parameter_has_an_editor_showing_the_value_in_force(
    risk_panel: RiskSettingsPanel, session: UiSession
) -> None:
    values = session.terminal.risk_settings()
    assert set(risk_panel.editors) == {f.name for f in risk_fields()} == set(LABELS)
    for key, editor in risk_panel.editors.items():
        shown = ("true" if editor.isChecked() else "false") if hasattr(editor, "isChecked") else editor.text()
        assert shown == values[key]
    assert risk_panel.changes() == {}
    # every text field says what to type in the window's words (the settings file's English stays in
    # the tooltip): a hint for each, Chinese in the Chinese window
    typed = {k for k, e in risk_panel.editors.items() if not hasattr(e, "isChecked")}
    assert typed == set(HINTS)
    for key in typed:
        hint = risk_panel.editors[key].placeholderText()
        assert hint == HINTS[key] and re.search(r"[\u4e00-\u9fff]", hint), (key, hint)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("max_position_pct", "1.5"),
        ("max_position_pct", "0"),
        ("max_orders_per_second", "301"),
        ("max_order_value", "1e400"),
        ("blacklist", "600000"),
        ("blocked_boards", "moon"),
        ("cage_ticks", "9223372036854775808"),
        ("stop_loss_pct", "abc"),
    ],
)
def test_invalid_risk_settings_are_refused_with_a_message_and_nothing_changes(
    risk_panel: RiskSettingsPanel, session: UiSession, qtbot, key: str, text: str, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    before, audit_before = session.terminal.risk_settings(), session.terminal.risk_audit()
    risk_panel.editors[key].setText(text)
    assert risk_panel.apply() is False
    assert risk_panel.message.isVisible()
    assert "风控参数无效" in risk_panel.message.text() and LABELS[key] in risk_panel.message.text()
    assert repr(text) in risk_panel.message.text()  # "..., was '1.5'"
    assert not risk_panel.busy  # nothing was sent
    if key == "max_position_pct" and text == "1.5":
        save_screenshot(risk_panel, "risk_settings_refused", tmp_path / "screenshots")
    assert session.terminal.risk_settings() == before
    assert session.terminal.risk_audit() == audit_before


def test_valid_changes_go_through_the_terminal_and_appear_in_the_audit_trail(
    risk_panel: RiskSettingsPanel, session: UiSession, qtbot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    risk_panel.editors["max_position_pct"].setText("0.2")
    risk_panel.editors["blacklist"].setText("600519.sh, 000001.SZ")
    risk_panel.editors["block_st"].setChecked(True)
    with qtbot.waitSignal(risk_panel.settings_applied, timeout=10_000) as applied:
        assert risk_panel.apply()
    assert {k for k, _, _ in applied.args[0]} == {"max_position_pct", "blacklist", "block_st"}
    values = session.terminal.risk_settings()
    assert values["max_position_pct"] == "0.2"
    assert values["blacklist"] == "000001.SZ,600519.SH"
    assert values["block_st"] == "true"
    assert risk_panel.editors["blacklist"].text() == "000001.SZ,600519.SH"  # shown as stored
    assert risk_panel.audit.rowCount() == 3
    keys = {risk_panel.audit.index(r, 2).data() for r in range(3)}
    assert keys == {LABELS["max_position_pct"], LABELS["blacklist"], LABELS["block_st"]}
    assert risk_panel.audit.index(0, 1).data() == "用户"
    assert "已保存 3 项" in risk_panel.message.text()
    save_screenshot(risk_panel, "risk_settings_panel", tmp_path / "screenshots")


def test_risk_audit_model(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    from app.ui.panels.risk_settings import RiskAuditModel

    model = RiskAuditModel()
    ts = datetime(2026, 11, 23, 9, 0, tzinfo=CN_TZ)
    model.set_rows([(ts, "user", "max_position_pct", "1", "0.2"), (ts, "cli", "unknown_key", None, "x")])
    qtmodeltester.check(model)
    assert model.index(0, 2).data() == "unknown_key"  # newest first; an unknown key shown as is
    assert model.index(1, 4).data() == "0.2"


def test_check_value_accepts_every_default() -> None:
    from app.core.risk.limits import RiskLimits

    defaults = RiskLimits().as_dict()
    assert all(check_value(key, text) is None for key, text in defaults.items())
