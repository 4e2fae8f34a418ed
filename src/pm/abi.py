"""TicketBroker calldata: encode and strictly decode every external function.

The layout is the standard Solidity ABI (spec/protocol.md §7.4, spec/ticketbroker.md §7),
produced and parsed with ``eth-abi``. Selectors are computed from the canonical signatures
(first 4 bytes of keccak256), never typed in.

Decoding is strict: an unknown selector, truncated data, trailing bytes, non-canonical
offsets (pointers that alias or skip data) and dirty padding all raise
:class:`~pm.errors.CalldataError`. A structural walk checks every head offset *before*
``eth-abi`` decodes (so aliased pointers cannot blow up memory), and the decoded values are
re-encoded and compared byte for byte with the input, so any input that is not exactly what
``encode_call`` would produce is rejected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as _abi_decode
from eth_abi.abi import encode as _abi_encode

from .crypto import keccak256
from .errors import CalldataError, InvalidInput, InvalidType, PMError, UnknownSelector
from .evm import check_address, check_bytes32, check_uint
from .ticket import Ticket

__all__ = [
    "FUNCTIONS",
    "TICKET_TUPLE",
    "DecodedCall",
    "Function",
    "Redemption",
    "decode_batch_redeem_winning_tickets",
    "decode_call",
    "decode_redeem_winning_ticket",
    "decode_result",
    "encode_batch_redeem_winning_tickets",
    "encode_call",
    "encode_redeem_winning_ticket",
    "encode_result",
    "function_by_name",
    "function_by_selector",
    "ticket_from_abi",
    "ticket_to_abi",
]

#: ABI type of the contract's ``Ticket`` struct (spec/ticketbroker.md §1).
TICKET_TUPLE = "(address,address,uint256,uint256,uint256,bytes32,bytes)"

#: Field names of the ``Ticket`` struct, in ABI order.
TICKET_FIELDS = (
    "recipient",
    "sender",
    "faceValue",
    "winProb",
    "senderNonce",
    "recipientRandHash",
    "auxData",
)


@dataclass(frozen=True, slots=True)
class Function:
    """One external TicketBroker function: its name, ABI input types and names, output types.

    ``signature`` is the canonical form hashed for the selector (tuples expanded, no names).
    """

    name: str
    inputs: tuple[str, ...]
    input_names: tuple[str, ...]
    outputs: tuple[str, ...] = ()

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(self.inputs)})"

    @property
    def selector(self) -> bytes:
        """First 4 bytes of keccak256(signature)."""
        return keccak256(self.signature.encode("ascii"))[:4]


_T = TICKET_TUPLE
_RESERVE_INFO = "(uint256,uint256)"

#: Every external/public TicketBroker function (spec/ticketbroker.md §7, 23 entries).
#: Parameter names follow the Solidity sources without their leading underscore.
FUNCTIONS: tuple[Function, ...] = (
    Function("fundDeposit", (), ()),
    Function("fundReserve", (), ()),
    Function("fundDepositAndReserve", ("uint256", "uint256"), ("depositAmount", "reserveAmount")),
    Function(
        "fundDepositAndReserveFor",
        ("address", "uint256", "uint256"),
        ("addr", "depositAmount", "reserveAmount"),
    ),
    Function("redeemWinningTicket", (_T, "bytes", "uint256"), ("ticket", "sig", "recipientRand")),
    Function(
        "batchRedeemWinningTickets",
        (f"{_T}[]", "bytes[]", "uint256[]"),
        ("tickets", "sigs", "recipientRands"),
    ),
    Function("unlock", (), ()),
    Function("cancelUnlock", (), ()),
    Function("withdraw", (), ()),
    Function("isUnlockInProgress", ("address",), ("sender",), ("bool",)),
    Function(
        "getSenderInfo",
        ("address",),
        ("sender",),
        ("(uint256,uint256)", _RESERVE_INFO),
    ),
    Function("getTicketHash", (_T,), ("ticket",), ("bytes32",)),
    Function(
        "claimableReserve", ("address", "address"), ("reserveHolder", "claimant"), ("uint256",)
    ),
    Function(
        "claimedReserve", ("address", "address"), ("reserveHolder", "claimant"), ("uint256",)
    ),
    Function("getReserveInfo", ("address",), ("reserveHolder",), (_RESERVE_INFO,)),
    Function("usedTickets", ("bytes32",), ("ticketHash",), ("bool",)),
    Function("unlockPeriod", (), (), ("uint256",)),
    Function("ticketValidityPeriod", (), (), ("uint256",)),
    Function("setUnlockPeriod", ("uint256",), ("unlockPeriod",)),
    Function("setTicketValidityPeriod", ("uint256",), ("ticketValidityPeriod",)),
    Function("controller", (), (), ("address",)),
    Function("targetContractId", (), (), ("bytes32",)),
    Function("setController", ("address",), ("controller",)),
)

_BY_NAME: dict[str, Function] = {f.name: f for f in FUNCTIONS}
_BY_SELECTOR: dict[bytes, Function] = {f.selector: f for f in FUNCTIONS}


def function_by_name(name: str) -> Function:
    """The :class:`Function` called ``name``; :class:`UnknownSelector` if there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise UnknownSelector(
            f"unknown TicketBroker function {name!r}", name="function", value=name
        ) from None


