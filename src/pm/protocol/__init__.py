"""Reference models of the Livepeer protocol contracts around the TicketBroker.

spec/protocol-economics.md: :class:`RoundsManager` (rounds, initialization, block hashes),
:class:`BondingManager` (delegated stake, the transcoder pool, rewards and fee sharing with the
LIP-36 factors), :class:`Minter` (inflation, mintable LPT, LPT/ETH custody),
:class:`LivepeerToken`, governance (:class:`BondingVotes`, :class:`LivepeerGovernor`,
:class:`Treasury`) and the :class:`Protocol` facade that wires them (with
:class:`pm.broker.TicketBroker` when available) using Arbitrum One parameters.
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
