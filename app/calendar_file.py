"""The user's trading-calendar file: `<data folder>/calendar.toml` extends the shipped closures.

Read once at start (bootstrap) and by the doctor. A missing file is normal (the shipped calendar
is used); a file that is there but wrong stops the start with a message that names the file and
the entry, because trading on a calendar the user believes they extended is worse than not starting.
"""

from __future__ import annotations

from pathlib import Path

from app.domain.calendar import (
    DEFAULT_CALENDAR,
    USER_FILE,
    CalendarDataError,
    TradingCalendar,
    parse_calendar_data,
)

MAX_CALENDAR_BYTES = 1024 * 1024  # a calendar is a few kilobytes
_BOM = b"\xef\xbb\xbf"


class CalendarFileError(CalendarDataError):
    """The user's calendar file cannot be read or used."""


def user_calendar_path(data_dir: Path) -> Path:
    return data_dir / USER_FILE


def load_calendar(data_dir: Path | None, base: TradingCalendar = DEFAULT_CALENDAR) -> TradingCalendar:
    """The shipped calendar extended by `<data_dir>/calendar.toml` if there is one."""
    if data_dir is None:
        return base
    path = user_calendar_path(data_dir)
    try:
        if not path.exists():
            return base
        if path.stat().st_size > MAX_CALENDAR_BYTES:
            raise CalendarFileError(f"{path}: 文件太大 (too large for a calendar file, over 1 MB)")
        data = path.read_bytes()
    except OSError as exc:
        raise CalendarFileError(
            f"无法读取交易日历文件 {path} (cannot read it): {exc.strerror or exc}"
        ) from None
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        try:
            data.decode("gbk")
            looks = "，看起来是 GBK/ANSI 编码 (it looks like GBK, the Chinese Windows 'ANSI' encoding)"
        except UnicodeDecodeError:
            looks = ""
        raise CalendarFileError(
            f"{path} 不是 UTF-8 编码 (is not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}){looks}；"
            f"请另存为 UTF-8 (save it as UTF-8)"
        ) from None
    try:
        return base.extended(parse_calendar_data(text, source=str(path)), source=str(path))
    except CalendarFileError:
        raise
    except CalendarDataError as exc:
        raise CalendarFileError(str(exc)) from None
