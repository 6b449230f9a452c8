"""Settings and the first-run wizard.

Secrets (BigQuant keys, the QMT account, webhooks, the SMTP password) go to the OS keyring through
`app.secrets.SecretStore` and nowhere else; everything else goes to the settings file, validated by
`app.config.load_settings` before the file is replaced (atomically). A secret field left empty keeps
what the keyring holds. The keyring and the file are read and written off the GUI thread.

`SettingsDialog(settings, config_path, secrets)` edits BigQuant (keys, URL, strategies), QMT (mode,
userdata path, account, session), the schedule's times and the notifications; `settings_saved`
carries the new `Settings`. `FirstRunWizard(config_path, secrets)` leads a new user to a working
simulated setup (mode sim, an account id and starting cash, optionally BigQuant keys and
strategies); `setup_finished` carries the `Settings` it wrote. `needs_first_run(settings)` says
whether to show it (no settings file yet).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QT_TR_NOOP, QTime, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from app.config import ALERT_CHANNELS, Settings, SettingsError
from app.config.edit import update_settings_file
from app.secrets import SET_MARKER, UNAVAILABLE_MARKER, SecretsError, SecretStore
from app.ui.words import tr
from app.ui.workers import Background

# --------------------------------------------------------------------------- the settings file


def needs_first_run(settings: Settings) -> bool:
    return not settings.config_file_found


@dataclass(frozen=True, slots=True)
class SaveResult:
    settings: Settings
    secrets_stored: tuple[str, ...]


def save_all(
    path: Path, changes: Mapping[str, Mapping[str, Any]], secrets: Mapping[str, str], store: SecretStore
) -> SaveResult:
    """Check and write the file, then store the secrets (only the non-empty ones). Off the GUI thread."""
    settings = update_settings_file(path, changes)
    stored = []
    for name, value in secrets.items():
        if value.strip():
            store.set(name, value)
            stored.append(name)
    return SaveResult(settings, tuple(stored))


# --------------------------------------------------------------------------- the dialog


def _secret_edit(parent: QWidget) -> QLineEdit:
    edit = QLineEdit(parent)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setPlaceholderText(tr("读取中…"))
    return edit


def _time_edit(value: time, parent: QWidget) -> QTimeEdit:
    edit = QTimeEdit(QTime(value.hour, value.minute), parent)
    edit.setDisplayFormat("HH:mm")
    return edit


SECRET_FIELDS = (
    "bigquant.access_key",
    "bigquant.secret_key",
    "qmt.account_id",
    "webhook.wecom",
    "webhook.dingtalk",
    "webhook.feishu",
    "smtp.password",
)

_SCHEDULE_LABELS = {
    "pre_open_fetch": QT_TR_NOOP("获取当日信号"),
    "approve_deadline": QT_TR_NOOP("自动确认计划"),
    "open_auction": QT_TR_NOOP("集合竞价下单"),
    "continuous": QT_TR_NOOP("连续竞价开始"),
    "close_auction": QT_TR_NOOP("收盘竞价下单"),
    "post_close": QT_TR_NOOP("盘后对账同步"),
    "backup": QT_TR_NOOP("数据库备份"),
}
LANGUAGES = (("zh_CN", "中文"), ("en", "English"))  # general.language: the choice and its own name
_LEVELS = {
    "info": QT_TR_NOOP("提示"),
    "warning": QT_TR_NOOP("警告"),
    "error": QT_TR_NOOP("错误"),
    "critical": QT_TR_NOOP("严重"),
}
_CHANNEL_NAMES = {
    "email": QT_TR_NOOP("邮件"),
    "wecom": QT_TR_NOOP("企业微信"),
    "dingtalk": QT_TR_NOOP("钉钉"),
    "feishu": QT_TR_NOOP("飞书"),
}


class SettingsDialog(QDialog):
    settings_saved = Signal(object)  # Settings

    def __init__(
        self,
        settings: Settings,
        config_path: Path,
        secrets: SecretStore | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("设置"))
        self._settings = settings
        self._path = config_path
        self._store = secrets or SecretStore()
        self._background = Background(self)
        self.secret_edits: dict[str, QLineEdit] = {}
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._bigquant_tab(), self.tr("BigQuant"))
        self.tabs.addTab(self._qmt_tab(), self.tr("交易账户 (QMT)"))
        self.tabs.addTab(self._schedule_tab(), self.tr("计划时间"))
        self.tabs.addTab(self._alerts_tab(), self.tr("通知"))
        self.tabs.addTab(self._interface_tab(), self.tr("界面"))
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.message.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(self.tr("保存"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("取消"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.resize(620, 480)
        self._background.run(self._store.status_markers, self._show_secret_status, self._secret_status_failed)

    @property
    def busy(self) -> bool:
        return self._background.pending > 0

    # ------------------------------------------------------------------ tabs
    def _bigquant_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        b = self._settings.bigquant
        for name, label in (("bigquant.access_key", "Access Key"), ("bigquant.secret_key", "Secret Key")):
            self.secret_edits[name] = _secret_edit(page)
            form.addRow(self.tr(label), self.secret_edits[name])
        self.base_url = QLineEdit(b.base_url, page)
        form.addRow(self.tr("接口地址"), self.base_url)
        self.strategy_ids = QLineEdit(",".join(b.strategy_ids), page)
        self.strategy_ids.setPlaceholderText(self.tr("策略编号，以逗号分隔"))
        form.addRow(self.tr("跟踪的策略"), self.strategy_ids)
        note = QLabel(self.tr("密钥只保存在系统密钥环中，不写入设置文件。"), page)
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _qmt_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.mode = QComboBox(page)
        self.mode.addItem(self.tr("模拟交易 (内置模拟券商)"), "sim")
        self.mode.addItem(self.tr("实盘 (QMT)"), "live")
        self.mode.setCurrentIndex(0 if self._settings.general.mode == "sim" else 1)
        form.addRow(self.tr("交易模式"), self.mode)
        self.userdata_path = QLineEdit(self._settings.qmt.userdata_path, page)
        self.userdata_path.setPlaceholderText(r"C:\国金QMT交易端\userdata_mini")
        browse = QPushButton(self.tr("浏览…"), page)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.userdata_path, 1)
        row.addWidget(browse)
        form.addRow(self.tr("QMT userdata_mini 路径"), row)
        self.secret_edits["qmt.account_id"] = _secret_edit(page)
        form.addRow(self.tr("资金账号"), self.secret_edits["qmt.account_id"])
        self.session_id = QSpinBox(page)
        self.session_id.setRange(0, 2**31 - 1)
        self.session_id.setValue(self._settings.qmt.session_id)
        self.session_id.setSpecialValueText(self.tr("自动"))
        form.addRow(self.tr("会话编号"), self.session_id)
        self.live_enabled = QCheckBox(self.tr("允许向真实账户下单 (每日仍需单独开启)"), page)
        self.live_enabled.setChecked(self._settings.qmt.live_trading_enabled)
        form.addRow(self.live_enabled)
        return page

    def _interface_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.language = QComboBox(page)
        for code, name in LANGUAGES:
            self.language.addItem(name, code)  # each language in its own words, never translated
        self.language.setCurrentIndex(max(0, self.language.findData(self._settings.general.language)))
        form.addRow(self.tr("界面语言"), self.language)
        self.language_note = QLabel(self.tr("界面语言在下次启动 Tiller 时生效。"), page)
        self.language_note.setWordWrap(True)
        form.addRow(self.language_note)
        return page

    def _schedule_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        s = self._settings.schedule
        self.time_edits: dict[str, QTimeEdit] = {}
        for key, label in _SCHEDULE_LABELS.items():
            self.time_edits[key] = _time_edit(getattr(s, key), page)
            form.addRow(tr(label), self.time_edits[key])
        self.monitor_every = QSpinBox(page)
        self.monitor_every.setRange(1, 60)
        self.monitor_every.setSuffix(self.tr(" 分钟"))
        self.monitor_every.setValue(s.monitor_every_min)
        form.addRow(self.tr("盘中监控间隔"), self.monitor_every)
        return page

    def _alerts_tab(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        a = self._settings.alerts
        self.channel_boxes: dict[str, QCheckBox] = {}
        row = QHBoxLayout()
        for channel in ALERT_CHANNELS:
            box = QCheckBox(tr(_CHANNEL_NAMES[channel]), page)
            box.setChecked(channel in a.channels)
            self.channel_boxes[channel] = box
            row.addWidget(box)
        form.addRow(self.tr("通知渠道"), row)
        self.min_level = QComboBox(page)
        for level, name in _LEVELS.items():
            self.min_level.addItem(tr(name), level)
        self.min_level.setCurrentIndex(list(_LEVELS).index(a.min_level))
        form.addRow(self.tr("最低通知级别"), self.min_level)
        for name, label in (
            ("webhook.wecom", QT_TR_NOOP("企业微信 Webhook")),
            ("webhook.dingtalk", QT_TR_NOOP("钉钉 Webhook")),
            ("webhook.feishu", QT_TR_NOOP("飞书 Webhook")),
        ):
            self.secret_edits[name] = _secret_edit(page)
            form.addRow(tr(label), self.secret_edits[name])
        self.smtp_host = QLineEdit(a.smtp_host, page)
        form.addRow(self.tr("SMTP 服务器"), self.smtp_host)
        self.smtp_port = QSpinBox(page)
        self.smtp_port.setRange(1, 65535)
        self.smtp_port.setValue(a.smtp_port)
        form.addRow(self.tr("SMTP 端口"), self.smtp_port)
        self.smtp_user = QLineEdit(a.smtp_user, page)
        form.addRow(self.tr("SMTP 用户"), self.smtp_user)
        self.secret_edits["smtp.password"] = _secret_edit(page)
        form.addRow(self.tr("SMTP 密码"), self.secret_edits["smtp.password"])
        self.email_from = QLineEdit(a.email_from, page)
        form.addRow(self.tr("发件人"), self.email_from)
        self.email_to = QLineEdit(a.email_to, page)
        self.email_to.setPlaceholderText(self.tr("多个地址以逗号分隔"))
        form.addRow(self.tr("收件人"), self.email_to)
        return page

    # ------------------------------------------------------------------ reading and saving
    def _show_secret_status(self, markers: Mapping[str, str]) -> None:
        for name, edit in self.secret_edits.items():
            marker = markers.get(name)
            if marker == SET_MARKER:
                edit.setPlaceholderText(self.tr("已设置，留空则不变"))
            elif marker == UNAVAILABLE_MARKER:
                edit.setPlaceholderText(self.tr("系统密钥环不可用"))
            else:
                edit.setPlaceholderText(self.tr("未设置"))

    def _secret_status_failed(self, exc: BaseException) -> None:
        for edit in self.secret_edits.values():
            edit.setPlaceholderText(self.tr("系统密钥环不可用"))
        self._say(self.tr("无法读取系统密钥环 (could not read the keyring): ") + str(exc))

    def file_changes(self) -> dict[str, dict[str, Any]]:
        return {
            "general": {"mode": self.mode.currentData(), "language": self.language.currentData()},
            "bigquant": {
                "base_url": self.base_url.text().strip(),
                "strategy_ids": [s.strip() for s in self.strategy_ids.text().split(",") if s.strip()],
            },
            "qmt": {
                "userdata_path": self.userdata_path.text().strip(),
                "session_id": self.session_id.value(),
                "live_trading_enabled": self.live_enabled.isChecked(),
            },
            "schedule": {
                **{k: e.time().toString("HH:mm") for k, e in self.time_edits.items()},
                "monitor_every_min": self.monitor_every.value(),
            },
            "alerts": {
                "channels": [c for c, box in self.channel_boxes.items() if box.isChecked()],
                "min_level": self.min_level.currentData(),
                "smtp_host": self.smtp_host.text().strip(),
                "smtp_port": self.smtp_port.value(),
                "smtp_user": self.smtp_user.text().strip(),
                "email_from": self.email_from.text().strip(),
                "email_to": self.email_to.text().strip(),
            },
        }

    def save(self) -> None:
        changes = self.file_changes()
        secrets = {name: edit.text() for name, edit in self.secret_edits.items() if edit.text().strip()}
        path, store = self._path, self._store
        self.buttons.setEnabled(False)
        self._background.run(lambda: save_all(path, changes, secrets, store), self._saved, self._save_failed)

    def _saved(self, result: SaveResult) -> None:
        self.buttons.setEnabled(True)
        for edit in self.secret_edits.values():
            edit.clear()  # never kept in the dialog
        self._settings = result.settings
        self.settings_saved.emit(result.settings)
        self.accept()

    def _save_failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        if isinstance(exc, SettingsError):
            self._say(self.tr("设置有误，未保存 (not saved): ") + str(exc))
        elif isinstance(exc, SecretsError):
            self._say(self.tr("密钥未能保存到系统密钥环 (the keyring refused): ") + str(exc))
        else:
            self._say(self.tr("设置未能保存 (not saved): ") + str(exc))

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("选择 QMT 的 userdata_mini 文件夹"))
        if folder:
            self.userdata_path.setText(folder)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet("color: #b00020")
        self.message.show()


# --------------------------------------------------------------------------- the first run


class FirstRunWizard(QWizard):
    """Welcome → the simulated account → BigQuant (optional) → done: writes a settings file for the
    simulated setup (and the keys, if given, to the keyring)."""

    setup_finished = Signal(object)  # Settings

    def __init__(
        self, config_path: Path, secrets: SecretStore | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("欢迎使用 Tiller"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self._path = config_path
        self._store = secrets or SecretStore()
        self._background = Background(self)
        self.result_settings: Settings | None = None
        self.setButtonText(QWizard.WizardButton.NextButton, self.tr("下一步"))
        self.setButtonText(QWizard.WizardButton.BackButton, self.tr("上一步"))
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("完成"))
        self.setButtonText(QWizard.WizardButton.CancelButton, self.tr("取消"))

        welcome = QWizardPage(self)
        welcome.setTitle(self.tr("欢迎"))
        text = QLabel(
            self.tr(
                "Tiller 按 BigQuant 策略的计划订单自动下单，并由风控把关。\n\n"
                "第一次使用时，先在内置的模拟券商上运行：不连接真实账户，不动用真实资金。"
                "熟悉之后，可在“设置”中切换到 QMT 实盘。"
            ),
            welcome,
        )
        text.setWordWrap(True)
        QVBoxLayout(welcome).addWidget(text)
        self.addPage(welcome)

        account = QWizardPage(self)
        account.setTitle(self.tr("模拟账户"))
        form = QFormLayout(account)
        self.account_id = QLineEdit("SIM001", account)
        form.addRow(self.tr("账户名称"), self.account_id)
        self.initial_cash = QLineEdit("1000000", account)
        form.addRow(self.tr("初始资金 (元)"), self.initial_cash)
        self.addPage(account)

        bigquant = QWizardPage(self)
        bigquant.setTitle(self.tr("BigQuant (可选)"))
        form = QFormLayout(bigquant)
        hint = QLabel(self.tr("没有密钥也可以继续：模拟时使用本地的示例信号。"), bigquant)
        hint.setWordWrap(True)
        form.addRow(hint)
        self.access_key = _secret_edit(bigquant)
        self.access_key.setPlaceholderText(self.tr("可留空"))
        self.secret_key = _secret_edit(bigquant)
        self.secret_key.setPlaceholderText(self.tr("可留空"))
        form.addRow(self.tr("Access Key"), self.access_key)
        form.addRow(self.tr("Secret Key"), self.secret_key)
        self.strategies = QLineEdit(bigquant)
        self.strategies.setPlaceholderText(self.tr("策略编号，以逗号分隔，可留空"))
        form.addRow(self.tr("跟踪的策略"), self.strategies)
        self.addPage(bigquant)

        done = QWizardPage(self)
        done.setTitle(self.tr("完成"))
        self.summary = QLabel(done)
        self.summary.setWordWrap(True)
        self.message = QLabel(done)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        done_layout = QVBoxLayout(done)
        done_layout.addWidget(self.summary)
        done_layout.addWidget(self.message)
        self.addPage(done)
        self.currentIdChanged.connect(self._page_changed)

    @property
    def busy(self) -> bool:
        return self._background.pending > 0

    def _page_changed(self, page_id: int) -> None:
        if page_id == self.pageIds()[-1]:
            self.summary.setText(
                self.tr("将以模拟方式运行，账户 {account}，初始资金 {cash} 元。点“完成”保存设置。")
                .replace("{account}", self.account_id.text().strip())
                .replace("{cash}", self.initial_cash.text().strip())
            )

    def changes(self) -> dict[str, dict[str, Any]]:
        return {
            "general": {"mode": "sim"},
            "account": {
                "account_id": self.account_id.text().strip(),
                "initial_cash": self.initial_cash.text().strip(),
            },
            "bigquant": {"strategy_ids": [s.strip() for s in self.strategies.text().split(",") if s.strip()]},
        }

    def accept(self) -> None:
        """Save first; the wizard closes only once the settings are written and valid."""
        changes = self.changes()
        secrets = {
            "bigquant.access_key": self.access_key.text(),
            "bigquant.secret_key": self.secret_key.text(),
        }
        path, store = self._path, self._store
        self.button(QWizard.WizardButton.FinishButton).setEnabled(False)
        self._background.run(lambda: save_all(path, changes, secrets, store), self._saved, self._failed)

    def _saved(self, result: SaveResult) -> None:
        self.access_key.clear()
        self.secret_key.clear()
        self.result_settings = result.settings
        self.setup_finished.emit(result.settings)
        super().accept()

    def _failed(self, exc: BaseException) -> None:
        self.button(QWizard.WizardButton.FinishButton).setEnabled(True)
        self.message.setText(self.tr("设置有误，未保存 (not saved): ") + str(exc))
