"""``pm signer``: a remote signer compatible with go-livepeer's (spec/remote-signer.md).

The request logic (:class:`RemoteSigner`) needs only the core library; the HTTP front end
(:func:`pm.signer.app.create_app`) needs the ``pm[signer]`` extra (aiohttp).
"""

from __future__ import annotations

from .capabilities import (
    CapabilityPrices,
    NetCapabilities,
    configured_max_price,
    parse_capabilities,
)
from .chainview import ChainFile, ChainSnapshot, JsonRpcChain
from .client import (
    PaymentCredentials,
    PaymentSession,
    RemoteSignerError,
    SkipPaymentCycle,
    orchestrator_info_signature,
)
from .service import (
    RemoteSigner,
    SignerConfig,
    SignerRequestError,
    SignerResponse,
    segment_credentials,
)
from .state import RemotePaymentState, parse_rat, rat_string
from .webhook import WebhookConfig

__all__ = [
    "CapabilityPrices",
    "ChainFile",
    "ChainSnapshot",
    "JsonRpcChain",
    "NetCapabilities",
    "PaymentCredentials",
    "PaymentSession",
    "RemotePaymentState",
    "RemoteSigner",
    "RemoteSignerError",
    "SignerConfig",
    "SignerRequestError",
    "SignerResponse",
    "SkipPaymentCycle",
    "WebhookConfig",
    "configured_max_price",
    "orchestrator_info_signature",
    "parse_capabilities",
    "parse_rat",
    "rat_string",
    "segment_credentials",
]
