"""The post-close sync over HTTP (BIGQUANT.md §2): POST the `eod_sync/1` payload, signed like the API.

Implements app.core.eod.delivery.SyncTransport: never raises; sorts every answer into acknowledged,
temporary (retry later) or permanent (refused: the message goes to the investor). The receiver upserts
by sync_id, which also travels as the `Idempotency-Key` header.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import httpx

from app.clients.signing import signed_headers
from app.core.eod.delivery import Outcome, SendResult

TEMPORARY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_SHOWN = 300


def _epoch_ms() -> int:
    return time.time_ns() // 1_000_000


class HttpSyncTransport:
    def __init__(
        self,
        url: str,
        *,
        access_key: str,
        secret_key: str,
        timeout_s: float = 10.0,
        epoch_ms: Callable[[], int] = _epoch_ms,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self._path = urlsplit(url).path or "/"
        self._access_key = access_key
        self._secret_key = secret_key
        self._epoch_ms = epoch_ms
        self._client = httpx.Client(timeout=timeout_s, transport=transport, follow_redirects=False)

    def send(self, sync_id: str, body: bytes) -> SendResult:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": sync_id,
            **signed_headers(self._access_key, self._secret_key, self._path, body, self._epoch_ms()),
        }
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            return SendResult(Outcome.TEMPORARY, f"超时 (timed out): {type(exc).__name__}")
        except httpx.TransportError as exc:
            return SendResult(Outcome.TEMPORARY, f"连接失败 (could not connect): {exc}")
        except Exception as exc:  # an unexpected library error: try again later, say what it was
            return SendResult(Outcome.TEMPORARY, f"{type(exc).__name__}: {exc}")
        return classify_response(response.status_code, response.content)

    def close(self) -> None:
        self._client.close()


def classify_response(status: int, content: bytes) -> SendResult:
    text = content[:MAX_SHOWN].decode("utf-8", errors="replace")
    if status in TEMPORARY_STATUS:
        return SendResult(Outcome.TEMPORARY, f"HTTP {status}: {text}")
    if not 200 <= status < 300:
        return SendResult(Outcome.PERMANENT, f"HTTP {status}: {text}")
    if not content.strip():
        return SendResult(Outcome.ACKNOWLEDGED)
    try:
        envelope = json.loads(content)
    except ValueError:
        return SendResult(Outcome.PERMANENT, f"应答不是 JSON (the answer is not JSON): {text}")
    if isinstance(envelope, dict) and "code" in envelope and envelope.get("code") not in (0, "0"):
        return SendResult(
            Outcome.PERMANENT,
            f"code {envelope.get('code')!r}: {str(envelope.get('message', ''))[:MAX_SHOWN]}",
        )
    return SendResult(
        Outcome.ACKNOWLEDGED, str(envelope.get("message", "")) if isinstance(envelope, dict) else ""
    )
