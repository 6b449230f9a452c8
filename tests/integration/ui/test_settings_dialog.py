"""Settings and the first-run wizard: secrets go to the keyring (the in-memory one of the tests), never
to the settings file; the file is checked before it is replaced; the wizard leads to a working
simulated setup."""

from __future__ import annotations

from datetime import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from PySide6.QtCore import QTime
from PySide6.QtWidgets import QWizard

from app.bootstrap import SimSetup
from app.config import SettingsError, load_settings
from app.secrets import SERVICE_NAME, SecretStore
from app.ui.settings_dialog import FirstRunWizard, SettingsDialog, needs_first_run, update_settings_file
from tests.helpers.engine_day import make_setup, open_day
from tests.helpers.memory_keyring import MemoryKeyring
from tests.helpers.ui_day import save_screenshot

ACCESS = "AK-7f3e9a1c-4d2b"
SECRET = "SK-0b8c6d5e4f3a2b1c-very-secret"
ACCOUNT = "8881234567"
WEBHOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123"


@pytest.fixture
def config_file(isolated_dirs: dict[str, Path]) -> Path:
    return isolated_dirs["config_file"]


def dialog_for(qtbot, config_file: Path) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(load_settings(path=config_file), config_file, SecretStore())
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: not dialog.busy)
    return dialog


