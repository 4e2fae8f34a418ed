"""pm.signer.capabilities: net.Capabilities decoding and go-livepeer's configured max price.

Capabilities bytes are produced by an independent encoder: the protobuf runtime with a descriptor
built here from go-livepeer's ``net/lp_rpc.proto`` (``Capabilities`` and its nested messages), so
pm's hand-written reader is checked against the reference implementation's wire format.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from hypothesis import given, settings
from hypothesis import strategies as st

from pm.errors import InvalidInput, InvalidType, PMError, ProtobufDecodeError
from pm.signer.capabilities import (
    LIVE_VIDEO_TO_VIDEO,
    CapabilityPrices,
    NetCapabilities,
    capability_from_pipeline,
    configured_max_price,
    parse_capabilities,
)

DATA = Path(__file__).parent / "data" / "signer_capability_prices.json"

# -- reference encoder: go-livepeer net.Capabilities through the protobuf runtime -------------

_F = descriptor_pb2.FieldDescriptorProto


def _field(
    name: str, number: int, ftype: int, label: int = _F.LABEL_OPTIONAL, type_name: str = ""
) -> descriptor_pb2.FieldDescriptorProto:
    f = descriptor_pb2.FieldDescriptorProto(name=name, number=number, type=ftype, label=label)
    if type_name:
        f.type_name = type_name
    return f


def _map_entry(
    name: str, key: int, value: int, value_type: str = ""
) -> descriptor_pb2.DescriptorProto:
    entry = descriptor_pb2.DescriptorProto(name=name)
    entry.field.append(_field("key", 1, key))
    entry.field.append(_field("value", 2, value, type_name=value_type))
    entry.options.map_entry = True
    return entry


def _build_capabilities_class() -> type[Message]:
    rep = _F.LABEL_REPEATED
    fd = descriptor_pb2.FileDescriptorProto(
        name="pm_test_caps.proto", package="net", syntax="proto3"
    )
    caps = fd.message_type.add(name="Capabilities")
    caps.field.extend(
        [
            _field("bitstring", 1, _F.TYPE_UINT64, rep),
            _field("mandatories", 2, _F.TYPE_UINT64, rep),
            _field("capacities", 3, _F.TYPE_MESSAGE, rep, ".net.Capabilities.CapacitiesEntry"),
            _field("version", 4, _F.TYPE_STRING),
            _field("constraints", 5, _F.TYPE_MESSAGE, type_name=".net.Capabilities.Constraints"),
        ]
    )
    caps.nested_type.append(_map_entry("CapacitiesEntry", _F.TYPE_UINT32, _F.TYPE_UINT32))
    cons = caps.nested_type.add(name="Constraints")
    cons.field.extend(
        [
            _field("minVersion", 1, _F.TYPE_STRING),
            _field(
                "PerCapability",
                2,
                _F.TYPE_MESSAGE,
                rep,
                ".net.Capabilities.Constraints.PerCapabilityEntry",
            ),
        ]
    )
    cons.nested_type.append(
        _map_entry(
            "PerCapabilityEntry",
            _F.TYPE_UINT32,
            _F.TYPE_MESSAGE,
            ".net.Capabilities.CapabilityConstraints",
        )
    )
    cc = caps.nested_type.add(name="CapabilityConstraints")
    cc.field.append(
        _field(
            "models", 1, _F.TYPE_MESSAGE, rep, ".net.Capabilities.CapabilityConstraints.ModelsEntry"
        )
    )
    cc.nested_type.append(
        _map_entry(
            "ModelsEntry",
            _F.TYPE_STRING,
            _F.TYPE_MESSAGE,
            ".net.Capabilities.CapabilityConstraints.ModelConstraint",
        )
    )
    mc = cc.nested_type.add(name="ModelConstraint")
    mc.field.extend(
        [
            _field("warm", 1, _F.TYPE_BOOL),
            _field("capacity", 2, _F.TYPE_UINT32),
            _field("runnerVersion", 3, _F.TYPE_STRING),
            _field("capacityInUse", 4, _F.TYPE_UINT32),
        ]
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    cls: type[Message] = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("net.Capabilities")
    )
    return cls


PbCapabilities = _build_capabilities_class()


def encode(
    per_capability: list[tuple[int, list[str]]] | None,
    *,
    bitstring: tuple[int, ...] = (),
    capacities: dict[int, int] | None = None,
    version: str = "",
    min_version: str = "",
    warm: bool = False,
) -> bytes:
    """``core.Capabilities.ToNetCapabilities`` style bytes (constraints present when given)."""
    msg: Any = PbCapabilities()
    msg.bitstring.extend(bitstring)
    for k, v in (capacities or {}).items():
        msg.capacities[k] = v
    msg.version = version
    if per_capability is not None:
        msg.constraints.SetInParent()
        msg.constraints.minVersion = min_version
        for cap, models in per_capability:
            entry = msg.constraints.PerCapability[cap]
            entry.SetInParent()
            for model in models:
                mc = entry.models[model]
                mc.warm = warm
                mc.capacity = 1
    data: bytes = msg.SerializeToString()
    return data


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def ld(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def vf(number: int, value: int) -> bytes:
    """A varint field."""
    return varint(number << 3) + varint(value)


def model(name: bytes) -> bytes:
    return ld(1, name) + ld(2, vf(1, 1))


# -- data-driven: go-livepeer's test situations and the pricing rules ------------------------


def _rat(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)


def _cases() -> list[dict[str, Any]]:
    doc = json.loads(DATA.read_text(), parse_float=Fraction)
    cases: list[dict[str, Any]] = doc["cases"]
    return cases


@pytest.mark.parametrize("case", _cases(), ids=lambda c: c["name"])
def test_configured_max_price_vectors(case: dict[str, Any]) -> None:
    flags = dict(case.get("flags", {}))
    if "max_price_per_unit" in flags:
        flags["max_price_per_unit"] = Fraction(flags["max_price_per_unit"])
    prices = None if case["prices"] is None else CapabilityPrices.from_json(case["prices"], **flags)
    caps = (
        b""
        if case["capabilities"] is None
        else encode([(c, list(m)) for c, m in case["capabilities"]])
    )
    got = configured_max_price(_rat(case["global_max"]), prices, caps)
    assert got == _rat(case["expected"])
    if "orch_price" in case:  # §2.9: 481 when the O price is above the ceiling
        assert got is not None
        assert (Fraction(case["orch_price"]) > got) is case["rejected"]


def test_go_request_validation_table_setup_directly() -> None:
    """The Go test's BroadcastCfg: SetMaxPrice(500/1), SetCapabilityMaxPrice(LV2V, model1, 200)."""
    prices = CapabilityPrices.from_mapping({LIVE_VIDEO_TO_VIDEO: {"livepeer/model1": 200}})
    caps = encode([(LIVE_VIDEO_TO_VIDEO, ["livepeer/model1"])], bitstring=(1 << 35,))
    assert configured_max_price(Fraction(500), prices, caps) == 200
    assert configured_max_price(Fraction(500), prices, b"") == 500
    assert configured_max_price(None, None, b"") is None
    assert configured_max_price(Fraction(500), None, caps) == 500


