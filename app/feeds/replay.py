"""ReplayFeed: a recorded day played back, and `record` to make such a recording.

The file format is described in `app.feeds.tickfile` (xtdata's tick fields, JSON Lines, one
file per day, `.jsonl` or gzip-compressed `.jsonl.gz`). A whole file is validated before its
first batch is given out, so a malformed file yields nothing.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO

from app.core.ports import QuoteSource
from app.domain.market import InstrumentInfo, Quote
from app.feeds.errors import FeedError
from app.feeds.tickfile import QuoteParser, format_header, format_quote, load_line, parse_header

__all__ = ["RECORDING_SUFFIXES", "ReplayFeed", "record"]

RECORDING_SUFFIXES = (".jsonl", ".jsonl.gz")


class ReplayFeed:
    """A QuoteSource (app.core.ports) over recorded days: one file, or a folder of files whose
    headers say which trading day each holds."""

    def __init__(self, path: Path | str) -> None:
        self._path = Path(path)
        if not self._path.exists():
            raise FeedError(f"行情录制文件不存在 recording not found, was {self._path}")
        self._index: dict[date, Path] | None = None

    def days(self) -> list[date]:
        """The recorded trading days, oldest first."""
        return sorted(self._days())

    def instruments(self, day: date) -> list[InstrumentInfo]:
        path = self._file_for(day)
        with _open(path) as lines:
            _, infos = _read_header(path, lines)
        return list(infos.values())

    def batches(self, day: date) -> Iterator[tuple[datetime, list[Quote]]]:
        """The day's snapshots grouped by time, oldest first; FeedError before the first batch
        if anything in the file is wrong."""
        path = self._file_for(day)
        for _ in _read_quotes(path):
            pass  # validate the whole file first; memory stays flat for a full-market day
        return _grouped(path)

    # ------------------------------------------------------------------ which file
    def _days(self) -> dict[date, Path]:
        if self._index is None:
            files = [self._path] if self._path.is_file() else sorted(_recordings(self._path))
            index: dict[date, Path] = {}
            for path in files:
                with _open(path) as lines:
                    day, _ = _read_header(path, lines)
                if day in index:
                    raise FeedError(f"{day} is recorded twice, in {index[day]} and {path}")
                index[day] = path
            self._index = index
        return self._index

    def _file_for(self, day: date) -> Path:
        if not isinstance(day, date) or isinstance(day, datetime):
            raise TypeError(f"day must be a datetime.date, was {type(day).__name__} {day!r}")
        days = self._days()
        path = days.get(day)
        if path is None:
            recorded = ", ".join(d.isoformat() for d in sorted(days)) or "none"
            raise FeedError(
                f"没有该日的行情录制 no recording for {day} in {self._path} (recorded: {recorded})"
            )
        return path


def record(source: QuoteSource, day: date, path: Path | str) -> int:
    """Write `source`'s `day` to `path` in the replay format; returns the number of snapshots.

    The file appears only when complete (written beside it, then renamed), so an error leaves
    any earlier file untouched. A `.gz` path is gzip-compressed, byte-identical across runs.
    Times are stored to the millisecond.
    """
    path = Path(path)
    if not path.name.endswith(RECORDING_SUFFIXES):
        raise FeedError(f"a recording's name ends in .jsonl or .jsonl.gz, was {path.name}")
    infos = source.instruments(day)
    known: set[str] = set()
    for info in infos:
        if info.trading_day != day:
            raise FeedError(f"{info.code}: the source describes {info.trading_day}, not {day}")
        if info.code in known:
            raise FeedError(f"the source lists {info.code} twice for {day}")
        known.add(info.code)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    count = 0
    try:
        with _create(partial, compressed=path.name.endswith(".gz")) as out:
            out.write(format_header(day, infos) + "\n")
            previous: datetime | None = None
            for _, quotes in source.batches(day):
                for quote in quotes:
                    _check_recordable(quote, day, known, previous)
                    previous = quote.ts
                    out.write(format_quote(quote) + "\n")
                    count += 1
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


def _check_recordable(quote: Quote, day: date, known: set[str], previous: datetime | None) -> None:
    if quote.code not in known:
        raise FeedError(
            f"the source sent a quote for {quote.code}, which its instruments() for {day} does not list"
        )
    if quote.ts.tzinfo is None:
        raise FeedError(f"{quote.code}: quote time must be timezone-aware, was {quote.ts}")
    if previous is not None and quote.ts < previous:
        raise FeedError(f"{quote.code}: quote times must not go backwards, was {quote.ts} after {previous}")


# ---------------------------------------------------------------------- reading files
def _recordings(folder: Path) -> Iterator[Path]:
    for path in folder.iterdir():
        if path.is_file() and path.name.endswith(RECORDING_SUFFIXES):
            yield path


def _open(path: Path) -> IO[bytes]:
    try:
        if path.name.endswith(".gz"):
            return gzip.open(path, "rb")
        return path.open("rb")
    except OSError as error:
        raise FeedError(f"{path}: cannot open the recording ({error.strerror or error})") from None


def _create(path: Path, *, compressed: bool) -> IO[str]:
    if compressed:
        raw = path.open("wb")
        # mtime=0 and no file name in the gzip header: the same day compresses to the same bytes.
        compressed = gzip.GzipFile(filename="", mode="wb", compresslevel=6, fileobj=raw, mtime=0)
        return _ClosingText(compressed, raw)
    return path.open("w", encoding="utf-8", newline="\n")


class _ClosingText(io.TextIOWrapper):
    """A text stream over a GzipFile that also closes the underlying file."""

    def __init__(self, compressed: gzip.GzipFile, raw: IO[bytes]) -> None:
        super().__init__(compressed, encoding="utf-8", newline="\n")
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def _lines(path: Path, stream: IO[bytes]) -> Iterator[tuple[int, str]]:
    """(line number, text) of the non-blank lines, decoded one by one so that an error names its
    line; a UTF-8 byte-order mark (as Windows editors write) is allowed on line 1."""
    number = 0
    try:
        for number, raw in enumerate(stream, 1):
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            if text.strip():
                yield number, text
    except UnicodeDecodeError as error:
        raise FeedError(f"{path}, line {number}: unreadable, not UTF-8 text ({error.reason})") from None
    except (OSError, EOFError) as error:
        raise FeedError(f"{path}, line {number + 1}: unreadable ({error})") from None


def _read_header(path: Path, stream: IO[bytes]) -> tuple[date, dict[str, InstrumentInfo]]:
    for number, text in _lines(path, stream):
        return parse_header(_load(path, number, text), f"{path}, line {number}")
    raise FeedError(f"{path}: the recording is empty (no instruments header)")


def _read_quotes(path: Path) -> Iterator[tuple[int, Quote]]:
    """(epoch ms, Quote) for every snapshot line, checked; FeedError at the first problem."""
    with _open(path) as stream:
        lines = _lines(path, stream)
        header = next(lines, None)
        if header is None:
            raise FeedError(f"{path}: the recording is empty (no instruments header)")
        number, text = header
        day, infos = parse_header(_load(path, number, text), f"{path}, line {number}")
        parser = QuoteParser(day, infos)
        previous: tuple[int, datetime] | None = None
        for number, text in lines:
            where = f"{path}, line {number}"
            ms, quote = parser.parse(_load(path, number, text), where)
            if previous is not None and ms < previous[0]:
                raise FeedError(
                    f"{where}: time goes backwards, {quote.ts:%H:%M:%S}.{ms % 1000:03d} after "
                    f"{previous[1]:%H:%M:%S}.{previous[0] % 1000:03d}, was {ms}"
                )
            previous = (ms, quote.ts)
            yield ms, quote


def _grouped(path: Path) -> Iterator[tuple[datetime, list[Quote]]]:
    batch: list[Quote] = []
    current = -1
    for ms, quote in _read_quotes(path):
        if ms != current and batch:
            yield batch[0].ts, batch
            batch = []
        current = ms
        batch.append(quote)
    if batch:
        yield batch[0].ts, batch


def _load(path: Path, number: int, text: str) -> object:
    try:
        return load_line(text)
    except ValueError as error:
        shown = text.strip()
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise FeedError(f"{path}, line {number}: bad JSON ({error}), was {shown!r}") from None
