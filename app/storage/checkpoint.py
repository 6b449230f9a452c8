"""WAL checkpoints off the order path: a thread of its own moves the WAL into the database file.

SQLite's automatic checkpoint runs inside the commit that crosses its threshold (1,000 pages by
default), so every few hundred orders one commit also copies megabytes and syncs the file: the
durable p99. Here a checkpointer thread with its own connection runs `PRAGMA wal_checkpoint(PASSIVE)`
whenever the WAL file is larger than `threshold_bytes` (SQLite reuses the file after a complete
checkpoint, so once it has grown a checkpoint is tried at every poll: cheap when there is nothing
new to move, and never a sync then); a passive checkpoint never blocks the writer, and
SQLite releases the GIL while it copies, so the engine goes on committing. The writer's own automatic
checkpoint stays on at a much higher threshold, as a backstop should the thread fall behind.
Checkpoints are crash-safe by SQLite's design: a kill at any moment leaves the committed data whole.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

POLL_S = 0.05
THRESHOLD_BYTES = 256 * 1024  # about 64 pages
WRITER_BACKSTOP_PAGES = 20_000  # the writer's own autocheckpoint, should the thread fall behind


class WalCheckpointer:
    """Checkpoints the WAL of the database at `path` from a daemon thread until `close()`."""

    def __init__(self, path: Path, *, threshold_bytes: int = THRESHOLD_BYTES, poll_s: float = POLL_S) -> None:
        self.path = Path(path)
        self._wal = self.path.with_name(self.path.name + "-wal")
        self._threshold = threshold_bytes
        self._poll = poll_s
        self._stop = threading.Event()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self.checkpoints = 0
        self.last: tuple[int, int, int] | None = None  # (busy, frames in the WAL, frames moved)
        self._thread = threading.Thread(target=self._run, name="tiller-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            try:
                if os.stat(self._wal).st_size < self._threshold:
                    continue
            except OSError:
                continue
            try:
                busy, frames, moved = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.last = (busy, frames, moved)
                self.checkpoints += 1
            except sqlite3.Error:  # the writer's backstop and its close still checkpoint
                log.warning("WAL checkpoint of %s failed", self.path, exc_info=True)

    def close(self) -> None:
        """Stop the thread and close its connection (before the writer closes its own, whose close
        then folds what is left of the WAL into the file)."""
        self._stop.set()
        self._thread.join(10)
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
