"""Words and colours the tables share: sides, order statuses, plan states (Chinese by default, through
Qt's translation system, so an English .qm can follow), and a table view set up the same everywhere."""

from __future__ import annotations

import re
from decimal import Decimal

from PySide6.QtCore import QT_TR_NOOP, QCoreApplication, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.domain.side import Side
from app.ui.display import DOWN, FLAT, UP

CONTEXT = ""  # the context pyside6-lupdate gives a bare tr() call and a QT_TR_NOOP marker


def tr(text: str, disambiguation: str | None = None) -> str:
    """`text` in the window's language (app/ui/i18n.py). Call it with the literal text (or a
    QT_TR_NOOP-marked one) so that pyside6-lupdate finds it; widgets use `self.tr` (the class is
    the context), never inside an f-string (lupdate does not look there). `disambiguation` tells
    apart one Chinese text that reads differently in English (持仓: the panel Positions, the column
    Position)."""
    return QCoreApplication.translate(CONTEXT, text, disambiguation)


def translated() -> bool:
    """True once a catalogue of another language than the source's (Chinese) is installed."""
    return QCoreApplication.translate(CONTEXT, "买入") != "买入"


# A Chinese phrase (from a CJK character up to a separator) followed by its English in brackets, as
# the core writes its messages: "可卖数量不足 (not enough sellable shares): ...".
_BILINGUAL = re.compile(r"[\u4e00-\u9fff][^()（）;；,，:：\n]*?\s*\(([^()]*[A-Za-z][^()]*)\)")
_WIDE = re.compile(r"\s*([；，：。])\s*")
_NARROW = {"；": ";", "，": ",", "：": ":", "。": "."}


def core_text(message: str) -> str:
    """A message of the core ("中文 (English)") as the window's language reads it: as it is in
    Chinese; in another language each Chinese phrase that has its English in brackets becomes that
    English (the rest, names and codes, stays as it is)."""
    if not message or not translated():
        return message
    english = _BILINGUAL.sub(lambda m: m.group(1), message)
    if english == message:
        return message
    end = len(english)
    return _WIDE.sub(lambda m: _NARROW[m.group(1)] + ("" if m.end() == end else " "), english)


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
    "initialized": QT_TR_NOOP("待发送"),
    "denied": QT_TR_NOOP("风控拒绝"),
    "submitted": QT_TR_NOOP("已发送"),
    "accepted": QT_TR_NOOP("已报"),
    "partially_filled": QT_TR_NOOP("部成"),
    "pending_cancel": QT_TR_NOOP("待撤"),
    "filled": QT_TR_NOOP("已成"),
    "cancelled": QT_TR_NOOP("已撤"),
    "rejected": QT_TR_NOOP("废单"),
    "expired": QT_TR_NOOP("已失效"),
    "in_doubt": QT_TR_NOOP("待确认"),
}


def status_text(status: object) -> str:
    value = str(getattr(status, "value", status))
    return tr(_STATUS.get(value, value))


_LINE_STATE = {
    "planned": QT_TR_NOOP("待批准"),
    "approved": QT_TR_NOOP("已批准"),
    "handed": QT_TR_NOOP("执行中"),
    "skipped": QT_TR_NOOP("已跳过"),
}


def line_state_text(state: object) -> str:
    value = str(getattr(state, "value", state))
    return tr(_LINE_STATE.get(value, value))


_POLICY = {
    "auction_open": QT_TR_NOOP("开盘竞价"),
    "limit": QT_TR_NOOP("限价"),
    "best5": QT_TR_NOOP("五档即成"),
    "auction_close": QT_TR_NOOP("收盘竞价"),
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
