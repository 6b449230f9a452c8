"""The English catalogue (Qt's translation system): the committed .ts and .qm are up to date with the
sources (every text the window marks has English, compiled); in English mode no Chinese text is left
on the window mid-day, in the settings dialog or in the first-run wizard (but the market's own data:
instrument and strategy names, the core's bilingual messages); `general.language` picks it at start;
the settings dialog offers the choice and says it applies at the next start."""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PySide6.QtCore import Qt, QTranslator
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDockWidget,
    QGroupBox,
    QLabel,
    QLineEdit,
    QTabBar,
    QWidget,
    QWizard,
)

from app.config import SettingsError, load_settings
from app.secrets import SecretStore
from app.ui import catalogue, i18n
from app.ui.display import big_number_text
from app.ui.settings_dialog import LANGUAGES, FirstRunWizard, SettingsDialog
from app.ui.words import core_text, side_text, status_text, tr
from tests.helpers.data_files import REPO
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.window_day import CODES, STRATEGY, WindowSession, save_screenshot, window_session

pytestmark = pytest.mark.gui

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# The catalogue is installed once for all of a property's examples: they only read it.
ONE_CATALOGUE = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
# Shown as they are in any language: the market's names, a language's own name, an example path.
DATA = {c.name for c in CODES} | {STRATEGY.name, "中文", r"C:\国金QMT交易端\userdata_mini"}


# ---------------------------------------------------------------------------- the catalogue files


def test_committed_catalogue_is_up_to_date_with_the_sources(tmp_path: Path) -> None:
    ts = tmp_path / "tiller_en.ts"
    shutil.copyfile(catalogue.TS, ts)
    catalogue.update_ts(ts)  # what `python -m app.ui.catalogue` would make of the sources now
    missing = catalogue.missing(ts)
    assert missing == [], (
        f"{len(missing)} texts have no English: run `python dev.py translations`, write the English "
        "in app/resources/i18n/tiller_en.ts and run it again:\n  " + "\n  ".join(missing)
    )
    assert catalogue.messages(ts) == catalogue.messages(catalogue.TS), (
        "app/resources/i18n/tiller_en.ts is not up to date with the sources: run `python dev.py translations`"
    )
    qm = tmp_path / "tiller_en.qm"
    catalogue.release(ts, qm)
    assert qm.read_bytes() == catalogue.QM.read_bytes(), (
        "tiller_en.qm is stale: run `python dev.py translations`"
    )


def test_every_translation_is_english_with_the_same_placeholders() -> None:
    found = catalogue.messages()
    assert len(found) > 250
    wrong = []
    for context, source, _, english, _ in found:
        if CJK.search(english):
            wrong.append(f"{context}: {source!r} -> {english!r} (Chinese left)")
        if sorted(re.findall(r"\{\w*\}", source)) != sorted(re.findall(r"\{\w*\}", english)):
            wrong.append(f"{context}: {source!r} -> {english!r} (placeholders differ)")
        if bool(re.search(r"[:：]\s*$", source)) != english.endswith(": "):
            wrong.append(f"{context}: {source!r} -> {english!r} (text follows it)")
    assert wrong == []


def test_the_catalogue_ships_in_the_wheel_and_the_windows_bundle() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert "i18n/*.qm" in project["tool"]["setuptools"]["package-data"]["app.resources"]
    spec = (REPO / "installer" / "tiller.spec").read_text(encoding="utf-8")
    assert '"resources/**/*"' in spec  # collect_data_files("app", ...): the .qm among them
    assert i18n.catalogue_path("en") == catalogue.QM


def test_the_scheduled_jobs_names_the_window_is_given_are_marked_for_the_catalogue() -> None:
    from app import bootstrap
    from app.ui.main_window import JOB_NAMES

    assert set(bootstrap._JOB_WORDS.values()) <= set(JOB_NAMES)


