"""The local server's paper-account endpoints (BIGQUANT.md §1: `/accounts/{id}/cash`,
`/account_positions/{id}/positions`) over real HTTP, signed, through the client."""

from __future__ import annotations

import pytest

from app.clients.bigquant import BigQuantAnswerError, BigQuantAuthError, BigQuantUnreachableError
from app.devserver.server import DevState
from tests.helpers.bigquant import STRATEGY, client_for, dev_server


def test_cash_and_positions_of_the_followed_strategys_paper_account() -> None:
    state = DevState()
    with dev_server(state) as server:
        client = client_for(server)
        account = client.strategy(STRATEGY)
        cash = client.paper_cash(account)
        positions = client.paper_positions(account)
    assert cash["account_id"] == account.account_id == "10020"
    assert (cash["currency"], cash["available"]) == ("CNY", 812345.67)
    assert [(p["instrument"], p["current_qty"]) for p in positions] == [
        ("300750.SZ", 200),
        ("600767.SH", 251600),
    ]
    assert state.count("/accounts/10020/cash") == 1 and state.count("/account_positions/10020/positions") == 1


def test_a_changed_account_is_served_as_changed() -> None:
    state = DevState()
    state.positions = [{"instrument": "600000.SH", "current_qty": 100, "available_qty": 0, "extra": [1]}]
    with dev_server(state) as server:
        client = client_for(server)
        assert client.paper_positions(client.strategy(STRATEGY)) == state.positions


@pytest.mark.parametrize(("fault", "error"), [("auth", BigQuantAuthError), ("http500", BigQuantUnreachableError),
                                              ("html", BigQuantAnswerError), ("truncated", BigQuantAnswerError)])  # fmt: skip
def test_faults_reach_the_account_endpoints_too(fault: str, error: type[Exception]) -> None:
    state = DevState()
    with dev_server(state) as server:
        client = client_for(server, retries=1)
        account = client.strategy(STRATEGY)
        state.set_fault(fault)
        with pytest.raises(error):
            client.paper_cash(account)
        with pytest.raises(error):
            client.paper_positions(account)


def test_an_unknown_account_is_a_clear_error_and_a_bad_signature_is_refused() -> None:
    from app.clients.bigquant import StrategyInfo

    with dev_server() as server:
        with pytest.raises(BigQuantAnswerError, match="no such paper account"):
            client_for(server).paper_cash(StrategyInfo(STRATEGY, "99999", "0"))
        with pytest.raises(BigQuantAuthError):
            client_for(server, secret_key="wrong").paper_positions(StrategyInfo(STRATEGY, "10020", "0"))
