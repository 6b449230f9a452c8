"""WAL checkpoints off the order path: a thread of its own moves the WAL into the database file.

SQLite's automatic checkpoint runs inside the commit that crosses its threshold (1,000 pages by
default), so every few hundred orders one commit also copies megabytes and syncs the file: the
durable p99. Here a checkpointer thread with its own connection runs `PRAGMA wal_checkpoint(PASSIVE)`;
a passive checkpoint never blocks the writer, and SQLite releases the GIL while it copies, so the
engine goes on committing. The writer's own automatic checkpoint stays on at a much higher
threshold, as a backstop should the thread fall behind. Checkpoints are crash-safe by SQLite's
design: a kill at any moment leaves the committed data whole.

How often matters too: after a complete checkpoint the writer starts the WAL again from its first
frame, and with synchronous=NORMAL that first commit syncs the WAL's header (an fdatasync, a
millisecond or more, inside an order's commit). Checkpointing at every poll put one such sync on
the order path every 50 ms. So the thread checkpoints only when the WAL holds `threshold_bytes` of
frames (32 MiB: a few hundred orders one at a time, far more in group commits) or when it has held
frames not yet moved for `max_age_s` (a quiet terminal still gets its file up to date). It reads the
WAL's frame counts from the WAL-index header in the `-shm` file (SQLite's documented file format);
where that cannot be read it falls back to the WAL file's size.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import struct
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)

POLL_S = 0.05
THRESHOLD_BYTES = 256 * 1024  # about 64 pages: the WAL size at which a writer hands checkpoints to a thread
CHECKPOINT_BYTES = 32 * 1024 * 1024  # the frames in the WAL at which the thread checkpoints
MAX_AGE_S = 2.0  # frames not yet moved are checkpointed after this long, however few
# The WAL-index header (the first 48 bytes of the -shm file, native byte order): iVersion, unused,
# iChange, isInit, bigEndCksum, szPage (1 means 65536), mxFrame; nBackfill is at byte 96.
_SHM_HEADER = struct.Struct("=IIIBBHI")
_SHM_BACKFILL = struct.Struct("=I")
WRITER_BACKSTOP_PAGES = 20_000  # the writer's own autocheckpoint, should the thread fall behind


class WalCheckpointer:
    """Checkpoints the WAL of the database at `path` from a daemon thread until `close()`."""

    def __init__(
        self,
        path: Path,
        *,
        threshold_bytes: int = CHECKPOINT_BYTES,
        poll_s: float = POLL_S,
        max_age_s: float = MAX_AGE_S,
    ) -> None:
        self.path = Path(path)
        self._wal = self.path.with_name(self.path.name + "-wal")
        self._shm = self.path.with_name(self.path.name + "-shm")
        self._threshold = threshold_bytes
        self._poll = poll_s
        self._max_age = max_age_s
        self._last_at = time.monotonic()
        self._stop = threading.Event()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=5.0)
        self.checkpoints = 0
        self.polls = 0  # times the thread has looked (tests wait on it)
        self.last: tuple[int, int, int] | None = None  # (busy, frames in the WAL, frames moved)
        self._thread = threading.Thread(target=self._run, name="tiller-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._poll):
            self.polls += 1
            if not self._due():
                continue
            try:
                busy, frames, moved = self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                self.last = (busy, frames, moved)
                self.checkpoints += 1
                self._last_at = time.monotonic()
            except sqlite3.Error:  # the writer's backstop and its close still checkpoint
                log.warning("WAL checkpoint of %s failed", self.path, exc_info=True)

    def _due(self) -> bool:
        """Whether to checkpoint now: enough frames in the WAL, or frames waiting too long."""
        counts = self._frames()
        if counts is None:  # the -shm header is not readable here: the WAL file's size decides
            try:
                return os.stat(self._wal).st_size >= self._threshold
            except OSError:
                return False
        frames, backfilled, page_size = counts
        if frames <= backfilled:
            return False  # nothing to move (the next write starts the WAL again)
        return frames * page_size >= self._threshold or time.monotonic() - self._last_at >= self._max_age

    def _frames(self) -> tuple[int, int, int] | None:
        """(frames in the WAL, frames already moved into the file, page size) from the WAL-index
        header, or None when it cannot be read or does not look like one."""
        try:
            with open(self._shm, "rb") as f:
                head = f.read(100)
        except OSError:
            return None
        if len(head) < 100:
            return None
        version, _, _, is_init, _, page, frames = _SHM_HEADER.unpack_from(head)
        if version != 3007000 or not is_init or head[:48] != head[48:96]:
            return None  # not initialised, or caught mid-update (the two copies differ)
        (backfilled,) = _SHM_BACKFILL.unpack_from(head, 96)
        return frames, backfilled, 65536 if page == 1 else page

    def close(self) -> None:
        """Stop the thread and close its connection (before the writer closes its own, whose close
        then folds what is left of the WAL into the file)."""
        self._stop.set()
        self._thread.join(10)
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
