"""Identifiers: each kind of id has its own type (nautilus_trader's model/identifiers).

They subclass `str` so they cost nothing on the hot path, compare and hash as
strings, and store as TEXT; the distinct types keep a broker order id from being
passed where a client order id is expected.
"""


class _Id(str):
    __slots__ = ()

    def __new__(cls, value: str) -> "_Id":
        if not isinstance(value, str) or not value or value.strip() != value:
            raise ValueError(f"{cls.__name__} must be a non-empty string without spaces, was {value!r}")
        return str.__new__(cls, value)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str.__repr__(self)})"


class ClientOrderId(_Id):
    """Tiller's own order id; travels to QMT as `order_remark` (well under 24 ASCII chars)."""

    __slots__ = ()
    MAX_LEN = 20

    def __new__(cls, value: str) -> "ClientOrderId":
        if isinstance(value, str) and (len(value) > cls.MAX_LEN or not value.isascii()):
            raise ValueError(f"ClientOrderId must be ASCII and at most {cls.MAX_LEN} chars, was {value!r}")
        return _Id.__new__(cls, value)  # type: ignore[return-value]


class BrokerOrderId(_Id):
    """The broker's order id (xtquant `order_id`, an int there; kept as text here)."""

    __slots__ = ()


class TradeId(_Id):
    """The broker's trade id (xtquant `traded_id`): a fill is applied once per trade id."""

    __slots__ = ()
