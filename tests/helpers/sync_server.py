"""A tiny receiver of eod_sync/1 payloads on 127.0.0.1, for the delivery tests (a real HTTP server).

It checks the BigQuant signature, counts every receipt, and upserts by sync_id: the first receipt of
a sync_id is applied, a repeat is acknowledged as a duplicate and not applied again. Scripted answers
(`statuses`) and a hold (`hold_sync_id`: the request is received and applied, then the answer waits
until `release` is set) let a test fail or cut a delivery where it wants.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from app.clients.signing import sign_request

SYNC_PATH = "/bigapis/trading/v1/eod_sync"


class SyncServer:
    def __init__(self, *, access_key: str = "ak-test", secret_key: str = "sk-test") -> None:
        self.access_key = access_key
        self.secret_key = secret_key
        self.receipts: Counter[str] = Counter()
        self.applied: dict[str, dict] = {}
        self.apply_count: Counter[str] = Counter()
        self.bad_signatures = 0
        self.statuses: list[int] = []  # answers to give next, in order (then 200)
        self.hold_sync_id: str | None = None
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                server.handle(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="sync-server", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{SYNC_PATH}"

    def handle(self, request: BaseHTTPRequestHandler, body: bytes) -> None:
        path = urlsplit(request.path).path
        expected = sign_request(self.secret_key, path, body, request.headers.get("X-BigQuant-Timestamp", "0"))
        if (
            request.headers.get("X-BigQuant-Signature") != expected
            or request.headers.get("X-BigQuant-Access-Key") != self.access_key
        ):
            with self.lock:
                self.bad_signatures += 1
            self._answer(request, 401, {"code": 401, "message": "bad signature"})
            return
        payload = json.loads(body)
        sync_id = payload["sync_id"]
        assert request.headers.get("Idempotency-Key") == sync_id
        with self.lock:
            status = self.statuses.pop(0) if self.statuses else 200
            self.receipts[sync_id] += 1
            if status == 200 and sync_id not in self.applied:
                self.applied[sync_id] = payload
                self.apply_count[sync_id] += 1
                message = "ok"
            else:
                message = "duplicate" if status == 200 else "scripted failure"
            hold = sync_id == self.hold_sync_id
        if hold:
            self.arrived.set()
            self.release.wait(60)
        code = 0 if status == 200 else status
        self._answer(request, status, {"code": code, "message": message})

    def _answer(self, request: BaseHTTPRequestHandler, status: int, body: dict) -> None:
        raw = json.dumps(body).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(raw)))
            request.end_headers()
            request.wfile.write(raw)
        except OSError:
            pass  # the client is gone (killed mid-request)

    def __enter__(self) -> SyncServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
