"""Adversarial review of the protocol economics models against spec/protocol-economics.md.

Each test pins one divergence found in review (revert strings, check semantics, formulas) and
names the spec section it follows. They failed before the matching fix in ``src/pm/protocol``.
"""

from __future__ import annotations

import pytest

from pm.crypto import keccak256
from pm.evm import Revert
from pm.protocol.mocks import label
from pm.protocol.treasury import Treasury


def reason(fn: object) -> str:
    with pytest.raises(Revert) as e:
        fn()  # type: ignore[operator]
    return e.value.reason


# -- Treasury (OZ TimelockController 4.9): AccessControl revert strings ----------------------


@pytest.mark.parametrize(
    ("role", "call"),
    [
        ("PROPOSER_ROLE", lambda t, who: t.schedule(who, b"\x01" * 32, 0)),
        ("EXECUTOR_ROLE", lambda t, who: t.execute(who, b"\x01" * 32, ())),
        ("CANCELLER_ROLE", lambda t, who: t.cancel(who, b"\x01" * 32)),
    ],
)
def test_treasury_role_revert_is_openzeppelins_hex_string(role: str, call: object) -> None:
    """OZ AccessControl._checkRole: "AccessControl: account 0x<addr> is missing role 0x<role
    id>", the role id being keccak256 of its name (toHexString(uint256(role), 32))."""
    t = Treasury()
    t.grant_governor(label("gov"))
    who = label("stranger")
    role_id = keccak256(role.encode()).hex()
    want = f"AccessControl: account 0x{who.hex()} is missing role 0x{role_id}"
    assert reason(lambda: call(t, who)) == want  # type: ignore[operator]
