"""Bounded fuzzing of the foundation's decoders and constructors (issue 9).

Each target feeds generated input (right and wrong types, lengths at every boundary, integers
around uint32/int64/uint256) to one entry point inside ``fuzz_input``: a ``PMError`` is an
accepted outcome, any other exception fails. Accepted inputs are also checked for the
invariants the rest of pm relies on (lengths, round trips, batch == one by one).
"""

from __future__ import annotations

from array import array
from fractions import Fraction
from typing import Any

import pytest
from fuzz_support import (
    budget,
    edge_bytes,
    edge_ints,
    fuzz_input,
    hashable_junk,
    hex_chars,
    junk,
    mostly,
)
from hypothesis import given
from hypothesis import strategies as st

from pm import _bindings
from pm.crypto import (
    PrivateKeySigner,
    address_from_hex,
    bytes_from_hex,
    keccak256,
    personal_digest,
    recover_address,
    recover_message_address,
    to_checksum_address,
)
from pm.errors import InvalidInput, InvalidSignature, InvalidType, PMError
from pm.ticket import (
    ExpirationParams,
    SignedTicket,
    SigStatus,
    Ticket,
    TicketBatch,
    TicketParams,
    is_winning,
    validate_batch,
)

try:
    from pm import batchverify
except ImportError:  # pragma: no cover - the batch verifier is optional (issue 10)
    batchverify = None  # type: ignore[assignment]

SIGNER = PrivateKeySigner(bytes(31) + b"\x05")
OTHER = PrivateKeySigner(bytes(31) + b"\x06")
RECIPIENT = bytes.fromhex("73aed7b5deb30222fa896f399d46cc99c7bee57f")

addresses = mostly(edge_bytes(20), st.one_of(edge_bytes(19, 21), junk))
hashes = mostly(edge_bytes(32), st.one_of(edge_bytes(0, 31, 33), junk))
small_uints = st.one_of(st.integers(min_value=0, max_value=2**64), st.integers(0, 2**256 - 1))
uints = mostly(small_uints, st.one_of(edge_ints, junk))
nonces = mostly(st.integers(min_value=0, max_value=2**32 - 1), st.one_of(edge_ints, junk))


# -- hex parsing ------------------------------------------------------------------------------


@budget(200)
@given(
    value=st.one_of(
        st.binary(max_size=40).map(lambda b: b.hex()),
        st.binary(max_size=40).map(lambda b: "0X" + b.hex().upper()),
        hex_chars,
        hex_chars.map(lambda s: "0x" + s),
        st.binary(max_size=8),
        junk,
        st.text(),
    ),
    length=st.one_of(st.none(), st.integers(min_value=-1, max_value=3)),
)
def test_fuzz_bytes_from_hex(value: Any, length: int | None) -> None:
    with fuzz_input("bytes_from_hex"):
        data = bytes_from_hex(value, length)
        body = value[2:] if value[:2] in ("0x", "0X") else value
        assert data.hex() == body.lower()  # dense, exact hex only
        assert length is None or len(data) == length


@budget(200)
@given(
    value=st.one_of(
        st.text(alphabet="0123456789abcdefABCDEF", min_size=38, max_size=42).map(
            lambda s: "0x" + s
        ),
        edge_bytes(20).map(lambda b: to_checksum_address(b)),
        edge_bytes(20).map(lambda b: "0x" + b.hex().upper()),
        hex_chars,
        junk,
    ),
    flip=st.integers(min_value=0, max_value=41),
)
def test_fuzz_address_from_hex(value: Any, flip: int) -> None:
    with fuzz_input("address_from_hex"):
        if isinstance(value, str) and flip < len(value) and value[flip].isalpha() and flip % 3:
            value = value[:flip] + value[flip].swapcase() + value[flip + 1 :]  # break EIP-55
        addr = address_from_hex(value)
        assert len(addr) == 20
        assert address_from_hex(to_checksum_address(addr)) == addr
        body = value[2:] if value[:2] in ("0x", "0X") else value
        if body not in (body.lower(), body.upper()):
            assert to_checksum_address(addr) == "0x" + body  # mixed case only if EIP-55


# -- constructors -----------------------------------------------------------------------------


