"""Review of the roles (sender.py, recipient.py, chain.py, accounting.py) against
spec/protocol.md §4-§8 and DESIGN.md: one regression test per bug found in review.

Each test failed before its fix; the fix is the commit that follows the test.
"""

from __future__ import annotations

import pickle
import random
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pm.accounting import Balances
from pm.chain import InMemoryChain, SenderInfo
from pm.crypto import PrivateKeySigner
from pm.errors import (
    InvalidRecipientRand,
    InvalidTicketSignature,
    InvalidType,
    NonceAlreadySeen,
    PMError,
    TicketParamsExpired,
    TooManyNonces,
)
from pm.recipient import (
    ETHEREUM_MAINNET,
    Recipient,
    RecipientConfig,
    recipient_rand,
    recipient_rand_hash,
)
from pm.sender import GO_LIVEPEER_POLICY, Sender
from pm.ticket import TicketBatch, TicketParams, is_winning

SECRET = bytes(range(0x40, 0x60))
KEY = bytes(range(1, 33))
RECIPIENT = bytes.fromhex("73aed7b5deb30222fa896f399d46cc99c7bee57f")


def _setup(
    config: RecipientConfig | None = None, gas_price: int | None = 10**9
) -> tuple[Recipient, Sender, InMemoryChain]:
    signer = PrivateKeySigner(KEY)
    chain = InMemoryChain(
        l1_block=100, round_=5, round_block_hashes={5: b"\x11" * 32}, gas_price=gas_price
    )
    chain.set_sender_info(signer.address, SenderInfo(10**20, 0, 10**20))
    r = Recipient(RECIPIENT, SECRET, chain, config or RecipientConfig())
    return r, Sender(signer, GO_LIVEPEER_POLICY, chain), chain


def _attribute_values(exc: BaseException) -> list[Any]:
    values: list[Any] = list(exc.args)
    values += list(vars(exc).values())
    return values


# -- the recipientRand check must not be an oracle for commitments (§4, DESIGN.md secrets) --------


def test_invalid_recipient_rand_error_does_not_hand_out_a_commitment_for_tampered_params() -> None:
    """A sender that changes the face value gets the fatal "invalid recipientRand…" error. The
    error must not carry keccak(recipientRand) of the TAMPERED params: that value is exactly the
    recipientRandHash O would accept for them, so a sender that sees the error's attributes
    (logged, serialized into a JSON error body, …) could mint tickets with any face value it
    likes and have them credited. Only the ticket's own (public) hash may be kept."""
    r, snd, _ = _setup()
    p = r.ticket_params(snd.address, Fraction(1))
    batch = snd.create_batch(snd.start_session(p), 2)
    forged_fv = p.face_value * 1000
    tampered = TicketParams(
        p.recipient,
        forged_fv,
        p.win_prob,
        p.recipient_rand_hash,
        p.seed,
        p.expiration_block,
        p.price_per_pixel,
        p.expiration_params,
    )
    forged = TicketBatch(
        tampered, batch.sender, batch.expiration_params, batch.nonces, batch.signatures
    )
    res = r.receive(forged, p.seed, Fraction(1))
    assert isinstance(res.fatal, InvalidRecipientRand)
    oracle = recipient_rand_hash(
        recipient_rand(
            SECRET,
            p.seed,
            snd.address,
            forged_fv,
            p.win_prob,
            p.expiration_block,
            Fraction(1),
            batch.expiration_params.aux_data,
        )
    )
    for value in _attribute_values(res.fatal):
        assert value != oracle, "the error leaks the commitment for the tampered params"
    assert oracle not in pickle.dumps(res.fatal)
    assert res.fatal.recipient_rand_hash == p.recipient_rand_hash  # the compared public value


# -- the HMAC secret given with a wrong type must not be kept in the error (DESIGN.md) -----------


@pytest.mark.parametrize(
    "bad", [SECRET.hex(), int.from_bytes(SECRET, "big"), list(SECRET)], ids=["hex", "int", "list"]
)
def test_recipient_rand_wrong_type_secret_is_not_kept_in_the_error(bad: Any) -> None:
    with pytest.raises(InvalidType) as info:
        recipient_rand(bad, 1, b"\x01" * 20, 1, 1, 1, Fraction(1), b"")
    assert bad not in _attribute_values(info.value)
    assert SECRET.hex() not in repr(pickle.dumps(info.value))