def test_text_document_is_parsed_exactly() -> None:
    text = (
        '{"capabilities_prices": [{"pipeline": "live-video-to-video", "model_id": "m",'
        ' "price_per_unit": 0.1, "pixels_per_unit": 3e0},'
        ' {"Pipeline": "llm", "price_per_unit": 12.5e1, "currency": "Wei"}]}'
    )
    prices = CapabilityPrices.from_json(text)
    assert prices.entries == (
        (33, "default", Fraction(125)),
        (35, "m", Fraction(1, 30)),
    )
    assert CapabilityPrices.from_json(text.encode()) == prices
    assert prices.lookup(33, "anything") == 125
    assert prices.lookup(35, "other") is None
    assert prices.lookup(27, "m") is None


def test_from_file(tmp_path: Path) -> None:
    path = tmp_path / "caps.json"
    path.write_text(
        '{"capabilities_prices": [{"pipeline": "text-to-image", "model_id": "sd",'
        ' "price_per_unit": 9}]}'
    )
    assert CapabilityPrices.from_file(path).entries == ((27, "sd", Fraction(9)),)
    with pytest.raises(InvalidInput, match="cannot read"):
        CapabilityPrices.from_file(tmp_path / "missing.json")


def test_empty_documents() -> None:
    assert CapabilityPrices.from_json("{}").entries == ()
    assert CapabilityPrices.from_json('{"capabilities_prices": null}').entries == ()


