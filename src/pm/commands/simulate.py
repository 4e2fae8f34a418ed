"""``pm simulate``: run the end-to-end payment simulation of :mod:`pm.simulate`.

With no arguments it runs the embedded defaults (4 orchestrators, 36 000 tickets, Arbitrum-like
gas) in ``./pm-sim/`` in a few seconds, shows a progress bar, then a summary table; the run
directory gets ``summary.json``, ``perf.json``, ``chart.png``, the orchestrators' SQLite ticket
stores and the checkpoint that ``--resume`` continues from.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..simulate import DEFAULT_OUT, FAULT_KINDS, Progress, SimConfig, SimResult, run_simulation

_UNITS = {"wei": 1, "gwei": 10**9, "eth": 10**18}


def _wei(text: str) -> int:
    """An amount like ``2000gwei``, ``0.01gwei``, ``1e12`` or ``0.05eth`` as exact int wei."""
    raw = text.strip().lower().replace("_", "")
    unit = 1
    for name, factor in sorted(_UNITS.items(), key=lambda kv: -len(kv[0])):
        if raw.endswith(name):
            raw, unit = raw[: -len(name)].strip(), factor
            break
    try:
        value = Fraction(raw) * unit
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(f"not an amount: {text!r}") from None
    if value.denominator != 1 or value < 0:
        raise argparse.ArgumentTypeError(f"not a whole, non-negative number of wei: {text!r}")
    return value.numerator


def _gwei(wei: int) -> str:
    """wei as a plain decimal number of gwei (no floats, no trailing zeros)."""
    whole, frac = divmod(wei, 10**9)
    return f"{whole}.{frac:09d}".rstrip("0") if frac else str(whole)


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = SimConfig()
    parser = sub.add_parser(
        "simulate",
        help="simulate a gateway paying orchestrators with tickets, end to end",
        description=(
            "Simulate a gateway buying live video from orchestrators with probabilistic "
            "micropayments: params, credit staging, Livepeer-Payment headers, validation, "
            "durable winners and redemption on a reference TicketBroker. Deterministic by seed."
        ),
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--tickets",
        type=_count,
        metavar="N",
        default=d.tickets,
        help=f"stop buying work after this many tickets (default {d.tickets})",
    )
    size.add_argument(
        "--duration",
        type=_count,
        default=None,
        metavar="SECONDS",
        help="simulated seconds of streaming instead of a ticket count (12 s per L1 block)",
    )
    parser.add_argument(
        "--orchestrators",
        type=_count,
        metavar="N",
        default=d.orchestrators,
        help=f"orchestrators in the active set (default {d.orchestrators})",
    )
    parser.add_argument(
        "--ticket-ev",
        type=_wei,
        default=d.ticket_ev,
        metavar="AMOUNT",
        help=f"orchestrators' ticket EV, e.g. 2000gwei (default {_gwei(d.ticket_ev)} gwei)",
    )
    parser.add_argument(
        "--gas-price",
        type=_wei,
        default=d.gas_price,
        metavar="AMOUNT",
        help=f"gas price, e.g. 0.01gwei (default {_gwei(d.gas_price)} gwei)",
    )
    parser.add_argument("--seed", type=int, default=d.seed, help="the same seed, the same run")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="inject forged, replayed, expired and underpriced payments and crash/restart an "
        "orchestrator mid-run",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its checkpoint (the other options are ignored)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help=f"run directory (default ./{DEFAULT_OUT}/)",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    parser.add_argument(
        "--json", action="store_true", help="print the summary (and throughput) as JSON"
    )
    economy = parser.add_argument_group(
        "protocol economy",
        "--economy simulates stake, rewards, ticket fees and a governance vote over rounds "
        "instead (pm.protocol); it uses --seed, --orchestrators, --out, --json and --quiet",
    )
    economy.add_argument(
        "--economy", action="store_true", help="run the protocol-economy simulation"
    )
    economy.add_argument(
        "--rounds", type=_count, default=100, metavar="N", help="rounds to simulate (default 100)"
    )
    economy.add_argument(
        "--delegators", type=_count, default=10, metavar="N", help="delegators (default 10)"
    )
    parser.set_defaults(handler=run)


def run_economy_command(args: argparse.Namespace) -> int:
    """``pm simulate --economy``: writes economy.json and economy.png into the run directory."""
    from ..protocol.simulation import EconomyConfig, run_economy, write_chart

    result = run_economy(
        EconomyConfig(
            seed=args.seed,
            rounds=args.rounds,
            orchestrators=args.orchestrators,
            delegators=args.delegators,
        )
    )
    args.out.mkdir(parents=True, exist_ok=True)
    summary = result.summary()
    (args.out / "economy.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    chart = write_chart(result, args.out / "economy.png")
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
    elif not args.quiet:
        print(result.format_table())
        print(f"wrote {args.out / 'economy.json'}, chart {chart}")
    return 0 if result.conservation.get("holds", False) else 1


def run(args: argparse.Namespace) -> int:
    if args.economy:
        return run_economy_command(args)
    config = None
    if not args.resume:
        config = SimConfig(
            tickets=args.tickets,
            duration=args.duration,
            orchestrators=args.orchestrators,
            ticket_ev=args.ticket_ev,
            gas_price=args.gas_price,
            seed=args.seed,
            faults=args.faults,
        )
    show = not args.quiet and not args.json
    with _progress(enabled=not args.quiet and sys.stderr.isatty()) as report:
        result = run_simulation(config, args.out, resume=args.resume, progress=report)
    if args.json:
        print(json.dumps({**result.summary, "perf": result.perf}, indent=2, sort_keys=True))
    elif show:
        _print_summary(result)
    return 0 if result.summary["conservation"]["holds"] else 1


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[Progress], None] | None]:
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    bar = Bar(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("block {task.fields[block]}  winners {task.fields[winners]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    tasks: dict[str, Any] = {}

    def report(p: Progress) -> None:
        label = "streaming (tickets)" if p.phase == "streaming" else "settling (winners)"
        if p.phase not in tasks:
            for other in tasks.values():
                bar.update(other, completed=bar.tasks[other].total)
            tasks[p.phase] = bar.add_task(label, total=p.total, block=p.block, winners=p.winners)
        bar.update(
            tasks[p.phase], completed=p.done, total=p.total, block=p.block, winners=p.winners
        )

    with bar:
        yield report


def _eth(wei: int | str, places: int = 6) -> str:
    """wei as ETH with ``places`` decimals, rounded half up, without floats."""
    w = int(wei)
    sign = "-" if w < 0 else ""
    scaled = (abs(w) * 10**places + 5 * 10**17) // 10**18
    whole, frac = divmod(scaled, 10**places)
    return f"{sign}{whole}.{frac:0{places}d}"


def _ratio(realized: int, expected: int) -> str:
    """realized / expected as a whole percentage (rounded half up), "-" without an EV."""
    return f"{(200 * realized + expected) // (2 * expected)}%" if expected > 0 else "-"


def _print_summary(result: SimResult) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    s = result.summary
    console = Console()
    t = s["tickets"]
    cfg = s["config"]
    blocks = s["blocks"]
    console.print(
        f"[bold]pm simulate[/bold] (seed {cfg['seed']}): {cfg['orchestrators']} orchestrators, "
        f"{cfg['streams_per_orchestrator']} live streams each\n"
        f"{blocks['total']} L1 blocks = {blocks['simulated_seconds'] // 60} simulated minutes, "
        f"{blocks['rounds']} rounds: {s['stop_reason']}"
    )

    tickets = Table(title="Tickets", show_header=False, title_justify="left", box=box.SIMPLE)
    tickets.add_row("minted by the gateway", str(t["minted"]))
    tickets.add_row("sent to orchestrators", str(t["sent"]))
    tickets.add_row("accepted", str(t["accepted"]))
    tickets.add_row("rejected", str(t["rejected"]))
    for reason, n in t["rejected_by_reason"].items():
        tickets.add_row(f"  {reason}", str(n))
    st = s["settlement"]
    tickets.add_row("winners (stored durably)", str(t["winners"]))
    tickets.add_row("redeemed on the broker", str(st["redeemed"]))
    if st["expired"] or st["failed"] or st["pending"]:
        tickets.add_row(
            "expired / failed / pending", f"{st['expired']} / {st['failed']} / {st['pending']}"
        )
    console.print(tickets)

    orch = Table(title="Orchestrators (ETH)", title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("", "wei/px", "tickets", "won", "expected", "realized", "ratio", "gas"):
        orch.add_column(col, justify="left" if not col else "right")
    sums = [0, 0, 0, 0, 0]
    for o in s["orchestrators"]:
        exp, real, gas = int(o["expected_wei"]), int(o["realized_wei"]), int(o["gas_wei"])
        price = Fraction(o["price_per_pixel"])
        orch.add_row(
            f"O{o['index']}",
            f"{price.numerator // price.denominator:,}",
            str(o["tickets_accepted"]),
            str(o["winners"]),
            _eth(exp, 4),
            _eth(real, 4),
            _ratio(real, exp),
            _eth(gas, 5),
        )
        for i, v in enumerate((o["tickets_accepted"], o["winners"], exp, real, gas)):
            sums[i] += v
    orch.add_section()
    orch.add_row(
        "all", "", str(sums[0]), str(sums[1]), _eth(sums[2], 4), _eth(sums[3], 4),
        _ratio(sums[3], sums[2]), _eth(sums[4], 5),
    )  # fmt: skip
    console.print(orch)

    g = s["gateway"]
    c = s["conservation"]
    money = Table(
        title="Gateway and broker (ETH)", show_header=False, title_justify="left", box=box.SIMPLE
    )
    money.add_row(
        "funded (deposit + reserve)",
        f"{_eth(g['funded_deposit_wei'])} + {_eth(g['funded_reserve_wei'])}",
    )
    money.add_row("paid to orchestrators", _eth(c["paid_out_wei"]))
    money.add_row("gas spent redeeming", _eth(c["gas_wei"]))
    money.add_row(
        "deposit / reserve left", f"{_eth(g['deposit_left_wei'])} / {_eth(g['reserve_left_wei'])}"
    )
    money.add_row("funded = paid (net) + gas + left", "holds" if c["holds"] else "[red]BROKEN")
    p = result.perf
    if p.get("mint_tickets_per_s"):
        money.add_row("mint throughput", f"{p['mint_tickets_per_s']:,} tickets/s")
    if p.get("validate_tickets_per_s"):
        money.add_row("validate throughput", f"{p['validate_tickets_per_s']:,} tickets/s")
    console.print(money)

    f = s["faults"]
    if f.get("enabled"):
        faults = Table(title="Injected faults", title_justify="left", box=box.SIMPLE_HEAD)
        for col in ("fault", "payments", "tickets", "rejected", "rejected as"):
            faults.add_column(col, justify="left" if col in ("fault", "rejected as") else "right")
        for kind in FAULT_KINDS:
            k = f[kind]
            faults.add_row(
                kind,
                str(k["payments"]),
                str(k["tickets"]),
                str(k["rejected"]),
                ", ".join(k["reasons"]),
            )
        console.print(faults)
        if "crash" in f:
            cr = f["crash"]
            console.print(
                f"crash: O{cr['orchestrator']} died at block {cr['crashed_at_block']} after "
                f"storing a payment of {cr['tickets_in_unanswered_payment']} tickets, missed "
                f"{cr['payments_missed']} payments, restarted at block "
                f"{cr['restarted_at_block']} with {cr['winners_pending_at_restart']} stored "
                f"winner(s) pending; {cr['winners_recovered_and_redeemed']} of them redeemed"
            )
    out = result.out_dir
    chart = f", chart {result.chart_path}" if result.chart_path is not None else ""
    console.print(f"wrote {out / 'summary.json'}{chart}")