@budget(200)
@given(
    recipient=addresses,
    sender=addresses,
    face_value=uints,
    win_prob=uints,
    nonce=nonces,
    rrh=hashes,
    creation_round=uints,
    block_hash=hashes,
)
def test_fuzz_ticket(
    recipient: Any,
    sender: Any,
    face_value: Any,
    win_prob: Any,
    nonce: Any,
    rrh: Any,
    creation_round: Any,
    block_hash: Any,
) -> None:
    with fuzz_input("Ticket"):
        t = Ticket(recipient, sender, face_value, win_prob, nonce, rrh, creation_round, block_hash)
        flat = t.flat()
        assert len(flat) in (168, 232)
        assert (len(flat) == 232) == bool(t.aux_data)
        assert t.hash() == keccak256(flat)
        assert flat[104:136] == nonce.to_bytes(32, "big")
        assert t.expiration_params.aux_data == t.aux_data
        assert t.with_nonce(0).flat()[:104] == flat[:104]


@budget(150)
@given(creation_round=uints, block_hash=hashes)
def test_fuzz_expiration_params(creation_round: Any, block_hash: Any) -> None:
    with fuzz_input("ExpirationParams"):
        e = ExpirationParams(creation_round, block_hash)
        assert len(e.aux_data) in (0, 64)
        assert (e.aux_data == b"") == (creation_round == 0 and block_hash == bytes(32))


prices = mostly(st.one_of(st.fractions(max_denominator=10**6), st.integers(-(2**70), 2**70)), junk)
exp_params = mostly(st.sampled_from([None, ExpirationParams(5, b"\x01" * 32)]), junk)


@budget(200)
@given(
    recipient=addresses,
    face_value=uints,
    win_prob=uints,
    rrh=hashes,
    seed=uints,
    expiration_block=uints,
    price=prices,
    exp=exp_params,
)
def test_fuzz_ticket_params(
    recipient: Any,
    face_value: Any,
    win_prob: Any,
    rrh: Any,
    seed: Any,
    expiration_block: Any,
    price: Any,
    exp: Any,
) -> None:
    with fuzz_input("TicketParams"):
        p = TicketParams(recipient, face_value, win_prob, rrh, seed, expiration_block, price, exp)
        assert isinstance(p.price_per_pixel, Fraction)
        assert 0 <= p.ev <= p.face_value
        t = p.ticket(SIGNER.address, 7)
        assert t.recipient == p.recipient and t.win_prob == p.win_prob


PARAMS = TicketParams(RECIPIENT, 10**15, 2**255, bytes(range(32)), 42, 1000, Fraction(3, 2))
EXP = ExpirationParams(9, b"\x07" * 32)
sig_items = st.one_of(edge_bytes(65), edge_bytes(0, 3, 64, 66), junk)


@budget(200)
@given(
    params=mostly(st.just(PARAMS), junk),
    sender=mostly(st.just(SIGNER.address), addresses),
    exp=mostly(st.just(EXP), junk),
    nonce_list=mostly(st.lists(st.integers(0, 2**32 - 1), max_size=4), st.binary(max_size=8)),
    signatures=mostly(
        st.integers(min_value=0, max_value=4).flatmap(lambda n: edge_bytes(65 * n)),
        st.one_of(st.binary(max_size=140), junk),
    ),
    irregular=st.one_of(
        st.just({}),
        st.dictionaries(st.integers(min_value=-2, max_value=5), sig_items, max_size=2),
        st.dictionaries(hashable_junk, sig_items, max_size=1),
        junk,
    ),
)
def test_fuzz_ticket_batch(
    params: Any, sender: Any, exp: Any, nonce_list: Any, signatures: Any, irregular: Any
) -> None:
    with fuzz_input("TicketBatch"):
        b = TicketBatch(params, sender, exp, nonce_list, signatures, irregular)
        assert len(b.signatures) == 65 * len(b)
        assert isinstance(b.nonces, array) and b.nonces.typecode == "I"
        assert list(b.nonces) == list(nonce_list)  # a bytes object is a sequence of small ints
        for i in range(len(b)):
            assert b.ticket(i).sender_nonce == b.nonces[i]
            assert len(b.sig(i)) == 65 or i in b.irregular_sigs
        check = b.validate(None)
        assert len(check) == len(b)
        for i in b.irregular_sigs:
            assert check.status(i) == SigStatus.BAD_LENGTH


@budget(200)
@given(
    nonce_list=mostly(st.lists(st.integers(0, 2**32 - 1), min_size=2, max_size=2), junk),
    sigs=mostly(st.lists(sig_items, min_size=2, max_size=2), st.lists(sig_items, max_size=3)),
)
def test_fuzz_ticket_batch_from_signatures(nonce_list: Any, sigs: Any) -> None:
    with fuzz_input("TicketBatch.from_signatures"):
        b = TicketBatch.from_signatures(PARAMS, SIGNER.address, EXP, nonce_list, sigs)
        assert len(b) == len(sigs) == len(nonce_list)
        assert b.sigs() == [bytes(s) for s in sigs]


