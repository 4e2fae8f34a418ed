"""The economy simulation behind ``pm simulate --economy``: deterministic by seed, conserving,
and able to chart its history (src/pm/protocol/simulation.py)."""

from __future__ import annotations

import json
from pathlib import Path

from pm.protocol.simulation import EconomyConfig, run_economy, write_chart

SMALL = EconomyConfig(seed=7, rounds=14, orchestrators=3, delegators=5, tickets_per_round=20)


def test_deterministic_by_seed() -> None:
    a = run_economy(SMALL)
    b = run_economy(SMALL)
    assert a.rows == b.rows and a.history == b.history and a.proposal == b.proposal
    c = run_economy(
        EconomyConfig(seed=8, rounds=14, orchestrators=3, delegators=5, tickets_per_round=20)
    )
    assert c.rows != a.rows


def test_summary_adds_up() -> None:
    r = run_economy(SMALL)
    assert len(r.rows) == 8 and r.last_round - r.first_round + 1 == SMALL.rounds
    assert r.inflation_end > r.inflation_start  # bonding rate below the 50 % target
    assert r.fees_redeemed == r.winning_tickets * SMALL.face_value > 0
    earned = sum(row.fees_earned for row in r.rows)
    assert earned <= r.fees_redeemed  # truncation and the LIP-36 quirks only lose wei
    assert r.fees_redeemed - earned < r.fees_redeemed // 100
    gained = sum(row.rewards_earned for row in r.rows)
    assert 0 < gained <= r.minted - r.treasury_balance  # the treasury cut is not stake
    assert "proposed by" in r.proposal
    table = r.format_table()
    assert "orchestrator" in table and "winning tickets" in table
    for name, points in r.history.items():
        assert len(points) == SMALL.rounds, name
    assert r.conservation == {"lpt": True, "fees": True, "holds": True}
    summary = json.loads(json.dumps(r.summary()))
    assert summary["fees_redeemed_wei"] == r.fees_redeemed
    assert [x["name"] for x in summary["participants"]] == [row.name for row in r.rows]


def test_chart(tmp_path: Path) -> None:
    r = run_economy(
        EconomyConfig(seed=3, rounds=5, orchestrators=2, delegators=2, governance=False)
    )
    out = write_chart(r, tmp_path / "economy.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert r.proposal == "none"


def test_module_main(tmp_path: Path, capsys: object) -> None:
    from pm.protocol.simulation import main

    out = tmp_path / "e.png"
    assert (
        main(
            [
                "--seed",
                "2",
                "--rounds",
                "4",
                "--orchestrators",
                "2",
                "--delegators",
                "2",
                "--chart",
                str(out),
            ]
        )
        == 0
    )
    assert out.exists()
    assert (
        main(
            ["--seed", "2", "--rounds", "3", "--orchestrators", "2", "--delegators", "1", "--json"]
        )
        == 0
    )
    printed = capsys.readouterr().out  # type: ignore[attr-defined]
    assert '"conservation"' in printed and "winning tickets" in printed
