"""Order side."""

from enum import StrEnum, unique


@unique
class Side(StrEnum):
    """Buy or sell: `Side("buy")`, `Side("sell")`."""

    BUY = "buy"
    SELL = "sell"
