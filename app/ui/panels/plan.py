"""Today's plan: every line of every followed strategy with its state and the planner's and the risk
engine's notes; approve; the big 暂停买入 / 暂停卖出 / 全部暂停 and 恢复; skip or edit a line; the kill
switch (with confirmation). Each has a keyboard shortcut. Commands go to the Terminal off the GUI
thread; the table follows the plan's events."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.planning.model import POLICIES, PlanLine, PlanStatus
from app.domain.side import Side
from app.ui.bridge import EngineBridge
from app.ui.display import FLAT, price_text
from app.ui.panels.base import Panel
from app.ui.read_model import LineFill, ReadModel
from app.ui.table_model import Column, RowTableModel
from app.ui.words import core_text, line_state_text, policy_text, side_color, side_text, table_view, tr

SHORTCUTS = {
    "approve": "F4",
    "pause_buys": "F6",
    "pause_sells": "F7",
    "pause_all": "F8",
    "resume": "F9",
    "edit": "F2",
    "skip": "Ctrl+D",
    "kill": "Ctrl+Shift+K",
}


class PlanRow(NamedTuple):
    line: PlanLine
    fill: LineFill
    waiting_on_pause: bool  # approved but its side is paused
    strategy: str  # its name as the user gave it (else the id)


def _state(r: PlanRow) -> str:
    text = line_state_text(r.line.state)
    if r.waiting_on_pause:
        return text + tr("（暂停中）")
    if r.line.state.value == "handed" and not r.fill.working and r.fill.filled >= r.line.qty > 0:
        return tr("已完成")
    return text


def plan_model(parent: Any = None) -> RowTableModel[PlanRow]:
    def qty(r: PlanRow) -> str:
        x = r.line
        return f"{x.requested_qty} → {x.qty}" if x.requested_qty != x.qty else str(x.qty)

    def price(r: PlanRow) -> str:
        return price_text(r.line.price, r.line.code) if r.line.price is not None else "-"

    def state_color(r: PlanRow) -> Any:
        if r.waiting_on_pause:
            return side_color(Side.BUY)
        return FLAT

    columns: list[Column[PlanRow]] = [
        Column(tr("策略", "one strategy"), lambda r: r.strategy[:12], tip=lambda r: r.line.strategy_id),
        Column(tr("代码"), lambda r: r.line.code),
        Column(tr("名称"), lambda r: r.line.name),
        Column(tr("方向"), lambda r: side_text(r.line.side), "center", lambda r: side_color(r.line.side)),
        Column(tr("数量"), qty, "right"),
        Column(tr("计划价"), price, "right"),
        Column(tr("执行方式"), lambda r: policy_text(r.line.policy), "center"),
        Column(tr("状态"), _state, "center", state_color),
        Column(tr("已成交"), lambda r: f"{r.fill.filled}/{r.line.qty}", "right"),
        Column(
            tr("说明（计划与风控）"),
            lambda r: core_text(r.line.reasons),
            tip=lambda r: "\n".join(c.reason for c in r.line.changes),
        ),
    ]
    return RowTableModel(columns, key=lambda r: r.line.line_id, max_rows=5000, parent=parent)


class EditLineDialog(QDialog):
    """Quantity, execution policy and price offset of a line not yet handed."""

    def __init__(self, line: PlanLine, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("修改计划行") + f" {line.code}")
        self.qty = QSpinBox(self)
        self.qty.setRange(1, 1_000_000_000)
        self.qty.setSingleStep(100)
        self.qty.setValue(line.qty)
        self.policy = QComboBox(self)
        for p in sorted(POLICIES):
            self.policy.addItem(policy_text(p), p)
        self.policy.setCurrentIndex(max(0, self.policy.findData(line.policy)))
        self.offset = QLineEdit(str(line.price_offset), self)
        form = QFormLayout(self)
        form.addRow(tr("数量（股）"), self.qty)
        form.addRow(tr("执行方式"), self.policy)
        form.addRow(tr("价格偏移（比例，0 到 0.5）"), self.offset)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[int, str, Decimal | None]:
        try:
            offset: Decimal | None = Decimal(self.offset.text().strip())
        except InvalidOperation:
            offset = None
        return self.qty.value(), str(self.policy.currentData()), offset


class PlanPanel(Panel):
    def __init__(self, read_model: ReadModel, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(read_model, bridge, parent)
        self.table_model = plan_model(self)
        self.view = table_view(self)
        self.view.setModel(self.table_model)
        self.view.doubleClicked.connect(lambda _index: self.edit_selected())
        self.banner = QLabel(self)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        big = QFont(self.font())
        big.setPointSizeF(big.pointSizeF() * 1.3)
        big.setBold(True)
        self.banner.setFont(big)

        def button(text: str, key: str, slot: Any, style: str = "") -> QPushButton:
            b = QPushButton(f"{text} ({SHORTCUTS[key]})", self)
            b.setFont(big)
            b.setMinimumHeight(40)
            if style:
                b.setStyleSheet(style)
            b.clicked.connect(slot)
            self.shortcut(SHORTCUTS[key], slot)
            return b

        self.approve_button = button(tr("批准计划"), "approve", self.approve)
        self.pause_buys_button = button(tr("暂停买入"), "pause_buys", self.pause_buys, "color: #c62828;")
        self.pause_sells_button = button(tr("暂停卖出"), "pause_sells", self.pause_sells, "color: #0f9d3a;")
        self.pause_all_button = button(tr("全部暂停"), "pause_all", self.pause_all, "font-weight: bold;")
        self.resume_button = button(tr("恢复"), "resume", self.resume)
        self.edit_button = button(tr("修改"), "edit", self.edit_selected)
        self.skip_button = button(tr("跳过"), "skip", self.skip_selected)
        self.kill_button = button(
            tr("紧急停止"), "kill", self.kill_switch, "background: #c62828; color: white; font-weight: bold;"
        )
        self.kill_button.setToolTip(tr("停止一切新委托并撤销全部在途委托（需确认）"))
        top = QHBoxLayout()
        for b in (self.pause_buys_button, self.pause_sells_button, self.pause_all_button, self.resume_button):
            top.addWidget(b)
        top.addStretch(1)
        top.addWidget(self.kill_button)
        lines = QHBoxLayout()
        lines.addWidget(self.approve_button)
        lines.addWidget(self.edit_button)
        lines.addWidget(self.skip_button)
        lines.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addLayout(lines)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        # a dialog asks for the edit; tests replace it (a modal dialog would wait for a click)
        self.ask_edit = self._ask_edit
        read_model.reloaded.connect(self.reload)
        read_model.plan_lines_changed.connect(self.on_lines)
        read_model.plan_status_changed.connect(self.on_status)
        self.reload()

    # ------------------------------------------------------------------ following the read model
    def _row(self, line: PlanLine) -> PlanRow:
        status = self.model_cache.plan_status
        paused = status is not None and (
            (line.side is Side.BUY and status.paused_buys) or (line.side is Side.SELL and status.paused_sells)
        )
        waiting = paused and line.state.value == "approved"
        fill = self.model_cache.line_fills.get(line.line_id, LineFill())
        return PlanRow(line, fill, waiting, self.model_cache.strategy_name(line.strategy_id))

    def reload(self) -> None:
        self.table_model.set_rows(self._row(x) for x in self.model_cache.plan_lines.values())
        self.fit(self.view, force=True)
        self.on_status(self.model_cache.plan_status)

    def on_lines(self, lines: list[PlanLine]) -> None:
        self.table_model.upsert(self._row(x) for x in lines)
        self.fit(self.view, force=self.table_model.rowCount() <= 300)

    def on_status(self, status: PlanStatus | None) -> None:
        if status is None:
            self.banner.setText(tr("今日暂无计划"))
            return
        parts = []
        if status.paused_buys and status.paused_sells:
            parts.append(tr("全部已暂停"))
        elif status.paused_buys:
            parts.append(tr("买入已暂停"))
        elif status.paused_sells:
            parts.append(tr("卖出已暂停"))
        approved = tr("已批准") + f" {status.approved_at:%H:%M:%S}" if status.approved_at else tr("待批准")
        parts.append(approved)
        if status.auto_approve_at is not None and not status.approved_at:
            parts.append(tr("自动批准于") + f" {status.auto_approve_at:%H:%M}")
        paused = status.paused_buys or status.paused_sells
        self.banner.setStyleSheet("color: #c62828;" if paused else "color: #404040;")
        self.banner.setText("  ·  ".join(parts))
        # lines waiting on a pause read differently
        self.table_model.upsert(self._row(x) for x in self.model_cache.plan_lines.values())

    # ------------------------------------------------------------------ commands
    def approve(self) -> None:
        self.command(lambda: self.terminal.approve_plan(), tr("计划已批准 (plan approved)"))

    def pause_buys(self) -> None:
        self.command(lambda: self.terminal.pause_buys(), tr("买入已暂停 (buys paused)"))

    def pause_sells(self) -> None:
        self.command(lambda: self.terminal.pause_sells(), tr("卖出已暂停 (sells paused)"))

    def pause_all(self) -> None:
        self.command(lambda: self.terminal.pause_all(), tr("全部已暂停 (all paused)"))

    def resume(self) -> None:
        self.command(lambda: self.terminal.resume(), tr("已恢复 (resumed)"))

    def selected_lines(self) -> list[PlanLine]:
        out = []
        for index in self.view.selectionModel().selectedRows():
            row = self.table_model.row(index.row())
            if row is not None:
                out.append(row.line)
        return out

    def skip_selected(self) -> None:
        lines = [x for x in self.selected_lines() if x.state.value != "skipped"]
        if not lines:
            self.say(tr("请先选择要跳过的计划行 (select a line first)"), error=True)
            return
        names = "、".join(f"{x.code} {side_text(x.side)} {x.qty}" for x in lines[:5])
        if not self.confirm(
            tr("跳过计划行"), tr("跳过以下计划行？已在执行的将撤销其在途委托。") + f"\n{names}"
        ):
            return
        for x in lines:
            line_id = x.line_id
            self.command(lambda line_id=line_id: self.terminal.skip_line(line_id), tr("已跳过 (skipped)"))

    def _ask_edit(self, line: PlanLine) -> tuple[int, str, Decimal | None] | None:
        dialog = EditLineDialog(line, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.values()

    def edit_selected(self) -> None:
        lines = self.selected_lines()
        if len(lines) != 1:
            self.say(tr("请选择一行计划 (select one line)"), error=True)
            return
        line = lines[0]
        if line.state.value not in ("planned", "approved"):
            self.say(tr("此行已交执行或已跳过，不能修改 (already handed or skipped)"), error=True)
            return
        answer = self.ask_edit(line)
        if answer is None:
            return
        qty, policy, offset = answer
        if offset is None:
            self.say(tr("价格偏移须为数字 (the price offset must be a number)"), error=True)
            return
        line_id = line.line_id
        self.command(
            lambda: self.terminal.edit_line(line_id, qty=qty, policy=policy, price_offset=offset),
            tr("已修改 (edited)"),
        )

    def kill_switch(self) -> None:
        if not self.confirm(
            tr("紧急停止"),
            tr("停止一切新委托并撤销全部在途委托？\n之后须在风控设置中把交易状态改回 active 才能再下单。"),
        ):
            return
        self.command(
            lambda: self.terminal.kill_switch(),
            tr("已紧急停止：新委托全部拒绝，在途委托已撤 (kill switch on)"),
            lambda _count: self.bridge.refresh(),
        )
