"""A seeded protocol economy on the reference models (``pm simulate --economy``).

Orchestrators self-bond and set commission rates, delegators bond to them, and for a number of
rounds: the round is initialized (inflation steps toward the target bonding rate), orchestrators
call ``reward()`` (most rounds; a missed call mints nothing), a gateway pays each orchestrator
with lottery tickets signed with a real key and the orchestrator redeems the winners on the
TicketBroker (fees land in the earnings pools), delegators now and then claim, withdraw fees,
move stake or unbond. One treasury proposal is made, voted by orchestrators with some
delegators overriding their orchestrator's vote, and executed by the Treasury if it passes.

Everything is deterministic by ``seed`` (keys, choices and the ticket lottery). Amounts stay
``int`` wei; floats appear only at the edge, in the chart's coordinates. The summary reports,
per participant, the stake and fees earned to the wei as the contracts' view functions give them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

from pm.crypto import PrivateKeySigner, keccak256
from pm.evm import Revert, u256
from pm.pricing import MAX_WIN_PROB
from pm.ticket import Ticket, is_winning

from .governor import ProposalState
from .system import ARBITRUM_ONE, Protocol
from .treasury import Call

__all__ = ["EconomyConfig", "EconomyResult", "ParticipantRow", "run_economy", "write_chart"]

LPT = 10**18
ETH = 10**18


@dataclass(frozen=True, slots=True)
class EconomyConfig:
    """Simulation knobs. Stakes in LPT wei, face values in ETH wei, probabilities as Fractions."""

    seed: int = 1
    rounds: int = 100
    orchestrators: int = 4
    delegators: int = 10
    #: LPT held outside the protocol (global supply minus what participants hold), so that the
    #: bonding rate is realistic (~ 45 %) and inflation rises as on Arbitrum One.
    idle_supply: int = 3_000_000 * LPT
    reward_call_probability: Fraction = Fraction(9, 10)
    tickets_per_round: int = 40
    face_value: int = ETH // 100
    win_prob: int = MAX_WIN_PROB // 10
    delegator_action_probability: Fraction = Fraction(1, 8)
    governance: bool = True


@dataclass(frozen=True, slots=True)
class ParticipantRow:
    """One line of the summary: LPT wei and ETH wei as the contracts report them."""

    name: str
    role: str
    delegate: str
    bonded_start: int
    stake_end: int
    rewards_earned: int
    fees_earned: int


@dataclass(frozen=True, slots=True)
class EconomyResult:
    """What the run produced; ``history[name]`` is ``(round, stake wei, fees earned wei)``."""

    config: EconomyConfig
    rows: tuple[ParticipantRow, ...]
    history: dict[str, list[tuple[int, int, int]]] = field(repr=False)
    first_round: int
    last_round: int
    inflation_start: int
    inflation_end: int
    minted: int
    treasury_balance: int
    fees_redeemed: int
    winning_tickets: int
    proposal: str
    #: end-of-run checks: the Minter holds exactly the bonded + unbonding + unclaimed LPT, and
    #: no more fees were earned than the tickets paid
    conservation: dict[str, bool] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """A JSON-ready summary (integers in wei; ``conservation["holds"]`` for exit codes)."""
        return {
            "seed": self.config.seed,
            "rounds": [self.first_round, self.last_round],
            "inflation": [self.inflation_start, self.inflation_end],
            "minted_wei": self.minted,
            "treasury_wei": self.treasury_balance,
            "fees_redeemed_wei": self.fees_redeemed,
            "winning_tickets": self.winning_tickets,
            "proposal": self.proposal,
            "participants": [
                {
                    "name": r.name,
                    "role": r.role,
                    "delegate": r.delegate,
                    "bonded_start_wei": r.bonded_start,
                    "stake_end_wei": r.stake_end,
                    "rewards_wei": r.rewards_earned,
                    "fees_wei": r.fees_earned,
                }
                for r in self.rows
            ],
            "conservation": dict(self.conservation),
        }

    def format_table(self) -> str:
        """A fixed-width text table (LPT and ETH shown with 4 decimals, truncated)."""

        def lpt(x: int) -> str:
            sign = "-" if x < 0 else ""
            x = abs(x)
            return f"{sign}{x // LPT:,}.{x % LPT * 10_000 // LPT:04d}"

        head = (
            f"{'participant':<12} {'role':<12} {'delegate':<10} {'bonded@start':>16} "
            f"{'stake@end':>16} {'rewards LPT':>14} {'fees ETH':>10}"
        )
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(
                f"{r.name:<12} {r.role:<12} {r.delegate:<10} {lpt(r.bonded_start):>16} "
                f"{lpt(r.stake_end):>16} {lpt(r.rewards_earned):>14} {lpt(r.fees_earned):>10}"
            )
        c = self.config
        lines += [
            "",
            f"rounds {self.first_round}..{self.last_round} (seed {c.seed}); "
            f"inflation {self.inflation_start} -> {self.inflation_end} (1e9 = 100 %/round)",
            f"minted {lpt(self.minted)} LPT, treasury holds {lpt(self.treasury_balance)} LPT",
            f"{self.winning_tickets} winning tickets, {lpt(self.fees_redeemed)} ETH of fees",
            f"proposal: {self.proposal}",
        ]
        return "\n".join(lines)


def _chance(rng: random.Random, p: Fraction) -> bool:
    """True with probability ``p`` (exact: an integer draw, no float)."""
    return rng.randrange(p.denominator) < p.numerator


def _addr(seed: int, name: str) -> bytes:
    return keccak256(f"pm.simulate.economy/{seed}/{name}".encode())[:20]


def run_economy(config: EconomyConfig = EconomyConfig()) -> EconomyResult:
    """Run the economy; deterministic for a given ``config`` (``seed`` included)."""
    rng = random.Random(config.seed)
    params = replace(ARBITRUM_ONE, num_active_transcoders=max(config.orchestrators, 1))
    p = Protocol(params)
    bm, broker = p.bonding_manager, p.broker
    orchs = [(f"O{i + 1}", _addr(config.seed, f"o{i}")) for i in range(config.orchestrators)]
    dels = [(f"D{i + 1}", _addr(config.seed, f"d{i}")) for i in range(config.delegators)]
    names = {a: n for n, a in orchs + dels}
    names[bytes(20)] = "-"
    p.faucet(_addr(config.seed, "idle"), config.idle_supply)

    for _, o in orchs:
        stake = rng.randrange(50_000, 400_000) * LPT
        p.register_transcoder(
            o,
            stake,
            rng.choice([50_000, 100_000, 250_000, 500_000]),
            rng.choice([250_000, 500_000, 750_000]),
        )
    for _, d in dels:
        amount = rng.randrange(1_000, 80_000) * LPT
        p.faucet(d, amount)
        p.bond(d, amount, rng.choice(orchs)[1])
    bonded_start = {a: bm.get_delegator(a).bonded_amount for _, a in orchs + dels}

    gateway_key = keccak256(f"pm.simulate.economy/{config.seed}/gateway-key".encode())
    gateway = PrivateKeySigner(gateway_key)
    if broker is not None:
        funding = (
            config.rounds * config.tickets_per_round * config.orchestrators * config.face_value
        )
        broker.fund_deposit_and_reserve(
            gateway.address, funding, funding // 10, funding + funding // 10
        )

    p.advance_rounds(1)
    first_round = p.current_round
    inflation_start = p.minter.inflation
    fees_redeemed = 0
    winners_total = 0
    history: dict[str, list[tuple[int, int, int]]] = {n: [] for n, _ in orchs + dels}
    withdrawn: dict[bytes, int] = {}
    proposal_id: int | None = None
    proposal_text = "none"
    nonce = 0

    for step in range(config.rounds):
        cur = p.current_round
        for _, o in orchs:
            if _chance(rng, config.reward_call_probability) and bm.is_active_transcoder(o):
                bm.reward(o)
        if broker is not None:
            for _, o in orchs:
                if not bm.is_active_transcoder(o):
                    continue
                rand = rng.getrandbits(256)
                template = Ticket(
                    recipient=o,
                    sender=gateway.address,
                    face_value=config.face_value,
                    win_prob=config.win_prob,
                    sender_nonce=0,
                    recipient_rand_hash=keccak256(u256(rand)),
                    creation_round=cur,
                    creation_round_block_hash=p.rounds.block_hash_for_round(cur),
                )
                nonces = list(range(nonce + 1, nonce + 1 + config.tickets_per_round))
                nonce += config.tickets_per_round
                sigs = gateway.sign_tickets(template, nonces)
                for i, tn in enumerate(nonces):
                    sig = sigs[65 * i : 65 * i + 65]
                    if is_winning(sig, rand, config.win_prob):
                        broker.redeem_winning_ticket(o, template.with_nonce(tn), sig, rand)
                        fees_redeemed += config.face_value
                        winners_total += 1
        for _, d in dels:
            if not _chance(rng, config.delegator_action_probability):
                continue
            action = rng.choice(["claim", "withdraw_fees", "move", "unbond", "claim"])
            try:
                if action == "claim":
                    bm.claim_earnings(d, 0)
                elif action == "withdraw_fees":
                    fees = bm.pending_fees(d, 0)
                    if fees:
                        bm.withdraw_fees(d, d, fees)
                        withdrawn[d] = withdrawn.get(d, 0) + fees
                elif action == "move":
                    bm.bond(d, 0, rng.choice(orchs)[1])
                elif action == "unbond":
                    amount = bm.pending_stake(d, 0) // 10
                    if amount:
                        bm.unbond(d, amount)
                        bm.rebond(d, bm.get_delegator(d).next_unbonding_lock_id - 1)
            except Revert:
                pass  # e.g. a Pending delegator cannot unbond: the model refuses like the contract
        if config.governance and orchs:
            proposal_id, proposal_text = _governance(
                p, rng, orchs, dels, step, proposal_id, proposal_text
            )
        for n, a in orchs + dels:
            fees = bm.pending_fees(a, 0) + withdrawn.get(a, 0)
            history[n].append((cur, bm.pending_stake(a, 0), fees))
        p.advance_rounds(1)

    rows = []
    for role, group in (("orchestrator", orchs), ("delegator", dels)):
        for n, a in group:
            stake_end = bm.pending_stake(a, 0)
            info = bm.get_delegator(a)
            locks = sum(
                bm.get_delegator_unbonding_lock(a, i).amount
                for i in range(info.next_unbonding_lock_id)
            )
            rows.append(
                ParticipantRow(
                    name=n,
                    role=role,
                    delegate=names.get(info.delegate_address, info.delegate_address.hex()[:8]),
                    bonded_start=bonded_start[a],
                    stake_end=stake_end,
                    rewards_earned=stake_end + locks - bonded_start[a],
                    fees_earned=bm.pending_fees(a, 0) + withdrawn.get(a, 0),
                )
            )
    minted = p.minted()
    everyone = [a for _, a in orchs + dels]
    delegated = sum(bm.transcoder_total_stake(a) for a in everyone)
    locks = sum(
        bm.get_delegator_unbonding_lock(a, i).amount
        for a in everyone
        for i in range(bm.get_delegator(a).next_unbonding_lock_id)
    )
    lpt_ok = p.token.balance_of(p.minter.address) == delegated + locks
    fees_ok = sum(r.fees_earned for r in rows) <= fees_redeemed
    conservation = {"lpt": lpt_ok, "fees": fees_ok, "holds": lpt_ok and fees_ok}
    return EconomyResult(
        config=config,
        rows=tuple(rows),
        history=history,
        first_round=first_round,
        last_round=first_round + config.rounds - 1,
        inflation_start=inflation_start,
        inflation_end=p.minter.inflation,
        minted=minted,
        treasury_balance=p.token.balance_of(p.treasury.address),
        fees_redeemed=fees_redeemed,
        winning_tickets=winners_total,
        proposal=proposal_text,
        conservation=conservation,
    )


def _governance(
    p: Protocol,
    rng: random.Random,
    orchs: list[tuple[str, bytes]],
    dels: list[tuple[str, bytes]],
    step: int,
    pid: int | None,
    text: str,
) -> tuple[int | None, str]:
    """Propose at step 2, vote while active (with delegator overrides), queue and execute."""
    gov = p.governor
    bm = p.bonding_manager
    if pid is None:
        if step != 2:
            return None, text
        proposer = max(orchs, key=lambda o: bm.transcoder_total_stake(o[1]))
        grantee = _addr(0, "grantee")
        calls = [
            Call(p.token, "transfer", (grantee, p.token.balance_of(p.treasury.address) // 2)),
            Call(gov, "set_voting_period", (gov.voting_period() + 2,)),
        ]
        new_pid = gov.propose(
            proposer[1], calls, "Fund a grant with half the treasury; lengthen votes"
        )
        return new_pid, f"proposed by {proposer[0]} in round {p.current_round}"
    state = gov.state(pid)
    if state == ProposalState.ACTIVE:
        for _, o in orchs:
            if not gov.has_voted(pid, o) and _chance(rng, Fraction(7, 10)):
                gov.cast_vote(o, pid, rng.choice([0, 1, 1, 2]))
        for _, d in dels:
            if not gov.has_voted(pid, d) and _chance(rng, Fraction(3, 20)):
                gov.cast_vote(d, pid, rng.choice([0, 1]))
    elif state == ProposalState.SUCCEEDED:
        gov.queue(orchs[0][1], pid)
        gov.execute(orchs[0][1], pid)
    if (
        state in (ProposalState.SUCCEEDED, ProposalState.DEFEATED, ProposalState.EXECUTED)
        and "->" not in text
    ):
        v = gov.proposal_votes(pid)
        final = gov.state(pid).name.lower()
        quorum = gov.quorum(gov.proposal_snapshot(pid))
        text = (
            f"{text} -> {final} (for {v.for_votes // LPT:,} / against {v.against_votes // LPT:,} / "
            f"abstain {v.abstain_votes // LPT:,} LPT; quorum {quorum // LPT:,})"
        )
    return pid, text


def write_chart(result: EconomyResult, path: str | Path) -> Path:
    """Plot stake, stake gained (LPT) and fees earned (ETH) per participant over rounds (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2, ax3) = plt.subplots(3, 1, figsize=(10, 10), sharex=True)
    for name, points in result.history.items():
        rounds = [r for r, _, _ in points]
        style = "-" if name.startswith("O") else "--"
        start = points[0][1] if points else 0
        ax1.plot(rounds, [float(Fraction(s, LPT)) for _, s, _ in points], style, label=name)
        ax2.plot(rounds, [float(Fraction(s - start, LPT)) for _, s, _ in points], style, label=name)
        ax3.plot(rounds, [float(Fraction(f, ETH)) for _, _, f in points], style, label=name)
    ax1.set_ylabel("stake (LPT, log)")
    ax1.set_yscale("log")
    ax2.set_ylabel("stake gained (LPT)")
    ax3.set_ylabel("fees earned (ETH)")
    ax3.set_xlabel("round")
    ax1.set_title(f"pm simulate --economy (seed {result.config.seed})")
    ax1.legend(ncol=7, fontsize=7)
    fig.tight_layout()
    out = Path(path)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m pm.protocol.simulation [--seed N] [--rounds N] [--chart PNG] [--json]``."""
    import argparse
    import json

    d = EconomyConfig()
    ap = argparse.ArgumentParser(prog="python -m pm.protocol.simulation", description=__doc__)
    ap.add_argument("--seed", type=int, default=d.seed)
    ap.add_argument("--rounds", type=int, default=d.rounds)
    ap.add_argument("--orchestrators", type=int, default=d.orchestrators)
    ap.add_argument("--delegators", type=int, default=d.delegators)
    ap.add_argument("--chart", type=Path, default=None, metavar="PNG")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    result = run_economy(
        replace(
            d,
            seed=args.seed,
            rounds=args.rounds,
            orchestrators=args.orchestrators,
            delegators=args.delegators,
        )
    )
    if args.json:
        print(json.dumps(result.summary(), indent=2))
    else:
        print(result.format_table())
    if args.chart is not None:
        print(f"chart: {write_chart(result, args.chart)}")
    return 0 if result.conservation.get("holds", False) else 1


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
