"""`pm simulate`: conservation, payout vs the binomial spread of winners, exact fault counts,
determinism by seed, and resume after SIGKILL without losing or double-redeeming a winner."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pm
from pm.broker import Bonding, BrokerChain
from pm.cli import main
from pm.commands.simulate import _wei
from pm.pricing import MAX_WIN_PROB, win_prob_for
from pm.simulate import CHAIN_FILE, STATE_FILE, SimConfig, SimError, run_simulation
from pm.store import SQLiteTicketStore, TicketState


def _load_checkpoint(out: Path) -> tuple[Any, BrokerChain]:
    """The simulation state and the chain a run directory holds."""
    saved = pickle.loads((out / STATE_FILE).read_bytes())
    return saved["state"], BrokerChain.load(out / CHAIN_FILE)


def _winners(out: Path, n: int) -> dict[bytes, TicketState]:
    found: dict[bytes, TicketState] = {}
    for i in range(n):
        store = SQLiteTicketStore(out / f"orchestrator-{i}.sqlite")
        try:
            for t in store.tickets():
                assert t.ticket_hash not in found
                found[t.ticket_hash] = t.state
        finally:
            store.close()
    return found


def _redeemed_events(chain: BrokerChain) -> list[bytes]:
    """Ticket hashes of every WinningTicketRedeemed the broker ever logged."""
    hashes: list[bytes] = []
    for rc in chain.receipts.values():
        hashes.extend(rc.redeemed)
    return hashes


# -- conservation and the binomial bound --------------------------------------------------


def test_conservation_and_payout_within_binomial_bound(tmp_path: Path) -> None:
    cfg = SimConfig(tickets=6000, orchestrators=3, seed=11)
    s = run_simulation(cfg, tmp_path, chart=False).summary
    _, chain = _load_checkpoint(tmp_path)
    broker = chain.broker
    bonding = broker.bonding
    assert isinstance(bonding, Bonding)

    # funded = paid out (net of gas) + gas + left in the broker, from the summary ...
    c = s["conservation"]
    funded = int(c["funded_wei"])
    paid, gas, left = int(c["paid_out_wei"]), int(c["gas_wei"]), int(c["left_in_broker_wei"])
    assert c["holds"] is True
    assert funded == int(c["paid_out_net_of_gas_wei"]) + gas + left
    deposit, reserve = cfg.funding()
    assert funded == deposit + reserve
    # ... and from the chain itself: the Minter still holds every funded wei, split between
    # the gateway's deposit + reserve and the fees credited to orchestrators
    info = broker.get_sender_info(bytes.fromhex(s["gateway"]["address"][2:]))
    assert left == info.deposit + info.funds_remaining
    assert broker.minter.deposited == funded == broker.minter.balance  # type: ignore[attr-defined]
    assert bonding.fees_credited == paid == sum(bonding.fees.values())
    assert gas == sum(rc.fee for rc in chain.receipts.values())
    assert gas == sum(chain.gas_spent.values())

    # every winner was redeemed exactly once
    winners = _winners(tmp_path, cfg.orchestrators)
    assert winners and all(state is TicketState.CONFIRMED for state in winners.values())
    events = _redeemed_events(chain)
    assert sorted(events) == sorted(winners)
    assert s["settlement"]["redeemed"] == len(winners) == s["tickets"]["winners"]

    # realized payout vs expected value, per orchestrator and in total
    fv = cfg.face_value
    total_n = total_real = 0
    for o in s["orchestrators"]:
        assert int(o["face_value_wei"]) == fv and o["params_variants"] == 1
        wp = int(o["win_prob"])
        assert wp == win_prob_for(fv, cfg.ticket_ev)
        n = o["tickets_accepted"]
        assert n == o["tickets_sent"]  # no faults: everything accepted and credited
        p = Fraction(wp, MAX_WIN_PROB)
        expected = n * fv * p
        assert int(o["expected_wei"]) == expected.numerator // expected.denominator
        realized = int(o["realized_wei"])
        assert realized == o["winners"] * fv == o["redeemed"] * fv
        # winners ~ Binomial(n, p): |realized - n·fv·p| <= 5 standard deviations of fv·winners
        variance = fv * fv * n * p * (1 - p)
        assert (realized - expected) ** 2 <= 25 * variance, (o["index"], realized, expected)
        total_n += n
        total_real += realized
    p = Fraction(win_prob_for(fv, cfg.ticket_ev), MAX_WIN_PROB)
    expected_total = total_n * fv * p
    assert (total_real - expected_total) ** 2 <= 25 * fv * fv * total_n * p * (1 - p)
    assert total_real == paid


# -- faults ---------------------------------------------------------------------------------


def test_fault_counts_are_exact(tmp_path: Path) -> None:
    cfg = SimConfig(tickets=2500, seed=4, faults=True, fault_repeats=2, fault_tickets=3)
    result = run_simulation(cfg, tmp_path)
    s = result.summary
    assert result.chart_path is not None and result.chart_path.stat().st_size > 0
    f = s["faults"]
    expected_reason = {
        "forged": "invalid ticket signature",
        "replayed": "nonce already seen",
        "expired": "ticket params expired",
        "underpriced": "invalid recipientRand",
    }
    injected = 0
    for kind, reason in expected_reason.items():
        k = f[kind]
        assert k["payments"] == 2, kind
        if kind != "replayed":  # a replay resends a whole earlier payment
            assert k["tickets"] == 2 * 3, kind
        assert k["tickets"] > 0
        assert k["accepted"] == 0 and k["credited_wei"] == "0", kind
        assert k["rejected"] == k["tickets"], kind
        assert k["reasons"] == {reason: k["tickets"]}, kind
        injected += k["tickets"]
    # the genuine flow had no rejection at all: every rejection is an injected fault
    t = s["tickets"]
    assert t["rejected"] == injected == sum(t["rejected_by_reason"].values())
    assert t["sent"] == t["minted"] + injected
    assert t["accepted"] == t["minted"]

    crash = f["crash"]
    assert crash["restarted_at_block"] - crash["crashed_at_block"] == cfg.crash_down_blocks
    streams = cfg.streams_per_orchestrator
    # killed during its first payment of the crash block, back at the restart block
    assert crash["payments_missed"] == (streams - 1) + (cfg.crash_down_blocks - 1) * streams
    assert crash["tickets_in_unanswered_payment"] > 0
    assert crash["winners_recovered_and_redeemed"] == crash["winners_pending_at_restart"]
    assert s["settlement"]["pending"] == 0 and s["settlement"]["failed"] == 0
    assert s["conservation"]["holds"] is True


def test_crash_victim_recovers_winners_stored_before_it_died(tmp_path: Path) -> None:
    # seed chosen so that the victim holds unredeemed winners when it crashes
    cfg = SimConfig(tickets=6000, orchestrators=2, seed=3, faults=True, fault_repeats=1)
    s = run_simulation(cfg, tmp_path, chart=False).summary
    crash = s["faults"]["crash"]
    assert crash["winners_pending_at_restart"] >= 1
    assert crash["winners_recovered_and_redeemed"] == crash["winners_pending_at_restart"]


# -- determinism ----------------------------------------------------------------------------


def test_same_seed_same_summary_json(tmp_path: Path) -> None:
    cfg = SimConfig(tickets=1500, orchestrators=2, seed=7, faults=True, fault_repeats=1)
    a = run_simulation(cfg, tmp_path / "a", chart=False).summary_path.read_bytes()
    b = run_simulation(cfg, tmp_path / "b", chart=False).summary_path.read_bytes()
    assert a == b
    other = SimConfig(tickets=1500, orchestrators=2, seed=8, faults=True, fault_repeats=1)
    c = run_simulation(other, tmp_path / "c", chart=False).summary_path.read_bytes()
    assert c != a
    # a fresh run in the same directory starts over and gives the same file again
    again = run_simulation(cfg, tmp_path / "a", chart=False).summary_path.read_bytes()
    assert again == a


def test_duration_mode_counts_blocks(tmp_path: Path) -> None:
    cfg = SimConfig(duration=10 * 12, orchestrators=1, streams_per_orchestrator=1, seed=2)
    s = run_simulation(cfg, tmp_path, chart=False).summary
    assert s["blocks"]["streaming"] == 10
    assert s["orchestrators"][0]["payments"] == 10
    assert s["stop_reason"] == "duration reached"


def test_config_rejects_a_round_too_short_to_redeem() -> None:
    with pytest.raises(SimError, match="round_length"):
        SimConfig(round_length=40)
    with pytest.raises(SimError, match="orchestrators"):
        SimConfig(orchestrators=0)


# -- resume after SIGKILL -------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen[bytes]:
    # the subprocess imports the same pm as this test (installed or in-tree with its build)
    env = dict(os.environ, PYTHONPATH=str(Path(pm.__file__).resolve().parent.parent))
    return subprocess.Popen(
        [sys.executable, "-m", "pm", "simulate", "--quiet", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _kill_when(proc: subprocess.Popen[bytes], out: Path, ready: Any) -> bool:
    """SIGKILL ``proc`` as soon as ``ready(state)`` holds for its checkpoint; False if the
    process ended first."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            state = pickle.loads((out / STATE_FILE).read_bytes())["state"]
        except (FileNotFoundError, EOFError, pickle.UnpicklingError):
            state = None
        if state is not None and ready(state):
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.01)
    proc.kill()
    raise AssertionError("simulation did not reach the kill point in time")


