"""The file-order inbox (文件单): a watched folder, off the engine thread (docs/FILE_ORDERS.md).

A CSV or JSON file dropped in the folder is taken in once:

1. it must be *ready*: a name that is not a partial (`~$…`, `.…`, `*.tmp`, `*.part`, …), a `.csv` or
   `.json` suffix, size and modification time unchanged for `stable_s`, and it must let itself be
   moved (on Windows a file still open in Excel or a writer cannot be renamed);
2. it is moved into `processing/` (so it is never read again from the inbox), parsed and validated
   (file_orders.py: the same validation as an HTTP batch), and handed to the engine as one
   `SignalsFetched` message, like the HTTP fetch;
3. it is moved to `done/<day>/<name>/` with its results beside it: `lines.csv`, `orders.csv`,
   `fills.csv`, `rejections.csv` (UTF-8 with a BOM, so Excel shows the Chinese), rewritten whole (write then
   rename) whenever they change, for the rest of the day and again after a restart.

A crash between 2 and 3 leaves the file in `processing/`: it is handed over again at the next start,
and the engine (batch ids) and `take_in` (signal ids) make that change nothing.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from app.clients.file_orders import SUFFIXES, parse_order_file
from app.clients.planned_orders import PlannedOrdersError
from app.core.messages import OrderSnapshot, SignalsFetched

log = logging.getLogger(__name__)

PROCESSING = "processing"
DONE = "done"
PARTIAL_PREFIXES = ("~$", ".", "~")
PARTIAL_SUFFIXES = (".tmp", ".temp", ".part", ".partial", ".crdownload", ".download", ".swp", ".lock")
MANIFEST = "lines.json"
RESULT_FILES = ("lines.csv", "orders.csv", "fills.csv", "rejections.csv")
LINE_COLUMNS = ("signal_id", "strategy_id", "code", "side", "requested_qty", "planned_qty", "state", "sent_qty",
                "filled_qty", "working")  # fmt: skip
ORDER_COLUMNS = ("signal_id", "strategy_id", "client_order_id", "code", "side", "qty", "price", "status",
                 "filled_qty", "avg_price", "fees", "status_msg", "created_at", "updated_at")  # fmt: skip
FILL_COLUMNS = ("signal_id", "strategy_id", "client_order_id", "trade_id", "code", "side", "qty", "price",
                "amount", "fees", "time")  # fmt: skip
REJECTION_COLUMNS = ("signal_id", "strategy_id", "stage", "reason")


def is_candidate(path: Path) -> bool:
    """A file the inbox may take: an order file's suffix, not a partial or a lock file."""
    name = path.name
    lower = name.lower()
    if name.startswith(PARTIAL_PREFIXES) or lower.endswith(PARTIAL_SUFFIXES):
        return False
    return lower.endswith(SUFFIXES)


@dataclass(frozen=True, slots=True)
class Books:
    """What the results are made of, read on the engine thread (`collect_books`)."""

    orders: tuple[Any, ...] = ()  # OrderSnapshot
    trades: tuple[Any, ...] = ()  # TradeReport
    plan_lines: tuple[Any, ...] = ()  # PlanLine


def collect_books(engine: Any) -> Books:
    """On the engine thread (`engine.call(collect_books)`): today's orders, fills and plan lines."""
    plan = getattr(engine, "plan", None)
    return Books(
        tuple(OrderSnapshot.of(o) for o in engine.oms.orders.values()),
        tuple(engine.oms.trade_ids.values()),
        tuple(plan.lines.values()) if plan is not None else (),
    )


