"""Fixtures shared by the signer tests and benchmark: a fake clock, orchestrator infos with
exact EVs, a loopback server running the aiohttp app in a thread, and a client written to
spec/remote-signer.md §4 (what livepeer-python-gateway sends)."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from aiohttp import web

from pm import ExpirationParams, TicketParams
from pm.chain import InMemoryChain, SenderInfo
from pm.crypto import PrivateKeySigner, keccak256
from pm.pricing import MAX_WIN_PROB
from pm.signer import RemoteSigner, SignerConfig
from pm.signer.app import create_app
from pm.wire import (
    AuthToken,
    OrchestratorInfo,
    PriceInfo,
    WireTicketParams,
    encode_orchestrator_info,
)

GATEWAY = PrivateKeySigner((0x6A7E).to_bytes(32, "big"))
ORCH = PrivateKeySigner((0x0C4E).to_bytes(32, "big")).address
T0 = 1_780_000_000 * 1_000_000_000  # a fixed wall clock, ns
BLOCK_HASH = keccak256(b"round 100")


class FakeClock:
    """Wall-clock nanoseconds that tests advance by hand."""

    def __init__(self, now: int = T0) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float | int | Fraction) -> None:
        self.now += int(Fraction(seconds) * 1_000_000_000)


def signer_chain(
    deposit: int = 10**18, reserve: int = 10**18, withdraw_round: int = 0
) -> InMemoryChain:
    chain = InMemoryChain(l1_block=1000, round_=100, round_block_hashes={100: BLOCK_HASH})
    chain.set_sender_info(GATEWAY.address, SenderInfo(deposit, withdraw_round, reserve))
    return chain


def exact_ev_params(
    ev: int, *, rand_tag: bytes = b"H", expiration_block: int = 1040
) -> TicketParams:
    """Params whose EV is exactly ``ev`` wei: face value 5·ev at win probability M/5
    (M = 2^256 − 1 is divisible by 5)."""
    return TicketParams(
        recipient=ORCH,
        face_value=5 * ev,
        win_prob=MAX_WIN_PROB // 5,
        recipient_rand_hash=keccak256(rand_tag),
        seed=12345,
        expiration_block=expiration_block,
        price_per_pixel=Fraction(1),
        expiration_params=ExpirationParams(100, BLOCK_HASH),
    )


def orch_info(
    params: TicketParams,
    price: tuple[int, int] = (1, 1),
    *,
    auth_expiration: int | None = T0 // 1_000_000_000 + 3600,
    address: bytes = ORCH,
    transcoder: str = "http://orch.example",
) -> OrchestratorInfo:
    return OrchestratorInfo(
        transcoder=transcoder,
        ticket_params=WireTicketParams.from_params(params, with_expiration=True),
        price_info=PriceInfo(*price),
        address=address,
        auth_token=None
        if auth_expiration is None
        else AuthToken(b"token", "session", auth_expiration),
    )


def request_body(info: OrchestratorInfo | bytes | None, **fields: Any) -> bytes:
    doc: dict[str, Any] = dict(fields)
    if info is not None:
        raw = info if isinstance(info, bytes) else encode_orchestrator_info(info)
        doc["orchestrator"] = base64.b64encode(raw).decode()
    return json.dumps(doc).encode()


def make_signer(
    clock: FakeClock, chain: InMemoryChain | None = None, **config: Any
) -> RemoteSigner:
    return RemoteSigner(
        GATEWAY,
        chain or signer_chain(),
        SignerConfig(**config),
        clock=clock,
        random_bytes=lambda n: b"\xab" * n,
    )


def decode_state(state: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(base64.b64decode(state["State"]))
    return doc


@dataclass
class HttpReply:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


class LoopbackServer:
    """Runs an aiohttp app on 127.0.0.1 (ephemeral port) in a background thread."""

    def __init__(
        self,
        signer: RemoteSigner,
        *,
        auth_token: str | None = None,
        max_body_bytes: int = 64 * 1024,
    ) -> None:
        self.app = create_app(signer, auth_token=auth_token, max_body_bytes=max_body_bytes)
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(self.app)
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("signer server did not start")

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        ready.set()
        self.loop.run_forever()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def post(self, path: str, body: bytes, headers: dict[str, str] | None = None) -> HttpReply:
        """POST like the Python gateway: JSON content type, Accept JSON, 5 s timeout."""
        all_headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": "livepeer-python-gateway/0.1",
            **(headers or {}),
        }
        request = urllib.request.Request(self.url + path, body, all_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as resp:
                return HttpReply(resp.status, json.loads(resp.read()), dict(resp.headers))
        except urllib.error.HTTPError as exc:
            return HttpReply(exc.code, json.loads(exc.read() or b"{}"), dict(exc.headers))
