"""LivepeerToken (L2 LPT): an ERC-20 ledger with minter and burner roles.

spec/protocol-economics.md §5 (contracts/token/LivepeerToken.sol, OpenZeppelin 4.x ERC20 +
AccessControl). Amounts are LPT wei (18 decimals). Only ``MINTER_ROLE`` holders (the Minter, the
bridge gateway) mint; only ``BURNER_ROLE`` holders burn. Revert strings are OpenZeppelin's.
"""

from __future__ import annotations

from pm.crypto import keccak256
from pm.evm import ZERO_ADDRESS, Event, Revert, check_address, check_uint

from ._journal import JDict, JList, Journaled, external
from ._math import add

__all__ = ["BURNER_ROLE", "DEFAULT_ADMIN_ROLE", "MINTER_ROLE", "LivepeerToken"]

MINTER_ROLE = keccak256(b"MINTER_ROLE")
BURNER_ROLE = keccak256(b"BURNER_ROLE")
DEFAULT_ADMIN_ROLE = bytes(32)
_MAX = 2**256 - 1


class LivepeerToken(Journaled):
    """ERC-20 "Livepeer Token" (LPT). ``admin`` holds ``DEFAULT_ADMIN_ROLE``."""

    __slots__ = ("_allowances", "_balances", "_roles", "address", "events", "total_supply_")

    name = "Livepeer Token"
    symbol = "LPT"
    decimals = 18

    def __init__(
        self,
        *,
        admin: bytes,
        address: bytes = bytes.fromhex("289ba1701c2f088cf0faf8b3705246331cb8a839"),
    ) -> None:
        self.address = check_address("address", address)
        self._balances: JDict[bytes, int] = JDict()
        self._allowances: JDict[tuple[bytes, bytes], int] = JDict()
        self._roles: JDict[tuple[bytes, bytes], bool] = JDict()
        self._roles[(DEFAULT_ADMIN_ROLE, check_address("admin", admin))] = True
        self.total_supply_ = 0
        self.events: JList[Event] = JList()

    # ------------------------------------------------------------------ views
    def total_supply(self) -> int:
        return self.total_supply_

    def balance_of(self, addr: bytes) -> int:
        return self._balances.get(addr, 0)

    def allowance(self, owner: bytes, spender: bytes) -> int:
        return self._allowances.get((owner, spender), 0)

    def has_role(self, role: bytes, account: bytes) -> bool:
        return self._roles.get((role, account), False)

    def holders(self) -> dict[bytes, int]:
        """Every non-zero balance (for conservation checks)."""
        return {a: b for a, b in self._balances.items() if b}

    # ------------------------------------------------------------------ roles
    def _check_role(self, role: bytes, account: bytes) -> None:
        if not self.has_role(role, account):
            raise Revert(f"AccessControl: account 0x{account.hex()} is missing role 0x{role.hex()}")

    @external
    def grant_role(self, sender: bytes, role: bytes, account: bytes) -> None:
        self._check_role(DEFAULT_ADMIN_ROLE, sender)
        if not self.has_role(role, account):
            self._roles[(role, account)] = True
            self.events.append(
                Event("RoleGranted", {"role": role, "account": account, "sender": sender})
            )

    @external
    def revoke_role(self, sender: bytes, role: bytes, account: bytes) -> None:
        self._check_role(DEFAULT_ADMIN_ROLE, sender)
        if self.has_role(role, account):
            self._roles[(role, account)] = False
            self.events.append(
                Event("RoleRevoked", {"role": role, "account": account, "sender": sender})
            )

    # ------------------------------------------------------------------ ERC-20
    def _transfer(self, frm: bytes, to: bytes, amount: int) -> None:
        if frm == ZERO_ADDRESS:
            raise Revert("ERC20: transfer from the zero address")
        if to == ZERO_ADDRESS:
            raise Revert("ERC20: transfer to the zero address")
        bal = self.balance_of(frm)
        if bal < amount:
            raise Revert("ERC20: transfer amount exceeds balance")
        self._balances[frm] = bal - amount
        self._balances[to] = self.balance_of(to) + amount
        self.events.append(Event("Transfer", {"from": frm, "to": to, "value": amount}))

    @external
    def transfer(self, sender: bytes, to: bytes, amount: int) -> bool:
        self._transfer(sender, check_address("to", to), check_uint("amount", amount))
        return True

    @external
    def approve(self, sender: bytes, spender: bytes, amount: int) -> bool:
        check_address("spender", spender)
        check_uint("amount", amount)
        if sender == ZERO_ADDRESS:
            raise Revert("ERC20: approve from the zero address")
        if spender == ZERO_ADDRESS:
            raise Revert("ERC20: approve to the zero address")
        self._allowances[(sender, spender)] = amount
        self.events.append(
            Event("Approval", {"owner": sender, "spender": spender, "value": amount})
        )
        return True

    @external
    def transfer_from(self, spender: bytes, owner: bytes, to: bytes, amount: int) -> bool:
        """``transferFrom`` called by ``spender`` moving ``owner``'s tokens to ``to``."""
        check_address("owner", owner)
        check_address("to", to)
        check_uint("amount", amount)
        allowed = self.allowance(owner, spender)
        if allowed != _MAX:
            if allowed < amount:
                raise Revert("ERC20: insufficient allowance")
            self._allowances[(owner, spender)] = allowed - amount
        self._transfer(owner, to, amount)
        return True

    @external
    def mint(self, sender: bytes, to: bytes, amount: int) -> None:
        """Mint ``amount`` to ``to``; only MINTER_ROLE (the Minter and the bridge gateway)."""
        check_address("to", to)
        check_uint("amount", amount)
        self._check_role(MINTER_ROLE, sender)
        if to == ZERO_ADDRESS:
            raise Revert("ERC20: mint to the zero address")
        self.total_supply_ = add(self.total_supply_, amount)
        self._balances[to] = self.balance_of(to) + amount
        self.events.append(Event("Transfer", {"from": ZERO_ADDRESS, "to": to, "value": amount}))
        self.events.append(Event("Mint", {"to": to, "amount": amount}))

    @external
    def burn(self, sender: bytes, amount: int) -> None:
        """Burn the sender's tokens; only BURNER_ROLE on L2."""
        check_uint("amount", amount)
        self._check_role(BURNER_ROLE, sender)
        bal = self.balance_of(sender)
        if bal < amount:
            raise Revert("ERC20: burn amount exceeds balance")
        self._balances[sender] = bal - amount
        self.total_supply_ -= amount
        self.events.append(Event("Transfer", {"from": sender, "to": ZERO_ADDRESS, "value": amount}))
        self.events.append(Event("Burn", {"burner": sender, "amount": amount}))
