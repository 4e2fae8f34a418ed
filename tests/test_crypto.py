"""The C core against independent implementations: pycryptodome, coincurve, eth-account,
eth-abi and pm's pure-Python reference path (DESIGN.md "Testing")."""

from __future__ import annotations

import pickle

import coincurve
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from hypothesis import example, given
from hypothesis import strategies as st

from pm import _bindings, _reference
from pm.crypto import (
    PrivateKeySigner,
    Signer,
    address_from_hex,
    bytes_from_hex,
    keccak256,
    personal_digest,
    personal_digest_any,
    recover_address,
    recover_message_address,
    to_checksum_address,
)
from pm.errors import (
    InvalidInput,
    InvalidPrivateKey,
    InvalidSignature,
    InvalidSignatureLength,
    InvalidSignatureV,
    InvalidType,
    PMError,
    SignatureSTooHigh,
    UnrecoverableSignature,
)

N = coincurve.utils.GROUP_ORDER_INT
HALF_N = N // 2
private_keys = st.integers(min_value=1, max_value=N - 1).map(lambda k: k.to_bytes(32, "big"))
hashes = st.binary(min_size=32, max_size=32)


@given(st.binary(max_size=4096))
@example(b"")
@example(b"\x00" * 135)
@example(b"\x01" * 136)
@example(b"\x02" * 137)
@example(b"\x03" * 271)
@example(b"\x04" * 272)
@example(b"\x05" * 273)
@example(b"\x06" * 4096)
def test_keccak_matches_pycryptodome(data: bytes) -> None:
    assert keccak256(data) == _reference.keccak256(data)


@pytest.mark.parametrize("length", [*range(0, 300), 4095, 4096])
def test_keccak_every_length_around_rate(length: int) -> None:
    data = bytes((i * 7 + length) & 0xFF for i in range(length))
    assert keccak256(data) == _reference.keccak256(data)


def test_keccak_accepts_bytes_like() -> None:
    assert (
        keccak256(bytearray(b"abc"))
        == keccak256(memoryview(b"abc"))
        == _reference.keccak256(b"abc")
    )


@given(hashes)
def test_personal_digest(msg: bytes) -> None:
    assert personal_digest(msg) == _reference.personal_digest(msg)
    assert personal_digest_any(msg) == personal_digest(msg)


@given(private_keys, hashes)
def test_sign_matches_coincurve_and_eth_account(key: bytes, msg: bytes) -> None:
    signer = PrivateKeySigner(key)
    sig = signer.sign(msg)
    cc = coincurve.PrivateKey(key).sign_recoverable(personal_digest(msg), hasher=None)
    assert sig == cc[:64] + bytes([cc[64] + 27])
    eth = Account.sign_message(encode_defunct(primitive=msg), private_key=key)
    assert sig == bytes(eth.signature)
    assert signer.address == address_from_hex(Account.from_key(key).address)
    assert int.from_bytes(sig[32:64], "big") <= HALF_N
    assert sig[64] in (27, 28)


@given(private_keys, hashes)
def test_recover_matches_eth_account(key: bytes, msg: bytes) -> None:
    sig = PrivateKeySigner(key).sign(msg)
    expected = Account.recover_message(encode_defunct(primitive=msg), signature=sig)
    assert to_checksum_address(recover_address(msg, sig)) == expected


@given(private_keys, st.binary(max_size=300))
def test_message_signatures(key: bytes, msg: bytes) -> None:
    signer = PrivateKeySigner(key)
    sig = signer.sign_message(msg)
    assert (
        bytes(Account.sign_message(encode_defunct(primitive=msg), private_key=key).signature) == sig
    )
    assert recover_message_address(msg, sig) == signer.address


@given(private_keys, st.lists(hashes, max_size=20))
def test_sign_batch_equals_one_by_one(key: bytes, msgs: list[bytes]) -> None:
    signer = PrivateKeySigner(key)
    assert signer.sign_batch(msgs) == [signer.sign(m) for m in msgs]


@given(private_keys, hashes)
def test_sign_digest_is_raw(key: bytes, digest: bytes) -> None:
    assert PrivateKeySigner(key).sign_digest(digest) == _reference.sign_digest(key, digest)


