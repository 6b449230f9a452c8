"""[alerts]: where alerts are sent and how often (webhooks and the SMTP password are secrets)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.config._fields import choice, id_list, integer, meta, optional_string

ALERT_CHANNELS = ("email", "wecom", "dingtalk", "feishu")


@dataclass(frozen=True, slots=True)
class AlertSettings:
    # Webhook URLs and the SMTP password are secrets: python -m app secrets set webhook.wecom
    channels: tuple[str, ...] = field(
        default=(),
        metadata=meta(
            parse=id_list,
            expected="a list of email, wecom, dingtalk, feishu; in env or --set: a,b",
            help="where alerts are also sent (they are always kept in the database)",
        ),
    )
    min_level: str = field(
        default="warning",
        metadata=meta(
            parse=choice("info", "warning", "error", "critical"),
            expected="one of info, warning, error, critical",
            help="the least serious alert that is sent",
        ),
    )
    max_per_window: int = field(
        default=5,
        metadata=meta(
            parse=integer(1, 1000),
            expected="an integer from 1 to 1000",
            help="alerts sent one by one per window; beyond that one summary goes at the window's end",
        ),
    )
    window_s: int = field(
        default=300,
        metadata=meta(
            parse=integer(10, 86400), expected="seconds, 10 to 86400", help="the rate-limit window"
        ),
    )
    smtp_host: str = field(
        default="", metadata=meta(parse=optional_string, expected="a host name", help="SMTP server")
    )
    smtp_port: int = field(
        default=465,
        metadata=meta(parse=integer(1, 65535), expected="a port, 1 to 65535", help="SMTP port"),
    )
    smtp_security: str = field(
        default="ssl",
        metadata=meta(
            parse=choice("ssl", "starttls", "none"),
            expected="ssl, starttls or none",
            help="how the SMTP connection is protected (none only for a local relay)",
        ),
    )
    smtp_user: str = field(
        default="", metadata=meta(parse=optional_string, expected="a user name", help="SMTP login")
    )
    email_from: str = field(
        default="", metadata=meta(parse=optional_string, expected="an address", help="sender address")
    )
    email_to: str = field(
        default="",
        metadata=meta(parse=optional_string, expected="addresses, comma separated", help="alert recipients"),
    )
