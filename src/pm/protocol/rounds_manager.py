"""RoundsManager: rounds measured in (L1) blocks, round initialization and block hashes.

spec/protocol-economics.md §1 (contracts/rounds/RoundsManager.sol, with the test-only
``AdjustableRoundsManager`` controls: the model owns its block number). A round is
``round_length`` blocks; ``initialize_round`` may be called by anyone once per round and is the
only place the protocol moves from one round to the next: it stores the previous block's hash,
snapshots the BondingManager's next-round active stake (and treasury rate) and steps the Minter's
inflation. Rounds nobody initializes are skipped entirely.
"""

from __future__ import annotations

from typing import Protocol

from pm.crypto import keccak256
from pm.evm import Event, Revert, check_bytes32, check_uint

from ._journal import JDict, JList, Journaled, external
from ._math import MATH_PERC_DIVISOR, div, sub

__all__ = ["RoundsManager"]


class _RoundHookBM(Protocol):
    def set_current_round_total_active_stake(self, sender: bytes) -> None: ...


class _RoundHookMinter(Protocol):
    def set_current_reward_tokens(self, sender: bytes) -> None: ...


def default_block_hash(block: int) -> bytes:
    """Deterministic stand-in for ``blockhash(block)`` (Arbitrum returns a pseudo-random value)."""
    return keccak256(b"pm.protocol.blockhash" + block.to_bytes(32, "big"))


class RoundsManager(Journaled):
    """Reference model of the RoundsManager (block number held by the model, settable)."""

    __slots__ = (
        "_block_hash_for_round",
        "_block_hashes",
        "_block_num",
        "address",
        "bonding_manager",
        "events",
        "last_initialized_round",
        "last_round_length_update_round",
        "last_round_length_update_start_block",
        "lip_upgrade_round_",
        "minter",
        "owner",
        "paused",
        "round_length",
        "round_lock_amount",
    )

    def __init__(
        self,
        *,
        owner: bytes,
        block_num: int = 0,
        bonding_manager: _RoundHookBM | None = None,
        minter: _RoundHookMinter | None = None,
        address: bytes = bytes.fromhex("a0" * 20),
    ) -> None:
        self.address = address
        self.owner = owner
        self.bonding_manager = bonding_manager
        self.minter = minter
        self.paused = False
        self._block_num = check_uint("block_num", block_num)
        self._block_hashes: JDict[int, bytes] = JDict()
        self._block_hash_for_round: JDict[int, bytes] = JDict()
        self.lip_upgrade_round_: JDict[int, int] = JDict()
        self.round_length = 0
        self.round_lock_amount = 0
        self.last_initialized_round = 0
        self.last_round_length_update_round = 0
        self.last_round_length_update_start_block = 0
        self.events: JList[Event] = JList()

    # ------------------------------------------------------------------ block control (Adjustable*)
    def block_num(self) -> int:
        """The block number the protocol sees (``block.number``: an L1 block number on Arbitrum)."""
        return self._block_num

    def set_block_num(self, block_num: int) -> None:
        self._block_num = check_uint("block_num", block_num)

    def mine_blocks(self, blocks: int) -> None:
        self._block_num += check_uint("blocks", blocks)

    def set_block_hash(self, block: int, block_hash: bytes) -> None:
        self._block_hashes[check_uint("block", block)] = check_bytes32("block_hash", block_hash)

    # ------------------------------------------------------------------ views
    def current_round(self) -> int:
        elapsed = sub(self._block_num, self.last_round_length_update_start_block)
        return self.last_round_length_update_round + div(elapsed, self.round_length)

    def current_round_start_block(self) -> int:
        elapsed = sub(self._block_num, self.last_round_length_update_start_block)
        return (
            self.last_round_length_update_start_block
            + div(elapsed, self.round_length) * self.round_length
        )

    def current_round_initialized(self) -> bool:
        return self.last_initialized_round == self.current_round()

    def current_round_locked(self) -> bool:
        """True in the last ``round_length * round_lock_amount / 1e6`` blocks of the round."""
        locked_blocks = self.round_length * self.round_lock_amount // MATH_PERC_DIVISOR
        return (
            self._block_num - self.current_round_start_block() >= self.round_length - locked_blocks
        )

    def block_hash(self, block: int) -> bytes:
        if not block < self._block_num:
            raise Revert("can only retrieve past block hashes")
        if not (self._block_num < 256 or block >= self._block_num - 256):
            raise Revert("can only retrieve hashes for last 256 blocks")
        return self._block_hashes.get(block) or default_block_hash(block)

    def block_hash_for_round(self, round: int) -> bytes:
        """Hash stored when ``round`` was initialized; 32 zero bytes if it never was."""
        return self._block_hash_for_round.get(round, bytes(32))

    def lip_upgrade_round(self, lip: int) -> int:
        return self.lip_upgrade_round_.get(lip, 0)

    # ------------------------------------------------------------------ setters
    def _only_owner(self, sender: bytes) -> None:
        if sender != self.owner:
            raise Revert("caller must be Controller owner")

    @external
    def set_round_length(self, sender: bytes, round_length: int) -> None:
        """Round length in blocks; numbering stays continuous across changes."""
        self._only_owner(sender)
        check_uint("round_length", round_length)
        if round_length == 0:
            raise Revert("round length cannot be 0")
        if self.round_length == 0:
            self.round_length = round_length
            self.last_round_length_update_round = self.current_round()
            self.last_round_length_update_start_block = self.current_round_start_block()
        else:
            self.last_round_length_update_round = self.current_round()
            self.last_round_length_update_start_block = self.current_round_start_block()
            self.round_length = round_length
        self.events.append(Event("ParameterUpdate", {"param": "roundLength"}))

    @external
    def set_round_lock_amount(self, sender: bytes, round_lock_amount: int) -> None:
        self._only_owner(sender)
        check_uint("round_lock_amount", round_lock_amount)
        if not round_lock_amount <= MATH_PERC_DIVISOR:
            raise Revert("round lock amount must be a valid percentage")
        self.round_lock_amount = round_lock_amount
        self.events.append(Event("ParameterUpdate", {"param": "roundLockAmount"}))

    @external
    def set_lip_upgrade_round(self, sender: bytes, lip: int, round: int) -> None:
        self._only_owner(sender)
        if self.lip_upgrade_round(lip) != 0:
            raise Revert("LIP upgrade round already set")
        self.lip_upgrade_round_[check_uint("lip", lip)] = check_uint("round", round)

    # ------------------------------------------------------------------ initializeRound
    @external
    def initialize_round(self, sender: bytes) -> None:
        """Start the current round (anyone may call, once per round)."""
        if self.paused:
            raise Revert("system is paused")
        curr = self.current_round()
        if not self.last_initialized_round < curr:
            raise Revert("round already initialized")
        self.last_initialized_round = curr
        round_block_hash = self.block_hash(sub(self._block_num, 1))
        self._block_hash_for_round[curr] = round_block_hash
        if self.bonding_manager is not None:
            self.bonding_manager.set_current_round_total_active_stake(self.address)
        if self.minter is not None:
            self.minter.set_current_reward_tokens(self.address)
        self.events.append(Event("NewRound", {"round": curr, "blockHash": round_block_hash}))
