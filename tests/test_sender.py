"""Sender: spending policy and validateTicketParams (§6.3), sessions and nonces (§6.1), batch
minting and the expiration-params fallback (§6.2), against spec/protocol.md §10.1.6."""

from __future__ import annotations

import threading
from fractions import Fraction
from typing import Any

import pytest
from conftest import load_vectors

from pm.chain import InMemoryChain, SenderInfo
from pm.crypto import PrivateKeySigner, recover_address
from pm.errors import (
    ChainViewError,
    ExpirationBlockZero,
    InvalidInput,
    InvalidType,
    NoSenderDeposit,
    PMError,
    SenderUnlocking,
    SenderValidationError,
    SessionNotFound,
    TicketEVTooHigh,
    TicketFaceValueTooHigh,
    TicketParamsError,
    TicketParamsExpired,
    TicketParamsNil,
    TicketSigningError,
    TotalTicketEVTooHigh,
)
from pm.pricing import expected_value
from pm.sender import GO_LIVEPEER_POLICY, Sender, SpendingPolicy
from pm.ticket import ExpirationParams, TicketParams

M = 2**256 - 1
VEC = load_vectors("roles_sender.json")
RECIPIENT = bytes.fromhex("73AEd7b5dEb30222fa896f399d46cC99c7BEe57F")
RRH = bytes(range(32))
HASH5 = b"\x55" * 32