def function_by_selector(selector: bytes) -> Function:
    """The :class:`Function` whose selector is ``selector`` (4 bytes)."""
    try:
        return _BY_SELECTOR[bytes(selector)]
    except KeyError:
        raise UnknownSelector(
            f"unknown TicketBroker selector 0x{bytes(selector).hex()}",
            name="selector",
            value=bytes(selector),
        ) from None


# -- tickets ------------------------------------------------------------------------------


def ticket_to_abi(ticket: Ticket) -> tuple[bytes, bytes, int, int, int, bytes, bytes]:
    """The ``Ticket`` struct tuple for ``eth-abi``; auxData is §1.2's 0 or 64 bytes."""
    if not isinstance(ticket, Ticket):
        raise InvalidType(
            f"ticket must be a pm.Ticket, not {type(ticket).__name__}", name="ticket", value=ticket
        )
    return (
        ticket.recipient,
        ticket.sender,
        ticket.face_value,
        ticket.win_prob,
        ticket.sender_nonce,
        ticket.recipient_rand_hash,
        ticket.aux_data,
    )


def ticket_from_abi(value: Sequence[Any]) -> Ticket:
    """A :class:`~pm.ticket.Ticket` from a decoded ``Ticket`` struct tuple.

    auxData must be empty or ``u256(creationRound) || creationRoundBlockHash`` (§1.2). A
    64-byte auxData that is all zeros is rejected: pm's Ticket would re-encode it as empty
    auxData, which hashes differently. Nonces must fit uint32 and rounds int64, as in
    go-livepeer.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 7:
        raise InvalidType(
            "a Ticket struct must be a sequence of 7 fields", name="ticket", value=value
        )
    recipient, sender, face_value, win_prob, nonce, rand_hash, aux = value
    for name, field_value in (("senderNonce", nonce), ("faceValue", face_value)):
        if isinstance(field_value, bool) or not isinstance(field_value, int):
            raise InvalidType(f"ticket {name} must be an int", name=name, value=field_value)
    if not isinstance(aux, bytes | bytearray):
        raise InvalidType("ticket auxData must be bytes", name="auxData", value=aux)
    aux = bytes(aux)
    if len(aux) == 0:
        creation_round, block_hash = 0, bytes(32)
    elif len(aux) == 64:
        creation_round = int.from_bytes(aux[:32], "big")
        block_hash = aux[32:]
        if creation_round == 0 and block_hash == bytes(32):
            raise CalldataError(
                "ticket auxData of 64 zero bytes cannot be represented by a pm Ticket",
                name="auxData",
                value=aux,
            )
        if creation_round >= 2**63:
            raise CalldataError(
                f"ticket creationRound {creation_round} does not fit int64",
                name="creationRound",
                value=creation_round,
            )
    else:
        raise CalldataError(
            f"ticket auxData must be 0 or 64 bytes, got {len(aux)}", name="auxData", value=aux
        )
    if nonce >= 2**32:
        raise CalldataError(
            f"ticket senderNonce {nonce} does not fit uint32", name="senderNonce", value=nonce
        )
    return Ticket(
        recipient=_address(recipient),
        sender=_address(sender),
        face_value=face_value,
        win_prob=win_prob,
        sender_nonce=nonce,
        recipient_rand_hash=bytes(rand_hash) if isinstance(rand_hash, bytearray) else rand_hash,
        creation_round=creation_round,
        creation_round_block_hash=block_hash,
    )


def _address(value: object) -> bytes:
    """eth-abi decodes addresses as 0x-hex strings; pm keeps 20 raw bytes."""
    if isinstance(value, str):
        try:
            return check_address("address", bytes.fromhex(value.removeprefix("0x")))
        except ValueError as exc:
            raise InvalidInput(f"invalid address {value!r}", name="address", value=value) from exc
    return check_address("address", value)


# -- generic calls ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DecodedCall:
    """Decoded calldata: the function and its arguments.

    Arguments are pm values: addresses as 20-byte ``bytes``, integers as ``int``, ``bytes32``
    and ``bytes`` as ``bytes``, ``Ticket`` structs as :class:`~pm.ticket.Ticket`, arrays as
    tuples. ``args`` is in ABI order; :meth:`arg` looks one up by its Solidity name.
    """

    function: Function
    args: tuple[Any, ...]

    @property
    def name(self) -> str:
        return self.function.name

    def arg(self, name: str) -> Any:
        try:
            return self.args[self.function.input_names.index(name)]
        except ValueError:
            raise InvalidInput(
                f"{self.function.name} has no argument {name!r}", name="name", value=name
            ) from None

    def named_args(self) -> dict[str, Any]:
        return dict(zip(self.function.input_names, self.args, strict=True))


def _to_abi(typ: str, value: Any, name: str) -> Any:
    """Convert one pm value to what eth-abi encodes, validating it on the way."""
    if typ == TICKET_TUPLE:
        return ticket_to_abi(value)
    if typ.endswith("[]"):
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise InvalidType(f"{name} must be a sequence", name=name, value=value)
        return [_to_abi(typ[:-2], v, name) for v in value]
    if typ == "address":
        return check_address(name, value)
    if typ == "bytes32":
        return check_bytes32(name, value)
    if typ == "uint256":
        return check_uint(name, value)
    if typ == "bytes":
        if isinstance(value, bytearray | memoryview):
            value = bytes(value)
        if not isinstance(value, bytes):
            raise InvalidType(f"{name} must be bytes", name=name, value=value)
        return value
    raise InvalidInput(f"unsupported ABI type {typ}", name=name, value=typ)  # pragma: no cover


def _from_abi(typ: str, value: Any) -> Any:
    """Convert one eth-abi decoded value to pm's representation."""
    if typ == TICKET_TUPLE:
        return ticket_from_abi(value)
    if typ.endswith("[]"):
        return tuple(_from_abi(typ[:-2], v) for v in value)
    if typ == "address":
        return _address(value)
    if typ.startswith("(") and typ.endswith(")"):
        inner = _split_tuple(typ)
        return tuple(_from_abi(t, v) for t, v in zip(inner, value, strict=True))
    if isinstance(value, bytearray):
        return bytes(value)
    return value


