"""The planner: today's plan of the account from the followed strategies' batches (see model.py,
planner.py), the per-strategy sub-ledger (ledger.py), and the desk that keeps the plan, hands its
lines to execution and takes the investor's interventions (desk.py)."""
