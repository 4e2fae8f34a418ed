"""Batch verification of same-sender tickets (issue 10) against the libsecp256k1 floor.

Run: ``python benchmarks/bench_batch_verify.py [--tickets 1024] [--repeats 7]
[--sizes 16,64,256,1024] [--json]``

For each batch size n the same ``--tickets`` tickets are validated in batches of n with
:func:`pm.batchverify.validate_batch_same_sender` (hash + batch check + win check, the public
API with os.urandom weights and Python overhead included), once with the sender's key cached
from an earlier batch (the steady state of a recipient) and once without (``cache_key=False``:
the first ticket the one-by-one path accepts stands in for the key), and with the raw C entry
point on prepared buffers (no key); ``floor`` is the raw libsecp256k1 ``ecdsa_recover`` loop
over prepared digests (``pm_bench_recover_loop``), and ``validate`` the one-by-one path
(:func:`pm.ticket.validate_batch`). Timings are interleaved and the fastest of ``--repeats``
counts (thread CPU time); compare ratios within one run only (the machine is shared). The goal is
``ratio_floor <= 0.33`` for n >= 64. Every batch result is checked against the one-by-one path.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from array import array
from collections.abc import Callable

from pm import _bindings
from pm.batchverify import validate_batch_same_sender
from pm.crypto import PrivateKeySigner, keccak256, personal_digest
from pm.ticket import Ticket, validate_batch


def _best(fn: Callable[[], object], best: float) -> float:
    # CPU time of this thread: on a shared machine it does not count other processes' slices.
    t0 = time.thread_time()
    fn()
    return min(best, time.thread_time() - t0)


def measure(tickets: int, sizes: list[int], repeats: int) -> dict[str, object]:
    """Per-ticket µs for the floor, the one-by-one path and each batch size."""
    signer = PrivateKeySigner(keccak256(b"bench batch verify"))
    rand = int.from_bytes(keccak256(b"bench rand"), "big")
    template = Ticket(
        b"\x33" * 20,
        signer.address,
        10**15,
        2**255,
        0,
        keccak256(rand.to_bytes(32, "big")),
        4321,
        keccak256(b"bench block"),
    )
    flat = template.flat()
    nonces = array("I", range(1, tickets + 1))
    sigs = signer.sign_tickets(template, nonces)
    digests = b"".join(personal_digest(template.with_nonce(i).hash()) for i in nonces)
    want = validate_batch(template, nonces, sigs, rand)
    if not want.all_valid:
        raise SystemExit("one-by-one validation failed on valid tickets")

    def chunks(n: int) -> list[tuple[array[int], bytes]]:
        return [(nonces[a : a + n], sigs[65 * a : 65 * (a + n)]) for a in range(0, tickets, n)]

    per_size = {n: chunks(n) for n in sizes}
    prepared = getattr(_bindings, "prepared_bv_validate_call", None)
    raw_calls = (
        {
            n: [
                prepared(
                    flat,
                    c_nonces,
                    c_sigs,
                    signer.address,
                    rand.to_bytes(32, "big"),
                    os.urandom(_bindings.BV_WEIGHT_LEN * len(c_nonces)),
                )
                for c_nonces, c_sigs in per_size[n]
            ]
            for n in sizes
        }
        if prepared is not None
        else {}
    )
    for n in sizes:  # same statuses and win flags as the one-by-one path
        status = b"".join(
            validate_batch_same_sender(template, c_n, c_s, rand, min_batch=1).status_codes
            for c_n, c_s in per_size[n]
        )
        if status != want.status_codes:
            raise SystemExit(f"batch verification disagrees with the one-by-one path at n={n}")

    inf = float("inf")
    best: dict[str, float] = {"floor": inf, "validate": inf}
    for n in sizes:
        best[f"bv{n}"] = inf
        best[f"nokey{n}"] = inf
        best[f"raw{n}"] = inf
    for _ in range(repeats):
        best["floor"] = _best(lambda: _bindings.bench_recover_loop(digests, sigs), best["floor"])
        best["validate"] = _best(
            lambda: validate_batch(template, nonces, sigs, rand), best["validate"]
        )
        for n in sizes:
            best[f"bv{n}"] = _best(
                lambda n=n: [  # type: ignore[misc]
                    validate_batch_same_sender(template, c_n, c_s, rand, min_batch=1)
                    for c_n, c_s in per_size[n]
                ],
                best[f"bv{n}"],
            )
            best[f"nokey{n}"] = _best(
                lambda n=n: [  # type: ignore[misc]
                    validate_batch_same_sender(
                        template, c_n, c_s, rand, min_batch=1, cache_key=False
                    )
                    for c_n, c_s in per_size[n]
                ],
                best[f"nokey{n}"],
            )
            if raw_calls:
                best[f"raw{n}"] = _best(
                    lambda n=n: [call() for call in raw_calls[n]],  # type: ignore[misc]
                    best[f"raw{n}"],
                )
    us = {k: v / tickets * 1e6 for k, v in best.items() if v != inf}
    floor = us["floor"]
    rows = []
    for n in sizes:
        row: dict[str, object] = {
            "name": "batch-verify",
            "n": n,
            "pm_us": round(us[f"bv{n}"], 3),
            "floor_us": round(floor, 3),
            "ratio_floor": round(us[f"bv{n}"] / floor, 3),
            "nokey_us": round(us[f"nokey{n}"], 3),
            "nokey_ratio_floor": round(us[f"nokey{n}"] / floor, 3),
        }
        if f"raw{n}" in us:
            row["raw_c_us"] = round(us[f"raw{n}"], 3)
            row["raw_ratio_floor"] = round(us[f"raw{n}"] / floor, 3)
        rows.append(row)
    return {
        "tickets": tickets,
        "floor_us": round(floor, 3),
        "validate_us": round(us["validate"], 3),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--sizes", default="16,64,256,1024")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if any(args.tickets % n for n in sizes):
        parser.error("--tickets must be a multiple of every size")
    result = measure(args.tickets, sizes, args.repeats)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(
        f"libsecp256k1 recover floor {result['floor_us']} µs/ticket; "
        f"one-by-one validate {result['validate_us']} µs/ticket"
    )
    print("key: sender key cached from an earlier batch; no key: cache_key=False; raw: C, no key")
    print(
        f"{'n':>6} {'key µs':>8} {'key/floor':>10} {'no key µs':>10} {'nokey/floor':>12} "
        f"{'raw C µs':>9} {'raw/floor':>10}"
    )
    for row in result["rows"]:  # type: ignore[attr-defined]
        print(
            f"{row['n']:>6} {row['pm_us']:>8} {row['ratio_floor']:>10} {row['nokey_us']:>10} "
            f"{row['nokey_ratio_floor']:>12} {row.get('raw_c_us', '-'):>9} "
            f"{row.get('raw_ratio_floor', '-'):>10}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
