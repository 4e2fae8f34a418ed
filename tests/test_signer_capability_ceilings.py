"""Per-capability ceilings through the whole signer request (go-livepeer's
TestGenerateLivePayment_RequestValidationErrors and _LV2V_Succeeds, remote-signer.md §6)."""

from __future__ import annotations

import base64
from fractions import Fraction

from signer_support import (
    FakeClock,
    decode_state,
    exact_ev_params,
    make_signer,
    orch_info,
    request_body,
)
from test_signer_capabilities import encode

from pm.signer.capabilities import LIVE_VIDEO_TO_VIDEO, CapabilityPrices


def _caps(model: str) -> str:
    return base64.b64encode(encode([(LIVE_VIDEO_TO_VIDEO, [model])], bitstring=(1 << 35,))).decode()


def test_a_model_capped_below_the_orchestrator_price_is_481() -> None:
    prices = CapabilityPrices.from_mapping({LIVE_VIDEO_TO_VIDEO: {"livepeer/model1": 200}})
    signer = make_signer(FakeClock(), max_price=Fraction(500), capability_prices=prices)
    info = orch_info(exact_ev_params(35), (300, 1))
    resp = signer.generate_live_payment(
        request_body(info, inPixels=1, capabilities=_caps("livepeer/model1"))
    )
    assert resp.status == 481
    assert resp.body["error"]["message"] == (
        "orchestrator price 300.000 exceeds configured max price ceiling 200.000"
    )
    # without capabilities the global 500 applies and 300 passes
    assert signer.generate_live_payment(request_body(info, inPixels=1)).status == 200


def test_a_model_capped_above_the_global_max_overrides_it() -> None:
    prices = CapabilityPrices.from_mapping({LIVE_VIDEO_TO_VIDEO: {"livepeer/model2": 500}})
    signer = make_signer(FakeClock(), max_price=Fraction(200), capability_prices=prices)
    info = orch_info(exact_ev_params(35), (300, 1))
    resp = signer.generate_live_payment(
        request_body(info, inPixels=1, capabilities=_caps("livepeer/model2"))
    )
    assert resp.status == 200, resp.body
    assert decode_state(resp.body["state"])["InitialPricePerUnit"] == 300
    plain = signer.generate_live_payment(request_body(info, inPixels=1))
    assert plain.status == 481  # the global 200 still applies to requests naming no model
