"""Reference models of the Livepeer protocol contracts around the TicketBroker.

spec/protocol-economics.md: :class:`RoundsManager` (rounds, initialization, block hashes),
:class:`BondingManager` (delegated stake, the transcoder pool, rewards and fee sharing with the
LIP-36 factors), :class:`Minter` (inflation, mintable LPT, LPT/ETH custody),
:class:`LivepeerToken`, governance (:class:`BondingVotes`, :class:`LivepeerGovernor` with
delegator-override counting, the :class:`Treasury` timelock, the staged-update :class:`Governor`
that owns the Controller, legacy :class:`PollCreator` polls) and the :class:`Protocol` facade
that wires them, with :class:`pm.broker.TicketBroker` reading rounds and the pool from these
models, using Arbitrum One parameters (:data:`ARBITRUM_ONE`) or the unit-test sizes
(:data:`UNIT_TEST`). :mod:`pm.protocol.simulation` runs a seeded economy on top
(``pm simulate --economy``); :mod:`pm.protocol.mocks` is the contracts' unit-test fixture.

Conventions (one rule for every model): each external function of a contract is a method in
snake_case taking the transaction sender first, then the Solidity arguments in order; views take
no sender; structs come back as named tuples with the Solidity field names; a revert raises
:class:`pm.evm.Revert` with the exact reason and changes nothing in any model (see
:func:`dry_run` to try a call and undo it); events are :class:`pm.evm.Event` records in each
model's ``events`` list.
"""

from __future__ import annotations

from ._journal import dry_run
from .bonding_manager import (
    MAX_FUTURE_ROUND,
    BondingManager,
    BrokerBondingView,
    Delegator,
    DelegatorStatus,
    EarningsPool,
    Transcoder,
    TranscoderStatus,
    UnbondingLock,
)
from .bonding_votes import BondingCheckpoint, BondingVotes, ContractError
from .governor import LivepeerGovernor, ProposalState, ProposalVote, VoteType
from .minter import Minter
from .polling import Poll, PollCreator, PollTally
from .rounds_manager import RoundsManager
from .sorted_list import SortedDoublyLL
from .staged_governor import Governor, Update
from .system import ARBITRUM_ONE, PRESETS, UNIT_TEST, BrokerMinterView, Protocol, ProtocolParams
from .token import BURNER_ROLE, MINTER_ROLE, LivepeerToken
from .treasury import Call, Treasury

__all__ = [
    "ARBITRUM_ONE",
    "BURNER_ROLE",
    "MAX_FUTURE_ROUND",
    "MINTER_ROLE",
    "PRESETS",
    "UNIT_TEST",
    "BondingCheckpoint",
    "BondingManager",
    "BondingVotes",
    "BrokerBondingView",
    "BrokerMinterView",
    "Call",
    "ContractError",
    "Delegator",
    "DelegatorStatus",
    "EarningsPool",
    "Governor",
    "LivepeerGovernor",
    "LivepeerToken",
    "Minter",
    "Poll",
    "PollCreator",
    "PollTally",
    "ProposalState",
    "ProposalVote",
    "Protocol",
    "ProtocolParams",
    "RoundsManager",
    "SortedDoublyLL",
    "Transcoder",
    "TranscoderStatus",
    "Treasury",
    "UnbondingLock",
    "Update",
    "VoteType",
    "dry_run",
]