def test_resume_after_sigkill_loses_no_winner_and_redeems_none_twice(tmp_path: Path) -> None:
    args = ["--tickets", "6000", "--orchestrators", "3", "--seed", "21"]
    reference = tmp_path / "reference"
    cfg = SimConfig(tickets=6000, orchestrators=3, seed=21)
    expected = run_simulation(cfg, reference, chart=False).summary

    out = tmp_path / "killed"
    kills = 0
    # kill while streaming, once redemptions have started, and while only settling is left
    for ready in (
        lambda state: state.block_index >= 25,
        lambda state: any(o.series and o.series[-1][3] > 0 for o in state.orchs) and not state.done,
        lambda state: state.workload_done and not state.done,
    ):
        proc = (
            _spawn(*args, "--out", str(out))
            if kills == 0
            else _spawn("--resume", "--out", str(out))
        )
        if _kill_when(proc, out, ready):
            assert proc.returncode == -signal.SIGKILL
            kills += 1
    assert kills >= 1, "the run finished before it could be killed"
    proc = _spawn("--resume", "--out", str(out))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()

    summary = json.loads((out / "summary.json").read_text())
    assert summary == expected  # the interrupted run ends exactly like the uninterrupted one

    winners = _winners(out, 3)
    assert len(winners) == expected["tickets"]["winners"] > 0
    assert set(winners) == set(_winners(reference, 3))  # no winning ticket lost
    assert all(state is TicketState.CONFIRMED for state in winners.values())
    _, chain = _load_checkpoint(out)
    events = _redeemed_events(chain)
    assert len(events) == len(set(events)) == len(winners)  # none redeemed twice
    assert all(chain.broker.used_tickets(h) for h in winners)
    transfers = [
        e for rc in chain.receipts.values() for e in rc.events if e.name == "WinningTicketTransfer"
    ]
    assert len(transfers) == len(winners)


