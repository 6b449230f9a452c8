"""[bigquant]: the BigQuant trading API (its keys are secrets, never settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.config._fields import http_url, id_list, integer, meta, optional_http_url, positive_float


@dataclass(frozen=True, slots=True)
class BigQuantSettings:
    # The access and secret keys are secrets: python -m app secrets set bigquant.access_key
    base_url: str = field(
        default="https://bigquant.com/bigapis/trading/v1",
        metadata=meta(
            parse=http_url, expected="an http:// or https:// URL", help="BigQuant trading API (BIGQUANT.md)"
        ),
    )
    strategy_ids: tuple[str, ...] = field(
        default=(),
        metadata=meta(
            parse=id_list,
            expected="a list of distinct strategy ids (letters, digits, '_', '-', '.'); in env or --set: a,b,c",
            help="the strategies to follow",
        ),
    )
    timeout_s: float = field(
        default=10.0,
        metadata=meta(
            parse=positive_float(300.0), expected="seconds, above 0 and at most 300", help="HTTP timeout"
        ),
    )
    sync_url: str = field(
        default="",
        metadata=meta(
            parse=optional_http_url,
            expected="an http:// or https:// URL, or empty",
            help="where the post-close eod_sync/1 payload is posted (signed); empty: kept in the outbox only",
        ),
    )
    retries: int = field(
        default=3,
        metadata=meta(
            parse=integer(0, 10),
            expected="an integer from 0 to 10",
            help="retries with backoff after a temporary failure (no connection, timeout, HTTP 5xx or 429)",
        ),
    )
    page_size: int = field(
        default=3000,
        metadata=meta(
            parse=integer(1, 3000), expected="an integer from 1 to 3000", help="planned orders per page"
        ),
    )
