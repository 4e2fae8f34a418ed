"""Bounded fuzzing of the remote signer's request decoder (issue 9): ``POST
/generate-live-payment`` bodies built from a real request with mutated fields (orchestrator info
bytes, the signed state, types, pixel counts, ids) and raw mutated JSON. The service promises
never to raise for bad input: every refusal is a response with an HTTP status and a message, and
nothing it answers contains the gateway's private key.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fuzz_support import budget, edge_ints, fuzz_input, junk, mark_rejected, mostly
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("aiohttp")
signer_support = pytest.importorskip("signer_support")

from pm.signer import RemotePaymentState  # noqa: E402
from pm.wire import encode_orchestrator_info  # noqa: E402

GATEWAY = signer_support.GATEWAY
KEY_HEX = GATEWAY.export_private_key().hex()
CLOCK = signer_support.FakeClock()
SIGNER = signer_support.make_signer(CLOCK)
INFO = signer_support.orch_info(signer_support.exact_ev_params(1))
INFO_BYTES = encode_orchestrator_info(INFO)
FIRST = SIGNER.generate_live_payment(
    signer_support.request_body(INFO, type="live", app="a", ManifestID="m", inPixels=1000)
)
assert FIRST.status == 200, FIRST.body
STATE = dict(FIRST.body["state"])
STATE_JSON = base64.b64decode(STATE["State"])


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        pos = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 16))]
        elif op == "truncate":
            del data[pos:]
    return bytes(data)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _signed(data: bytes) -> dict[str, str]:
    return {"State": _b64(data), "Sig": _b64(GATEWAY.sign_message(data))}


states = st.one_of(
    st.just(STATE),
    mutated(STATE_JSON).map(_signed),  # validly signed garbage: exercises the state parser
    mutated(STATE_JSON).map(lambda d: {"State": _b64(d), "Sig": STATE["Sig"]}),
    st.fixed_dictionaries({"State": st.text(max_size=20), "Sig": st.text(max_size=20)}),
    junk,
)
FIELDS = {
    "orchestrator": mostly(
        st.one_of(st.just(INFO_BYTES), st.just(INFO_BYTES), mutated(INFO_BYTES)).map(_b64),
        st.one_of(st.text(max_size=12), junk),
    ),
    "state": mostly(st.one_of(st.just(STATE), states), st.none()),
    "type": mostly(st.just("live"), st.one_of(st.sampled_from(["lv2v", "", "video"]), junk)),
    "app": mostly(st.just("a"), st.one_of(st.sampled_from(["b", ""]), junk)),
    "ManifestID": mostly(st.just("m"), st.one_of(st.sampled_from(["n", ""]), junk)),
    "inPixels": mostly(st.integers(0, 10**7), st.one_of(edge_ints, junk)),
}
requests = st.tuples(
    st.fixed_dictionaries(FIELDS),
    st.sets(st.sampled_from(sorted(FIELDS)), max_size=2),  # fields left out
).map(lambda t: {k: v for k, v in t[0].items() if k not in t[1]})


@budget(150)
@given(doc=requests, seconds=st.integers(min_value=0, max_value=120))
def test_fuzz_generate_live_payment(doc: dict[str, Any], seconds: int) -> None:
    CLOCK.now = signer_support.T0 + seconds * 1_000_000_000
    try:
        body = json.dumps(doc).encode()
    except (TypeError, ValueError):  # an object() or NaN that JSON cannot carry
        body = repr(doc).encode()
    _check(body)


@budget(100)
@given(body=st.one_of(mutated(signer_support.request_body(INFO, type="live")), st.binary()))
def test_fuzz_generate_live_payment_raw(body: bytes) -> None:
    _check(body)


def _check(body: bytes) -> None:
    with fuzz_input("RemoteSigner.generate_live_payment"):
        resp = SIGNER.generate_live_payment(body)
        assert 200 <= resp.status < 600
        text = json.dumps(resp.body)
        assert KEY_HEX not in text and KEY_HEX.upper() not in text
        if resp.status != 200:
            assert isinstance(resp.body["error"]["message"], str)
            mark_rejected("RemoteSigner.generate_live_payment")
        else:
            state = base64.b64decode(resp.body["state"]["State"])
            assert RemotePaymentState.from_json(state) is not None


# -- found by these fuzzers and fixed in the signer ------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 50_000 + b"1" + b"}" * 50_000],
    ids=["arrays", "objects"],
)
def test_deeply_nested_body_is_an_error_response(body: bytes) -> None:
    resp = SIGNER.generate_live_payment(body)
    assert resp.status == 400


@pytest.mark.parametrize(
    "text",
    ["1" * 5000, "1/" + "3" * 5000, "0." + "1" * 5000, "\u0661\u0662"],
    ids=["long-int", "long-den", "long-decimal", "arabic-digits"],
)
def test_parse_rat_never_raises_a_non_pm_error(text: str) -> None:
    from pm.errors import PMError
    from pm.signer.state import parse_rat

    try:
        result = parse_rat(text)
    except PMError:
        return
    if not text.isascii():
        assert result is None  # Go's SetString takes ASCII digits only