def test_random_bytes_source_returning_a_wrong_type_does_not_leak_the_secret() -> None:
    leaked = SECRET.hex()
    with pytest.raises(InvalidType) as info:
        Recipient(RECIPIENT, None, InMemoryChain(), random_bytes=lambda n: leaked)  # type: ignore[arg-type,return-value]
    assert leaked not in _attribute_values(info.value)


# -- gas price: go-livepeer's GasPriceMonitor never reports less than minGasPrice (§5.2 3.1) -----


def test_gas_price_is_never_below_the_minimum() -> None:
    """go-livepeer's GasPriceMonitor.GasPrice() returns max(stored, minGasPrice), the stored
    value starting at 0 and polled values below the minimum being ignored. minGasPrice exists
    because providers returned 0 (#1851), which collapsed the face value to EV × 100: with
    nothing acceptable polled the recipient must use the minimum, not 0."""
    chain = InMemoryChain(gas_price=5)
    r = Recipient(RECIPIENT, SECRET, chain, RecipientConfig(min_gas_price=10))
    assert r.gas_price() == 10  # 5 is ignored; the floor applies
    chain.gas_price_wei = None
    assert r.gas_price() == 10
    chain.gas_price_wei = 20
    assert r.gas_price() == 20
    chain.gas_price_wei = 3  # below the minimum: the old value stays
    assert r.gas_price() == 20


def test_mainnet_face_value_uses_min_gas_price_when_the_oracle_says_zero() -> None:
    r, snd, _ = _setup(ETHEREUM_MAINNET, gas_price=0)
    p = r.ticket_params(snd.address, Fraction(1))
    cfg = ETHEREUM_MAINNET
    assert p.face_value == cfg.redeem_gas * cfg.min_gas_price * cfg.tx_cost_multiplier


# -- sender: bad input raises a PMError, never a bare Python exception ---------------------------


@pytest.mark.parametrize("bad", ["x", 5, {"expiration_block": 1}])
def test_validate_ticket_params_rejects_a_non_params_value(bad: Any) -> None:
    _, snd, _ = _setup()
    with pytest.raises(InvalidType):
        snd.validate_ticket_params(bad)


@pytest.mark.parametrize("bad", [b"0x12", 5, [1], None])
def test_session_functions_reject_a_non_str_session_id(bad: Any) -> None:
    _, snd, _ = _setup()
    for call in (
        lambda: snd.create_batch(bad, 1),
        lambda: snd.session_params(bad),
        lambda: snd.session_nonce(bad),
        lambda: snd.ev(bad),
        lambda: snd.cleanup_session(bad),
    ):
        with pytest.raises(PMError):
            call()


# -- balances: bad keys raise a PMError instead of crashing or making bogus entries -------------


@pytest.mark.parametrize("addr", ["abc", 5, None, b"\x01" * 19])
def test_balances_reject_a_bad_address(addr: Any) -> None:
    b = Balances()
    with pytest.raises(PMError):
        b.credit(addr, "m", 1)
    with pytest.raises(PMError):
        b.balance(addr, "m")
    assert len(b) == 0  # in particular no entry keyed by bytes(5) == 5 zero bytes


@pytest.mark.parametrize("manifest", [5, None, b"m"])
def test_balances_reject_a_non_str_manifest_id(manifest: Any) -> None:
    b = Balances()
    with pytest.raises(InvalidType):
        b.credit(b"\x01" * 20, manifest, 1)
    assert len(b) == 0


def test_recipient_balance_helpers_reject_a_bad_sender() -> None:
    r, _, _ = _setup()
    with pytest.raises(PMError):
        r.balance("0xabc")
    with pytest.raises(PMError):
        r.debit_fees("0xabc", "m", Fraction(1), 5)
    with pytest.raises(PMError):
        r.sufficient_balance(b"\x00" * 3)


# -- a replayed batch costs one EIP-55 formatting, not one per ticket ---------------------------