@pytest.mark.parametrize(
    ("doc", "error", "match"),
    [
        ("{not json", InvalidInput, "could not be parsed"),
        ("[]", InvalidType, "JSON object"),
        ('{"capabilities_prices": {}}', InvalidType, "must be a list"),
        ('{"capabilities_prices": [1]}', InvalidType, "entry must be an object"),
        (
            '{"capabilities_prices": [{"pipeline": "no-such-pipeline", "price_per_unit": 1}]}',
            InvalidInput,
            "not valid capability",
        ),
        (
            '{"capabilities_prices": [{"pipeline": "", "price_per_unit": 1}]}',
            InvalidInput,
            "not valid capability",
        ),
        (
            '{"capabilities_prices": [{"pipeline": "llm", "price_per_unit": "1"}]}',
            InvalidType,
            "price_per_unit",
        ),
        (
            '{"capabilities_prices": [{"pipeline": "llm", "price_per_unit": NaN}]}',
            InvalidInput,
            "NaN",
        ),
        (
            '{"capabilities_prices": [{"pipeline": 5, "price_per_unit": 1}]}',
            InvalidType,
            "pipeline",
        ),
        (
            '{"capabilities_prices": [{"pipeline": "llm", "price_per_unit":1, "currency": "usd"}]}',
            InvalidInput,
            "price feed",
        ),
        (
            '{"capabilities_prices": [{"pipeline": "llm", "price_per_unit": 1e99999}]}',
            InvalidInput,
            "exponent",
        ),
    ],
)
def test_bad_documents_raise(doc: str, error: type[PMError], match: str) -> None:
    with pytest.raises(error, match=match):
        CapabilityPrices.from_json(doc)


def test_go_skips_unpriced_entries_before_checking_the_pipeline() -> None:
    """starter.go checks the price (and `continue`s) before PipelineToCapability."""
    doc = '{"capabilities_prices": [{"pipeline": "bogus"}]}'
    assert CapabilityPrices.from_json(doc).entries == ()
    with pytest.raises(InvalidInput, match="not valid capability"):
        CapabilityPrices.from_json(doc, max_price_per_unit=5)


def test_flag_arguments_are_checked() -> None:
    with pytest.raises(InvalidInput):
        CapabilityPrices.from_json("{}", pixels_per_unit=0)
    with pytest.raises(InvalidType):
        CapabilityPrices.from_json("{}", pixels_per_unit=True)
    with pytest.raises(InvalidType):
        CapabilityPrices.from_json("{}", max_price_per_unit=1.5)  # type: ignore[arg-type]


def test_capability_prices_invariants() -> None:
    with pytest.raises(InvalidInput, match="positive"):
        CapabilityPrices.from_mapping({35: {"m": 0}})
    with pytest.raises(InvalidType):
        CapabilityPrices.from_mapping({35: {"m": 1.5}})  # type: ignore[dict-item]
    with pytest.raises(InvalidType):
        CapabilityPrices(((35, "m", 2),))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="sorted"):
        CapabilityPrices(((35, "m", Fraction(1)), (27, "m", Fraction(1))))
    with pytest.raises(InvalidInput, match="duplicate"):
        CapabilityPrices(((35, "m", Fraction(1)), (35, "m", Fraction(2))))


@pytest.mark.parametrize(
    ("pipeline", "cap"),
    [
        ("live-video-to-video", 35),
        ("text-to-image", 27),
        ("image-to-image", 28),
        ("image-to-video", 29),
        ("upscale", 30),
        ("audio-to-text", 31),
        ("segment-anything-2", 32),
        ("llm", 33),
        ("image-to-text", 34),
        ("text-to-speech", 36),
        ("Live-video-to-video", 35),  # only the first letter is upper-cased
        ("unused", -1),
    ],
)
def test_pipeline_names(pipeline: str, cap: int) -> None:
    assert capability_from_pipeline(pipeline) == cap


@pytest.mark.parametrize("pipeline", ["live_video_to_video", "LLM", "live-video-To-video", "lv2v"])
def test_pipeline_names_rejected(pipeline: str) -> None:
    with pytest.raises(InvalidInput):
        capability_from_pipeline(pipeline)


# -- the wire reader ---------------------------------------------------------------------


