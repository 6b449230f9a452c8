"""The scheduler (ARCHITECTURE.md, the flow of a trading day): the day's jobs at the set times, on
trading days only. Each job only posts a command to the engine; what the command does lives with
whoever wires the scheduler (app/headless.py). `plan.py` decides what runs when, and what a late start
still catches up or skips; `live.py` runs a plan on APScheduler 3.x against the wall clock, and
`plan_on_engine` runs it as engine timers (a simulated clock fires them in order)."""
