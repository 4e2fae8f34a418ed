"""pm: Livepeer probabilistic micropayments, byte-for-byte like go-livepeer and TicketBroker.

The C core (``pm._native``, built with cffi) hashes, signs, recovers and checks wins; this
package wraps it in validated, typed values. See DESIGN.md for the layers.
"""

from __future__ import annotations

from .errors import PMError
from .ticket import (
    BatchCheck,
    ExpirationParams,
    SignedTicket,
    SigStatus,
    Ticket,
    TicketBatch,
    TicketParams,
    is_winning,
    validate_batch,
)

__version__ = "0.1.0"

__all__ = [
    "BatchCheck",
    "ExpirationParams",
    "PMError",
    "SigStatus",
    "SignedTicket",
    "Ticket",
    "TicketBatch",
    "TicketParams",
    "__version__",
    "is_winning",
    "validate_batch",
]

# -- roles: sender and recipient (issue 4) --
from .chain import (
    InMemoryChain,
    MaxFloatSource,
    RecipientChainView,
    SenderChainView,
    SenderInfo,
    WinningTicketSink,
)
from .recipient import MemoryWinningTicketSink, ReceiveResult, Recipient, RecipientConfig
from .sender import Sender, SpendingPolicy

__all__ += [
    "InMemoryChain",
    "MaxFloatSource",
    "MemoryWinningTicketSink",
    "ReceiveResult",
    "Recipient",
    "RecipientChainView",
    "RecipientConfig",
    "Sender",
    "SenderChainView",
    "SenderInfo",
    "SpendingPolicy",
    "WinningTicketSink",
]

# -- wire formats and calldata (issue 6) --
from .wire import OrchestratorInfo, Payment, PriceInfo  # noqa: E402

__all__ += ["OrchestratorInfo", "Payment", "PriceInfo"]

# -- settlement: reference TicketBroker, ticket store, redemption (issue 5) --
from .broker import BrokerChain, ContractTicket, TicketBroker  # noqa: E402
from .redemption import RedemptionPolicy, RedemptionQueue, SenderMonitor  # noqa: E402
from .store import MemoryTicketStore, SQLiteTicketStore, TicketState, TicketStore  # noqa: E402

__all__ += [
    "BrokerChain",
    "ContractTicket",
    "MemoryTicketStore",
    "RedemptionPolicy",
    "RedemptionQueue",
    "SQLiteTicketStore",
    "SenderMonitor",
    "TicketBroker",
    "TicketState",
    "TicketStore",
]

# -- threaded batch paths (issue 7) --
from .parallel import sign_tickets_threaded, validate_batch_threaded  # noqa: E402

__all__ += ["sign_tickets_threaded", "validate_batch_threaded"]

# -- batch verification of same-sender tickets, one multi-scalar multiplication (issue 10) --
from .batchverify import validate_batch_same_sender  # noqa: E402

__all__ += ["validate_batch_same_sender"]
