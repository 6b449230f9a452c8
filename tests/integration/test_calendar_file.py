"""The user's calendar.toml in the data folder: read at start and by the doctor; a day the
calendar does not know is said out loud (doctor, log, alert) when a trading day starts on it."""

import logging
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from app.bootstrap import build_sim_setup
from app.calendar_file import CalendarFileError, load_calendar, user_calendar_path
from app.config import load_settings
from app.core.messages import AlertRaised, StartDay
from app.doctor import Status, check_calendar, run_doctor
from app.domain.calendar import DEFAULT_CALENDAR
from app.feeds import InstrumentSpec

USER_2027 = """# made-up 2027 closures for the test
known_until = 2027-12-31
closed = [2027-01-01, "2027-02-08..2027-02-12"]
"""


def write(data_dir: Path, data: bytes) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = user_calendar_path(data_dir)
    path.write_bytes(data)
    return path


def test_no_user_file_gives_the_shipped_calendar(tmp_path: Path) -> None:
    assert load_calendar(tmp_path) is DEFAULT_CALENDAR
    assert load_calendar(None) is DEFAULT_CALENDAR


def test_the_user_file_extends_the_shipped_calendar(tmp_path: Path) -> None:
    write(tmp_path, USER_2027.encode("utf-8"))
    calendar = load_calendar(tmp_path)
    assert calendar.known_until == date(2027, 12, 31)
    assert calendar.is_trading_day(date(2027, 1, 1)) is False
    assert calendar.is_trading_day(date(2026, 2, 16)) is False


def test_a_user_file_saved_by_notepad_with_a_bom_is_accepted(tmp_path: Path) -> None:
    write(tmp_path, b"\xef\xbb\xbf" + USER_2027.encode("utf-8"))
    assert load_calendar(tmp_path).is_trading_day(date(2027, 2, 8)) is False


def test_a_gbk_user_file_says_save_as_utf8(tmp_path: Path) -> None:
    path = write(tmp_path, ("# 二〇二七年休市安排\n" + USER_2027).encode("gbk"))
    with pytest.raises(CalendarFileError) as caught:
        load_calendar(tmp_path)
    message = str(caught.value)
    assert str(path) in message and "not UTF-8" in message and "GBK" in message and "UTF-8" in message


def test_a_bad_date_names_the_file_and_the_entry(tmp_path: Path) -> None:
    path = write(tmp_path, b'known_until = 2027-12-31\nclosed = [2027-01-01, "2027-02-31"]\n')
    with pytest.raises(CalendarFileError, match="2027-02-31") as caught:
        load_calendar(tmp_path)
    assert str(path) in str(caught.value)


def test_a_closed_day_outside_the_declared_range_is_refused(tmp_path: Path) -> None:
    write(tmp_path, b"known_until = 2027-03-31\nclosed = [2027-01-01, 2027-10-01]\n")
    with pytest.raises(CalendarFileError, match="outside the declared range"):
        load_calendar(tmp_path)


def test_a_huge_user_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path, b"#" * (1024 * 1024 + 1))
    with pytest.raises(CalendarFileError, match="too large"):
        load_calendar(tmp_path)


# --- the doctor ---------------------------------------------------------------------------------


def test_doctor_warns_when_the_next_trading_days_are_beyond_the_calendar() -> None:
    check = check_calendar(load_settings(), today=date(2026, 12, 2))

    assert check.status is Status.WARN
    assert "2026-12-31" in check.detail and "calendar.toml" in check.detail


def test_doctor_warns_loudly_when_today_is_unknown() -> None:
    check = check_calendar(load_settings(), today=date(2027, 1, 1))
    assert check.status is Status.WARN and "today is beyond the trading calendar" in check.detail


def test_doctor_is_satisfied_once_the_user_file_covers_next_year(isolated_dirs: dict[str, Path]) -> None:
    write(isolated_dirs["data_dir"], USER_2027.encode("utf-8"))
    check = check_calendar(load_settings(), today=date(2026, 12, 2))
    assert check.status is Status.OK and "2027-12-31" in check.detail


def test_doctor_fails_on_a_broken_user_file(isolated_dirs: dict[str, Path]) -> None:
    write(isolated_dirs["data_dir"], b"known_until = 2027-12-31\nclosed = [2027-01-02]\n")  # a Saturday
    check = check_calendar(load_settings(), today=date(2026, 12, 2))
    assert check.status is Status.FAIL and "weekends are always closed" in check.detail


def test_the_whole_doctor_report_has_the_calendar_check() -> None:
    report = run_doctor(
        probe=lambda package_dir: dict.fromkeys(("xtconstant", "xttype", "xtpythonclient"), "")
    )
    assert "trading calendar" in [check.name for check in report.checks]


# --- the start of a trading day ------------------------------------------------------------------


def start_day(tmp_path: Path, day: date, caplog: pytest.LogCaptureFixture) -> list[AlertRaised]:
    settings = load_settings()
    setup = build_sim_setup(
        settings, day=day, instruments=[InstrumentSpec("600000.SH", prev_close=D("10.00"))],
        data_dir=tmp_path / "day", seed=1,
    )  # fmt: skip
    try:
        setup.broker.connect()
        setup.engine.start()
        with caplog.at_level(logging.WARNING, logger="app.core.engine"):
            setup.engine.post(StartDay(day, ()))
            setup.engine.wait_idle()
        return [a for a in setup.engine.call(lambda e: list(e.alerts)) if a.category == "calendar"]
    finally:
        setup.close()


def test_a_trading_day_on_a_date_the_calendar_does_not_know_raises_an_alert_and_logs_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [alert] = start_day(tmp_path, date(2027, 1, 1), caplog)  # New Year's Day 2027, not shipped

    assert alert.level == "warning"
    assert "does not know 2027-01-01" in alert.message
    assert "does not know 2027-01-01" in caplog.text


def test_a_trading_day_on_a_date_the_calendar_says_is_closed_raises_an_error_alert(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    [alert] = start_day(tmp_path, date(2026, 10, 1), caplog)
    assert alert.level == "error" and "closed on 2026-10-01" in alert.message


def test_a_known_trading_day_raises_no_calendar_alert(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert start_day(tmp_path, date(2026, 12, 2), caplog) == []


def test_the_user_file_is_used_at_start_so_a_covered_day_is_quiet(
    tmp_path: Path, isolated_dirs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    write(isolated_dirs["data_dir"], USER_2027.encode("utf-8"))
    assert start_day(tmp_path, date(2027, 1, 4), caplog) == []
    [alert] = start_day(tmp_path / "again", date(2027, 1, 1), caplog)
    assert alert.level == "error"  # now known: closed


def test_a_broken_user_file_stops_the_start_with_its_reason(
    tmp_path: Path, isolated_dirs: dict[str, Path]
) -> None:
    write(isolated_dirs["data_dir"], b"known_until = 2027-12-31\n")
    with pytest.raises(CalendarFileError, match="lists none of its closed days"):
        build_sim_setup(load_settings(), day=date(2026, 12, 2), instruments=[], data_dir=tmp_path / "day")
