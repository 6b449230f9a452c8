"""BigQuant request signing (BIGQUANT.md §1): hex(HMAC-SHA256(secret, path + body + timestamp))."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit


def sign_request(secret_key: str, path: str, body: bytes | str, timestamp_ms: int | str) -> str:
    """The X-BigQuant-Signature of a request. `path` is the URL path without the query string (a full
    URL is cut to its path); `body` is empty for GET; `timestamp_ms` is epoch milliseconds."""
    if "://" in path:
        path = urlsplit(path).path
    path = path.split("?", 1)[0]
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    message = path.encode("utf-8") + raw + str(int(timestamp_ms)).encode("ascii")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(
    access_key: str, secret_key: str, path: str, body: bytes, timestamp_ms: int
) -> dict[str, str]:
    return {
        "X-BigQuant-Access-Key": access_key,
        "X-BigQuant-Timestamp": str(int(timestamp_ms)),
        "X-BigQuant-Signature": sign_request(secret_key, path, body, timestamp_ms),
    }
