"""Alerts out: rate-limited (a storm sends one summary), sent on a worker thread to webhooks (a local
HTTP server) and e-mail (a local SMTP stub); secrets from the keyring."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from app.bootstrap import SetupError, alert_channels
from app.clients.notify import ChannelError, EmailChannel, WebhookChannel
from app.config import load_settings
from app.core.alerts import AlertDispatcher, RateLimiter
from app.core.messages import AlertRaised, OrderUpdated
from app.domain.clock import CN_TZ
from app.secrets import SecretStore
from tests.helpers.http_capture import CaptureServer
from tests.helpers.smtp_stub import SmtpStub

TS = datetime(2026, 11, 23, 10, 0, tzinfo=CN_TZ)


def alert(n: int = 0, level: str = "error", category: str = "order") -> AlertRaised:
    return AlertRaised(level, category, f"委托被拒 (order rejected) #{n}", TS)


def test_a_storm_sends_the_first_alerts_then_one_summary_when_the_window_ends() -> None:
    limiter = RateLimiter(max_per_window=2, window_s=60)
    out = []
    for i in range(50):
        out += limiter.offer(alert(i), now=100.0 + i * 0.1)
    assert [m.summary for m in out] == [False, False]
    assert limiter.flush(159.9) == []  # the window is not over
    [summary] = limiter.flush(160.0)
    assert summary.summary and "48" in summary.subject and "error/order ×48" in summary.text
    assert limiter.flush(1000.0) == []  # said once
    assert len(limiter.offer(alert(99), now=1001.0)) == 1  # a new window sends again


def test_alerts_below_the_level_are_not_sent() -> None:
    limiter = RateLimiter(min_level="error")
    assert limiter.offer(alert(level="warning"), 0.0) == []
    assert limiter.offer(alert(level="info"), 0.0) == []
    assert len(limiter.offer(alert(level="critical"), 0.0)) == 1


class Recorder:
    def __init__(self, name: str = "rec", fail: bool = False, gate: threading.Event | None = None) -> None:
        self.name, self.fail, self.gate = name, fail, gate
        self.got: list[tuple[str, str]] = []

    def send(self, subject: str, text: str) -> None:
        if self.gate is not None:
            self.gate.wait(30)
        if self.fail:
            raise ConnectionError("down")
        self.got.append((subject, text))


def test_the_dispatcher_never_blocks_the_caller_and_one_channel_down_spares_the_others() -> None:
    gate = threading.Event()
    slow, broken = Recorder("slow", gate=gate), Recorder("broken", fail=True)
    dispatcher = AlertDispatcher([broken, slow], RateLimiter(max_per_window=1, window_s=3600))
    dispatcher.start()
    try:
        for i in range(200):  # returns at once although the slow channel is stuck
            dispatcher.listener(alert(i))
        dispatcher.listener(OrderUpdated(None))  # other events are ignored
        gate.set()
        assert dispatcher.wait_idle(30)
    finally:
        dispatcher.stop()
    assert len(slow.got) == 2  # the first alert, then at stop the summary of the 199 held
    assert "199" in slow.got[1][0]
    assert [name for name, _ in dispatcher.failures] == ["broken", "broken"]


@pytest.mark.parametrize(
    ("kind", "answer", "shape"),
    [
        ("wecom", {"errcode": 0, "errmsg": "ok"}, lambda b: b["text"]["content"]),
        ("dingtalk", {"errcode": 0, "errmsg": "ok"}, lambda b: b["text"]["content"]),
        ("feishu", {"code": 0, "msg": "success"}, lambda b: b["content"]["text"]),
    ],
)
def test_webhooks_post_their_robots_format(kind, answer, shape) -> None:
    with CaptureServer(answer) as server:
        channel = WebhookChannel(kind, server.url())
        channel.send("Tiller error: order", "委托被拒 (order rejected)")
        channel.close()
    [body] = server.bodies
    assert "委托被拒" in shape(body) and "Tiller error" in shape(body)


def test_a_webhook_that_answers_an_error_code_raises_with_it() -> None:
    with CaptureServer({"errcode": 93000, "errmsg": "invalid webhook url"}) as server:
        channel = WebhookChannel("wecom", server.url())
        with pytest.raises(ChannelError, match="93000 invalid webhook url"):
            channel.send("s", "t")
        channel.close()


def test_email_goes_through_smtp_with_login() -> None:
    with SmtpStub(user="me", password="pw") as stub:
        channel = EmailChannel(host="127.0.0.1", port=stub.port, security="none", sender="tiller@example.com",
                               recipients=["a@example.com", "b@example.com"], user="me", password="pw")  # fmt: skip
        channel.send("Tiller: 3 条告警已合并", "对账差异 (reconciliation difference)")
        assert stub.received.wait(10)
    [(sender, rcpts, raw)] = stub.messages
    assert sender == "tiller@example.com" and rcpts == ["a@example.com", "b@example.com"]
    assert stub.logins == [("me", "pw")]
    from email import message_from_bytes, policy

    message = message_from_bytes(raw, policy=policy.default)
    assert "告警已合并" in message["Subject"] and "对账差异" in message.get_content()


def test_channels_take_their_secrets_from_the_keyring_and_say_what_is_missing(tmp_path) -> None:
    settings = load_settings(argv_overrides=["alerts.channels=wecom"], path=tmp_path / "none.toml")
    store = SecretStore()
    with pytest.raises(SetupError, match=r"secrets set webhook\.wecom"):
        alert_channels(settings, store)
    store.set("webhook.wecom", "http://127.0.0.1:9/hook")
    [channel] = alert_channels(settings, store)
    assert channel.name == "wecom"
    channel.close()
    email = load_settings(argv_overrides=["alerts.channels=email"], path=tmp_path / "none.toml")
    with pytest.raises(SetupError, match="not fully set up"):
        alert_channels(email, store)
