"""Errors of the market-data feeds."""


class FeedError(ValueError):
    """A recording that cannot be replayed, or a feed asked for something it cannot give.

    Messages name the file and line where there is one, and the offending value."""
