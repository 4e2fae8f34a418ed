"""Split a ticket batch across threads (DESIGN.md "Performance").

The C core's batch entry points release the GIL for the whole call (cffi does that around every
C call), so k threads that each create or validate a slice of one batch run in parallel on k
cores. Every function here returns exactly what the one-thread path returns: signatures are
deterministic (RFC 6979) and a ticket's status does not depend on its neighbours.

No thread outlives a call: chunk 0 runs in the calling thread and the others in short-lived
threads that are joined before returning, so a library user never inherits a pool.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from . import _bindings
from .crypto import PrivateKeySigner
from .errors import InvalidInput, InvalidType
from .ticket import BatchCheck, Ticket, collect_signatures, validate_batch

T = TypeVar("T")

MIN_CHUNK = 64
"""Fewest tickets worth a thread of their own: starting a thread costs tens of µs, about one
signature, so smaller slices stay on fewer threads."""


def check_threads(threads: object) -> int:
    """``threads`` as an int >= 1, or a PMError naming the bad value."""
    if isinstance(threads, bool) or not isinstance(threads, int):
        raise InvalidType(
            f"threads must be an int, not {type(threads).__name__}", name="threads", value=threads
        )
    if threads < 1:
        raise InvalidInput(f"threads must be >= 1, got {threads}", name="threads", value=threads)
    return threads


def chunk_bounds(n: int, threads: int, min_chunk: int = MIN_CHUNK) -> list[tuple[int, int]]:
    """Contiguous ``[start, stop)`` slices covering ``range(n)``: at most ``threads`` of them,
    each at least ``min_chunk`` long (except when n itself is smaller), sizes differing by at
    most one so the threads finish together."""
    threads = check_threads(threads)
    k = max(1, min(threads, n // max(1, min_chunk)))
    base, extra = divmod(n, k)
    bounds = []
    start = 0
    for i in range(k):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def run_chunks(fn: Callable[[int, int], T], bounds: Sequence[tuple[int, int]]) -> list[T]:
    """``[fn(start, stop) for each bound]``, computed in parallel, results in input order.

    Chunk 0 runs in the calling thread. An exception from any chunk is re-raised here after
    every thread has finished (the first one by chunk order)."""
    if len(bounds) <= 1:
        return [fn(start, stop) for start, stop in bounds]
    results: dict[int, T] = {}
    errors: dict[int, BaseException] = {}

    def work(i: int) -> None:
        try:
            results[i] = fn(*bounds[i])
        except BaseException as exc:  # handed back to the caller below
            errors[i] = exc

    workers = [threading.Thread(target=work, args=(i,)) for i in range(1, len(bounds))]
    for w in workers:
        w.start()
    work(0)
    for w in workers:
        w.join()
    if errors:
        raise errors[min(errors)]
    return [results[i] for i in range(len(bounds))]


def sign_tickets_threaded(
    signer: PrivateKeySigner,
    template: Ticket,
    nonces: Sequence[int] | array[int],
    threads: int = 2,
) -> bytes:
    """:meth:`PrivateKeySigner.sign_tickets` split over ``threads`` threads: the n*65 flat
    signatures of ``template`` with each nonce, byte-identical to the one-thread result."""
    if not isinstance(signer, PrivateKeySigner):
        raise InvalidType("signer must be a PrivateKeySigner", name="signer", value=signer)
    if not isinstance(template, Ticket):
        raise InvalidType("template must be a pm.Ticket", name="template", value=template)
    nonce_arr = _bindings.nonce_array(nonces)
    bounds = chunk_bounds(len(nonce_arr), threads)
    parts = run_chunks(lambda a, b: signer.sign_tickets(template, nonce_arr[a:b]), bounds)
    return b"".join(parts)


def validate_batch_threaded(
    template: Ticket,
    nonces: Sequence[int] | array[int],
    sigs: Sequence[bytes] | bytes,
    recipient_rand: int | None,
    threads: int = 2,
    *,
    irregular_sigs: Mapping[int, bytes] | None = None,
) -> BatchCheck:
    """:func:`pm.ticket.validate_batch` split over ``threads`` threads; the same arguments and
    the same :class:`BatchCheck`, status for status and won flag for won flag."""
    if not isinstance(template, Ticket):
        raise InvalidType("template must be a pm.Ticket", name="template", value=template)
    nonce_arr = _bindings.nonce_array(nonces)
    n = len(nonce_arr)
    flat, irregular = collect_signatures(sigs, n, irregular_sigs)

    def chunk(a: int, b: int) -> BatchCheck:
        local = {i - a: s for i, s in irregular.items() if a <= i < b}
        return validate_batch(
            template,
            nonce_arr[a:b],
            flat[65 * a : 65 * b],
            recipient_rand,
            irregular_sigs=local or None,
        )

    parts = run_chunks(chunk, chunk_bounds(n, threads))
    if len(parts) == 1:
        return parts[0]
    return BatchCheck(b"".join(p.status_codes for p in parts), b"".join(p.won_flags for p in parts))