def test_a_text_not_in_the_catalogue_is_listed_by_the_check(tmp_path: Path) -> None:
    (tmp_path / "panel.py").write_text(
        "from app.ui.words import tr\n\nLABEL = tr('全新的文字')\n", encoding="utf-8"
    )
    ts = tmp_path / "tiller_en.ts"
    shutil.copyfile(catalogue.TS, ts)
    catalogue.update_ts(ts, [*catalogue.sources(), tmp_path / "panel.py"])
    assert catalogue.missing(ts) == ["(no context): 全新的文字"]


# ---------------------------------------------------------------------------- English at start


@pytest.fixture
def english(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    installed = i18n.install_translator(qapp, "en")
    assert installed, "the English catalogue did not load"
    try:
        yield
    finally:
        i18n.remove_translators(qapp, installed)


def test_english_catalogue_translates_the_traders_words(english: None) -> None:
    assert [tr(t) for t in ("暂停买入", "全部暂停", "恢复", "可卖", "委托", "成交", "持仓")] == [
        "Pause buys", "Pause all", "Resume", "Sellable", "Orders", "Trades", "Positions",
    ]  # fmt: skip
    assert (side_text("buy"), side_text("sell"), status_text("partially_filled")) == (
        "Buy",
        "Sell",
        "Part filled",
    )
    assert big_number_text(123_456_789) == "123.46M" and big_number_text(54_321) == "5.43K"
    assert big_number_text(9_999) == "9999"


def test_core_messages_show_their_english_once_translated(english: None) -> None:
    assert core_text("已批准 (approved by user)；已交执行 (handed to execution: twap)") == (
        "approved by user; handed to execution: twap"
    )
    assert core_text("可卖数量不足 (not enough sellable shares): 600000.SH 100, was 0") == (
        "not enough sellable shares: 600000.SH 100, was 0"
    )
    assert (
        core_text("600000.SH 浦发银行: 涨停不买入 (no buys at limit up)")
        == "600000.SH 浦发银行: no buys at limit up"
    )
    assert core_text("交易状态 active → halted") == "交易状态 active → halted"  # no English given: as it is
    assert core_text("中文 (仅中文)") == "中文 (仅中文)"
    assert core_text("") == ""


phrase = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=8)
english_words = st.from_regex(r"[a-z][a-z ]{0,20}[a-z]", fullmatch=True)


@ONE_CATALOGUE
@given(
    parts=st.lists(st.tuples(phrase, english_words), min_size=1, max_size=4),
    sep=st.sampled_from(["；", "; ", "，", ", "]),
)
def test_core_text_leaves_no_chinese_where_the_english_is_given(english: None, parts, sep) -> None:  # type: ignore[no-untyped-def]
    message = sep.join(f"{zh} ({en})" for zh, en in parts)
    shown = core_text(message)
    assert not CJK.search(shown)
    assert [w for w in re.split(r"[;,] ?", shown)] == [en for _, en in parts]


@ONE_CATALOGUE
@given(st.text(max_size=60))
def test_core_text_never_adds_chinese(english: None, text: str) -> None:
    assert len(CJK.findall(core_text(text))) <= len(CJK.findall(text))


@given(st.text(max_size=60))
def test_core_text_is_the_identity_in_chinese(qapp, text: str) -> None:  # type: ignore[no-untyped-def]
    assert core_text(text) == text  # no catalogue installed: the source language


def test_chinese_is_the_source_and_the_default(qapp) -> None:  # type: ignore[no-untyped-def]
    installed = i18n.install_translator(qapp, "zh_CN")  # Qt's own texts only (Yes/No), when Qt has them
    try:
        assert (tr("暂停买入"), big_number_text(123_456_789), big_number_text(54_321)) == (
            "暂停买入", "1.23亿", "5.43万",
        )  # fmt: skip
    finally:
        i18n.remove_translators(qapp, installed)


