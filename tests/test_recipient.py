"""Recipient: ticket params (§5.2), price adjustment (§5.3), receive checks (§5.4-§5.6), nonces
(§5.5), balances (§8.1), against the go-livepeer vectors of spec/protocol.md §10.1.4-§10.1.5,
§10.1.7 (max float) and §10.1.10, plus Hypothesis properties with a real Sender."""

from __future__ import annotations

import hashlib
import hmac
import threading
from fractions import Fraction
from typing import Any

import pytest
from conftest import load_vectors
from hypothesis import given, settings
from hypothesis import strategies as st

from pm.accounting import Balances
from pm.chain import InMemoryChain, MaxFloatSource, SenderInfo, WinningTicketSink
from pm.crypto import PrivateKeySigner, address_from_hex, keccak256
from pm.errors import (
    ChainViewError,
    CouldNotGetSenderInfo,
    InsufficientSenderReserve,
    InvalidExpectedPrice,
    InvalidRecipientRand,
    InvalidTicketRecipient,
    InvalidTicketSignature,
    NonceAlreadySeen,
    PMError,
    ReceiveError,
    SenderUnlockingSoon,
    TicketParamsExpired,
    TooManyNonces,
)
from pm.evm import minbe
from pm.recipient import (
    ARBITRUM_ONE,
    ETHEREUM_MAINNET,
    ChainMaxFloat,
    MemoryWinningTicketSink,
    Recipient,
    RecipientConfig,
    auto_adjust_price,
    price_to_fixed,
    rat_price_info,
    recipient_rand,
    recipient_rand_hash,
)
from pm.sender import Sender, SpendingPolicy
from pm.ticket import ExpirationParams, SignedTicket, SigStatus, TicketBatch, TicketParams

M = 2**256 - 1
VEC = load_vectors("roles_recipient.json")
FX = VEC["fixture"]
RECIPIENT = address_from_hex("0x73AEd7b5dEb30222fa896f399d46cC99c7BEe57F")
SENDER_ADDR = address_from_hex("0xA69cdA26600c155cF2c150964Bdb5371ac3f606F")
HASH1 = bytes(range(1, 33))
HASH0 = bytes(range(100, 132))


def _int(v: Any) -> int:
    return M if v == "M" else int(v)


