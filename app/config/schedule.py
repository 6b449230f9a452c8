"""[schedule]: the times of the trading day's jobs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from app.config._fields import hhmm, integer, meta


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    pre_open_fetch: time = field(
        default=time(8, 50),
        metadata=meta(parse=hhmm, expected="a time HH:MM", help="fetch today's signals"),
    )
    approve_deadline: time = field(
        default=time(9, 10),
        metadata=meta(parse=hhmm, expected="a time HH:MM", help="auto-approve the plan unless paused"),
    )
    post_close: time = field(
        default=time(15, 30), metadata=meta(parse=hhmm, expected="a time HH:MM", help="reconcile and sync")
    )
    backup: time = field(
        default=time(15, 45),
        metadata=meta(parse=hhmm, expected="a time HH:MM", help="daily database backup"),
    )
    open_auction: time = field(
        default=time(9, 15),
        metadata=meta(parse=hhmm, expected="a time HH:MM", help="send the opening-auction orders"),
    )
    continuous: time = field(
        default=time(9, 30),
        metadata=meta(
            parse=hhmm, expected="a time HH:MM", help="continuous trading: auction leftovers and the rest go"
        ),
    )
    close_auction: time = field(
        default=time(14, 57),
        metadata=meta(parse=hhmm, expected="a time HH:MM", help="send the closing-auction orders"),
    )
    monitor_every_min: int = field(
        default=5,
        metadata=meta(
            parse=integer(1, 60),
            expected="minutes, from 1 to 60",
            help="how often the intraday monitors run in trading hours",
        ),
    )
