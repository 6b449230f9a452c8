"""Risk settings: every risk parameter, editable, checked before it is sent, changed through the
Terminal's risk-settings command (`Terminal.set_risk`, validated again and audited on the engine
thread), and the audit trail of every change.

The form is generated from `RiskLimits`' fields (each carries its parser, what it expects and what it
is for), as vn.py's risk rules generate their settings form. Fed through `set_settings(values)`
(the `Terminal.risk_settings()` dict) and `set_audit(rows)` (`Terminal.risk_audit()`); `refresh()`
and `apply()` talk to the Terminal off the GUI thread.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QT_TR_NOOP,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.risk import RiskSettingError
from app.core.risk.limits import RiskLimits
from app.domain.clock import CN_TZ
from app.ui.words import tr
from app.ui.workers import Background

Index = QModelIndex | QPersistentModelIndex
MAX_AUDIT_ROWS = 2000

# The names a user reads; the English key stays in the tooltip and the audit trail.
LABELS: dict[str, str] = {
    "max_position_pct": QT_TR_NOOP("个股最大仓位 (占总资产)"),
    "max_account_position_pct": QT_TR_NOOP("账户最大仓位 (占总资产)"),
    "whitelist": QT_TR_NOOP("股票池 (白名单)"),
    "blacklist": QT_TR_NOOP("黑名单"),
    "blocked_boards": QT_TR_NOOP("禁买板块"),
    "block_st": QT_TR_NOOP("禁买 ST/*ST"),
    "max_new_buys_per_day": QT_TR_NOOP("每日最多买入股票数"),
    "max_order_value": QT_TR_NOOP("单笔最大金额 (元)"),
    "max_order_qty": QT_TR_NOOP("单笔最大股数"),
    "max_price_deviation_pct": QT_TR_NOOP("限价偏离上限 (防乌龙指)"),
    "no_buy_at_limit_up": QT_TR_NOOP("涨停不买入"),
    "no_sell_at_limit_down": QT_TR_NOOP("跌停不卖出"),
    "price_cage": QT_TR_NOOP("价格笼子预检"),
    "cage_pct": QT_TR_NOOP("价格笼子比例"),
    "cage_ticks": QT_TR_NOOP("价格笼子最小档数"),
    "cage_pct_bse": QT_TR_NOOP("北交所价格笼子比例"),
    "duplicate_window_s": QT_TR_NOOP("重复下单拦截 (秒)"),
    "max_daily_turnover": QT_TR_NOOP("每日最大成交额 (元)"),
    "max_orders_per_second": QT_TR_NOOP("每秒最多报撤单"),
    "max_orders_per_day": QT_TR_NOOP("每日最多报撤单"),
    "max_cancels_per_day": QT_TR_NOOP("每日最多撤单"),
    "max_cancel_ratio": QT_TR_NOOP("撤单率上限"),
    "cancel_ratio_min_orders": QT_TR_NOOP("撤单率起算单数"),
    "stop_loss_pct": QT_TR_NOOP("个股止损比例"),
    "take_profit_pct": QT_TR_NOOP("个股止盈比例"),
    "drawdown_alert_pct": QT_TR_NOOP("回撤告警比例"),
}

_WHO = {"user": QT_TR_NOOP("用户"), "schedule": QT_TR_NOOP("计划任务"), "cli": QT_TR_NOOP("命令行")}

# What to type, in the window's words (the settings file's English stays in the tooltip).
_FRACTION_1 = QT_TR_NOOP("0 到 1 的比例，如 0.2（1 = 不限）")
_AMOUNT = QT_TR_NOOP("金额（元），最多两位小数（0 = 不限）")
_CAGE = QT_TR_NOOP("0 到 0.5 的比例")
HINTS: dict[str, str] = {
    "max_position_pct": _FRACTION_1,
    "max_account_position_pct": _FRACTION_1,
    "whitelist": QT_TR_NOOP("代码以逗号分隔，如 600000.SH, 000001.SZ（留空 = 不限）"),
    "blacklist": QT_TR_NOOP("代码以逗号分隔，如 600000.SH, 000001.SZ"),
    "blocked_boards": QT_TR_NOOP("板块以逗号分隔：sh_main, sz_main, chinext, star, bse, fund"),
    "max_new_buys_per_day": QT_TR_NOOP("0 到 10000 的整数（0 = 不限）"),
    "max_order_value": _AMOUNT,
    "max_order_qty": QT_TR_NOOP("股数（0 = 仅按交易所上限）"),
    "max_price_deviation_pct": QT_TR_NOOP("0 到 10 的比例，如 0.5（0 = 关闭）"),
    "cage_pct": _CAGE,
    "cage_ticks": QT_TR_NOOP("0 到 1000 的整数"),
    "cage_pct_bse": _CAGE,
    "duplicate_window_s": QT_TR_NOOP("0 到 3600 秒（0 = 关闭）"),
    "max_daily_turnover": _AMOUNT,
    "max_orders_per_second": QT_TR_NOOP("1 到 300 的整数（交易所阈值）"),
    "max_orders_per_day": QT_TR_NOOP("1 到 20000 的整数（交易所阈值）"),
    "max_cancels_per_day": QT_TR_NOOP("0 到 20000 的整数（0 = 不限）"),
    "max_cancel_ratio": QT_TR_NOOP("0 到 1 的比例（0 = 关闭）"),
    "cancel_ratio_min_orders": QT_TR_NOOP("不小于 1 的整数"),
    "stop_loss_pct": QT_TR_NOOP("0 到 1 的比例，如 0.1（0 = 关闭）"),
    "take_profit_pct": QT_TR_NOOP("0 到 100 的比例，如 0.2（0 = 关闭）"),
    "drawdown_alert_pct": QT_TR_NOOP("0 到 1 的比例，如 0.05（0 = 关闭）"),
}


def risk_fields() -> list[dataclasses.Field[Any]]:
    return list(dataclasses.fields(RiskLimits))


def check_value(key: str, text: str) -> str | None:
    """None when `text` is a valid value of `key`, else the reason in words (nothing is changed)."""
    try:
        RiskLimits().with_value(key, text)
    except RiskSettingError as exc:
        return f"{tr(LABELS.get(key, key))}: {exc}"
    return None


class RiskAuditModel(QAbstractTableModel):
    """The audit trail, newest first: when, who, setting, old value, new value."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[datetime, str, str, str | None, str | None]] = []
        self._headers = (tr("时间"), tr("操作人"), tr("参数"), tr("原值"), tr("新值"))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 5

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < 5
        ):
            return self._headers[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        ts, who, key, old, new = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            column = index.column()
            if column == 0:
                return f"{ts.astimezone(CN_TZ):%m-%d %H:%M:%S}"
            if column == 1:
                return tr(_WHO.get(who, who))
            if column == 2:
                return tr(LABELS[key]) if key in LABELS else key
            return ("" if old is None else old) if column == 3 else ("" if new is None else new)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{ts.astimezone(CN_TZ):%Y-%m-%d %H:%M:%S}  risk.{key}: {old} -> {new}"
        return None

    def set_rows(self, rows: Sequence[tuple[datetime, str, str, str | None, str | None]]) -> None:
        newest_first = list(reversed(list(rows)))[:MAX_AUDIT_ROWS]
        if newest_first == self._rows:
            return
        self.beginResetModel()
        self._rows = newest_first
        self.endResetModel()


class RiskSettingsPanel(QWidget):
    """Signals: `settings_applied(list of (key, old, new))` after a successful apply."""

    settings_applied = Signal(list)

    def __init__(self, terminal: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._terminal = terminal
        self._background = Background(self)
        self._values: dict[str, str] = {}
        self.editors: dict[str, QLineEdit | QCheckBox] = {}

        form_box = QWidget(self)
        form = QFormLayout(form_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for f in risk_fields():
            spec = f.metadata["spec"]
            editor: QLineEdit | QCheckBox
            if isinstance(f.default, bool):
                editor = QCheckBox(form_box)
            else:
                editor = QLineEdit(form_box)
                hint = HINTS.get(f.name)
                editor.setPlaceholderText(tr(hint) if hint else spec.expected)
                editor.textEdited.connect(lambda _text, key=f.name: self._edited(key))
            editor.setToolTip(f"risk.{f.name}: {spec.help}\n{spec.expected}")
            editor.setObjectName(f"risk_{f.name}")
            self.editors[f.name] = editor
            form.addRow(tr(LABELS.get(f.name, f.name)), editor)
        scroll = QScrollArea(self)
        scroll.setWidget(form_box)
        scroll.setWidgetResizable(True)

        self.apply_button = QPushButton(self.tr("保存修改"), self)
        self.apply_button.clicked.connect(self.apply)
        self.revert_button = QPushButton(self.tr("撤销修改"), self)
        self.revert_button.clicked.connect(lambda: self.set_settings(self._values))
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.hide()
        self.state_label = QLabel(self)

        self.audit = RiskAuditModel(self)
        self.audit_view = QTableView(self)
        self.audit_view.setModel(self.audit)
        self.audit_view.verticalHeader().setVisible(False)
        self.audit_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.audit_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.audit_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((104, 64, 170, 80)):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        audit_box = QWidget(self)
        audit_layout = QVBoxLayout(audit_box)
        audit_layout.setContentsMargins(0, 0, 0, 0)
        audit_layout.addWidget(QLabel(self.tr("修改记录"), audit_box))
        audit_layout.addWidget(self.audit_view)

        buttons = QHBoxLayout()
        buttons.addWidget(self.state_label)
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.apply_button)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(scroll, 1)
        left_layout.addWidget(self.message)
        left_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(audit_box)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 480])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)

    # ------------------------------------------------------------------ feeding
    @property
    def busy(self) -> bool:
        return self._background.pending > 0

    def set_settings(self, values: Mapping[str, str]) -> None:
        """The settings in force (`Terminal.risk_settings()`): the editors show them."""
        self._values = dict(values)
        for key, editor in self.editors.items():
            text = self._values.get(key, "")
            if isinstance(editor, QCheckBox):
                editor.setChecked(text == "true")
            else:
                editor.setText(text)
                editor.setStyleSheet("")
        state = self._values.get("trading_state")
        if state:
            names = {
                "active": QT_TR_NOOP("正常交易"),
                "reducing": QT_TR_NOOP("只减仓"),
                "halted": QT_TR_NOOP("已停止交易"),
            }
            self.state_label.setText(self.tr("交易状态: ") + tr(names.get(state, state)))

    def set_audit(self, rows: Sequence[tuple[datetime, str, str, str | None, str | None]]) -> None:
        self.audit.set_rows(rows)

    def refresh(self) -> None:
        if self._terminal is None:
            return
        terminal = self._terminal

        def load() -> tuple[dict[str, str], list[tuple]]:
            return terminal.risk_settings(), terminal.risk_audit()

        def done(result: tuple[dict[str, str], list[tuple]]) -> None:
            self.set_settings(result[0])
            self.set_audit(result[1])

        self._background.run(load, done, self._failed)

    # ------------------------------------------------------------------ the user
    def changes(self) -> dict[str, str]:
        """{key: new text} of the editors that differ from the settings in force."""
        out = {}
        for key, editor in self.editors.items():
            text = (
                ("true" if editor.isChecked() else "false")
                if isinstance(editor, QCheckBox)
                else editor.text().strip()
            )
            if text != self._values.get(key, ""):
                out[key] = text
        return out

    def apply(self) -> bool:
        """Check every change here first; send them only if all are valid. False if refused."""
        changes = self.changes()
        if not changes:
            self._say(self.tr("没有修改 (nothing changed)"), error=False)
            return True
        problems = []
        for key, text in changes.items():
            reason = check_value(key, text)
            editor = self.editors[key]
            if reason is not None:
                problems.append(reason)
                if isinstance(editor, QLineEdit):
                    editor.setStyleSheet("border: 1px solid #c62828")
        if problems:
            self._say("\n".join(problems), error=True)
            return False
        if self._terminal is None:
            return False
        terminal = self._terminal
        self.apply_button.setEnabled(False)

        def send() -> tuple[list[tuple[str, str, str]], list[str], dict[str, str], list[tuple]]:
            applied, failures = [], []
            for key, text in changes.items():
                try:
                    old, new = terminal.set_risk(key, text, who="user")
                    applied.append((key, old, new))
                except (RiskSettingError, ValueError) as exc:
                    failures.append(f"{tr(LABELS.get(key, key))}: {exc}")
            return applied, failures, terminal.risk_settings(), terminal.risk_audit()

        def done(result: tuple[list[tuple[str, str, str]], list[str], dict[str, str], list[tuple]]) -> None:
            applied, failures, values, audit = result
            self.apply_button.setEnabled(True)
            self.set_settings(values)
            self.set_audit(audit)
            if failures:
                self._say("\n".join(failures), error=True)
            else:
                self._say(self.tr("已保存 {n} 项风控参数").replace("{n}", str(len(applied))), error=False)
            if applied:
                self.settings_applied.emit(applied)

        def failed(exc: BaseException) -> None:
            self.apply_button.setEnabled(True)
            self._failed(exc)

        self._background.run(send, done, failed)
        return True

    def _edited(self, key: str) -> None:
        editor = self.editors[key]
        if isinstance(editor, QLineEdit):
            bad = (
                editor.text().strip() != self._values.get(key, "")
                and check_value(key, editor.text()) is not None
            )
            editor.setStyleSheet("border: 1px solid #c62828" if bad else "")

    def _failed(self, exc: BaseException) -> None:
        self.apply_button.setEnabled(True)
        self._say(
            self.tr("风控参数读写失败 (could not read or change the risk settings): ") + str(exc), error=True
        )

    def _say(self, text: str, *, error: bool) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020" if error else "color: #0f7a34")
        self.message.show()
