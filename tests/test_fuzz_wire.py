"""Bounded fuzzing of the wire and calldata decoders (issue 9): ``pm.wire`` (Payment bytes,
``Livepeer-Payment`` header values, OrchestratorInfo, PaymentResult, redeemer Ticket, flat
signatures) and ``pm.abi`` (TicketBroker calldata and return data).

Inputs are random bytes/text and, more usefully, valid encodings with bytes flipped, inserted,
deleted or truncated. Only ``PMError`` may escape a decoder; whatever a decoder accepts must
survive a re-encode/decode round trip unchanged, and a decoded Payment must either become a
TicketBatch or be refused with a ``PMError``.
"""

from __future__ import annotations

import base64
from fractions import Fraction
from typing import Any

import pytest
from fuzz_support import budget, edge_bytes, fuzz_input, junk, mark_rejected, mostly
from hypothesis import given
from hypothesis import strategies as st

from pm.crypto import PrivateKeySigner
from pm.errors import InvalidType, PMError
from pm.ticket import ExpirationParams, TicketBatch, TicketParams

wire = pytest.importorskip("pm.wire")
abi = pytest.importorskip("pm.abi")

SIGNER = PrivateKeySigner(bytes(31) + b"\x09")
RECIPIENT = bytes.fromhex("73aed7b5deb30222fa896f399d46cc99c7bee57f")
PARAMS = TicketParams(
    RECIPIENT, 10**15, 2**254 + 12345, bytes(range(32)), 2**200 + 7, 1234, Fraction(7, 3),
    ExpirationParams(11, b"\x0b" * 32),
)  # fmt: skip
EXP = ExpirationParams(11, b"\x0b" * 32)


def _batch(n: int) -> TicketBatch:
    nonces = list(range(1, n + 1))
    sigs = SIGNER.sign_tickets(PARAMS.ticket(SIGNER.address, 0, EXP), nonces)
    return TicketBatch(PARAMS, SIGNER.address, EXP, nonces, sigs)  # type: ignore[arg-type]


PAYMENTS = [wire.Payment.from_batch(_batch(n), wire.PriceInfo(7, 3)) for n in (0, 1, 3)]
PAYMENT_BYTES = [wire.encode_payment(p) for p in PAYMENTS]
REDEEM_CALLDATA = [
    abi.encode_redeem_winning_ticket(_batch(1).ticket(0), _batch(1).sig(0), 2**255 + 1),
    abi.encode_batch_redeem_winning_tickets(
        [abi.Redemption(_batch(2).ticket(i), _batch(2).sig(i), i + 5) for i in range(2)]
    ),
    abi.encode_call("fundDepositAndReserveFor", SIGNER.address, 10**18, 5),
    abi.encode_call("getSenderInfo", SIGNER.address),
    abi.encode_call("claimableReserve", RECIPIENT, SIGNER.address),
]
RESULTS = [
    ("getSenderInfo", abi.encode_result("getSenderInfo", (10**18, 0), (5, 0))),
    ("isUnlockInProgress", abi.encode_result("isUnlockInProgress", True)),
    ("getTicketHash", abi.encode_result("getTicketHash", bytes(range(32)))),
    ("unlockPeriod", abi.encode_result("unlockPeriod", 40)),
]


