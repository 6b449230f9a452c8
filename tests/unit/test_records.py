"""fast_init: the cheaper __init__ of frozen, slotted dataclasses behaves as the one dataclasses writes."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pytest

from app.core.messages import OrderUpdated, SubmitOrders, TradeBooked
from app.core.oms import NewOrder
from app.domain import orders, reports
from app.domain.fees import FeeBreakdown
from app.domain.identifiers import ClientOrderId, TradeId
from app.domain.records import fast_init


def _sample() -> type:
    @dataclass(frozen=True, slots=True)
    class Sample:
        a: int
        b: str = "x"
        c: list[int] = field(default_factory=list)
        d: int = field(default=5, init=False)
        e: list[int] = field(default_factory=lambda: [7], init=False)

        def __post_init__(self) -> None:
            if self.a < 0:
                raise ValueError(f"a must not be negative, was {self.a}")

    return Sample


def test_fast_init_keeps_signature_defaults_factories_post_init_and_frozenness() -> None:
    plain, fast = _sample(), fast_init(_sample())
    assert inspect.signature(fast) == inspect.signature(plain)
    for args, kwargs in [((1,), {}), ((2, "y"), {}), ((3,), {"c": [1, 2]}), ((), {"a": 4, "b": "z"})]:
        one, two = plain(*args, **kwargs), fast(*args, **kwargs)
        assert repr(one).split("(", 1)[1] == repr(two).split("(", 1)[1]
        assert dataclasses.astuple(one) == dataclasses.astuple(two)
    first, second = fast(1), fast(1)
    assert first.c == [] and first.c is not second.c  # a fresh list each time, as default_factory
    assert first.e == [7] and first.e is not second.e
    with pytest.raises(ValueError, match="must not be negative, was -1"):
        fast(-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.a = 2  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"Sample.__init__\(\) missing 1 required positional argument: 'a'"):
        fast()
    with pytest.raises(TypeError, match="unexpected keyword argument 'd'"):
        fast(1, d=3)
    assert dataclasses.replace(first, a=9) == fast(9)
    assert copy.deepcopy(first) == first
    fill = orders.OrderFilled(
        ClientOrderId("T1"), TradeId("9"), 100, Decimal("10.01"), Decimal("5"), datetime(2026, 11, 23, 10, 0)
    )
    assert pickle.loads(pickle.dumps(fill)) == fill
    assert fill.broker_order_id is None  # the default


def test_fast_init_refuses_what_it_is_not_for_and_leaves_keyword_only_classes_alone() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int

    with pytest.raises(TypeError, match="frozen=True, slots=True"):
        fast_init(Mutable)

    @dataclass(frozen=True, slots=True, kw_only=True)
    class KeywordOnly:
        a: int

    original = KeywordOnly.__init__
    assert fast_init(KeywordOnly).__init__ is original


@pytest.mark.parametrize(
    "cls",
    [
        *(
            c
            for c in vars(reports).values()
            if dataclasses.is_dataclass(c) and c.__module__ == reports.__name__
        ),
        orders.OrderDenied,
        orders.OrderSubmitted,
        orders.OrderAccepted,
        orders.OrderRejected,
        orders.OrderPendingCancel,
        orders.OrderCancelRejected,
        orders.OrderCancelled,
        orders.OrderExpired,
        orders.OrderInDoubt,
        orders.OrderFilled,
        FeeBreakdown,
        NewOrder,
        SubmitOrders,
        OrderUpdated,
        TradeBooked,
    ],
    ids=lambda c: c.__name__,
)
def test_the_hot_records_have_the_fast_init_and_stay_frozen(cls: type) -> None:
    assert cls.__init__.__module__ == cls.__module__
    assert "setattr" not in cls.__init__.__code__.co_names  # the descriptor setters, not object.__setattr__
    values = {f.name: _value_for(f) for f in dataclasses.fields(cls) if f.init}
    record = cls(**values)
    for name, value in values.items():
        assert getattr(record, name) is value
    name = next(iter(values))
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(record, name, values[name])


def _value_for(f: dataclasses.Field) -> object:
    if f.default is not dataclasses.MISSING:
        return f.default
    kind = str(f.type)
    if "Decimal" in kind:
        return Decimal("1.5")
    if "datetime" in kind:
        return datetime(2026, 11, 23, 10, 0)
    if kind.startswith("int") or kind == "int":
        return 7
    return object()