# -- the command line -----------------------------------------------------------------------


def test_cli_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(
        ["simulate", "--tickets", "400", "--orchestrators", "2", "--seed", "5",
         "--ticket-ev", "1500gwei", "--gas-price", "0.02gwei", "--out", str(tmp_path), "--json"]
    )  # fmt: skip
    assert rc == 0
    data = json.loads(capsys.readouterr().out)
    assert data["config"]["ticket_ev"] == 1_500 * 10**9
    assert data["config"]["gas_price"] == 20_000_000
    assert data["tickets"]["minted"] >= 400
    assert data["perf"]["mint_tickets"] >= 400
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == {k: v for k, v in data.items() if k != "perf"}
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_resume_without_checkpoint_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["simulate", "--resume", "--out", str(tmp_path / "empty"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert "nothing to resume" in err and "\n" not in err


@pytest.mark.parametrize(
    ("text", "wei"),
    [("2000gwei", 2 * 10**12), ("0.01gwei", 10**7), ("0.05eth", 5 * 10**16), ("1e12", 10**12),
     ("123", 123), ("1_000 wei", 1000)],
)  # fmt: skip
def test_amount_parser(text: str, wei: int) -> None:
    assert _wei(text) == wei


@pytest.mark.parametrize("text", ["1.5wei", "abc", "-3gwei", "0.1"])
def test_amount_parser_rejects(text: str) -> None:
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        _wei(text)


def test_gateway_running_out_of_deposit_pays_from_reserve_and_stops(tmp_path: Path) -> None:
    cfg = SimConfig(tickets=20000, deposit=5 * 10**15, reserve=5 * 10**15, seed=2)
    s = run_simulation(cfg, tmp_path, chart=False).summary
    assert s["stop_reason"].startswith("stopped: no payment was possible")
    assert s["tickets"]["minted"] < cfg.tickets
    g = s["gateway"]
    assert g["deposit_left_wei"] == "0"
    assert int(g["reserve_left_wei"]) < cfg.reserve  # winners beyond the deposit hit the reserve
    assert g["refused_payments"] == {
        "TicketFaceValueTooHigh": cfg.orchestrators * cfg.streams_per_orchestrator
    }
    c = s["conservation"]
    assert c["holds"] is True
    assert int(c["funded_wei"]) == int(c["paid_out_wei"]) + int(c["left_in_broker_wei"])
    # every winner reached a final state; none is left pending
    winners = _winners(tmp_path, cfg.orchestrators)
    assert winners and not any(
        st in (TicketState.QUEUED, TicketState.SUBMITTED) for st in winners.values()
    )


@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    orchestrators=st.integers(1, 3),
    # (ticket EV in gwei, tickets): with a large EV one ticket pays for many blocks of video,
    # so fewer tickets keep the run short
    size=st.tuples(st.sampled_from([500, 2_000, 20_000]), st.integers(1, 600))
    | st.tuples(st.just(200_000), st.integers(1, 40)),
    faults=st.booleans(),
)
def test_any_small_run_settles_and_conserves(
    seed: int, orchestrators: int, size: tuple[int, int], faults: bool
) -> None:
    ticket_ev_gwei, tickets = size
    cfg = SimConfig(
        tickets=tickets,
        orchestrators=orchestrators,
        seed=seed,
        faults=faults,
        fault_repeats=1,
        fault_tickets=2,
        ticket_ev=ticket_ev_gwei * 10**9,
    )
    with tempfile.TemporaryDirectory() as d:
        s = run_simulation(cfg, d, chart=False).summary
        winners = _winners(Path(d), orchestrators)
        _, chain = _load_checkpoint(Path(d))
    assert s["stop_reason"] == "ticket target reached"
    assert s["tickets"]["minted"] >= tickets
    assert s["conservation"]["holds"] is True
    assert s["settlement"]["pending"] == 0 and s["settlement"]["failed"] == 0
    assert s["settlement"]["expired"] == 0
    assert all(state is TicketState.CONFIRMED for state in winners.values())
    events = _redeemed_events(chain)
    assert sorted(events) == sorted(winners)
    if faults:
        for kind in ("forged", "replayed", "expired", "underpriced"):
            k = s["faults"][kind]
            assert k["payments"] == 1 and k["accepted"] == 0 and k["rejected"] == k["tickets"]
        assert ("crash" in s["faults"]) == (orchestrators > 1)


def test_a_run_directory_in_use_is_refused(tmp_path: Path) -> None:
    fcntl = pytest.importorskip("fcntl")
    fd = os.open(tmp_path / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(SimError, match="in use"):
            run_simulation(SimConfig(tickets=10), tmp_path, chart=False)
    finally:
        os.close(fd)
    # released: the same directory works again
    assert (
        run_simulation(SimConfig(tickets=10), tmp_path, chart=False).summary["tickets"]["minted"]
        >= 10
    )
