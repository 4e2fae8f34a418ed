"""The signer's auth webhook (spec/remote-signer.md §2.12 step 2-3), after go-livepeer's
TestGenerateLivePayment_WebhookCallback: a real HTTP webhook on loopback, scripted answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from signer_support import (
    T0,
    FakeClock,
    decode_state,
    exact_ev_params,
    make_signer,
    orch_info,
    request_body,
)

from pm.signer.webhook import WebhookConfig, canonical_header_key


class Webhook:
    """A loopback webhook that records calls and answers ``reply`` (status, JSON body)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.reply: tuple[int, bytes] = (200, b'{"status": 200}')
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                hook.calls.append({"body": json.loads(body), "headers": dict(self.headers)})
                code, payload = hook.reply
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/auth"
        threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True).start()

    def answer(self, doc: dict[str, Any] | str, code: int = 200) -> None:
        self.reply = (code, doc.encode() if isinstance(doc, str) else json.dumps(doc).encode())


@pytest.fixture
def hook() -> Iterator[Webhook]:
    w = Webhook()
    yield w
    w.server.shutdown()
    w.server.server_close()


def _signer(hook: Webhook, clock: FakeClock, **config: Any) -> Any:
    return make_signer(clock, webhook=WebhookConfig(hook.url, {"X-Api-Key": "k1"}), **config)


def _call(signer: Any, price: tuple[int, int] = (3, 1), headers: Any = None, **fields: Any) -> Any:
    info = orch_info(exact_ev_params(3), price)
    fields.setdefault("type", "fixed")
    return signer.generate_live_payment(request_body(info, **fields), headers)


def _message(resp: Any) -> str:
    return str(resp.body["error"]["message"])


def test_webhook_gets_headers_state_and_configured_headers(hook: Webhook) -> None:
    resp = _call(
        _signer(hook, FakeClock()),
        headers=[("x-request-id", "r-1"), ("X-Multi", "a"), ("x-multi", "b")],
        app="myapp",
    )
    assert resp.status == 200
    (call,) = hook.calls
    assert call["headers"]["X-Api-Key"] == "k1"
    assert call["body"]["headers"]["X-Request-Id"] == ["r-1"]
    assert call["body"]["headers"]["X-Multi"] == ["a", "b"]
    state = call["body"]["state"]
    assert state["App"] == "myapp"
    assert state["PMSessionID"] == "0x" + exact_ev_params(3).recipient_rand_hash.hex()
    assert state["SenderNonce"] == 1  # the state after this call's update (§2.12 step 1)


@pytest.mark.parametrize(
    ("answer", "code", "status", "text"),
    [
        ({"status": 200}, 200, 200, ""),
        ({"status": 403, "reason": "denied"}, 200, 403, "denied"),
        ({"status": 429}, 200, 429, "signer auth rejected request with status 429"),
        ({"reason": "no status"}, 200, 500, "Internal Server Error"),
        ({"status": 0}, 200, 500, "Internal Server Error"),
        ("not json", 200, 500, "Internal Server Error"),
        ({"status": 200}, 401, 500, "Internal Server Error"),
        (
            {"status": 200, "maxPrice": {"price": "0.5", "currency": "wei", "unit": "fixed"}},
            200,
            481,
            "orchestrator price 3.000 exceeds auth webhook maxPrice ceiling 0.500",
        ),
        (
            {"status": 200, "maxPrice": {"price": "5", "currency": "usd", "unit": "fixed"}},
            200,
            502,
            "signer auth invalid maxPrice: maxPrice.currency must be wei",
        ),
        (
            {"status": 200, "maxPrice": {"price": "3", "currency": "wei", "unit": "fixed"}},
            200,
            200,
            "",
        ),
    ],
)
def test_webhook_answers(hook: Webhook, answer: Any, code: int, status: int, text: str) -> None:
    hook.answer(answer, code)
    resp = _call(_signer(hook, FakeClock()))
    assert resp.status == status
    if text:
        assert _message(resp) == text