def test_secrets_typed_in_settings_go_to_the_keyring_not_the_file(
    qtbot, config_file: Path, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    dialog = dialog_for(qtbot, config_file)
    dialog.show()
    assert dialog.secret_edits["bigquant.access_key"].placeholderText() == "未设置"
    # Act: type the keys, the QMT account, a webhook, and ordinary settings
    dialog.secret_edits["bigquant.access_key"].setText(ACCESS)
    dialog.secret_edits["bigquant.secret_key"].setText(SECRET)
    dialog.secret_edits["qmt.account_id"].setText(ACCOUNT)
    dialog.secret_edits["webhook.wecom"].setText(WEBHOOK)
    dialog.strategy_ids.setText("alpha_01, beta-2")
    dialog.userdata_path.setText(r"C:\国金QMT交易端\userdata_mini")
    dialog.time_edits["pre_open_fetch"].setTime(QTime(8, 40))
    dialog.channel_boxes["wecom"].setChecked(True)
    for tab in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(tab)
        save_screenshot(dialog, f"settings_dialog_{tab}", tmp_path / "screenshots")
    with qtbot.waitSignal(dialog.settings_saved, timeout=10_000) as saved:
        dialog.buttons.accepted.emit()
    # Assert: the keyring has the secrets
    stored = memory_keyring.passwords
    assert stored[(SERVICE_NAME, "bigquant.access_key")] == ACCESS
    assert stored[(SERVICE_NAME, "bigquant.secret_key")] == SECRET
    assert stored[(SERVICE_NAME, "qmt.account_id")] == ACCOUNT
    assert stored[(SERVICE_NAME, "webhook.wecom")] == WEBHOOK
    # ...the file has none of them, but has the rest
    text = config_file.read_text(encoding="utf-8")
    for value in (ACCESS, SECRET, ACCOUNT, WEBHOOK, "abc-123"):
        assert value not in text
    settings = load_settings(path=config_file)
    assert saved.args[0] == settings
    assert settings.bigquant.strategy_ids == ("alpha_01", "beta-2")
    assert settings.qmt.userdata_path == r"C:\国金QMT交易端\userdata_mini"
    assert settings.schedule.pre_open_fetch == time(8, 40)
    assert settings.alerts.channels == ("wecom",)
    # ...and the dialog does not keep them
    assert all(not e.text() for e in dialog.secret_edits.values())
    # a second dialog shows them as set, without their values
    again = dialog_for(qtbot, config_file)
    assert again.secret_edits["bigquant.secret_key"].placeholderText() == "已设置，留空则不变"
    assert again.secret_edits["bigquant.secret_key"].text() == ""


def test_an_empty_secret_field_keeps_the_stored_secret(
    qtbot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:  # type: ignore[no-untyped-def]
    SecretStore().set("bigquant.secret_key", SECRET)
    dialog = dialog_for(qtbot, config_file)
    with qtbot.waitSignal(dialog.settings_saved, timeout=10_000):
        dialog.save()
    assert memory_keyring.passwords[(SERVICE_NAME, "bigquant.secret_key")] == SECRET


def test_a_bad_setting_is_refused_in_words_and_the_file_is_unchanged(
    qtbot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:  # type: ignore[no-untyped-def]
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text('[bigquant]\nstrategy_ids = ["alpha_01"]\n', encoding="utf-8")
    before = config_file.read_bytes()
    dialog = dialog_for(qtbot, config_file)
    dialog.base_url.setText("ftp://example.com")
    dialog.secret_edits["bigquant.access_key"].setText(ACCESS)
    dialog.show()
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.busy)
    assert dialog.isVisible()  # not closed
    assert "未保存" in dialog.message.text() and "bigquant.base_url" in dialog.message.text()
    assert config_file.read_bytes() == before
    assert not list(config_file.parent.glob("*.tmp"))
    assert (SERVICE_NAME, "bigquant.access_key") not in memory_keyring.passwords  # nothing half-saved


def test_update_settings_file_refuses_a_secret_in_the_file(config_file: Path) -> None:
    with pytest.raises(SettingsError, match="secret"):
        update_settings_file(config_file, {"bigquant": {"secret_key": SECRET}})
    assert not config_file.exists()


def test_first_run_wizard_leads_to_a_working_simulated_setup(
    qtbot, config_file: Path, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    assert needs_first_run(load_settings(path=config_file))
    wizard = FirstRunWizard(config_file, SecretStore())
    qtbot.addWidget(wizard)
    wizard.show()
    save_screenshot(wizard, "first_run_welcome", tmp_path / "screenshots")
    wizard.next()
    wizard.account_id.setText("MY_SIM")
    wizard.initial_cash.setText("500000")
    wizard.next()
    wizard.access_key.setText(ACCESS)
    wizard.next()
    assert "MY_SIM" in wizard.summary.text() and "500000" in wizard.summary.text()
    save_screenshot(wizard, "first_run_done", tmp_path / "screenshots")
    with qtbot.waitSignal(wizard.setup_finished, timeout=10_000):
        wizard.button(QWizard.WizardButton.FinishButton).click()
    settings = load_settings(path=config_file)
    assert not needs_first_run(settings)
    assert settings.general.mode == "sim" and settings.account.account_id == "MY_SIM"
    assert ACCESS not in config_file.read_text(encoding="utf-8")
    assert memory_keyring.passwords[(SERVICE_NAME, "bigquant.access_key")] == ACCESS
    # the settings it wrote open a simulated day: the account starts with the cash typed
    setup: SimSetup = make_setup(tmp_path / "sim", settings=settings, positions=())
    try:
        open_day(setup)
        assert setup.engine.call(lambda e: e.oms.cash.cash) == D("500000")
    finally:
        setup.close()


def test_first_run_wizard_refuses_bad_cash_in_words(qtbot, config_file: Path) -> None:  # type: ignore[no-untyped-def]
    wizard = FirstRunWizard(config_file, SecretStore())
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    wizard.initial_cash.setText("-5")
    wizard.next()
    wizard.next()
    wizard.button(QWizard.WizardButton.FinishButton).click()
    qtbot.waitUntil(lambda: not wizard.busy)
    assert wizard.isVisible()
    assert "account.initial_cash" in wizard.message.text()
    assert not config_file.exists()


def test_the_dialogs_save_keeps_the_comments_of_the_users_file(
    qtbot, config_file: Path, memory_keyring: MemoryKeyring
) -> None:  # type: ignore[no-untyped-def]
    config_file.parent.mkdir(parents=True, exist_ok=True)
    mine = (
        '# 我的设置 (my notes)\n[bigquant]\n# the live strategy\nstrategy_ids = ["alpha_01"]  # since May\n'
    )
    config_file.write_bytes(b"\xef\xbb\xbf" + mine.encode("utf-8"))
    dialog = dialog_for(qtbot, config_file)
    dialog.strategy_ids.setText("alpha_01, beta-2")
    with qtbot.waitSignal(dialog.settings_saved, timeout=10_000):
        dialog.save()
    text = config_file.read_bytes().decode("utf-8-sig")
    assert text.startswith(mine.replace('["alpha_01"]', '["alpha_01", "beta-2"]'))
    assert load_settings(path=config_file).bigquant.strategy_ids == ("alpha_01", "beta-2")