def encode_call(name: str, *args: Any) -> bytes:
    """Calldata (selector followed by the ABI-encoded arguments) for function ``name``.

    ``Ticket`` arguments are :class:`~pm.ticket.Ticket` objects; arrays any sequence.
    """
    fn = function_by_name(name)
    if len(args) != len(fn.inputs):
        raise InvalidInput(
            f"{name} takes {len(fn.inputs)} arguments, got {len(args)}",
            name="args",
            value=len(args),
        )
    converted = [
        _to_abi(typ, arg, argname)
        for typ, arg, argname in zip(fn.inputs, args, fn.input_names, strict=True)
    ]
    try:
        return fn.selector + _abi_encode(list(fn.inputs), converted)
    except PMError:
        raise
    except Exception as exc:  # eth-abi's EncodingError and friends
        raise InvalidInput(f"cannot encode {name}: {exc}", name="args", value=None) from exc


def _as_bytes(data: object, what: str) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidType(
            f"{what} must be bytes, not {type(data).__name__}", name="data", value=data
        )
    return bytes(data)


def decode_call(data: bytes | bytearray | memoryview) -> DecodedCall:
    """Decode calldata of any TicketBroker function, strictly (see the module docstring)."""
    data = _as_bytes(data, "calldata")
    if len(data) < 4:
        raise CalldataError(
            f"calldata too short: {len(data)} bytes, a selector needs 4", name="data", value=data
        )
    fn = function_by_selector(data[:4])
    body = data[4:]
    raw = _strict_decode(fn.inputs, body, what=fn.name)
    return DecodedCall(fn, tuple(_from_abi(t, v) for t, v in zip(fn.inputs, raw, strict=True)))


