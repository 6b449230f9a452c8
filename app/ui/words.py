"""Words and colours the tables share: sides, order statuses, plan states (Chinese by default, through
Qt's translation system, so an English .qm can follow), and a table view set up the same everywhere."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.domain.side import Side
from app.ui.display import DOWN, FLAT, UP

CONTEXT = "Tiller"


def tr(text: str) -> str:
    return QCoreApplication.translate(CONTEXT, text)


def side_text(side: Side | str) -> str:
    return tr("买入") if str(side) == "buy" else tr("卖出")


def side_color(side: Side | str) -> QColor:
    """Buys red, sells green (同花顺, 通达信)."""
    return UP if str(side) == "buy" else DOWN


def pnl_color(value: Decimal | None) -> QColor:
    if value is None or value == 0:
        return FLAT
    return UP if value > 0 else DOWN


_STATUS = {
    "initialized": "待发送",
    "denied": "风控拒绝",
    "submitted": "已发送",
    "accepted": "已报",
    "partially_filled": "部成",
    "pending_cancel": "待撤",
    "filled": "已成",
    "cancelled": "已撤",
    "rejected": "废单",
    "expired": "已失效",
    "in_doubt": "待确认",
}


def status_text(status: object) -> str:
    value = str(getattr(status, "value", status))
    return tr(_STATUS.get(value, value))


_LINE_STATE = {"planned": "待批准", "approved": "已批准", "handed": "执行中", "skipped": "已跳过"}


def line_state_text(state: object) -> str:
    value = str(getattr(state, "value", state))
    return tr(_LINE_STATE.get(value, value))


_POLICY = {
    "auction_open": "开盘竞价",
    "limit": "限价",
    "best5": "五档即成",
    "auction_close": "收盘竞价",
    "twap": "TWAP",
    "vwap": "VWAP",
}


def policy_text(policy: str) -> str:
    return tr(_POLICY.get(policy, policy))


def money(value: Decimal | None, places: int = 2) -> str:
    if value is None:
        return "-"
    return f"{value:,.{places}f}"


def signed_money(value: Decimal | None) -> str:
    if value is None:
        return "-"
    return f"{value:+,.2f}"


def table_view(parent: QWidget | None = None) -> QTableView:
    view = QTableView(parent)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    return view
