"""The contract between the planner and the execution policies.

The planner hands an approved line over as an `ExecutionRequest`; an `ExecutionService`, owned by
the engine thread, turns it into child orders through `Engine.place` on the core's timers (every
child carries `signal_id = line_id` and the line's `strategy_id`, so a line's children are always
known and a restart can find them), and reports progress. All methods run on the engine thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from app.domain.side import Side


@dataclass(frozen=True, slots=True)
class ExecutionRequest:
    """One approved plan line to execute."""

    line_id: str  # the plan line's id; travels as `signal_id` on every child order
    strategy_id: str
    code: str
    side: Side
    qty: int  # shares, already lot-valid and within risk; children never exceed it in total
    policy: str = "limit"  # auction_open | limit | best5 | auction_close | twap | vwap
    params: Mapping[str, str] = field(default_factory=dict)  # policy parameters, as text


@dataclass(frozen=True, slots=True)
class ExecutionProgress:
    line_id: str
    sent_qty: int  # shares in children sent so far (working or done)
    filled_qty: int
    working: bool  # children still working, or more to send
    note: str = ""  # the latest thing the policy did or refused, in words


class ExecutionService(Protocol):
    def start(self, request: ExecutionRequest) -> None:
        """Begin executing a line (at most once per line_id: a second start is ignored)."""
        ...

    def pause(self, side: Side | None, *, cancel_working: bool = False) -> None:
        """Send no further child of that side (None: both); optionally cancel the working ones."""
        ...

    def resume(self, side: Side | None) -> None: ...

    def stop(self, line_id: str, *, cancel_working: bool = True) -> None:
        """Stop a line for good (skipped or edited away); optionally cancel its working children."""
        ...

    def progress(self, line_id: str) -> ExecutionProgress | None: ...
