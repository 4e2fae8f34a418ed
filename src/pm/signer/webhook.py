"""The optional auth webhook of the remote signer (spec/remote-signer.md §2.12 step 2).

Before it signs the new state, the signer can ask an operator service whether this request may be
paid for: it POSTs ``{"headers": <the incoming request headers>, "state": <the new state>}`` and
reads ``{"status", "reason", "expiry", "auth_id", "maxPrice"}`` back. An answer is cached in the
state (``AuthExpiry``) until it expires.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import PMError

WEBHOOK_TIMEOUT_S = 5.0


class WebhookFailure(PMError):
    """The webhook could not be asked or gave no usable answer (go-livepeer answers 500)."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """``url`` to POST to, extra ``headers`` sent with every call, ``timeout_s`` seconds."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout_s: float = WEBHOOK_TIMEOUT_S


@dataclass(frozen=True, slots=True)
class WebhookAnswer:
    """A parsed answer: ``status`` (200 admits the request), ``reason``, ``expiry`` (unix
    seconds the admission may be cached until, 0 for none), ``auth_id`` and the raw ``maxPrice``
    object (None if absent)."""

    status: int
    reason: str = ""
    expiry: int = 0
    auth_id: str = ""
    max_price: dict[str, Any] | None = None


def canonical_header_key(key: str) -> str:
    """Go's ``textproto.CanonicalMIMEHeaderKey``: ``x-request-id`` → ``X-Request-Id``."""
    if not key or any(not (c.isalnum() or c == "-") or not c.isascii() for c in key):
        return key  # Go leaves keys with other characters untouched
    return "-".join(part[:1].upper() + part[1:].lower() for part in key.split("-"))


def ask(
    config: WebhookConfig, headers: Mapping[str, list[str]], state: dict[str, Any]
) -> WebhookAnswer:
    """POST the request headers and the state; raise :class:`WebhookFailure` on a transport
    error, a non-200 HTTP status, a body that is not a JSON object, or a missing or non-positive
    ``status``."""
    body = json.dumps({"headers": dict(headers), "state": state}).encode()
    request = urllib.request.Request(
        config.url, body, {**config.headers, "Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=config.timeout_s) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        raise WebhookFailure(f"signer auth webhook answered HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:
        raise WebhookFailure(f"signer auth webhook failed: {exc}") from exc
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise WebhookFailure("signer auth webhook answered invalid JSON") from exc
    if not isinstance(doc, dict):
        raise WebhookFailure("signer auth webhook answered no JSON object")
    status = doc.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or status <= 0:
        raise WebhookFailure(f"signer auth webhook answered no valid status: {status!r}")
    reason, auth_id = doc.get("reason"), doc.get("auth_id")
    expiry, max_price = doc.get("expiry"), doc.get("maxPrice")
    if isinstance(expiry, bool) or not isinstance(expiry, int | type(None)):
        raise WebhookFailure(f"signer auth webhook answered an invalid expiry: {expiry!r}")
    if not isinstance(max_price, dict | type(None)):
        raise WebhookFailure("signer auth webhook answered an invalid maxPrice")
    return WebhookAnswer(
        status=status,
        reason=reason if isinstance(reason, str) else "",
        expiry=expiry or 0,
        auth_id=auth_id if isinstance(auth_id, str) else "",
        max_price=max_price,
    )