def _strict_decode(types: Sequence[str], body: bytes, *, what: str) -> tuple[Any, ...]:
    """eth-abi decode guarded by the canonical-layout walk and a re-encode comparison."""
    nodes = [_parse_type(t) for t in types]
    end = _walk(nodes, body, 0)
    if end != len(body):
        raise CalldataError(
            f"{what}: {len(body) - end} trailing bytes after the arguments",
            name="data",
            value=len(body) - end,
        )
    try:
        raw = _abi_decode(list(types), body, strict=True)
    except Exception as exc:  # eth_abi DecodingError, NonEmptyPaddingBytes, ...
        raise CalldataError(f"{what}: malformed ABI data: {exc}", name="data", value=None) from exc
    try:
        again = _abi_encode(list(types), list(raw))
    except Exception as exc:  # pragma: no cover - decoded values always re-encode
        raise CalldataError(f"{what}: cannot re-encode: {exc}", name="data", value=None) from exc
    if again != body:
        raise CalldataError(f"{what}: non-canonical ABI encoding", name="data", value=None)
    return raw


# -- canonical layout walk ----------------------------------------------------------------
# A node is ("word",) for a 32-byte static value, ("bytes",), ("array", node) or
# ("tuple", [nodes]). Every type in the TicketBroker ABI is one of these; all its tuples
# contain ``bytes`` and are therefore dynamic, except the static ones in outputs.

_Node = tuple[Any, ...]


def _split_tuple(typ: str) -> list[str]:
    """Split ``(a,b,(c,d))`` into its top-level component types."""
    inner = typ[1:-1]
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
    if inner:
        parts.append(inner[start:])
    return parts


def _parse_type(typ: str) -> _Node:
    if typ.endswith("[]"):
        return ("array", _parse_type(typ[:-2]))
    if typ.startswith("("):
        return ("tuple", [_parse_type(t) for t in _split_tuple(typ)])
    if typ in ("bytes", "string"):
        return ("bytes",)
    return ("word",)


def _is_dynamic(node: _Node) -> bool:
    if node[0] in ("bytes", "array"):
        return True
    if node[0] == "tuple":
        return any(_is_dynamic(n) for n in node[1])
    return False


def _head_size(node: _Node) -> int:
    if _is_dynamic(node):
        return 32
    if node[0] == "tuple":
        return sum(_head_size(n) for n in node[1])
    return 32


def _word(data: bytes, pos: int) -> int:
    if pos + 32 > len(data):
        raise CalldataError(
            f"truncated calldata: need 32 bytes at offset {pos}, have {max(0, len(data) - pos)}",
            name="data",
            value=pos,
        )
    return int.from_bytes(data[pos : pos + 32], "big")


def _walk(nodes: Sequence[_Node], data: bytes, base: int) -> int:
    """Check the head/tail layout of ``nodes`` encoded at ``base``; return where it ends.

    In canonical encoding each dynamic component's offset points exactly at the end of the
    previous component's tail (the first at the end of the head), so no two pointers alias
    and no bytes are skipped.
    """
    head = base
    tail = base + sum(_head_size(n) for n in nodes)
    if tail > len(data):
        raise CalldataError(
            f"truncated calldata: head needs {tail - base} bytes at offset {base}",
            name="data",
            value=base,
        )
    for node in nodes:
        if _is_dynamic(node):
            offset = _word(data, head)
            if offset != tail - base:
                raise CalldataError(
                    f"non-canonical offset {offset} at {head}, expected {tail - base}",
                    name="data",
                    value=offset,
                )
            tail = _walk_dynamic(node, data, tail)
            head += 32
        else:
            head += _head_size(node)
    return tail