def test_expiry_is_cached_in_the_state_until_it_passes(hook: Webhook) -> None:
    clock = FakeClock()
    signer = _signer(hook, clock)
    hook.answer({"status": 200, "expiry": T0 // 10**9 + 60})
    first = _call(signer)
    assert decode_state(first.body["state"])["AuthExpiry"] == T0 // 10**9 + 60
    clock.advance(30)
    second = _call(signer, ManifestID="m", state=first.body["state"])
    assert second.status == 200 and len(hook.calls) == 1  # cached: not asked again
    clock.advance(31)
    third = _call(signer, ManifestID="m", state=second.body["state"])
    assert third.status == 200 and len(hook.calls) == 2  # expired: asked again


def test_auth_id_from_webhook_wins_and_is_pinned(hook: Webhook) -> None:
    clock = FakeClock()
    signer = _signer(hook, clock)
    hook.answer({"status": 200, "auth_id": "from-hook"})
    first = _call(signer, headers={"Signer-Auth-Id": "from-header"})
    assert decode_state(first.body["state"])["AuthID"] == "from-hook"
    hook.answer({"status": 200, "auth_id": "someone-else"})
    again = _call(signer, ManifestID="m", state=first.body["state"])
    assert (again.status, _message(again)) == (500, "Internal Server Error")
    hook.answer({"status": 200})
    header_only = _call(signer, headers={"signer-auth-id": "from-header"})
    assert decode_state(header_only.body["state"])["AuthID"] == "from-header"
    changed = _call(
        signer, ManifestID="m", state=header_only.body["state"], headers={"Signer-Auth-Id": "other"}
    )
    assert changed.status == 500


def test_most_restrictive_ceiling_wins_and_webhook_is_not_asked_after_a_refusal(
    hook: Webhook,
) -> None:
    max_price = {"price": 2, "currency": "wei", "unit": "fixed"}
    resp = _call(_signer(hook, FakeClock()), maxPrice=max_price)
    assert resp.status == 481 and "request maxPrice" in _message(resp)
    resp = _call(_signer(hook, FakeClock(), max_price=Fraction(2)))
    assert resp.status == 481 and "configured max price" in _message(resp)
    assert hook.calls == []  # an earlier ceiling refused: the webhook was never asked
    equal = {"price": 3, "currency": "wei", "unit": "fixed"}
    hook.answer({"status": 200, "maxPrice": equal})
    assert _call(_signer(hook, FakeClock(), max_price=Fraction(3)), maxPrice=equal).status == 200


def test_canonical_header_keys() -> None:
    assert canonical_header_key("x-request-id") == "X-Request-Id"
    assert canonical_header_key("SIGNER-AUTH-ID") == "Signer-Auth-Id"
    assert canonical_header_key("weird key") == "weird key"


def test_over_http_the_bearer_token_is_not_forwarded(hook: Webhook) -> None:
    from signer_support import LoopbackServer

    server = LoopbackServer(_signer(hook, FakeClock()), auth_token="s3cret")
    try:
        info = orch_info(exact_ev_params(3), (3, 1))
        reply = server.post(
            "/generate-live-payment",
            request_body(info, type="fixed"),
            {"Authorization": "Bearer s3cret", "X-Request-Id": "r-9"},
        )
        assert reply.status == 200
        forwarded = hook.calls[0]["body"]["headers"]
        assert forwarded["X-Request-Id"] == ["r-9"]
        assert "Authorization" not in forwarded
    finally:
        server.close()


def test_cli_webhook_header_parsing() -> None:
    from pm.commands.signer import parse_header
    from pm.errors import InvalidInput

    assert parse_header("X-Api-Key:  k1 ") == ("X-Api-Key", "k1")
    with pytest.raises(InvalidInput):
        parse_header("no colon")
