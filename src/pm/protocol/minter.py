"""Minter: inflation, per-round mintable LPT, and custody of all bonded LPT and protocol ETH.

spec/protocol-economics.md §3 (contracts/token/Minter.sol). Rates use MathUtilsV2 (1e9 = 100 %):
``inflation`` is the per-round mint rate, ``inflation_change`` the per-round step toward
``target_bonding_rate``. Inflation moves once per INITIALIZED round (skipped rounds do not step).

Calls from the BondingManager (``create_reward``, ``trusted_transfer_tokens``,
``trusted_burn_tokens``, ``trusted_withdraw_eth``) and ``deposit_eth`` can be made in two shapes:
with the sender first, like every external method of the models (the access checks then apply),
or without it, which is how :class:`~pm.protocol.bonding_manager.BondingManager` calls its peer
(through the small ``MinterLike`` protocol) and means "called by the registered BondingManager"
(or, for ``deposit_eth``, by the registered TicketBroker).
"""

from __future__ import annotations

from typing import Any, Protocol, overload

from pm.evm import ZERO_ADDRESS, Event, Revert, check_address, check_uint

from ._journal import JDict, JList, Journaled, external
from ._math import MINTER_PERC_DIVISOR, add, perc_of, perc_of3

__all__ = ["Minter", "MinterToken", "TotalBondedSource"]


class MinterToken(Protocol):
    address: bytes

    def total_supply(self) -> int: ...
    def balance_of(self, addr: bytes) -> int: ...
    def mint(self, sender: bytes, to: bytes, amount: int) -> None: ...
    def transfer(self, sender: bytes, to: bytes, amount: int) -> bool: ...
    def burn(self, sender: bytes, amount: int) -> None: ...


class TotalBondedSource(Protocol):
    address: bytes

    def get_total_bonded(self) -> int: ...


