"""A cheaper `__init__` for the frozen, slotted dataclasses made once or more per order.

`@dataclass(frozen=True, slots=True)` writes every field through `object.__setattr__(self, name,
value)` (frozen classes cannot assign), which costs about eight times an ordinary assignment: a
report of 14 fields takes microseconds to build, and an order makes a dozen such objects (its
events, the broker's reports, the messages). `fast_init` replaces that `__init__` with one that
stores each field through its slot's own descriptor: the same fields, defaults, default factories
and `__post_init__` call, the same signature, and the instance as immutable as before (assignment
still raises FrozenInstanceError). A class it cannot rewrite faithfully (keyword-only fields,
InitVar) keeps the dataclass's own `__init__`.

    @fast_init
    @dataclass(frozen=True, slots=True)
    class OrderReport: ...
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T")

_MISSING = dataclasses.MISSING
# the default of a parameter whose field has a default factory: dataclasses' own marker, so that
# the signature is the same as the one dataclasses writes
_HAS_FACTORY = dataclasses._HAS_DEFAULT_FACTORY  # type: ignore[attr-defined]


def fast_init(cls: type[T]) -> type[T]:
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"fast_init is for @dataclass(frozen=True, slots=True) classes, was {cls!r}")
    all_fields = list(cls.__dataclass_fields__.values())  # type: ignore[attr-defined]
    if any(
        f._field_type is not dataclasses._FIELD
        for f in all_fields
        if f._field_type is not dataclasses._FIELD_CLASSVAR
    ):  # type: ignore[attr-defined]
        return cls  # InitVar: left to dataclasses
    fields = [f for f in all_fields if f._field_type is dataclasses._FIELD]  # type: ignore[attr-defined]
    if any(f.kw_only for f in fields):
        return cls
    namespace: dict[str, Any] = {"_HAS_FACTORY": _HAS_FACTORY}
    args: list[str] = []
    body: list[str] = []
    for i, f in enumerate(fields):
        descriptor = cls.__dict__.get(f.name)
        if descriptor is None or not hasattr(descriptor, "__set__"):
            return cls  # not a plain slot
        setter = f"_set{i}"
        namespace[setter] = descriptor.__set__
        if f.init:
            if f.default is not _MISSING:
                namespace[f"_default{i}"] = f.default
                args.append(f"{f.name}=_default{i}")
                body.append(f"{setter}(self, {f.name})")
            elif f.default_factory is not _MISSING:
                namespace[f"_factory{i}"] = f.default_factory
                args.append(f"{f.name}=_HAS_FACTORY")
                body.append(f"{setter}(self, _factory{i}() if {f.name} is _HAS_FACTORY else {f.name})")
            else:
                args.append(f.name)
                body.append(f"{setter}(self, {f.name})")
        elif f.default_factory is not _MISSING:
            namespace[f"_factory{i}"] = f.default_factory
            body.append(f"{setter}(self, _factory{i}())")
        elif f.default is not _MISSING:
            namespace[f"_default{i}"] = f.default
            body.append(f"{setter}(self, _default{i})")
    if hasattr(cls, "__post_init__"):
        body.append("self.__post_init__()")
    source = f"def __init__(self{''.join(', ' + a for a in args)}):\n" + "".join(
        f"    {line}\n" for line in body or ["pass"]
    )
    exec(source, namespace)  # the source is built above from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[misc]
    return cls
