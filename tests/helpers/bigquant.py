"""Shared set-ups for the BigQuant client tests: the local dev server and a client for it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from app.clients.bigquant import BigQuantClient, BigQuantSignalSource
from app.devserver.server import DEV_ACCESS_KEY, DEV_SECRET_KEY, DevServer, DevState

STRATEGY = "aec3e784-5c1e-4b0d-9f2a-3d6c1b7e9a10"  # the bundled sample's strategy
DAY = date(2026, 11, 23)  # the bundled sample's trading day
FIXTURE_IDS = [f"14590929{i}" for i in range(6)]
_open_clients: list[BigQuantClient] = []  # closed when their dev server stops


@contextmanager
def dev_server(state: DevState | None = None) -> Iterator[DevServer]:
    server = DevServer(state).start()
    try:
        yield server
    finally:
        while _open_clients:
            _open_clients.pop().close()
        server.stop()


def client_for(server: DevServer, **kwargs: Any) -> BigQuantClient:
    """A client for the dev server; backoff waits are skipped (the count of requests is what matters)."""
    options: dict[str, Any] = {"timeout": 5.0, "retries": 3, "sleep": lambda seconds: None}
    options.update(kwargs)
    access = options.pop("access_key", DEV_ACCESS_KEY)
    secret = options.pop("secret_key", DEV_SECRET_KEY)
    client = BigQuantClient(server.base_url, access, secret, **options)
    _open_clients.append(client)
    return client


def source_for(
    server: DevServer, strategies: tuple[str, ...] = (STRATEGY,), **kwargs: Any
) -> BigQuantSignalSource:
    return BigQuantSignalSource(client_for(server, **kwargs), strategies)
