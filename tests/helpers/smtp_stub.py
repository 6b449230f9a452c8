"""A tiny SMTP responder on 127.0.0.1 (stdlib sockets), for the e-mail alert channel's tests.

Speaks just enough of RFC 5321 for smtplib without TLS: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA, RSET,
NOOP, QUIT. Every message received is kept as (mail from, [rcpt to], raw bytes).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import threading


class SmtpStub:
    def __init__(self, *, user: str = "", password: str = "") -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.logins: list[tuple[str, str]] = []
        self.user, self.password = user, password
        self.received = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(5)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="smtp-stub", daemon=True)

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def __enter__(self) -> SmtpStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                with contextlib.suppress(OSError):
                    self._session(conn.makefile("rb"), conn)

    def _session(self, rfile, conn: socket.socket) -> None:
        def say(line: str) -> None:
            conn.sendall(line.encode() + b"\r\n")

        say("220 stub ESMTP")
        sender, rcpts = "", []
        while True:
            raw = rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                say("250-stub")
                say("250-AUTH PLAIN")
                say("250 8BITMIME")
            elif verb == "HELO":
                say("250 stub")
            elif verb == "AUTH":
                parts = line.split(" ")
                decoded = base64.b64decode(parts[2]).split(b"\0") if len(parts) > 2 else [b"", b"", b""]
                user, password = decoded[1].decode(), decoded[2].decode()
                self.logins.append((user, password))
                if (user, password) == (self.user, self.password):
                    say("235 ok")
                else:
                    say("535 bad credentials")
            elif verb == "MAIL":
                sender, rcpts = line.split(":", 1)[1].split()[0].strip("<>"), []
                say("250 ok")
            elif verb == "RCPT":
                rcpts.append(line.split(":", 1)[1].strip().strip("<>"))
                say("250 ok")
            elif verb == "DATA":
                say("354 end with .")
                body = b""
                while True:
                    chunk = rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    body += chunk[1:] if chunk.startswith(b"..") else chunk
                self.messages.append((sender, rcpts, body))
                self.received.set()
                say("250 queued")
            elif verb == "QUIT":
                say("221 bye")
                return
            else:
                say("250 ok")