def test_signature_check_order() -> None:
    signer = PrivateKeySigner.generate()
    msg = keccak256(b"order")
    sig = signer.sign(msg)
    r, s, v = sig[:32], int.from_bytes(sig[32:64], "big"), sig[64]
    with pytest.raises(InvalidSignatureLength) as length_err:
        recover_address(msg, sig[:64])
    assert str(length_err.value) == "invalid signature length"
    assert length_err.value.length == 64
    high = (
        r + (N - s).to_bytes(32, "big") + bytes([55 - v])
    )  # the same point with -s and the flipped parity
    with pytest.raises(SignatureSTooHigh, match="signature s value too high"):
        recover_address(msg, high)
    # high s wins over a bad v, as in go-livepeer
    with pytest.raises(SignatureSTooHigh):
        recover_address(msg, high[:64] + b"\x00")
    with pytest.raises(InvalidSignatureV, match="signature v value must be 27 or 28") as v_err:
        recover_address(msg, sig[:64] + bytes([v - 27]))
    assert v_err.value.v == v - 27
    with pytest.raises(UnrecoverableSignature):
        recover_address(msg, bytes(64) + b"\x1b")  # r = s = 0
    # s exactly floor(N/2) passes the s check (it may or may not recover)
    boundary = r + HALF_N.to_bytes(32, "big") + bytes([v])
    try:
        recover_address(msg, boundary)
    except InvalidSignature as exc:
        assert isinstance(exc, UnrecoverableSignature)


@given(hashes, st.binary(max_size=130))
def test_recover_random_bytes_never_crashes(msg: bytes, sig: bytes) -> None:
    ref_status, ref_addr = _reference.recover_msg32(msg, sig)
    try:
        addr = recover_address(msg, sig)
    except InvalidSignature as exc:
        assert isinstance(exc, PMError) and isinstance(exc, ValueError)
        assert ref_status != _reference.STATUS_OK
        return
    assert (ref_status, ref_addr) == (_reference.STATUS_OK, addr)


@given(hashes, st.binary(min_size=65, max_size=65))
def test_recover_status_matches_reference(msg: bytes, sig: bytes) -> None:
    assert _bindings.recover_msg32(msg, sig) == _reference.recover_msg32(msg, sig)


@pytest.mark.parametrize(
    "bad_key",
    [bytes(32), N.to_bytes(32, "big"), (N + 1).to_bytes(32, "big"), b"\xff" * 32],
)
def test_invalid_private_keys(bad_key: bytes) -> None:
    with pytest.raises(InvalidPrivateKey):
        PrivateKeySigner(bad_key)


@pytest.mark.parametrize("bad", [b"", b"\x01" * 31, b"\x01" * 33])
def test_private_key_length(bad: bytes) -> None:
    with pytest.raises(InvalidInput):
        PrivateKeySigner(bad)


@pytest.mark.parametrize(
    ("call", "exc"),
    [
        (lambda: keccak256("text"), InvalidType),
        (lambda: keccak256(None), InvalidType),
        (lambda: personal_digest(b"\x00" * 31), InvalidInput),
        (lambda: personal_digest(b"\x00" * 33), InvalidInput),
        (lambda: recover_address(b"\x00" * 31, b"\x00" * 65), InvalidInput),
        (lambda: recover_address(b"\x00" * 32, "sig"), InvalidType),
        (lambda: PrivateKeySigner("00" * 32), InvalidType),
        (lambda: PrivateKeySigner.generate().sign(b"\x00" * 31), InvalidInput),
        (lambda: to_checksum_address(b"\x00" * 19), InvalidInput),
        (lambda: address_from_hex("0x1234"), InvalidInput),
        (lambda: address_from_hex("0x" + "zz" * 20), InvalidInput),
        (lambda: address_from_hex(1234), InvalidType),
        (lambda: bytes_from_hex("0x 12"), InvalidInput),
        # a mixed-case address with a broken checksum
        (lambda: address_from_hex("0x73aEd7b5dEb30222fa896f399d46cC99c7BEe57F"), InvalidInput),
    ],
)
def test_bad_input_raises_pm_errors(call: object, exc: type[Exception]) -> None:
    with pytest.raises(exc) as info:
        call()  # type: ignore[operator]
    assert isinstance(info.value, PMError)


def test_hex_helpers() -> None:
    assert address_from_hex("0x73aed7b5deb30222fa896f399d46cc99c7bee57f") == address_from_hex(
        "73AEd7b5dEb30222fa896f399d46cC99c7BEe57F"
    )
    assert bytes_from_hex("0xABcd") == b"\xab\xcd"
    assert bytes_from_hex("") == b""
    with pytest.raises(InvalidInput):
        bytes_from_hex("0xabc")
    with pytest.raises(InvalidInput):
        bytes_from_hex("0xabcd", 3)


def test_signer_protocol_and_secret_hygiene() -> None:
    key = (123456789).to_bytes(32, "big")
    signer = PrivateKeySigner(key)
    assert isinstance(signer, Signer)
    for text in (repr(signer), str(signer)):
        assert key.hex() not in text and "123456789" not in text
        assert to_checksum_address(signer.address) in text
    with pytest.raises(InvalidType):
        pickle.dumps(signer)
    assert signer == PrivateKeySigner(key)
    assert signer != PrivateKeySigner.generate()
    assert signer.export_private_key() == key