def _walk_dynamic(node: _Node, data: bytes, pos: int) -> int:
    if node[0] == "bytes":
        length = _word(data, pos)
        end = pos + 32 + (length + 31) // 32 * 32
        if end > len(data):
            raise CalldataError(
                f"truncated calldata: bytes of length {length} at offset {pos}",
                name="data",
                value=length,
            )
        return end
    if node[0] == "array":
        count = _word(data, pos)
        elem = node[1]
        if pos + 32 + count * _head_size(elem) > len(data):
            raise CalldataError(
                f"truncated calldata: array of {count} elements at offset {pos}",
                name="data",
                value=count,
            )
        return _walk([elem] * count, data, pos + 32)
    return _walk(node[1], data, pos)


# -- redemption ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Redemption:
    """One ticket as the contract redeems it: the ticket, the signature bytes as sent and the
    revealed ``recipient_rand`` (uint256)."""

    ticket: Ticket
    sig: bytes
    recipient_rand: int


def encode_redeem_winning_ticket(ticket: Ticket, sig: bytes, recipient_rand: int) -> bytes:
    """``redeemWinningTicket(ticket, sig, recipientRand)`` calldata (§7.4 layout)."""
    return encode_call("redeemWinningTicket", ticket, sig, recipient_rand)


def decode_redeem_winning_ticket(data: bytes | bytearray | memoryview) -> Redemption:
    """Strictly decode ``redeemWinningTicket`` calldata."""
    call = decode_call(data)
    if call.name != "redeemWinningTicket":
        raise UnknownSelector(
            f"expected redeemWinningTicket calldata, got {call.name}",
            name="selector",
            value=call.function.selector,
        )
    ticket, sig, rand = call.args
    return Redemption(ticket, sig, rand)


def encode_batch_redeem_winning_tickets(redemptions: Sequence[Redemption]) -> bytes:
    """``batchRedeemWinningTickets(tickets, sigs, recipientRands)`` calldata."""
    items = list(redemptions)
    for r in items:
        if not isinstance(r, Redemption):
            raise InvalidType(
                f"redemptions must be Redemption objects, not {type(r).__name__}",
                name="redemptions",
                value=r,
            )
    return encode_call(
        "batchRedeemWinningTickets",
        [r.ticket for r in items],
        [r.sig for r in items],
        [r.recipient_rand for r in items],
    )


def decode_batch_redeem_winning_tickets(
    data: bytes | bytearray | memoryview,
) -> tuple[Redemption, ...]:
    """Strictly decode ``batchRedeemWinningTickets`` calldata into redemptions.

    The three arrays must have equal lengths (the contract would panic on shorter ``sigs``
    or ``recipientRands`` and ignore extra elements; pm refuses both).
    """
    call = decode_call(data)
    if call.name != "batchRedeemWinningTickets":
        raise UnknownSelector(
            f"expected batchRedeemWinningTickets calldata, got {call.name}",
            name="selector",
            value=call.function.selector,
        )
    tickets, sigs, rands = call.args
    if not len(tickets) == len(sigs) == len(rands):
        raise CalldataError(
            "batchRedeemWinningTickets arrays differ in length: "
            f"{len(tickets)} tickets, {len(sigs)} sigs, {len(rands)} recipientRands",
            name="data",
            value=(len(tickets), len(sigs), len(rands)),
        )
    return tuple(Redemption(t, s, r) for t, s, r in zip(tickets, sigs, rands, strict=True))


# -- return data --------------------------------------------------------------------------


def encode_result(name: str, *values: Any) -> bytes:
    """ABI-encoded return data of view function ``name`` (for tests and the fake chain)."""
    fn = function_by_name(name)
    if not fn.outputs:
        raise InvalidInput(f"{name} returns nothing", name="function", value=name)
    try:
        return _abi_encode(list(fn.outputs), list(values))
    except Exception as exc:
        raise InvalidInput(
            f"cannot encode {name} result: {exc}", name="values", value=None
        ) from exc


def decode_result(name: str, data: bytes | bytearray | memoryview) -> tuple[Any, ...]:
    """Strictly decode the return data of view function ``name`` (e.g. ``getSenderInfo``
    gives ``((deposit, withdrawRound), (fundsRemaining, claimedInCurrentRound))``)."""
    fn = function_by_name(name)
    if not fn.outputs:
        raise InvalidInput(f"{name} returns nothing", name="function", value=name)
    raw = _strict_decode(fn.outputs, _as_bytes(data, "return data"), what=f"{name} result")
    return tuple(_from_abi(t, v) for t, v in zip(fn.outputs, raw, strict=True))
