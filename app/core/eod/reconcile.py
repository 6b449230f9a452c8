"""Reconciliation of the day: Tiller's books against the broker's own, every difference in words."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.books_check import BrokerBooks, LocalBooks, compare_books


class SettlementStatus(StrEnum):
    OK = "ok"  # the books agree
    DIFFERENCES = "differences"  # they do not: each difference is listed
    FAILED = "failed"  # the day could not be reconciled at all (the broker could not be queried…)
    RESOLVED = "resolved"  # the investor looked at a day that did not settle and accepted it


@dataclass(frozen=True, slots=True)
class Reconciliation:
    status: SettlementStatus
    differences: tuple[str, ...]

    @property
    def settled(self) -> bool:
        return self.status in (SettlementStatus.OK, SettlementStatus.RESOLVED)


def reconcile(local: LocalBooks, broker: BrokerBooks) -> Reconciliation:
    """Cash, positions (and average costs), fills (missing, extra, twice, different) and orders (status,
    filled quantity, content, unknown at either side) compared; `ok` only when nothing differs."""
    differences = tuple(compare_books(local, broker))
    return Reconciliation(SettlementStatus.DIFFERENCES if differences else SettlementStatus.OK, differences)


def failed(reason: str) -> Reconciliation:
    return Reconciliation(SettlementStatus.FAILED, (f"对账失败 (reconciliation failed): {reason}",))
