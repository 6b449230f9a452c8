"""What the QMT gateway tells the user when it cannot do its job: a known error, in words."""

from __future__ import annotations


class QmtError(RuntimeError):
    """miniQMT cannot be reached or refused something; the message says why and what to do."""


def connect_failure(code: object, path: object, session: int) -> str:
    """XtQuantTrader.connect() returned `code` (0 is success; RULES.md A1)."""
    return (
        f"无法连接 miniQMT (could not connect to miniQMT: connect() returned {code}, session {session}). "
        "请确认：miniQMT 已启动并登录；登录时勾选了「极简模式」；userdata_mini 路径正确 "
        f"({path}); 没有其他程序使用同一会话号 "
        "(check: miniQMT is running and logged in, started in 极简模式 (mini mode), the userdata_mini path "
        "is right, no other program uses the same session id)"
    )


def subscribe_failure(code: object, account_hint: str) -> str:
    return (
        f"订阅资金账号失败 (subscribing the account failed: subscribe() returned {code}, account {account_hint}). "
        "请确认 qmt.account_id 与 miniQMT 中登录的资金账号一致 "
        "(check that the keyring secret qmt.account_id is the account logged in to miniQMT)"
    )


def masked(account_id: str) -> str:
    """An account id as shown in messages and logs: its last four characters only."""
    return "****" + account_id[-4:] if len(account_id) > 4 else "****"
