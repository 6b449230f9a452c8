"""Alert channels (app.core.alerts.AlertChannel): WeCom, DingTalk and Feishu group-robot webhooks
(httpx) and e-mail (stdlib smtplib). Webhook URLs and the SMTP password come from the keyring."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import httpx

WEBHOOK_KINDS = ("wecom", "dingtalk", "feishu")


class ChannelError(RuntimeError):
    pass


class WebhookChannel:
    """A group robot: WeCom and DingTalk take {"msgtype": "text", ...}, Feishu {"msg_type": "text", ...};
    each answers 200 with an error code in the body, checked here."""

    def __init__(
        self, kind: str, url: str, *, timeout_s: float = 10.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        if kind not in WEBHOOK_KINDS:
            raise ValueError(f"unknown webhook kind, was {kind!r}")
        self.name = kind
        self._url = url
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def body(self, subject: str, text: str) -> dict:
        content = f"{subject}\n{text}"
        if self.name == "feishu":
            return {"msg_type": "text", "content": {"text": content}}
        return {"msgtype": "text", "text": {"content": content}}

    def send(self, subject: str, text: str) -> None:
        response = self._client.post(self._url, json=self.body(subject, text))
        if response.status_code != 200:
            raise ChannelError(f"{self.name}: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise ChannelError(f"{self.name}: the answer is not JSON") from None
        code = answer.get("errcode", answer.get("code", answer.get("StatusCode", 0)))
        if code not in (0, "0"):
            message = answer.get("errmsg") or answer.get("msg") or answer.get("StatusMessage") or ""
            raise ChannelError(f"{self.name}: code {code} {message}")

    def close(self) -> None:
        self._client.close()


class EmailChannel:
    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        sender: str,
        recipients: list[str],
        user: str = "",
        password: str = "",
        timeout_s: float = 20.0,
    ) -> None:
        if not host or not sender or not recipients:
            raise ValueError("e-mail alerts need alerts.smtp_host, alerts.email_from and alerts.email_to")
        self.host, self.port, self.security = host, port, security
        self.sender, self.recipients = sender, recipients
        self.user, self.password, self.timeout_s = user, password, timeout_s

    def send(self, subject: str, text: str) -> None:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain="tiller.local")
        message.set_content(text)
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)
