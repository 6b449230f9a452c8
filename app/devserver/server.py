"""A local BigQuant-compatible server for development, tests and the demo (127.0.0.1 only).

Serves BIGQUANT.md's endpoints with the same signature check and pagination:
`GET {base}/strategies/{id}`, `GET {base}/planned_order?constraints=…&page=…&size=…`, the paper
account's `GET {base}/accounts/{account_id}/cash` and `GET {base}/account_positions/{account_id}/positions`
(BIGQUANT.md §1; bodies as in the fixtures, `DevState.cash` / `DevState.positions`), and the
terminal's own `POST {base}/eod_sync` (payload `eod_sync/1`, stored idempotently by `sync_id`).
`base` is /bigapis/trading/v1, as on bigquant.com.

Faults can be switched on to see the client fail well: `http500`, `http429`, `slow`, `html`,
`truncated`, `auth`, `page_missing` (see FAULTS); each fires on every request, or only on the
next N requests (`fault_times`). Requests are counted (`requests`) so tests can check retries.

The keys below are the DEV SERVER's own, published here on purpose: never a real BigQuant key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from app.devserver import FAULTS
from app.resources import resource_path

BASE_PATH = "/bigapis/trading/v1"
SYNC_PATH = "/eod_sync"
DEV_ACCESS_KEY = "tiller-dev-access-key"  # the dev server's own key: not a secret
DEV_SECRET_KEY = "tiller-dev-secret-key-not-a-real-secret"  # the dev server's own key: not a secret
DEFAULT_MAX_PAGE_SIZE = 3000
MAX_BODY_BYTES = 10 * 1024 * 1024
_HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


class DevServerError(ValueError):
    """A scenario file that cannot be served, or a fault that does not exist."""


def load_scenario(path: Path) -> list[dict[str, Any]]:
    """Planned-order items from a scenario file: a BigQuant answer `{"data": {"items": [...]}}`,
    `{"planned_orders": [...]}` or a bare list."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DevServerError(f"场景文件无法读取 (cannot read the scenario file) {path}: {exc}") from None
    items: Any = document
    if isinstance(document, dict):
        data = document.get("data")
        items = data.get("items") if isinstance(data, dict) else document.get("planned_orders")
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise DevServerError(f"场景文件 {path} 没有计划订单列表 (no list of planned orders)")
    return items


def redate(items: Iterable[dict[str, Any]], day: date) -> list[dict[str, Any]]:
    """The items moved to `day` (trading_day and the date part of order_dt): a scenario for any day."""
    out = []
    for item in items:
        moved = dict(item)
        moved["trading_day"] = day.isoformat()
        order_dt = moved.get("order_dt")
        if isinstance(order_dt, str) and len(order_dt) >= 10:
            moved["order_dt"] = day.isoformat() + order_dt[10:]
        out.append(moved)
    return out


def default_items() -> list[dict[str, Any]]:
    return load_scenario(resource_path("devserver", "planned_order_page1.json"))


def _fixture_data(name: str) -> Any:
    return json.loads(resource_path("devserver", name).read_text(encoding="utf-8"))["data"]


def default_cash() -> dict[str, Any]:
    """The paper account's cash (`data` of GET /accounts/{id}/cash), keyed by nothing: one account."""
    return _fixture_data("cash.json")


def default_positions() -> list[dict[str, Any]]:
    return list(_fixture_data("positions.json")["items"])


DEMO_FILES = (("demo", "planned_orders.json"), ("demo", "planned_orders_b.json"))


def demo_items() -> list[dict[str, Any]]:
    """The demo day's planned orders: both followed strategies' batches (`python -m app demo`)."""
    return [item for parts in DEMO_FILES for item in load_scenario(resource_path(*parts))]