def test_replayed_batch_formats_the_sender_address_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every "already seen" error of a replayed payment names the same sender; formatting its
    EIP-55 address (a keccak and a 40-character join) once per ticket made the error path of
    a 10,000-ticket replay ~10-40 µs per ticket of pure Python, against DESIGN.md's ≤ 1 µs
    batch overhead, and handed a replaying sender a cheap way to burn the recipient's CPU."""
    import pm.crypto

    r, snd, _ = _setup()
    p = r.ticket_params(snd.address, Fraction(1))
    batch = snd.create_batch(snd.start_session(p), 50)
    assert r.receive(batch, p.seed, Fraction(1)).ok
    calls: list[bytes] = []
    real = pm.crypto.to_checksum_address

    def counting(addr: bytes) -> str:
        calls.append(addr)
        return real(addr)

    monkeypatch.setattr(pm.crypto, "to_checksum_address", counting)
    replay = r.receive(batch, p.seed, Fraction(1))
    assert replay.first_error is not None and len(replay) == 50
    texts = {str(res.error) for res in replay}
    assert len(texts) == 50 and all(real(snd.address) in t for t in texts)
    assert len(calls) <= 1


# -- staging with bad arguments must not destroy the reserved credit (§8.2) ---------------------


@pytest.mark.parametrize(
    ("min_credit", "ev"), [(2, -1), (2.0, 1), (2, 1.5), ("2", 1), (Fraction(2), "1")]
)
def test_stage_update_with_bad_arguments_keeps_the_balance(min_credit: Any, ev: Any) -> None:
    """Balance.stage_update reserved (zeroed) the balance before checking its arguments, so a
    negative EV or a float amount raised only after the existing credit was gone: the
    gateway lost the credit it had paid for."""
    balances = Balances()
    bal = balances.for_key(b"\x01" * 20, "m")
    bal.credit(5)
    with pytest.raises(PMError):
        bal.stage_update(min_credit, ev)
    assert bal.balance() == 5


# -- receive checks the manifest id before it consumes nonces (§5.6, §8.1) ----------------------


@pytest.mark.parametrize("manifest", [5, None, b"m"])
def test_receive_rejects_a_bad_manifest_id_before_touching_state(manifest: Any) -> None:
    """A non-str manifest id was only caught when crediting, after the nonces had been
    recorded: the payment raised, and re-sending it correctly then failed with "already
    seen" and credited nothing."""
    r, snd, _ = _setup()
    p = r.ticket_params(snd.address, Fraction(1))
    batch = snd.create_batch(snd.start_session(p), 3)
    with pytest.raises(InvalidType):
        r.receive(batch, p.seed, Fraction(1), manifest_id=manifest)
    res = r.receive(batch, p.seed, Fraction(1), manifest_id="m")
    assert res.ok and res.credited == 3 * p.ev
    assert r.balance(snd.address, "m") == 3 * p.ev


# -- Sender checks its signer up front -----------------------------------------------------------


class _BadAddressSigner:
    address = 5  # bytes(5) would be five zero bytes

    def sign(self, msg32: bytes) -> bytes:
        return bytes(65)


@pytest.mark.parametrize("signer", [object(), "0xabc", _BadAddressSigner()])
def test_sender_rejects_a_signer_without_a_20_byte_address(signer: Any) -> None:
    """Sender(signer, …) did bytes(signer.address): a non-signer died with AttributeError,
    and an int address silently became zero bytes, only failing later inside create_batch."""
    with pytest.raises(PMError):
        Sender(signer, GO_LIVEPEER_POLICY, InMemoryChain())


# -- receive matches a ticket-by-ticket model of go-livepeer's ProcessPayment (§5.4-§5.6) -------


_FORGER = PrivateKeySigner(bytes(range(2, 34)))


