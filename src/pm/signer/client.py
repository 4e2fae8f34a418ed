"""A gateway-side client of a remote signer (pm's or go-livepeer's), per spec/remote-signer.md §4.

:func:`orchestrator_info_signature` fetches the address and OrchestratorRequest signature once;
:class:`PaymentSession` asks ``/generate-live-payment`` for each payment, carries the signer's
state between calls, refreshes the OrchestratorInfo on 480 (up to ``max_refresh_retries`` times
in a row) and raises :class:`SkipPaymentCycle` on 482. Only the standard library is used.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..crypto import address_from_hex, bytes_from_hex
from ..errors import PMError
from ..wire import OrchestratorInfo, encode_orchestrator_info

TIMEOUT_S = 5.0
_JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class RemoteSignerError(PMError):
    """The signer could not be called, refused the request, or answered something unusable.
    ``status`` is the HTTP status when there was one (0 otherwise)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class SkipPaymentCycle(PMError):
    """482 "no tickets": the orchestrator holds enough credit; try again next cycle."""


@dataclass(frozen=True, slots=True)
class PaymentCredentials:
    """The two header values to send to the orchestrator: ``Livepeer-Payment`` and
    ``Livepeer-Segment``."""

    payment: str
    seg_creds: str


def _post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> tuple[int, Any]:
    """(status, decoded JSON body) of a POST; RemoteSignerError on transport or JSON errors."""
    request = urllib.request.Request(url, body, {**_JSON_HEADERS, **headers}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (OSError, ValueError) as exc:
        raise RemoteSignerError(f"failed to call remote signer: {exc}") from exc
    try:
        return status, json.loads(raw)
    except ValueError as exc:
        raise RemoteSignerError(
            f"failed to decode remote signer response (HTTP {status})", status
        ) from exc


def _error_text(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return str(body["error"].get("message", ""))
    return json.dumps(body)[:200]


def _origin(url: str) -> str:
    if not url:
        raise RemoteSignerError("remote signer not configured")
    return url.rstrip("/")


def orchestrator_info_signature(
    signer_url: str, headers: Mapping[str, str] | None = None, timeout: float = TIMEOUT_S
) -> tuple[bytes, bytes]:
    """``POST /sign-orchestrator-info``: the gateway's 20-byte address and the signature to put
    in ``OrchestratorRequest`` (protocol.md §2.4)."""
    status, body = _post(
        _origin(signer_url) + "/sign-orchestrator-info", b"{}", headers or {}, timeout
    )
    if status != 200:
        raise RemoteSignerError(
            f"remote signer returned status {status}: {_error_text(body)}", status
        )
    try:
        return address_from_hex(body["address"]), bytes_from_hex(body["signature"])
    except (KeyError, TypeError, PMError) as exc:
        raise RemoteSignerError(f"failed to decode remote signer response: {exc}", status) from exc


class PaymentSession:
    """Payments for one orchestrator through a remote signer (remote-signer.md §4.2).

    ``refresh(transcoder_url)`` must return fresh OrchestratorInfo (the gateway's
    GetOrchestrator); it is called on 480. Thread-safe: calls are serialised, since each one
    needs the state returned by the previous one.
    """

    def __init__(
        self,
        signer_url: str,
        info: OrchestratorInfo,
        *,
        job_type: str = "lv2v",
        headers: Mapping[str, str] | None = None,
        capabilities: bytes = b"",
        refresh: Callable[[str], OrchestratorInfo] | None = None,
        max_refresh_retries: int = 3,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.url = _origin(signer_url) + "/generate-live-payment"
        if not isinstance(info, OrchestratorInfo):
            raise RemoteSignerError("missing session or OrchestratorInfo")
        self.info = info
        self.job_type = job_type
        self.headers = dict(headers or {})
        self.capabilities = capabilities
        self.refresh = refresh
        self.max_refresh_retries = max_refresh_retries
        self.timeout = timeout
        self.manifest_id = ""
        self.state: dict[str, Any] | None = None
        self._lock = threading.Lock()

    def set_manifest_id(self, manifest_id: str) -> None:
        """The orchestrator's manifest id (its balance key); required once a state exists."""
        manifest_id = manifest_id.strip()
        if not manifest_id:
            raise RemoteSignerError("manifest id must not be empty")
        self.manifest_id = manifest_id

    def _body(self) -> bytes:
        doc: dict[str, Any] = {
            "orchestrator": base64.b64encode(encode_orchestrator_info(self.info)).decode(),
            "type": self.job_type,
        }
        if self.manifest_id:
            doc["ManifestID"] = self.manifest_id
        if self.state is not None:
            doc["state"] = self.state
        if self.capabilities:
            doc["capabilities"] = base64.b64encode(self.capabilities).decode()
        return json.dumps(doc).encode()

    def get_payment(self) -> PaymentCredentials:
        """Ask the signer for the next payment; keeps the returned state for the next call.

        Raises :class:`SkipPaymentCycle` on 482 and :class:`RemoteSignerError` otherwise."""
        with self._lock:
            refreshes = 0
            while True:
                status, body = _post(self.url, self._body(), self.headers, self.timeout)
                if status == 480:
                    if refreshes >= self.max_refresh_retries:
                        raise RemoteSignerError("too many consecutive session refreshes", 480)
                    refreshes += 1
                    self._refresh()
                    continue
                if status == 482:
                    raise SkipPaymentCycle(_error_text(body))
                if status != 200:
                    raise RemoteSignerError(
                        f"remote signer returned status {status}: {_error_text(body)}", status
                    )
                return self._accept(body)

    def _refresh(self) -> None:
        if self.refresh is None or not self.info.transcoder:
            raise RemoteSignerError(
                "could not refresh session for remote signer: no way to refresh"
            )
        try:
            info = self.refresh(self.info.transcoder)
        except Exception as exc:  # the embedder's GetOrchestrator: keep its text
            raise RemoteSignerError(f"could not refresh session for remote signer: {exc}") from exc
        if not isinstance(info, OrchestratorInfo):
            raise RemoteSignerError(
                "could not refresh session for remote signer: no OrchestratorInfo"
            )
        self.info = info

    def _accept(self, body: Any) -> PaymentCredentials:
        if not isinstance(body, dict):
            raise RemoteSignerError("failed to decode remote signer response: not an object", 200)
        payment, seg_creds, state = body.get("payment"), body.get("segCreds", ""), body.get("state")
        if not isinstance(payment, str) or not payment:
            raise RemoteSignerError("failed to decode remote signer response: no payment", 200)
        if not isinstance(seg_creds, str) or not isinstance(state, dict):
            raise RemoteSignerError(
                "failed to decode remote signer response: bad segCreds or state", 200
            )
        self.state = state
        return PaymentCredentials(payment, seg_creds)
