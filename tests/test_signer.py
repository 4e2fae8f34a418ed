"""The remote signer against spec/remote-signer.md §1–§2 and the go-livepeer tests of §6.

Most cases call :class:`pm.signer.RemoteSigner` directly with a fake clock; the HTTP cases at the
end drive the aiohttp server on loopback with a client written to §4.
"""

from __future__ import annotations

import base64
import json
from fractions import Fraction
from typing import Any

import pytest
from signer_support import (
    GATEWAY,
    ORCH,
    T0,
    FakeClock,
    LoopbackServer,
    decode_state,
    exact_ev_params,
    make_signer,
    orch_info,
    request_body,
    signer_chain,
)

from pm.chain import InMemoryChain, SenderInfo
from pm.crypto import (
    PrivateKeySigner,
    keccak256,
    recover_address,
    recover_message_address,
    to_checksum_address,
)
from pm.recipient import Recipient, RecipientConfig
from pm.sender import SpendingPolicy
from pm.signer import RemotePaymentState, parse_rat, rat_string
from pm.signer.service import segment_credentials
from pm.signer.state import format_time, parse_time
from pm.wire import (
    AuthToken,
    OrchestratorInfo,
    PriceInfo,
    WireTicketParams,
    decode_payment_header,
)

M = 2**256 - 1


def _JsonFloatLike(text: str) -> Any:
    from pm.signer.service import _JsonFloat

    return _JsonFloat(text)


def call(signer: Any, info: Any, **fields: Any) -> Any:
    return signer.generate_live_payment(request_body(info, **fields), fields.pop("_headers", None))


def message(resp: Any) -> str:
    return str(resp.body["error"]["message"])


# -- §1 --------------------------------------------------------------------------------------


def test_sign_orchestrator_info_is_the_orchestrator_request_signature() -> None:
    signer = make_signer(FakeClock())
    body = signer.sign_orchestrator_info().body
    assert body["address"] == to_checksum_address(GATEWAY.address)
    sig = bytes.fromhex(body["signature"][2:])
    assert len(sig) == 65 and sig[64] in (27, 28)
    # O verifies VerifySig(addr, keccak(addr.Hex()), sig) (protocol.md §2.4)
    assert recover_address(keccak256(body["address"].encode()), sig) == GATEWAY.address
    assert make_signer(FakeClock()).sign_orchestrator_info().body == body  # deterministic


# -- §6 TestGenerateLivePayment_RequestValidationErrors -------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        (b"{not json", 400, "invalid character"),
        (b"", 400, "EOF"),
        (b"[]", 400, "cannot unmarshal array"),
        (request_body(None, type="live"), 400, "missing orchestrator"),
        (request_body(b"\xff\xff\xff", type="live"), 400, "proto:"),
        (
            request_body(orch_info(exact_ev_params(1), (0, 1)), type="live"),
            400,
            "missing or zero priceInfo",
        ),
        (
            request_body(orch_info(exact_ev_params(1), (1, 0)), type="live"),
            400,
            "missing or zero priceInfo",
        ),
        (
            request_body(
                OrchestratorInfo(
                    transcoder="x",
                    price_info=PriceInfo(1, 1),
                    address=ORCH,
                    auth_token=AuthToken(b"t", "s", 2**40),
                ),
                type="live",
            ),
            400,
            "missing ticketParams in OrchestratorInfo",
        ),
        (
            request_body(orch_info(exact_ev_params(1), auth_expiration=None), type="live"),
            400,
            "remote signer could not check whether to refresh session: missing auth token",
        ),
        (request_body(orch_info(exact_ev_params(1)), type="bogus"), 400, "invalid job type"),
        (
            request_body(orch_info(exact_ev_params(1)), inPixels=0),
            400,
            "missing billable unit or job type",
        ),
        (
            request_body(orch_info(exact_ev_params(1)), inPixels=101),
            400,
            "numTickets 101 exceeds maximum of 100",
        ),
        (
            request_body(
                orch_info(exact_ev_params(1)),
                type="live",
                capabilities=base64.b64encode(b"\xff").decode(),
            ),
            400,
            "cannot parse invalid wire-format data",
        ),
        (
            request_body(orch_info(exact_ev_params(1)), inPixels=1.5),
            400,
            "cannot unmarshal number 1.5",
        ),
        (
            request_body(
                orch_info(exact_ev_params(1)), type="live", orchestrator_extra=1, ManifestID=7
            ),
            400,
            "cannot unmarshal number into Go struct field RemotePaymentRequest.ManifestID",
        ),
    ],
)
def test_request_validation_errors(body: bytes, status: int, text: str) -> None:
    resp = make_signer(FakeClock()).generate_live_payment(body)
    assert resp.status == status
    assert text in message(resp)