@budget(150)
@given(
    sig=mostly(st.binary(max_size=100), junk),
    rand=uints,
    win_prob=uints,
    ticket=mostly(st.just(PARAMS.ticket(SIGNER.address, 1, EXP)), junk),
)
def test_fuzz_signed_ticket_and_win(sig: Any, rand: Any, win_prob: Any, ticket: Any) -> None:
    with fuzz_input("SignedTicket/is_winning"):
        won = is_winning(sig, rand, win_prob)
        assert won == (int.from_bytes(keccak256(bytes(sig) + rand.to_bytes(32, "big"))) < win_prob)
        st_ = SignedTicket(ticket, sig, rand)
        assert st_.won() == is_winning(sig, rand, ticket.win_prob)


# -- signatures -------------------------------------------------------------------------------


def _sig_variants() -> st.SearchStrategy[bytes]:
    good = SIGNER.sign(bytes(32))
    return st.one_of(
        st.binary(max_size=140),
        edge_bytes(65),
        st.tuples(
            st.binary(min_size=64, max_size=64), st.sampled_from([0, 1, 27, 28, 29, 255])
        ).map(lambda t: t[0] + bytes([t[1]])),
        st.integers(min_value=0, max_value=64).map(
            lambda i: good[:i] + bytes([good[i] ^ 0x01]) + good[i + 1 :]
        ),
        junk,
    )


@st.composite
def msg_and_sig(draw: st.DrawFn) -> tuple[Any, Any]:
    """A message and a signature that is the signer's own (possibly tampered with) half the
    time, arbitrary otherwise."""
    msg = draw(mostly(edge_bytes(32), st.one_of(edge_bytes(0, 31, 33), junk)))
    if isinstance(msg, bytes) and len(msg) == 32 and draw(st.booleans()):
        sig = bytearray(SIGNER.sign(msg))
        for _ in range(draw(st.integers(min_value=0, max_value=2))):
            sig[draw(st.integers(min_value=0, max_value=64))] ^= 1 << draw(st.integers(0, 7))
        return msg, bytes(sig)
    return msg, draw(_sig_variants())


@budget(200)
@given(msg_sig=msg_and_sig())
def test_fuzz_recover_address(msg_sig: tuple[Any, Any]) -> None:
    msg, sig = msg_sig
    with fuzz_input("recover_address"):
        try:
            addr = recover_address(msg, sig)
        except InvalidSignature as exc:
            # go-livepeer's order (spec/protocol.md §2.3): length first, then s, then v.
            sig_b = bytes(sig)
            if len(sig_b) != 65:
                assert exc.name == "sig" and str(exc) == "invalid signature length"
            elif int.from_bytes(sig_b[32:64]) > _bindings_half_order():
                assert str(exc) == "signature s value too high"
            elif sig_b[64] not in (27, 28):
                assert str(exc) == "signature v value must be 27 or 28"
            raise
        assert len(addr) == 20
        if bytes(sig) == SIGNER.sign(bytes(msg)):
            assert addr == SIGNER.address


def _bindings_half_order() -> int:
    return 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0


@budget(100)
@given(
    msg=mostly(st.binary(max_size=300), junk),
    tamper=st.one_of(st.none(), st.integers(min_value=0, max_value=64)),
    sig=_sig_variants(),
)
def test_fuzz_recover_message_address(msg: Any, tamper: int | None, sig: Any) -> None:
    own = isinstance(msg, bytes) and tamper != 0
    if own:
        good = bytearray(SIGNER.sign_message(msg))
        if tamper is not None:
            good[tamper] ^= 0x01
        sig = bytes(good)
    with fuzz_input("recover_message_address"):
        addr = recover_message_address(msg, sig)
        assert len(addr) == 20
        if own and tamper is None:
            assert addr == SIGNER.address


@budget(100)
@given(key=mostly(edge_bytes(32), st.one_of(edge_bytes(0, 31, 33), junk, st.integers())))
def test_fuzz_private_key_signer(key: Any) -> None:
    with fuzz_input("PrivateKeySigner"):
        s = PrivateKeySigner(key)
        msg = keccak256(bytes(key))
        assert recover_address(msg, s.sign(msg)) == s.address


