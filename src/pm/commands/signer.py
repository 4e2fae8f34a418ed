"""``pm signer serve``: run the go-livepeer-compatible remote signer (spec/remote-signer.md).

Security defaults: binds to 127.0.0.1; refuses a non-loopback address unless a bearer token is
configured; refuses key and token files that the group or others can read; never logs key
material. Needs the ``pm[signer]`` extra (aiohttp).
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import stat
import sys
from fractions import Fraction
from pathlib import Path

from ..crypto import PrivateKeySigner, address_from_hex, bytes_from_hex, to_checksum_address
from ..errors import InvalidInput, PMError
from ..sender import GO_LIVEPEER_POLICY, SpendingPolicy


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("signer", help="remote signer service for gateways")
    actions = parser.add_subparsers(dest="signer_command", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve", help="serve /sign-orchestrator-info and /generate-live-payment"
    )
    serve.add_argument(
        "--key-file",
        required=True,
        type=Path,
        help="file with the 32-byte private key as hex (mode 600)",
    )
    serve.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8935, help="port (default 8935, go-livepeer's)")
    serve.add_argument(
        "--auth-token-file", type=Path, help="file with a bearer token clients must send"
    )
    chain = serve.add_mutually_exclusive_group(required=True)
    chain.add_argument(
        "--chain-file", type=Path, help="JSON file with fixed chain values (re-read on change)"
    )
    chain.add_argument("--chain-rpc", metavar="URL", help="Ethereum JSON-RPC endpoint")
    serve.add_argument(
        "--ticket-broker", metavar="ADDR", help="TicketBroker address (with --chain-rpc)"
    )
    serve.add_argument(
        "--rounds-manager", metavar="ADDR", help="RoundsManager address (with --chain-rpc)"
    )
    serve.add_argument(
        "--max-ticket-ev",
        type=Fraction,
        default=GO_LIVEPEER_POLICY.max_ticket_ev,
        help="wei (default 3e12)",
    )
    serve.add_argument(
        "--max-total-ev",
        type=Fraction,
        default=GO_LIVEPEER_POLICY.max_total_ev,
        help="wei per request (default 2e13)",
    )
    serve.add_argument(
        "--deposit-multiplier", type=int, default=GO_LIVEPEER_POLICY.deposit_multiplier
    )
    serve.add_argument(
        "--max-price",
        type=Fraction,
        help="ceiling on the orchestrator price, wei per unit (e.g. 1200/1)",
    )
    serve.add_argument(
        "--max-price-per-capability",
        type=Path,
        metavar="FILE",
        help="go-livepeer -maxPricePerCapability JSON: "
        '{"capabilities_prices": [{"pipeline": "live-video-to-video", "model_id": "...", '
        '"price_per_unit": 200, "pixels_per_unit": 1, "currency": "wei"}]}',
    )
    serve.add_argument(
        "--webhook-url", metavar="URL", help="auth webhook asked before each payment is signed"
    )
    serve.add_argument(
        "--webhook-header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="header sent to the webhook (repeatable)",
    )
    parser.set_defaults(handler=run)


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` → ``("Name", "value")``."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise InvalidInput(f"--webhook-header must look like 'Name: value', got {text!r}")
    return name.strip(), value.strip()


def read_secret_file(path: Path, what: str) -> str:
    """The stripped text of a secret file that only its owner may read."""
    try:
        st = path.stat()
        text = path.read_text().strip()
    except OSError as exc:
        raise InvalidInput(f"cannot read {what} {path}: {exc.strerror}", name=what) from exc
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(
            f"{what} {path} is accessible by group or others (mode {stat.S_IMODE(st.st_mode):o}); "
            f"run: chmod 600 {path}",
            name=what,
        )
    return text


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    try:
        from aiohttp import web

        from ..signer.app import create_app
    except ImportError:
        print("pm signer: needs the signer extra: pip install 'pm[signer]'", file=sys.stderr)
        return 2
    from ..signer import ChainFile, JsonRpcChain, RemoteSigner, SignerConfig
    from ..signer.capabilities import CapabilityPrices
    from ..signer.webhook import WebhookConfig

    key_hex = read_secret_file(args.key_file, "key file")
    try:
        signer = PrivateKeySigner(bytes_from_hex(key_hex, 32, name="key file"))
    except PMError:
        raise InvalidInput(
            f"key file {args.key_file} does not hold a valid 32-byte hex private key"
        ) from None
    token = (
        read_secret_file(args.auth_token_file, "auth token file") if args.auth_token_file else None
    )
    if token == "":
        raise InvalidInput("auth token file is empty")
    if not is_loopback(args.host) and token is None:
        raise InvalidInput(
            f"refusing to bind {args.host} without --auth-token-file: anyone who can reach it "
            "could spend this key's deposit"
        )
    if args.chain_file is not None:
        chain: ChainFile | JsonRpcChain = ChainFile(args.chain_file)
    else:
        if not args.ticket_broker or not args.rounds_manager:
            raise InvalidInput("--chain-rpc needs --ticket-broker and --rounds-manager")
        chain = JsonRpcChain(
            args.chain_rpc,
            address_from_hex(args.ticket_broker),
            address_from_hex(args.rounds_manager),
            signer.address,
        )
    policy = SpendingPolicy(args.max_ticket_ev, args.max_total_ev, args.deposit_multiplier)
    webhook = None
    if args.webhook_url:
        headers = dict(parse_header(h) for h in args.webhook_header)
        webhook = WebhookConfig(args.webhook_url, headers)
    capability_prices = None
    if args.max_price_per_capability is not None:
        capability_prices = CapabilityPrices.from_file(
            args.max_price_per_capability, max_price_per_unit=args.max_price
        )
    config = SignerConfig(
        policy=policy,
        max_price=args.max_price,
        webhook=webhook,
        capability_prices=capability_prices,
    )
    service = RemoteSigner(signer, chain, config)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    print(
        f"pm signer: {to_checksum_address(signer.address)} on http://{args.host}:{args.port}",
        flush=True,
    )
    web.run_app(create_app(service, auth_token=token), host=args.host, port=args.port, print=None)
    return 0
