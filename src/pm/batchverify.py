"""Batch verification of same-sender tickets (issue 10, DESIGN.md "Beyond the floor").

A recipient checks many tickets from one sender. For a signature (r, s, v) over digest z,
libsecp256k1's recovery returns Q = r^-1 (s R - z G), where R is the curve point with x = r and
the y parity given by v (spec/protocol.md §2.2-§2.3). "recover(sig) == sender's key" is
therefore the point equation R = (z/s) G + (r/s) Q, and with random weights a_i a whole batch
is checked by ONE multi-scalar multiplication:

    sum a_i R_i - (sum a_i z_i / s_i) G - (sum a_i r_i / s_i) Q = O.

Each weight is expanded in C from ``WEIGHT_BYTES`` bytes of ``os.urandom`` into a sparse
signed-digit number a1 + lambda a2 (16 wNAF digits at random positions of two halves below
2^126, lambda the GLV endomorphism) with more than 128 bits of min-entropy modulo n, so a batch
holding a bad ticket passes with probability below 2^-128 while each ticket costs 16 point
additions instead of about 22 for a dense 128-bit weight.

:func:`validate_batch_same_sender` returns exactly what :func:`pm.ticket.validate_batch`
returns for the same input (per-ticket :class:`~pm.ticket.SigStatus` and win flags): the
pre-checks are go-livepeer's (length, high s, v) and libsecp256k1's own refusals (r or s out of
range, no curve point with x = r), the key comes from the first ticket the one-by-one path
accepts, and when the equation fails the bad tickets are found by bisection and judged by the
one-by-one path. The weights are drawn after the tickets are fixed, and a batch of valid
tickets always passes, so a failed check always means a bad ticket.

The elliptic-curve arithmetic behind it (csrc/bv_*.c) is pm's own, variable time, and used only
on public data (signatures, digests, the sender's public key); signing stays on libsecp256k1.
"""

from __future__ import annotations

import os
import threading
from array import array
from collections.abc import Callable, Mapping, Sequence

from . import _bindings
from .errors import InvalidInput, InvalidType
from .evm import check_uint
from .ticket import BatchCheck, SigStatus, Ticket, collect_signatures, validate_batch

#: Below this many tickets the one-by-one path is used (same results; the batch check's fixed
#: cost, one libsecp256k1 recovery for the key plus a few field inversions, does not pay off).
MIN_BATCH = 8

#: Bytes of randomness per ticket, expanded by the C core into one sparse weight.
WEIGHT_BYTES = _bindings.BV_WEIGHT_LEN

#: Public keys (x||y) of recently seen senders by address. With a sender's key, no ticket of a
#: batch has to be recovered by libsecp256k1 to stand in for it (about 30 µs per batch). The
#: C core uses a key only if its address is the batch's sender, so a stale or wrong entry can
#: cost time but never change a result. Bounded: cleared when it reaches KEY_CACHE_SIZE.
KEY_CACHE_SIZE = 4096
_keys: dict[bytes, bytes] = {}
_keys_lock = threading.Lock()


def _remember_key(template: Ticket, nonces: array[int], flat_sigs: bytes, status: bytes) -> None:
    """Cache the sender's key from the first ticket the batch accepted."""
    i = status.find(0)  # SigStatus.OK
    if i < 0:
        return
    key = _bindings.bv_ticket_key(template.flat(), nonces[i], flat_sigs[65 * i : 65 * i + 65])
    if key is None:  # pragma: no cover - an accepted ticket always has a key
        return
    with _keys_lock:
        if len(_keys) >= KEY_CACHE_SIZE:
            _keys.clear()
        _keys[template.sender] = key


def forget_sender_keys() -> None:
    """Empty the sender-key cache (tests, or to bound memory differently)."""
    with _keys_lock:
        _keys.clear()


def validate_batch_same_sender(
    template: Ticket,
    nonces: Sequence[int] | array[int],
    sigs: Sequence[bytes] | bytes,
    recipient_rand: int | None,
    *,
    irregular_sigs: Mapping[int, bytes] | None = None,
    min_batch: int = MIN_BATCH,
    randbytes: Callable[[int], bytes] = os.urandom,
    cache_key: bool = True,
) -> BatchCheck:
    """Check n tickets that share every field of ``template`` but the nonce, like
    :func:`pm.ticket.validate_batch` (same arguments, same :class:`BatchCheck`, identical
    statuses and win flags), with one multi-scalar multiplication for the whole batch.

    ``min_batch``: smaller batches go through the one-by-one path. ``randbytes`` supplies the
    weights and must be a CSPRNG (default ``os.urandom``); it is a parameter only so tests can
    make runs reproducible. ``cache_key``: use and fill the sender-key cache.
    """
    if not isinstance(template, Ticket):
        raise InvalidType("template must be a pm.Ticket", name="template", value=template)
    if isinstance(min_batch, bool) or not isinstance(min_batch, int):
        raise InvalidType("min_batch must be an int", name="min_batch", value=min_batch)
    nonce_arr = _bindings.nonce_array(nonces)
    n = len(nonce_arr)
    if n < min_batch:
        return validate_batch(
            template, nonce_arr, sigs, recipient_rand, irregular_sigs=irregular_sigs
        )
    flat_sigs, irregular = collect_signatures(sigs, n, irregular_sigs)
    rand = (
        None
        if recipient_rand is None
        else check_uint("recipient_rand", recipient_rand).to_bytes(32, "big")
    )
    weights = randbytes(WEIGHT_BYTES * n)
    if not isinstance(weights, bytes) or len(weights) != WEIGHT_BYTES * n:
        raise InvalidInput(
            f"randbytes must return {WEIGHT_BYTES * n} bytes",
            name="randbytes",
            value=type(weights).__name__,
        )
    key = _keys.get(template.sender) if cache_key else None
    status, won = _bindings.bv_validate_tickets(
        template.flat(), nonce_arr, flat_sigs, template.sender, rand, weights, key
    )
    if cache_key and key is None:
        _remember_key(template, nonce_arr, flat_sigs, status)
    if irregular:
        status_arr, won_arr = bytearray(status), bytearray(won)
        for i in irregular:
            status_arr[i], won_arr[i] = SigStatus.BAD_LENGTH, 0
        status, won = bytes(status_arr), bytes(won_arr)
    return BatchCheck(status, won)
