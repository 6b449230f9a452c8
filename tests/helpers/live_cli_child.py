"""The command line's side of a live headless day in a child process: `python -m app run --headless` with
a `sitecustomize.py` on PYTHONPATH that calls `install_from_env()` first. It puts the stand-ins in place of
xtquant's Windows-only parts (xtpythonclient under xtquant's real xttrader.py, xtdata), an in-memory
keyring holding the account id, and the day's simulated clock and market (app.headless.simulated_live_day).

Environment: LIVE_CHILD_FOLDER (the data folder, the stand-in's userdata_mini inside), LIVE_CHILD_START
(HH:MM, the clock's start), LIVE_CHILD_KILL_AT (HH:MM, optional: the process dies abruptly, os._exit, at
the first quote batch from then on — a kill mid-day, nothing cleaned up), LIVE_CHILD_STEP_SECONDS (the
market's snapshots every so many seconds, default 3).
"""

from __future__ import annotations

import os
import sys
from datetime import time
from pathlib import Path

SITECUSTOMIZE = "from tests.helpers.live_cli_child import install_from_env\ninstall_from_env()\n"
KILLED = 86


def install_from_env() -> None:
    folder = os.environ.get("LIVE_CHILD_FOLDER")
    if not folder:
        return
    import keyring

    from tests.helpers.memory_keyring import MemoryKeyring

    keyring.set_keyring(MemoryKeyring())
    from app import headless
    from tests.helpers.qmt_live_day import make_live_world
    from tests.standins import xtdata as xtdata_standin
    from tests.standins import xtpythonclient as standin

    standin.install()
    import xtquant

    sys.modules["xtquant.xtdata"] = xtdata_standin
    xtquant.xtdata = xtdata_standin  # type: ignore[attr-defined]
    start = time.fromisoformat(os.environ.get("LIVE_CHILD_START", "08:30"))
    step = int(os.environ.get("LIVE_CHILD_STEP_SECONDS", "3"))
    world = make_live_world(Path(folder), xtdata_standin, start=start, step_seconds=step)
    kill_at = os.environ.get("LIVE_CHILD_KILL_AT")
    if kill_at:
        deadline = time.fromisoformat(kill_at)
        quotes = world.market.quotes

        def quotes_then_die(batch):  # type: ignore[no-untyped-def]
            if world.clock.now().time() >= deadline:
                sys.stdout.flush()
                os._exit(KILLED)  # abrupt: no finally, no close, as a kill
            quotes(batch)

        world.market.quotes = quotes_then_die  # type: ignore[method-assign]
    headless.simulated_live_day = lambda: (world.clock, world.market)
