"""RoundsManager catalogue (spec/protocol-economics.md §1, §6.2; test/unit/RoundsManager.js):
round length 50, lock amount 10 %, the model's adjustable block number."""

from __future__ import annotations

import pytest

from pm.evm import Revert
from pm.protocol import RoundsManager
from pm.protocol.mocks import OWNER, label
from pm.protocol.rounds_manager import default_block_hash


class Hooks:
    """Records the two calls initializeRound makes, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []

    def set_current_round_total_active_stake(self, sender: bytes) -> None:
        self.calls.append(("bm", sender))

    def set_current_reward_tokens(self, sender: bytes) -> None:
        self.calls.append(("minter", sender))


def rm_at(block: int, length: int = 50) -> RoundsManager:
    rm = RoundsManager(owner=OWNER, block_num=block)
    rm.set_round_length(OWNER, length)
    rm.set_round_lock_amount(OWNER, 100_000)
    return rm


def reason(fn: object) -> str:
    with pytest.raises(Revert) as e:
        fn()  # type: ignore[operator]
    return e.value.reason


def test_set_round_length_rules() -> None:
    rm = RoundsManager(owner=OWNER, block_num=1234)
    assert reason(lambda: rm.set_round_length(label("x"), 50)) == "caller must be Controller owner"
    assert reason(lambda: rm.set_round_length(OWNER, 0)) == "round length cannot be 0"
    rm.set_round_length(OWNER, 50)
    assert rm.current_round() == 1234 // 50 and rm.current_round_start_block() == 1200
    assert rm.events[-1].args == {"param": "roundLength"}


@pytest.mark.parametrize("new_length", [60, 40])
def test_round_length_change_keeps_numbering_continuous(new_length: int) -> None:
    rm = rm_at(1234)  # round 24, start 1200
    rm.set_round_length(OWNER, new_length)
    assert (rm.last_round_length_update_round, rm.last_round_length_update_start_block) == (
        24,
        1200,
    )
    assert rm.current_round() == 24
    rm.set_block_num(1200 + new_length - 1)
    assert rm.current_round() == 24
    rm.set_block_num(1200 + new_length)  # +1 only after a full round of the new length
    assert rm.current_round() == 25 and rm.current_round_start_block() == 1200 + new_length
    # another change never moves the recorded round or start block backwards
    rm.set_round_length(OWNER, 50)
    assert (rm.last_round_length_update_round, rm.last_round_length_update_start_block) == (
        25,
        1200 + new_length,
    )


def test_round_lock_amount() -> None:
    rm = rm_at(1200)
    assert (
        reason(lambda: rm.set_round_lock_amount(label("x"), 1)) == "caller must be Controller owner"
    )
    assert reason(lambda: rm.set_round_lock_amount(OWNER, 10**6 + 1)) == (
        "round lock amount must be a valid percentage"
    )
    # 10 % of 50 = 5 locked blocks: locked from 50 - 5 = 45 blocks into the round
    rm.set_block_num(1200 + 44)
    assert not rm.current_round_locked()
    rm.set_block_num(1200 + 45)
    assert rm.current_round_locked()
    rm.set_block_num(1250)
    assert not rm.current_round_locked()


def test_initialize_round() -> None:
    rm = rm_at(1234)
    hooks = Hooks()
    rm.bonding_manager = hooks
    rm.minter = hooks
    rm.paused = True
    assert reason(lambda: rm.initialize_round(label("x"))) == "system is paused"
    rm.paused = False
    assert not rm.current_round_initialized()
    assert rm.block_hash_for_round(24) == bytes(32)
    rm.set_block_hash(1233, b"\x11" * 32)
    rm.initialize_round(label("anyone"))
    assert rm.current_round_initialized() and rm.last_initialized_round == 24
    assert rm.block_hash_for_round(24) == b"\x11" * 32  # the previous block's hash
    assert hooks.calls == [("bm", rm.address), ("minter", rm.address)]
    assert rm.events[-1].name == "NewRound"
    assert rm.events[-1].args == {"round": 24, "blockHash": b"\x11" * 32}
    assert reason(lambda: rm.initialize_round(label("x"))) == "round already initialized"
    # skipped rounds: no hash, no hook calls
    rm.set_block_num(1234 + 150)
    rm.initialize_round(label("x"))
    assert rm.last_initialized_round == 27
    assert rm.block_hash_for_round(25) == bytes(32) and rm.block_hash_for_round(26) == bytes(32)
    assert rm.block_hash_for_round(27) == default_block_hash(1234 + 149)
    assert len(hooks.calls) == 4
    # after a length change initialization still follows the (continuous) round number
    rm.set_round_length(OWNER, 60)
    rm.set_block_num(rm.current_round_start_block() + 60)
    rm.initialize_round(label("x"))
    assert rm.last_initialized_round == 28


def test_block_hash_window() -> None:
    rm = rm_at(1000)
    assert reason(lambda: rm.block_hash(1000)) == "can only retrieve past block hashes"
    assert reason(lambda: rm.block_hash(1001)) == "can only retrieve past block hashes"
    assert (
        reason(lambda: rm.block_hash(1000 - 257)) == "can only retrieve hashes for last 256 blocks"
    )
    assert rm.block_hash(1000 - 256) == default_block_hash(744)
    rm.set_block_hash(999, b"\x22" * 32)
    assert rm.block_hash(999) == b"\x22" * 32
    early = rm_at(100)
    assert early.block_hash(0) == default_block_hash(0)  # under 256 blocks: any past block


def test_lip_upgrade_round() -> None:
    rm = rm_at(1000)
    assert (
        reason(lambda: rm.set_lip_upgrade_round(label("x"), 36, 5))
        == "caller must be Controller owner"
    )
    rm.set_lip_upgrade_round(OWNER, 36, 5)
    assert rm.lip_upgrade_round(36) == 5
    assert reason(lambda: rm.set_lip_upgrade_round(OWNER, 36, 6)) == "LIP upgrade round already set"


def test_hook_revert_rolls_back_initialization() -> None:
    rm = rm_at(1234)

    class Failing(Hooks):
        def set_current_reward_tokens(self, sender: bytes) -> None:
            raise Revert("system is paused")

    rm.bonding_manager = rm.minter = Failing()
    assert reason(lambda: rm.initialize_round(label("x"))) == "system is paused"
    assert rm.last_initialized_round == 0 and rm.block_hash_for_round(24) == bytes(32)
    assert rm.events[-1].name == "ParameterUpdate"
