"""Execution policies: how an approved plan line becomes child orders (ARCHITECTURE.md, flow step 3).

`base.py` is the contract between the planner (which decides WHAT to trade) and the policies
(which decide HOW: auction, limit from the live quote, best-five IOC, TWAP/VWAP, ...).
"""

from app.core.execution.base import ExecutionProgress, ExecutionRequest, ExecutionService

__all__ = ["ExecutionProgress", "ExecutionRequest", "ExecutionService"]