@dataclass(slots=True)
class TakenFile:
    """A file taken in today: where its results go, and which lines are its."""

    folder: Path
    name: str
    day: date
    lines: list[tuple[str, str]] = field(default_factory=list)  # (strategy, signal id)
    rejected: list[tuple[str, str, str]] = field(default_factory=list)  # (strategy, id, reason)
    error: str | None = None
    written: dict[str, str] = field(default_factory=dict)  # result file -> its last content

    def manifest(self) -> dict[str, Any]:
        return {"name": self.name, "day": self.day.isoformat(), "error": self.error,
                "lines": [list(x) for x in self.lines], "rejected": [list(x) for x in self.rejected]}  # fmt: skip

    @classmethod
    def from_manifest(cls, folder: Path, data: dict[str, Any]) -> TakenFile:
        return cls(
            folder, str(data["name"]), date.fromisoformat(data["day"]),
            [(str(s), str(i)) for s, i in data["lines"]], [(str(s), str(i), str(r)) for s, i, r in data["rejected"]],
            data.get("error"),
        )  # fmt: skip


class FileInbox:
    def __init__(
        self,
        folder: Path,
        deliver: Callable[[SignalsFetched], None],
        *,
        today: Callable[[], date],
        default_strategy: str = "file",
        stable_s: float = 2.0,
        poll_s: float = 1.0,
        known_codes: Callable[[date], Collection[str] | None] | None = None,
        books: Callable[[], Books] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.folder = Path(folder)
        self.deliver = deliver
        self.today = today
        self.default_strategy = default_strategy
        self.stable_s = stable_s
        self.poll_s = poll_s
        self.known_codes = known_codes
        self.books = books
        self._monotonic = monotonic
        self._say = say or (lambda text: None)
        self._seen: dict[Path, tuple[tuple[int, int], float]] = {}  # path -> (signature, since)
        self._stuck: set[Path] = set()  # handed over but not moved to done/ (a full disk, no access)
        self.taken: list[TakenFile] = []
        self._loaded_day: date | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # one round at a time (the thread, or a test calling in)

    # ------------------------------------------------------------------ the thread
    def start(self) -> FileInbox:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name="tiller-file-inbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.round()
            self._stop.wait(self.poll_s)

    def round(self) -> list[TakenFile]:
        """One look at the folder and one update of the results; never raises (said in the log)."""
        with self._lock:
            taken: list[TakenFile] = []
            try:
                taken = self.scan()
            except Exception:
                log.exception("file inbox %s: scanning failed", self.folder)
            try:
                self.refresh()
            except Exception:
                log.exception("file inbox %s: writing the results failed", self.folder)
            return taken

    # ------------------------------------------------------------------ taking files in
    def scan(self) -> list[TakenFile]:
        """Hand over every ready file (and any left in processing/ by a crash); returns them."""
        day = self.today()
        self._load_today(day)
        out: list[TakenFile] = []
        processing = self.folder / PROCESSING
        if processing.is_dir():
            for path in sorted(processing.iterdir()):
                if path.is_file() and not path.name.endswith(".tmp") and path not in self._stuck:
                    out.append(self._take(path, day, again=True))
        try:
            entries = sorted(p for p in self.folder.iterdir() if p.is_file() and is_candidate(p))
        except FileNotFoundError:
            return out
        now = self._monotonic()
        present = set(entries)
        for gone in [p for p in self._seen if p not in present]:
            del self._seen[gone]
        for path in entries:
            try:
                st = path.stat()
            except OSError:
                continue
            signature = (st.st_size, st.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is None or seen[0] != signature:
                self._seen[path] = (signature, now)  # new or still changing: wait until it is quiet
                continue
            if now - seen[1] < self.stable_s:
                continue
            claimed = self._claim(path)
            if claimed is None:
                continue  # still open in another program: the next round tries again
            del self._seen[path]
            out.append(self._take(claimed, day))
        return out

    def _claim(self, path: Path) -> Path | None:
        """Move the file into processing/ (the exclusive step: a file still open for writing cannot be
        renamed on Windows); None when it cannot be moved yet."""
        processing = self.folder / PROCESSING
        processing.mkdir(exist_ok=True)
        target = _unique(processing, path.name)
        try:
            os.replace(path, target)
        except OSError as exc:
            log.info("file inbox: %s not ready yet: %s", path.name, exc)
            return None
        return target

    def _take(self, path: Path, day: date, *, again: bool = False) -> TakenFile:
        name = path.name
        source = f"file:{name}"
        try:
            data = path.read_bytes()
            known = self.known_codes(day) if self.known_codes is not None else None
            batches = parse_order_file(
                data, name=name, day=day, default_strategy=self.default_strategy, known_codes=known
            )
            message = SignalsFetched(day, source, tuple(batches))
        except (PlannedOrdersError, OSError) as exc:
            batches, message = [], SignalsFetched(day, source, (), str(exc))
        except Exception as exc:  # a bug must not stop the inbox: the file is refused, named
            log.exception("file inbox: reading %s", name)
            batches, message = [], SignalsFetched(day, source, (), f"{type(exc).__name__}: {exc}")
        self.deliver(message)
        taken = TakenFile(_unique(self.folder / DONE / day.isoformat(), Path(name).stem), name, day)
        taken.lines = [(b.strategy_id, line.signal_id) for b in batches for line in b.lines]
        taken.rejected = [(b.strategy_id, i, r) for b in batches for i, r in b.rejected]
        taken.error = message.error
        try:
            taken.folder.mkdir(parents=True)
            _write_atomic(taken.folder / MANIFEST, json.dumps(taken.manifest(), ensure_ascii=False, indent=1))
            os.replace(path, taken.folder / name)
        except OSError as exc:  # handed over, but not moved: not handed again by this process
            self._stuck.add(path)
            log.error("file inbox: cannot move %s to %s: %s", path, taken.folder, exc)
            self._say(
                f"文件单 (file order) {name}: 已交引擎，但无法移入 done (handed over, but cannot be moved): {exc}"
            )
            return taken
        self.taken.append(taken)
        self._write_results(taken, Books())
        counts = f"{len(taken.lines)} 条接受 (accepted), {len(taken.rejected)} 条拒绝 (rejected)"
        what = "再次交给引擎 (handed over again after a restart)" if again else "已读取 (taken in)"
        self._say(
            f"文件单 (file order) {name} {what}: "
            + (f"整个文件被拒绝 (the whole file was refused): {taken.error}" if taken.error else counts)
        )
        return taken

    def _load_today(self, day: date) -> None:
        """The files taken in earlier today (before a restart): their results are kept up to date."""
        if self._loaded_day == day:
            return
        self._loaded_day = day
        self.taken = []
        folder = self.folder / DONE / day.isoformat()
        if not folder.is_dir():
            return
        for sub in sorted(folder.iterdir()):
            manifest = sub / MANIFEST
            if not manifest.is_file():
                continue
            try:
                self.taken.append(TakenFile.from_manifest(sub, json.loads(manifest.read_text("utf-8-sig"))))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("file inbox: cannot read %s: %s", manifest, exc)

    # ------------------------------------------------------------------ results
    def refresh(self) -> None:
        """Bring every result file of today's files up to date with the books."""
        if self.books is None or not self.taken:
            return
        books = self.books()
        for taken in self.taken:
            self._write_results(taken, books)

    def _write_results(self, taken: TakenFile, books: Books) -> None:
        for name, text in results_for(taken, books).items():
            if taken.written.get(name) == text:
                continue
            try:
                _write_atomic(taken.folder / name, text)
            except OSError as exc:  # e.g. open in Excel on Windows: the next round tries again
                log.info("file inbox: cannot write %s yet: %s", taken.folder / name, exc)
                continue
            taken.written[name] = text


def results_for(taken: TakenFile, books: Books) -> dict[str, str]:
    """The result files of a taken file, as text."""
    mine = set(taken.lines)
    line_of: dict[tuple[str, str], str] = {}  # (strategy, plan line id) -> the file's signal id
    for strategy, signal_id in mine:
        line_of[(strategy, signal_id)] = signal_id
    rejections: list[tuple[str, ...]] = [(i, s, "file", r) for s, i, r in taken.rejected]
    if taken.error:
        rejections.insert(0, ("", "", "file", taken.error))
    for line in books.plan_lines:
        base = line.line_id.split("@", 1)[0]
        if (line.strategy_id, base) not in mine:
            continue
        line_of[(line.strategy_id, line.line_id)] = base
        if line.state.value == "skipped":
            reason = next((c.reason for c in reversed(line.changes) if c.kind == "skipped"), "skipped")
            rejections.append((base, line.strategy_id, "plan", reason))
    orders = []
    order_signal: dict[str, str] = {}
    for o in sorted(books.orders, key=lambda o: (o.created_at, o.client_order_id)):
        signal_id = line_of.get((o.strategy_id, o.signal_id))
        if signal_id is None:
            continue
        order_signal[o.client_order_id] = signal_id
        orders.append((signal_id, o.strategy_id, o.client_order_id, o.code, o.side.value, o.qty, _s(o.price),
                       o.status.value, o.filled_qty, _s(o.avg_price), _s(o.fees), o.status_msg,
                       _s(o.created_at), _s(o.updated_at)))  # fmt: skip
        if o.status.value in ("denied", "rejected"):
            rejections.append((signal_id, o.strategy_id, "order", o.status_msg or o.status.value))
    strategy_of = {o[2]: o[1] for o in orders}
    fills = [
        (order_signal[t.client_order_id], strategy_of[t.client_order_id], t.client_order_id, t.trade_id, t.code,
         t.side.value, t.qty, _s(t.price), _s(t.amount), _s(t.fees), _s(t.ts))
        for t in sorted(books.trades, key=lambda t: (t.ts, str(t.trade_id)))
        if t.client_order_id in order_signal
    ]  # fmt: skip
    plan_of = {
        (x.strategy_id, x.line_id.split("@", 1)[0]): x
        for x in books.plan_lines
        if (x.strategy_id, x.line_id.split("@", 1)[0]) in mine
    }
    sums: dict[tuple[str, str], list[int]] = {}
    for o in orders:  # (signal_id, strategy_id, cid, code, side, qty, price, status, filled_qty, …)
        acc = sums.setdefault((o[1], o[0]), [0, 0, 0])
        working = o[7] in (
            "initialized",
            "submitted",
            "accepted",
            "partially_filled",
            "pending_cancel",
            "in_doubt",
        )
        acc[0] += o[5] if working else o[8]
        acc[1] += o[8]
        acc[2] |= working
    lines = []
    for strategy, signal_id in taken.lines:
        line = plan_of.get((strategy, signal_id))
        sent, filled, working = sums.get((strategy, signal_id), [0, 0, 0])
        if line is None:
            lines.append(
                (signal_id, strategy, "", "", "", "", "received", sent, filled, "yes" if working else "no")
            )
            continue
        lines.append((signal_id, strategy, line.code, line.side.value, line.requested_qty, line.qty, line.state.value,
                      sent, filled, "yes" if working else "no"))  # fmt: skip
    return {
        "lines.csv": _csv(LINE_COLUMNS, lines),
        "orders.csv": _csv(ORDER_COLUMNS, orders),
        "fills.csv": _csv(FILL_COLUMNS, fills),
        "rejections.csv": _csv(REJECTION_COLUMNS, rejections),
    }


def _s(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _csv(columns: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def _write_atomic(path: Path, text: str) -> None:
    """The whole file or nothing: a user's script never reads half of it. UTF-8 with a BOM (Excel)."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8-sig", newline="")
    os.replace(temporary, path)


def _unique(folder: Path, name: str) -> Path:
    """`folder/name`, or `name-2`, `name-3`… (before the suffix) when taken."""
    folder.mkdir(parents=True, exist_ok=True)
    candidate = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{stem}-{n}{suffix}"
    return candidate
