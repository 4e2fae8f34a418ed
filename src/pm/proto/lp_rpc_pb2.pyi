from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PriceInfo(_message.Message):
    __slots__ = ("pricePerUnit", "pixelsPerUnit", "capability", "constraint")
    PRICEPERUNIT_FIELD_NUMBER: _ClassVar[int]
    PIXELSPERUNIT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITY_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINT_FIELD_NUMBER: _ClassVar[int]
    pricePerUnit: int
    pixelsPerUnit: int
    capability: int
    constraint: str
    def __init__(self, pricePerUnit: _Optional[int] = ..., pixelsPerUnit: _Optional[int] = ..., capability: _Optional[int] = ..., constraint: _Optional[str] = ...) -> None: ...

class TicketExpirationParams(_message.Message):
    __slots__ = ("creation_round", "creation_round_block_hash")
    CREATION_ROUND_FIELD_NUMBER: _ClassVar[int]
    CREATION_ROUND_BLOCK_HASH_FIELD_NUMBER: _ClassVar[int]
    creation_round: int
    creation_round_block_hash: bytes
    def __init__(self, creation_round: _Optional[int] = ..., creation_round_block_hash: _Optional[bytes] = ...) -> None: ...

class TicketParams(_message.Message):
    __slots__ = ("recipient", "face_value", "win_prob", "recipient_rand_hash", "seed", "expiration_block", "expiration_params")
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    FACE_VALUE_FIELD_NUMBER: _ClassVar[int]
    WIN_PROB_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_RAND_HASH_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_BLOCK_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    recipient: bytes
    face_value: bytes
    win_prob: bytes
    recipient_rand_hash: bytes
    seed: bytes
    expiration_block: bytes
    expiration_params: TicketExpirationParams
    def __init__(self, recipient: _Optional[bytes] = ..., face_value: _Optional[bytes] = ..., win_prob: _Optional[bytes] = ..., recipient_rand_hash: _Optional[bytes] = ..., seed: _Optional[bytes] = ..., expiration_block: _Optional[bytes] = ..., expiration_params: _Optional[_Union[TicketExpirationParams, _Mapping]] = ...) -> None: ...

