"""The ``pm`` command line: ``pm <command> ...`` (also ``python -m pm``).

Each command lives in ``pm.commands.<name>`` and exposes ``add_parser(sub)``, which registers
its subparser with ``handler=run``. Errors that are the user's (bad input) exit with status 2
and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import PMError

COMMANDS: tuple[str, ...] = ("selfcheck", "decode", "signer", "simulate", "bench")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pm", description="Livepeer probabilistic micropayments: tickets, pricing, redemption."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"pm.commands.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except PMError as exc:
        print(f"pm {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
