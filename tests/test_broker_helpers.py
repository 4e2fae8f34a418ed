"""Shared fixture pieces for the TicketBroker tests: the unit-test mocks of
livepeer/protocol test/unit/TicketBroker.js (spec/ticketbroker.md §10) and helpers to build,
sign and redeem tickets and to check that a reverted call changed nothing."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from pm.broker import ContractTicket, Event, Revert, TicketBroker
from pm.crypto import PrivateKeySigner, keccak256
from pm.evm import UINT256_MAX, u256

# The fixture of test/unit/TicketBroker.js (spec §10): round 10, block hash keccak("foo"),
# unlockPeriod 20, ticketValidityPeriod 2, recipientRand 5, winProb MAX_UINT256.
CURRENT_ROUND = 10
FOO_HASH = keccak256(b"foo")
UNLOCK_PERIOD = 20
VALIDITY = 2
RAND = 5
RAND_HASH = keccak256(u256(RAND))

SENDER_SIGNER = PrivateKeySigner(bytes([0x11]) * 32)
SENDER2_SIGNER = PrivateKeySigner(bytes([0x12]) * 32)
SENDER = SENDER_SIGNER.address
SENDER2 = SENDER2_SIGNER.address
RECIPIENT = bytes([0xAA]) * 20
RECIPIENT2 = bytes([0xAB]) * 20
FUNDER = bytes([0xF0]) * 20
OWNER = bytes([0x0E]) * 20
OTHER = bytes([0x77]) * 20


class MockRounds:
    """GenericMock RoundsManager: fixed current round, one block hash for every round."""

    def __init__(self) -> None:
        self.round = CURRENT_ROUND
        self.initialized = True
        self.hash = FOO_HASH

    def current_round(self) -> int:
        return self.round

    def current_round_initialized(self) -> bool:
        return self.initialized

    def block_hash_for_round(self, round: int) -> bytes:
        return self.hash


@dataclass
class MockBonding:
    """BondingManagerMock: pool size and isActiveTranscoder set globally (default 0/false);
    ``updateTranscoderWithFees`` only records the call."""

    pool_size: int = 0
    active: bool = False
    fee_calls: list[tuple[bytes, int, int]] = field(default_factory=list)

    def is_active_transcoder(self, addr: bytes) -> bool:
        return self.active

    def transcoder_pool_size(self) -> int:
        return self.pool_size

    def update_transcoder_with_fees(self, transcoder: bytes, fees: int, round: int) -> None:
        self.fee_calls.append((transcoder, fees, round))


def make_broker(variant: str = "deployed") -> tuple[TicketBroker, MockRounds, MockBonding]:
    rounds = MockRounds()
    bonding = MockBonding()
    broker = TicketBroker(
        rounds,
        bonding,
        unlock_period=UNLOCK_PERIOD,
        ticket_validity_period=VALIDITY,
        owner=OWNER,
        variant=variant,  # type: ignore[arg-type]
    )
    return broker, rounds, bonding


def aux(creation_round: int = CURRENT_ROUND, block_hash: bytes = FOO_HASH) -> bytes:
    return u256(creation_round) + block_hash


def ticket(
    *,
    recipient: bytes = RECIPIENT,
    sender: bytes = SENDER,
    face_value: int = 1000,
    win_prob: int = UINT256_MAX,
    nonce: int = 0,
    rand_hash: bytes = RAND_HASH,
    aux_data: bytes | None = None,
) -> ContractTicket:
    return ContractTicket(
        recipient,
        sender,
        face_value,
        win_prob,
        nonce,
        rand_hash,
        aux() if aux_data is None else aux_data,
    )


def sign(t: ContractTicket, signer: PrivateKeySigner = SENDER_SIGNER) -> bytes:
    return signer.sign(t.hash())


def redeem(
    broker: TicketBroker,
    t: ContractTicket,
    sig: bytes | None = None,
    rand: int = RAND,
    caller: bytes = RECIPIENT,
) -> None:
    broker.redeem_winning_ticket(caller, t, sign(t) if sig is None else sig, rand)


def state(broker: TicketBroker) -> Any:
    """Every piece of broker storage plus the Minter balance and the event count."""
    return copy.deepcopy(
        (
            broker._params,
            broker._deposit,
            broker._withdraw_round,
            broker._funds,
            broker._claimed_for_round,
            broker._claimed_by_address,
            broker._used,
            len(broker.events),
            getattr(broker.minter, "balance", None),
        )
    )


def assert_reverts(broker: TicketBroker, reason: str, fn: Any, *args: Any) -> None:
    """``fn(*args)`` must raise Revert with exactly ``reason`` and change no state."""
    before = state(broker)
    fee_calls = list(getattr(broker.bonding, "fee_calls", []))
    try:
        fn(*args)
    except Revert as e:
        assert e.reason == reason, f"expected {reason!r}, got {e.reason!r}"
    else:
        raise AssertionError(f"expected revert {reason!r}, call succeeded")
    assert state(broker) == before
    assert list(getattr(broker.bonding, "fee_calls", [])) == fee_calls


def names(events: list[Event]) -> list[str]:
    return [e.name for e in events]