def test_parse_reference_encoding() -> None:
    data = encode(
        [(35, ["livepeer/model1", "b"]), (27, [])],
        bitstring=(5, 1 << 63),
        capacities={35: 2, 1: 7},
        version="0.8.1",
        min_version="0.8.0",
        warm=True,
    )
    caps = parse_capabilities(data)
    assert caps == NetCapabilities(
        bitstring=(5, 1 << 63),
        mandatories=(),
        capacities=((1, 7), (35, 2)),
        version="0.8.1",
        min_version="0.8.0",
        has_constraints=True,
        per_capability=((27, ()), (35, ("b", "livepeer/model1"))),
    )
    assert caps.models() == ((35, "b"), (35, "livepeer/model1"))
    assert parse_capabilities(b"") == NetCapabilities()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("go test non-protobuf blob", b"\xff"),
        ("truncated varint", vf(1, 300)[:-1]),
        ("truncated tag", b"\x80"),
        ("length past the end", ld(4, b"abc")[:-1]),
        ("huge length", b"\x22" + varint(2**63) + b"x"),
        ("field number 0", b"\x00\x01"),
        ("field number above 2**29-1", varint((1 << 29) << 3) + b"\x01"),
        ("wire type 6", b"\x0e"),
        ("wire type 7", b"\x0f"),
        ("end group without start", b"\x0c"),
        ("start group never closed", b"\x33\x08\x01"),
        ("mismatched end group", b"\x33\x3c"),
        ("11-byte varint", b"\x08" + b"\xff" * 10 + b"\x01"),
        ("10th varint byte above 1", b"\x08" + b"\xff" * 9 + b"\x02"),
        ("packed varint truncated", ld(1, b"\x80")),
        ("invalid UTF-8 version", ld(4, b"\xff")),
        ("UTF-8 surrogate in minVersion", ld(5, ld(1, b"\xed\xa0\x80"))),
        ("invalid UTF-8 model id", ld(5, ld(2, vf(1, 35) + ld(2, ld(1, ld(1, b"\xc3")))))),
        (
            "invalid UTF-8 runnerVersion",
            ld(5, ld(2, vf(1, 35) + ld(2, ld(1, ld(1, b"m") + ld(2, ld(3, b"\x80")))))),
        ),
        ("truncated nested entry", ld(5, ld(2, vf(1, 35) + ld(2, b"\x0a\x05ab")))),
    ],
)
def test_malformed_bytes_raise_protobuf_decode_error(name: str, data: bytes) -> None:
    with pytest.raises(ProtobufDecodeError) as info:
        parse_capabilities(data)
    assert info.value.name == "capabilities"
    assert isinstance(info.value.value, int)
    with pytest.raises(ProtobufDecodeError):
        configured_max_price(Fraction(1), CapabilityPrices(), data)


def test_reference_parser_agrees_on_some_malformed_inputs() -> None:
    """The protobuf runtime rejects the same structural errors (sanity check of the table)."""
    for data in (b"\xff", ld(4, b"abc")[:-1], b"\x0e", b"\x0c", ld(4, b"\xff")):
        with pytest.raises(DecodeError):
            PbCapabilities.FromString(data)


def test_protobuf_go_decoding_rules() -> None:
    # a known field with a foreign wire type is an unknown field: skipped, not an error
    assert parse_capabilities(vf(4, 5) + vf(5, 1)) == NetCapabilities()
    # groups and fixed-width unknown fields are skipped
    group = b"\x33" + vf(1, 1) + b"\x3b" + b"\x3c" + b"\x34"  # 6 { 7 { } }
    skipped = group + b"\x39" + bytes(8) + b"\x3d" + bytes(4)
    assert parse_capabilities(skipped + vf(1, 9)).bitstring == (9,)
    # packed and unpacked repeated uint64 mix
    assert parse_capabilities(
        vf(1, 1) + ld(1, varint(2) + varint(3)) + vf(2, 4)
    ) == NetCapabilities(bitstring=(1, 2, 3), mandatories=(4,))
    # uint32 keys keep the low 32 bits of the varint (Capability(uint32))
    assert parse_capabilities(
        ld(5, ld(2, vf(1, (1 << 32) + 35) + ld(2, ld(1, model(b"m")))))
    ).models() == ((35, "m"),)
    # a repeated PerCapability key replaces the entry; repeated values inside one entry merge
    first = ld(2, vf(1, 35) + ld(2, ld(1, model(b"a"))))
    second = ld(2, vf(1, 35) + ld(2, ld(1, model(b"b"))) + ld(2, ld(1, model(b"c"))))
    assert parse_capabilities(ld(5, first + second)).models() == ((35, "b"), (35, "c"))
    # two constraints fields merge (singular message semantics)
    other = ld(2, vf(1, 27) + ld(2, ld(1, model(b"x"))))
    assert parse_capabilities(ld(5, first) + ld(5, other)).models() == ((27, "x"), (35, "a"))
    # an entry without a key is capability 0; a model entry without a key is model ""
    assert parse_capabilities(ld(5, ld(2, ld(2, ld(1, ld(2, b"")))))).models() == ((0, ""),)
    # non-minimal varints are accepted, as protowire does
    assert parse_capabilities(b"\x08\x81\x80\x80\x00").bitstring == (1,)
    # the 10-byte maximum: 2**64 - 1
    assert parse_capabilities(b"\x08" + b"\xff" * 9 + b"\x01").bitstring == (2**64 - 1,)


