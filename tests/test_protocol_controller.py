"""§6.6: the staged-update Governor that owns the Controller (test/unit/Governor.js) and the
legacy stake polls (Poll.js, PollCreator.js), on the whole model: a parameter change decided by a
poll and executed through the Governor, as Arbitrum One's parameter LIPs are."""

from __future__ import annotations

import pytest

from pm.evm import Revert
from pm.protocol import UNIT_TEST, Call, Protocol, Update
from pm.protocol.mocks import label
from pm.protocol.polling import POLL_PERIOD, QUORUM, QUOTA, tally

E18 = 10**18


def reason(fn: object) -> str:
    with pytest.raises(Revert) as e:
        fn()  # type: ignore[operator]
    return e.value.reason


def test_governor_stage_execute_cancel() -> None:
    p = Protocol(UNIT_TEST)
    g, bm = p.controller_governor, p.bonding_manager
    assert g.owner == p.MULTISIG and g.address == p.owner
    upd = Update((Call(bm, "set_unbonding_period", (9,)),), nonce=1)
    assert reason(lambda: g.stage(label("x"), upd, 5)) == "unauthorized: msg.sender not owner"
    assert reason(lambda: g.execute(label("x"), upd)) == "update is not staged"
    assert reason(lambda: g.cancel(p.MULTISIG, upd)) == "update is not staged"
    g.stage(p.MULTISIG, upd, 5)
    assert reason(lambda: g.stage(p.MULTISIG, upd, 5)) == "update already staged"
    assert reason(lambda: g.stage(p.MULTISIG, Update(upd.calls, 2), 2**256)) == "Panic(0x11)"
    assert reason(lambda: g.execute(label("x"), upd)) == "delay for update not expired"
    p.advance_blocks(5)
    g.execute(label("anyone"), upd)  # the call is made as the Controller owner
    assert bm.unbonding_period == 9
    assert [e.name for e in g.events] == ["UpdateStaged", "UpdateExecuted"]
    assert reason(lambda: g.execute(label("x"), upd)) == "update is not staged"
    upd2 = Update((Call(bm, "set_unbonding_period", (3,)),), nonce=2)
    g.stage(p.MULTISIG, upd2, 0)
    g.cancel(p.MULTISIG, upd2)
    assert g.events[-1].name == "UpdateCancelled"


def test_governor_batch_is_atomic_and_ownership_only_via_update() -> None:
    p = Protocol(UNIT_TEST)
    g, bm = p.controller_governor, p.bonding_manager
    assert reason(lambda: g.transfer_ownership(p.MULTISIG, label("new"))) == (
        "unauthorized: msg.sender not Governor"
    )
    bad = Update(
        (Call(bm, "set_unbonding_period", (11,)), Call(bm, "set_num_active_transcoders", (1,)))
    )
    g.stage(p.MULTISIG, bad, 0)
    assert (
        reason(lambda: g.execute(label("x"), bad))
        == "new max size must be greater than old max size"
    )
    assert bm.unbonding_period == UNIT_TEST.unbonding_period  # the first call was undone too
    null = Update((Call(g, "transfer_ownership", (bytes(20),)),))
    g.stage(p.MULTISIG, null, 0)
    assert reason(lambda: g.execute(label("x"), null)) == "newOwner is a null address"
    move = Update((Call(g, "transfer_ownership", (label("new"),)),))
    g.stage(p.MULTISIG, move, 0)
    g.execute(label("x"), move)
    assert g.owner == label("new")


def test_poll_creator_and_poll() -> None:
    p = Protocol(UNIT_TEST)
    pc = p.poll_creator
    t, d = label("orch"), label("del")
    p.register_transcoder(t, 1000 * E18, 0, 0)
    p.faucet(d, 99 * E18)
    p.bond(d, 99 * E18, t)
    assert (
        reason(lambda: pc.create_poll(d, b"LIP-x")) == "PollCreator#createPoll: INSUFFICIENT_STAKE"
    )
    start = p.rounds.block_num()
    poll = pc.create_poll(t, b"LIP-x")
    assert poll.end_block == start + POLL_PERIOD == start + 10 * 5760
    assert pc.events[-1].args == {
        "poll": poll.address,
        "proposal": b"LIP-x",
        "endBlock": poll.end_block,
        "quorum": 333_300,
        "quota": 500_000,
    }
    poll.vote(d, 1)
    assert poll.events[-1].args == {"voter": d, "choiceID": 1}
    assert reason(lambda: poll.destroy(t)) == "poll is active"
    p.advance_blocks(POLL_PERIOD + 1)
    assert reason(lambda: poll.vote(t, 0)) == "poll is over"
    poll.destroy(t)
    assert poll.destroyed


def test_poll_tally_with_override_then_parameter_change_through_governor() -> None:
    p = Protocol(UNIT_TEST)
    bm = p.bonding_manager
    t1, t2, d1 = label("orch1"), label("orch2"), label("del1")
    p.register_transcoder(t1, 1000 * E18, 0, 0)
    p.register_transcoder(t2, 600 * E18, 0, 0)
    p.faucet(d1, 500 * E18)
    p.bond(d1, 500 * E18, t1)
    p.advance_rounds(1)
    poll = p.poll_creator.create_poll(t2, b"set unbondingPeriod 5")
    poll.vote(t1, 1)  # no
    poll.vote(t2, 0)  # yes
    poll.vote(d1, 0)  # its delegator overrides with its own 500
    poll.vote(d1, 0)  # a repeated vote counts once (the last one)

    def delegate_of(a: bytes) -> bytes:
        return bm.get_delegator(a).delegate_address

    result = tally(poll, bm, delegate_of, bm.next_round_total_active_stake)
    assert result.stake_by_choice == {1: 1000 * E18, 0: 1100 * E18}
    assert result.quorum_reached and result.passed
    assert (QUORUM, QUOTA) == (333_300, 500_000)
    upd = Update((Call(bm, "set_unbonding_period", (5,)),))
    p.controller_governor.stage(p.MULTISIG, upd, 0)
    p.controller_governor.execute(label("anyone"), upd)
    assert bm.unbonding_period == 5
