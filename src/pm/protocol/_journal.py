"""Transaction journal: all-or-nothing state changes across the contract models.

A Solidity transaction that reverts leaves no trace, even when the revert happens deep inside a
call to another contract (the LPT token refusing a ``transferFrom`` after the BondingManager has
already moved stake, the Minter refusing to mint after ``reward()`` wrote the pool commission).
The models reproduce that with an undo log shared by every contract: state lives in
:class:`Journaled` records, :class:`JDict` mappings and :class:`JList` lists, which record the old
value of every write while a transaction is open, and :func:`external` opens a transaction around
each public entry point and rolls every write back if anything raises.

Nested external calls (the RoundsManager calling the BondingManager, the BondingManager calling
the Minter) run inside the outermost transaction, like EVM sub-calls whose revert bubbles up.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

__all__ = ["JDict", "JList", "Journaled", "dry_run", "external", "in_transaction"]

_P = ParamSpec("_P")
_R = TypeVar("_R")
_K = TypeVar("_K")
_V = TypeVar("_V")
_T = TypeVar("_T")

_MISSING: Any = object()

# Undo entries: (kind, target, key, old). kind 0 = attribute, 1 = dict item, 2 = list truncate,
# 3 = list item.
_Entry = tuple[int, Any, Any, Any]


class _Log:
    """The open transaction's undo log (None when no transaction is open)."""

    entries: list[_Entry] | None = None


def in_transaction() -> bool:
    """True while an :func:`external` call is running."""
    return _Log.entries is not None


class Journaled:
    """Base for mutable state records whose attribute writes are undone on revert."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> None:
        log = _Log.entries
        if log is not None:
            log.append((0, self, name, getattr(self, name, _MISSING)))
        object.__setattr__(self, name, value)


class JDict(dict[_K, _V]):
    """A dict whose ``d[k] = v`` and ``del d[k]`` are undone on revert (use no other mutator)."""

    def __setitem__(self, key: _K, value: _V) -> None:
        log = _Log.entries
        if log is not None:
            log.append((1, self, key, dict.get(self, key, _MISSING)))
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: _K) -> None:
        log = _Log.entries
        if log is not None:
            log.append((1, self, key, dict.get(self, key, _MISSING)))
        dict.__delitem__(self, key)


class JList(list[_T]):
    """A list whose ``append``, ``insert`` and ``l[i] = v`` are undone on revert."""

    def append(self, value: _T) -> None:
        log = _Log.entries
        if log is not None:
            log.append((2, self, len(self), None))
        list.append(self, value)

    def insert(self, index: Any, value: _T) -> None:
        log = _Log.entries
        if log is not None:
            log.append((4, self, list(self), None))
        list.insert(self, index, value)

    def __setitem__(self, index: Any, value: Any) -> None:
        log = _Log.entries
        if log is not None:
            log.append((4, self, list(self), None))
        list.__setitem__(self, index, value)


def _rollback(entries: list[_Entry]) -> None:
    for kind, target, key, old in reversed(entries):
        if kind == 0:
            if old is _MISSING:
                object.__delattr__(target, key)
            else:
                object.__setattr__(target, key, old)
        elif kind == 1:
            if old is _MISSING:
                dict.pop(target, key, None)
            else:
                dict.__setitem__(target, key, old)
        elif kind == 2:
            del target[key:]
        else:
            list.__setitem__(target, slice(None), key)


def external(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``fn`` as (part of) a transaction: if it raises, every journaled write is undone."""

    @functools.wraps(fn)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if _Log.entries is not None:
            return fn(*args, **kwargs)
        entries: list[_Entry] = []
        _Log.entries = entries
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            _Log.entries = None
            _rollback(entries)
            raise
        _Log.entries = None
        return result

    return wrapper


class _DryRun(Exception):
    pass


def dry_run(fn: Callable[[], _R]) -> _R:
    """Run ``fn`` as a transaction and undo everything it wrote, returning its result.

    Useful to ask "what would happen if" (claim in this order, vote now) without changing the
    models; must not be called while a transaction is open.
    """
    if _Log.entries is not None:
        raise RuntimeError("dry_run inside a transaction")
    box: list[_R] = []

    def run() -> None:
        box.append(fn())
        raise _DryRun

    with contextlib.suppress(_DryRun):
        external(run)()
    return box[0]