def win_prob(expr: str) -> int:
    return {"M": M, "floor(M/2)": M // 2, "floor(M/4)": M // 4}.get(expr) or int(expr)


def build(case: dict[str, Any]) -> tuple[Sender, TicketParams, int, PrivateKeySigner]:
    c = {**VEC["defaults"], **case}
    signer = PrivateKeySigner(bytes([3]) * 32)
    chain = InMemoryChain(
        l1_block=c["last_seen_block"], round_=c["round"], round_block_hashes={c["round"]: HASH5}
    )
    chain.set_sender_info(
        signer.address, SenderInfo(c["deposit"], c["withdraw_round"], c["reserve"], 0)
    )
    policy = SpendingPolicy(
        Fraction(c["max_ev"]), Fraction(c["max_total_ev"]), c["deposit_multiplier"]
    )
    params = TicketParams(
        RECIPIENT,
        c["face_value"],
        win_prob(c["win_prob"]),
        RRH,
        7,
        c["expiration_block"],
        Fraction(1),
        ExpirationParams(5, HASH5),
    )
    return Sender(signer, policy, chain), params, c["num_tickets"], signer


@pytest.mark.parametrize("case", VEC["cases"], ids=lambda c: c["name"])
def test_validate_ticket_params_vectors(case: dict[str, Any]) -> None:
    sender, params, n, _ = build(case)
    if case["error"] is None:
        sender.validate_ticket_params(params, n)
        batch = sender.create_batch(sender.start_session(params), n)
        assert len(batch) == n
    else:
        with pytest.raises(TicketParamsError) as exc:
            sender.validate_ticket_params(params, n)
        assert str(exc.value) == case["error"]
        # create_batch runs the same checks before signing anything
        sid = sender.start_session(params)
        with pytest.raises(TicketParamsError):
            sender.create_batch(sid, n)
        assert sender.session_nonce(sid) == 0


def test_error_attributes() -> None:
    sender, params, _, _ = build({"face_value": 202, "win_prob": "floor(M/2)", "max_ev": 1})
    with pytest.raises(TicketEVTooHigh) as ev_err:
        sender.validate_ticket_params(params)
    assert ev_err.value.ev == expected_value(202, M // 2) and ev_err.value.max_ev == 1
    sender, params, _, _ = build(
        {"face_value": 202, "win_prob": "floor(M/2)", "max_ev": 150, "max_total_ev": 200}
    )
    with pytest.raises(TotalTicketEVTooHigh) as tot:
        sender.validate_ticket_params(params, 2)
    assert tot.value.num_tickets == 2 and tot.value.total_ev == 2 * expected_value(202, M // 2)
    sender, params, _, _ = build({"deposit": 300, "deposit_multiplier": 5, "face_value": 61})
    with pytest.raises(TicketFaceValueTooHigh) as fv:
        sender.validate_ticket_params(params)
    assert (fv.value.face_value, fv.value.max_face_value) == (61, 60)
    sender, params, _, _ = build({"withdraw_round": 6})
    with pytest.raises(SenderUnlocking) as unl:
        sender.validate_ticket_params(params)
    assert isinstance(unl.value, SenderValidationError)
    assert (unl.value.withdraw_round, unl.value.last_initialized_round) == (6, 5)
    sender, params, _, _ = build({"last_seen_block": 100, "expiration_block": 101})
    with pytest.raises(TicketParamsExpired) as exp:
        sender.validate_ticket_params(params)  # within the 1-block buffer
    assert (exp.value.expiration_block, exp.value.last_seen_block) == (101, 100)
    sender, params, _, _ = build({"last_seen_block": 100, "expiration_block": 102})
    sender.validate_ticket_params(params)


def test_nil_params_and_expiration_low_64_bits() -> None:
    sender, _, _, _ = build({})
    with pytest.raises(TicketParamsNil, match=r"^ticketParams is nil$"):
        sender.validate_ticket_params(None)
    p = TicketParams(RECIPIENT, 100, 100, RRH, 7, 2**64, Fraction(1))
    with pytest.raises(ExpirationBlockZero):
        sender.validate_ticket_params(p)  # Go reads the low 64 bits: 2**64 is "0"


def test_free_tickets_skip_the_rest() -> None:
    sender, _, _, _ = build({"deposit": 0, "reserve": 0})
    free = TicketParams(RECIPIENT, 0, 0, RRH, 7, 100, Fraction(0))
    sender.validate_ticket_params(free, 10)
    with pytest.raises(SenderValidationError, match=r"^no sender reserve$"):
        sender.validate_ticket_params(TicketParams(RECIPIENT, 1, 1, RRH, 7, 100), 1)
    sender, _, _, _ = build({"deposit": 0})
    with pytest.raises(NoSenderDeposit):
        sender.validate_ticket_params(TicketParams(RECIPIENT, 1, 1, RRH, 7, 100), 1)


def test_policy_max_face_value_cap() -> None:
    signer = PrivateKeySigner(bytes([3]) * 32)
    chain = InMemoryChain(l1_block=0, round_=5)
    chain.set_sender_info(signer.address, SenderInfo(10**6, 0, 10, 0))
    policy = SpendingPolicy(Fraction(100), Fraction(100), 1, max_face_value=150)
    sender = Sender(signer, policy, chain)
    ok = TicketParams(RECIPIENT, 150, 100, RRH, 7, 100)
    sender.validate_ticket_params(ok)
    with pytest.raises(TicketFaceValueTooHigh, match=r"^ticket faceValue 151 > max faceValue 150$"):
        sender.validate_ticket_params(TicketParams(RECIPIENT, 151, 100, RRH, 7, 100))


def test_chain_errors_pass_through_or_keep_their_text() -> None:
    sender, params, _, _ = build({})
    assert isinstance(sender.chain, InMemoryChain)
    sender.chain.sender_info_error = RuntimeError("eth_call failed")
    with pytest.raises(ChainViewError, match=r"^eth_call failed$") as exc:
        sender.validate_ticket_params(params)
    assert isinstance(exc.value.cause, RuntimeError)
    sender.chain.sender_info_error = InvalidInput("a pm error")
    with pytest.raises(InvalidInput, match="a pm error"):
        sender.validate_ticket_params(params)


def test_spending_policy_validation_and_preset() -> None:
    assert SpendingPolicy.go_livepeer_defaults() == GO_LIVEPEER_POLICY
    assert GO_LIVEPEER_POLICY.max_ticket_ev == 3_000_000_000_000
    assert GO_LIVEPEER_POLICY.max_total_ev == 20_000_000_000_000
    assert GO_LIVEPEER_POLICY.deposit_multiplier == 1
    assert isinstance(SpendingPolicy(5, 7, 1).max_ticket_ev, Fraction)  # type: ignore[arg-type]
    for bad in (
        lambda: SpendingPolicy(Fraction(-1), Fraction(1), 1),
        lambda: SpendingPolicy(Fraction(1), Fraction(-1), 1),
        lambda: SpendingPolicy(Fraction(1), Fraction(1), 0),
        lambda: SpendingPolicy(Fraction(1), Fraction(1), -2),
        lambda: SpendingPolicy(Fraction(1), Fraction(1), 1, max_face_value=-1),
    ):
        with pytest.raises(InvalidInput):
            bad()
    for bad_type in (
        lambda: SpendingPolicy(1.5, Fraction(1), 1),  # type: ignore[arg-type]
        lambda: SpendingPolicy(Fraction(1), Fraction(1), 1.0),  # type: ignore[arg-type]
        lambda: SpendingPolicy(Fraction(1), Fraction(1), True),
    ):
        with pytest.raises(PMError):
            bad_type()
    with pytest.raises(InvalidType):
        Sender(PrivateKeySigner(bytes([3]) * 32), "policy", InMemoryChain())  # type: ignore[arg-type]


# -- sessions and batches (§6.1, §6.2) ----------------------------------------------------


def test_session_id_nonces_and_signatures() -> None:
    sender, params, _, signer = build({})
    sid = sender.start_session(params)
    assert sid == "0x" + RRH.hex()
    batch = sender.create_batch(sid, 3)
    assert list(batch.nonces) == [1, 2, 3]
    assert batch.sender == signer.address and batch.params == params
    assert batch.expiration_params == ExpirationParams(5, HASH5)
    for i, t in enumerate(batch.tickets()):
        assert recover_address(t.hash(), batch.sig(i)) == signer.address
        assert t.sender == signer.address and t.recipient == RECIPIENT
    assert list(sender.create_batch(sid, 2).nonces) == [4, 5]
    assert sender.session_nonce(sid) == 5
    assert sender.ev(sid) == expected_value(100, 100)
    # restarting the session restarts the nonces (new params from O)
    assert sender.start_session(params, nonce=41) == sid
    assert list(sender.create_batch(sid, 1).nonces) == [42]
    sender.cleanup_session(sid)
    with pytest.raises(SessionNotFound) as exc:
        sender.create_batch(sid, 1)
    assert str(exc.value) == "error loading session: " + sid.encode().hex()


def test_signer_without_batch_support_signs_each_ticket_hash() -> None:
    key = PrivateKeySigner(bytes([3]) * 32)
    requests: list[bytes] = []

    class Recording:
        address = key.address

        def sign(self, msg32: bytes) -> bytes:
            requests.append(msg32)
            return key.sign(msg32)

    _, params, _, _ = build({})
    base, _, _, _ = build({})
    sender = Sender(Recording(), base.policy, base.chain)
    batch = sender.create_batch(sender.start_session(params), 3)
    assert requests == [t.hash() for t in batch.tickets()]
    assert all(len(r) == 32 for r in requests)
    native = Sender(key, base.policy, base.chain)
    again = native.create_batch(native.start_session(params), 3)
    assert again.signatures == batch.signatures  # RFC 6979: byte-identical either way


def test_signing_errors_are_wrapped() -> None:
    class Broken:
        address = bytes(19) + b"\x01"

        def sign(self, msg32: bytes) -> bytes:
            raise RuntimeError("hsm offline")

    base, params, _, _ = build({})
    chain = base.chain
    assert isinstance(chain, InMemoryChain)
    chain.set_sender_info(Broken.address, SenderInfo(10**6, 0, 10, 0))
    sender = Sender(Broken(), base.policy, chain)
    sid = sender.start_session(params)
    with pytest.raises(TicketSigningError) as exc:
        sender.create_batch(sid, 1)
    assert str(exc.value) == f"error signing ticket for session: {sid}: hsm offline"


def test_expiration_params_fallback() -> None:
    sender, params, _, _ = build({})
    chain = sender.chain
    assert isinstance(chain, InMemoryChain)
    chain.set_round(9, b"\x99" * 32)
    sid_params = [
        TicketParams(RECIPIENT, 100, 100, RRH, 7, 100, Fraction(1), None),
        TicketParams(RECIPIENT, 100, 100, RRH, 7, 100, Fraction(1), ExpirationParams(0, HASH5)),
        TicketParams(RECIPIENT, 100, 100, RRH, 7, 100, Fraction(1), ExpirationParams(5)),
    ]
    for p in sid_params:
        batch = sender.create_batch(sender.start_session(p), 1)
        assert batch.expiration_params == ExpirationParams(9, b"\x99" * 32)
    # no zero-hash backdating on the sender side: a zero hash is used as is
    chain.set_round(10)
    batch = sender.create_batch(sender.start_session(sid_params[0]), 1)
    assert batch.expiration_params == ExpirationParams(10, bytes(32))
    # O's params are used when complete
    batch = sender.create_batch(sender.start_session(params), 1)
    assert batch.expiration_params == ExpirationParams(5, HASH5)


def test_bad_batch_sizes_and_nonce_exhaustion() -> None:
    sender, params, _, _ = build({})
    sid = sender.start_session(params)
    for n in (0, -1, True, 2.0):
        with pytest.raises(PMError):
            sender.create_batch(sid, n)  # type: ignore[arg-type]
    sid = sender.start_session(params, nonce=2**32 - 2)
    assert list(sender.create_batch(sid, 1).nonces) == [2**32 - 1]
    with pytest.raises(InvalidInput):
        sender.create_batch(sid, 1)
    with pytest.raises(InvalidInput):
        sender.start_session(params, nonce=2**32)


def test_concurrent_batches_vector() -> None:
    spec = VEC["batches"]
    sender, params, _, _ = build({"max_total_ev": 10**6})
    sid = sender.start_session(params)
    nonces: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def work(count: int) -> None:
        barrier.wait()
        for _ in range(count):
            b = sender.create_batch(sid, spec["batch_size"])
            with lock:
                nonces.extend(b.nonces)

    per = [
        spec["concurrent_batches"] // 8 + (1 if i < spec["concurrent_batches"] % 8 else 0)
        for i in range(8)
    ]
    threads = [threading.Thread(target=work, args=(c,)) for c in per]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(nonces)) == len(nonces) == spec["unique_nonces"]
    assert sender.session_nonce(sid) == spec["final_counter"]
    assert sorted(nonces) == list(range(1, spec["unique_nonces"] + 1))


def test_eight_threads_thousand_batches_unique_nonces() -> None:
    sender, params, _, _ = build({"max_total_ev": 10**6})
    sid = sender.start_session(params)
    seen: list[list[int]] = [[] for _ in range(8)]
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        barrier.wait()
        out = seen[k]
        for _ in range(1000):
            out.extend(sender.create_batch(sid, 1).nonces)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    allnonces = [n for chunk in seen for n in chunk]
    assert len(allnonces) == 8000 == len(set(allnonces))
    assert sorted(allnonces) == list(range(1, 8001))
    assert all(chunk == sorted(chunk) for chunk in seen)  # increasing within each thread