def _one_by_one(template: Ticket, nonce_list: list[int], sigs: list[bytes]) -> list[SigStatus]:
    out = []
    codes = {
        "invalid signature length": SigStatus.BAD_LENGTH,
        "signature s value too high": SigStatus.HIGH_S,
        "signature v value must be 27 or 28": SigStatus.BAD_V,
    }
    for n, sig in zip(nonce_list, sigs, strict=True):
        try:
            addr = recover_address(template.with_nonce(n).hash(), sig)
        except InvalidSignature as exc:
            out.append(codes.get(str(exc), SigStatus.UNRECOVERABLE))
            continue
        out.append(SigStatus.OK if addr == template.sender else SigStatus.WRONG_SIGNER)
    return out


TEMPLATE = PARAMS.ticket(SIGNER.address, 0, EXP)


@st.composite
def batches(draw: st.DrawFn) -> tuple[list[int], list[bytes]]:
    n = draw(st.integers(min_value=0, max_value=6))
    ns = draw(st.lists(st.integers(min_value=0, max_value=2**32 - 1), min_size=n, max_size=n))
    sigs = []
    for nonce in ns:
        h = TEMPLATE.with_nonce(nonce).hash()
        kind = draw(st.sampled_from(["good", "other", "flip", "v", "short", "random"]))
        if kind == "good":
            sigs.append(SIGNER.sign(h))
        elif kind == "other":
            sigs.append(OTHER.sign(h))
        elif kind == "flip":
            s = bytearray(SIGNER.sign(h))
            s[draw(st.integers(min_value=0, max_value=64))] ^= 0x10
            sigs.append(bytes(s))
        elif kind == "v":
            sigs.append(SIGNER.sign(h)[:64] + bytes([draw(st.integers(0, 255))]))
        elif kind == "short":
            sigs.append(draw(st.binary(max_size=70).filter(lambda b: len(b) != 65)))
        else:
            sigs.append(draw(st.binary(min_size=65, max_size=65)))
    return ns, sigs


@budget(150)
@given(batch=batches(), rand=st.one_of(st.none(), st.integers(0, 2**256 - 1)))
def test_fuzz_validate_batch_equals_one_by_one(
    batch: tuple[list[int], list[bytes]], rand: int | None
) -> None:
    ns, sigs = batch
    with fuzz_input("validate_batch"):
        check = validate_batch(TEMPLATE, ns, sigs, rand)
        assert check.statuses == _one_by_one(TEMPLATE, ns, sigs)
        if batchverify is not None:  # the batch verifier (issue 10) must agree exactly
            assert (
                batchverify.validate_batch_same_sender(TEMPLATE, ns, sigs, rand, min_batch=1)
                == check
            )
        for i, sig in enumerate(sigs):
            want = rand is not None and check.statuses[i] == SigStatus.OK
            want = want and is_winning(sig, rand or 0, TEMPLATE.win_prob)
            assert check.won[i] == want


@budget(200)
@given(
    template=mostly(st.just(TEMPLATE), junk),
    nonce_list=mostly(st.lists(st.integers(0, 3), min_size=2, max_size=2), st.lists(nonces)),
    sigs=mostly(
        st.lists(sig_items, min_size=2, max_size=2),
        st.one_of(st.lists(sig_items, max_size=3), st.binary(max_size=200), junk),
    ),
    rand=mostly(st.none(), uints),
    irregular=st.one_of(
        st.none(),
        st.dictionaries(st.integers(min_value=-2, max_value=4), sig_items, max_size=2),
    ),
)
def test_fuzz_validate_batch_arguments(
    template: Any, nonce_list: Any, sigs: Any, rand: Any, irregular: Any
) -> None:
    with fuzz_input("validate_batch(args)"):
        check = validate_batch(template, nonce_list, sigs, rand, irregular_sigs=irregular)
        assert len(check) == len(nonce_list)
        assert all(isinstance(s, SigStatus) for s in check.statuses)
    if batchverify is not None:
        with fuzz_input("validate_batch_same_sender(args)"):
            bv = batchverify.validate_batch_same_sender(
                template, nonce_list, sigs, rand, irregular_sigs=irregular, min_batch=1
            )
            assert bv == validate_batch(template, nonce_list, sigs, rand, irregular_sigs=irregular)


