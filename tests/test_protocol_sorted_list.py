"""SortedDoublyLL (spec/protocol-economics.md §2.4; contracts/libraries/SortedDoublyLL.sol):
revert strings, the no-hint placement rule, valid hints honoured exactly, and the list invariants
under random operations with arbitrary (possibly stale) hints."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pm.evm import Revert
from pm.protocol.sorted_list import NULL, SortedDoublyLL

IDS = [bytes([i]) * 20 for i in range(1, 9)]
A, B, C, D = IDS[:4]


def make(max_size: int = 10) -> SortedDoublyLL:
    s = SortedDoublyLL()
    s.set_max_size(max_size)
    return s


def reason(fn: object) -> str:
    with pytest.raises(Revert) as e:
        fn()  # type: ignore[operator]
    return e.value.reason


def check_invariants(s: SortedDoublyLL) -> None:
    items = s.items()
    assert len(items) == s.size <= s.max_size
    keys = [k for _, k in items]
    assert keys == sorted(keys, reverse=True) and all(k > 0 for k in keys)
    ids = [i for i, _ in items]
    assert s.head == (ids[0] if ids else NULL) and s.tail == (ids[-1] if ids else NULL)
    for prev, nxt in itertools.pairwise(ids):
        assert s.get_prev(nxt) == prev and s.get_next(prev) == nxt


def test_reverts() -> None:
    s = make(2)
    assert reason(lambda: s.set_max_size(2)) == "new max size must be greater than old max size"
    assert reason(lambda: s.insert(NULL, 5)) == "node id is null"
    assert reason(lambda: s.insert(A, 0)) == "key is zero"
    s.insert(A, 5)
    assert reason(lambda: s.insert(A, 6)) == "node already in list"
    s.insert(B, 5)
    assert reason(lambda: s.insert(C, 6)) == "list is full"
    assert reason(lambda: s.remove(C)) == "node not in list"
    assert reason(lambda: s.update_key(C, 1)) == "node not in list"


def test_no_hint_newest_of_equal_keys_ranks_highest() -> None:
    s = make()
    for i in (A, B, C):
        s.insert(i, 10)
    assert [i for i, _ in s.items()] == [C, B, A]
    s.insert(D, 11)
    assert s.get_first() == D and s.get_last() == A


def test_valid_hint_is_used_as_is() -> None:
    s = make()
    for i in (A, B, C):
        s.insert(i, 10)  # C, B, A
    s.insert(D, 10, C, B)  # valid: C.key >= 10 >= B.key and adjacent -> between C and B
    assert [i for i, _ in s.items()] == [C, D, B, A]
    e = IDS[4]
    s.insert(e, 10, A, NULL)  # valid tail position
    assert s.get_last() == e
    f = IDS[5]
    s.insert(f, 10)  # no hint: before the first key <= 10, i.e. the head
    assert s.get_first() == f


def test_invalid_hints_fall_back_to_search() -> None:
    s = make()
    s.insert(A, 30)
    s.insert(B, 20)
    s.insert(C, 10)
    s.insert(D, 15, A, C)  # not adjacent: descend from A
    assert [k for _, k in s.items()] == [30, 20, 15, 10]
    e = IDS[4]
    s.insert(e, 25, IDS[7], C)  # prev unknown, next ok: ascend from C
    assert [i for i, _ in s.items()] == [A, e, B, D, C]
    s.update_key(A, 5, NULL, NULL)  # remove then reinsert without hint
    assert s.get_last() == A
    s.update_key(A, 0)  # updateKey to 0 only removes
    assert not s.contains(A) and s.size == 4


ops = st.lists(
    st.tuples(
        st.sampled_from(["insert", "remove", "update"]),
        st.sampled_from(IDS),
        st.integers(0, 6),
        st.sampled_from([*IDS, NULL]),
        st.sampled_from([*IDS, NULL]),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(ops)
def test_random_operations_keep_invariants(seq: list[tuple[str, bytes, int, bytes, bytes]]) -> None:
    s = make(6)
    for op, node, key, prev, nxt in seq:
        try:
            if op == "insert":
                s.insert(node, key, prev, nxt)
            elif op == "remove":
                s.remove(node)
            else:
                s.update_key(node, key, prev, nxt)
        except Revert:
            pass
        check_invariants(s)
