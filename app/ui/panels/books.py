"""The account's books as tables: orders (working and all; cancel one, cancel all), trades, positions
(quantity, sellable, cost, last, P&L, weight, strategy) and the account (total assets, cash,
available, market value, today's P&L). Each table is a RowTableModel fed by the read model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QHeaderView, QPushButton, QVBoxLayout, QWidget

from app.core.messages import AccountSnapshot, OrderSnapshot, PositionSnapshot
from app.domain.reports import TradeReport
from app.ui.bridge import EngineBridge
from app.ui.display import FLAT, price_text
from app.ui.panels.base import Panel
from app.ui.read_model import ReadModel
from app.ui.table_model import Column, RowTableModel
from app.ui.words import (
    core_text,
    money,
    pnl_color,
    side_color,
    side_text,
    signed_money,
    status_text,
    table_view,
    tr,
)

ZERO = Decimal(0)


# ---------------------------------------------------------------------------- orders
class OrderRow(NamedTuple):
    order: OrderSnapshot
    name: str
    strategy: str = ""  # its name as the user gave it (else the id)


def orders_model(parent: Any = None) -> RowTableModel[OrderRow]:
    def avg(r: OrderRow) -> str:
        return price_text(r.order.avg_price, r.order.code) if r.order.avg_price is not None else "-"

    def price(r: OrderRow) -> str:
        o = r.order
        return price_text(o.price, o.code) if o.price is not None else tr("市价")

    columns: list[Column[OrderRow]] = [
        Column(tr("时间"), lambda r: f"{r.order.created_at:%H:%M:%S}", "center"),
        Column(tr("代码"), lambda r: r.order.code),
        Column(tr("名称"), lambda r: r.name),
        Column(tr("方向"), lambda r: side_text(r.order.side), "center", lambda r: side_color(r.order.side)),
        Column(tr("价格"), price, "right"),
        Column(tr("数量"), lambda r: str(r.order.qty), "right"),
        Column(tr("已成交"), lambda r: str(r.order.filled_qty), "right"),
        Column(tr("成交均价"), avg, "right"),
        Column(tr("状态"), lambda r: status_text(r.order.status), "center"),
        Column(tr("策略", "one strategy"), lambda r: r.strategy[:12], tip=lambda r: r.order.strategy_id),
        Column(tr("委托编号"), lambda r: str(r.order.client_order_id)),
        Column(tr("说明"), lambda r: core_text(r.order.status_msg), tip=lambda r: r.order.status_msg),
    ]
    return RowTableModel(columns, key=lambda r: str(r.order.client_order_id), max_rows=3000, parent=parent)


class WorkingFilter(QSortFilterProxyModel):
    """Only working orders, when on."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.working_only = False

    def set_working_only(self, on: bool) -> None:
        self.working_only = on
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self.working_only:
            return True
        model = self.sourceModel()
        row = model.row(source_row) if isinstance(model, RowTableModel) else None
        return row is not None and row.order.status.is_working


