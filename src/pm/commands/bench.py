"""``pm bench [--tickets N] [--threads K] [--repeats R] [--json | --markdown] [--strict]``.

Ticket throughput.
Runs every measurement of :mod:`pm.bench` in this process (one run, so the ratios compare like
with like on a noisy machine) behind a progress bar on stderr, then prints a table: per ticket in
µs, pm, the libsecp256k1 floor, eth-account and the hand-made coincurve + pycryptodome
pipeline, the ratios, and MET/MISSED against each target (issue 7; DESIGN.md "Performance").

``--json`` prints one object ``{"machine": {...}, "results": [...]}``; each result has
``name``, ``pm_us``, ``floor_us``, ``eth_account_us``, ``handmade_us``,
``ratio_floor`` (= pm_us / floor_us), ``ratio_eth_account`` (= eth_account_us / pm_us),
``target`` and ``met`` (null for information rows), plus ``ratio_handmade``, ``checks`` and the
row's own figures (``speedup``, ``overhead_us``, ``ceiling``, memory per ticket). The exit
status is 0, or 1 with ``--strict`` when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..bench import BenchConfig, BenchReport, Row, run_bench


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "bench",
        help="measure ticket throughput against the libsecp256k1 floor and eth-account",
        description=(
            "Time batch and single-ticket create/validate, threads and memory in one process "
            "and check them against the performance targets. Compare ratios, not absolute "
            "times: those move by tens of percent between runs on a shared machine."
        ),
    )
    parser.add_argument(
        "--tickets", type=int, default=10_000, help="batch size for pm and the floors (10000)"
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="threads for the threaded rows; 1 skips them (2)"
    )
    parser.add_argument(
        "--repeats", type=int, default=5, help="interleaved repeats; the fastest counts (5)"
    )
    parser.add_argument(
        "--baseline-tickets",
        type=int,
        default=1_000,
        help="tickets for the slow per-ticket baselines and single calls (1000)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--markdown", action="store_true", help="print the table as GitHub Markdown"
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 if any target is missed"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    config = BenchConfig(
        tickets=args.tickets,
        threads=args.threads,
        repeats=args.repeats,
        baseline_tickets=args.baseline_tickets,
    )
    report = _run_with_progress(config)
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    elif args.markdown:
        print(markdown_table(report))
    else:
        _print_table(report)
    return 1 if args.strict and not report.all_met else 0


def _run_with_progress(config: BenchConfig) -> BenchReport:
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ..bench import MEASUREMENTS

    console = Console(stderr=True)
    stages = len(MEASUREMENTS)
    with Progress(
        TextColumn("[bold]pm bench[/] {task.description:<16}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task("preparing", total=stages)

        def progress(label: str, done: float) -> None:
            bar.update(task, description=label, completed=done)

        return run_bench(config, on_progress=progress)


def _us(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _x(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


def _status(row: Row) -> str:
    if row.met is None:
        return "info"
    return "MET" if row.met else "MISSED"


def _targets(row: Row) -> str:
    """Each check with its outcome: ``✓pm/floor≤1.1 ✗eth/pm≥3.5`` (``-`` skipped)."""
    marks = {True: "✓", False: "✗", None: "-"}
    return " ".join(f"{marks[c.met]}{c.describe(short=True)}" for c in row.checks) or "-"


def _figures(row: Row) -> str:
    """Row-specific figures: speedup, Python overhead, eth-account ceiling, memory."""
    parts = []
    for key, value in row.extra.items():
        if key == "peak_bytes_per_ticket":
            parts.append(f"peak {value:.0f} B/ticket")
        elif key == "retained_blocks":
            parts.append(f"{value:.0f} blocks kept")
        elif key == "overhead_us":
            parts.append(f"overhead {value:+.2f} µs")
        elif key == "ceiling":
            parts.append(f"eth/floor {value:.2f}x")
        elif key == "speedup":
            parts.append(f"speedup {value:.2f}x")
        elif key == "floor_speedup":
            parts.append(f"floor speedup {value:.2f}x")
        elif key == "eth_account_speedup":
            parts.append(f"eth-account speedup {value:.2f}x")
    return ", ".join(parts)


def markdown_table(report: BenchReport) -> str:
    """The result table as GitHub Markdown (for the README)."""
    header = (
        "| operation | pm µs | floor µs | eth-account µs | handmade µs | pm/floor | eth/pm "
        "| hand/pm | targets | result | figures |"
    )
    lines = [header, "|" + "---|" * 11]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in report.rows]
    return "\n".join(lines)


def _cells(row: Row, status: str | None = None) -> list[str]:
    """One table row: name, the four times, the three ratios, targets, result, figures."""
    return [
        row.name,
        _us(row.pm_us),
        _us(row.floor_us),
        _us(row.eth_account_us),
        _us(row.handmade_us),
        _x(row.ratio_floor),
        _x(row.ratio_eth_account),
        _x(row.ratio_handmade),
        _targets(row),
        _status(row) if status is None else status,
        _figures(row),
    ]


def _print_table(report: BenchReport) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    m = report.machine
    table = Table(
        title=(
            f"pm bench: {m['tickets']} tickets, {m['threads']} threads, best of {m['repeats']}; "
            f"µs per ticket ({m['cpu_count']} CPUs, Python {m['python']}, "
            f"coincurve {m['coincurve']}, eth-account {m['eth_account'] or 'missing'}, "
            f"load average {m['load_average']})"
        ),
        box=box.SIMPLE_HEAVY,
    )
    table.add_column("operation", no_wrap=True)
    for header in ("pm", "floor", "eth-account", "handmade", "pm/floor", "eth/pm", "hand/pm"):
        table.add_column(header, justify="right", no_wrap=True)
    table.add_column("targets")
    table.add_column("result", no_wrap=True)
    table.add_column("figures")
    for row in report.rows:
        status = _status(row)
        style = {"MET": "green", "MISSED": "bold red", "info": "dim"}[status]
        table.add_row(*_cells(row, f"[{style}]{status}[/]"))
    console = Console(width=max(160, Console().width))
    console.print(table)
    for row in report.rows:
        if row.note:
            console.print(f"  {row.name}: {row.note}")
    missed = [r.name for r in report.rows if r.met is False]
    console.print(
        "every target met" if not missed else f"targets missed: {', '.join(missed)}",
        highlight=False,
    )
    sys.stdout.flush()
