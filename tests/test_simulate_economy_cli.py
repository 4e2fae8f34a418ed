"""``pm simulate --economy``: the protocol-economy simulation behind the main command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pm.cli import main


def _run(out: Path, seed: int, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    argv = ["simulate", "--economy", "--rounds", "6", "--seed", str(seed), "--out", str(out)]
    assert main([*argv, "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    written = json.loads((out / "economy.json").read_text())
    assert printed == written
    assert (out / "economy.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return written


def test_economy_is_deterministic_and_conserves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _run(tmp_path / "a", 7, capsys)
    again = _run(tmp_path / "b", 7, capsys)
    other = _run(tmp_path / "c", 8, capsys)
    assert first == again
    assert first != other
    assert first["conservation"] == {"fees": True, "holds": True, "lpt": True}
    assert first["seed"] == 7