def _wins(sig: bytes, p: TicketParams, sender: bytes) -> bool:
    rand = recipient_rand(
        SECRET,
        p.seed,
        sender,
        p.face_value,
        p.win_prob,
        p.expiration_block,
        p.price_per_pixel,
        p.expiration_params.aux_data if p.expiration_params else b"",
    )
    return is_winning(sig, rand, p.win_prob)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1),  # which params (two sessions share one recipient)
            st.lists(st.integers(0, 40), min_size=1, max_size=10),  # nonces, duplicates allowed
            st.sets(st.integers(0, 5), max_size=2),  # positions signed by the wrong key
            st.integers(0, 25),  # L1 blocks to advance before the payment
        ),
        min_size=1,
        max_size=6,
    )
)
def test_receive_matches_a_per_ticket_model(payments: list[Any]) -> None:
    """The batched receive (one native call, a set-based fast path) must give, ticket by
    ticket, what go-livepeer's loop gives: signature errors skip the nonce check, nonces are
    unique per recipientRand up to the limit (here 6), expiry after the nonce, credit of the
    exact EV until the payment's first error, winners reported even with nonce/expiry
    errors, and nonce sets dropped once their params expire."""
    limit = 6
    # face value capped at 2 × EV: win probability ≈ 1/2, so winners show up
    cfg = RecipientConfig(
        redeem_gas=1, ticket_ev=10**9, max_face_value=2 * 10**9, max_sender_nonces=limit
    )
    r, snd, chain = _setup(cfg)
    params = [r.ticket_params(snd.address, Fraction(1)) for _ in range(2)]
    seen: dict[bytes, set[int]] = {}
    expiry: dict[bytes, int] = {}
    cleaned = chain.l1_block
    for which, nonces, forged, advance in payments:
        p = params[which]
        chain.advance(advance)
        last = chain.l1_block
        if last > cleaned:  # go-livepeer cleans the nonce sets on each NEW L1 block
            cleaned = last
            for key in [k for k, e in expiry.items() if e <= last]:
                del seen[key], expiry[key]
        template = p.ticket(snd.address, 0, p.expiration_params)
        sigs = [
            (_FORGER if i in forged else PrivateKeySigner(KEY)).sign(template.with_nonce(n).hash())
            for i, n in enumerate(nonces)
        ]
        batch = TicketBatch.from_signatures(p, snd.address, p.expiration_params, nonces, sigs)
        before = r.balance(snd.address) or Fraction(0)
        res = r.receive(batch, p.seed, Fraction(1))
        credited = Fraction(0)
        clean = True
        for i, n in enumerate(nonces):
            got = res[i]
            want: type[Exception] | None = None
            if i in forged:
                want = InvalidTicketSignature
            else:
                s = seen.setdefault(p.recipient_rand_hash, set())
                expiry.setdefault(p.recipient_rand_hash, p.expiration_block)
                if n in s:
                    want = NonceAlreadySeen
                elif len(s) >= limit:
                    want = TooManyNonces
                else:
                    s.add(n)
                    if p.expiration_block <= last:
                        want = TicketParamsExpired
            assert type(got.error) is (want or type(None)), (i, n, got.error)
            clean = clean and want is None
            assert got.credited == clean
            if clean:
                credited += p.ev
            assert got.won is (i not in forged and _wins(sigs[i], p, snd.address))
        assert res.credited == credited
        assert (r.balance(snd.address) or Fraction(0)) - before == credited


# -- a winner-storage failure must leave the payment re-sendable (§5.6, DESIGN.md storage) ------


class _FlakySink:
    """A WinningTicketSink whose storage fails the first `failures` times."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.stored: dict[bytes, Any] = {}

    def add(self, signed_ticket: Any, params_expiration_block: int) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        self.stored.setdefault(signed_ticket.sig, signed_ticket)


@pytest.mark.parametrize("slow_path", [False, True])
def test_sink_failure_does_not_burn_the_payments_nonces(slow_path: bool) -> None:
    """receive records the nonces, then hands winners to the sink, which raises on a storage
    failure (propagated by design). The nonces stayed recorded, so the gateway re-sending the
    same payment got 'already seen' for every ticket and no credit: a transient storage error
    cost it the whole payment. The nonces recorded by a failed call are now forgotten."""
    cfg = RecipientConfig(redeem_gas=1, ticket_ev=10**9, max_face_value=2 * 10**9)
    _, snd, chain = _setup(cfg)  # win probability ≈ 1/2
    sink = _FlakySink(failures=1)
    seeds = random.Random(7)  # reproducible params, so the winners are too
    r = Recipient(RECIPIENT, SECRET, chain, cfg, sink=sink, random_bytes=seeds.randbytes)
    p = r.ticket_params(snd.address, Fraction(1))
    sid = snd.start_session(p)
    batch = snd.create_batch(sid, 12)
    if slow_path:  # a duplicate nonce forces the per-ticket path
        batch = TicketBatch.from_signatures(
            p,
            batch.sender,
            batch.expiration_params,
            [*batch.nonces, batch.nonces[0]],
            [*batch.sigs(), batch.sig(0)],
        )
    with pytest.raises(OSError):
        r.receive(batch, p.seed, Fraction(1))
    res = r.receive(batch, p.seed, Fraction(1))
    assert [type(x.error) for x in res][:12] == [type(None)] * 12
    assert res.credited == 12 * p.ev
    assert set(sink.stored) == {batch.sig(i) for i in res.winners} != set()
