"""File orders (文件单) end to end: a folder watched off the engine thread, a real engine, the real
simulated broker, the plan desk and the execution service; result files a user's script can follow."""

from __future__ import annotations

import csv
import io
import os
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from app.clients.file_inbox import DONE, PROCESSING, FileInbox, collect_books, is_candidate
from app.core.messages import AlertRaised, SignalsFetched
from app.core.planning.model import StrategySettings
from app.core.terminal import Terminal
from app.scheduler.chain import plan_on_arrival
from tests.helpers.engine_day import DAY, at, make_setup, open_day, settle

GBK_ORDERS = (
    "证券代码,买卖方向,委托数量,委托价格\n600000,买入,1000,10.05\n000001,卖出,500,\n600000,持有,100,\n"
)


class Clock:
    """The inbox's monotonic clock, moved by hand: the stable-file wait without sleeping."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


@pytest.fixture
def session(tmp_path: Path):
    setup = make_setup(tmp_path / "data")
    open_day(setup)
    terminal = Terminal(setup.engine)
    terminal.set_strategy(StrategySettings("file", Decimal("100000")))
    terminal.subscribe(plan_on_arrival(setup.engine))
    yield setup, terminal
    setup.close()


def make_inbox(folder: Path, setup, clock: Clock, delivered: list | None = None) -> FileInbox:
    engine = setup.engine

    def deliver(message: SignalsFetched) -> None:
        if delivered is not None:
            delivered.append(message)
        engine.post(message)

    return FileInbox(
        folder, deliver, today=lambda: engine.clock.now().date(), stable_s=2.0, monotonic=clock,
        known_codes=lambda day: engine.call(lambda e: set(e.oms.instruments)),
        books=lambda: engine.call(collect_books),
    )  # fmt: skip


def drop(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def take(inbox: FileInbox, clock: Clock, setup) -> list:
    """Two looks, the stable time apart (a file is read only once it has been quiet), then settle."""
    first = inbox.round()
    clock.t += 2.5
    second = inbox.round()
    settle(setup)
    return first + second


def test_a_gbk_file_is_taken_once_planned_executed_and_its_results_follow_the_day(session, tmp_path):
    setup, terminal = session
    inbox_dir = tmp_path / "inbox"
    clock = Clock()
    inbox = make_inbox(inbox_dir, setup, clock)
    drop(inbox_dir, "今日.csv", GBK_ORDERS.encode("gbk"))
    assert inbox.round() == []  # seen for the first time: not read before it has been quiet
    clock.t += 2.5
    (taken,) = inbox.round()
    settle(setup)
    inbox.round()
    assert {x["state"] for x in read_csv(taken.folder / "lines.csv")} == {"planned"}  # waiting for approval
    assert not (inbox_dir / "今日.csv").exists()
    assert taken.folder == inbox_dir / DONE / DAY.isoformat() / "今日"
    assert (taken.folder / "今日.csv").read_bytes() == GBK_ORDERS.encode("gbk")  # moved aside whole
    assert len(taken.lines) == 2 and len(taken.rejected) == 1

    plan = terminal.plan()
    assert sorted((x.code, x.qty) for x in plan.lines) == [("000001.SZ", 500), ("600000.SH", 1000)]
    terminal.approve_plan()
    for minute in range(30, 60, 2):
        at(setup, 9, minute)
    inbox.round()
    orders = read_csv(taken.folder / "orders.csv")
    assert {o["code"] for o in orders} == {"600000.SH", "000001.SZ"}
    assert all(o["signal_id"] in {s for _, s in taken.lines} for o in orders)
    fills = read_csv(taken.folder / "fills.csv")
    assert fills, "the limit children filled in the simulated morning"
    assert sum(int(f["qty"]) for f in fills) == sum(int(o["filled_qty"]) for o in orders)
    rejections = read_csv(taken.folder / "rejections.csv")
    assert [(r["stage"], "direction" in r["reason"]) for r in rejections] == [("file", True)]
    assert rejections[0]["signal_id"].endswith("-4")  # the fourth row of the file
    lines = {x["code"]: x for x in read_csv(taken.folder / "lines.csv")}
    assert set(lines) == {"600000.SH", "000001.SZ"}
    assert lines["600000.SH"]["state"] == "handed" and lines["600000.SH"]["requested_qty"] == "1000"
    by_code: dict[str, int] = {}
    for o in orders:
        by_code[o["code"]] = by_code.get(o["code"], 0) + int(o["filled_qty"])
    assert {c: int(x["filled_qty"]) for c, x in lines.items()} == by_code


def test_the_same_content_twice_under_another_name_and_encoding_makes_one_set_of_orders(session, tmp_path):
    setup, terminal = session
    inbox_dir = tmp_path / "inbox"
    clock = Clock()
    inbox = make_inbox(inbox_dir, setup, clock)
    drop(inbox_dir, "a.csv", GBK_ORDERS.encode("gbk"))
    take(inbox, clock, setup)
    terminal.approve_plan()
    at(setup, 9, 31)
    before = terminal.orders()
    drop(inbox_dir, "b.csv", GBK_ORDERS.encode("utf-8-sig"))
    drop(inbox_dir, "a.csv", GBK_ORDERS.encode("gbk"))  # the same name again: kept apart in done/
    assert len(take(inbox, clock, setup)) == 2
    at(setup, 9, 32)
    assert len(terminal.plan().lines) == 2
    assert {o.client_order_id for o in terminal.orders()} >= {o.client_order_id for o in before}
    assert len({(o.signal_id, o.code) for o in terminal.orders()}) == 2
    done = inbox_dir / DONE / DAY.isoformat()
    assert sorted(p.name for p in done.iterdir()) == ["a", "a-2", "b"]
    inbox.round()
    assert read_csv(done / "a-2" / "orders.csv") == read_csv(done / "a" / "orders.csv")


def test_a_file_still_being_written_is_not_read_early_and_partials_are_ignored(session, tmp_path):
    setup, _terminal = session
    inbox_dir = tmp_path / "inbox"
    clock = Clock()
    delivered: list[SignalsFetched] = []
    inbox = make_inbox(inbox_dir, setup, clock, delivered)
    path = drop(inbox_dir, "big.csv", "代码,方向,数量\n600000,买入,1".encode())  # half of a line so far
    drop(inbox_dir, "~$big.csv", b"excel lock")
    drop(inbox_dir, "next.csv.tmp", "代码,方向,数量\n600000,1,100\n".encode())
    drop(inbox_dir, ".hidden.csv", b"x")
    drop(inbox_dir, "notes.txt", b"x")
    inbox.round()
    clock.t += 1.0
    with path.open("ab") as f:  # the writer goes on: size and time change, the wait starts again
        f.write("00\n000001,卖出,".encode())
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    clock.t += 1.5
    assert inbox.round() == [] and delivered == []
    with path.open("ab") as f:
        f.write(b"500\n")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 2_000_000))
    inbox.round()
    clock.t += 2.5
    (taken,) = inbox.round()
    settle(setup)
    assert [(m.source, m.error) for m in delivered] == [("file:big.csv", None)]
    assert len(taken.lines) == 2  # the whole file, not the half seen first
    assert sorted(p.name for p in inbox_dir.iterdir() if p.is_file()) == [
        ".hidden.csv", "next.csv.tmp", "notes.txt", "~$big.csv",
    ]  # fmt: skip
    assert not is_candidate(Path("x.CSV.part")) and is_candidate(Path("x.CSV"))


def test_after_a_restart_a_taken_file_is_not_read_again_and_its_results_are_still_updated(tmp_path):
    inbox_dir = tmp_path / "inbox"
    clock = Clock()
    setup = make_setup(tmp_path / "data")
    open_day(setup)
    terminal = Terminal(setup.engine)
    terminal.set_strategy(StrategySettings("file", Decimal("100000")))
    terminal.subscribe(plan_on_arrival(setup.engine))
    inbox = make_inbox(inbox_dir, setup, clock)
    drop(inbox_dir, "day.csv", GBK_ORDERS.encode("gbk"))
    take(inbox, clock, setup)
    setup.close()

    setup = make_setup(tmp_path / "data", start=setup.clock.now().time())
    try:
        open_day(setup)
        terminal = Terminal(setup.engine)
        terminal.subscribe(plan_on_arrival(setup.engine))
        delivered: list[SignalsFetched] = []
        inbox = make_inbox(inbox_dir, setup, clock, delivered)
        assert take(inbox, clock, setup) == [] and delivered == []
        assert len(inbox.taken) == 1  # today's file, from its manifest
        terminal.approve_plan()
        for minute in range(30, 40):
            at(setup, 9, minute)
        inbox.round()
        orders = read_csv(inbox_dir / DONE / DAY.isoformat() / "day" / "orders.csv")
        assert {o["code"] for o in orders} == {"600000.SH", "000001.SZ"}
    finally:
        setup.close()


def test_a_file_left_in_processing_by_a_crash_is_handed_over_again_and_changes_nothing(session, tmp_path):
    setup, terminal = session
    inbox_dir = tmp_path / "inbox"
    clock = Clock()
    inbox = make_inbox(inbox_dir, setup, clock)
    drop(inbox_dir, "x.csv", GBK_ORDERS.encode("gbk"))
    take(inbox, clock, setup)
    lines = len(terminal.plan().lines)
    # as if the process had died after handing the file over and before moving it to done/
    drop(inbox_dir / PROCESSING, "x.csv", GBK_ORDERS.encode("gbk"))
    delivered: list[SignalsFetched] = []
    again = make_inbox(inbox_dir, setup, clock, delivered)
    (taken,) = again.round()
    settle(setup)
    assert len(delivered) == 1 and taken.folder.name == "x-2"
    assert len(terminal.plan().lines) == lines
    assert not any((inbox_dir / PROCESSING).iterdir())


def test_a_refused_file_is_moved_aside_with_its_reason_and_alerted(session, tmp_path):
    setup, terminal = session
    inbox_dir = tmp_path / "inbox"
    clock = Clock()
    inbox = make_inbox(inbox_dir, setup, clock)
    alerts: list[AlertRaised] = []
    terminal.subscribe(lambda event: alerts.append(event) if isinstance(event, AlertRaised) else None)
    drop(inbox_dir, "bad.csv", "名称,价格\n浦发,10\n".encode("gbk"))
    (taken,) = take(inbox, clock, setup)
    assert not (inbox_dir / "bad.csv").exists() and (taken.folder / "bad.csv").exists()
    rejections = read_csv(taken.folder / "rejections.csv")
    assert len(rejections) == 1 and "missing required columns" in rejections[0]["reason"]
    assert [(a.level, "file:bad.csv" in a.message) for a in alerts] == [("error", True)]
    assert terminal.plan().lines == ()


def test_the_inbox_thread_takes_a_file_without_the_engine_thread_waiting(session, tmp_path):
    setup, terminal = session
    inbox_dir = tmp_path / "inbox"
    got = threading.Event()
    messages: list[SignalsFetched] = []

    def deliver(message: SignalsFetched) -> None:
        assert threading.current_thread().name == "tiller-file-inbox"
        messages.append(message)
        setup.engine.post(message)
        got.set()

    inbox = FileInbox(inbox_dir, deliver, today=lambda: DAY, stable_s=0.05, poll_s=0.02).start()
    try:
        drop(inbox_dir, "t.csv", "代码,方向,数量\n600000,1,100\n".encode())
        assert got.wait(30.0)
    finally:
        inbox.stop()
    settle(setup)
    assert [len(b.lines) for b in messages[0].batches] == [1]
    assert [x.code for x in terminal.plan().lines] == ["600000.SH"]


def test_result_files_are_replaced_whole(tmp_path: Path) -> None:
    """A result file is written beside and renamed over: a reader sees the old or the new one."""
    from app.clients.file_inbox import _write_atomic

    target = tmp_path / "orders.csv"
    _write_atomic(target, "a,b\r\n1,2\r\n")
    _write_atomic(target, "a,b\r\n3,4\r\n")
    assert target.read_bytes() == "\ufeffa,b\r\n3,4\r\n".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["orders.csv"]
