"""The BigQuant client against the local dev server over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import date, time
from decimal import Decimal

import httpx
import pytest

from app.clients.bigquant import (
    BigQuantAnswerError,
    BigQuantAuthError,
    BigQuantClient,
    BigQuantError,
    BigQuantUnreachableError,
    sign,
    signed_headers,
)
from app.devserver.server import BASE_PATH, DEV_ACCESS_KEY, DEV_SECRET_KEY, FAULTS, DevState, redate
from app.domain.side import Side
from tests.helpers.bigquant import DAY, FIXTURE_IDS, STRATEGY, client_for, dev_server, source_for


def test_signature_when_known_vector_then_matches() -> None:
    assert (
        sign("sk-example-0001", "/bigapis/trading/v1/planned_order", "", 1763860200000)
        == "82dfea62f5df7fabaaa8ef258da0fa836d0dd68361005d387ce2c293a678b873"
    )
    headers = signed_headers("ak", "sk-example-0001", "/bigapis/trading/v1/planned_order", b"", 1763860200000)
    assert headers == {
        "X-BigQuant-Access-Key": "ak",
        "X-BigQuant-Timestamp": "1763860200000",
        "X-BigQuant-Signature": "82dfea62f5df7fabaaa8ef258da0fa836d0dd68361005d387ce2c293a678b873",
    }


def test_signature_when_body_or_path_changes_then_differs() -> None:
    base = sign("sk-example-0001", "/bigapis/trading/v1/planned_order", "", 1763860200000)
    assert sign("sk-example-0001", "/bigapis/trading/v1/planned_order", "{}", 1763860200000) != base
    assert sign("sk-example-0001", "/bigapis/trading/v1/planned_orde", "", 1763860200000) != base
    assert sign("sk-example-0002", "/bigapis/trading/v1/planned_order", "", 1763860200000) != base


def test_fetch_when_fixture_day_then_one_batch_of_six_exact_lines() -> None:
    with dev_server() as server:
        source = source_for(server)
        batches = source.fetch(DAY)

    assert len(batches) == 1
    (batch,) = batches
    assert (batch.strategy_id, batch.trading_day, batch.rejected) == (STRATEGY, DAY, ())
    assert [line.signal_id for line in batch.lines] == FIXTURE_IDS
    first = batch.lines[0]
    assert (first.code, first.side, first.qty, first.ref_price, first.exec_time) == (
        "600519.SH", Side.BUY, 100, Decimal("1480.5"), time(9, 30)
    )  # fmt: skip
    assert batch.lines[4].at_close and batch.lines[4].side is Side.SELL


def test_fetch_when_another_day_then_no_lines_and_no_error() -> None:
    with dev_server() as server:
        batches = source_for(server).fetch(date(2026, 11, 24))
    assert [(b.strategy_id, b.lines, b.rejected) for b in batches] == [(STRATEGY, (), ())]


@pytest.mark.parametrize("page_size", [1, 2, 4, 5, 6, 3000])
def test_fetch_when_small_pages_then_every_page_fetched(page_size: int) -> None:
    with dev_server() as server:
        batches = source_for(server, page_size=page_size).fetch(DAY)
        pages = server.state.count("/planned_order")
    assert [line.signal_id for line in batches[0].lines] == FIXTURE_IDS
    assert pages == -(-6 // page_size) if page_size < 6 or 6 % page_size else 6 // page_size


def test_fetch_when_server_caps_page_size_then_still_every_line() -> None:
    # the server gives fewer than asked per page; total says how many are left
    with dev_server(DevState(max_page_size=2)) as server:
        batches = source_for(server, page_size=3000).fetch(DAY)
        pages = server.state.count("/planned_order")
    assert [line.signal_id for line in batches[0].lines] == FIXTURE_IDS
    assert pages == 3


def test_fetch_when_a_page_is_missing_then_error_and_no_batch() -> None:
    with dev_server() as server:
        server.state.set_fault("page_missing")
        source = source_for(server, page_size=4)
        with pytest.raises(BigQuantAnswerError, match=r"缺失 \(a page is missing\).*total 6, received 4"):
            source.fetch(DAY)
        assert server.state.count("/planned_order") == 2  # a bad answer is not retried


# --- faults: each gives its clear error; retries only for temporary ones ----------------------

RETRIED = {"http500": "HTTP 500", "http429": "HTTP 429", "slow": "超时 \\(timed out\\)"}
NOT_RETRIED = {
    "html": (BigQuantAnswerError, "不是 JSON \\(the answer is not JSON; HTTP 200, text/html\\)"),
    "truncated": (BigQuantAnswerError, "不是 JSON \\(the answer is not JSON; HTTP 200, application/json\\)"),
    "auth": (BigQuantAuthError, "拒绝了密钥 \\(the key was refused\\): 签名校验失败"),
}


def test_faults_when_listed_then_every_one_is_tested() -> None:
    assert set(RETRIED) | set(NOT_RETRIED) | {"page_missing"} == set(FAULTS)


@pytest.mark.parametrize("fault", sorted(RETRIED))
def test_fault_when_temporary_then_retried_then_unreachable(fault: str) -> None:
    sleeps: list[float] = []
    with dev_server() as server:
        server.state.slow_seconds = 30.0  # far beyond the client's timeout; stop() cuts it short
        server.state.set_fault(fault)
        source = source_for(server, retries=2, timeout=0.2, sleep=sleeps.append)
        with pytest.raises(
            BigQuantUnreachableError, match=rf"{RETRIED[fault]}；已尝试 3 次 \(tried 3 times\)"
        ):
            source.fetch(DAY)
        assert server.state.count() == 3
    assert len(sleeps) == 2 and sleeps[1] >= sleeps[0]  # backoff grows


@pytest.mark.parametrize("fault", sorted(RETRIED))
def test_fault_when_temporary_and_it_passes_then_fetch_works(fault: str) -> None:
    with dev_server() as server:
        server.state.slow_seconds = 30.0
        server.state.set_fault(fault, times=2)
        batches = source_for(server, retries=2, timeout=0.2).fetch(DAY)
        assert server.state.count() == 2 + 2  # two failures, then the strategy and one page
    assert [line.signal_id for line in batches[0].lines] == FIXTURE_IDS


@pytest.mark.parametrize("fault", sorted(NOT_RETRIED))
def test_fault_when_not_temporary_then_clear_error_and_one_request(fault: str) -> None:
    error, words = NOT_RETRIED[fault]
    with dev_server() as server:
        server.state.set_fault(fault)
        with pytest.raises(error, match=words):
            source_for(server, retries=3).fetch(DAY)
        assert server.state.count() == 1


@pytest.mark.parametrize("fault", sorted(NOT_RETRIED))
def test_fault_when_only_on_the_page_then_clear_error_and_no_batch(fault: str) -> None:
    error, words = NOT_RETRIED[fault]
    with dev_server() as server:
        source = source_for(server, retries=3)
        source.client.strategy(STRATEGY)  # the strategy answers; then the fault hits the page
        server.state.set_fault(fault)
        with pytest.raises(error, match=words):
            source.fetch(DAY)


def test_wrong_secret_key_then_auth_error_not_retried() -> None:
    with dev_server() as server:
        source = source_for(server, secret_key="not-the-key", retries=3)
        with pytest.raises(BigQuantAuthError, match=r"bigquant.secret_key"):
            source.fetch(DAY)
        assert server.state.count() == 1


def test_no_keys_then_says_how_to_set_them() -> None:
    with pytest.raises(BigQuantAuthError, match=r"secrets set bigquant.access_key"):
        BigQuantClient("http://127.0.0.1:9", "", "")


def test_unreachable_server_then_retried_and_plain_words() -> None:
    with dev_server() as server:
        url = server.base_url
    # the port is closed now: connection refused
    with (
        BigQuantClient(
            url, DEV_ACCESS_KEY, DEV_SECRET_KEY, retries=1, timeout=2.0, sleep=lambda s: None
        ) as client,
        pytest.raises(BigQuantUnreachableError, match=r"无法连接 \(cannot connect\).*tried 2 times"),
    ):
        client.strategy(STRATEGY)


def test_nonzero_code_then_message_reaches_the_user() -> None:
    with dev_server() as server:
        client = client_for(server)
        with pytest.raises(BigQuantAnswerError, match=r"40400.*no such strategy"):
            client.strategy("no-such-strategy")
        assert server.state.count() == 1


def test_dev_server_when_unsigned_request_then_refused() -> None:
    with dev_server() as server:
        response = httpx.get(server.base_url + "/strategies/" + STRATEGY)
    assert response.status_code == 401
    assert response.json()["code"] == 40101


def test_fetch_when_answer_has_extra_fields_then_tolerated() -> None:
    state = DevState()
    state.items = [dict(item, surprise={"nested": [1, 2]}, another="x") for item in state.items]
    with dev_server(state) as server:
        batches = source_for(server).fetch(DAY)
    assert len(batches[0].lines) == 6 and batches[0].rejected == ()


def test_fetch_when_line_of_another_day_then_rejected_with_reason() -> None:
    state = DevState()
    # the server filters by day; an answer that ignores the filter must not slip a line through
    wrong = redate([state.items[0]], date(2026, 11, 24))[0]
    wrong["planned_order_id"] = "999"
    state.body_override = json.dumps(
        {"code": 0, "data": {"items": [*state.items, wrong], "page": 1, "size": 3000, "total": 7}}
    ).encode()
    with dev_server(state) as server:
        (batch,) = source_for(server).fetch(DAY)
    assert len(batch.lines) == 6
    assert batch.rejected == (
        ("999", "交易日不符 (wrong trading day): 2026-11-24，应为 2026-11-23 (expected)"),
    )


def test_fetch_when_known_codes_given_then_unknown_instrument_rejected() -> None:
    with dev_server() as server:
        source = source_for(server)
        source.known_codes = lambda day: {"600519.SH", "000001.SZ", "300750.SZ", "688981.SH", "600767.SH"}
        (batch,) = source.fetch(DAY)
    assert [line.code for line in batch.lines] == [
        "600519.SH",
        "000001.SZ",
        "300750.SZ",
        "688981.SH",
        "600767.SH",
    ]
    assert batch.rejected == (("145909295", "当日未知证券 (unknown instrument on 2026-11-23): 430047.BJ"),)


def test_fetch_when_two_strategies_share_an_account_then_each_gets_its_own_lines() -> None:
    state = DevState()
    other = dict(state.items[0], planned_order_id="777", strategy_id="other-strategy")
    state.items = [*state.items, other]
    with dev_server(state) as server:
        batches = source_for(server, strategies=(STRATEGY, "other-strategy")).fetch(DAY)
    assert [(b.strategy_id, [line.signal_id for line in b.lines]) for b in batches] == [
        (STRATEGY, FIXTURE_IDS),
        ("other-strategy", ["777"]),
    ]


def test_dev_server_sync_when_posted_twice_then_stored_once(tmp_path) -> None:
    payload = {"schema": "eod_sync/1", "sync_id": "abc123", "revision": 1, "trading_day": "2026-11-23"}
    body = json.dumps(payload).encode()
    state = DevState(sync_dir=tmp_path / "syncs")
    with dev_server(state) as server:
        path = BASE_PATH + "/eod_sync"
        answers = []
        for _ in range(2):
            headers = signed_headers(DEV_ACCESS_KEY, DEV_SECRET_KEY, path, body, 1763860200000)
            answers.append(httpx.post(server.sync_url, content=body, headers=headers).json())
        unsigned = httpx.post(server.sync_url, content=body)
        bad = json.dumps({"schema": "other"}).encode()
        headers = signed_headers(DEV_ACCESS_KEY, DEV_SECRET_KEY, path, bad, 1)
        refused = httpx.post(server.sync_url, content=bad, headers=headers)
    assert [a["data"] for a in answers] == [
        {"sync_id": "abc123", "stored": True},
        {"sync_id": "abc123", "stored": False},
    ]
    assert state.syncs == {"abc123": payload}
    assert json.loads((tmp_path / "syncs" / "abc123.json").read_text()) == payload
    assert unsigned.status_code == 401
    assert refused.status_code == 400


def test_client_repr_never_shows_keys() -> None:
    client = BigQuantClient("http://127.0.0.1:9/x", "ak-visible?", "sk-secret")
    assert "sk-secret" not in repr(client) and "ak-visible" not in repr(client)
    client.close()


def test_bigquant_error_is_the_only_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # an invalid URL is no temporary failure: one plain error, no retry loop
    with pytest.raises(BigQuantError, match=r"not a valid URL"):
        BigQuantClient("http://[::1", DEV_ACCESS_KEY, DEV_SECRET_KEY, retries=5, sleep=lambda s: None)


def test_fetch_when_strategy_id_needs_percent_encoding_then_signed_as_sent() -> None:
    state = DevState()
    state.items = [dict(item, strategy_id="策略.一-1") for item in state.items]
    with dev_server(state) as server:
        (batch,) = source_for(server, strategies=("策略.一-1",)).fetch(DAY)
    assert batch.strategy_id == "策略.一-1" and len(batch.lines) == 6
