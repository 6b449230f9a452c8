"""The sync outbox: delivered signed, retried with backoff only for temporary failures, and exactly
once per sync_id across a SIGKILL of the delivering process (a real child, a real HTTP server)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.clients.sync import HttpSyncTransport, classify_response
from app.core.eod.delivery import Backoff, DeliveryWorker, Outcome, deliver_pending
from app.core.eod.payload import account_hash, sync_id_of
from app.core.eod.reconcile import SettlementStatus
from app.core.eod.service import DayRecord, OutboxEntry
from app.core.eod.settlement import Settlement
from app.storage import open_database
from app.storage.eod_store import Outbox, SqliteEodStore
from tests.helpers.sync_server import SyncServer

NOW = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
DAYS = [date(2026, 11, 23), date(2026, 11, 24), date(2026, 11, 25)]
ROOT = Path(__file__).resolve().parents[2]


def make_outbox(path: Path, days=DAYS) -> list[str]:
    """A database whose outbox holds one payload per day (as the close writes them); their sync ids."""
    account = account_hash("SIM001")
    ids = []
    database = open_database(path, now=NOW)
    try:
        store = SqliteEodStore(database)
        for day in days:
            sid = sync_id_of(account, day, 1)
            payload = {"schema": "eod_sync/1", "sync_id": sid, "revision": 1, "trading_day": day.isoformat(),
                       "account": account, "note": "资金 €"}  # fmt: skip
            store.save_day(
                DayRecord(Settlement(day, SettlementStatus.OK, ()), outbox=OutboxEntry(sid, day, 1, payload)),
                NOW,
            )
            ids.append(sid)
    finally:
        database.close()
    return ids


def transport(server: SyncServer, **kw) -> HttpSyncTransport:
    return HttpSyncTransport(server.url, access_key=server.access_key, secret_key=server.secret_key, **kw)


class Waits(list):
    """Records the backoff asked for instead of sleeping (no timed tests)."""

    def __call__(self, seconds: float) -> bool:
        self.append(seconds)
        return False


def test_every_pending_payload_is_delivered_signed_and_marked(tmp_path: Path) -> None:
    ids = make_outbox(tmp_path / "t.db")
    with SyncServer() as server:
        outbox = Outbox(tmp_path / "t.db")
        reports = deliver_pending(outbox, transport(server), now=lambda: NOW, wait=Waits())
        assert [r.outcome for r in reports] == [Outcome.ACKNOWLEDGED] * 3
        assert set(server.applied) == set(ids) and server.bad_signatures == 0
        assert server.applied[ids[0]]["note"] == "资金 €"  # the stored bytes, UTF-8 kept
        assert outbox.pending() == []
        assert deliver_pending(outbox, transport(server), now=lambda: NOW, wait=Waits()) == []
        assert sum(server.receipts.values()) == 3  # nothing delivered is sent again
        outbox.close()


def test_temporary_failures_are_retried_with_growing_waits(tmp_path: Path) -> None:
    [sid] = make_outbox(tmp_path / "t.db", DAYS[:1])
    with SyncServer() as server:
        server.statuses = [503, 429, 502]
        outbox = Outbox(tmp_path / "t.db")
        waits = Waits()
        [report] = deliver_pending(
            outbox, transport(server), now=lambda: NOW, wait=waits, backoff=Backoff(first_s=2, cap_s=5)
        )
        assert report.outcome is Outcome.ACKNOWLEDGED and report.attempts == 4
        assert waits == [2, 4, 5]  # doubled, capped
        _payload, delivered_at, attempts, last_error = outbox.entry(sid)
        assert delivered_at == NOW.isoformat() and attempts == 4 and last_error is None
        assert server.apply_count[sid] == 1
        outbox.close()


def test_a_refusal_is_not_retried_and_raises_an_alert(tmp_path: Path) -> None:
    [sid] = make_outbox(tmp_path / "t.db", DAYS[:1])
    alerts: list[tuple[str, str, str]] = []
    with SyncServer() as server:
        server.statuses = [400]
        outbox = Outbox(tmp_path / "t.db")
        waits = Waits()
        [report] = deliver_pending(
            outbox, transport(server), now=lambda: NOW, wait=waits, alert=lambda *a: alerts.append(a)
        )
        assert report.outcome is Outcome.PERMANENT and waits == [] and server.receipts[sid] == 1
        _, delivered_at, attempts, last_error = outbox.entry(sid)
        assert delivered_at is None and attempts == 1 and "HTTP 400" in last_error
        [(level, category, message)] = alerts
        assert (
            (level, category) == ("error", "sync") and "refused" in message and DAYS[0].isoformat() in message
        )
        outbox.close()


def test_a_wrong_secret_is_a_refusal(tmp_path: Path) -> None:
    make_outbox(tmp_path / "t.db", DAYS[:1])
    with SyncServer() as server:
        outbox = Outbox(tmp_path / "t.db")
        wrong = HttpSyncTransport(server.url, access_key=server.access_key, secret_key="not-it")
        [report] = deliver_pending(outbox, wrong, now=lambda: NOW, wait=Waits())
        assert report.outcome is Outcome.PERMANENT and server.bad_signatures == 1 and server.applied == {}
        outbox.close()


def test_no_server_is_temporary_and_gives_up_for_this_round_after_the_set_attempts(tmp_path: Path) -> None:
    make_outbox(tmp_path / "t.db", DAYS[:1])
    with SyncServer() as server:
        url = server.url
    outbox = Outbox(tmp_path / "t.db")
    gone = HttpSyncTransport(url, access_key="a", secret_key="s", timeout_s=2)
    alerts: list = []
    [report] = deliver_pending(
        outbox, gone, now=lambda: NOW, wait=Waits(), backoff=Backoff(first_s=1, attempts_per_round=3),
        alert=lambda *a: alerts.append(a),
    )  # fmt: skip
    assert report.outcome is Outcome.TEMPORARY and report.attempts == 3
    assert alerts and alerts[0][:2] == ("warning", "sync")
    assert len(outbox.pending()) == 1
    outbox.close()


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, b'{"code": 0, "message": "ok"}', Outcome.ACKNOWLEDGED),
        (204, b"", Outcome.ACKNOWLEDGED),
        (200, b'{"code": 1001, "message": "bad payload"}', Outcome.PERMANENT),
        (200, b"<html>", Outcome.PERMANENT),
        (500, b"", Outcome.TEMPORARY),
        (429, b"", Outcome.TEMPORARY),
        (404, b"", Outcome.PERMANENT),
        (301, b"", Outcome.PERMANENT),
    ],
)
def test_answers_are_sorted(status: int, body: bytes, outcome: Outcome) -> None:
    assert classify_response(status, body).outcome is outcome


def test_the_worker_delivers_what_is_kicked_in_and_stops(tmp_path: Path) -> None:
    ids = make_outbox(tmp_path / "t.db", DAYS[:1])
    rounds: list = []
    import threading

    done = threading.Event()
    with SyncServer() as server:
        worker = DeliveryWorker(
            lambda: Outbox(tmp_path / "t.db"), transport(server), now=lambda: NOW,
            on_round=lambda r: (rounds.append(r), done.set()),
        )  # fmt: skip
        worker.start()
        assert done.wait(30)
        worker.stop()
        assert set(server.applied) == set(ids)


def run_child(db: Path, server: SyncServer) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.helpers.sync_child",
            str(db),
            server.url,
            server.access_key,
            server.secret_key,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_killed_mid_delivery_then_restarted_each_sync_id_is_received_once_in_effect(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    ids = make_outbox(db)
    with SyncServer() as server:
        server.hold_sync_id = ids[1]  # received, applied, the answer held: the child is mid-request
        child = run_child(db, server)
        try:
            assert server.arrived.wait(60), "the child never reached the held request"
        finally:
            child.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
            child.communicate(timeout=30)  # reaped, its pipes closed
        server.hold_sync_id = None
        server.release.set()

        outbox = Outbox(db)
        _, delivered, *_ = outbox.entry(ids[0])
        assert delivered is not None  # acknowledged before the kill: marked
        assert outbox.entry(ids[1])[1] is None  # its answer never came: still pending
        outbox.close()

        again = run_child(db, server)
        _out, err = again.communicate(timeout=60)
        assert again.returncode == 0, err
        third = run_child(db, server)
        out3, err3 = third.communicate(timeout=60)
        assert third.returncode == 0 and out3.strip() == "", err3  # nothing left to send

        assert server.receipts == {ids[0]: 1, ids[1]: 2, ids[2]: 1}  # only the cut one went twice
        assert all(server.apply_count[sid] == 1 for sid in ids)  # and was applied once, by sync_id
        outbox = Outbox(db)
        assert outbox.pending() == []
        outbox.close()