class FixedMaxFloat:
    """A MaxFloatSource returning a settable value (go-livepeer's stub sender monitor)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def max_float(self, sender: bytes) -> int:
        return self.value


def vector_recipient(
    case: dict[str, Any] | None = None, **extra: Any
) -> tuple[Recipient, InMemoryChain, FixedMaxFloat]:
    case = {**FX, **(case or {}), **extra}
    chain = InMemoryChain(
        l1_block=case["last_seen_l1_block"],
        round_=case["round"],
        round_block_hashes={case["round"]: HASH1, case["round"] - 1: HASH0},
        gas_price=case["gas_price"],
        pool_size=1,
        default_sender_info=SenderInfo(10**20, 0, 10**20),
    )
    cfg = RecipientConfig(
        redeem_gas=case["redeem_gas"],
        tx_cost_multiplier=case["tx_cost_multiplier"],
        ticket_ev=case["ev"],
    )
    mf = FixedMaxFloat(_int(case["max_float"]))
    r = Recipient(RECIPIENT, bytes.fromhex(case["secret"]), chain, cfg, max_float=mf)
    return r, chain, mf


# -- §4 recipientRand ---------------------------------------------------------------------


def test_recipient_rand_is_the_spec_hmac() -> None:
    secret = bytes.fromhex(FX["secret"])
    seed, fv, wp, exp = 0x1234, 100_000_000, 99, 41
    aux = ExpirationParams(1, HASH1).aux_data
    msg = minbe(seed) + SENDER_ADDR + minbe(fv) + minbe(wp) + minbe(exp) + b"\x03" + b"\x02" + aux
    want = int.from_bytes(hmac.new(secret, msg, hashlib.sha256).digest(), "big")
    got = recipient_rand(secret, seed, SENDER_ADDR, fv, wp, exp, Fraction(6, 4), aux)
    assert got == want
    # negative prices hash the absolute numerator, like Go's Num().Bytes()
    assert recipient_rand(secret, seed, SENDER_ADDR, fv, wp, exp, Fraction(-3, 2), aux) == want
    # zero fields are empty strings, so they are not position-padded
    z = recipient_rand(secret, 0, SENDER_ADDR, 0, 0, 0, Fraction(0), b"")
    zmsg = SENDER_ADDR + b"\x01"
    assert z == int.from_bytes(hmac.new(secret, zmsg, hashlib.sha256).digest(), "big")


def test_recipient_rand_rejects_bad_input() -> None:
    secret = bytes(32)
    with pytest.raises(PMError):
        recipient_rand(secret, -1, SENDER_ADDR, 0, 0, 0, Fraction(1), b"")
    with pytest.raises(PMError):
        recipient_rand(secret, 0, SENDER_ADDR, 0, 0, 0, Fraction(1), b"\x00" * 63)
    with pytest.raises(PMError):
        recipient_rand(secret, 0, SENDER_ADDR[:19], 0, 0, 0, Fraction(1), b"")
    with pytest.raises(PMError):
        recipient_rand(secret, 0, SENDER_ADDR, 2**256, 0, 0, Fraction(1), b"")


def test_ticket_params_commit_to_recipient_rand() -> None:
    r, _chain, _ = vector_recipient()
    p = r.ticket_params(SENDER_ADDR, Fraction(1))
    secret = bytes.fromhex(FX["secret"])
    assert p.expiration_params is not None
    rand = recipient_rand(
        secret,
        p.seed,
        SENDER_ADDR,
        p.face_value,
        p.win_prob,
        p.expiration_block,
        p.price_per_pixel,
        p.expiration_params.aux_data,
    )
    assert p.recipient_rand_hash == keccak256(rand.to_bytes(32, "big"))
    assert p.recipient_rand_hash == recipient_rand_hash(rand)
    assert p.recipient == RECIPIENT
    # fresh seed every call
    assert r.ticket_params(SENDER_ADDR, Fraction(1)).seed != p.seed


# -- §5.2 / §10.1.5 ------------------------------------------------------------------------


@pytest.mark.parametrize("case", VEC["face_value_cases"], ids=lambda c: c["name"])
def test_ticket_params_face_value_vectors(case: dict[str, Any]) -> None:
    r, _, _ = vector_recipient(case)
    price = Fraction(*case.get("price", FX["price"]))
    if "error" in case:
        with pytest.raises(InsufficientSenderReserve) as exc:
            r.ticket_params(SENDER_ADDR, price)
        assert str(exc.value) == case["error"]
        return
    p = r.ticket_params(SENDER_ADDR, price)
    assert p.face_value == int(case["face_value"])
    assert p.win_prob == int(case["win_prob"])
    assert p.price_per_pixel == price


@pytest.mark.parametrize("case", VEC["avg_gas_price_cases"], ids=lambda c: c["name"])
def test_ticket_params_avg_gas_price_vectors(case: dict[str, Any]) -> None:
    r, _, _ = vector_recipient(case)
    if case["ok"]:
        p = r.ticket_params(SENDER_ADDR, Fraction(1))
        assert p.face_value == int(case["max_float"])
    else:
        with pytest.raises(InsufficientSenderReserve) as exc:
            r.ticket_params(SENDER_ADDR, Fraction(1))
        assert str(exc.value) == "insufficient sender reserve"
        assert exc.value.reason == "tx_cost"
        assert exc.value.face_value == int(case["max_float"])
        assert exc.value.avg_tx_cost == 10_000 * 3_000_000_000


def test_insufficient_reserve_attributes_for_ev_cause() -> None:
    r, _, _ = vector_recipient(max_float="4")
    with pytest.raises(InsufficientSenderReserve) as exc:
        r.ticket_params(SENDER_ADDR, Fraction(1))
    e = exc.value
    assert (e.reason, e.face_value, e.ev, e.max_float, e.tx_cost) == ("ev", 4, 5, 4, 1_000_000)


def test_max_face_value_caps_and_can_cause_insufficient_reserve() -> None:
    r, _, _ = vector_recipient()
    r.set_max_face_value(5_000_000)
    assert r.ticket_params(SENDER_ADDR, Fraction(1)).face_value == 5_000_000
    r.set_max_face_value(4)
    with pytest.raises(InsufficientSenderReserve) as exc:
        r.ticket_params(SENDER_ADDR, Fraction(1))
    assert exc.value.max_face_value == 4
    r.set_max_face_value(0)  # 0 = no cap
    assert r.ticket_params(SENDER_ADDR, Fraction(1)).face_value == 100_000_000


def test_expiration_block_and_params() -> None:
    r, chain, _ = vector_recipient()
    chain.l1_block = 1234
    p = r.ticket_params(SENDER_ADDR, Fraction(1))
    assert p.expiration_block == 1234 + VEC["expiration_block_offset"]
    assert p.expiration_params == ExpirationParams(FX["round"], HASH1)


def test_zero_block_hash_backdates_one_round() -> None:
    r, chain, _ = vector_recipient()
    chain.set_round(7)  # no hash recorded for round 7
    chain.round_block_hashes[6] = HASH0
    p = r.ticket_params(SENDER_ADDR, Fraction(1))
    assert p.expiration_params == ExpirationParams(6, HASH0)


def test_max_float_errors_pass_through() -> None:
    class Failing:
        def max_float(self, sender: bytes) -> int:
            raise RuntimeError("rpc down")

    r, _chain, _ = vector_recipient()
    r.max_float_source = Failing()
    with pytest.raises(ChainViewError, match="rpc down"):
        r.ticket_params(SENDER_ADDR, Fraction(1))
    # a zero price never asks for the max float
    assert r.ticket_params(SENDER_ADDR, Fraction(0)).face_value == 0


@pytest.mark.parametrize("case", VEC["tx_cost_multiplier_cases"], ids=lambda c: c["name"])
def test_tx_cost_multiplier_vectors(case: dict[str, Any]) -> None:
    r, _, _ = vector_recipient(case)
    assert r.tx_cost_multiplier(SENDER_ADDR) == Fraction(*case["multiplier"])


def test_gas_price_below_minimum_is_ignored() -> None:
    chain = InMemoryChain(gas_price=5)
    r = Recipient(RECIPIENT, None, chain, RecipientConfig(min_gas_price=10))
    assert r.gas_price() == 10  # nothing acceptable polled yet: the minimum (go-livepeer)
    chain.gas_price_wei = 20
    assert r.gas_price() == 20
    chain.gas_price_wei = 3  # below the minimum: keep the old value
    assert r.gas_price() == 20
    chain.gas_price_wei = None
    assert r.gas_price() == 20


def test_presets() -> None:
    assert ETHEREUM_MAINNET.redeem_gas == 350_000
    assert ETHEREUM_MAINNET.min_gas_price == 1_000_000_000
    assert ARBITRUM_ONE.redeem_gas == 1_200_000
    assert RecipientConfig.arbitrum_one() is ARBITRUM_ONE
    assert RecipientConfig.ethereum_mainnet() is ETHEREUM_MAINNET
    d = RecipientConfig()
    assert (d.tx_cost_multiplier, d.ticket_ev, d.avg_gas_price, d.max_sender_nonces) == (
        100,
        8_000_000_000,
        3_000_000_000,
        600,
    )
    with pytest.raises(PMError):
        RecipientConfig(ticket_ev=-1)
    with pytest.raises(PMError):
        Recipient(RECIPIENT, b"short", InMemoryChain())


def test_secret_is_not_in_repr() -> None:
    secret = bytes([0xAB]) * 32
    r = Recipient(RECIPIENT, secret, InMemoryChain())
    assert "ab" * 8 not in repr(r).lower()
    assert "secret" not in repr(r).lower()


# -- §5.3 -----------------------------------------------------------------------------------


def test_auto_adjust_price_quantisation() -> None:
    # spec example: 1.25 wei/pixel is sent as 5/4
    assert auto_adjust_price(Fraction(5, 4), Fraction(0)) == Fraction(5, 4)
    # base × (1 + 1/m): 1 × (1 + 1/100) = 1.01
    assert auto_adjust_price(Fraction(1), Fraction(100)) == Fraction(101, 100)
    # truncated to 1/1000: 1/3 × (1 + 1/3) = 0.4444… → 0.444
    assert auto_adjust_price(Fraction(1, 3), Fraction(3)) == Fraction(444, 1000)
    # a zero base price is not adjusted
    assert auto_adjust_price(Fraction(0), Fraction(100)) == 0
    # truncation is toward zero for negatives too
    assert price_to_fixed(Fraction(-7, 3000)) == -2
    # int64 clamping like Go's big.Float.Int64
    assert price_to_fixed(Fraction(2**80)) == 2**63 - 1


def test_price_per_pixel_with_recipient() -> None:
    r, _, _ = vector_recipient()
    assert r.price_per_pixel(SENDER_ADDR, Fraction(1)) == Fraction(101, 100)
    assert r.price_per_pixel(SENDER_ADDR, Fraction(7, 3), auto_adjust=False) == Fraction(7, 3)


# -- §7.1 / §10.1.7 max float from the chain -------------------------------------------------


def test_chain_max_float_vectors() -> None:
    chain = InMemoryChain(pool_size=50)
    chain.set_sender_info(SENDER_ADDR, SenderInfo(0, 0, 500, 0))
    chain.set_claimed_reserve(SENDER_ADDR, RECIPIENT, 100)
    mf = ChainMaxFloat(chain, RECIPIENT)
    assert isinstance(mf, MaxFloatSource)
    assert mf.max_float(SENDER_ADDR) == 500 // 50 - 100 == -90
    chain.pool_size = 5
    chain.set_sender_info(SENDER_ADDR, SenderInfo(0, 0, 5000, 0))
    assert mf.max_float(SENDER_ADDR) == 900
    chain.pool_size = 0
    assert mf.max_float(SENDER_ADDR) == 0


# -- receive helpers ------------------------------------------------------------------------


def make_pair(
    *, gas_price: int = 10**9, deposit: int = 10**19, ev: int = 10**6, sink: Any = None
) -> tuple[Recipient, Sender, InMemoryChain, PrivateKeySigner]:
    signer = PrivateKeySigner(bytes([7]) * 32)
    chain = InMemoryChain(
        l1_block=100,
        round_=10,
        round_block_hashes={10: HASH1, 9: HASH0},
        gas_price=gas_price,
        pool_size=1,
    )
    chain.set_sender_info(signer.address, SenderInfo(deposit, 0, deposit, 0))
    cfg = RecipientConfig(redeem_gas=100_000, ticket_ev=ev)
    r = Recipient(RECIPIENT, bytes([9]) * 32, chain, cfg, sink=sink)
    policy = SpendingPolicy(Fraction(10**18), Fraction(10**20), 1)
    return r, Sender(signer, policy, chain), chain, signer


def replace_params(p: TicketParams, **kw: Any) -> TicketParams:
    fields = {
        "recipient": p.recipient,
        "face_value": p.face_value,
        "win_prob": p.win_prob,
        "recipient_rand_hash": p.recipient_rand_hash,
        "seed": p.seed,
        "expiration_block": p.expiration_block,
        "price_per_pixel": p.price_per_pixel,
        "expiration_params": p.expiration_params,
    }
    fields.update(kw)
    return TicketParams(**fields)


def signed_batch(
    signer: PrivateKeySigner, params: TicketParams, nonces: list[int], exp: ExpirationParams
) -> TicketBatch:
    template = params.ticket(signer.address, 0, exp)
    sigs = signer.sign_tickets(template, nonces)
    return TicketBatch(params, signer.address, exp, nonces, sigs)  # type: ignore[arg-type]


# -- §5.4 / §10.1.4 order ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", load_vectors("roles_validator.json")["order"], ids=lambda c: c["name"]
)
def test_receive_check_order_vectors(case: dict[str, Any]) -> None:
    r, _snd, chain, signer = make_pair()
    chain.default_sender_info = SenderInfo(10**18, 0, 10**18)  # the zero sender exists on chain
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.expiration_params is not None
    exp = p.expiration_params
    mutate = case["mutate"]
    sender = signer.address
    if mutate == "recipient_zero":
        p = replace_params(p, recipient=bytes(20))
    elif mutate == "recipient_other":
        p = replace_params(p, recipient=b"\x01" * 20)
    elif mutate == "rand_hash_zero":
        p = replace_params(p, recipient_rand_hash=bytes(32))
    if mutate == "sender_zero":
        batch = TicketBatch(
            p, bytes(20), exp, [1], signer.sign_tickets(p.ticket(sender, 0, exp), [1])
        )  # type: ignore[arg-type]
    elif mutate == "sig_foo":
        batch = TicketBatch.from_signatures(p, sender, exp, [1], [b"foo"])
    else:
        batch = signed_batch(signer, p, [1], exp)
    res = r.receive(batch, p.seed, Fraction(1))
    assert res.error is not None
    assert str(res.error) == case["error"]
    assert isinstance(res.error, ReceiveError)
    assert res.error.fatal is case["fatal"]
    assert (res.fatal is not None) is case["fatal"]
    assert res.credited == 0
    assert r.balance(sender) in (None, 0)
    if mutate == "sig_foo":
        assert isinstance(res.error, InvalidTicketSignature)
        assert res.error.status == SigStatus.BAD_LENGTH


def test_validator_win_check_vector() -> None:
    v = load_vectors("validator_vectors.json")
    sig = v["sig_ascii"].encode()
    t = TicketParams(RECIPIENT, 1, 0, bytes.fromhex(v["recipient_rand_hash"]), 0, 1).ticket(
        SENDER_ADDR, 0
    )
    assert not SignedTicket(t, sig, v["recipient_rand"]).won()
    t_max = TicketParams(RECIPIENT, 1, M, bytes.fromhex(v["recipient_rand_hash"]), 0, 1).ticket(
        SENDER_ADDR, 0
    )
    assert SignedTicket(t_max, sig, v["recipient_rand"]).won()
    assert recipient_rand_hash(v["recipient_rand"]).hex() == v["recipient_rand_hash"]


def test_sender_validation_is_fatal_and_first() -> None:
    r, snd, chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    sid = snd.start_session(p)
    batch = snd.create_batch(sid, 3)
    chain.set_sender_info(signer.address, SenderInfo(10**19, 11, 10**19))  # round 10: 11 ≤ 10+1
    res = r.receive(batch, p.seed, Fraction(1))
    assert isinstance(res.fatal, SenderUnlockingSoon)
    assert str(res.fatal) == (
        f"deposit and reserve for sender {signer.checksum_address} is set to unlock soon"
    )
    assert (res.fatal.withdraw_round, res.fatal.last_initialized_round) == (11, 10)
    assert len(res) == 1 and res[0].error is res.fatal
    chain.sender_info_error = RuntimeError("boom")
    res = r.receive(batch, p.seed, Fraction(1))
    assert isinstance(res.fatal, CouldNotGetSenderInfo)
    assert str(res.fatal) == f"could not get sender info for {signer.checksum_address}: boom"
    chain.sender_info_error = None
    chain.set_sender_info(signer.address, SenderInfo(10**19, 12, 10**19))  # 12 > 11: fine
    res = r.receive(batch, p.seed, Fraction(1))
    assert res.error is None and res.credited == 3 * p.ev


def test_wrong_recipient_attributes() -> None:
    r, _snd, _, signer = make_pair()
    p = replace_params(r.ticket_params(signer.address, Fraction(1)), recipient=b"\x05" * 20)
    assert p.expiration_params is not None
    res = r.receive(signed_batch(signer, p, [1], p.expiration_params), p.seed, Fraction(1))
    assert isinstance(res.fatal, InvalidTicketRecipient)
    assert (res.fatal.expected, res.fatal.actual) == (RECIPIENT, b"\x05" * 20)


# -- §10.1.10 expected price ------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    load_vectors("roles_orchestrator.json")["expected_price_errors"],
    ids=lambda c: c["name"],
)
def test_expected_price_errors(case: dict[str, Any]) -> None:
    r, snd, _, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    batch = snd.create_batch(snd.start_session(p), 1)
    price = None if case["price_info"] is None else tuple(case["price_info"])
    with pytest.raises(InvalidExpectedPrice) as exc:
        r.receive(batch, p.seed, price)
    assert str(exc.value) == case["error"]
    assert exc.value.fatal is True
    if price is not None:
        with pytest.raises(InvalidExpectedPrice):
            rat_price_info(*price)


def test_expected_price_forms() -> None:
    r, snd, _, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(5, 4))
    sid = snd.start_session(p)

    class PriceInfo:
        pricePerUnit = 10
        pixelsPerUnit = 8

    for price in (Fraction(5, 4), (5, 4), (10, 8), (-10, -8), PriceInfo()):
        res = r.receive(snd.create_batch(sid, 1), p.seed, price)
        assert res.error is None, price
    res = r.receive(snd.create_batch(sid, 1), p.seed, (5, 3))
    assert isinstance(res.fatal, InvalidRecipientRand)


# -- §5.5 nonces (§10.1.5) ---------------------------------------------------------------------


def winning_pair() -> tuple[Recipient, Sender, InMemoryChain, PrivateKeySigner, TicketParams]:
    """Params whose face value equals the EV, so win_prob = M and every ticket wins."""
    r, snd, chain, signer = make_pair(gas_price=0, ev=10**6)
    r.max_float_source = FixedMaxFloat(10**6)
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.win_prob == M
    return r, snd, chain, signer, p


def mint(signer: PrivateKeySigner, p: TicketParams, n: int) -> TicketBatch:
    assert p.expiration_params is not None
    return signed_batch(signer, p, list(range(1, n + 1)), p.expiration_params)


def test_nonce_replay_vector() -> None:
    r, _snd, _chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.expiration_params is not None
    exp = p.expiration_params
    rep = VEC["nonces"]["replay"]
    for n in rep["accept"]:
        assert r.receive(signed_batch(signer, p, [n], exp), p.seed, Fraction(1)).error is None
    for n in rep["reject"]:
        res = r.receive(signed_batch(signer, p, [n], exp), p.seed, Fraction(1))
        assert isinstance(res.error, NonceAlreadySeen)
        assert str(res.error) == (
            f"invalid ticket senderNonce: already seen sender={signer.checksum_address} nonce={n}"
        )
        assert res.error.fatal is False and res.error.nonce == n


def test_nonce_limit_600_vector() -> None:
    r, _snd, _chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.expiration_params is not None
    exp = p.expiration_params
    limit = VEC["nonces"]["max_per_recipient_rand"]
    res = r.receive(signed_batch(signer, p, list(range(limit)), exp), p.seed, Fraction(1))
    assert res.error is None and res.credited == limit * p.ev
    res = r.receive(signed_batch(signer, p, [limit], exp), p.seed, Fraction(1))
    assert isinstance(res.error, TooManyNonces)
    assert str(res.error) == (
        f"invalid ticket senderNonce: too many values sender={signer.checksum_address} "
        f"nonce={limit}"
    )
    # a replay is still reported as a replay, not as "too many"
    res = r.receive(signed_batch(signer, p, [5], exp), p.seed, Fraction(1))
    assert isinstance(res.error, NonceAlreadySeen)


def test_nonces_out_of_order_and_duplicates_within_a_batch() -> None:
    r, _snd, _chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.expiration_params is not None
    exp = p.expiration_params
    res = r.receive(signed_batch(signer, p, [9, 3, 7], exp), p.seed, Fraction(1))
    assert res.error is None
    res = r.receive(signed_batch(signer, p, [4, 4, 2], exp), p.seed, Fraction(1))
    assert [type(x.error) for x in res] == [type(None), NonceAlreadySeen, type(None)]
    assert [x.credited for x in res] == [True, False, False]
    assert res.credited == p.ev


def test_expired_params_vector() -> None:
    r, _snd, chain, signer, p = winning_pair()
    e = VEC["expiry"]
    assert p.expiration_block == chain.l1_block + 40
    batch = mint(signer, p, 1)  # a Sender refuses win_prob = M params (§6.3 check 5)
    chain.l1_block = p.expiration_block  # expires at exactly the expiration block
    res = r.receive(batch, p.seed, Fraction(1))
    assert isinstance(res.error, TicketParamsExpired)
    assert str(res.error) == e["error"] and res.error.fatal is e["fatal"]
    assert res[0].won is e["won"]
    assert res[0].session_id == "0x" + p.recipient_rand_hash.hex()
    assert res.credited == 0
    assert len(r.sink) == 1  # type: ignore[arg-type]


def test_nonce_cleanup_vector() -> None:
    spec = VEC["nonce_cleanup"]
    r, _snd, chain, signer = make_pair()
    chain.l1_block = 0
    p0 = r.ticket_params(signer.address, Fraction(1))
    assert p0.expiration_params is not None
    rands = {}
    for exp_block in spec["expiration_blocks"]:
        p = replace_params(p0, expiration_block=exp_block)
        secret = bytes([9]) * 32
        rand = recipient_rand(
            secret, p.seed, signer.address, p.face_value, p.win_prob, exp_block,
            p.price_per_pixel, p0.expiration_params.aux_data,
        )  # fmt: skip
        p = replace_params(p, recipient_rand_hash=recipient_rand_hash(rand))
        rands[exp_block] = rand
        res = r.receive(signed_batch(signer, p, [1], p0.expiration_params), p.seed, Fraction(1))
        assert res.error is None
    assert sorted(e for e, _ in r.iter_nonce_sets()) == [1, 2, 3]
    for step in spec["steps"]:
        r.clean_nonces(step["block"])
        assert sorted(e for e, _ in r.iter_nonce_sets()) == sorted(step["remaining"])


# -- §5.6 credit and winners ------------------------------------------------------------------


def test_credit_stops_at_first_non_fatal_error_and_last_error_is_returned() -> None:
    r, _snd, _chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.expiration_params is not None
    exp = p.expiration_params
    r.receive(signed_batch(signer, p, [3], exp), p.seed, Fraction(1))
    good = signed_batch(signer, p, [1, 2, 3, 4, 5], exp)
    sigs = good.sigs()
    sigs[3] = sigs[3][:64] + bytes([29])  # v = 29 on the 4th ticket
    batch = TicketBatch.from_signatures(p, signer.address, exp, list(good.nonces), sigs)
    res = r.receive(batch, p.seed, Fraction(1), manifest_id="mid")
    assert [x.credited for x in res] == [True, True, False, False, False]
    assert isinstance(res[2].error, NonceAlreadySeen)
    assert (
        isinstance(res[3].error, InvalidTicketSignature) and res[3].error.status == SigStatus.BAD_V
    )
    assert res[4].error is None
    assert res.first_error is res[2].error
    assert res.error is res[3].error  # go-livepeer returns the last non-fatal error
    assert res.credited == 2 * p.ev == r.balance(signer.address, "mid")
    assert r.balance(signer.address, "other") is None
    # ticket 5 was still nonce-tracked, ticket 4 (bad signature) was not
    res = r.receive(signed_batch(signer, p, [4, 5], exp), p.seed, Fraction(1))
    assert res[0].error is None and isinstance(res[1].error, NonceAlreadySeen)


def test_winners_are_stored_before_receive_returns_and_replays_rejected() -> None:
    stored: list[tuple[SignedTicket, int]] = []

    class Sink:
        def add(self, signed_ticket: SignedTicket, params_expiration_block: int) -> None:
            stored.append((signed_ticket, params_expiration_block))

    assert isinstance(Sink(), WinningTicketSink)
    r, _snd, _chain, signer, p = winning_pair()
    r.sink = Sink()
    batch = mint(signer, p, 4)
    res = r.receive(batch, p.seed, Fraction(1))
    assert res.error is None and res.winners == (0, 1, 2, 3)
    assert [t.ticket.sender_nonce for t, _ in stored] == [1, 2, 3, 4]
    for t, exp_block in stored:
        assert exp_block == p.expiration_block
        assert t.won() and t.signer() == signer.address
        assert recipient_rand_hash(t.recipient_rand) == p.recipient_rand_hash
    again = r.receive(batch, p.seed, Fraction(1))
    assert all(isinstance(x.error, NonceAlreadySeen) for x in again)
    assert again.credited == 0


def test_sink_failure_propagates_and_nothing_is_credited() -> None:
    class Broken:
        def add(self, signed_ticket: SignedTicket, params_expiration_block: int) -> None:
            raise OSError("disk full")

    r, _snd, _chain, signer, p = winning_pair()
    r.sink = Broken()
    with pytest.raises(OSError):
        r.receive(mint(signer, p, 2), p.seed, Fraction(1))
    assert r.balance(signer.address) is None


def test_memory_sink_is_idempotent() -> None:
    r, _snd, _chain, signer, p = winning_pair()
    sink = r.sink
    assert isinstance(sink, MemoryWinningTicketSink)
    batch = mint(signer, p, 2)
    r.receive(batch, p.seed, Fraction(1))
    r.receive(batch, p.seed, Fraction(1))  # replay: winners handed over again, stored once
    assert len(sink) == 2


def test_empty_batch_runs_no_checks() -> None:
    r, _snd, chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.expiration_params is not None
    chain.sender_info_error = RuntimeError("unreachable")
    batch = TicketBatch(p, signer.address, p.expiration_params, [], b"")  # type: ignore[arg-type]
    res = r.receive(batch, p.seed, Fraction(1))
    assert list(res) == [] and res.error is None


def test_balances_debit_and_sufficiency() -> None:
    r, snd, _chain, signer = make_pair(ev=10**6)
    p = r.ticket_params(signer.address, Fraction(1))
    sid = snd.start_session(p)
    r.receive(snd.create_batch(sid, 2), p.seed, Fraction(1), manifest_id="m")
    bal = r.balance(signer.address, "m")
    assert bal == 2 * p.ev and bal >= 10**6
    assert r.sufficient_balance(signer.address, "m")
    fee = r.debit_fees(signer.address, "m", (3, 2), 1000)
    assert fee == 1500
    assert r.balance(signer.address, "m") == bal - 1500
    assert not r.sufficient_balance(signer.address, "nothing")


# -- properties -------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    gas_price=st.integers(0, 10**12),
    redeem_gas=st.integers(1, 2_000_000),
    multiplier=st.integers(1, 1000),
    ev=st.integers(0, 10**15),
    max_float=st.integers(-(10**20), 10**24),
    cap=st.integers(0, 10**22),
    price=st.fractions(min_value=Fraction(1, 1000), max_value=Fraction(10**6)),
)
def test_realized_ev_never_below_configured_ev(
    gas_price: int,
    redeem_gas: int,
    multiplier: int,
    ev: int,
    max_float: int,
    cap: int,
    price: Fraction,
) -> None:
    chain = InMemoryChain(l1_block=5, round_=2, round_block_hashes={2: HASH1}, gas_price=gas_price)
    cfg = RecipientConfig(redeem_gas=redeem_gas, tx_cost_multiplier=multiplier, ticket_ev=ev)
    r = Recipient(RECIPIENT, None, chain, cfg, max_float=FixedMaxFloat(max_float))
    r.set_max_face_value(cap)
    try:
        p = r.ticket_params(SENDER_ADDR, price)
    except InsufficientSenderReserve as e:
        assert e.face_value < ev or (e.face_value < e.tx_cost and e.face_value < e.avg_tx_cost)
        return
    assert p.face_value * p.win_prob >= ev * M  # realized EV ≥ configured EV, exactly
    assert p.face_value >= ev
    assert p.face_value <= max(max_float, 0) or p.face_value == 0
    if cap:
        assert p.face_value <= cap


def _sender_recipient(seed_byte: int) -> tuple[Recipient, Sender, InMemoryChain, PrivateKeySigner]:
    signer = PrivateKeySigner(bytes([seed_byte]) * 32)
    chain = InMemoryChain(
        l1_block=1000, round_=3, round_block_hashes={3: HASH1, 2: HASH0}, gas_price=10**9
    )
    chain.set_sender_info(signer.address, SenderInfo(10**22, 0, 10**22))
    cfg = RecipientConfig(redeem_gas=350_000, ticket_ev=10**9)
    r = Recipient(RECIPIENT, None, chain, cfg)
    snd = Sender(signer, SpendingPolicy(Fraction(10**20), Fraction(10**22), 1), chain)
    return r, snd, chain, signer


@settings(max_examples=40, deadline=None)
@given(
    key=st.integers(1, 250),
    price=st.fractions(min_value=Fraction(1, 10**6), max_value=Fraction(10**4)),
    n=st.integers(1, 12),
    start=st.integers(0, 2**31),
    manifest=st.text(max_size=8),
)
def test_sender_tickets_are_accepted_and_replays_rejected(
    key: int, price: Fraction, n: int, start: int, manifest: str
) -> None:
    r, snd, _chain, signer = _sender_recipient(key)
    p = r.ticket_params(signer.address, price)
    sid = snd.start_session(p, start)
    batch = snd.create_batch(sid, n)
    res = r.receive(batch, p.seed, price, manifest_id=manifest)
    assert res.error is None, res.error
    assert res.credited == n * p.ev == r.balance(signer.address, manifest)
    assert [x.nonce for x in res] == list(range(start + 1, start + n + 1))
    replay = r.receive(batch, p.seed, price, manifest_id=manifest)
    assert all(isinstance(x.error, NonceAlreadySeen) for x in replay)
    assert r.balance(signer.address, manifest) == n * p.ev


_MUTATIONS = [
    "face_value",
    "win_prob",
    "seed",
    "expiration_block",
    "price",
    "creation_round",
    "block_hash",
    "recipient_rand_hash",
    "nonce_resign_other_key",
    "nonce_changed",
    "sig_byte",
    "recipient",
    "sender",
]


@settings(max_examples=60, deadline=None)
@given(which=st.sampled_from(_MUTATIONS), key=st.integers(1, 250), delta=st.integers(1, 1000))
def test_changing_a_covered_field_fails_with_the_right_error(
    which: str, key: int, delta: int
) -> None:
    r, _snd, chain, signer = _sender_recipient(key)
    price = Fraction(3, 2)
    p = r.ticket_params(signer.address, price)
    assert p.expiration_params is not None
    exp = p.expiration_params
    seed = p.seed
    sigs: list[bytes] | None = None
    if which == "face_value":
        p = replace_params(p, face_value=p.face_value + delta)
    elif which == "win_prob":
        p = replace_params(p, win_prob=p.win_prob - delta)
    elif which == "seed":
        seed = (seed + delta) % 2**256
    elif which == "expiration_block":
        p = replace_params(p, expiration_block=p.expiration_block + delta)
    elif which == "price":
        price = price + Fraction(1, delta + 1)
    elif which == "creation_round":
        exp = ExpirationParams(exp.creation_round + delta, exp.creation_round_block_hash)
    elif which == "block_hash":
        exp = ExpirationParams(exp.creation_round, keccak256(exp.creation_round_block_hash))
    elif which == "recipient_rand_hash":
        p = replace_params(p, recipient_rand_hash=keccak256(p.recipient_rand_hash))
    batch = signed_batch(signer, p, [1, 2], exp)
    if which == "nonce_resign_other_key":
        other = PrivateKeySigner(bytes([(key % 250) + 1 + 1]) * 32)
        sigs = [other.sign(batch.ticket(0).hash()), batch.sig(1)]
    elif which == "nonce_changed":
        batch = TicketBatch(p, signer.address, exp, [1 + delta + 2, 2], batch.signatures)  # type: ignore[arg-type]
    elif which == "recipient":
        p = replace_params(p, recipient=keccak256(p.recipient)[:20])
        batch = signed_batch(signer, p, [1, 2], exp)
    elif which == "sender":
        other_sender = keccak256(signer.address)[:20]
        chain.set_sender_info(other_sender, SenderInfo(10**22, 0, 10**22))
        batch = TicketBatch(p, other_sender, exp, [1, 2], batch.signatures)  # type: ignore[arg-type]
    elif which == "sig_byte":
        s0 = bytearray(batch.sig(0))
        s0[delta % 32] ^= 1  # flips a bit of r
        sigs = [bytes(s0), batch.sig(1)]
    if sigs is not None:
        batch = TicketBatch.from_signatures(p, signer.address, exp, list(batch.nonces), sigs)
    res = r.receive(batch, seed, price)
    if which == "recipient":
        assert isinstance(res.fatal, InvalidTicketRecipient)
    elif which.startswith(("nonce", "sig")):
        assert isinstance(res[0].error, InvalidTicketSignature)
        assert res[0].error.fatal is False
        assert res[1].error is None and res.credited == 0
    else:
        assert isinstance(res.fatal, InvalidRecipientRand)
        assert str(res.fatal) == "invalid recipientRand for ticket recipientRandHash"
        assert res.credited == 0 and len(res) == 1


def test_concurrent_receives_never_accept_a_nonce_twice() -> None:
    r, _snd, _chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.expiration_params is not None
    batch = signed_batch(signer, p, list(range(1, 41)), p.expiration_params)
    ok = []
    lock = threading.Lock()

    def work() -> None:
        res = r.receive(batch, p.seed, Fraction(1))
        with lock:
            ok.extend(x.nonce for x in res if x.error is None)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(ok) == list(range(1, 41))
    assert r.balance(signer.address) == 40 * p.ev


# -- bounded memory ---------------------------------------------------------------------------


def test_long_running_recipient_keeps_only_live_state() -> None:
    now = [0]
    r, snd, chain, signer = make_pair()
    r.balances = Balances(ttl_ns=600 * 10**9, clock=lambda: now[0])
    issued = 0
    received_exp: list[int] = []
    last_update: dict[str, int] = {}
    for block in range(2500):
        chain.l1_block = 1000 + block
        for _ in range(40):
            p = r.ticket_params(signer.address, Fraction(1))
            issued += 1
        if block % 5 == 0:  # a payment every 5 blocks, on a new manifest every 50 blocks
            sid = snd.start_session(p)
            mid = str(block // 50)
            res = r.receive(snd.create_batch(sid, 1), p.seed, Fraction(1), manifest_id=mid)
            assert res.error is None
            received_exp.append(p.expiration_block)
            last_update[mid] = now[0]
            now[0] += 12 * 10**9  # 12 s per payment
    assert issued == 100_000
    last = chain.l1_block
    live = [e for e in received_exp if e > last]
    assert r.nonce_set_count() == len(live) <= 8  # only unexpired params keep nonce sets
    assert len(r._expiries) <= len(live) + 1
    r.balances.cleanup()
    # entries idle for more than 10 minutes are gone; 50 manifests were used in all
    live_mids = {m for m, t in last_update.items() if now[0] - t <= 600 * 10**9}
    assert len(last_update) == 50
    assert {k[1] for k in r.balances.keys()} == live_mids  # noqa: SIM118 (a snapshot)
    assert len(live_mids) <= 6


def test_receive_results_is_a_lazy_sequence() -> None:
    r, _snd, _chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    assert p.expiration_params is not None
    r.receive(signed_batch(signer, p, [2], p.expiration_params), p.seed, Fraction(1))
    res = r.receive(signed_batch(signer, p, [1, 2, 3], p.expiration_params), p.seed, Fraction(1))
    assert len(res) == 3
    assert [x.index for x in res] == [0, 1, 2] and [x.nonce for x in res] == [1, 2, 3]
    assert res[-1] == res[2] and res[1:] == [res[1], res[2]]
    assert res == list(res) and res != [res[0]]
    assert isinstance(res[1].error, NonceAlreadySeen)
    with pytest.raises(IndexError):
        res[3]
    assert not res.ok
    with pytest.raises(NonceAlreadySeen):
        res.raise_for_error()
    assert "credited=" in repr(res)


SM = load_vectors("roles_sender_monitor.json")


@pytest.mark.parametrize("case", SM["max_float"], ids=lambda c: c["name"])
def test_sender_monitor_max_float_vectors(case: dict[str, Any]) -> None:
    chain = InMemoryChain(round_=100, pool_size=case["pool_size"])
    info = SenderInfo(0, 0, case["funds_remaining"], case["claimed_in_current_round"])
    chain.set_sender_info(SENDER_ADDR, info)
    chain.set_claimed_reserve(SENDER_ADDR, RECIPIENT, case["claimed_reserve"])
    assert ChainMaxFloat(chain, RECIPIENT).max_float(SENDER_ADDR) == case["max_float"]
    # a recipient with this max float and a positive face value can only issue params if the
    # max float covers the EV
    r = Recipient(RECIPIENT, None, chain, RecipientConfig(ticket_ev=1, redeem_gas=0))
    if case["max_float"] >= 1:
        assert r.ticket_params(SENDER_ADDR, Fraction(1)).face_value == min(100, case["max_float"])
    else:
        with pytest.raises(InsufficientSenderReserve):
            r.ticket_params(SENDER_ADDR, Fraction(1))


@pytest.mark.parametrize("case", SM["validate_sender"]["cases"])
def test_sender_monitor_validate_sender_vectors(case: dict[str, Any]) -> None:
    r, snd, chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    batch = snd.create_batch(snd.start_session(p), 1)
    withdraw = case.get("withdraw_round", SM["validate_sender"]["withdraw_round"])
    chain.set_sender_info(signer.address, SenderInfo(10**19, withdraw, 10**19))
    chain.set_round(case["round"])
    res = r.receive(batch, p.seed, Fraction(1))
    if case["error"] is None:
        assert res.error is None
    else:
        assert res.fatal is not None
        assert str(res.fatal) == case["error"].format(sender=signer.checksum_address)


def test_sender_monitor_info_error_vector() -> None:
    r, snd, chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    batch = snd.create_batch(snd.start_session(p), 1)
    chain.sender_info_error = ConnectionError("connection refused")
    res = r.receive(batch, p.seed, Fraction(1))
    assert isinstance(res.fatal, CouldNotGetSenderInfo)
    want = SM["validate_sender"]["info_error"].format(
        sender=signer.checksum_address, err="connection refused"
    )
    assert str(res.fatal) == want


def test_seed_source_is_injectable_for_reproducible_runs() -> None:
    import random

    def make() -> Recipient:
        rng = random.Random(42)
        return Recipient(RECIPIENT, None, InMemoryChain(), random_bytes=rng.randbytes)

    a, b = make(), make()
    pa, pb = a.ticket_params(SENDER_ADDR, Fraction(0)), b.ticket_params(SENDER_ADDR, Fraction(0))
    assert pa == pb
    assert a.ticket_params(SENDER_ADDR, Fraction(0)).seed != pa.seed
    bad = Recipient(RECIPIENT, bytes(32), InMemoryChain(), random_bytes=lambda n: b"\x00" * (n - 1))
    with pytest.raises(PMError):
        bad.ticket_params(SENDER_ADDR, Fraction(0))


def test_bad_input_raises_pm_errors() -> None:
    r, snd, _chain, signer = make_pair()
    p = r.ticket_params(signer.address, Fraction(1))
    batch = snd.create_batch(snd.start_session(p), 1)
    bad_calls = [
        lambda: r.ticket_params(signer.address[:19], Fraction(1)),
        lambda: r.ticket_params(signer.address, 1.5),
        lambda: r.ticket_params("0xabc", Fraction(1)),
        lambda: r.receive("batch", p.seed, Fraction(1)),
        lambda: r.receive(batch, -1, Fraction(1)),
        lambda: r.receive(batch, 2**256, Fraction(1)),
        lambda: r.receive(batch, p.seed, 1.0),
        lambda: r.receive(batch, p.seed, "1/1"),
        lambda: r.receive(batch, p.seed, (1.0, 2)),
        lambda: r.set_max_face_value(-1),
        lambda: r.debit_fees(signer.address, "m", Fraction(1), -5),
        lambda: rat_price_info(True, 1),
    ]
    for call in bad_calls:
        with pytest.raises(PMError):
            call()  # type: ignore[no-untyped-call]
    # nothing was credited or tracked by the failed calls
    assert r.balance(signer.address) is None and r.nonce_set_count() == 0


def test_chain_values_are_validated() -> None:
    with pytest.raises(PMError):
        SenderInfo(-1, 0, 0)
    with pytest.raises(PMError):
        SenderInfo(0, 0, 2**256)
    with pytest.raises(PMError):
        InMemoryChain(round_block_hashes={1: b"short"})
    chain = InMemoryChain()
    with pytest.raises(PMError):
        chain.set_sender_info(SENDER_ADDR, (1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(PMError):
        chain.sender_info(SENDER_ADDR)  # unknown sender
    chain.default_sender_info = SenderInfo(1, 0, 1)
    assert chain.sender_info(SENDER_ADDR) == SenderInfo(1, 0, 1)
    assert chain.advance(3) == 3 and chain.last_seen_l1_block() == 3
