"""SortedDoublyLL: the transcoder pool, a descending sorted doubly linked list with insert hints.

spec/protocol-economics.md §2.4 (contracts/libraries/SortedDoublyLL.sol). Keys are stakes in LPT
wei, ids are 20-byte addresses, ``NULL`` (20 zero bytes) is the list terminator. Hints
``(prev_id, next_id)`` are used as-is when they are a valid insert position; otherwise the list is
searched from the usable part of the hint, or from the head. This placement decides the order of
equal keys, and so which of equal stakes is evicted, so the search is reproduced step by step.
"""

from __future__ import annotations

from collections.abc import Iterator

from pm.evm import Revert

from ._journal import JDict, Journaled

__all__ = ["NULL", "SortedDoublyLL"]

NULL = bytes(20)


class _Node(Journaled):
    __slots__ = ("key", "next_id", "prev_id")

    def __init__(self) -> None:
        self.key = 0
        self.next_id = NULL
        self.prev_id = NULL


_EMPTY = _Node()


class SortedDoublyLL(Journaled):
    """Descending list of ``id -> key`` with ``head`` (largest) and ``tail`` (smallest)."""

    __slots__ = ("head", "max_size", "nodes", "size", "tail")

    def __init__(self) -> None:
        self.head = NULL
        self.tail = NULL
        self.max_size = 0
        self.size = 0
        self.nodes: JDict[bytes, _Node] = JDict()

    # --- internal node access (absent nodes read as zeros, like a Solidity mapping) ---------
    def _n(self, node_id: bytes) -> _Node:
        return self.nodes.get(node_id, _EMPTY)

    def _w(self, node_id: bytes) -> _Node:
        node = self.nodes.get(node_id)
        if node is None:
            node = _Node()
            self.nodes[node_id] = node
        return node

    # --- views -------------------------------------------------------------------------------
    def contains(self, node_id: bytes) -> bool:
        """A node is in the list iff its key is non-zero."""
        return self._n(node_id).key > 0

    def is_full(self) -> bool:
        return self.size == self.max_size

    def is_empty(self) -> bool:
        return self.size == 0

    def get_key(self, node_id: bytes) -> int:
        return self._n(node_id).key

    def get_first(self) -> bytes:
        return self.head

    def get_last(self) -> bytes:
        return self.tail

    def get_next(self, node_id: bytes) -> bytes:
        return self._n(node_id).next_id

    def get_prev(self, node_id: bytes) -> bytes:
        return self._n(node_id).prev_id

    def __iter__(self) -> Iterator[bytes]:
        node_id = self.head
        while node_id != NULL:
            yield node_id
            node_id = self._n(node_id).next_id

    def items(self) -> list[tuple[bytes, int]]:
        """``(id, key)`` from head (largest) to tail."""
        return [(i, self._n(i).key) for i in self]

    # --- mutation ----------------------------------------------------------------------------
    def set_max_size(self, size: int) -> None:
        if not size > self.max_size:
            raise Revert("new max size must be greater than old max size")
        self.max_size = size

    def insert(
        self, node_id: bytes, key: int, prev_id: bytes = NULL, next_id: bytes = NULL
    ) -> None:
        if self.is_full():
            raise Revert("list is full")
        if self.contains(node_id):
            raise Revert("node already in list")
        if node_id == NULL:
            raise Revert("node id is null")
        if key <= 0:
            raise Revert("key is zero")
        if not self.valid_insert_position(key, prev_id, next_id):
            prev_id, next_id = self._find_insert_position(key, prev_id, next_id)
        node = self._w(node_id)
        node.key = key
        if prev_id == NULL and next_id == NULL:
            self.head = node_id
            self.tail = node_id
        elif prev_id == NULL:
            node.next_id = self.head
            self._w(self.head).prev_id = node_id
            self.head = node_id
        elif next_id == NULL:
            node.prev_id = self.tail
            self._w(self.tail).next_id = node_id
            self.tail = node_id
        else:
            node.next_id = next_id
            node.prev_id = prev_id
            self._w(prev_id).next_id = node_id
            self._w(next_id).prev_id = node_id
        self.size += 1

    def remove(self, node_id: bytes) -> None:
        if not self.contains(node_id):
            raise Revert("node not in list")
        node = self._n(node_id)
        if self.size > 1:
            if node_id == self.head:
                self.head = node.next_id
                self._w(self.head).prev_id = NULL
            elif node_id == self.tail:
                self.tail = node.prev_id
                self._w(self.tail).next_id = NULL
            else:
                self._w(node.prev_id).next_id = node.next_id
                self._w(node.next_id).prev_id = node.prev_id
        else:
            self.head = NULL
            self.tail = NULL
        del self.nodes[node_id]
        self.size -= 1

    def update_key(
        self, node_id: bytes, new_key: int, prev_id: bytes = NULL, next_id: bytes = NULL
    ) -> None:
        if not self.contains(node_id):
            raise Revert("node not in list")
        self.remove(node_id)
        if new_key > 0:
            self.insert(node_id, new_key, prev_id, next_id)

    # --- positioning -------------------------------------------------------------------------
    def valid_insert_position(self, key: int, prev_id: bytes, next_id: bytes) -> bool:
        if prev_id == NULL and next_id == NULL:
            return self.is_empty()
        if prev_id == NULL:
            return self.head == next_id and key >= self._n(next_id).key
        if next_id == NULL:
            return self.tail == prev_id and key <= self._n(prev_id).key
        prev = self._n(prev_id)
        return prev.next_id == next_id and prev.key >= key and key >= self._n(next_id).key

    def _descend(self, key: int, start_id: bytes) -> tuple[bytes, bytes]:
        if self.head == start_id and key >= self._n(start_id).key:
            return NULL, start_id
        prev_id = start_id
        next_id = self._n(prev_id).next_id
        while prev_id != NULL and not self.valid_insert_position(key, prev_id, next_id):
            prev_id = self._n(prev_id).next_id
            next_id = self._n(prev_id).next_id
        return prev_id, next_id

    def _ascend(self, key: int, start_id: bytes) -> tuple[bytes, bytes]:
        if self.tail == start_id and key <= self._n(start_id).key:
            return start_id, NULL
        next_id = start_id
        prev_id = self._n(next_id).prev_id
        while next_id != NULL and not self.valid_insert_position(key, prev_id, next_id):
            next_id = self._n(next_id).prev_id
            prev_id = self._n(next_id).prev_id
        return prev_id, next_id

    def _find_insert_position(
        self, key: int, prev_id: bytes, next_id: bytes
    ) -> tuple[bytes, bytes]:
        if prev_id != NULL and (not self.contains(prev_id) or key > self._n(prev_id).key):
            prev_id = NULL
        if next_id != NULL and (not self.contains(next_id) or key < self._n(next_id).key):
            next_id = NULL
        if prev_id == NULL and next_id == NULL:
            return self._descend(key, self.head)
        if prev_id == NULL:
            return self._ascend(key, next_id)
        return self._descend(key, prev_id)
