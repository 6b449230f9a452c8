"""xtdata tick dicts (floats, volumes in lots) → Quote: the converter the live quote callback uses.

It lives in app/gateways/qmt/quotes.py (the QMT gateway's xtdata feed); the benchmark measures that
very code (bench/quotes.py, source "xt"), imported from here so the benchmark's own imports stay as
they were.
"""

from __future__ import annotations

from app.gateways.qmt.quotes import QuoteError, XtQuoteConverter

__all__ = ["QuoteError", "XtQuoteConverter"]