@dataclass
class DevState:
    """What the server serves and what it has seen; change it from any thread (under `lock`)."""

    items: list[Any] = field(default_factory=default_items)
    cash: dict[str, Any] = field(default_factory=default_cash)  # the paper account's (BIGQUANT.md §1)
    positions: list[Any] = field(default_factory=default_positions)
    access_key: str = DEV_ACCESS_KEY
    secret_key: str = DEV_SECRET_KEY
    max_page_size: int = DEFAULT_MAX_PAGE_SIZE
    fault: str | None = None
    fault_times: int | None = None  # None: every request; N: the next N requests only
    slow_seconds: float = 30.0
    body_override: bytes | None = None  # a test's raw answer to /planned_order (after the auth check)
    sync_dir: Path | None = None  # where received syncs are also written, one file each
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every request
    syncs: dict[str, Any] = field(default_factory=dict)  # sync_id -> payload, first one kept
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    slow_release: threading.Event = field(default_factory=threading.Event)

    def set_fault(self, fault: str | None, times: int | None = None) -> None:
        if fault is not None and fault not in FAULTS:
            raise DevServerError(f"unknown fault {fault!r}; known: {', '.join(FAULTS)}")
        with self.lock:
            self.fault, self.fault_times = fault, times

    def count(self, path_suffix: str = "") -> int:
        with self.lock:
            return sum(1 for _, path in self.requests if path.endswith(path_suffix))

    def _take_fault(self) -> str | None:
        with self.lock:
            if self.fault is None:
                return None
            if self.fault_times is not None:
                if self.fault_times <= 0:
                    return None
                self.fault_times -= 1
            return self.fault

    def strategies(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for item in self.items:
            if isinstance(item, dict) and isinstance(item.get("strategy_id"), str):
                account = str(item.get("account_id", "10020"))
                found.setdefault(item["strategy_id"], {account: str(item.get("account_type", "0"))})
        return found


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out at once, no delayed-ACK stall

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # ------------------------------------------------------------------ plumbing
    def _send(self, status: int, body: bytes, content_type: str = "application/json; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, code: int, message: str, data: Any) -> None:
        body = json.dumps({"code": code, "message": message, "data": data}, ensure_ascii=False).encode()
        self._send(status, body)

    def _auth_failure(self, message: str = "签名校验失败 (signature mismatch)") -> None:
        self._json(401, 40101, message, None)

    def _signature_ok(self, path: str, body: bytes) -> bool:
        state = self.server.state
        access = self.headers.get("X-BigQuant-Access-Key")
        stamp = self.headers.get("X-BigQuant-Timestamp")
        signature = self.headers.get("X-BigQuant-Signature")
        if access != state.access_key or not stamp or not signature:
            return False
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        expected = hmac.new(state.secret_key.encode(), f"{path}{text}{stamp}".encode(), hashlib.sha256)
        return hmac.compare_digest(expected.hexdigest(), signature)

    def _handle(self, method: str) -> None:
        state = self.server.state
        split = urlsplit(self.path)
        path = split.path
        with state.lock:
            state.requests.append((method, path))
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._json(413, 41300, "请求太大 (request too large)", None)
            return
        body = self.rfile.read(length) if length else b""
        if not path.startswith(BASE_PATH + "/"):
            self._json(404, 40400, f"没有这个地址 (no such path): {path}", None)
            return
        endpoint = path[len(BASE_PATH) :]
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        fault = state._take_fault()
        if fault == "auth":
            self._auth_failure()
            return
        if not self._signature_ok(path, body):
            self._auth_failure()
            return
        if fault == "http500":
            self._json(500, 50000, "内部错误 (internal server error)", None)
            return
        if fault == "http429":
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if fault == "slow":
            state.slow_release.wait(state.slow_seconds)  # a test may let the slow answers go early
            if state.stopping.is_set():
                return
        if fault == "html":
            self._send(200, _HTML, "text/html; charset=utf-8")
            return
        if method == "POST" and endpoint == SYNC_PATH:
            self._sync(body, truncated=fault == "truncated")
        elif method == "GET" and endpoint.startswith("/strategies/"):
            self._strategy(unquote(endpoint[len("/strategies/") :]), truncated=fault == "truncated")
        elif method == "GET" and endpoint == "/planned_order":
            self._planned_orders(query, fault)
        elif method == "GET" and (account := _account_of(endpoint, "/accounts/", "/cash")) is not None:
            self._account(account, "cash", truncated=fault == "truncated")
        elif (
            method == "GET"
            and (account := _account_of(endpoint, "/account_positions/", "/positions")) is not None
        ):
            self._account(account, "positions", truncated=fault == "truncated")
        else:
            self._json(404, 40400, f"没有这个接口 (no such endpoint): {method} {path}", None)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    # ------------------------------------------------------------------ endpoints
    def _send_data(self, data: Any, *, truncated: bool) -> None:
        body = json.dumps({"code": 0, "message": "success", "data": data}, ensure_ascii=False).encode()
        self._send(200, body[: len(body) // 2] if truncated else body)

    def _strategy(self, strategy_id: str, *, truncated: bool) -> None:
        accounts = self.server.state.strategies().get(strategy_id)
        if accounts is None:
            self._json(404, 40400, f"策略不存在 (no such strategy): {strategy_id}", None)
            return
        params = {"order_price_field_buy": "open", "order_price_field_sell": "close", "volume_limit": 1}
        self._send_data(
            {"id": strategy_id, "name": strategy_id, "account_id": accounts, "strategy_params": params},
            truncated=truncated,
        )

    def _account(self, account_id: str, what: str, *, truncated: bool) -> None:
        state = self.server.state
        with state.lock:
            known = {str(a) for accounts in state.strategies().values() for a in accounts}
            known.add(str(state.cash.get("account_id", "")))
            cash, positions = dict(state.cash), list(state.positions)
        if account_id not in known:
            self._json(404, 40400, f"账户不存在 (no such paper account): {account_id}", None)
            return
        if what == "cash":
            self._send_data(dict(cash, account_id=account_id), truncated=truncated)
        else:
            self._send_data({"items": positions, "total": len(positions)}, truncated=truncated)

    def _planned_orders(self, query: Mapping[str, str], fault: str | None) -> None:
        state = self.server.state
        try:
            constraints = json.loads(query.get("constraints", "{}"))
            page = int(query.get("page", "1"))
            size = int(query.get("size", str(state.max_page_size)))
            if not isinstance(constraints, dict) or page < 1 or size < 1:
                raise ValueError
        except ValueError:
            self._json(400, 40000, "参数错误 (bad parameters): constraints, page, size", None)
            return
        if state.body_override is not None:
            self._send(200, state.body_override)
            return
        size = min(size, state.max_page_size)
        with state.lock:
            items = [item for item in state.items if _matches(item, constraints)]
        start = (page - 1) * size
        chosen = [] if fault == "page_missing" and page >= 2 else items[start : start + size]
        self._send_data(
            {"items": chosen, "page": page, "size": size, "total": len(items)}, truncated=fault == "truncated"
        )

    def _sync(self, body: bytes, *, truncated: bool) -> None:
        state = self.server.state
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            self._json(400, 40000, "同步数据不是 JSON (the sync payload is not JSON)", None)
            return
        sync_id = payload.get("sync_id") if isinstance(payload, dict) else None
        if (
            not isinstance(payload, dict)
            or payload.get("schema") != "eod_sync/1"
            or not isinstance(sync_id, str)
            or not 1 <= len(sync_id) <= 128
            or not all(c.isalnum() or c in "-_." for c in sync_id)
        ):
            self._json(400, 40000, "同步数据格式不对 (expected schema eod_sync/1 with a sync_id)", None)
            return
        with state.lock:
            stored = sync_id not in state.syncs
            if stored:
                state.syncs[sync_id] = payload
                if state.sync_dir is not None:
                    _write_once(state.sync_dir / f"{sync_id}.json", body)
        self._send_data({"sync_id": sync_id, "stored": stored}, truncated=truncated)


def _account_of(endpoint: str, prefix: str, suffix: str) -> str | None:
    """The account id of `{prefix}{id}{suffix}`, or None."""
    if not (endpoint.startswith(prefix) and endpoint.endswith(suffix)):
        return None
    account = unquote(endpoint[len(prefix) : len(endpoint) - len(suffix)])
    return account if account and "/" not in account else None


def _write_once(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        return
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_bytes(body)
    temporary.replace(path)


def _matches(item: Any, constraints: Mapping[str, Any]) -> bool:
    if not isinstance(item, dict):
        return True  # a malformed item a test put there: served as it is
    for key, wanted in constraints.items():
        name, _, op = key.partition("__")
        value = item.get(name)
        if name not in item:
            continue
        if not isinstance(value, str) or not isinstance(wanted, str):
            if op == "" and value != wanted and str(value) != str(wanted):
                return False
            continue
        if (
            (op == "" and value != wanted)
            or (op == "gte" and value < wanted)
            or (op == "lte" and value > wanted)
        ):
            return False
    return True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, port: int, state: DevState) -> None:
        self.state = state
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # a client that gave up (its timeout during a slow answer) is expected here, not an error
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class DevServer:
    """The server on 127.0.0.1 (port 0: a free one), serving from its own thread."""

    def __init__(self, state: DevState | None = None, *, port: int = 0) -> None:
        self.state = state or DevState()
        self._server = _Server(port, self.state)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}{BASE_PATH}"

    @property
    def sync_url(self) -> str:
        return self.base_url + SYNC_PATH

    def start(self) -> DevServer:
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.05),
            name="tiller-devserver",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def stop(self) -> None:
        self.state.stopping.set()
        self.state.slow_release.set()
        self._server.shutdown() if self._thread is not None else None
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    def __enter__(self) -> DevServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
