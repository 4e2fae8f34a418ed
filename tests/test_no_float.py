"""No float in any money or probability path: the modules that compute prices, face values,
EVs, credits and fees contain no float literal and no call to float() (DESIGN.md "Values")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pm

SRC = Path(pm.__file__).parent
MODULES = [
    "sender.py",
    "recipient.py",
    "accounting.py",
    "chain.py",
    "pricing.py",
    "ticket.py",
    "broker.py",
    "store.py",
    "redemption.py",
    "signer/service.py",
    "signer/state.py",
]


def float_uses(tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, float | complex):
            found.append(f"line {node.lineno}: literal {node.value!r}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "float"
        ):
            found.append(f"line {node.lineno}: float(...)")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "float"
        ):
            found.append(f"line {node.lineno}: float.{node.attr}")
    return found


@pytest.mark.parametrize("name", MODULES)
def test_module_has_no_float(name: str) -> None:
    tree = ast.parse((SRC / name).read_text(), filename=name)
    assert float_uses(tree) == []


def test_the_scanner_finds_floats() -> None:
    sample = "x = 1.02\ny = float('3')\nz = 1e3\nw = float.fromhex('0x1p0')\n"
    assert len(float_uses(ast.parse(sample))) == 4
    assert float_uses(ast.parse("from fractions import Fraction\nx = Fraction(102, 100)\n")) == []
