"""The reference TicketBroker against the contract's unit-test catalogue
(spec/ticketbroker.md §10, livepeer/protocol test/unit/TicketBroker.js @ delta f225b10), in the
catalogue's order, plus the corner cases of §2-§5 the spec points out.

Not modelled (no test): EOA ETH balances and gas of the funder ("sender ETH balance drops by
value + gas" — pm keeps no wallets; the Minter balance, which is what the contract moves, is
checked instead), and "event filterable by indexed sender/recipient" (an RPC log-filter feature;
each test checks the event's arguments instead).

The "only legacy long-signatures" group of the catalogue goes through
TicketBrokerExtendedMock.validateAndCheckTicketOutcome; here the same signatures go through
``redeem_winning_ticket``, whose checks include that function's. test/gas-report/redeemTicket.js
measures gas, which the model does not (BrokerChain charges a configured gas per redemption).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_broker_helpers import (
    CURRENT_ROUND,
    FOO_HASH,
    FUNDER,
    OTHER,
    OWNER,
    RAND,
    RAND_HASH,
    RECIPIENT,
    RECIPIENT2,
    SENDER,
    SENDER2,
    SENDER2_SIGNER,
    SENDER_SIGNER,
    UNLOCK_PERIOD,
    assert_reverts,
    aux,
    make_broker,
    names,
    redeem,
    sign,
    state,
    ticket,
)

from pm.broker import (
    Bonding,
    ContractTicket,
    Event,
    Minter,
    Revert,
    Rounds,
    TicketBroker,
)
from pm.crypto import keccak256
from pm.errors import InvalidInput, InvalidType
from pm.evm import UINT256_MAX, u256
from pm.ticket import Ticket


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    return make_broker()


# -- setUnlockPeriod / setTicketValidityPeriod ------------------------------------------


def test_set_unlock_period(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    assert_reverts(broker, "caller must be Controller owner", broker.set_unlock_period, OTHER, 5)
    broker.set_unlock_period(OWNER, 0)  # any value, 0 included
    assert broker.unlock_period == 0
    assert broker.events[-1] == Event("ParameterUpdate", {"param": "unlockPeriod"})


def test_set_ticket_validity_period(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    assert_reverts(
        broker, "caller must be Controller owner", broker.set_ticket_validity_period, OTHER, 5
    )
    assert_reverts(
        broker,
        "ticketValidityPeriod must be greater than 0",
        broker.set_ticket_validity_period,
        OWNER,
        0,
    )
    broker.set_ticket_validity_period(OWNER, 7)
    assert broker.ticket_validity_period == 7
    assert broker.events[-1] == Event("ParameterUpdate", {"param": "ticketValidityPeriod"})


# -- fundDeposit -----------------------------------------------------------------------


def test_fund_deposit(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.paused = True
    assert_reverts(broker, "system is paused", broker.fund_deposit, SENDER, 1000)
    broker.paused = False
    broker.fund_deposit(SENDER, 1000)
    assert broker.minter.balance == 1000  # type: ignore[attr-defined]
    assert broker.get_sender_info(SENDER).deposit == 1000
    assert broker.events[-1] == Event("DepositFunded", {"sender": SENDER, "amount": 1000})
    broker.fund_deposit(SENDER, 500)  # accumulates
    broker.fund_deposit(SENDER2, 7)  # senders independent
    assert broker.get_sender_info(SENDER).deposit == 1500
    assert broker.get_sender_info(SENDER2).deposit == 7
    assert broker.minter.balance == 1507  # type: ignore[attr-defined]
    broker.fund_deposit(SENDER, 0)  # value 0 still emits
    assert broker.events[-1] == Event("DepositFunded", {"sender": SENDER, "amount": 0})


def test_fund_deposit_resets_unlock(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1000)
    broker.unlock(SENDER)
    assert broker.is_unlock_in_progress(SENDER)
    n = len(broker.events)
    broker.fund_deposit(SENDER, 1)
    assert not broker.is_unlock_in_progress(SENDER)
    assert names(broker.events[n:]) == ["UnlockCancelled", "DepositFunded"]


# -- fundReserve -----------------------------------------------------------------------


def test_fund_reserve(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.paused = True
    assert_reverts(broker, "system is paused", broker.fund_reserve, SENDER, 1000)
    broker.paused = False
    broker.fund_reserve(SENDER, 1000)
    assert broker.minter.balance == 1000  # type: ignore[attr-defined]
    assert broker.get_sender_info(SENDER).funds_remaining == 1000
    assert broker.events[-1] == Event("ReserveFunded", {"reserveHolder": SENDER, "amount": 1000})
    broker.fund_reserve(SENDER, 1)
    broker.fund_reserve(SENDER2, 3)
    assert broker.get_reserve_info(SENDER).funds_remaining == 1001
    assert broker.get_reserve_info(SENDER2).funds_remaining == 3


def test_fund_reserve_after_claim(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    bonding.pool_size, bonding.active = 10, True
    broker.fund_reserve(SENDER, 1000)
    redeem(broker, ticket(face_value=1000))  # claims 100
    broker.fund_reserve(SENDER, 0)
    assert broker.get_sender_info(SENDER).funds_remaining == 900
    broker.fund_reserve(SENDER, 55)
    assert broker.get_sender_info(SENDER).funds_remaining == 955


def test_fund_reserve_resets_unlock(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_reserve(SENDER, 1000)
    broker.unlock(SENDER)
    n = len(broker.events)
    broker.fund_reserve(SENDER, 0)
    assert not broker.is_unlock_in_progress(SENDER)
    # processReserve emits ReserveFunded before cancelling (spec §3)
    assert names(broker.events[n:]) == ["ReserveFunded", "UnlockCancelled"]


# -- fundDepositAndReserve(For) ------------------------------------------------------


SPLIT = "msg.value does not equal sum of deposit amount and reserve amount"


def test_fund_deposit_and_reserve(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    broker.paused = True
    assert_reverts(broker, "system is paused", broker.fund_deposit_and_reserve, SENDER, 1, 2, 1)
    broker.paused = False
    assert_reverts(broker, SPLIT, broker.fund_deposit_and_reserve, SENDER, 100, 200, 299)
    assert_reverts(broker, SPLIT, broker.fund_deposit_and_reserve, SENDER, 100, 200, 301)
    broker.fund_deposit_and_reserve(SENDER, 100, 1000, 1100)
    assert broker.minter.balance == 1100  # type: ignore[attr-defined]
    info = broker.get_sender_info(SENDER)
    assert (info.deposit, info.funds_remaining) == (100, 1000)
    assert names(broker.events) == ["ReserveFunded", "DepositFunded"]
    # reserve remaining after a claim is preserved, and increased by more reserve
    bonding.pool_size, bonding.active = 10, True
    redeem(broker, ticket(face_value=1100))  # deposit 100 + claim 100
    broker.fund_deposit_and_reserve(SENDER, 0, 0, 0)
    assert broker.get_sender_info(SENDER).funds_remaining == 900
    broker.fund_deposit_and_reserve(SENDER, 0, 40, 40)
    assert broker.get_sender_info(SENDER).funds_remaining == 940


def test_fund_deposit_and_reserve_for(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    f = broker.fund_deposit_and_reserve_for
    broker.paused = True
    assert_reverts(broker, "system is paused", f, FUNDER, SENDER, 1, 1, 2)
    broker.paused = False
    assert_reverts(broker, SPLIT, f, FUNDER, SENDER, 1, 1, 1)
    assert_reverts(broker, SPLIT, f, FUNDER, SENDER, 1, 1, 3)
    f(FUNDER, SENDER, 300, 700, 1000)
    info = broker.get_sender_info(SENDER)
    assert (info.deposit, info.funds_remaining) == (300, 700)
    assert broker.get_sender_info(FUNDER).deposit == 0
    assert broker.minter.balance == 1000  # type: ignore[attr-defined]
    assert broker.events[-2:] == [
        Event("ReserveFunded", {"reserveHolder": SENDER, "amount": 700}),
        Event("DepositFunded", {"sender": SENDER, "amount": 300}),
    ]


@pytest.mark.parametrize("amounts", [(10, 20), (0, 0)])
def test_fund_for_self_resets_unlock(env, amounts: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 5)
    broker.unlock(SENDER)
    n = len(broker.events)
    d, r = amounts
    broker.fund_deposit_and_reserve_for(SENDER, SENDER, d, r, d + r)
    assert not broker.is_unlock_in_progress(SENDER)
    assert names(broker.events[n:]) == ["UnlockCancelled", "ReserveFunded", "DepositFunded"]


@pytest.mark.parametrize("amounts", [(10, 20), (0, 0)])
def test_fund_for_other_does_not_reset_unlock(env, amounts: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    # d153b78 / TicketBrokerForceCancelUnlockFix.sol: a third party cannot cancel an unlock
    broker, _, _ = env
    broker.fund_deposit(SENDER, 5)
    broker.unlock(SENDER)
    d, r = amounts
    broker.fund_deposit_and_reserve_for(FUNDER, SENDER, d, r, d + r)
    assert broker.is_unlock_in_progress(SENDER)
    assert broker.get_sender_info(SENDER).withdraw_round == CURRENT_ROUND + UNLOCK_PERIOD


def test_fund_split_overflow_panics(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    assert_reverts(
        broker, "Panic(0x11)", broker.fund_deposit_and_reserve, SENDER, UINT256_MAX, 1, 0
    )


# -- redeemWinningTicket: check order and revert strings ------------------------------


def test_redeem_paused_and_round_not_initialized(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.fund_deposit(SENDER, 1000)
    t = ticket(recipient=bytes(20))  # even a broken ticket reports the modifier first
    broker.paused = True
    assert_reverts(broker, "system is paused", redeem, broker, t, b"sig")
    broker.paused = False
    rounds.initialized = False
    assert_reverts(broker, "current round is not initialized", redeem, broker, t, b"sig")


def test_redeem_null_addresses(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    assert_reverts(
        broker,
        "ticket recipient is null address",
        redeem,
        broker,
        ticket(recipient=bytes(20)),
        b"sig",
    )
    assert_reverts(
        broker, "ticket sender is null address", redeem, broker, ticket(sender=bytes(20)), b"sig"
    )


def test_redeem_aux_data_checks(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.fund_deposit(SENDER, 1000)
    t = ticket(aux_data=bytes(32))
    assert_reverts(broker, "invalid length for ticket auxData: must be 64 bytes", redeem, broker, t)
    assert_reverts(
        broker,
        "invalid length for ticket auxData: must be 64 bytes",
        redeem,
        broker,
        ticket(aux_data=aux() + b"\x00"),
    )
    rounds.hash = bytes(32)
    assert_reverts(
        broker, "ticket creationRound does not have a block hash", redeem, broker, ticket()
    )
    rounds.hash = keccak256(b"bar")
    assert_reverts(
        broker, "ticket creationRoundBlockHash invalid for creationRound", redeem, broker, ticket()
    )


def test_redeem_expiry_boundaries(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.fund_deposit(SENDER, 10_000)
    rounds.round = CURRENT_ROUND + 2
    assert_reverts(broker, "ticket is expired", redeem, broker, ticket())
    rounds.round = CURRENT_ROUND + 1  # last valid round
    redeem(broker, ticket(nonce=1))
    # no lower bound: a future creation round with a (mocked) hash is accepted
    rounds.round = 3
    redeem(broker, ticket(nonce=2))
    # creationRound + validity overflows: Panic, not "expired"
    assert_reverts(broker, "Panic(0x11)", redeem, broker, ticket(aux_data=aux(UINT256_MAX)))


def test_redeem_rand_mismatch(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1000)
    t = ticket(rand_hash=bytes(32))
    assert_reverts(broker, "recipientRand does not match recipientRandHash", redeem, broker, t)


def test_redeem_sender_unlocked(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.fund_deposit(SENDER, 100)
    broker.unlock(SENDER)
    rounds.round = CURRENT_ROUND + UNLOCK_PERIOD
    t = ticket(aux_data=aux(CURRENT_ROUND + UNLOCK_PERIOD))
    assert_reverts(broker, "sender is unlocked", redeem, broker, t)
    # one round earlier the sender is still locked and tickets redeem
    rounds.round = CURRENT_ROUND + UNLOCK_PERIOD - 1
    redeem(broker, ticket(aux_data=aux(CURRENT_ROUND + UNLOCK_PERIOD - 1)))


def test_redeem_used(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 10_000)
    t = ticket()
    redeem(broker, t)
    assert broker.used_tickets(t.hash())
    assert_reverts(broker, "ticket is used", redeem, broker, t)
    # the used check precedes the signature check: garbage signature, same reason
    assert_reverts(broker, "ticket is used", redeem, broker, t, b"junk")


def test_redeem_bad_signature(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1000)
    from test_broker_helpers import SENDER_SIGNER

    junk_sig = SENDER_SIGNER.sign(keccak256(b"junk"))
    assert_reverts(broker, "invalid signature over ticket hash", redeem, broker, ticket(), junk_sig)
    other = sign(ticket(), SENDER2_SIGNER)
    assert_reverts(broker, "invalid signature over ticket hash", redeem, broker, ticket(), other)


def test_redeem_did_not_win(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1000)
    assert_reverts(broker, "ticket did not win", redeem, broker, ticket(win_prob=0))


def test_redeem_zero_funds(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    assert_reverts(broker, "sender deposit and reserve are zero", redeem, broker, ticket())


def test_signature_checks_after_win_inputs_but_before_win(env) -> None:  # type: ignore[no-untyped-def]
    # a losing ticket with a bad signature reports the signature (check 11-12 before 13)
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1000)
    t = ticket(win_prob=0)
    assert_reverts(broker, "INVALID_SIGNATURE_LENGTH", redeem, broker, t, b"\x01" * 64)


# -- signatures: EIP-2098, OZ ECDSA 4.4.1 -----------------------------------------------

_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _compact(sig: bytes) -> bytes:
    """EIP-2098 64-byte form: r || (yParity << 255 | s)."""
    s = int.from_bytes(sig[32:64], "big") | ((sig[64] - 27) << 255)
    return sig[:32] + s.to_bytes(32, "big")


def _flip_v(sig: bytes) -> bytes:
    return sig[:64] + bytes([55 - sig[64]])


def test_only_legacy_long_signatures(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit_and_reserve(SENDER, 50, 50_000, 50_050)
    t = ticket(face_value=10)
    sig = sign(t)
    # the two encodings give different lottery numbers (the point of the 2098 fix)
    n65 = int.from_bytes(keccak256(sig + u256(RAND)), "big")
    n64 = int.from_bytes(keccak256(_compact(sig) + u256(RAND)), "big")
    assert n65 != n64
    assert_reverts(broker, "INVALID_SIGNATURE_LENGTH", redeem, broker, t, _compact(sig))
    assert_reverts(broker, "INVALID_SIGNATURE_LENGTH", redeem, broker, t, _compact(_flip_v(sig)))
    assert_reverts(broker, "invalid signature over ticket hash", redeem, broker, t, _flip_v(sig))
    redeem(broker, t, sig)
    assert broker.get_sender_info(SENDER).deposit == 40
    # redeemed ticket re-submitted with its 2098 form: "ticket is used", paid once
    assert_reverts(broker, "ticket is used", redeem, broker, t, _compact(sig))
    assert broker.get_sender_info(SENDER).deposit == 40


def test_oz_ecdsa_revert_strings(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1000)
    t = ticket()
    sig = sign(t)
    high_s = sig[:32] + (_N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big") + sig[64:]
    assert_reverts(broker, "ECDSA: invalid signature 's' value", redeem, broker, t, high_s)
    bad_v = sig[:64] + bytes([sig[64] - 27])  # v = 0/1 is not accepted
    assert_reverts(broker, "ECDSA: invalid signature 'v' value", redeem, broker, t, bad_v)
    # s is checked before v
    both = high_s[:64] + bytes([1])
    assert_reverts(broker, "ECDSA: invalid signature 's' value", redeem, broker, t, both)
    zero_r = bytes(32) + sig[32:]
    assert_reverts(broker, "ECDSA: invalid signature", redeem, broker, t, zero_r)
    zero_s = sig[:32] + bytes(32) + sig[64:]
    assert_reverts(broker, "ECDSA: invalid signature", redeem, broker, t, zero_s)
    s_half = sig[:32] + _HALF_N.to_bytes(32, "big") + sig[64:]  # accepted bound -> some signer
    assert_reverts(broker, "invalid signature over ticket hash", redeem, broker, t, s_half)


def test_oz_492_bad_v_reason() -> None:
    from test_broker_helpers import MockBonding, MockRounds

    broker = TicketBroker(
        MockRounds(),
        MockBonding(),
        unlock_period=20,
        ticket_validity_period=2,
        owner=OWNER,
        ecdsa="4.9.2",
    )
    broker.fund_deposit(SENDER, 1000)
    t = ticket()
    sig = sign(t)
    assert_reverts(broker, "ECDSA: invalid signature", redeem, broker, t, sig[:64] + b"\x00")


# -- payouts: deposit and reserve ------------------------------------------------------


def test_reserve_not_claimable_when_pool_empty_or_inactive(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    broker.fund_reserve(SENDER, 1000)
    for pool, active in ((0, False), (10, False)):
        bonding.pool_size, bonding.active = pool, active
        t = ticket(nonce=pool)
        n = len(broker.events)
        redeem(broker, t)
        assert names(broker.events[n:]) == ["WinningTicketRedeemed"]
        assert broker.claimed_reserve(SENDER, RECIPIENT) == 0
        assert broker.used_tickets(t.hash())  # consumed although nothing was paid
    assert bonding.fee_calls == []


def test_reserve_claims(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    bonding.pool_size, bonding.active = 10, True
    broker.fund_reserve(SENDER, 1000)
    n = len(broker.events)
    redeem(broker, ticket(face_value=10))
    assert names(broker.events[n:]) == [
        "ReserveClaimed",
        "WinningTicketTransfer",
        "WinningTicketRedeemed",
    ]
    assert broker.events[n] == Event(
        "ReserveClaimed", {"reserveHolder": SENDER, "claimant": RECIPIENT, "amount": 10}
    )
    assert broker.get_sender_info(SENDER).funds_remaining == 990
    assert broker.claimed_reserve(SENDER, RECIPIENT) == 10
    redeem(broker, ticket(face_value=20, nonce=1))  # multiple claims accumulate
    assert broker.claimed_reserve(SENDER, RECIPIENT) == 30
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 70
    assert broker.get_sender_info(SENDER).claimed_in_current_round == 30
    redeem(broker, ticket(recipient=RECIPIENT2, face_value=5, nonce=2))  # other recipient
    assert broker.claimed_reserve(SENDER, RECIPIENT2) == 5
    assert broker.claimed_reserve(SENDER, RECIPIENT) == 30


def test_reserve_claim_exhausts_share(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    bonding.pool_size, bonding.active = 10, True
    broker.fund_reserve(SENDER, 1000)
    redeem(broker, ticket(face_value=1000))  # claims 100
    n = len(broker.events)
    redeem(broker, ticket(face_value=1000, nonce=1))
    assert "ReserveClaimed" not in names(broker.events[n:])
    assert names(broker.events[n:]) == ["WinningTicketRedeemed"]


def test_reserve_claim_remaining_share(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    bonding.pool_size, bonding.active = 10, True
    broker.fund_reserve(SENDER, 1000)
    redeem(broker, ticket(face_value=90))
    n = len(broker.events)
    redeem(broker, ticket(face_value=1000, nonce=1))
    assert broker.events[n] == Event(
        "ReserveClaimed", {"reserveHolder": SENDER, "claimant": RECIPIENT, "amount": 10}
    )


def test_pool_of_two_splits_reserve(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    bonding.pool_size, bonding.active = 2, True
    broker.fund_reserve(SENDER, 1000)
    redeem(broker, ticket(face_value=1000))
    redeem(broker, ticket(recipient=RECIPIENT2, face_value=1015, nonce=1))
    assert broker.claimed_reserve(SENDER, RECIPIENT) == 500
    assert broker.claimed_reserve(SENDER, RECIPIENT2) == 500
    assert broker.get_sender_info(SENDER).funds_remaining == 0


def test_deposit_payouts(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    broker.fund_deposit(SENDER, 500)
    redeem(broker, ticket(face_value=1000))  # deposit < face, reserve 0
    assert bonding.fee_calls == [(RECIPIENT, 500, CURRENT_ROUND)]
    assert broker.get_sender_info(SENDER).deposit == 0

    broker2, _, bonding2 = make_broker()
    bonding2.pool_size, bonding2.active = 10, True
    broker2.fund_deposit_and_reserve(SENDER, 500, 50_000, 50_500)
    redeem(broker2, ticket(face_value=1000))
    assert bonding2.fee_calls == [(RECIPIENT, 1000, CURRENT_ROUND)]
    assert broker2.get_sender_info(SENDER).deposit == 0
    assert broker2.get_sender_info(SENDER).funds_remaining == 49_500


def test_face_value_zero(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    broker.fund_deposit(SENDER, 500)
    n = len(broker.events)
    redeem(broker, ticket(face_value=0))
    assert names(broker.events[n:]) == ["WinningTicketRedeemed"]
    assert bonding.fee_calls == []
    assert broker.get_sender_info(SENDER).deposit == 500


@pytest.mark.parametrize(("face", "fees", "left"), [(1500, 1500, 0), (1400, 1400, 100)])
def test_face_value_vs_deposit(env, face: int, fees: int, left: int) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    broker.fund_deposit(SENDER, 1500)
    redeem(broker, ticket(face_value=face))
    assert bonding.fee_calls == [(RECIPIENT, fees, CURRENT_ROUND)]
    assert broker.get_sender_info(SENDER).deposit == left


def test_third_party_can_redeem(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1500)
    redeem(broker, ticket(face_value=100), caller=OTHER)
    assert broker.get_sender_info(SENDER).deposit == 1400


def test_winning_ticket_redeemed_event(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1500)
    t = ticket(face_value=100, nonce=3)
    redeem(broker, t)
    assert broker.events[-2:] == [
        Event("WinningTicketTransfer", {"sender": SENDER, "recipient": RECIPIENT, "amount": 100}),
        Event(
            "WinningTicketRedeemed",
            {
                "sender": SENDER,
                "recipient": RECIPIENT,
                "faceValue": 100,
                "winProb": UINT256_MAX,
                "senderNonce": 3,
                "recipientRand": RAND,
                "auxData": aux(),
            },
        ),
    ]


def test_bonding_revert_reverts_redemption(env) -> None:  # type: ignore[no-untyped-def]
    # TicketFrontRun.js: the real BondingManager refuses fees for non-transcoders
    rounds = Rounds(100, block=1000)
    bonding = Bonding()
    bonding.register(RECIPIENT2)  # registered, not active
    broker = TicketBroker(rounds, bonding, unlock_period=2, ticket_validity_period=2, owner=OWNER)
    broker.fund_deposit(SENDER, 1000)
    rnd = rounds.current_round()
    a = aux(rnd, rounds.block_hash_for_round(rnd))
    assert_reverts(broker, "transcoder must be registered", redeem, broker, ticket(aux_data=a))
    t2 = ticket(recipient=RECIPIENT2, aux_data=a)
    assert_reverts(broker, "Panic(0x12)", redeem, broker, t2)
    bonding.add_transcoder(RECIPIENT)
    redeem(broker, ticket(aux_data=a))
    assert bonding.fees == {RECIPIENT: 1000}
    assert bonding.events[-1].name == "UpdateTranscoderWithFees"


def test_redeem_accepts_pm_ticket(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    broker.fund_deposit(SENDER, 1000)
    pt = Ticket(RECIPIENT, SENDER, 10, UINT256_MAX, 7, RAND_HASH, CURRENT_ROUND, FOO_HASH)
    ct = ContractTicket.from_ticket(pt)
    assert broker.get_ticket_hash(pt) == pt.hash() == ct.hash()
    broker.redeem_winning_ticket(RECIPIENT, pt, sign(ct), RAND)
    assert broker.used_tickets(pt.hash())
    assert bonding.fee_calls == [(RECIPIENT, 10, CURRENT_ROUND)]


# -- PR #657 variant ---------------------------------------------------------------------

INSUFFICIENT = "sender deposit and reserve insufficient to cover ticket face value"


def test_pr657_all_or_nothing() -> None:
    broker, _, bonding = make_broker("pr657")
    broker.fund_deposit_and_reserve(SENDER, 100, 50, 150)
    t = ticket(face_value=151)
    assert_reverts(broker, INSUFFICIENT, redeem, broker, t)
    assert not broker.used_tickets(t.hash())  # stays retryable
    # face value 0 from an unfunded sender succeeds (0 >= 0)
    redeem(
        broker,
        ticket(sender=SENDER2, face_value=0),
        sign(ticket(sender=SENDER2, face_value=0), SENDER2_SIGNER),
    )
    # whole reserve counts, not the claimant's share: partial payment still possible (#663)
    bonding.pool_size, bonding.active = 10, True
    redeem(broker, ticket(face_value=150, nonce=1))
    assert bonding.fee_calls[-1] == (RECIPIENT, 105, CURRENT_ROUND)  # 100 + 50/10


def test_deployed_dust_griefing() -> None:
    # deployed: a ticket above deposit+reserve pays what is there and is burnt
    broker, _, bonding = make_broker()
    broker.fund_deposit(SENDER, 1)
    t = ticket(face_value=10**18)
    redeem(broker, t)
    assert broker.used_tickets(t.hash())
    assert bonding.fee_calls == [(RECIPIENT, 1, CURRENT_ROUND)]
    assert_reverts(
        broker,
        "sender deposit and reserve are zero",
        redeem,
        broker,
        ticket(sender=SENDER2),
        sign(ticket(sender=SENDER2), SENDER2_SIGNER),
    )


# -- batchRedeemWinningTickets -----------------------------------------------------------


def _batch(
    broker: TicketBroker,
    ts: list[ContractTicket],
    sigs: list[bytes] | None = None,
    rands: list[int] | None = None,
) -> list[str | None]:
    return broker.batch_redeem_winning_tickets(
        RECIPIENT,
        ts,
        [sign(t) for t in ts] if sigs is None else sigs,
        [RAND] * len(ts) if rands is None else rands,
    )


def test_batch_modifiers(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.fund_deposit(SENDER, 1000)
    broker.paused = True
    assert_reverts(broker, "system is paused", _batch, broker, [ticket()])
    broker.paused = False
    rounds.initialized = False
    assert_reverts(broker, "current round is not initialized", _batch, broker, [ticket()])


def test_batch_same_and_different_senders(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1000)
    broker.fund_deposit(SENDER2, 1000)
    ts = [ticket(face_value=10), ticket(face_value=10, nonce=1)]
    assert _batch(broker, ts) == [None, None]
    t3 = ticket(sender=SENDER2, face_value=10)
    res = _batch(
        broker,
        [ticket(face_value=10, nonce=2), t3],
        [sign(ticket(face_value=10, nonce=2)), sign(t3, SENDER2_SIGNER)],
    )
    assert res == [None, None]
    assert names(broker.events).count("WinningTicketRedeemed") == 4


def test_batch_skips_failures(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    broker.fund_deposit(SENDER, 1000)
    bad = ticket(recipient=bytes(20), nonce=1)
    res = _batch(broker, [ticket(face_value=10), bad], [sign(ticket(face_value=10)), b"sig"])
    assert res == [None, "ticket recipient is null address"]
    assert names(broker.events).count("WinningTicketRedeemed") == 1
    t = ticket(face_value=10, nonce=5)
    assert _batch(broker, [t, t]) == [None, "ticket is used"]
    assert broker.get_sender_info(SENDER).deposit == 980
    n = len(broker.events)
    assert _batch(
        broker, [bad, ticket(win_prob=0, nonce=9)], [b"x", sign(ticket(win_prob=0, nonce=9))]
    ) == [
        "ticket recipient is null address",
        "ticket did not win",
    ]
    assert broker.events[n:] == []
    assert len(bonding.fee_calls) == 2


def test_batch_sequential_state(env) -> None:  # type: ignore[no-untyped-def]
    # later tickets see the deposit left by earlier ones
    broker, _, bonding = env
    broker.fund_deposit(SENDER, 100)
    res = _batch(
        broker,
        [ticket(face_value=80), ticket(face_value=80, nonce=1), ticket(face_value=80, nonce=2)],
    )
    assert res == [None, None, "sender deposit and reserve are zero"]
    assert [c[1] for c in bonding.fee_calls] == [80, 20]


def test_batch_short_arrays_panic(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.fund_deposit(SENDER, 1000)
    ts = [ticket(face_value=1), ticket(face_value=1, nonce=1)]
    sigs = [sign(t) for t in ts]
    assert_reverts(broker, "Panic(0x32)", _batch, broker, ts, sigs[:1])
    assert_reverts(broker, "Panic(0x32)", _batch, broker, ts, sigs, [RAND])
    # extra elements are ignored
    assert _batch(broker, ts[:1], [*sigs, b"x"], [RAND, 1, 2]) == [None]


# -- unlock / cancelUnlock / withdraw ----------------------------------------------------


def test_unlock(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.paused = True
    assert_reverts(broker, "system is paused", broker.unlock, SENDER)
    broker.paused = False
    assert_reverts(broker, "sender deposit and reserve are zero", broker.unlock, SENDER)
    broker.fund_deposit(SENDER, 1000)
    broker.fund_reserve(SENDER2, 1000)
    broker.unlock(SENDER)
    assert broker.events[-1] == Event(
        "Unlock", {"sender": SENDER, "startRound": 10, "endRound": 30}
    )
    assert broker.get_sender_info(SENDER).withdraw_round == 30
    assert broker.is_unlock_in_progress(SENDER)
    assert_reverts(broker, "unlock already initiated", broker.unlock, SENDER)
    broker.unlock(SENDER2)
    assert_reverts(broker, "unlock already initiated", broker.unlock, SENDER2)


def test_unlock_round_overflow(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    broker.set_unlock_period(OWNER, UINT256_MAX)
    broker.fund_deposit(SENDER, 1)
    assert_reverts(broker, "Panic(0x11)", broker.unlock, SENDER)


def test_cancel_unlock(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.paused = True
    assert_reverts(broker, "system is paused", broker.cancel_unlock, SENDER)
    broker.paused = False
    assert_reverts(broker, "no unlock request in progress", broker.cancel_unlock, SENDER)
    broker.fund_deposit(SENDER, 1000)
    broker.unlock(SENDER)
    broker.cancel_unlock(SENDER)
    assert broker.events[-1] == Event("UnlockCancelled", {"sender": SENDER})
    assert not broker.is_unlock_in_progress(SENDER)
    rounds.round = 40
    assert_reverts(broker, "no unlock request in progress", broker.withdraw, SENDER)


def test_withdraw(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.paused = True
    assert_reverts(broker, "system is paused", broker.withdraw, SENDER)
    broker.paused = False
    assert_reverts(broker, "sender deposit and reserve are zero", broker.withdraw, SENDER)
    broker.fund_deposit_and_reserve(SENDER, 1000, 2000, 3000)
    assert_reverts(broker, "no unlock request in progress", broker.withdraw, SENDER)
    broker.unlock(SENDER)
    rounds.round = 29
    assert_reverts(broker, "account is locked", broker.withdraw, SENDER)
    rounds.round = 30
    broker.withdraw(SENDER)
    info = broker.get_sender_info(SENDER)
    assert (info.deposit, info.funds_remaining) == (0, 0)
    assert broker.minter.withdrawn == {SENDER: 3000}  # type: ignore[attr-defined]
    assert broker.minter.balance == 0  # type: ignore[attr-defined]
    assert broker.events[-1] == Event(
        "Withdrawal", {"sender": SENDER, "deposit": 1000, "reserve": 2000}
    )
    # withdrawRound is not reset by withdraw (spec §3)
    assert info.withdraw_round == 30
    assert broker.is_unlock_in_progress(SENDER)


@pytest.mark.parametrize(("d", "r"), [(0, 700), (700, 0)])
def test_withdraw_one_side(env, d: int, r: int) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.fund_deposit_and_reserve(SENDER, d, r, d + r)
    broker.unlock(SENDER)
    rounds.round = 30
    broker.withdraw(SENDER)
    assert broker.minter.withdrawn == {SENDER: 700}  # type: ignore[attr-defined]
    assert broker.events[-1] == Event("Withdrawal", {"sender": SENDER, "deposit": d, "reserve": r})


def test_after_withdraw_corner_cases(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, _ = env
    broker.fund_deposit(SENDER, 100)
    broker.unlock(SENDER)
    rounds.round = 30
    broker.withdraw(SENDER)
    # unlock first fails on zero funds
    assert_reverts(broker, "sender deposit and reserve are zero", broker.unlock, SENDER)
    # a third party re-funds: unlock is "already initiated", withdraw possible at once
    broker.fund_deposit_and_reserve_for(FUNDER, SENDER, 5, 0, 5)
    assert_reverts(broker, "unlock already initiated", broker.unlock, SENDER)
    t = ticket(face_value=1, aux_data=aux(30))
    assert_reverts(broker, "sender is unlocked", redeem, broker, t)
    broker.withdraw(SENDER)
    assert broker.get_sender_info(SENDER).withdraw_round == 30


def test_claim_counters_survive_withdraw(env) -> None:  # type: ignore[no-untyped-def]
    # MixinReserve.clearReserve comment: stale claimedForRound after withdraw + self re-fund
    broker, _rounds, bonding = env
    bonding.pool_size, bonding.active = 2, True
    broker.set_unlock_period(OWNER, 0)
    broker.fund_reserve(SENDER, 1000)
    redeem(broker, ticket(face_value=500))  # claims 500 (share of 1000 / 2)
    broker.unlock(SENDER)  # withdrawRound = current round (period 0)
    broker.withdraw(SENDER)
    assert broker.get_sender_info(SENDER).claimed_in_current_round == 500
    broker.fund_reserve(SENDER, 100)  # self-funding cancels the unlock
    # share = (100 + stale 500) / 2 = 300 for a fresh claimant although only 100 is there
    assert broker.claimable_reserve(SENDER, RECIPIENT2) == 300
    # the claimant who took 500 now has a negative share: the view panics
    with pytest.raises(Revert) as exc:
        broker.claimable_reserve(SENDER, RECIPIENT)
    assert exc.value.reason == "Panic(0x11)"
    # and a fresh claimant's claim of 300 would take funds below zero: Panic
    t = ticket(recipient=RECIPIENT2, face_value=300, nonce=1)
    assert_reverts(broker, "Panic(0x11)", redeem, broker, t)


# -- claimableReserve / getTicketHash -----------------------------------------------------


def test_claimable_reserve(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, bonding = env
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 0  # no reserve
    broker.fund_deposit_and_reserve(SENDER, 1000, 1000, 2000)
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 0  # not active
    bonding.active = True
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 0  # pool size 0, no division
    bonding.pool_size = 10
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 100
    redeem(broker, ticket(face_value=10))  # paid from deposit
    assert broker.get_sender_info(SENDER).deposit == 990
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 100
    redeem(broker, ticket(face_value=1000, nonce=1))  # 990 deposit + 10 reserve
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 90
    redeem(broker, ticket(face_value=1000, nonce=2))
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 0


def test_claims_reset_each_round(env) -> None:  # type: ignore[no-untyped-def]
    broker, rounds, bonding = env
    bonding.pool_size, bonding.active = 10, True
    broker.fund_reserve(SENDER, 1000)
    redeem(broker, ticket(face_value=100))
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 0
    rounds.round += 1
    assert broker.claimed_reserve(SENDER, RECIPIENT) == 0
    assert broker.claimable_reserve(SENDER, RECIPIENT) == 90  # 900 / 10


@pytest.mark.parametrize(("face", "prob"), [(1000, UINT256_MAX), (777, 666)])
def test_get_ticket_hash(env, face: int, prob: int) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    t = ticket(face_value=face, win_prob=prob)
    packed = t.recipient + t.sender + u256(face) + u256(prob) + u256(0) + RAND_HASH + aux()
    assert len(packed) == 232
    assert broker.get_ticket_hash(t) == keccak256(packed)


# -- integration-style flows (test/integration/TicketFlow.js) ----------------------------


def test_ticket_flow_with_real_models() -> None:
    rounds = Rounds(50, block=1000)
    minter = Minter()
    bonding = Bonding([RECIPIENT, RECIPIENT2], minter=minter)
    broker = TicketBroker(
        rounds, bonding, unlock_period=2, ticket_validity_period=2, owner=OWNER, minter=minter
    )
    broker.fund_deposit_and_reserve(SENDER, 1000, 1000, 2000)
    rnd = rounds.current_round()
    a = aux(rnd, rounds.block_hash_for_round(rnd))
    # double spend beyond the deposit: the reserve pays the remaining allocation (1000/2)
    redeem(broker, ticket(face_value=900, aux_data=a))
    redeem(broker, ticket(face_value=900, nonce=1, aux_data=a))
    assert bonding.fees[RECIPIENT] == 900 + 100 + 500
    # expiry after 2 rounds, after a round length update
    rounds.set_round_length(20)
    rounds.advance_rounds(2)
    assert_reverts(broker, "ticket is expired", redeem, broker, ticket(nonce=2, aux_data=a))
    bonding.withdraw_fees(RECIPIENT)
    # ETH conservation: funded = withdrawn + fees credited and held + still in the broker
    assert minter.deposited == minter.total_withdrawn + bonding.fees_held + broker.total_held
    assert minter.balance == bonding.fees_held + broker.total_held


def test_rounds_model() -> None:
    rounds = Rounds(10, block=25)
    assert rounds.current_round() == 2 and rounds.current_round_initialized()
    assert rounds.block_hash_for_round(2) != bytes(32)
    assert rounds.block_hash_for_round(1) == bytes(32)
    with pytest.raises(Revert):
        rounds.initialize_round()
    rounds.advance_blocks(5)
    assert rounds.current_round() == 3 and not rounds.current_round_initialized()
    rounds.initialize_round(bytes(32))  # the Arbitrum zero-hash quirk
    assert rounds.block_hash_for_round(3) == bytes(32)
    # round 0 is "initialized" from deployment (lastInitializedRound == 0) but has no hash
    genesis = Rounds(10)
    assert genesis.current_round() == 0 and genesis.current_round_initialized()
    assert genesis.block_hash_for_round(0) == bytes(32)
    with pytest.raises(Revert):
        genesis.initialize_round()
    genesis.advance_blocks(10)
    assert not genesis.current_round_initialized()
    assert genesis.initialize_round() == 1


# -- input validation (Python side, before anything runs) ---------------------------------


def test_bad_python_input(env) -> None:  # type: ignore[no-untyped-def]
    broker, _, _ = env
    with pytest.raises(InvalidInput):
        broker.fund_deposit(b"\x01" * 19, 1)
    with pytest.raises(InvalidInput):
        broker.fund_deposit(SENDER, -1)
    with pytest.raises(InvalidType):
        broker.fund_deposit(SENDER, 1.5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        ContractTicket(RECIPIENT, SENDER, 2**256, 0, 0, RAND_HASH, b"")
    with pytest.raises(InvalidType):
        broker.redeem_winning_ticket(RECIPIENT, "ticket", b"", 5)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        TicketBroker(
            MockR(),
            MockB(),
            unlock_period=1,
            ticket_validity_period=1,
            owner=OWNER,
            variant="future",
        )  # type: ignore[arg-type]
    assert broker.events == []


class MockR:
    def current_round(self) -> int:
        return 1

    def current_round_initialized(self) -> bool:
        return True

    def block_hash_for_round(self, round: int) -> bytes:
        return FOO_HASH


class MockB:
    def is_active_transcoder(self, addr: bytes) -> bool:
        return False

    def transcoder_pool_size(self) -> int:
        return 0

    def update_transcoder_with_fees(self, transcoder: bytes, fees: int, round: int) -> None:
        return None


def test_protocols_runtime_checkable() -> None:
    from pm.broker import BondingView, RoundsView

    assert isinstance(MockR(), RoundsView) and isinstance(Rounds(), RoundsView)
    assert isinstance(MockB(), BondingView) and isinstance(Bonding(), BondingView)


# -- check order: every pair of faults reports the earlier one (tests/data/broker_check_order.json)

_ORDER = json.loads((Path(__file__).parent / "data" / "broker_check_order.json").read_text())
_FAULTS = _ORDER["faults"]


def _fault_cases() -> list[tuple[str, ...]]:
    cases: list[tuple[str, ...]] = [(f["name"],) for f in _FAULTS]
    for i, a in enumerate(_FAULTS):
        for b in _FAULTS[i + 1 :]:
            if a["group"] is None or a["group"] != b["group"]:
                cases.append((a["name"], b["name"]))
    return cases


@pytest.mark.parametrize("faults", _fault_cases(), ids="+".join)
def test_check_order(faults: tuple[str, ...]) -> None:
    broker, rounds, _ = make_broker()
    f = set(faults)
    expected = next(x["reason"] for x in _FAULTS if x["name"] in f)
    # funding and unlock first (they must not see the pause or the round faults)
    if "zero_funds" not in f:
        broker.fund_deposit(SENDER, 1000)
    if "unlocked" in f:
        broker.set_unlock_period(OWNER, 0)
        if "zero_funds" in f:  # unlocked with nothing left: withdraw keeps withdrawRound
            broker.fund_deposit(SENDER, 1)
            broker.unlock(SENDER)
            broker.withdraw(SENDER)
        else:
            broker.unlock(SENDER)
    kwargs: dict[str, object] = {}
    if "null_recipient" in f:
        kwargs["recipient"] = bytes(20)
    if "null_sender" in f:
        kwargs["sender"] = bytes(20)
    if "aux_length" in f:
        kwargs["aux_data"] = bytes(32)
    if "wrong_block_hash" in f:
        kwargs["aux_data"] = aux(CURRENT_ROUND, keccak256(b"bar"))
    if "rand_mismatch" in f:
        kwargs["rand_hash"] = bytes(32)
    if "did_not_win" in f:
        kwargs["win_prob"] = 0
    t = ticket(**kwargs)  # type: ignore[arg-type]
    sig = sign(t, SENDER2_SIGNER if "wrong_signer" in f else SENDER_SIGNER)
    if "sig_length" in f:
        sig = sig[:64]
    if "high_s" in f:
        sig = sig[:32] + (_N - int.from_bytes(sig[32:64], "big")).to_bytes(32, "big") + sig[64:]
    if "bad_v" in f:
        sig = sig[:64] + bytes([sig[64] - 27])
    if "used" in f:
        broker._used[t.hash()] = True
    if "no_block_hash" in f:
        rounds.hash = bytes(32)
    if "expired" in f:
        rounds.round = CURRENT_ROUND + 2
    if "round_not_initialized" in f:
        rounds.initialized = False
    if "paused" in f:
        broker.paused = True
    assert_reverts(broker, expected, redeem, broker, t, sig)


def test_check_order_baseline_succeeds() -> None:
    """Without any fault the same construction redeems (so each fault alone is what fails)."""
    broker, _, bonding = make_broker()
    broker.fund_deposit(SENDER, 1000)
    t = ticket()
    redeem(broker, t, sign(t))
    assert bonding.fee_calls == [(RECIPIENT, 1000, CURRENT_ROUND)]


def test_front_run_by_own_active_transcoder() -> None:
    """TicketFrontRun.js (c): the sender redeems a huge ticket to its own active transcoder
    first; it drains the deposit but gets only one reserve allocation, and the honest
    transcoder still receives its full allocation."""
    rounds = Rounds(100, block=1000)
    bonding = Bonding([RECIPIENT, RECIPIENT2])  # RECIPIENT2 is the sender's own transcoder
    broker = TicketBroker(rounds, bonding, unlock_period=2, ticket_validity_period=2, owner=OWNER)
    broker.fund_deposit_and_reserve(SENDER, 100, 1000, 1100)
    rnd = rounds.current_round()
    a = aux(rnd, rounds.block_hash_for_round(rnd))
    redeem(broker, ticket(recipient=RECIPIENT2, face_value=10**18, nonce=1, aux_data=a))
    assert bonding.fees[RECIPIENT2] == 100 + 500
    honest = ticket(recipient=RECIPIENT, face_value=500, nonce=2, aux_data=a)
    redeem(broker, honest)
    assert bonding.fees[RECIPIENT] == 500
    assert broker.get_sender_info(SENDER).funds_remaining == 0


def test_broker_chain_save_load_round_trip(tmp_path: Path) -> None:
    from pm.broker import BrokerChain

    rounds = Rounds(100, block=1000)
    bonding = Bonding([RECIPIENT])
    broker = TicketBroker(rounds, bonding, unlock_period=2, ticket_validity_period=2, owner=OWNER)
    chain = BrokerChain(broker, rounds, gas_price=7)
    broker.fund_deposit_and_reserve(SENDER, 5000, 1000, 6000)
    rnd = rounds.current_round()
    t1 = ticket(face_value=100, nonce=1, aux_data=aux(rnd, rounds.block_hash_for_round(rnd)))
    rc = chain.redeem(keccak256(b"tx1"), RECIPIENT, [t1], [sign(t1)], [RAND])
    path = tmp_path / "chain.pkl"
    chain.save(path)
    chain.save(path)  # overwrite in place, atomically
    assert [p.name for p in tmp_path.iterdir()] == ["chain.pkl"]  # no temp file left

    loaded = BrokerChain.load(path)
    b2 = loaded.broker
    assert state(b2) == state(broker)
    assert b2.events == broker.events
    assert loaded.receipt(keccak256(b"tx1")) == rc
    assert loaded.gas_spent == chain.gas_spent
    assert b2.bonding.fees == {RECIPIENT: 100}  # type: ignore[attr-defined]
    # the loaded chain carries on: replay refused, a new ticket redeems
    assert_reverts(b2, "ticket is used", redeem, b2, t1)
    t2 = ticket(face_value=50, nonce=2, aux_data=t1.aux_data)
    redeem(b2, t2)
    assert b2.get_sender_info(SENDER).deposit == 4850
    assert broker.get_sender_info(SENDER).deposit == 4900  # the original is untouched

    bad = tmp_path / "bad.pkl"
    bad.write_bytes(b"not a pickle")
    with pytest.raises(InvalidInput):
        BrokerChain.load(bad)


def test_event_signatures_match_spec_topics() -> None:
    from pm.broker import EVENT_PARAMS, EVENT_SIGNATURES, event_topic0

    spec = json.loads((Path(__file__).parent / "data" / "broker_events.json").read_text())["events"]
    assert set(spec) == set(EVENT_SIGNATURES) == set(EVENT_PARAMS)
    for name, topic in spec.items():
        assert "0x" + event_topic0(name).hex() == topic, name
        n_types = EVENT_SIGNATURES[name].count(",") + 1
        assert len(EVENT_PARAMS[name]) == n_types
    with pytest.raises(InvalidInput):
        event_topic0("Transfer")


def test_every_logged_event_has_the_contract_params() -> None:
    """Run a busy scenario and check each event's args keys are the Solidity parameter names."""
    from pm.broker import EVENT_PARAMS

    broker, rounds, bonding = make_broker()
    bonding.pool_size, bonding.active = 2, True
    broker.set_unlock_period(OWNER, 1)
    broker.set_ticket_validity_period(OWNER, 2)
    broker.fund_deposit_and_reserve(SENDER, 100, 1000, 1100)
    redeem(broker, ticket(face_value=300))
    broker.unlock(SENDER)
    broker.cancel_unlock(SENDER)
    broker.unlock(SENDER)
    rounds.round += 1
    broker.withdraw(SENDER)
    assert {e.name for e in broker.events} == set(EVENT_PARAMS)
    for e in broker.events:
        assert tuple(e.args) == EVENT_PARAMS[e.name], e.name


