"""Requests per second and latency of the remote signer's ``/generate-live-payment`` with 10
tickets per request, over HTTP on loopback (a bounded number of requests).

Run the measurement and print it: ``python benchmarks/test_bench_signer.py [REQUESTS]``.
Under pytest it runs a few requests as a smoke test (and times one request with pytest-benchmark).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from signer_support import (
    FakeClock,
    LoopbackServer,
    exact_ev_params,
    make_signer,
    orch_info,
    request_body,
)

from pm.wire import decode_payment_header

TICKETS = 10


def measure(requests: int) -> dict[str, Any]:
    """Send ``requests`` sequential calls carrying the state forward; each mints 10 tickets
    (type fixed, price 30 wei, EV 3 wei). Returns rps and p50/p99 latency in ms."""
    server = LoopbackServer(make_signer(FakeClock()))
    try:
        info = orch_info(exact_ev_params(3), (30, 1))
        state = None
        latencies: list[int] = []
        for _ in range(requests):
            fields: dict[str, Any] = {"type": "fixed", "ManifestID": "bench"}
            if state is not None:
                fields["state"] = state
            body = request_body(info, **fields)
            t0 = time.perf_counter_ns()
            reply = server.post("/generate-live-payment", body)
            latencies.append(time.perf_counter_ns() - t0)
            if (
                reply.status != 200
                or len(decode_payment_header(reply.body["payment"]).nonces) != TICKETS
            ):
                raise AssertionError(f"unexpected reply {reply.status}: {reply.body}")
            state = reply.body["state"]
    finally:
        server.close()
    latencies.sort()
    total_s = sum(latencies) / 1e9
    return {
        "requests": requests,
        "tickets_per_request": TICKETS,
        "rps": requests / total_s,
        "p50_ms": latencies[len(latencies) // 2] / 1e6,
        "p99_ms": latencies[min(len(latencies) - 1, (len(latencies) * 99) // 100)] / 1e6,
    }


def test_signer_generate_live_payment(benchmark: Callable[..., Any]) -> None:
    result = benchmark.pedantic(measure, args=(5,), rounds=1, iterations=1)
    assert result["requests"] == 5 and result["p50_ms"] <= result["p99_ms"]


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    r = measure(n)
    print(
        f"/generate-live-payment, {r['tickets_per_request']} tickets/request, "
        f"{n} requests on loopback: "
        f"{r['rps']:.0f} req/s, p50 {r['p50_ms']:.2f} ms, p99 {r['p99_ms']:.2f} ms"
    )