class Minter(Journaled):
    """Reference model of the Minter (not behind a proxy; replaced by ``migrate_to_new_minter``)."""

    __slots__ = (
        "address",
        "bonding_manager",
        "current_mintable_tokens_",
        "current_minted_tokens_",
        "eth_balance",
        "eth_paid",
        "events",
        "inflation_",
        "inflation_change_",
        "jobs_manager",
        "l1_circulating_supply",
        "owner",
        "paused",
        "registered_minter",
        "rounds_manager",
        "target_bonding_rate_",
        "token",
    )

    def __init__(
        self,
        *,
        token: MinterToken,
        owner: bytes,
        inflation: int,
        inflation_change: int,
        target_bonding_rate: int,
        bonding_manager: TotalBondedSource | None = None,
        rounds_manager: bytes = ZERO_ADDRESS,
        jobs_manager: bytes = ZERO_ADDRESS,
        l1_circulating_supply: int = 0,
        address: bytes = bytes.fromhex("c20de37170b45774e6cd3d2304017fc962f27252"),
    ) -> None:
        check_uint("inflation", inflation)
        check_uint("inflation_change", inflation_change)
        check_uint("target_bonding_rate", target_bonding_rate)
        if not inflation <= MINTER_PERC_DIVISOR:
            raise Revert("_inflation is invalid percentage")
        if not inflation_change <= MINTER_PERC_DIVISOR:
            raise Revert("_inflationChange is invalid percentage")
        if not target_bonding_rate <= MINTER_PERC_DIVISOR:
            raise Revert("_targetBondingRate is invalid percentage")
        self.address = check_address("address", address)
        self.token = token
        self.owner = check_address("owner", owner)
        self.bonding_manager = bonding_manager
        self.rounds_manager = check_address("rounds_manager", rounds_manager)
        #: The TicketBroker, registered in the Controller also as "JobsManager".
        self.jobs_manager = check_address("jobs_manager", jobs_manager)
        #: ``L2LPTDataCache.l1CirculatingSupply()`` (LPT wei): part of the global supply.
        self.l1_circulating_supply = check_uint("l1_circulating_supply", l1_circulating_supply)
        #: Whether the Controller registers this contract as "Minter" (migration checks).
        self.registered_minter = True
        self.inflation_ = inflation
        self.inflation_change_ = inflation_change
        self.target_bonding_rate_ = target_bonding_rate
        self.current_mintable_tokens_ = 0
        self.current_minted_tokens_ = 0
        #: ETH wei held (ticket deposits/reserves and unclaimed fees).
        self.eth_balance = 0
        #: ETH wei paid out by ``trusted_withdraw_eth``, per recipient.
        self.eth_paid: JDict[bytes, int] = JDict()
        self.paused = False
        self.events: JList[Event] = JList()

    # ------------------------------------------------------------------ views
    @property
    def inflation(self) -> int:
        return self.inflation_

    @property
    def inflation_change(self) -> int:
        return self.inflation_change_

    @property
    def target_bonding_rate(self) -> int:
        return self.target_bonding_rate_

    def current_mintable_tokens(self) -> int:
        """LPT wei that reward() calls may mint this round."""
        return self.current_mintable_tokens_

    def current_minted_tokens(self) -> int:
        return self.current_minted_tokens_

    def get_global_total_supply(self) -> int:
        """L2 LPT total supply + L1 circulating supply (fix a28b1ce)."""
        return add(self.token.total_supply(), self.l1_circulating_supply)

    def get_controller(self) -> bytes:
        return self.owner

    def _bm_address(self) -> bytes:
        return self.bonding_manager.address if self.bonding_manager is not None else ZERO_ADDRESS

    # ------------------------------------------------------------------ modifiers
    def _when_not_paused(self) -> None:
        if self.paused:
            raise Revert("system is paused")

    def _only_bm(self, sender: bytes) -> None:
        if sender != self._bm_address():
            raise Revert("msg.sender not BondingManager")

    def _only_owner(self, sender: bytes) -> None:
        if sender != self.owner:
            raise Revert("caller must be Controller owner")

    # ------------------------------------------------------------------ setters
    @external
    def set_target_bonding_rate(self, sender: bytes, target_bonding_rate: int) -> None:
        self._only_owner(sender)
        check_uint("target_bonding_rate", target_bonding_rate)
        if not target_bonding_rate <= MINTER_PERC_DIVISOR:
            raise Revert("_targetBondingRate is invalid percentage")
        self.target_bonding_rate_ = target_bonding_rate
        self.events.append(Event("ParameterUpdate", {"param": "targetBondingRate"}))

    @external
    def set_inflation_change(self, sender: bytes, inflation_change: int) -> None:
        self._only_owner(sender)
        check_uint("inflation_change", inflation_change)
        if not inflation_change <= MINTER_PERC_DIVISOR:
            raise Revert("_inflationChange is invalid percentage")
        self.inflation_change_ = inflation_change
        self.events.append(Event("ParameterUpdate", {"param": "inflationChange"}))

    # ------------------------------------------------------------------ round step (§3)
    @external
    def set_current_reward_tokens(self, sender: bytes) -> None:
        """RoundsManager hook: step inflation once, fix this round's mintable tokens."""
        if sender != self.rounds_manager:
            raise Revert("msg.sender not RoundsManager")
        self._when_not_paused()
        self._set_inflation()
        self.current_mintable_tokens_ = perc_of(
            self.get_global_total_supply(), self.inflation_, MINTER_PERC_DIVISOR
        )
        self.current_minted_tokens_ = 0
        self.events.append(
            Event(
                "SetCurrentRewardTokens",
                {
                    "currentMintableTokens": self.current_mintable_tokens_,
                    "currentInflation": self.inflation_,
                },
            )
        )

    def current_bonding_rate(self) -> int:
        """``totalBonded * 1e9 / globalSupply`` (0 when the supply is 0)."""
        total_bonded = (
            self.bonding_manager.get_total_bonded() if self.bonding_manager is not None else 0
        )
        supply = self.get_global_total_supply()
        if supply == 0:
            return 0
        return total_bonded * MINTER_PERC_DIVISOR // supply

    def _set_inflation(self) -> None:
        rate = self.current_bonding_rate()
        if rate < self.target_bonding_rate_:
            self.inflation_ = add(self.inflation_, self.inflation_change_)
        elif rate > self.target_bonding_rate_:
            self.inflation_ = (
                0
                if self.inflation_change_ > self.inflation_
                else self.inflation_ - self.inflation_change_
            )

    # ------------------------------------------------------------------ BondingManager calls
    @overload
    def create_reward(self, frac_num: int, frac_denom: int, /) -> int: ...
    @overload
    def create_reward(self, sender: bytes, frac_num: int, frac_denom: int, /) -> int: ...
    @external
    def create_reward(self, *args: Any) -> int:
        """Mint ``mintable * (num * 1e9 / den) / 1e9`` LPT wei to the Minter (the reward share)."""
        sender, (frac_num, frac_denom) = self._split(args, 2)
        self._only_bm(sender)
        self._when_not_paused()
        mint_amount = perc_of3(
            self.current_mintable_tokens_, frac_num, frac_denom, MINTER_PERC_DIVISOR
        )
        self.current_minted_tokens_ = add(self.current_minted_tokens_, mint_amount)
        if self.current_minted_tokens_ > self.current_mintable_tokens_:
            raise Revert("minted tokens cannot exceed mintable tokens")
        self.token.mint(self.address, self.address, mint_amount)
        return mint_amount

    @overload
    def trusted_transfer_tokens(self, to: bytes, amount: int, /) -> None: ...
    @overload
    def trusted_transfer_tokens(self, sender: bytes, to: bytes, amount: int, /) -> None: ...
    @external
    def trusted_transfer_tokens(self, *args: Any) -> None:
        """Pay LPT out of the Minter (withdrawStake, treasury cut, slashing finder fee)."""
        sender, (to, amount) = self._split(args, 2)
        self._only_bm(sender)
        self._when_not_paused()
        self.token.transfer(self.address, to, amount)

    @overload
    def trusted_burn_tokens(self, amount: int, /) -> None: ...
    @overload
    def trusted_burn_tokens(self, sender: bytes, amount: int, /) -> None: ...
    @external
    def trusted_burn_tokens(self, *args: Any) -> None:
        sender, (amount,) = self._split(args, 1)
        self._only_bm(sender)
        self._when_not_paused()
        self.token.burn(self.address, amount)

    @overload
    def trusted_withdraw_eth(self, to: bytes, amount: int, /) -> None: ...
    @overload
    def trusted_withdraw_eth(self, sender: bytes, to: bytes, amount: int, /) -> None: ...
    @external
    def trusted_withdraw_eth(self, *args: Any) -> None:
        """Send ETH wei (fee withdrawals; TicketBroker payouts as "JobsManager")."""
        sender, (to, amount) = self._split(args, 2)
        if sender != self._bm_address() and sender != self.jobs_manager:
            raise Revert("msg.sender not BondingManager or JobsManager")
        self._when_not_paused()
        check_address("to", to)
        check_uint("amount", amount)
        if amount > self.eth_balance:
            raise Revert("")  # address.transfer with insufficient balance
        self.eth_balance -= amount
        self.eth_paid[to] = self.eth_paid.get(to, 0) + amount

    @overload
    def deposit_eth(self, value: int, /) -> bool: ...
    @overload
    def deposit_eth(self, sender: bytes, value: int, /) -> bool: ...
    @external
    def deposit_eth(self, *args: Any) -> bool:
        """Accept ETH wei from the TicketBroker (JobsManager) or a Minter; works while paused."""
        if len(args) == 1:
            sender, value = self.jobs_manager, args[0]
        else:
            sender, value = args
        if sender != self.address and sender != self.jobs_manager:
            raise Revert("msg.sender not Minter or JobsManager")
        self.eth_balance = add(self.eth_balance, check_uint("value", value))
        return True

    def _split(self, args: tuple[Any, ...], n: int) -> tuple[bytes, tuple[Any, ...]]:
        if len(args) == n:
            return self._bm_address(), args
        if len(args) == n + 1:
            return check_address("sender", args[0]), args[1:]
        raise TypeError(f"expected {n} or {n + 1} arguments, got {len(args)}")

    # ------------------------------------------------------------------ migration (LIP-40)
    @external
    def migrate_to_new_minter(self, sender: bytes, new_minter: Minter) -> None:
        """Move all LPT and ETH to ``new_minter`` (Controller owner only)."""
        self._only_owner(sender)
        if new_minter is self or new_minter.address == self.address:
            raise Revert("new Minter cannot be current Minter")
        if new_minter.address == ZERO_ADDRESS:
            raise Revert("new Minter cannot be null address")
        if new_minter.get_controller() != self.get_controller():
            raise Revert("new Minter Controller must be current Controller")
        # newMinterController.getContract(keccak256("Minter")) == address(this): the check is on
        # THIS Minter (still the registered one), despite the message
        if not self.registered_minter:
            raise Revert("new Minter must be registered")
        self.token.transfer(self.address, new_minter.address, self.token.balance_of(self.address))
        eth = self.eth_balance
        self.eth_balance = 0
        new_minter.eth_balance = add(new_minter.eth_balance, eth)
        # the Controller owner then registers the new Minter in place of this one
        self.registered_minter = False
        new_minter.registered_minter = True