def test_a_missing_catalogue_leaves_the_window_in_chinese_and_says_so(qapp, monkeypatch, caplog) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(i18n.CATALOGUES, "en", "tiller_gone.qm")
    assert i18n.install_translator(qapp, "en") == []
    assert tr("暂停买入") == "暂停买入"
    assert "stays in Chinese" in caplog.text


def test_a_corrupt_catalogue_leaves_the_window_in_chinese(qapp, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.qm"
    bad.write_bytes(b"\x3c\xb8\x64\x18" + b"\xff" * 64)
    monkeypatch.setattr(i18n, "catalogue_path", lambda language: bad)
    assert i18n.install_translator(qapp, "en") == []
    assert tr("暂停买入") == "暂停买入"


@pytest.mark.parametrize(
    ("written", "read"),
    [("en", "en"), (" EN ", "en"), ("zh", "zh_CN"), ("zh_CN", "zh_CN"), ("zh-CN", "zh_CN")],
)
def test_general_language_setting(tmp_path: Path, written: str, read: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[general]\nlanguage = '{written}'\n", encoding="utf-8")
    assert load_settings(env={}, path=path).general.language == read


@pytest.mark.parametrize("bad", ["fr", "", "english", "1"])
def test_general_language_refuses_what_it_does_not_know(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[general]\nlanguage = '{bad}'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"general\.language"):
        load_settings(env={}, path=path)


def test_language_defaults_to_chinese(tmp_path: Path) -> None:
    assert load_settings(env={}, path=tmp_path / "none.toml").general.language == "zh_CN"


# ---------------------------------------------------------------------------- no Chinese left on screen


def _model_texts(view: QAbstractItemView) -> Iterator[str]:
    model = view.model()
    if model is None:
        return
    for c in range(model.columnCount()):
        yield str(model.headerData(c, Qt.Orientation.Horizontal) or "")
    for r in range(min(model.rowCount(), 200)):
        for c in range(model.columnCount()):
            value = model.data(model.index(r, c))
            if isinstance(value, str):
                yield value


def _texts(root: QWidget) -> Iterator[tuple[str, str]]:
    """(where, text) for every text a user can read on `root` and its children."""
    for w in [root, *root.findChildren(QWidget)]:
        where = f"{type(w).__name__} {w.objectName()}".strip()
        yield where, w.windowTitle() if (w is root or isinstance(w, QDockWidget)) else ""
        yield where, w.toolTip()
        if isinstance(w, QLabel):
            yield where, re.sub(r"<[^>]+>", "", w.text())
        elif isinstance(w, QAbstractButton | QGroupBox):
            yield where, w.text() if isinstance(w, QAbstractButton) else w.title()
        elif isinstance(w, QLineEdit):
            yield where, w.placeholderText()
        elif isinstance(w, QComboBox):
            yield from ((where, w.itemText(i)) for i in range(w.count()))
        elif isinstance(w, QTabBar):
            yield from ((where, w.tabText(i)) for i in range(w.count()))
        elif isinstance(w, QAbstractItemView):
            yield from ((where, t) for t in _model_texts(w))
        for action in w.actions():
            yield f"{where} action", action.text()
            yield f"{where} action", action.toolTip()


def _chinese_left(root: QWidget) -> list[str]:
    left = []
    for where, text in _texts(root):
        if not text or not CJK.search(text):
            continue
        rest = text
        for name in sorted(DATA, key=len, reverse=True):
            rest = rest.replace(name, "")
        if CJK.search(rest):
            left.append(f"{where}: {text!r}")
    return sorted(set(left))


@pytest.fixture
def english_day(english: None, tmp_path: Path, qtbot) -> Iterator[WindowSession]:  # type: ignore[no-untyped-def]
    session = window_session(tmp_path / "day", qtbot, approve=True, market=True)
    try:
        yield session
    finally:
        session.close()


def test_the_whole_window_mid_day_in_english_has_no_chinese_left(
    english_day: WindowSession, tmp_path: Path
) -> None:
    s = english_day
    s.at(10, 30)
    s.terminal.pause_buys()
    s.terminal.alert("warning", "test", "测试告警 (a test alert): 600000.SH 浦发银行")
    s.catch_up()
    alerts = s.panel("alerts").table_model
    assert alerts.data(alerts.index(alerts.rowCount() - 1, 3)) == "a test alert: 600000.SH 浦发银行"
    s.qtbot.waitUntil(lambda: s.panel("orders").table_model.rowCount() > 0, timeout=30000)
    assert s.window.windowTitle().startswith("Tiller Trading Terminal")
    assert [
        d.windowTitle()
        for d in s.window.findChildren(QDockWidget)
        if d.windowTitle() in {"Positions", "Orders", "Trades"}
    ]
    save_screenshot(s.window, "window_english_midday", tmp_path / "screenshots")
    for name in ("account", "orders", "trades", "alerts", "strategies", "charts"):
        save_screenshot(s.panel(name), f"panel_english_{name}", tmp_path / "screenshots")
    assert _chinese_left(s.window) == []


def test_the_check_sees_chinese_left_on_a_widget(english: None, qtbot) -> None:  # type: ignore[no-untyped-def]
    box = QGroupBox()
    qtbot.addWidget(box)
    QLabel("未翻译的文字", box)
    QLabel(f"{CODES[0].name} 600000.SH", box)  # data: allowed
    assert _chinese_left(box) == ["QLabel: '未翻译的文字'"]


def test_settings_and_first_run_in_english_and_the_language_choice(
    english: None, qtbot, isolated_dirs: dict[str, Path], memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    config_file = isolated_dirs["config_file"]
    dialog = SettingsDialog(load_settings(path=config_file), config_file, SecretStore())
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.busy)
    dialog.show()
    assert _chinese_left(dialog) == []
    assert [dialog.language.itemText(i) for i in range(dialog.language.count())] == [n for _, n in LANGUAGES]
    assert dialog.language.currentData() == "zh_CN"
    assert "next time" in dialog.language_note.text()
    for tab in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(tab)
        save_screenshot(dialog, f"settings_english_{tab}", tmp_path / "screenshots")
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    with qtbot.waitSignal(dialog.settings_saved, timeout=10_000) as saved:
        dialog.buttons.accepted.emit()
    assert saved.args[0].general.language == "en"
    assert load_settings(path=config_file).general.language == "en"

    wizard = FirstRunWizard(config_file, SecretStore())
    qtbot.addWidget(wizard)
    wizard.show()
    seen = []
    for _ in range(4):
        seen += _chinese_left(wizard)
        wizard.next()
    assert seen == []
    assert wizard.buttonText(QWizard.WizardButton.FinishButton) == "Finish"


def test_run_gui_installs_the_catalogue_of_the_setting(monkeypatch, qapp) -> None:  # type: ignore[no-untyped-def]
    """gui.run_gui installs the translator before building the window: the session's build (stopped
    there: its tests are elsewhere) already reads English."""
    from app import gui

    seen: dict[str, str] = {}

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen["title"] = tr("Tiller 交易终端")
        raise Stop

    monkeypatch.setattr("app.bootstrap.build_window_session", stop)
    monkeypatch.setattr("app.bootstrap.window_day", lambda settings, today: today)
    monkeypatch.setattr(gui, "install_crash_handler", lambda *a, **k: None)
    base = load_settings(env={}, path=Path("/nonexistent/none.toml"))
    settings = dataclasses.replace(base, general=dataclasses.replace(base.general, language="en"))
    before = set(qapp.findChildren(QTranslator))
    try:
        # the build fails on the builder thread: said in words (no dialog in a scripted run), exit 1/70
        code = gui.run_gui(settings, gui.GuiOptions(exit_when_done=True))
        assert code != 0
        assert seen["title"] == "Tiller Trading Terminal"
    finally:
        for translator in set(qapp.findChildren(QTranslator)) - before:
            qapp.removeTranslator(translator)
