"""Shared test fakes (qutebrowser's tests/helpers, STYLE.md §2.7)."""
