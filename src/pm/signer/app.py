"""The signer's HTTP front end on aiohttp (the optional ``pm[signer]`` extra).

Two routes, as in go-livepeer (spec/remote-signer.md §0): ``POST /sign-orchestrator-info`` and
``POST /generate-live-payment``. pm adds what go-livepeer lacks: an optional bearer token checked
in constant time, a request-body size limit, and JSON errors for every refusal. Signing runs in a
worker thread so the event loop stays responsive while libsecp256k1 works.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any

from aiohttp import web

from .service import RemoteSigner, SignerResponse

MAX_BODY_BYTES = 256 * 1024
"""Largest request body accepted, in bytes (an OrchestratorInfo plus state is a few KiB)."""

_SIGNER_KEY: web.AppKey[RemoteSigner] = web.AppKey("signer", RemoteSigner)
_TOKEN_KEY: web.AppKey[str | None] = web.AppKey("auth_token", str)


def _json(resp: SignerResponse) -> web.Response:
    # Go's json.Encoder: compact JSON with a trailing newline.
    text = json.dumps(resp.body, separators=(",", ":")) + "\n"
    return web.Response(
        status=resp.status, text=text, content_type="application/json", headers=resp.headers
    )


def _error(status: int, message: str) -> web.Response:
    return _json(SignerResponse(status, {"error": {"message": message}}))


@web.middleware
async def _guard(request: web.Request, handler: Any) -> web.StreamResponse:
    token = request.app[_TOKEN_KEY]
    if token is not None:
        given = request.headers.get("Authorization", "")
        expected = "Bearer " + token
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return _error(401, "missing or invalid bearer token")
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPRequestEntityTooLarge:
        return _error(413, f"request body exceeds {MAX_BODY_BYTES} bytes")
    except web.HTTPException as exc:
        return _error(exc.status, exc.reason)
    return response


async def _sign_orchestrator_info(request: web.Request) -> web.Response:
    await request.read()  # the body is ignored (§1) but must respect the size limit
    return _json(request.app[_SIGNER_KEY].sign_orchestrator_info())


async def _generate_live_payment(request: web.Request) -> web.Response:
    body = await request.read()
    signer = request.app[_SIGNER_KEY]
    # The incoming headers go to the auth webhook, as in go-livepeer; pm's own bearer token is
    # this server's credential, not the gateway's identity, so it is not passed on.
    own_token = request.app[_TOKEN_KEY] is not None
    headers = [
        (k, v)
        for k, v in request.headers.items()
        if not (own_token and k.lower() == "authorization")
    ]
    resp = await asyncio.to_thread(signer.generate_live_payment, body, headers)
    return _json(resp)


def create_app(
    signer: RemoteSigner, *, auth_token: str | None = None, max_body_bytes: int = MAX_BODY_BYTES
) -> web.Application:
    """The aiohttp application serving ``signer``; embed it in another server or run it with
    :func:`aiohttp.web.run_app`. With ``auth_token`` every request must carry
    ``Authorization: Bearer <token>``."""
    app = web.Application(middlewares=[_guard], client_max_size=max_body_bytes)
    app[_SIGNER_KEY] = signer
    app[_TOKEN_KEY] = auth_token
    app.router.add_post("/sign-orchestrator-info", _sign_orchestrator_info)
    app.router.add_post("/generate-live-payment", _generate_live_payment)
    return app