def test_models_minter_and_fee_withdrawal() -> None:
    minter = Minter()
    bonding = Bonding([RECIPIENT], minter=minter)
    minter.deposit_eth(1000)
    bonding.update_transcoder_with_fees(RECIPIENT, 700, 3)
    with pytest.raises(Revert) as e1:
        bonding.withdraw_fees(RECIPIENT, OTHER, 701)
    assert e1.value.reason == "insufficient fees to withdraw"
    with pytest.raises(Revert) as e2:
        bonding.withdraw_fees(RECIPIENT, bytes(20), 1)
    assert e2.value.reason == "invalid recipient"
    assert bonding.withdraw_fees(RECIPIENT, OTHER, 200) == 200
    assert bonding.withdraw_fees(RECIPIENT) == 500
    assert minter.withdrawn == {OTHER: 200, RECIPIENT: 500}
    assert bonding.fees_held == 0 and minter.balance == 300
    assert bonding.events[-1] == Event(
        "WithdrawFees", {"delegator": RECIPIENT, "recipient": RECIPIENT, "amount": 500}
    )
    with pytest.raises(Revert) as e3:
        minter.trusted_withdraw_eth(OTHER, 301)  # _to.transfer of more than the balance
    assert e3.value.reason == ""
    assert minter.balance == 300