class OrdersPanel(Panel):
    def __init__(self, read_model: ReadModel, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(read_model, bridge, parent)
        self.table_model = orders_model(self)
        self.proxy = WorkingFilter(self)
        self.proxy.setSourceModel(self.table_model)
        self.view = table_view(self)
        self.view.setModel(self.proxy)
        self.working_only = QCheckBox(tr("只看在途委托"), self)
        self.working_only.toggled.connect(self.proxy.set_working_only)
        self.cancel_button = QPushButton(tr("撤单 (Del)"), self)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.cancel_all_button = QPushButton(tr("全部撤单 (Ctrl+Del)"), self)
        self.cancel_all_button.clicked.connect(self.cancel_all)
        bar = QHBoxLayout()
        bar.addWidget(self.working_only)
        bar.addStretch(1)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.cancel_all_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        self.shortcut("Del", self.cancel_selected)
        self.shortcut("Ctrl+Del", self.cancel_all)
        read_model.reloaded.connect(self.reload)
        read_model.orders_changed.connect(self.on_orders)
        self.reload()

    def _row(self, order: OrderSnapshot) -> OrderRow:
        strategy = self.model_cache.strategy_name(order.strategy_id) if order.strategy_id else ""
        return OrderRow(order, self.model_cache.name_of(order.code), strategy)

    def reload(self) -> None:
        self.table_model.set_rows(self._row(o) for o in self.model_cache.orders.values())
        self._resize()

    def on_orders(self, orders: list[OrderSnapshot]) -> None:
        self.table_model.upsert(self._row(o) for o in orders)
        if self.proxy.working_only:
            self.proxy.invalidateFilter()
        self.fit(self.view)

    def _resize(self) -> None:
        self.fit(self.view, force=True)

    def selected_orders(self) -> list[OrderSnapshot]:
        out = []
        for index in self.view.selectionModel().selectedRows():
            row = self.table_model.row(self.proxy.mapToSource(index).row())
            if row is not None:
                out.append(row.order)
        return out

    def cancel_selected(self) -> None:
        orders = [o for o in self.selected_orders() if o.status.is_working]
        if not orders:
            self.say(tr("请先选择在途委托 (select a working order first)"), error=True)
            return
        for o in orders:
            cid = o.client_order_id
            self.command(lambda cid=cid: self.terminal.cancel_order(cid), tr("撤单已发出 (cancel sent)"))

    def cancel_all(self) -> None:
        working = sum(1 for _ in self.model_cache.working_orders())
        if not self.confirm(tr("全部撤单"), tr("撤销全部在途委托？") + f" ({working})"):
            return
        self.command(lambda: self.terminal.cancel_all_orders(), tr("全部撤单已发出 (cancel-all sent)"))


# ---------------------------------------------------------------------------- trades
class TradeRow(NamedTuple):
    trade: TradeReport
    name: str
    strategy: str
    client_order_id: str


def trades_model(parent: Any = None) -> RowTableModel[TradeRow]:
    columns: list[Column[TradeRow]] = [
        Column(tr("时间"), lambda r: f"{r.trade.ts:%H:%M:%S}", "center"),
        Column(tr("代码"), lambda r: r.trade.code),
        Column(tr("名称"), lambda r: r.name),
        Column(tr("方向"), lambda r: side_text(r.trade.side), "center", lambda r: side_color(r.trade.side)),
        Column(tr("成交价"), lambda r: price_text(r.trade.price, r.trade.code), "right"),
        Column(tr("数量"), lambda r: str(r.trade.qty), "right"),
        Column(tr("成交金额"), lambda r: money(r.trade.amount), "right"),
        Column(tr("费用"), lambda r: money(r.trade.fees), "right"),
        Column(tr("策略", "one strategy"), lambda r: r.strategy[:12], tip=lambda r: r.strategy),
        Column(tr("委托编号"), lambda r: r.client_order_id),
        Column(tr("成交编号"), lambda r: str(r.trade.trade_id)),
    ]
    return RowTableModel(
        columns,
        key=lambda r: (str(r.trade.broker_order_id), str(r.trade.trade_id)),
        max_rows=3000,
        parent=parent,
    )


class TradesPanel(Panel):
    def __init__(self, read_model: ReadModel, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(read_model, bridge, parent)
        self.show_table(trades_model(self))
        read_model.reloaded.connect(self.reload)
        read_model.trades_added.connect(self.on_trades)
        self.reload()

    def _row(self, trade: TradeReport) -> TradeRow:
        order = self.model_cache.order_of_trade(trade)
        return TradeRow(
            trade,
            self.model_cache.name_of(trade.code),
            ""
            if order is None or not order.strategy_id
            else self.model_cache.strategy_name(order.strategy_id),
            str(order.client_order_id) if order is not None else str(trade.client_order_id or ""),
        )

    def reload(self) -> None:
        self.table_model.set_rows(self._row(t) for t in self.model_cache.trades)
        self.fit(self.view, force=True)

    def on_trades(self, trades: list[TradeReport]) -> None:
        self.table_model.upsert(self._row(t) for t in trades)
        self.fit(self.view)


# ---------------------------------------------------------------------------- positions
class PositionRow(NamedTuple):
    position: PositionSnapshot
    name: str
    weight: Decimal | None  # of total assets
    strategy: str


def _pnl_pct(p: PositionSnapshot) -> Decimal | None:
    cost = p.avg_cost * p.total
    return None if not cost else p.unrealized_pnl / cost * 100


def positions_model(parent: Any = None) -> RowTableModel[PositionRow]:
    def pct(r: PositionRow) -> str:
        v = _pnl_pct(r.position)
        return "-" if v is None else f"{v:+.2f}%"

    def last(r: PositionRow) -> str:
        p = r.position
        return price_text(p.last_price, p.code) if p.last_price is not None else "-"

    columns: list[Column[PositionRow]] = [
        Column(tr("代码"), lambda r: r.position.code),
        Column(tr("名称"), lambda r: r.name),
        Column(tr("持仓", "quantity held"), lambda r: str(r.position.total), "right"),
        Column(tr("可卖"), lambda r: str(r.position.sellable), "right"),
        Column(tr("成本价"), lambda r: price_text(r.position.avg_cost, r.position.code), "right"),
        Column(tr("现价"), last, "right"),
        Column(tr("市值"), lambda r: money(r.position.market_value), "right"),
        Column(
            tr("浮动盈亏"),
            lambda r: signed_money(r.position.unrealized_pnl),
            "right",
            lambda r: pnl_color(r.position.unrealized_pnl),
        ),
        Column(tr("盈亏比例"), pct, "right", lambda r: pnl_color(r.position.unrealized_pnl)),
        Column(tr("仓位占比"), lambda r: "-" if r.weight is None else f"{r.weight:.2f}%", "right"),
        Column(tr("策略", "one strategy"), lambda r: r.strategy[:12], tip=lambda r: r.strategy),
    ]
    return RowTableModel(columns, key=lambda r: r.position.code, max_rows=2000, parent=parent)


class PositionsPanel(Panel):
    def __init__(self, read_model: ReadModel, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(read_model, bridge, parent)
        self.show_table(positions_model(self))
        read_model.reloaded.connect(self.reload)
        read_model.positions_changed.connect(self.on_positions)
        self.reload()

    def _rows(self, positions: list[PositionSnapshot]) -> list[PositionRow]:
        account = self.model_cache.account
        total = account.total_asset if account is not None else None
        rows = []
        for p in positions:
            if not p.total:
                continue
            weight = p.market_value / total * 100 if total else None
            rows.append(
                PositionRow(
                    p, self.model_cache.name_of(p.code), weight, self.model_cache.strategy_of_code(p.code)
                )
            )
        return rows

    def reload(self) -> None:
        self.table_model.set_rows(self._rows(list(self.model_cache.positions.values())))
        self.fit(self.view, force=True)

    def on_positions(self, positions: list[PositionSnapshot]) -> None:
        rows = self._rows(positions)
        gone = {r.position.code for r in self.table_model.rows()} - {r.position.code for r in rows}
        self.table_model.remove(gone)
        self.table_model.upsert(rows)
        self.fit(self.view)


# ---------------------------------------------------------------------------- account
class AccountRow(NamedTuple):
    key: str
    label: str
    value: Decimal | None
    signed: bool = False


def account_rows(account: AccountSnapshot | None) -> list[AccountRow]:
    a = account
    return [
        AccountRow("total", tr("总资产"), None if a is None else a.total_asset),
        AccountRow("cash", tr("现金"), None if a is None else a.cash),
        AccountRow("available", tr("可用资金"), None if a is None else a.available),
        AccountRow("frozen", tr("冻结资金"), None if a is None else a.frozen),
        AccountRow("market_value", tr("持仓市值"), None if a is None else a.market_value),
        AccountRow("day_pnl", tr("当日盈亏"), None if a is None else a.day_pnl, True),
    ]


def account_model(parent: Any = None) -> RowTableModel[AccountRow]:
    columns: list[Column[AccountRow]] = [
        Column(tr("项目"), lambda r: r.label),
        Column(
            tr("金额 (元)"),
            lambda r: signed_money(r.value) if r.signed else money(r.value),
            "right",
            lambda r: pnl_color(r.value) if r.signed else FLAT,
        ),
    ]
    return RowTableModel(columns, key=lambda r: r.key, max_rows=20, parent=parent)


class AccountPanel(Panel):
    def __init__(self, read_model: ReadModel, bridge: EngineBridge, parent: QWidget | None = None) -> None:
        super().__init__(read_model, bridge, parent)
        self.table_model = account_model(self)
        self.view = table_view(self)
        self.view.setModel(self.table_model)
        font = QFont(self.view.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        self.view.setFont(font)
        self.view.verticalHeader().setDefaultSectionSize(26)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.view.setMinimumHeight(6 * 26 + 30)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        read_model.reloaded.connect(self.reload)
        read_model.account_changed.connect(self.on_account)
        self.table_model.set_rows(account_rows(None))
        self.reload()

    def reload(self) -> None:
        self.table_model.upsert(account_rows(self.model_cache.account))

    def on_account(self, account: AccountSnapshot) -> None:
        self.table_model.upsert(account_rows(account))

    def value(self, key: str) -> str:
        at = self.table_model.row_of(key)
        return "" if at is None else self.table_model.text(at, 1)
