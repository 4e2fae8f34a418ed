"""Which capabilities and models a remote-signer request names, and the price ceiling go-livepeer
configures for them (spec/remote-signer.md §2.4, §2.9).

A gateway may send ``capabilities``: serialized go-livepeer ``net.Capabilities``. go-livepeer's
signer unmarshals it (a failure is a 400), converts it to ``core.Capabilities`` and asks
``BroadcastCfg.GetCapabilitiesMaxPrice`` for the *configured* ceiling: the sum of the
``-maxPricePerCapability`` maxima of every (capability, model) the request's constraints name, or
the global ``-maxPricePerUnit/-pixelsPerUnit`` when none of them is priced.

This module decodes the protobuf wire format itself with a small strict reader (no generated code:
``src/pm/proto/lp_rpc.proto`` keeps ``Capabilities`` opaque), following the decoding rules of
protobuf-go, which go-livepeer uses: a known field with an unexpected wire type is skipped as an
unknown field; map entries with a repeated key keep the last one; proto3 ``string`` fields and map
keys must be valid UTF-8; ``uint32`` fields keep the low 32 bits of the varint. Every malformed
input raises :class:`~pm.errors.ProtobufDecodeError` and nothing else.

Message layout (go-livepeer ``net/lp_rpc.proto``)::

    message Capabilities {
      repeated uint64 bitstring = 1; repeated uint64 mandatories = 2;
      map<uint32, uint32> capacities = 3; string version = 4; Constraints constraints = 5;
      message Constraints { string minVersion = 1;
                            map<uint32, CapabilityConstraints> PerCapability = 2; }
      message CapabilityConstraints {
        message ModelConstraint { bool warm = 1; uint32 capacity = 2; string runnerVersion = 3;
                                  uint32 capacityInUse = 4; }
        map<string, ModelConstraint> models = 1;
      }
    }
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from pm.errors import InvalidInput, InvalidType, ProtobufDecodeError

__all__ = [
    "CAPABILITY_NAMES",
    "LIVE_VIDEO_TO_VIDEO",
    "UNUSED",
    "CapabilityPrices",
    "NetCapabilities",
    "capability_from_pipeline",
    "configured_max_price",
    "parse_capabilities",
]

# go-livepeer core/capabilities.go: the Capability enum (iota - 2) and CapabilityNameLookup.
UNUSED = -1  # Capability_Unused: BroadcastConfig keeps the global max price under it
LIVE_VIDEO_TO_VIDEO = 35  # Capability_LiveVideoToVideo
CAPABILITY_NAMES: Mapping[int, str] = {
    -2: "Invalid",
    -1: "Unused",
    0: "H.264",
    1: "MPEGTS",
    2: "MP4",
    3: "Fractional framerates",
    4: "Storage direct",
    5: "Storage S3",
    6: "Storage GCS",
    7: "H264 Baseline profile",
    8: "H264 Main profile",
    9: "H264 High profile",
    10: "H264 Constained High profile",  # sic, as in go-livepeer
    11: "GOP",
    12: "Auth token",
    # 13 (SceneClassification, deprecated) has no name in the lookup
    14: "MPEG7 signature",
    15: "HEVC decode",
    16: "HEVC encode",
    17: "VP8 decode",
    18: "VP9 decode",
    19: "VP8 encode",
    20: "VP9 encode",
    21: "H264 Decode YUV444 8-bit",
    22: "H264 Decode YUV422 8-bit",
    23: "H264 Decode YUV444 10-bit",
    24: "H264 Decode YUV422 10-bit",
    25: "H264 Decode YUV420 10-bit",
    26: "Segment slicing",
    27: "Text to image",
    28: "Image to image",
    29: "Image to video",
    30: "Upscale",
    31: "Audio to text",
    32: "Segment anything 2",
    33: "Llm",
    34: "Image to text",
    35: "Live video to video",
    36: "Text to speech",
}
_NAME_TO_CAPABILITY = {name: cap for cap, name in CAPABILITY_NAMES.items()}
_DEFAULT_MODEL = "default"

# ---------------------------------------------------------------------------------------------
# protobuf wire format (protobuf-go's protowire rules)

_VARINT, _FIXED64, _BYTES, _START_GROUP, _END_GROUP, _FIXED32 = 0, 1, 2, 3, 4, 5
_MAX_FIELD_NUMBER = (1 << 29) - 1
_MAX_GROUP_DEPTH = 10_000  # protowire.DefaultRecursionLimit
_U32 = 0xFFFFFFFF


def _fail(reason: str, offset: int) -> ProtobufDecodeError:
    """``value`` is the byte offset where decoding failed."""
    return ProtobufDecodeError(
        f"protobuf unmarshal error: net.Capabilities: {reason} at byte {offset}",
        name="capabilities",
        value=offset,
    )


class _Reader:
    """Bounds-checked cursor over ``buf[pos:end]``."""

    __slots__ = ("buf", "end", "pos")

    def __init__(self, buf: bytes, pos: int, end: int) -> None:
        self.buf = buf
        self.pos = pos
        self.end = end

    def more(self) -> bool:
        return self.pos < self.end

    def varint(self) -> int:
        """At most 10 bytes; the 10th may only be 0 or 1 (value < 2**64), as protowire."""
        buf, pos, end = self.buf, self.pos, self.end
        value = 0
        for i in range(10):
            if pos >= end:
                raise _fail("truncated varint", pos)
            byte = buf[pos]
            pos += 1
            if i == 9:
                if byte > 1:
                    raise _fail("varint overflows 64 bits", pos - 1)
                value |= byte << 63
                break
            value |= (byte & 0x7F) << (7 * i)
            if byte < 0x80:
                break
        self.pos = pos
        return value

    def tag(self) -> tuple[int, int]:
        start = self.pos
        key = self.varint()
        number = key >> 3
        if number < 1 or number > _MAX_FIELD_NUMBER:
            raise _fail(f"invalid field number {number}", start)
        return number, key & 7

    def take(self, n: int) -> int:
        """Advance ``n`` bytes; return where they start."""
        start = self.pos
        if n > self.end - start:
            raise _fail("truncated field", start)
        self.pos = start + n
        return start

    def sub(self) -> _Reader:
        """A length-delimited payload as its own reader (this one moves past it)."""
        n = self.varint()
        start = self.take(n)
        return _Reader(self.buf, start, start + n)

    def text(self) -> str:
        """A proto3 string: valid UTF-8 required."""
        payload = self.sub()
        try:
            return self.buf[payload.pos : payload.end].decode("utf-8")
        except UnicodeDecodeError:
            raise _fail("string field contains invalid UTF-8", payload.pos) from None

    def skip(self, number: int, wire_type: int) -> None:
        """Skip a field value (protowire.ConsumeFieldValue), groups included."""
        groups: list[int] = []
        while True:
            if wire_type == _VARINT:
                self.varint()
            elif wire_type == _FIXED64:
                self.take(8)
            elif wire_type == _BYTES:
                self.take(self.varint())
            elif wire_type == _FIXED32:
                self.take(4)
            elif wire_type == _START_GROUP:
                if len(groups) >= _MAX_GROUP_DEPTH:
                    raise _fail("groups nested too deeply", self.pos)
                groups.append(number)
            elif wire_type == _END_GROUP:
                if not groups or groups[-1] != number:
                    raise _fail(f"unexpected end of group {number}", self.pos)
                groups.pop()
            else:
                raise _fail(f"invalid wire type {wire_type}", self.pos)
            if not groups:
                return
            if not self.more():
                raise _fail("truncated group", self.pos)
            number, wire_type = self.tag()


def _uint64s(r: _Reader, wire_type: int, out: list[int]) -> bool:
    """A repeated uint64 field, packed or not; False when the wire type is foreign."""
    if wire_type == _VARINT:
        out.append(r.varint())
    elif wire_type == _BYTES:
        packed = r.sub()
        while packed.more():
            out.append(packed.varint())
    else:
        return False
    return True


def _uint32_entry(r: _Reader) -> tuple[int, int]:
    """A ``map<uint32, uint32>`` entry (missing key/value are 0)."""
    key = value = 0
    while r.more():
        number, wire_type = r.tag()
        if number == 1 and wire_type == _VARINT:
            key = r.varint() & _U32
        elif number == 2 and wire_type == _VARINT:
            value = r.varint() & _U32
        else:
            r.skip(number, wire_type)
    return key, value


def _model_constraint(r: _Reader) -> None:
    """``ModelConstraint``: only checked (its values do not affect prices)."""
    while r.more():
        number, wire_type = r.tag()
        if number in (1, 2, 4) and wire_type == _VARINT:
            r.varint()
        elif number == 3 and wire_type == _BYTES:
            r.text()
        else:
            r.skip(number, wire_type)


def _model_entry(r: _Reader) -> str:
    """A ``map<string, ModelConstraint>`` entry; returns the model id."""
    key = ""
    while r.more():
        number, wire_type = r.tag()
        if number == 1 and wire_type == _BYTES:
            key = r.text()
        elif number == 2 and wire_type == _BYTES:
            _model_constraint(r.sub())
        else:
            r.skip(number, wire_type)
    return key


def _capability_constraints(r: _Reader, models: set[str]) -> None:
    """``CapabilityConstraints`` merged into ``models``."""
    while r.more():
        number, wire_type = r.tag()
        if number == 1 and wire_type == _BYTES:
            models.add(_model_entry(r.sub()))
        else:
            r.skip(number, wire_type)


def _per_capability_entry(r: _Reader) -> tuple[int, set[str]]:
    """A ``map<uint32, CapabilityConstraints>`` entry; repeated values within it merge."""
    key = 0
    models: set[str] = set()
    while r.more():
        number, wire_type = r.tag()
        if number == 1 and wire_type == _VARINT:
            key = r.varint() & _U32
        elif number == 2 and wire_type == _BYTES:
            _capability_constraints(r.sub(), models)
        else:
            r.skip(number, wire_type)
    return key, models


@dataclass(frozen=True, slots=True)
class NetCapabilities:
    """The decoded ``net.Capabilities`` (the parts pm reads).

    ``per_capability`` holds, sorted, each capability id of ``constraints.PerCapability`` with the
    sorted model ids of its ``models`` map; ``has_constraints`` says whether field 5 was present.
    """

    bitstring: tuple[int, ...] = ()
    mandatories: tuple[int, ...] = ()
    capacities: tuple[tuple[int, int], ...] = ()
    version: str = ""
    min_version: str = ""
    has_constraints: bool = False
    per_capability: tuple[tuple[int, tuple[str, ...]], ...] = ()

    def models(self) -> tuple[tuple[int, str], ...]:
        """Every (capability id, model id) pair the constraints name, sorted."""
        return tuple((cap, model) for cap, models in self.per_capability for model in models)


def parse_capabilities(data: bytes | bytearray | memoryview) -> NetCapabilities:
    """Decode serialized ``net.Capabilities``; :class:`ProtobufDecodeError` if malformed."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InvalidType("capabilities must be bytes", name="capabilities", value=data)
    buf = bytes(data)
    r = _Reader(buf, 0, len(buf))
    bitstring: list[int] = []
    mandatories: list[int] = []
    capacities: dict[int, int] = {}
    version = min_version = ""
    has_constraints = False
    per_capability: dict[int, set[str]] = {}
    while r.more():
        number, wire_type = r.tag()
        if number == 1 and _uint64s(r, wire_type, bitstring):
            continue
        if number == 2 and _uint64s(r, wire_type, mandatories):
            continue
        if number == 3 and wire_type == _BYTES:
            key, value = _uint32_entry(r.sub())
            capacities[key] = value
        elif number == 4 and wire_type == _BYTES:
            version = r.text()
        elif number == 5 and wire_type == _BYTES:
            has_constraints = True  # repeated occurrences merge, as for any singular message
            c = r.sub()
            while c.more():
                cnum, cwire = c.tag()
                if cnum == 1 and cwire == _BYTES:
                    min_version = c.text()
                elif cnum == 2 and cwire == _BYTES:
                    cap, models = _per_capability_entry(c.sub())
                    per_capability[cap] = models  # a repeated key replaces the entry
                else:
                    c.skip(cnum, cwire)
        else:
            r.skip(number, wire_type)
    return NetCapabilities(
        bitstring=tuple(bitstring),
        mandatories=tuple(mandatories),
        capacities=tuple(sorted(capacities.items())),
        version=version,
        min_version=min_version,
        has_constraints=has_constraints,
        per_capability=tuple(
            (cap, tuple(sorted(models))) for cap, models in sorted(per_capability.items())
        ),
    )