def test_parsed_capabilities_are_accepted() -> None:
    prices = CapabilityPrices.from_mapping({35: {"m": 200}})
    data = encode([(35, ["m"])])
    parsed = parse_capabilities(data)
    assert configured_max_price(Fraction(500), prices, parsed) == 200
    assert configured_max_price(Fraction(500), prices, NetCapabilities()) == 500
    assert configured_max_price(Fraction(500), prices, bytearray(data)) == 200
    assert configured_max_price(Fraction(500), prices, memoryview(data)) == 200


def test_price_follows_constraints_not_bitstring() -> None:
    prices = CapabilityPrices.from_mapping({35: {"m": 200}})
    only_bits = encode(None, bitstring=(1 << 35,))
    assert configured_max_price(Fraction(500), prices, only_bits) == 500
    assert configured_max_price(Fraction(500), prices, encode([(35, ["m"])])) == 200


def test_wrong_argument_types() -> None:
    with pytest.raises(InvalidType):
        parse_capabilities("0a00")  # type: ignore[arg-type]
    with pytest.raises(InvalidType):
        configured_max_price(500, None, b"")  # type: ignore[arg-type]
    with pytest.raises(InvalidType):
        configured_max_price(None, {35: {"m": 1}}, b"")  # type: ignore[arg-type]
    with pytest.raises(InvalidType):
        configured_max_price(None, None, None)  # type: ignore[arg-type]


# -- properties ----------------------------------------------------------------------------

_model_ids = st.text(max_size=12)
_per_capability = st.lists(
    st.tuples(st.integers(0, 2**32 - 1), st.lists(_model_ids, max_size=4, unique=True)),
    max_size=5,
    unique_by=lambda t: t[0],
)


@settings(max_examples=150, deadline=None)
@given(
    per_capability=_per_capability,
    bitstring=st.lists(st.integers(0, 2**64 - 1), max_size=3),
    capacities=st.dictionaries(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), max_size=3),
    version=st.text(max_size=8),
    with_constraints=st.booleans(),
)
def test_matches_reference_encoder(
    per_capability: list[tuple[int, list[str]]],
    bitstring: list[int],
    capacities: dict[int, int],
    version: str,
    with_constraints: bool,
) -> None:
    data = encode(
        per_capability if with_constraints else None,
        bitstring=tuple(bitstring),
        capacities=capacities,
        version=version,
    )
    caps = parse_capabilities(data)
    assert caps.bitstring == tuple(bitstring)
    assert caps.capacities == tuple(sorted(capacities.items()))
    assert caps.version == version
    expected = sorted((c, m) for c, ms in per_capability for m in ms) if with_constraints else []
    assert list(caps.models()) == expected


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_random_bytes_only_raise_protobuf_decode_error(data: bytes) -> None:
    try:
        caps = parse_capabilities(data)
    except ProtobufDecodeError:
        return
    # when pm accepts, the protobuf runtime reads the same models out of the bytes
    try:
        ref: Any = PbCapabilities.FromString(data)
    except DecodeError:
        return  # the runtimes differ on some corner cases (e.g. the 10th varint byte)
    expected = sorted(
        (cap, name) for cap, cc in ref.constraints.PerCapability.items() for name in cc.models
    )
    assert list(caps.models()) == expected


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=48), st.sampled_from([b"", b"\x2a\x00", ld(5, ld(2, vf(1, 35)))]))
def test_random_tails_only_raise_protobuf_decode_error(tail: bytes, head: bytes) -> None:
    prices = CapabilityPrices.from_mapping({35: {"m": 1, "default": 2}})
    try:
        got = configured_max_price(Fraction(3), prices, head + tail)
    except ProtobufDecodeError:
        return
    assert got is not None and got > 0


@settings(max_examples=100, deadline=None)
@given(
    per_capability=_per_capability,
    table=st.dictionaries(
        st.integers(0, 40),
        st.dictionaries(
            st.one_of(_model_ids, st.just("default")),
            st.fractions(min_value=Fraction(1, 1000), max_value=1000),
            max_size=3,
        ),
        max_size=4,
    ),
    global_max=st.one_of(st.none(), st.fractions(min_value=Fraction(1, 1000), max_value=1000)),
)
def test_sum_rule(
    per_capability: list[tuple[int, list[str]]],
    table: dict[int, dict[str, Fraction]],
    global_max: Fraction | None,
) -> None:
    """Sum over named models of model-or-default price; zero sum → global (an oracle in Python)."""
    prices = CapabilityPrices.from_mapping(table)
    total = Fraction(0)
    for cap, models in per_capability:
        for m in models:
            entry = table.get(cap, {})
            price = entry.get(m, entry.get("default"))
            total += price if price is not None else 0
    expected = total if total else global_max
    assert configured_max_price(global_max, prices, encode(per_capability)) == expected
