"""The one exception hierarchy of pm, rooted at :class:`PMError`.

Bad input raises a subclass that is also a ``ValueError`` (wrong value) or ``TypeError``
(wrong type), so callers can catch either pm's or Python's idiom. Messages reproduce
go-livepeer's strings where one exists (spec/protocol.md §2.3, §5.4, §6.3, §7.3) and never
contain secrets.
"""

from __future__ import annotations


class PMError(Exception):
    """Base class of every error pm raises."""


class InvalidInput(PMError, ValueError):
    """A value has the right type but is out of range, the wrong length or malformed.

    ``name`` is the argument or field, ``value`` the offending value (never a secret).
    """

    def __init__(self, message: str, *, name: str = "", value: object = None) -> None:
        super().__init__(message)
        self.name = name
        self.value = value


class InvalidType(PMError, TypeError):
    """A value has the wrong Python type."""

    def __init__(self, message: str, *, name: str = "", value: object = None) -> None:
        super().__init__(message)
        self.name = name
        self.value = value


class NativeError(PMError):
    """The C core returned an unexpected status code (a bug or a broken installation)."""

    def __init__(self, function: str, code: int) -> None:
        super().__init__(f"{function} failed with status {code}")
        self.function = function
        self.code = code


# -- signatures (spec/protocol.md §2.3) ---------------------------------------------------


class InvalidSignature(InvalidInput):
    """A signature failed go-livepeer's checks; subclasses say which check, in check order."""


class InvalidSignatureLength(InvalidSignature):
    """The signature is not exactly 65 bytes."""

    def __init__(self, length: int) -> None:
        super().__init__("invalid signature length", name="sig", value=length)
        self.length = length


class SignatureSTooHigh(InvalidSignature):
    """s is above floor(N/2): go-livepeer accepts only low-s signatures."""

    def __init__(self, s: int) -> None:
        super().__init__("signature s value too high", name="sig", value=s)
        self.s = s


class InvalidSignatureV(InvalidSignature):
    """v is not 27 or 28."""

    def __init__(self, v: int) -> None:
        super().__init__("signature v value must be 27 or 28", name="sig", value=v)
        self.v = v


class UnrecoverableSignature(InvalidSignature):
    """libsecp256k1 could not recover a public key (r or s zero or >= N, no curve point)."""

    def __init__(self) -> None:
        super().__init__("invalid signature: public key recovery failed", name="sig")


class InvalidPrivateKey(InvalidInput):
    """The private key is not 32 bytes in [1, N)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid private key: {reason}", name="private_key")


# -- wire formats and calldata (spec/protocol.md §7.4, §9; owner: wire/abi helper) --------


class WireError(InvalidInput):
    """A wire message (``Livepeer-Payment`` header, protobuf bytes) is malformed.

    The message starts like go-livepeer's: "base64 decode error: …" or
    "protobuf unmarshal error: …" (spec/protocol.md §9.3).
    """


class Base64DecodeError(WireError):
    """The header value is not standard base64 with padding."""


class ProtobufDecodeError(WireError):
    """The bytes are not a valid protobuf message of the expected type, or a field holds a
    value pm cannot represent (an integer of 2**256 or more, a negative round, ...)."""


class CalldataError(InvalidInput):
    """TicketBroker calldata (or return data) is malformed or not canonically encoded."""


class UnknownSelector(CalldataError):
    """The 4-byte selector is not one of TicketBroker's functions."""


class PaymentError(PMError):
    """An orchestrator rejects a whole Payment before looking at its tickets
    (spec/protocol.md §5.6 steps 2, 4, 5). Always ``fatal``; the text is go-livepeer's."""

    fatal = True

    def __init__(self, message: str, *, name: str = "", value: object = None) -> None:
        super().__init__(message)
        self.name = name
        self.value = value