@st.composite
def mutated(draw: st.DrawFn, seeds: list[bytes]) -> bytes:
    """A seed encoding with a few random edits (flip, set, insert, delete, truncate, extend)."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        op = draw(st.sampled_from(["flip", "set", "insert", "delete", "truncate", "extend"]))
        pos = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and data:
            data[pos] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF]))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete" and data:
            del data[pos : pos + draw(st.integers(1, 33))]
        elif op == "truncate":
            del data[pos:]
        elif op == "extend":
            data += draw(st.binary(max_size=70))
    return bytes(data)


def _payment_invariants(p: Any) -> None:
    assert isinstance(p, wire.Payment)
    again = wire.decode_payment(wire.encode_payment(p))
    assert again == p
    # A decoded payment either becomes a batch or is refused with a PMError.
    try:
        price = wire.check_payment(p)
    except PMError:
        return
    if price is not None:
        batch = p.to_batch()
        assert len(batch) == len(p)
        batch.validate(None)


payment_bytes = st.one_of(mutated(PAYMENT_BYTES), st.binary(max_size=200), junk)


@budget(200)
@given(data=payment_bytes)
def test_fuzz_decode_payment(data: bytes) -> None:
    with fuzz_input("wire.decode_payment"):
        _payment_invariants(wire.decode_payment(data))


header_values = st.one_of(
    mutated(PAYMENT_BYTES).map(lambda b: base64.b64encode(b).decode()),
    mutated([base64.b64encode(b) for b in PAYMENT_BYTES]).map(lambda b: b.decode("latin-1")),
    mutated([base64.b64encode(b) for b in PAYMENT_BYTES]),
    st.text(max_size=60),
    st.text(alphabet="ABCDabcd0123+/=\r\n -_", max_size=60),
    junk,
)


@budget(200)
@given(value=header_values)
def test_fuzz_decode_payment_header(value: str | bytes) -> None:
    with fuzz_input("wire.decode_payment_header"):
        p = wire.decode_payment_header(value)
        raw = value.encode("ascii") if isinstance(value, str) else value
        raw = raw.replace(b"\r", b"").replace(b"\n", b"")
        assert p == wire.decode_payment(base64.b64decode(raw, validate=True))
        _payment_invariants(p)


@budget(150)
@given(
    data=st.one_of(mutated(PAYMENT_BYTES), st.binary(max_size=200), junk),
    which=st.sampled_from(["orchestrator_info", "payment_result", "redeemer_ticket"]),
)
def test_fuzz_decode_other_messages(data: bytes, which: str) -> None:
    decode = getattr(wire, f"decode_{which}")
    encode = getattr(wire, f"encode_{which}")
    with fuzz_input(f"wire.decode_{which}"):
        msg = decode(data)
        assert decode(encode(msg)) == msg


@budget(100)
@given(
    data=st.one_of(
        st.binary(max_size=300),
        st.integers(0, 3).flatmap(lambda n: st.binary(min_size=65 * n, max_size=65 * n)),
        junk,
    )
)
def test_fuzz_split_sigs(data: bytes) -> None:
    with fuzz_input("wire.split_sigs"):
        sigs = wire.split_sigs(data)
        assert b"".join(sigs) == data and all(len(s) == 65 for s in sigs)


# -- calldata ---------------------------------------------------------------------------------

SELECTORS = [f.selector for f in abi.FUNCTIONS]
calldata = st.one_of(
    mutated(REDEEM_CALLDATA),
    st.tuples(st.sampled_from(SELECTORS), st.binary(max_size=300)).map(lambda t: t[0] + t[1]),
    st.tuples(
        st.sampled_from(SELECTORS),
        st.lists(st.sampled_from([bytes(32), b"\xff" * 32, (32).to_bytes(32), (1).to_bytes(32)])),
    ).map(lambda t: t[0] + b"".join(t[1])),
    st.binary(max_size=40),
    junk,
    st.integers(-3, 300),
)


@budget(250)
@given(data=calldata)
def test_fuzz_decode_call(data: bytes) -> None:
    with fuzz_input("abi.decode_call"):
        call = abi.decode_call(data)
        # Strict decoding accepts only the canonical encoding, so re-encoding gives the input.
        assert abi.encode_call(call.name, *call.args) == data


@budget(150)
@given(data=mutated(REDEEM_CALLDATA[:2]))
def test_fuzz_decode_redemptions(data: bytes) -> None:
    with fuzz_input("abi.decode_(batch_)redeem_winning_ticket(s)"):
        try:
            r = abi.decode_redeem_winning_ticket(data)
        except PMError:
            rs = abi.decode_batch_redeem_winning_tickets(data)
            assert abi.encode_batch_redeem_winning_tickets(rs) == data
        else:
            assert abi.encode_redeem_winning_ticket(r.ticket, r.sig, r.recipient_rand) == data


@budget(150)
@given(
    case=st.sampled_from(RESULTS),
    data=st.one_of(st.none(), st.binary(max_size=200), junk),
    use_good=st.booleans(),
)
def test_fuzz_decode_result(case: tuple[str, bytes], data: Any, use_good: bool) -> None:
    name, good = case
    with fuzz_input("abi.decode_result"):
        body = good if use_good else data
        values = abi.decode_result(name, body)
        assert abi.encode_result(name, *values) == body


abi_ints = mostly(st.integers(0, 2**32), st.sampled_from([-1, 2**256 - 1, 2**256]))


@budget(100)
@given(
    value=st.tuples(
        mostly(edge_bytes(20), edge_bytes(19, 0)),
        mostly(edge_bytes(20), edge_bytes(21)),
        abi_ints,
        abi_ints,
        abi_ints,
        mostly(edge_bytes(32), edge_bytes(31)),
        mostly(edge_bytes(0, 64), edge_bytes(63, 65)),
    )
)
def test_fuzz_ticket_from_abi(value: tuple[Any, ...]) -> None:
    with fuzz_input("abi.ticket_from_abi"):
        t = abi.ticket_from_abi(value)
        assert abi.ticket_from_abi(abi.ticket_to_abi(t)) == t


# -- wrong argument types (found by these fuzzers, fixed in 004cc60) ---------------------------


@pytest.mark.parametrize("data", [None, -1, 5, [300] * 5])
def test_abi_decoders_reject_non_bytes_with_pm_error(data: Any) -> None:
    for decode in (
        abi.decode_call,
        abi.decode_redeem_winning_ticket,
        abi.decode_batch_redeem_winning_tickets,
    ):
        with pytest.raises(InvalidType):  # not "unknown selector 0x00000000" for an int
            decode(data)
    with pytest.raises(InvalidType):
        abi.decode_result("getSenderInfo", data)


@pytest.mark.parametrize(
    "value",
    [None, [1, 2], [b"", None, None, None, None, None, None]],
    ids=["none", "short", "nones"],
)
def test_ticket_from_abi_rejects_wrong_shapes_with_pm_error(value: Any) -> None:
    with pytest.raises(PMError):
        abi.ticket_from_abi(value)


@pytest.mark.parametrize("data", [5, "a" * 65])
def test_split_sigs_rejects_non_bytes_with_pm_error(data: Any) -> None:
    with pytest.raises(PMError):
        wire.split_sigs(data)


@pytest.mark.parametrize("data", [None, 5, "AAAA", object()])
def test_wire_decoders_reject_non_bytes_with_pm_error(data: Any) -> None:
    for decode in (
        wire.decode_payment,
        wire.decode_orchestrator_info,
        wire.decode_payment_result,
        wire.decode_redeemer_ticket,
    ):
        with pytest.raises(PMError):
            decode(data)
    if not isinstance(data, str):
        with pytest.raises(PMError):
            wire.decode_payment_header(data)


# -- the CLI edge: ``pm decode VALUE`` on untrusted text -----------------------------------------

decode_values = st.one_of(
    calldata.filter(lambda d: isinstance(d, bytes)).map(lambda b: "0x" + b.hex()),
    mutated(PAYMENT_BYTES).map(lambda b: base64.b64encode(b).decode()),
    st.text(alphabet="0123456789abcdefxX+/=ABCD \n", max_size=80),
    st.text(max_size=30),
)


@budget(150)
@given(value=decode_values, as_json=st.booleans())
def test_fuzz_decode_cli(value: str, as_json: bool) -> None:
    import contextlib
    import io
    import json

    from pm import cli

    out, err = io.StringIO(), io.StringIO()
    with fuzz_input("pm decode"), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(["decode"] + (["--json"] if as_json else []) + ["--", value])
    assert rc in (0, 2)  # decoded, or one error line; never a traceback
    assert "Traceback" not in out.getvalue() + err.getvalue()
    if rc == 0 and as_json:
        assert isinstance(json.loads(out.getvalue()), dict)
    if rc == 2:
        assert err.getvalue().count("\n") == 1
        mark_rejected("pm decode")