class TicketSenderParams(_message.Message):
    __slots__ = ("sender_nonce", "sig")
    SENDER_NONCE_FIELD_NUMBER: _ClassVar[int]
    SIG_FIELD_NUMBER: _ClassVar[int]
    sender_nonce: int
    sig: bytes
    def __init__(self, sender_nonce: _Optional[int] = ..., sig: _Optional[bytes] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("ticket_params", "sender", "expiration_params", "ticket_sender_params", "expected_price")
    TICKET_PARAMS_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    TICKET_SENDER_PARAMS_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_PRICE_FIELD_NUMBER: _ClassVar[int]
    ticket_params: TicketParams
    sender: bytes
    expiration_params: TicketExpirationParams
    ticket_sender_params: _containers.RepeatedCompositeFieldContainer[TicketSenderParams]
    expected_price: PriceInfo
    def __init__(self, ticket_params: _Optional[_Union[TicketParams, _Mapping]] = ..., sender: _Optional[bytes] = ..., expiration_params: _Optional[_Union[TicketExpirationParams, _Mapping]] = ..., ticket_sender_params: _Optional[_Iterable[_Union[TicketSenderParams, _Mapping]]] = ..., expected_price: _Optional[_Union[PriceInfo, _Mapping]] = ...) -> None: ...

class AuthToken(_message.Message):
    __slots__ = ("token", "session_id", "expiration")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_FIELD_NUMBER: _ClassVar[int]
    token: bytes
    session_id: str
    expiration: int
    def __init__(self, token: _Optional[bytes] = ..., session_id: _Optional[str] = ..., expiration: _Optional[int] = ...) -> None: ...

class OrchestratorInfo(_message.Message):
    __slots__ = ("transcoder", "ticket_params", "price_info", "address", "auth_token", "capabilities_prices")
    TRANSCODER_FIELD_NUMBER: _ClassVar[int]
    TICKET_PARAMS_FIELD_NUMBER: _ClassVar[int]
    PRICE_INFO_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    AUTH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_PRICES_FIELD_NUMBER: _ClassVar[int]
    transcoder: str
    ticket_params: TicketParams
    price_info: PriceInfo
    address: bytes
    auth_token: AuthToken
    capabilities_prices: _containers.RepeatedCompositeFieldContainer[PriceInfo]
    def __init__(self, transcoder: _Optional[str] = ..., ticket_params: _Optional[_Union[TicketParams, _Mapping]] = ..., price_info: _Optional[_Union[PriceInfo, _Mapping]] = ..., address: _Optional[bytes] = ..., auth_token: _Optional[_Union[AuthToken, _Mapping]] = ..., capabilities_prices: _Optional[_Iterable[_Union[PriceInfo, _Mapping]]] = ...) -> None: ...

class PaymentResult(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: OrchestratorInfo
    def __init__(self, info: _Optional[_Union[OrchestratorInfo, _Mapping]] = ...) -> None: ...

class OrchestratorRequest(_message.Message):
    __slots__ = ("address", "sig", "ignoreCapacityCheck")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SIG_FIELD_NUMBER: _ClassVar[int]
    IGNORECAPACITYCHECK_FIELD_NUMBER: _ClassVar[int]
    address: bytes
    sig: bytes
    ignoreCapacityCheck: bool
    def __init__(self, address: _Optional[bytes] = ..., sig: _Optional[bytes] = ..., ignoreCapacityCheck: _Optional[bool] = ...) -> None: ...

class SegData(_message.Message):
    __slots__ = ("manifestId", "seq", "hash", "profiles", "sig", "duration", "capabilities", "auth_token")
    MANIFESTID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    PROFILES_FIELD_NUMBER: _ClassVar[int]
    SIG_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    AUTH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    manifestId: bytes
    seq: int
    hash: bytes
    profiles: bytes
    sig: bytes
    duration: int
    capabilities: bytes
    auth_token: AuthToken
    def __init__(self, manifestId: _Optional[bytes] = ..., seq: _Optional[int] = ..., hash: _Optional[bytes] = ..., profiles: _Optional[bytes] = ..., sig: _Optional[bytes] = ..., duration: _Optional[int] = ..., capabilities: _Optional[bytes] = ..., auth_token: _Optional[_Union[AuthToken, _Mapping]] = ...) -> None: ...

class Ticket(_message.Message):
    __slots__ = ("ticket_params", "sender", "expiration_params", "sender_params", "recipient_rand")
    TICKET_PARAMS_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    EXPIRATION_PARAMS_FIELD_NUMBER: _ClassVar[int]
    SENDER_PARAMS_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_RAND_FIELD_NUMBER: _ClassVar[int]
    ticket_params: TicketParams
    sender: bytes
    expiration_params: TicketExpirationParams
    sender_params: TicketSenderParams
    recipient_rand: bytes
    def __init__(self, ticket_params: _Optional[_Union[TicketParams, _Mapping]] = ..., sender: _Optional[bytes] = ..., expiration_params: _Optional[_Union[TicketExpirationParams, _Mapping]] = ..., sender_params: _Optional[_Union[TicketSenderParams, _Mapping]] = ..., recipient_rand: _Optional[bytes] = ...) -> None: ...

class MaxFloatReq(_message.Message):
    __slots__ = ("sender",)
    SENDER_FIELD_NUMBER: _ClassVar[int]
    sender: bytes
    def __init__(self, sender: _Optional[bytes] = ...) -> None: ...

class MaxFloatUpdate(_message.Message):
    __slots__ = ("max_float",)
    MAX_FLOAT_FIELD_NUMBER: _ClassVar[int]
    max_float: bytes
    def __init__(self, max_float: _Optional[bytes] = ...) -> None: ...
