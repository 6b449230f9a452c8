"""Compare Tiller's books with the broker's own: cash, positions, trades, orders (by remark).

For the end-of-day reconciliation (ARCHITECTURE.md, flow step 5) and the crash tests: call it at a
quiet moment (after the close, or once both sides are idle), because a report still on its way
shows up as a difference. Each difference comes back as one sentence a user can read; an empty
list means the books agree. Invariants checked: 1 (no order sent twice, every intent resolved),
2 (every fill once, by its identity: broker order id and trade id within the day) and 5 (exact
money, compared as Decimal).

Average costs follow the rounding policy of app.domain.money: both sides are brought to its
quantum (a broker's float to its shortest form first) and must then be equal, digit for digit;
no tolerance beyond the policy's own rounding.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.identifiers import BrokerOrderId, ClientOrderId, TradeId
from app.domain.money import avg_cost_of
from app.domain.orders import Order, OrderStatus
from app.domain.reports import BrokerAsset, BrokerPosition, OrderReport, TradeReport

# A local order that never reached the broker may end only in these (ARCHITECTURE.md invariant 1:
# denied by Tiller, refused before sending, or found absent at recovery).
_NEVER_SENT_ENDINGS = frozenset({OrderStatus.DENIED, OrderStatus.REJECTED, OrderStatus.EXPIRED})


@dataclass(frozen=True, slots=True)
class LocalBooks:
    """Tiller's books as committed: cash, total shares per code, every booked fill, the day's orders."""

    cash: Decimal
    positions: Mapping[str, int]
    trades: Sequence[TradeReport]  # one entry per booked fill, duplicates kept
    orders: Sequence[Order]
    avg_costs: Mapping[str, Decimal] = field(default_factory=dict)  # per code held; compared if given


@dataclass(frozen=True, slots=True)
class BrokerBooks:
    """The broker's books from its queries (query_asset, query_positions, query_trades, query_orders)."""

    asset: BrokerAsset
    positions: Sequence[BrokerPosition]
    trades: Sequence[TradeReport]
    orders: Sequence[OrderReport]


def compare_books(local: LocalBooks, broker: BrokerBooks) -> list[str]:
    """Every way the two books differ, in words; [] when they agree."""
    return [
        *_cash_differences(local.cash, broker.asset.cash),
        *_position_differences(local.positions, broker.positions),
        *_avg_cost_differences(local.positions, local.avg_costs, broker.positions),
        *_trade_differences(local.trades, broker.trades),
        *_order_differences(local.orders, broker.orders),
    ]


def _cash_differences(local: Decimal, broker: Decimal) -> list[str]:
    if local == broker:
        return []
    return [f"资金不符 (cash differs): 本地 {local}，券商 {broker}，差 {local - broker}"]


def position_differences(local: Mapping[str, int], broker: Iterable[BrokerPosition]) -> list[str]:
    """Shares per code: Tiller's against the broker's, each difference in words."""
    return _position_differences(local, broker)


def _position_differences(local: Mapping[str, int], broker: Iterable[BrokerPosition]) -> list[str]:
    at_broker: dict[str, int] = {}
    for p in broker:
        at_broker[p.code] = at_broker.get(p.code, 0) + p.total
    out = []
    for code in sorted(set(local) | set(at_broker)):
        mine, theirs = local.get(code, 0), at_broker.get(code, 0)
        if mine != theirs:
            out.append(f"持仓不符 (position differs) {code}: 本地 {mine} 股，券商 {theirs} 股")
    return out


def _avg_cost_differences(
    held: Mapping[str, int], local: Mapping[str, Decimal], broker: Iterable[BrokerPosition]
) -> list[str]:
    """Codes both sides hold in the same quantity whose average cost per share differs."""
    theirs: dict[str, list[BrokerPosition]] = {}
    for p in broker:
        if p.total > 0:
            theirs.setdefault(p.code, []).append(p)
    out = []
    for code in sorted(local):
        positions = theirs.get(code, [])
        if len(positions) != 1 or held.get(code, 0) != positions[0].total:
            continue  # not held, held twice, or a quantity difference already reported
        mine, at_broker = avg_cost_of(local[code]), avg_cost_of(positions[0].avg_price)
        if mine != at_broker:
            out.append(
                f"持仓成本不符 (average cost differs) {code}: 本地 {mine}，券商 {at_broker}，差 {mine - at_broker}"
            )
    return out