def test_expired_auth_token_or_params_ask_for_a_refresh() -> None:
    clock = FakeClock()
    signer = make_signer(clock)
    expired = orch_info(exact_ev_params(1), auth_expiration=T0 // 10**9 - 60)
    resp = call(signer, expired, type="live")
    assert (resp.status, message(resp)) == (480, "refresh session for remote signer")
    assert resp.headers == {"Livepeer-Orchestrator-URL": "http://orch.example"}
    # within the last 180 s of validity: refresh; exactly at the refresh point: not yet
    at_point = orch_info(exact_ev_params(1), auth_expiration=T0 // 10**9 + 180)
    assert call(signer, at_point, type="live").status == 200
    clock.advance(Fraction(1, 1000))
    assert call(signer, at_point, type="live").status == 480
    # TicketParams expired: expirationBlock − lastSeenL1Block ≤ 1
    stale = orch_info(exact_ev_params(1, expiration_block=1001))
    assert call(make_signer(FakeClock()), stale, type="live").status == 480


@pytest.mark.parametrize(
    ("chain", "text"),
    [
        (signer_chain(deposit=0), "no sender deposit"),
        (signer_chain(reserve=0), "no sender reserve"),
        (signer_chain(withdraw_round=101), "unlock soon"),
    ],
)
def test_sender_policy_errors_are_400_with_the_reason(chain: InMemoryChain, text: str) -> None:
    resp = call(make_signer(FakeClock(), chain), orch_info(exact_ev_params(1)), type="live")
    assert resp.status == 400
    assert message(resp).startswith("remote signer could not check whether to refresh session: ")
    assert text in message(resp)


def test_batch_policy_failure_is_a_masked_500() -> None:
    policy = SpendingPolicy(Fraction(100), Fraction(50), 1)  # one ticket of EV 35 fits, two do not
    signer = make_signer(FakeClock(), policy=policy)
    resp = call(
        signer, orch_info(exact_ev_params(35), (3, 1)), type="", inPixels=20
    )  # fee 60 → 2 tickets
    assert (resp.status, message(resp)) == (500, "Internal Server Error")


@pytest.mark.parametrize(
    ("config", "fields", "price", "status", "text"),
    [
        (
            {"max_price": Fraction(500)},
            {"type": "live"},
            (1000, 1),
            481,
            "orchestrator price 1000.000 exceeds configured max price ceiling 500.000",
        ),
        (
            {},
            {"type": "fixed", "maxPrice": {"price": 9, "currency": "wei", "unit": "fixed"}},
            (10, 1),
            481,
            "request maxPrice",
        ),
        (
            {},
            {"maxPrice": {"price": 9, "currency": "wei", "unit": "fixed"}, "inPixels": 5},
            (1, 1),
            400,
            "maxPrice requires payment type",
        ),
        (
            {},
            {"type": "live", "maxPrice": {"price": 9, "currency": "usd", "unit": "seconds"}},
            (1, 1),
            400,
            "maxPrice.currency must be wei",
        ),
        (
            {},
            {"type": "live", "maxPrice": {"price": 9, "currency": "wei", "unit": "fixed"}},
            (1, 1),
            400,
            "maxPrice.unit must be seconds for payment type live",
        ),
        (
            {},
            {"type": "live", "maxPrice": {"price": 0, "currency": "wei", "unit": "seconds"}},
            (1, 1),
            400,
            "maxPrice.price must be a positive decimal",
        ),
        (
            {},
            {"type": "live", "maxPrice": {"price": "wat", "currency": "wei", "unit": "seconds"}},
            (1, 1),
            400,
            "positive decimal",
        ),
        (
            {},
            {"type": "live", "maxPrice": {"price": 3, "currency": " WEI ", "unit": "Seconds"}},
            (3, 1),
            200,
            "",
        ),
    ],
)
def test_price_ceilings(
    config: dict[str, Any], fields: dict[str, Any], price: tuple[int, int], status: int, text: str
) -> None:
    resp = call(make_signer(FakeClock(), **config), orch_info(exact_ev_params(35), price), **fields)
    assert resp.status == status
    if text:
        assert text in message(resp)


def test_parse_rat_like_big_rat_set_string() -> None:
    assert parse_rat("101.2") == Fraction(506, 5)
    assert parse_rat("7") == 7
    assert parse_rat("6000/7") == Fraction(6000, 7)
    assert parse_rat("2e3") == 2000
    assert parse_rat("-1") == -1
    for bad in ("wat", "", "1/0", "1e99999"):
        assert parse_rat(bad) is None
    assert rat_string(Fraction(6000, 7)) == "6000/7"
    assert rat_string(Fraction(10, 2)) == "5"


# -- §6 TestGenerateLivePayment_StateValidationErrors ---------------------------------------


def _first_state(signer: Any, info: Any, **fields: Any) -> dict[str, str]:
    resp = call(signer, info, **fields)
    assert resp.status == 200, resp.body
    return dict(resp.body["state"])


def _signed_state(state: RemotePaymentState) -> dict[str, str]:
    data = state.to_json()
    return {
        "State": base64.b64encode(data).decode(),
        "Sig": base64.b64encode(GATEWAY.sign_message(data)).decode(),
    }


def test_state_validation_errors() -> None:
    clock = FakeClock()
    signer = make_signer(clock)
    info = orch_info(exact_ev_params(1))
    state = _first_state(signer, info, type="live", app="a")
    assert message(call(signer, info, type="live", app="a", state=state)) == "missing manifestID"
    bad_sig = {"State": state["State"], "Sig": base64.b64encode(b"bad").decode()}
    assert (
        message(call(signer, info, type="live", app="a", state=bad_sig, ManifestID="m"))
        == "invalid sig"
    )
    # a tampered state is "invalid sig", checked before the missing manifest id
    tampered = dict(
        state,
        State=base64.b64encode(
            base64.b64decode(state["State"]).replace(b'"App":"a"', b'"App":"b"')
        ).decode(),
    )
    assert message(call(signer, info, type="live", app="b", state=tampered)) == "invalid sig"
    not_json = {
        "State": base64.b64encode(b"not-json").decode(),
        "Sig": base64.b64encode(GATEWAY.sign_message(b"not-json")).decode(),
    }
    assert (
        message(call(signer, info, type="live", app="a", state=not_json, ManifestID="m"))
        == "invalid state"
    )
    assert (
        message(call(signer, info, type="live", app="b", state=state, ManifestID="m"))
        == "app mismatch"
    )
    assert (
        message(call(signer, info, type="lv2v", app="a", state=state, ManifestID="m"))
        == "job type mismatch"
    )
    other = RemotePaymentState(
        "s", b"\x01" * 20, initial_price_per_unit=1, initial_pixels_per_unit=1
    )
    assert (
        message(call(signer, info, type="live", state=_signed_state(other), ManifestID="m"))
        == "orchestratorAddress mismatch"
    )
    foreign = _signed_state(
        RemotePaymentState("s", ORCH, initial_price_per_unit=1, initial_pixels_per_unit=1)
    )
    foreign["Sig"] = base64.b64encode(
        PrivateKeySigner.generate().sign_message(base64.b64decode(foreign["State"]))
    ).decode()
    assert message(call(signer, info, type="live", state=foreign, ManifestID="m")) == "invalid sig"
    zero_price = _signed_state(RemotePaymentState("s", ORCH))
    assert (
        message(call(signer, info, type="live", state=zero_price, ManifestID="m"))
        == "invalid initial price in state"
    )


def test_initial_price_is_a_ceiling_and_balance_can_skip_a_cycle() -> None:
    signer = make_signer(FakeClock())
    params = exact_ev_params(1)
    initial = _signed_state(
        RemotePaymentState("s", ORCH, initial_price_per_unit=100, initial_pixels_per_unit=1)
    )
    resp = call(signer, orch_info(params, (150, 1)), type="live", state=initial, ManifestID="m")
    assert resp.status == 481 and "initial session price ceiling" in message(resp)
    rich = _signed_state(
        RemotePaymentState(
            "s", ORCH, balance=Fraction(1000), initial_price_per_unit=1, initial_pixels_per_unit=1
        )
    )
    resp = call(signer, orch_info(params), inPixels=1, state=rich, ManifestID="m")
    assert (resp.status, message(resp)) == (482, "no tickets")


# -- §6 success cases ----------------------------------------------------------------------


def test_pixels_succeeds_with_exact_balance_and_initial_price_billing() -> None:
    clock = FakeClock()
    signer = make_signer(clock, max_price=Fraction(200))
    params = exact_ev_params(35)
    resp = call(signer, orch_info(params, (150, 175)), inPixels=1000, ManifestID="m")
    assert resp.status == 200
    state = decode_state(resp.body["state"])
    payment = decode_payment_header(resp.body["payment"])
    n1 = len(payment.nonces)
    assert state["Balance"] == rat_string(n1 * 35 - Fraction(1000 * 150, 175))
    assert state["SequenceNumber"] == 0 and state["StateID"] == "abababab"
    assert state["OrchestratorAddress"] == "0x" + ORCH.hex()
    assert state["PMSessionID"] == "0x" + params.recipient_rand_hash.hex()
    assert parse_time(state["LastUpdate"]) == T0
    clock.advance(1)
    resp2 = call(
        signer, orch_info(params, (3, 4)), inPixels=2500, ManifestID="m", state=resp.body["state"]
    )
    assert resp2.status == 200
    payment2 = decode_payment_header(resp2.body["payment"])
    assert payment2.expected_price == PriceInfo(3, 4)  # echoes the new price verbatim
    state2 = decode_state(resp2.body["state"])
    assert state2["SequenceNumber"] == 1
    n2 = len(payment2.nonces)
    expected = (
        n1 * 35 - Fraction(1000 * 150, 175) + n2 * 35 - Fraction(2500 * 150, 175)
    )  # initial price
    assert parse_rat(state2["Balance"]) == expected
    assert list(payment2.nonces) == list(range(n1 + 1, n1 + n2 + 1))  # nonces continue


def test_live_bills_elapsed_seconds() -> None:
    clock = FakeClock()
    signer = make_signer(clock)
    info = orch_info(exact_ev_params(35), (3, 1))
    resp = call(signer, info, type="live")
    state = decode_state(resp.body["state"])
    assert (
        len(decode_payment_header(resp.body["payment"]).nonces),
        state["Balance"],
        state["Type"],
    ) == (1, "5", "live")
    assert parse_time(state["LastUpdate"]) == T0
    clock.advance(12)
    resp = call(signer, info, type="live", ManifestID="m", state=resp.body["state"])
    state = decode_state(resp.body["state"])
    assert (
        len(decode_payment_header(resp.body["payment"]).nonces),
        state["Balance"],
        state["SequenceNumber"],
    ) == (1, "4", 1)


def test_lv2v_preloads_sixty_seconds() -> None:
    clock = FakeClock()
    signer = make_signer(clock)
    ev = 27_648_000 * 60  # exactly one minute of 720p30 pixels at 1 wei/pixel
    resp = call(signer, orch_info(exact_ev_params(ev)), type="lv2v")
    assert len(decode_payment_header(resp.body["payment"]).nonces) == 1
    assert decode_state(resp.body["state"])["Balance"] == "0"
    clock.advance(Fraction(1, 2))
    resp = call(
        signer,
        orch_info(exact_ev_params(ev)),
        type="lv2v",
        ManifestID="m",
        state=resp.body["state"],
    )
    assert decode_state(resp.body["state"])["Balance"] == str(ev - 27_648_000 // 2)


def test_fixed_bills_one_unit_and_allows_state() -> None:
    clock = FakeClock()
    signer = make_signer(clock)
    info = orch_info(exact_ev_params(3), (3, 1))
    max_price = {"price": 4, "currency": "wei", "unit": "fixed"}
    resp = call(signer, info, type="fixed", inPixels=1_000_000, maxPrice=max_price)
    payment = decode_payment_header(resp.body["payment"])
    state = decode_state(resp.body["state"])
    assert (
        len(payment.nonces),
        payment.expected_price,
        state["Type"],
        state["SequenceNumber"],
        state["Balance"],
    ) == (1, PriceInfo(3, 1), "fixed", 0, "0")
    resp2 = call(
        signer, info, type="fixed", maxPrice=max_price, ManifestID="m", state=resp.body["state"]
    )
    payment2 = decode_payment_header(resp2.body["payment"])
    assert payment2.nonces[0] != payment.nonces[0]
    assert decode_state(resp2.body["state"])["SequenceNumber"] == 1


def test_nonces_restart_for_new_params() -> None:
    clock = FakeClock()
    signer = make_signer(clock)
    resp = call(signer, orch_info(exact_ev_params(3), (3, 1)), type="fixed")
    resp = call(
        signer,
        orch_info(exact_ev_params(3), (3, 1)),
        type="fixed",
        ManifestID="m",
        state=resp.body["state"],
    )
    assert list(decode_payment_header(resp.body["payment"]).nonces) == [2]
    fresh = orch_info(exact_ev_params(3, rand_tag=b"H2"), (3, 1))
    resp = call(signer, fresh, type="fixed", ManifestID="m", state=resp.body["state"])
    assert list(decode_payment_header(resp.body["payment"]).nonces) == [1]


def test_payment_and_segment_credentials_bytes() -> None:
    signer = make_signer(FakeClock())
    params = exact_ev_params(3)
    info = orch_info(params, (3, 1))
    resp = call(signer, info, type="fixed", ManifestID="job-42")
    payment = decode_payment_header(resp.body["payment"])
    assert payment.sender == GATEWAY.address
    assert payment.expiration_params.creation_round == 100
    assert payment.ticket_params == WireTicketParams.from_params(params, with_expiration=False)
    for ticket, sig in zip(payment.tickets(), payment.sigs, strict=True):
        assert recover_address(ticket.hash(), sig) == GATEWAY.address
    seg = base64.b64decode(resp.body["segCreds"])
    assert resp.body["segCreds"] == segment_credentials(GATEWAY, "job-42", info.auth_token, b"")
    flatten = b"job-42" + bytes(32) + keccak256(b"")
    sig = seg[seg.index(b"\x2a\x41") + 2 : seg.index(b"\x2a\x41") + 67]  # field 5, 65 bytes
    assert recover_address(keccak256(flatten), sig) == GATEWAY.address
    assert b"\x22\x07invalid" in seg and b"job-42" in seg
    state_bytes = base64.b64decode(resp.body["state"]["State"])
    assert (
        recover_message_address(state_bytes, base64.b64decode(resp.body["state"]["Sig"]))
        == GATEWAY.address
    )


def test_auth_id_header_is_pinned() -> None:
    clock = FakeClock()
    signer = make_signer(clock)
    info = orch_info(exact_ev_params(3), (3, 1))
    resp = signer.generate_live_payment(
        request_body(info, type="fixed"), {"Signer-Auth-Id": "alice"}
    )
    assert decode_state(resp.body["state"])["AuthID"] == "alice"
    again = signer.generate_live_payment(
        request_body(info, type="fixed", ManifestID="m", state=resp.body["state"]),
        {"signer-auth-id": "mallory"},
    )
    assert (again.status, message(again)) == (500, "Internal Server Error")


def test_state_json_shape_and_times() -> None:
    state = RemotePaymentState(
        "abcd0123", ORCH, balance=Fraction(6000, 7), last_update_ns=T0 + 123_450_000
    )
    doc = json.loads(state.to_json())
    assert list(doc) == [
        "StateID",
        "PMSessionID",
        "LastUpdate",
        "OrchestratorAddress",
        "App",
        "AuthExpiry",
        "SenderNonce",
        "Balance",
        "InitialPricePerUnit",
        "InitialPixelsPerUnit",
        "Type",
        "SequenceNumber",
        "AuthID",
    ]
    assert doc["Balance"] == "6000/7" and doc["LastUpdate"].endswith(".12345Z")
    assert RemotePaymentState.from_json(state.to_json()) == state
    assert format_time(0) == "0001-01-01T00:00:00Z" and parse_time("0001-01-01T00:00:00Z") == 0
    assert parse_time("2026-08-18T20:47:20.5+02:00") == parse_time("2026-08-18T18:47:20.5Z")


# -- over HTTP on loopback -------------------------------------------------------------------


@pytest.fixture
def orchestrator() -> tuple[Recipient, InMemoryChain]:
    chain = InMemoryChain(
        l1_block=1000,
        round_=100,
        round_block_hashes={100: keccak256(b"round 100")},
        gas_price=10**9,
    )
    chain.default_sender_info = SenderInfo(10**18, 0, 10**18)
    return Recipient(ORCH, None, chain, RecipientConfig()), chain


def _info_from(recipient: Recipient, price: int) -> Any:
    params = recipient.ticket_params(GATEWAY.address, Fraction(price))
    return OrchestratorInfo(
        transcoder="http://orch.example",
        ticket_params=WireTicketParams.from_params(params, with_expiration=True),
        price_info=PriceInfo(price, 1),
        address=ORCH,
        auth_token=AuthToken(b"token", "session", T0 // 10**9 + 3600),
    )


def test_http_sequence_of_100_payments_is_accepted_by_the_recipient(orchestrator: Any) -> None:
    recipient, _ = orchestrator
    clock = FakeClock()
    server = LoopbackServer(make_signer(clock))
    try:
        reply = server.post("/sign-orchestrator-info", b"{}")
        assert reply.status == 200
        sig = bytes.fromhex(reply.body["signature"][2:])
        assert recover_address(keccak256(reply.body["address"].encode()), sig) == GATEWAY.address
        info = _info_from(recipient, 10**9)  # 1 gwei per second of live video
        ev = info.params().ev
        state: dict[str, str] | None = None
        nonces: list[int] = []
        credited = Fraction(0)
        billed = Fraction(10 * 10**9)  # the first live call pre-loads 10 s
        for i in range(100):
            body: dict[str, Any] = {"type": "live", "ManifestID": "job"}
            if state is not None:
                body["state"] = state
                clock.advance(5)
                billed += 5 * 10**9
            if i == 50:  # the orchestrator rotates its params mid-stream: nonces restart
                info = _info_from(recipient, 10**9)
            reply = server.post("/generate-live-payment", request_body(info, **body))
            if reply.status == 482:
                continue
            assert reply.status == 200, reply.body
            state = reply.body["state"]
            results = recipient.receive_payment(reply.body["payment"], manifest_id="job")
            assert results.ok and results.error is None
            credited += sum((ev for r in results if r.credited), Fraction(0))
            nonces.extend(r.nonce for r in results)
        before, after = nonces[: nonces.index(1, 1)], nonces[nonces.index(1, 1) :]
        assert before == list(range(1, len(before) + 1)) and after == list(range(1, len(after) + 1))
        assert recipient.balance(GATEWAY.address, "job") == credited
        assert state is not None
        carried = parse_rat(decode_state(state)["Balance"])
        assert carried is not None
        assert credited - billed == carried  # the signer's ledger is exact
        assert 0 <= carried < 2 * ev  # Go's 0-ticket rule keeps at most ~one spare ticket (#4077)
    finally:
        server.close()


def test_http_refusals_change_nothing() -> None:
    clock = FakeClock()
    server = LoopbackServer(make_signer(clock), auth_token="s3cret", max_body_bytes=16 * 1024)
    auth = {"Authorization": "Bearer s3cret"}
    try:
        info = orch_info(exact_ev_params(3), (3, 1))
        first = server.post("/generate-live-payment", request_body(info, type="fixed"), auth)
        assert first.status == 200
        state = first.body["state"]
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret"}):
            reply = server.post(
                "/generate-live-payment",
                request_body(info, type="fixed", ManifestID="m", state=state),
                headers,
            )
            assert reply.status == 401 and "bearer token" in reply.body["error"]["message"]
        assert server.post("/sign-orchestrator-info", b"{}").status == 401
        big = server.post("/generate-live-payment", b'{"app": "' + b"x" * 20_000 + b'"}', auth)
        assert big.status == 413
        assert server.post("/generate-live-payment", b"{oops", auth).status == 400
        tampered = dict(
            state,
            State=base64.b64encode(
                base64.b64decode(state["State"]).replace(b'"SenderNonce":1', b'"SenderNonce":0')
            ).decode(),
        )
        reply = server.post(
            "/generate-live-payment",
            request_body(info, type="fixed", ManifestID="m", state=tampered),
            auth,
        )
        assert (reply.status, reply.body["error"]["message"]) == (400, "invalid sig")
        # after all the refusals, the genuine state carries on exactly where it was
        reply = server.post(
            "/generate-live-payment",
            request_body(info, type="fixed", ManifestID="m", state=state),
            auth,
        )
        assert reply.status == 200
        assert list(decode_payment_header(reply.body["payment"]).nonces) == [2]
        assert decode_state(reply.body["state"])["SequenceNumber"] == 1
        assert reply.headers["Content-Type"].startswith("application/json")
    finally:
        server.close()


def test_deep_nesting_is_refused_before_parsing() -> None:
    signer = make_signer(FakeClock())
    deep = b'{"state":' * 300 + b"{}" + b"}" * 300
    assert message(signer.generate_live_payment(deep)) == "exceeded max depth"
    # brackets inside strings do not count as nesting
    stringy = json.dumps({"app": "[" * 1000, "type": "live"}).encode()
    assert message(signer.generate_live_payment(stringy)) == "missing orchestrator"


@pytest.mark.parametrize(
    ("doc", "job_type", "result"),
    [
        (
            {"price": _JsonFloatLike("101.2"), "currency": "wei", "unit": "seconds"},
            "live",
            Fraction(506, 5),
        ),
        ({"price": 7, "currency": "wei", "unit": "720p-pixel-seconds"}, "lv2v", Fraction(7)),
        ({"price": 3, "currency": "wei", "unit": "fixed"}, "fixed", Fraction(3)),
        (
            {"price": "wat", "currency": "wei", "unit": "fixed"},
            "fixed",
            "maxPrice.price must be a positive decimal",
        ),
        (
            {"price": -1, "currency": "wei", "unit": "fixed"},
            "fixed",
            "maxPrice.price must be a positive decimal",
        ),
        ({"price": 3, "unit": "fixed"}, "fixed", "maxPrice.currency must be wei"),
    ],
)
def test_parse_remote_payment_max_price(doc: dict[str, Any], job_type: str, result: Any) -> None:
    """go-livepeer's TestParseRemotePaymentMaxPrice."""
    from pm.signer.service import SignerRequestError, _Fields, _parse_max_price

    if isinstance(result, Fraction):
        assert _parse_max_price(_Fields(doc, "maxPrice"), job_type) == result
    else:
        with pytest.raises(SignerRequestError, match=result):
            _parse_max_price(_Fields(doc, "maxPrice"), job_type)


def test_http_sign_orchestrator_info_with_a_bearer_token() -> None:
    server = LoopbackServer(make_signer(FakeClock()), auth_token="t0ken")
    try:
        reply = server.post("/sign-orchestrator-info", b"{}", {"Authorization": "Bearer t0ken"})
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/json")
        assert reply.body["address"] == to_checksum_address(GATEWAY.address)
        sig = bytes.fromhex(reply.body["signature"].removeprefix("0x"))
        assert recover_address(keccak256(reply.body["address"].encode()), sig) == GATEWAY.address
    finally:
        server.close()
