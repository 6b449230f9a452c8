"""The QMT gateway: trading through xtquant's xttrader and quotes through its xtdata (RULES.md Part A).
The only package that imports xtquant."""
