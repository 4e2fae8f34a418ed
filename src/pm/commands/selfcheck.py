"""``pm selfcheck``: prove the native core works on this machine in a second.

It checks the known-answer vectors of spec/protocol.md §10.1.1 and §10.1.4, signs and
recovers through the C core and through the pure-Python reference, and runs a small batch.
"""

from __future__ import annotations

import argparse
import time

from .. import _reference
from ..crypto import PrivateKeySigner, keccak256, recover_address, to_checksum_address
from ..ticket import Ticket, is_winning, validate_batch


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("selfcheck", help="check the native core against known answers")
    parser.add_argument("--tickets", type=int, default=1000, help="batch size to sign and validate")
    parser.set_defaults(handler=run)


def _check(label: str, ok: bool) -> bool:
    print(f"  {'ok  ' if ok else 'FAIL'} {label}")
    return ok


def run(args: argparse.Namespace) -> int:
    zero20, zero32 = bytes(20), bytes(32)
    results = [
        _check(
            "keccak256('') (spec §0)",
            keccak256(b"").hex()
            == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
        ),
        _check(
            "ticket hash, nonce 2^32-1 (spec §10.1.1)",
            Ticket(zero20, zero20, 0, 0, 2**32 - 1, zero32).hash().hex()
            == "e1393fc7f6de093780674022f96cb8e3872235167d037c04d554e58c0e63d280",
        ),
        _check(
            "win check, sig 'foo' rand 10 (spec §10.1.4)",
            is_winning(b"foo", 10, 2**256 - 1) and not is_winning(b"foo", 10, 0),
        ),
    ]
    signer = PrivateKeySigner.generate()
    template = Ticket(
        bytes.fromhex("73AEd7b5dEb30222fa896f399d46cC99c7BEe57F"),
        signer.address,
        10**15,
        2**255,
        0,
        keccak256(b"rand"),
        7,
        keccak256(b"block"),
    )
    msg = template.hash()
    sig = signer.sign(msg)
    results.append(
        _check(
            "C signature == coincurve reference",
            sig == _reference.sign_msg32(signer.export_private_key(), msg),
        )
    )
    results.append(
        _check("recover(sign(h)) == signer", recover_address(msg, sig) == signer.address)
    )
    n = max(1, args.tickets)
    nonces = list(range(1, n + 1))
    t0 = time.perf_counter()
    sigs = signer.sign_tickets(template, nonces)
    t1 = time.perf_counter()
    check = validate_batch(template, nonces, sigs, recipient_rand=12345)
    t2 = time.perf_counter()
    results.append(_check(f"batch of {n}: every signature valid", check.all_valid))
    print(
        f"  signer {to_checksum_address(signer.address)}; {n} tickets: "
        f"create {1e6 * (t1 - t0) / n:.1f} µs/ticket, "
        f"validate {1e6 * (t2 - t1) / n:.1f} µs/ticket; "
        f"{len(check.winners())} won at p=1/2"
    )
    if all(results):
        print("pm selfcheck: all checks passed")
        return 0
    print("pm selfcheck: FAILED")
    return 1
