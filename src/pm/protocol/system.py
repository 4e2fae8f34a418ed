"""The :class:`Protocol` facade: the whole protocol economy wired together, with named presets.

It builds the LPT token, the Minter, the RoundsManager, the BondingManager, the vote checkpoints,
the LivepeerGovernor with its Treasury, and (when :mod:`pm.broker` is importable) the reference
TicketBroker reading rounds and the transcoder pool from these models, so that winning tickets
become fees in earnings pools that delegators claim. Blocks and rounds advance under the caller's
control (``advance_blocks``, ``advance_rounds``), like the contracts' ``AdjustableRoundsManager``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from pm.evm import Revert, check_address, check_uint

from .bonding_manager import BondingManager
from .bonding_votes import BondingVotes
from .governor import LivepeerGovernor
from .minter import Minter
from .polling import PollCreator
from .rounds_manager import RoundsManager
from .staged_governor import Governor
from .token import BURNER_ROLE, MINTER_ROLE, LivepeerToken
from .treasury import Treasury

__all__ = ["ARBITRUM_ONE", "PRESETS", "UNIT_TEST", "BrokerMinterView", "Protocol", "ProtocolParams"]

LPT = 10**18


@dataclass(frozen=True, slots=True)
class ProtocolParams:
    """Deployment parameters (spec/protocol-economics.md §1, §2.3, §3, §4.2; ticketbroker.md).

    Units: blocks (``round_length``), 1e6 fractions (``round_lock_amount``, ``quorum``, ``quota``),
    1e9 fractions (Minter rates), 1e27 (``treasury_reward_cut_rate``), rounds (periods), LPT wei.
    """

    round_length: int = 6377
    round_lock_amount: int = 100_000
    num_active_transcoders: int = 100
    unbonding_period: int = 7
    inflation: int = 220_500
    inflation_change: int = 500
    target_bonding_rate: int = 500_000_000
    treasury_reward_cut_rate: int = 10**26
    treasury_balance_ceiling: int = 750_000 * LPT
    unlock_period: int = 2
    ticket_validity_period: int = 2
    voting_delay: int = 1
    voting_period: int = 10
    proposal_threshold: int = 100 * LPT
    quorum: int = 333_300
    quota: int = 500_000
    treasury_min_delay: int = 0
    l1_circulating_supply: int = 0
    start_round: int = 3313


#: Arbitrum One as deployed (LIP-83 round length, LIP-92 treasury, LIP-89 governor; the Minter's
#: inflation is its Feb 2022 constructor value — the live value moves every round, spec §8).
ARBITRUM_ONE = ProtocolParams()
#: The contracts' unit-test fixture sizes: 2 active transcoders, unbonding period 2, round 50.
UNIT_TEST = replace(
    ARBITRUM_ONE, round_length=50, num_active_transcoders=2, unbonding_period=2, start_round=100
)
PRESETS: dict[str, ProtocolParams] = {"arbitrum-one": ARBITRUM_ONE, "unit-test": UNIT_TEST}


def _label(name: str) -> bytes:
    return name.encode().ljust(20, b"\0")


class BrokerMinterView:
    """The Minter as the TicketBroker (registered as "JobsManager") calls it."""

    __slots__ = ("_minter",)

    def __init__(self, minter: Minter) -> None:
        self._minter = minter

    def deposit_eth(self, value: int) -> None:
        self._minter.deposit_eth(self._minter.jobs_manager, value)

    def trusted_withdraw_eth(self, to: bytes, amount: int) -> None:
        self._minter.trusted_withdraw_eth(self._minter.jobs_manager, to, amount)


class Protocol:
    """A whole Livepeer protocol deployment in memory.

    ``owner`` is the Controller owner: the staged-update ``controller_governor`` (whose own owner
    is the governance ``MULTISIG``); code may also call setters as ``owner`` directly.
    ``GATEWAY`` holds the token's minter role like the L2 bridge gateway; :meth:`faucet` mints
    with it. Attributes:
    ``token``, ``minter``, ``rounds``, ``bonding_manager``, ``bonding_votes``, ``treasury``,
    ``governor``, ``controller_governor``, ``poll_creator`` and ``broker`` (None when
    ``with_broker`` is false).
    """

    OWNER = bytes.fromhex("d9ded6f9959176f0a04dcf88a0d2306178a736a6")
    MULTISIG = bytes.fromhex("04f53a0bb244f015cc97731570bed26f0229da05")
    GATEWAY = _label("L2LPTGateway")
    TICKET_BROKER = bytes.fromhex("a8bb618b1520e284046f3dfc448851a1ff26e41b")

    def __init__(self, params: ProtocolParams = ARBITRUM_ONE, *, with_broker: bool = True) -> None:
        self.params = params
        owner = self.OWNER
        self.owner = owner
        self.token = LivepeerToken(admin=owner)
        self.rounds = RoundsManager(owner=owner, block_num=params.start_round * params.round_length)
        self.treasury = Treasury(min_delay=params.treasury_min_delay, clock=self.rounds.block_num)
        self.minter = Minter(
            token=self.token,
            owner=owner,
            inflation=params.inflation,
            inflation_change=params.inflation_change,
            target_bonding_rate=params.target_bonding_rate,
            rounds_manager=self.rounds.address,
            jobs_manager=self.TICKET_BROKER,
            l1_circulating_supply=params.l1_circulating_supply,
        )
        self.bonding_votes = BondingVotes(rounds=self.rounds)
        self.bonding_manager = BondingManager(
            rounds=self.rounds,
            minter=self.minter,
            token=self.token,
            owner=owner,
            ticket_broker=self.TICKET_BROKER,
            l2_migrator=_label("L2Migrator"),
            treasury=self.treasury.address,
            num_active_transcoders=params.num_active_transcoders,
            unbonding_period=params.unbonding_period,
            bonding_votes=self.bonding_votes,
        )
        self.bonding_votes.bonding_manager = self.bonding_manager
        self.minter.bonding_manager = self.bonding_manager
        self.rounds.bonding_manager = self.bonding_manager
        self.rounds.minter = self.minter
        self.token.grant_role(owner, MINTER_ROLE, self.minter.address)
        self.token.grant_role(owner, BURNER_ROLE, self.minter.address)
        self.token.grant_role(owner, MINTER_ROLE, self.GATEWAY)
        self.rounds.set_round_length(owner, params.round_length)
        self.rounds.set_round_lock_amount(owner, params.round_lock_amount)
        bm = self.bonding_manager
        bm.set_treasury_reward_cut_rate(owner, params.treasury_reward_cut_rate)
        bm.set_treasury_balance_ceiling(owner, params.treasury_balance_ceiling)
        self.governor = LivepeerGovernor(
            votes=self.bonding_votes,
            treasury=self.treasury,
            voting_delay=params.voting_delay,
            voting_period=params.voting_period,
            proposal_threshold=params.proposal_threshold,
            quorum_numerator=params.quorum,
            quota=params.quota,
        )
        self.treasury.grant_governor(self.governor.address)
        #: The Controller owner: staged updates by the governance multisig (spec §4.1).
        self.controller_governor = Governor(
            owner=self.MULTISIG, block_num=self.rounds.block_num, address=owner
        )
        self.poll_creator = PollCreator(bonding_manager=bm, block_num=self.rounds.block_num)
        self.broker: Any = None
        if with_broker:
            try:
                from pm.broker import TicketBroker
            except ImportError:  # pragma: no cover - the broker ships with pm
                TicketBroker = None  # type: ignore[misc,assignment]
            if TicketBroker is not None:
                self.broker = TicketBroker(
                    self.rounds,
                    bm,
                    unlock_period=params.unlock_period,
                    ticket_validity_period=params.ticket_validity_period,
                    owner=owner,
                    minter=BrokerMinterView(self.minter),
                )
        # the first round starts initialized, one block in (initializeRound reads block n-1)
        self.rounds.mine_blocks(1)
        self.rounds.initialize_round(owner)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> Protocol:
        """Build from a named preset (``"arbitrum-one"``, ``"unit-test"``) with field overrides."""
        try:
            params = PRESETS[name]
        except KeyError:
            raise Revert(f"unknown preset {name!r}") from None
        return cls(replace(params, **overrides))

    # ------------------------------------------------------------------ pause
    @property
    def paused(self) -> bool:
        """The Controller's pause flag, shared by every contract model."""
        return self.bonding_manager.paused

    @paused.setter
    def paused(self, value: bool) -> None:
        for c in (self.bonding_manager, self.minter, self.rounds):
            c.paused = value
        if self.broker is not None:
            self.broker.paused = value

    # ------------------------------------------------------------------ time
    @property
    def current_round(self) -> int:
        return self.rounds.current_round()

    def advance_blocks(self, blocks: int) -> int:
        """Mine ``blocks`` blocks; returns the new block number."""
        self.rounds.mine_blocks(check_uint("blocks", blocks))
        return self.rounds.block_num()

    def advance_rounds(self, rounds: int = 1, *, initialize: bool = True) -> int:
        """Move to the first block + 1 of ``rounds`` rounds later; initialize it by default."""
        for _ in range(check_uint("rounds", rounds)):
            start = self.rounds.current_round_start_block()
            self.rounds.set_block_num(start + self.rounds.round_length + 1)
            if initialize:
                self.rounds.initialize_round(self.owner)
        return self.rounds.current_round()

    def initialize_round(self, sender: bytes | None = None) -> None:
        self.rounds.initialize_round(self.owner if sender is None else sender)

    # ------------------------------------------------------------------ helpers
    def faucet(self, to: bytes, amount: int) -> None:
        """Mint ``amount`` LPT wei to ``to`` as the bridge gateway would (bridged-in LPT)."""
        self.token.mint(self.GATEWAY, check_address("to", to), amount)

    def bond(self, sender: bytes, amount: int, to: bytes) -> None:
        """Approve the BondingManager for ``amount`` and bond it to ``to`` (two transactions)."""
        self.token.approve(sender, self.bonding_manager.address, amount)
        self.bonding_manager.bond(sender, amount, to)

    def register_transcoder(
        self, addr: bytes, self_bond: int, reward_cut: int, fee_share: int
    ) -> None:
        """Self-bond and set commission rates (1e6 fractions)."""
        self.faucet(addr, self_bond)
        self.bond(addr, self_bond, addr)
        self.bonding_manager.transcoder(addr, reward_cut, fee_share)

    def minted(self) -> int:
        """LPT wei minted as rewards so far (the token's Mint events to the Minter)."""
        return sum(
            e.args["amount"]
            for e in self.token.events
            if e.name == "Mint" and e.args["to"] == self.minter.address
        )

    def lpt_accounts(self) -> dict[str, int]:
        """LPT wei by where it sits. The Minter holds bonded, unbonding and unclaimed stake."""
        return {
            "total_supply": self.token.total_supply(),
            "minted_rewards": self.minted(),
            "minter": self.token.balance_of(self.minter.address),
            "treasury": self.token.balance_of(self.treasury.address),
        }
