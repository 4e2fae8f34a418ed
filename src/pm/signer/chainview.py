"""Chain views for the remote signer (spec/remote-signer.md §3).

The signer needs only what the sender policy (protocol.md §6.3) and the expiration-params
fallback read: its own deposit/reserve/withdraw round, the last initialized round and its L1 block
hash, and the latest L1 block. :class:`ChainFile` reads fixed values from a JSON file (re-read when
the file changes); :class:`JsonRpcChain` reads them from an Ethereum JSON-RPC endpoint, refreshed
in a background thread.
"""

from __future__ import annotations

import json
import os
import threading
import urllib.request
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode

from .. import abi
from ..chain import SenderInfo
from ..crypto import bytes_from_hex, keccak256
from ..errors import InvalidInput, InvalidType, PMError
from ..evm import check_uint

_CHAIN_FILE_KEYS = (
    "deposit",
    "reserve",
    "withdraw_round",
    "current_round",
    "current_round_block_hash",
    "l1_block",
)


class ChainReadError(PMError):
    """The chain file or the JSON-RPC endpoint could not be read; the text says why."""


@dataclass(frozen=True, slots=True)
class ChainSnapshot:
    """One consistent reading of everything the signer needs (wei, rounds, L1 blocks)."""

    deposit: int
    reserve: int
    withdraw_round: int
    current_round: int
    current_round_block_hash: bytes
    l1_block: int

    @classmethod
    def from_json(cls, doc: object) -> ChainSnapshot:
        if not isinstance(doc, dict):
            raise InvalidType("chain file must hold a JSON object", name="chain_file", value=doc)
        missing = [k for k in _CHAIN_FILE_KEYS if k not in doc]
        if missing:
            raise InvalidInput(
                f"chain file is missing {', '.join(missing)}", name="chain_file", value=missing
            )
        return cls(
            deposit=check_uint("deposit", doc["deposit"]),
            reserve=check_uint("reserve", doc["reserve"]),
            withdraw_round=check_uint("withdraw_round", doc["withdraw_round"]),
            current_round=check_uint("current_round", doc["current_round"], 63),
            current_round_block_hash=bytes_from_hex(
                doc["current_round_block_hash"], 32, name="current_round_block_hash"
            ),
            l1_block=check_uint("l1_block", doc["l1_block"]),
        )


class _SnapshotView(ABC):
    """SenderChainView over the latest snapshot (pm.chain.SenderChainView)."""

    @abstractmethod
    def snapshot(self) -> ChainSnapshot:
        """The current reading."""

    def sender_info(self, sender: bytes) -> SenderInfo:
        snap = self.snapshot()
        return SenderInfo(snap.deposit, snap.withdraw_round, snap.reserve)

    def last_initialized_round(self) -> int:
        return self.snapshot().current_round

    def last_initialized_block_hash(self) -> bytes:
        return self.snapshot().current_round_block_hash

    def last_seen_l1_block(self) -> int:
        return self.snapshot().l1_block


class ChainFile(_SnapshotView):
    """Fixed chain values from a JSON file, for offline use and tests; re-read when its
    modification time or size changes. Keys: deposit, reserve, withdraw_round (ints, wei/rounds),
    current_round, current_round_block_hash ("0x" + 64 hex), l1_block."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._snap: ChainSnapshot | None = None
        self.snapshot()  # fail fast on a bad file

    def snapshot(self) -> ChainSnapshot:
        try:
            st = self.path.stat()
        except OSError as exc:
            raise ChainReadError(f"cannot read chain file {self.path}: {exc.strerror}") from exc
        stamp = (st.st_mtime_ns, st.st_size)
        with self._lock:
            if self._snap is None or stamp != self._stamp:
                try:
                    doc = json.loads(self.path.read_text())
                except (OSError, ValueError) as exc:
                    raise ChainReadError(f"cannot parse chain file {self.path}: {exc}") from exc
                self._snap = ChainSnapshot.from_json(doc)
                self._stamp = stamp
            return self._snap


def _selector(signature: str) -> bytes:
    return keccak256(signature.encode())[:4]


class JsonRpcChain(_SnapshotView):
    """Chain values read over Ethereum JSON-RPC (``eth_call``, ``eth_getBlockByNumber``) and
    refreshed every ``interval`` seconds in a daemon thread.

    - ``TicketBroker.getSenderInfo(signer)`` for deposit, reserve and withdraw round;
    - ``RoundsManager.lastInitializedRound()`` and ``blockHashForRound(round)``;
    - the latest block's ``l1BlockNumber`` (Arbitrum) or ``number``.
    """

    def __init__(
        self,
        url: str,
        ticket_broker: bytes,
        rounds_manager: bytes,
        sender: bytes,
        *,
        interval: float = 5.0,
        timeout: float = 20.0,
    ) -> None:
        self.url = url
        self.ticket_broker = ticket_broker
        self.rounds_manager = rounds_manager
        self.sender = sender
        self.interval = interval
        self.timeout = timeout
        self._snap = self.fetch()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pm-signer-chain", daemon=True)
        self._thread.start()

    def _rpc(self, method: str, params: list[Any]) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:
                reply = json.loads(resp.read())
        except (OSError, ValueError) as exc:
            raise ChainReadError(f"JSON-RPC {method} failed: {exc}") from exc
        if not isinstance(reply, dict) or "error" in reply or "result" not in reply:
            raise ChainReadError(f"JSON-RPC {method} failed: {reply!r:.200}")
        return reply["result"]

    def _call(self, to: bytes, data: bytes) -> bytes:
        result = self._rpc(
            "eth_call", [{"to": "0x" + to.hex(), "data": "0x" + data.hex()}, "latest"]
        )
        if not isinstance(result, str):
            raise ChainReadError(f"eth_call returned {result!r:.100}")
        return bytes_from_hex(result, name="eth_call result")

    def fetch(self) -> ChainSnapshot:
        """Read a fresh snapshot (raises ChainReadError)."""
        try:
            info = abi.decode_result(
                "getSenderInfo",
                self._call(self.ticket_broker, abi.encode_call("getSenderInfo", self.sender)),
            )
            (deposit, withdraw_round), (funds_remaining, _claimed) = info[0], info[1]
            (round_,) = abi_decode(
                ["uint256"], self._call(self.rounds_manager, _selector("lastInitializedRound()"))
            )
            (block_hash,) = abi_decode(
                ["bytes32"],
                self._call(
                    self.rounds_manager,
                    _selector("blockHashForRound(uint256)") + abi_encode(["uint256"], [round_]),
                ),
            )
            block = self._rpc("eth_getBlockByNumber", ["latest", False])
            l1 = int(block.get("l1BlockNumber") or block["number"], 16)
        except ChainReadError:
            raise
        except Exception as exc:  # malformed replies of any shape
            raise ChainReadError(f"unexpected JSON-RPC reply: {exc}") from exc
        return ChainSnapshot(
            deposit, funds_remaining, withdraw_round, round_, bytes(block_hash), l1
        )

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                snap = self.fetch()
            except ChainReadError:
                continue  # keep serving the last good snapshot
            with self._lock:
                self._snap = snap

    def snapshot(self) -> ChainSnapshot:
        with self._lock:
            return self._snap

    def close(self) -> None:
        self._stop.set()