# ---------------------------------------------------------------------------------------------
# -maxPricePerCapability


def capability_from_pipeline(pipeline: str) -> int:
    """go-livepeer ``core.PipelineToCapability``: upper-case the first byte, turn the other ``-``
    into spaces, and look the result up in ``CapabilityNameLookup`` ("live-video-to-video" → 35)."""
    if not isinstance(pipeline, str):
        raise InvalidType("pipeline must be a string", name="pipeline", value=pipeline)
    name = pipeline[:1].upper() + pipeline[1:].replace("-", " ")
    cap = _NAME_TO_CAPABILITY.get(name) if pipeline else None
    if cap is None:
        raise InvalidInput(
            f"Pipeline in 'maxPricePerCapability' config is not valid capability: {pipeline}",
            name="pipeline",
            value=pipeline,
        )
    return cap


_JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")
_MAX_EXPONENT = 10_000  # refuse 1e999999999-style numbers instead of building huge integers


def _json_rat(text: str) -> Fraction:
    """A JSON number token, exactly (go-livepeer ``core.JSONRat`` uses big.Rat.SetString)."""
    m = _JSON_NUMBER.match(text)
    if m is None:
        raise InvalidInput(f"value is not a number: {text}", name="price", value=text)
    if m.group(3) is not None and abs(int(m.group(3)[1:])) > _MAX_EXPONENT:
        raise InvalidInput(f"number exponent out of range: {text}", name="price", value=text)
    return Fraction(text)


