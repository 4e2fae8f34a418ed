"""Shared pieces of the bounded fuzz tests (tests/test_fuzz_*.py, issue 9).

Every fuzz target runs each generated input inside :func:`fuzz_input`, which counts it and
swallows :class:`pm.errors.PMError` (the only exception pm may raise on bad input); anything
else escapes, fails the test and lets Hypothesis shrink the input. ``tests/conftest.py`` prints
the counts at the end of the session ("fuzz <target>: N inputs"), so ``.ci/run`` shows how much
each target was exercised. ``HYPOTHESIS_PROFILE=long`` raises the number of examples.
"""

from __future__ import annotations

import string
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pm.errors import PMError

#: inputs tried per fuzz target in this session
COUNTS: Counter[str] = Counter()
#: inputs rejected with a PMError per target (the rest were accepted)
REJECTED: Counter[str] = Counter()
_lock = threading.Lock()


@contextmanager
def fuzz_input(target: str) -> Iterator[None]:
    """Count one input of ``target``; a PMError is an accepted outcome, anything else fails."""
    with _lock:
        COUNTS[target] += 1
    try:
        yield
    except PMError:
        with _lock:
            REJECTED[target] += 1


def mark_rejected(target: str) -> None:
    """Count an input that ``target`` refused without raising (an error response or exit
    code), so the summary's rejection count means the same for every target."""
    with _lock:
        REJECTED[target] += 1


def summary_lines() -> list[str]:
    """``fuzz <target>: N inputs (R rejected)`` per target, sorted by name; rejected means a
    PMError (or an error response/exit code, see :func:`mark_rejected`)."""
    return [
        f"fuzz {target}: {n} inputs ({REJECTED[target]} rejected)"
        for target, n in sorted(COUNTS.items())
    ]


# -- strategies shared by the fuzz modules -------------------------------------------------

#: Byte lengths around every boundary pm cares about (addresses, words, signatures, tickets,
#: the Keccak rate).
EDGE_LENGTHS = (0, 1, 19, 20, 21, 31, 32, 33, 64, 65, 66, 135, 136, 137, 167, 168, 231, 232)

#: Objects of the wrong type for any field.
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.just(object()),
)


def edge_bytes(*lengths: int) -> st.SearchStrategy[bytes]:
    """Bytes of one of ``lengths`` (default: the edge lengths), random or all zero/0xff."""
    choices = lengths or EDGE_LENGTHS
    return st.sampled_from(choices).flatmap(
        lambda n: st.one_of(
            st.binary(min_size=n, max_size=n),
            st.just(bytes(n)),
            st.just(b"\xff" * n),
        )
    )


#: Integers around uint32, int64 and uint256 boundaries, and some negatives.
edge_ints = st.one_of(
    st.integers(min_value=-3, max_value=3),
    st.sampled_from([2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64, 2**256 - 1, 2**256, -(2**256)]),
    st.integers(min_value=-(2**260), max_value=2**260),
)

hex_chars = st.text(alphabet=string.hexdigits + "xX \n\u0660\uff21g", max_size=70)


def budget(examples: int) -> settings:
    """Hypothesis settings for a fuzz target: ``examples`` under the default ``ci`` profile,
    scaled by the active profile's ``max_examples`` / 100 (so ``HYPOTHESIS_PROFILE=long``, 20,000
    examples, runs each target 200 times longer). No deadline: the machine is shared."""
    scale = max(1, settings.default.max_examples // 100)
    return settings(
        max_examples=examples * scale,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


#: Hashable objects of the wrong type (for mapping keys).
hashable_junk = st.one_of(st.none(), st.booleans(), st.text(max_size=3), st.floats())


def mostly(valid: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``valid`` about five times in six, else ``bad``: with several fields per input, most
    inputs then get past the first check and reach the deeper code."""
    return st.integers(min_value=0, max_value=5).flatmap(lambda k: bad if k == 5 else valid)