def _trade_differences(local: Sequence[TradeReport], broker: Sequence[TradeReport]) -> list[str]:
    # A fill is (broker order id, traded id) within the day (see app/storage/schema.py): trade
    # numbers repeat across markets, so the bare number would merge an SH fill with an SZ one.
    out = []
    counts = Counter((t.broker_order_id, t.trade_id) for t in local)
    for (_, trade_id), n in sorted(counts.items()):
        if n > 1:
            out.append(f"成交重复记账 (fill counted {n} times): 成交编号 {trade_id}")
    mine = {(t.broker_order_id, t.trade_id): t for t in local}
    theirs: dict[tuple[BrokerOrderId, TradeId], TradeReport] = {}
    for t in broker:
        if (t.broker_order_id, t.trade_id) in theirs:
            out.append(f"券商成交编号重复 (the broker lists trade {t.trade_id} twice)")
        theirs[(t.broker_order_id, t.trade_id)] = t
    for key in sorted(theirs.keys() - mine.keys()):
        t = theirs[key]
        out.append(
            f"漏记成交 (fill missing locally) {t.trade_id}: {t.code} {t.side.value} {t.qty}@{t.price} "
            f"(券商委托 {t.broker_order_id})"
        )
    for key in sorted(mine.keys() - theirs.keys()):
        t = mine[key]
        out.append(
            f"多记成交 (fill the broker does not have) {t.trade_id}: {t.code} {t.side.value} {t.qty}@{t.price}"
        )
    for key in sorted(mine.keys() & theirs.keys()):
        a, b = mine[key], theirs[key]
        fields = [
            name
            for name, x, y in (
                ("code", a.code, b.code),
                ("side", a.side, b.side),
                ("qty", a.qty, b.qty),
                ("price", a.price, b.price),
                ("fees", a.fees, b.fees),
            )
            if x != y
        ]
        if fields:
            shown = ", ".join(f"{n} 本地 {getattr(a, n)} / 券商 {getattr(b, n)}" for n in fields)
            out.append(f"成交内容不符 (fill differs) {a.trade_id}: {shown}")
    return out


def _order_differences(local: Sequence[Order], broker: Sequence[OrderReport]) -> list[str]:
    out = []
    remarks = Counter(r.client_order_id for r in broker if r.client_order_id is not None)
    for remark, n in sorted(remarks.items()):
        if n > 1:
            out.append(f"委托重复发送 (order sent {n} times): 备注 {remark}")
    by_cid: dict[ClientOrderId, Order] = {o.client_order_id: o for o in local}
    by_bid: dict[BrokerOrderId, Order] = {
        o.broker_order_id: o for o in local if o.broker_order_id is not None
    }
    matched: set[ClientOrderId] = set()
    for report in broker:
        order = None
        if report.client_order_id is not None:
            order = by_cid.get(report.client_order_id)
        if order is None:
            order = by_bid.get(report.broker_order_id)
        if order is None:
            out.append(
                f"券商委托本地无记录 (broker order unknown locally) {report.broker_order_id} "
                f"备注 {report.client_order_id or '-'}: {report.code} {report.side.value} {report.qty}"
            )
            continue
        matched.add(order.client_order_id)
        name = f"{order.client_order_id} (券商 {report.broker_order_id})"
        if order.broker_order_id is not None and order.broker_order_id != report.broker_order_id:
            out.append(
                f"委托编号不符 (broker order id differs) {order.client_order_id}: "
                f"本地 {order.broker_order_id}，券商 {report.broker_order_id}"
            )
        if order.status is not report.status:
            out.append(
                f"委托状态不符 (order status differs) {name}: 本地 {order.status.value}，券商 {report.status.value}"
            )
        if order.filled_qty != report.filled_qty:
            out.append(
                f"委托成交数量不符 (filled quantity differs) {name}: 本地 {order.filled_qty}，"
                f"券商 {report.filled_qty}"
            )
        if (order.code, order.side, order.qty) != (report.code, report.side, report.qty):
            out.append(
                f"委托内容不符 (order differs) {name}: 本地 {order.code} {order.side.value} {order.qty}，"
                f"券商 {report.code} {report.side.value} {report.qty}"
            )
    for order in local:
        if order.client_order_id in matched:
            continue
        where = f"{order.client_order_id} {order.code} {order.side.value} {order.qty}"
        if order.external:
            out.append(f"本地的外部委托券商无记录 (external order not at the broker) {where}")
        elif order.broker_order_id is not None:
            out.append(f"券商已无此委托 (order {order.broker_order_id} not at the broker) {where}")
        elif order.status not in _NEVER_SENT_ENDINGS:
            out.append(
                f"未送达券商的委托状态为 {order.status.value} (an order the broker never got must be "
                f"denied, rejected or expired) {where}"
            )
        elif order.filled_qty:
            out.append(f"未送达券商的委托有成交 (fills on an order the broker never got) {where}")
    return out
