"""The crash-test child for the outbox: deliver every pending payload of a database, then exit.

python -m tests.helpers.sync_child DB_PATH URL ACCESS_KEY SECRET_KEY
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from app.clients.sync import HttpSyncTransport
from app.core.eod.delivery import Backoff, deliver_pending
from app.storage.eod_store import Outbox


def main(argv: list[str]) -> int:
    db_path, url, access_key, secret_key = argv
    outbox = Outbox(Path(db_path))
    transport = HttpSyncTransport(url, access_key=access_key, secret_key=secret_key, timeout_s=60)
    reports = deliver_pending(
        outbox,
        transport,
        now=lambda: datetime.now(UTC),
        wait=lambda s: bool(time.sleep(s)),
        backoff=Backoff(first_s=0.01, cap_s=0.05),
    )
    print(" ".join(f"{r.sync_id[:8]}:{r.outcome.value}" for r in reports), flush=True)
    transport.close()
    outbox.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