@budget(100)
@given(data=mostly(st.one_of(st.binary(max_size=300), edge_bytes()), junk))
def test_fuzz_hash_primitives(data: Any) -> None:
    with fuzz_input("keccak256/personal_digest"):
        h = keccak256(data)
        assert len(h) == 32
        assert personal_digest(h) == keccak256(b"\x19Ethereum Signed Message:\n32" + h)
        if len(data) != 32:
            with pytest.raises(InvalidInput):
                personal_digest(data)


# -- regressions found by the fuzzers ---------------------------------------------------------


def test_nonces_given_as_bytes_are_small_ints_not_machine_words() -> None:
    """b"\\x01\\x02\\x03\\x04" is the nonce sequence 1, 2, 3, 4 (a Sequence[int]); it used to
    be reinterpreted as one native uint32 (and 1-3 bytes raised a bare ValueError)."""
    assert list(_bindings.nonce_array(b"\x01\x02\x03\x04")) == [1, 2, 3, 4]
    assert list(_bindings.nonce_array(bytearray(b"\x07"))) == [7]
    b = TicketBatch(PARAMS, SIGNER.address, EXP, b"\x01", bytes(65))  # type: ignore[arg-type]
    assert list(b.nonces) == [1]


def test_nonce_generator_out_of_range_is_a_pm_error() -> None:
    with pytest.raises(InvalidInput):
        _bindings.nonce_array(n for n in [1, 2**40])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "sigs", [[5], 5, None, [b"\x00" * 65, None]], ids=["int-item", "int", "none", "none-item"]
)
def test_validate_batch_rejects_non_bytes_signatures_with_pm_error(sigs: Any) -> None:
    n = len(sigs) if isinstance(sigs, list) else 1
    with pytest.raises(InvalidType):
        validate_batch(TEMPLATE, list(range(n)), sigs, None)
    with pytest.raises(InvalidType):
        TicketBatch.from_signatures(PARAMS, SIGNER.address, EXP, list(range(n)), sigs)


def test_irregular_signature_indices_are_checked() -> None:
    with pytest.raises(InvalidInput):
        validate_batch(TEMPLATE, [0], bytes(65), None, irregular_sigs={5: b""})
    with pytest.raises(PMError):
        TicketBatch(PARAMS, SIGNER.address, EXP, [0], bytes(65), {"a": b""})  # type: ignore[dict-item]
    with pytest.raises(PMError):
        TicketBatch(PARAMS, SIGNER.address, EXP, [0], bytes(65), 5)  # type: ignore[arg-type]


def test_from_signatures_rejects_missing_nonces_with_pm_error() -> None:
    with pytest.raises(InvalidType):
        TicketBatch.from_signatures(PARAMS, SIGNER.address, EXP, None, [])  # type: ignore[arg-type]


# -- pricing helpers ----------------------------------------------------------------------------


@budget(150)
@given(
    value=mostly(
        st.one_of(st.fractions(), st.integers(-(2**300), 2**300), st.just(Fraction(10**5000, 3))),
        junk,
    ),
    decimals=mostly(st.integers(-3, 40), st.one_of(st.sampled_from([4300, 4301, 10**9]), junk)),
)
def test_fuzz_format_rat(value: Any, decimals: Any) -> None:
    from pm.pricing import format_rat

    with fuzz_input("pricing.format_rat"):
        text = format_rat(value, decimals)
        whole, _, frac = text.lstrip("-").partition(".")
        assert whole.isdigit() and len(frac) == max(decimals, 0)
        if len(whole + frac) < 4000:  # int(str) has CPython's digit limit too
            # Rounded half away from zero: within half a unit of the last digit shown.
            sign = -1 if text.startswith("-") else 1
            shown = Fraction(int(whole + frac), 10 ** len(frac)) * sign
            assert abs(shown - Fraction(value)) <= Fraction(1, 2 * 10 ** max(decimals, 0))


def test_format_rat_refuses_unprintable_precision_with_pm_error() -> None:
    """Found by the fuzzer: 10**9 decimals computed 10**(10**9) (effectively a hang) and 5000
    decimals raised CPython's int -> str ValueError; both are InvalidInput now."""
    from pm.pricing import format_rat

    with pytest.raises(InvalidInput):
        format_rat(Fraction(1, 3), 10**9)
    with pytest.raises(InvalidInput):
        format_rat(Fraction(1, 3), 5000)
    with pytest.raises(InvalidInput):
        format_rat(Fraction(10**5000, 3), 2)
    assert format_rat(Fraction(1, 3), 4300).endswith("3" * 10)
