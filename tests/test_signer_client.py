"""pm.signer.client against pm's signer on loopback and a scripted fake signer, after
go-livepeer's server/live_payment_test.go (remotePaymentSender) and the Python gateway (§4)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from signer_support import (
    GATEWAY,
    T0,
    FakeClock,
    LoopbackServer,
    exact_ev_params,
    make_signer,
    orch_info,
)

from pm.crypto import keccak256, recover_address
from pm.signer.client import (
    PaymentSession,
    RemoteSignerError,
    SkipPaymentCycle,
    orchestrator_info_signature,
)
from pm.wire import decode_payment_header


class FakeSigner:
    """Answers each POST with the next scripted (status, body) and records the requests."""

    def __init__(self) -> None:
        self.script: list[tuple[int, bytes]] = []
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "body": json.loads(body)}
                )
                code, payload = fake.script.pop(0)
                self.send_response(code)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()


@pytest.fixture
def fake() -> Iterator[FakeSigner]:
    f = FakeSigner()
    yield f
    f.server.shutdown()
    f.server.server_close()


@pytest.fixture
def real() -> Iterator[LoopbackServer]:
    server = LoopbackServer(make_signer(FakeClock()))
    yield server
    server.close()


def _ok(state: str = "s1") -> tuple[int, bytes]:
    body = {"payment": "cGF5", "segCreds": "c2Vn", "state": {"State": state, "Sig": "c2ln"}}
    return 200, json.dumps(body).encode()


def _err(code: int, text: str) -> tuple[int, bytes]:
    return code, json.dumps({"error": {"message": text}}).encode()


def test_validate_request() -> None:
    with pytest.raises(RemoteSignerError, match="remote signer not configured"):
        PaymentSession("", orch_info(exact_ev_params(3)))
    with pytest.raises(RemoteSignerError, match="missing session or OrchestratorInfo"):
        PaymentSession("http://127.0.0.1:1", None)  # type: ignore[arg-type]


def test_success_caches_state_and_sends_expected_payload(fake: FakeSigner) -> None:
    session = PaymentSession(
        fake.url, orch_info(exact_ev_params(3)), headers={"Authorization": "Bearer x"}
    )
    fake.script += [_ok("s1"), _ok("s2")]
    first = session.get_payment()
    assert (first.payment, first.seg_creds) == ("cGF5", "c2Vn")
    session.set_manifest_id(" mid ")
    session.get_payment()
    r1, r2 = fake.requests
    assert r1["path"] == "/generate-live-payment"
    assert r1["headers"]["Content-Type"] == "application/json"
    assert r1["headers"]["Authorization"] == "Bearer x"
    assert (
        r1["body"]["type"] == "lv2v"
        and "state" not in r1["body"]
        and "ManifestID" not in r1["body"]
    )
    assert r2["body"]["ManifestID"] == "mid"
    assert r2["body"]["state"] == {"State": "s1", "Sig": "c2ln"}
    assert r2["body"]["orchestrator"] == r1["body"]["orchestrator"]


def test_call_error_non_200_and_decode_error(fake: FakeSigner) -> None:
    with pytest.raises(RemoteSignerError, match="failed to call remote signer"):
        PaymentSession("http://127.0.0.1:1", orch_info(exact_ev_params(3)), timeout=1).get_payment()
    session = PaymentSession(fake.url, orch_info(exact_ev_params(3)))
    fake.script.append(_err(500, "boom"))
    with pytest.raises(RemoteSignerError, match="remote signer returned status 500: boom") as info:
        session.get_payment()
    assert info.value.status == 500
    fake.script.append((200, b"not json"))
    with pytest.raises(RemoteSignerError, match="failed to decode remote signer response"):
        session.get_payment()
    fake.script.append((200, b'{"payment": ""}'))
    with pytest.raises(RemoteSignerError, match="failed to decode remote signer response"):
        session.get_payment()
    assert session.state is None  # nothing unusable was kept


def test_482_skips_the_cycle_and_keeps_the_state(fake: FakeSigner) -> None:
    session = PaymentSession(fake.url, orch_info(exact_ev_params(3)))
    fake.script += [_ok("s1"), _err(482, "no tickets")]
    session.get_payment()
    with pytest.raises(SkipPaymentCycle):
        session.get_payment()
    assert session.state == {"State": "s1", "Sig": "c2ln"}


def test_refresh_on_480_then_retry_and_give_up_after_three(fake: FakeSigner) -> None:
    fresh = orch_info(exact_ev_params(3, rand_tag=b"fresh"))
    asked: list[str] = []

    def refresh(url: str) -> Any:
        asked.append(url)
        return fresh

    session = PaymentSession(fake.url, orch_info(exact_ev_params(3)), refresh=refresh)
    fake.script += [_err(480, "refresh session for remote signer"), _ok()]
    session.get_payment()
    assert asked == ["http://orch.example"] and session.info is fresh
    fake.script += [_err(480, "refresh")] * 4
    with pytest.raises(RemoteSignerError, match="too many consecutive session refreshes"):
        session.get_payment()
    assert len(asked) == 4  # three more refreshes, then it gave up

    def broken(url: str) -> Any:
        raise OSError("orchestrator unreachable")

    session = PaymentSession(fake.url, orch_info(exact_ev_params(3)), refresh=broken)
    fake.script = [_err(480, "refresh")]
    with pytest.raises(RemoteSignerError, match="could not refresh session for remote signer"):
        session.get_payment()


def test_against_pms_signer(real: LoopbackServer) -> None:
    address, sig = orchestrator_info_signature(real.url)
    assert address == GATEWAY.address
    from pm.crypto import to_checksum_address

    assert recover_address(keccak256(to_checksum_address(address).encode()), sig) == address
    session = PaymentSession(real.url, orch_info(exact_ev_params(3), (3, 1)), job_type="fixed")
    nonces = []
    for i in range(3):
        if i:
            session.set_manifest_id("job")
        creds = session.get_payment()
        nonces += list(decode_payment_header(creds.payment).nonces)
    assert nonces == [1, 2, 3]
    expired = PaymentSession(
        real.url,
        orch_info(exact_ev_params(3), (3, 1), auth_expiration=T0 // 10**9 - 1),
        job_type="fixed",
    )
    with pytest.raises(RemoteSignerError, match="could not refresh session"):
        expired.get_payment()  # 480 and no refresh callback
