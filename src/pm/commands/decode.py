"""``pm decode VALUE [--json]``: explain TicketBroker calldata or a ``Livepeer-Payment`` header.

VALUE is either ``0x``-hex calldata of any TicketBroker function (spec/ticketbroker.md §7) or
the base64 value of a ``Livepeer-Payment`` header (spec/protocol.md §9.3). For every ticket it
shows the ticket hash, the recovered signer, whether the signature is the sender's, and, when
the recipientRand is known (redemption calldata), whether the ticket wins (§3) and whether the
recipientRand matches its commitment.

The ``--json`` form is one object with ``kind`` ("calldata" or "payment"), ``function``
(the TicketBroker function, or "Payment") and ``tickets``; integers that can exceed 2**53 are
decimal strings, addresses EIP-55, byte strings 0x-hex. Bad input exits with status 2 and a
one-line message.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .. import abi, wire
from ..crypto import bytes_from_hex, keccak256, recover_address, to_checksum_address
from ..errors import InvalidSignature, PMError
from ..ticket import Ticket, is_winning

_JS_SAFE = 2**53


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "decode",
        help="decode TicketBroker calldata (0x-hex) or a Livepeer-Payment header (base64)",
        description=(
            "Decode 0x-hex calldata of any TicketBroker function or the base64 value of a "
            "Livepeer-Payment header, and check every ticket's hash, signer and (with a "
            "known recipientRand) win."
        ),
    )
    parser.add_argument("value", metavar="VALUE", help="0x-hex calldata or a base64 header value")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    try:
        report = decode_value(str(args.value))
    except PMError as exc:
        return _fail(str(exc))
    except Exception as exc:  # never a traceback for bad input
        return _fail(f"cannot decode VALUE: {type(exc).__name__}: {exc}")
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(_text(report))
    return 0


def _fail(message: str) -> int:
    one_line = " ".join(message.split())
    print(f"pm decode: error: {one_line}", file=sys.stderr)
    return 2


# -- building the report --------------------------------------------------------------------


def decode_value(value: str) -> dict[str, Any]:
    """The JSON-ready report for VALUE (calldata if it starts with 0x, else a header)."""
    value = value.strip()
    if value[:2] in ("0x", "0X"):
        return _calldata_report(bytes_from_hex(value, name="calldata"))
    return _payment_report(wire.decode_payment_header(value))


def _int(n: int) -> int | str:
    """JSON integers only where every reader keeps them exact (|n| <= 2**53)."""
    return n if -_JS_SAFE <= n <= _JS_SAFE else str(n)


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _ticket_report(ticket: Ticket, sig: bytes | None, rand: int | None) -> dict[str, Any]:
    ticket_hash = ticket.hash()
    signer: bytes | None = None
    if sig is not None:
        try:
            signer = recover_address(ticket_hash, sig)
        except InvalidSignature:
            signer = None
    out: dict[str, Any] = {
        "recipient": to_checksum_address(ticket.recipient),
        "sender": to_checksum_address(ticket.sender),
        "face_value": str(ticket.face_value),
        "win_prob": str(ticket.win_prob),
        "sender_nonce": ticket.sender_nonce,
        "recipient_rand_hash": _hex(ticket.recipient_rand_hash),
        "creation_round": _int(ticket.creation_round),
        "creation_round_block_hash": _hex(ticket.creation_round_block_hash),
        "ticket_hash": _hex(ticket_hash),
        "signature": _hex(sig) if sig is not None else None,
        "signer": to_checksum_address(signer) if signer is not None else None,
        "signature_valid": signer is not None and signer == ticket.sender,
        "won": None,
    }
    if sig is not None and rand is not None:
        out["won"] = is_winning(sig, rand, ticket.win_prob)
    if rand is not None:
        out["recipient_rand"] = str(rand)
        commitment = keccak256(rand.to_bytes(32, "big"))
        out["recipient_rand_matches"] = commitment == ticket.recipient_rand_hash
    return out


def _arg_json(typ: str, value: Any) -> Any:
    if typ == abi.TICKET_TUPLE:
        return _ticket_report(value, None, None)
    if typ.endswith("[]"):
        return [_arg_json(typ[:-2], v) for v in value]
    if typ == "address":
        return to_checksum_address(value)
    if isinstance(value, bytes):
        return _hex(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    return value  # pragma: no cover - every input type is handled above


def _calldata_report(data: bytes) -> dict[str, Any]:
    call = abi.decode_call(data)
    fn = call.function
    report: dict[str, Any] = {
        "kind": "calldata",
        "function": fn.name,
        "signature": fn.signature,
        "selector": _hex(fn.selector),
    }
    if fn.name == "redeemWinningTicket":
        r = abi.decode_redeem_winning_ticket(data)
        report["tickets"] = [_ticket_report(r.ticket, r.sig, r.recipient_rand)]
    elif fn.name == "batchRedeemWinningTickets":
        tickets, sigs, rands = call.args
        # The contract loops over the tickets; a shorter sigs/rands array reverts the batch.
        report["tickets"] = [
            _ticket_report(
                t,
                sigs[i] if i < len(sigs) else None,
                rands[i] if i < len(rands) else None,
            )
            for i, t in enumerate(tickets)
        ]
        if not len(tickets) == len(sigs) == len(rands):
            report["warning"] = (
                f"array lengths differ: {len(tickets)} tickets, {len(sigs)} sigs, "
                f"{len(rands)} recipientRands"
            )
    elif fn.name == "getTicketHash":
        report["tickets"] = [_ticket_report(call.args[0], None, None)]
    else:
        report["tickets"] = []
        report["args"] = {
            name: _arg_json(typ, value)
            for name, typ, value in zip(fn.input_names, fn.inputs, call.args, strict=True)
        }
    return report


def _price_json(p: wire.PriceInfo | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "price_per_unit": _int(p.price_per_unit),
        "pixels_per_unit": _int(p.pixels_per_unit),
        "capability": p.capability,
        "constraint": p.constraint,
    }


def _payment_report(payment: wire.Payment) -> dict[str, Any]:
    report: dict[str, Any] = {"kind": "payment", "function": "Payment"}
    tp = payment.ticket_params
    report["sender"] = to_checksum_address(payment.sender) if payment.sender is not None else None
    report["expected_price"] = _price_json(payment.expected_price)
    if tp is not None:
        report["ticket_params"] = {
            "recipient": to_checksum_address(tp.recipient),
            "face_value": str(tp.face_value),
            "win_prob": str(tp.win_prob),
            "recipient_rand_hash": _hex(tp.recipient_rand_hash),
            "seed": str(tp.seed),
            "expiration_block": str(tp.expiration_block),
        }
    exp = payment.expiration_params
    report["expiration_params"] = (
        None
        if exp is None
        else {
            "creation_round": _int(exp.creation_round),
            "creation_round_block_hash": _hex(exp.creation_round_block_hash),
        }
    )
    if tp is None:
        # go-livepeer accepts a Payment without ticket params as free and never looks at its
        # ticket_sender_params (§5.6 step 3): there are no tickets to report.
        report["tickets"] = []
        ignored = f" ({len(payment)} ticket sender params ignored)" if len(payment) else ""
        report["note"] = f"no ticket params: a free payment{ignored}"
    else:
        report["tickets"] = [
            _ticket_report(t, sig, None)
            for t, sig in zip(payment.tickets(), payment.sigs, strict=True)
        ]
    return report


# -- text form ------------------------------------------------------------------------------


def _text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    if report["kind"] == "calldata":
        lines.append(f"function: {report['signature']} selector {report['selector']}")
        for name, value in report.get("args", {}).items():
            lines.append(f"  {name}: {value}")
    else:
        lines.append("Livepeer-Payment (net.Payment)")
        for key in ("sender", "expected_price", "ticket_params", "expiration_params"):
            value = report.get(key)
            if isinstance(value, dict):
                lines.append(f"  {key}:")
                lines.extend(f"    {k}: {_text_value(v)}" for k, v in value.items())
            else:
                lines.append(f"  {key}: {_text_value(value)}")
    for key in ("note", "warning"):
        if key in report:
            lines.append(f"{key}: {report[key]}")
    tickets = report["tickets"]
    lines.append(f"tickets: {len(tickets)}")
    for i, t in enumerate(tickets):
        lines.append(f"ticket {i}:")
        lines.extend(f"  {k}: {_text_value(v)}" for k, v in t.items())
    return "\n".join(lines)


def _text_value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    text = str(v)
    # Strings from the wire (a PriceInfo constraint) are the sender's: escape anything that
    # could start a forged line, drive the terminal or fail to encode on an ASCII stdout.
    return text if text.isascii() and text.isprintable() else ascii(text)
