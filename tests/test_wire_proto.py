"""The committed protobuf module is exactly what the pinned grpcio-tools generates from
src/pm/proto/lp_rpc.proto, and it imports with the installed protobuf runtime."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

PROTO_DIR = Path(__file__).resolve().parent.parent / "src" / "pm" / "proto"
#: The committed module was generated with this grpcio-tools (bundled protoc 35.1, gencode
#: 7.35.1, which needs the protobuf runtime >= 7.35.1, < 8). Keep pyproject's pin in step.
PINNED_GRPCIO_TOOLS = "1.85.1"


def test_generated_module_is_up_to_date(tmp_path: Path) -> None:
    pytest.importorskip("grpc_tools", reason="grpcio-tools (a dev dependency) regenerates it")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO_DIR.parent.parent}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            str(PROTO_DIR / "lp_rpc.proto"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    exact = _installed_tools_version() == PINNED_GRPCIO_TOOLS
    for name in ("lp_rpc_pb2.py", "lp_rpc_pb2.pyi"):
        fresh = (tmp_path / "pm" / "proto" / name).read_text()
        committed = (PROTO_DIR / name).read_text()
        if exact:
            assert fresh == committed, (
                f"src/pm/proto/{name} is stale: regenerate it with grpcio-tools=="
                f"{PINNED_GRPCIO_TOOLS} (the command is in lp_rpc.proto)"
            )
        elif name.endswith(".py"):
            # Another protoc stamps another version and may lay the code out differently;
            # the schema itself (the serialized FileDescriptorProto) must still be identical.
            assert _descriptor_literal(fresh) == _descriptor_literal(committed), (
                f"src/pm/proto/{name} does not match lp_rpc.proto: regenerate it"
            )


def _installed_tools_version() -> str:
    from importlib.metadata import version

    return version("grpcio-tools")


def _descriptor_literal(source: str) -> str:
    match = re.search(r"AddSerializedFile\((b'.*?')\)\n", source)
    assert match is not None, "no serialized descriptor in the generated module"
    return match.group(1)


def test_generated_module_imports_and_declares_its_own_package() -> None:
    from pm.proto import lp_rpc_pb2 as pb

    # Not go-livepeer's "net": pm must load beside another module generated from lp_rpc.proto.
    assert pb.DESCRIPTOR.package == "pm.net"
    assert pb.DESCRIPTOR.name == "pm/proto/lp_rpc.proto"
    assert pb.Payment.DESCRIPTOR.full_name == "pm.net.Payment"
    numbers = {f.name: f.number for f in pb.Payment.DESCRIPTOR.fields}
    assert numbers == {
        "ticket_params": 1,
        "sender": 2,
        "expiration_params": 3,
        "ticket_sender_params": 4,
        "expected_price": 5,
    }
    info = {f.name: f.number for f in pb.OrchestratorInfo.DESCRIPTOR.fields}
    assert info == {
        "transcoder": 1,
        "ticket_params": 2,
        "price_info": 3,
        "address": 4,
        "auth_token": 6,
        "capabilities_prices": 33,
    }
    assert {f.name: f.number for f in pb.PaymentResult.DESCRIPTOR.fields} == {"info": 16}
