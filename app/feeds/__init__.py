"""Market data without a broker: a seeded synthetic day and replays of recorded days.

Both are `QuoteSource`s (app.core.ports). `record` writes any QuoteSource's day to a file that
`ReplayFeed` plays back; the file format is described in `app.feeds.tickfile`.
"""

from app.feeds.errors import FeedError
from app.feeds.replay import ReplayFeed, record
from app.feeds.synthetic import SyntheticFeed
from app.feeds.universe import WELL_KNOWN, InstrumentSpec, market_universe

__all__ = [
    "WELL_KNOWN",
    "FeedError",
    "InstrumentSpec",
    "ReplayFeed",
    "SyntheticFeed",
    "market_universe",
    "record",
]
