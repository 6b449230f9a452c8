"""A small, faithful stand-in for the ExecutionService the exec helper writes
(app/core/execution/base.py): it records every request and call and, when asked to `place`, sends
each started line as ONE limit child through `Engine.place` (signal_id = line id, the line's
strategy), at the plan's limit price. It honours the contract: a second start of a line is ignored;
a paused side sends no child (a request started while paused waits and is sent on resume);
`pause(..., cancel_working=True)` and `stop` cancel the line's working children."""

from __future__ import annotations

from decimal import Decimal

from app.core.engine import Engine
from app.core.execution.base import ExecutionProgress, ExecutionRequest
from app.core.messages import CancelAllOrders
from app.core.oms import NewOrder
from app.domain.side import Side


class RecordingExecution:
    def __init__(self, engine: Engine, *, place: bool = False) -> None:
        self.engine = engine
        self.place = place
        self.requests: list[ExecutionRequest] = []
        self.calls: list[tuple] = []
        self.paused: set[Side] = set()
        self.waiting: list[ExecutionRequest] = []
        self.sent: dict[str, list[str]] = {}  # line id -> client order ids

    def start(self, request: ExecutionRequest) -> None:
        self.calls.append(("start", request.line_id))
        if any(r.line_id == request.line_id for r in self.requests):
            return
        self.requests.append(request)
        if request.side in self.paused:
            self.waiting.append(request)
        else:
            self._send(request)

    def _send(self, request: ExecutionRequest) -> None:
        if not self.place:
            return
        price = Decimal(request.params["limit_price"])
        order = NewOrder(request.code, request.side, request.qty, price,
                         strategy_id=request.strategy_id, signal_id=request.line_id)  # fmt: skip
        self.sent[request.line_id] = list(self.engine.place([order]))

    def pause(self, side: Side | None, *, cancel_working: bool = False) -> None:
        self.calls.append(("pause", side, cancel_working))
        self.paused |= {Side.BUY, Side.SELL} if side is None else {side}
        if cancel_working:
            self.engine.cancel_all(CancelAllOrders(side))

    def resume(self, side: Side | None) -> None:
        self.calls.append(("resume", side))
        self.paused -= {Side.BUY, Side.SELL} if side is None else {side}
        still = []
        for request in self.waiting:
            if request.side in self.paused:
                still.append(request)
            else:
                self._send(request)
        self.waiting = still

    def stop(self, line_id: str, *, cancel_working: bool = True) -> None:
        self.calls.append(("stop", line_id, cancel_working))
        self.waiting = [r for r in self.waiting if r.line_id != line_id]
        if cancel_working:
            for cid in self.sent.get(line_id, []):
                order = self.engine.oms.orders.get(cid)
                if order is not None and order.status.is_working:
                    self.engine.cancel(cid)

    def restore(self) -> None:
        """Nothing to restore: the double keeps no state across a restart (the planner's tests)."""
        self.calls.append(("restore",))

    def resave(self) -> None:
        self.calls.append(("resave",))

    def progress(self, line_id: str) -> ExecutionProgress | None:
        orders = [o for o in self.engine.oms.orders.values() if o.signal_id == line_id]
        if not orders:
            return None
        return ExecutionProgress(
            line_id,
            sum(o.qty for o in orders),
            sum(o.filled_qty for o in orders),
            any(o.status.is_working for o in orders),
        )

    # ExecutionHooks: the engine tells every execution service about quotes and orders; a stand-in
    # that prices nothing from quotes has nothing to do with them.
    def on_quotes(self, quotes: object) -> None:
        pass

    def on_order_report(self, report: object) -> None:
        pass

    def on_orders(self, orders: object) -> None:
        pass