def _rat(value: object, name: str) -> Fraction | None:
    """A price field of an already-decoded document: int, Fraction or None (absent); no floats."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, Fraction)):
        raise InvalidType(f"{name} must be a number (int or Fraction)", name=name, value=value)
    return Fraction(value)


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """Field lookup the way encoding/json matches names: exact first, then case-insensitive
    (the last matching key wins, as later duplicates overwrite earlier ones)."""
    if key in obj:
        return obj[key]
    found = None
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == key:
            found = v
    return found


def _str_field(entry: Mapping[str, Any], key: str) -> str:
    value = _get(entry, key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidType(f"{key} must be a string", name=key, value=value)
    return value


def _currency_factor(currency: str) -> int:
    """go-livepeer ``core.NewAutoConvertedPrice``: "" / "wei" as is, "eth" × 1e18 (any case);
    other currencies need a price feed, which pm does not have."""
    lower = currency.lower()
    if lower in ("", "wei"):
        return 1
    if lower == "eth":
        return 10**18
    raise InvalidInput(
        f"currency {currency!r} needs a price feed; pm supports wei and eth only",
        name="currency",
        value=currency,
    )


@dataclass(frozen=True, slots=True)
class CapabilityPrices:
    """go-livepeer's ``-maxPricePerCapability`` table: capability id → model id (or "default")
    → max price in wei per unit (pixel or second), as ``BroadcastConfig.maxPricePerCapability``.

    ``entries`` holds (capability, model id, price) sorted, one per (capability, model); prices
    are positive (go-livepeer never stores a non-positive one from its config).
    """

    entries: tuple[tuple[int, str, Fraction], ...] = ()
    _table: dict[int, dict[str, Fraction]] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        if not isinstance(self.entries, tuple):
            raise InvalidType("entries must be a tuple", name="entries", value=self.entries)
        table: dict[int, dict[str, Fraction]] = {}
        for entry in self.entries:
            if not (isinstance(entry, tuple) and len(entry) == 3):
                raise InvalidType(
                    "entry must be (capability, model, price)", name="entry", value=entry
                )
            cap, model, price = entry
            if isinstance(cap, bool) or not isinstance(cap, int):
                raise InvalidType("capability must be an int", name="capability", value=cap)
            if not isinstance(model, str):
                raise InvalidType("model id must be a string", name="model", value=model)
            if not isinstance(price, Fraction):
                raise InvalidType(
                    "price must be a Fraction (wei per unit)", name="price", value=price
                )
            if price <= 0:
                raise InvalidInput("price must be positive", name="price", value=price)
            if model in table.get(cap, {}):
                raise InvalidInput(
                    "duplicate (capability, model) entry", name="entry", value=(cap, model)
                )
            table.setdefault(cap, {})[model] = price
        if list(self.entries) != sorted(self.entries):
            raise InvalidInput("entries must be sorted", name="entries", value=self.entries)
        object.__setattr__(self, "_table", table)

    @classmethod
    def from_mapping(cls, prices: Mapping[int, Mapping[str, Fraction | int]]) -> CapabilityPrices:
        """From ``{capability: {model id or "default": wei per unit}}``."""
        entries = []
        for cap, models in prices.items():
            for model, price in models.items():
                rat = _rat(price, "price")
                entries.append((cap, model, rat if rat is not None else Fraction(0)))
        return cls(tuple(sorted(entries)))

    @classmethod
    def from_json(
        cls,
        doc: str | bytes | Mapping[str, Any],
        *,
        max_price_per_unit: Fraction | int | None = None,
        pixels_per_unit: int = 1,
    ) -> CapabilityPrices:
        """Parse go-livepeer's ``-maxPricePerCapability`` document::

            {"capabilities_prices": [{"pipeline": "live-video-to-video", "model_id": "m",
              "price_per_unit": 1000, "pixels_per_unit": 1, "currency": "wei"}, ...]}

        as ``cmd/livepeer/starter`` does (``getCapabilityPrices`` then the broadcaster set-up):
        ``model_id`` "" → "default"; ``pixels_per_unit`` absent or ≤ 0 → ``pixels_per_unit``
        (the ``-pixelsPerUnit`` flag, default 1); ``price_per_unit`` absent or ≤ 0 →
        ``max_price_per_unit`` (the ``-maxPricePerUnit`` flag, raw, before the division) when it
        is > 0, else the entry is skipped; then the pipeline must name a capability;
        max = price / pixels, × 1e18 for currency "eth"; a later entry for the same
        (capability, model) replaces an earlier one.

        Deliberate difference: go-livepeer logs a malformed document and runs with no
        per-capability prices; pm raises :class:`InvalidInput` / :class:`InvalidType` instead.
        """
        if isinstance(pixels_per_unit, bool) or not isinstance(pixels_per_unit, int):
            raise InvalidType(
                "pixels_per_unit must be an int", name="pixels_per_unit", value=pixels_per_unit
            )
        if pixels_per_unit <= 0:
            raise InvalidInput(
                "-pixelsPerUnit must be > 0", name="pixels_per_unit", value=pixels_per_unit
            )
        global_price = _rat(max_price_per_unit, "max_price_per_unit") or Fraction(0)
        if isinstance(doc, (str, bytes)):
            try:
                parsed = json.loads(
                    doc,
                    parse_int=_json_rat,
                    parse_float=_json_rat,
                    parse_constant=_reject_constant,
                )
            except (ValueError, RecursionError) as exc:
                if isinstance(exc, InvalidInput):
                    raise
                raise InvalidInput(
                    f"model prices could not be parsed: {exc}", name="doc", value=doc
                ) from exc
        else:
            parsed = doc
        if not isinstance(parsed, Mapping):
            raise InvalidType(
                "maxPricePerCapability must be a JSON object", name="doc", value=parsed
            )
        items = _get(parsed, "capabilities_prices")
        if items is None:
            items = []
        if not isinstance(items, list):
            raise InvalidType(
                "capabilities_prices must be a list", name="capabilities_prices", value=items
            )
        table: dict[tuple[int, str], Fraction] = {}
        for entry in items:
            if entry is None:
                entry = {}
            if not isinstance(entry, Mapping):
                raise InvalidType(
                    "capabilities_prices entry must be an object", name="entry", value=entry
                )
            pipeline = _str_field(entry, "pipeline")
            model = _str_field(entry, "model_id") or _DEFAULT_MODEL
            currency = _str_field(entry, "currency")
            pixels = _rat(_get(entry, "pixels_per_unit"), "pixels_per_unit")
            price = _rat(_get(entry, "price_per_unit"), "price_per_unit")
            if pixels is None or pixels <= 0:
                pixels = Fraction(pixels_per_unit)
            if price is None or price <= 0:
                if global_price <= 0:
                    continue  # go-livepeer: "gateway is currently set to accept ANY price"
                price = global_price
            cap = capability_from_pipeline(pipeline)
            table[(cap, model)] = price / pixels * _currency_factor(currency)
        return cls(tuple(sorted((cap, model, price) for (cap, model), price in table.items())))

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        max_price_per_unit: Fraction | int | None = None,
        pixels_per_unit: int = 1,
    ) -> CapabilityPrices:
        """Read a ``-maxPricePerCapability`` JSON file (see :meth:`from_json`)."""
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(
                f"cannot read maxPricePerCapability file {str(path)!r}: {exc}",
                name="path",
                value=path,
            ) from exc
        return cls.from_json(
            text, max_price_per_unit=max_price_per_unit, pixels_per_unit=pixels_per_unit
        )

    def lookup(self, capability: int, model: str) -> Fraction | None:
        """go-livepeer ``getCapabilityMaxPrice``: the model's own max, else the capability's
        "default", else None."""
        models = self._table.get(capability)
        if models is None:
            return None
        price = models.get(model)
        return price if price is not None else models.get(_DEFAULT_MODEL)


def _reject_constant(name: str) -> Fraction:
    raise InvalidInput(f"invalid character in JSON: {name}", name="doc", value=name)


def configured_max_price(
    global_max: Fraction | None,
    prices: CapabilityPrices | None,
    capabilities: bytes | bytearray | memoryview | NetCapabilities,
) -> Fraction | None:
    """The "configured" ceiling of §2.9 for one request, in wei per unit, or None for none.

    go-livepeer ``BroadcastConfig.GetCapabilitiesMaxPrice`` (server/broadcast.go): with no
    capabilities, ``global_max`` (``-maxPricePerUnit/-pixelsPerUnit``); otherwise the sum, over
    every (capability, model id) of ``constraints.PerCapability``, of that model's max price or
    its capability's "default" one (unpriced models add nothing); a zero sum (nothing priced)
    falls back to the global one. The bitstring does not matter, only the constraints.
    An entry for the pipeline "unused" with model "default" replaces the global max, as it does
    in go-livepeer (both live in the same table under Capability_Unused).
    ``capabilities`` is the request's raw bytes (b"" when absent) or, to decode only once,
    what :func:`parse_capabilities` returned for them at §2.4.
    Malformed ``capabilities`` raise :class:`ProtobufDecodeError` (the signer's 400).
    """
    if global_max is not None and not isinstance(global_max, Fraction):
        raise InvalidType(
            "global_max must be a Fraction or None", name="global_max", value=global_max
        )
    if prices is not None and not isinstance(prices, CapabilityPrices):
        raise InvalidType("prices must be CapabilityPrices or None", name="prices", value=prices)
    base = global_max
    if prices is not None:
        override = prices._table.get(UNUSED, {}).get(_DEFAULT_MODEL)
        if override is not None:
            base = override
    if isinstance(capabilities, NetCapabilities):
        caps = capabilities
    elif not isinstance(capabilities, (bytes, bytearray, memoryview)):
        raise InvalidType("capabilities must be bytes", name="capabilities", value=capabilities)
    elif len(capabilities) == 0:
        return base
    else:
        caps = parse_capabilities(capabilities)
    if prices is None:
        return base
    total = Fraction(0)
    for cap, model in caps.models():
        price = prices.lookup(cap, model)
        if price is not None:
            total += price
    return total if total != 0 else base
