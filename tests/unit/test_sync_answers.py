"""Whatever a receiver answers, the sync sorts it and never raises; the signer matches BIGQUANT.md."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from app.clients.signing import sign_request
from app.clients.sync import classify_response
from app.core.eod.delivery import Backoff, Outcome

VECTOR = "82dfea62f5df7fabaaa8ef258da0fa836d0dd68361005d387ce2c293a678b873"


def test_the_known_signature_vector() -> None:
    assert sign_request("sk-example-0001", "/bigapis/trading/v1/planned_order", b"", 1763860200000) == VECTOR
    assert sign_request("sk-example-0001", "/bigapis/trading/v1/planned_order", "", "1763860200000") == VECTOR
    # the query string and the host are not signed
    full = "https://bigquant.com/bigapis/trading/v1/planned_order?page=1&size=3000"
    assert sign_request("sk-example-0001", full, b"", 1763860200000) == VECTOR
    assert (
        sign_request("sk-example-0001", "/bigapis/trading/v1/planned_order", b"{}", 1763860200000) != VECTOR
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=10,
)


@given(st.integers(100, 599), st.binary(max_size=500))
def test_any_answer_is_sorted_never_raised(status: int, body: bytes) -> None:
    result = classify_response(status, body)
    assert result.outcome in set(Outcome)
    if not 200 <= status < 300:
        assert result.outcome is not Outcome.ACKNOWLEDGED


@given(st.integers(200, 299), json_values)
def test_a_2xx_json_answer_is_acknowledged_only_with_code_0_or_no_code(status: int, value) -> None:
    result = classify_response(status, json.dumps(value).encode())
    acknowledged = not (isinstance(value, dict) and "code" in value and value["code"] not in (0, "0"))
    assert (result.outcome is Outcome.ACKNOWLEDGED) is acknowledged


@given(st.integers(1, 100))
def test_backoff_grows_and_is_capped(n: int) -> None:
    b = Backoff(first_s=1, factor=2, cap_s=60)
    assert 1 <= b.delay(n) <= 60 and b.delay(n) <= b.delay(n + 1)
