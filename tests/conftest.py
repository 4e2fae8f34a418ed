"""Shared test configuration: Hypothesis profiles and small fixtures.

Profiles: ``ci`` (default, bounded so the whole suite stays fast) and ``long`` for soak runs:
``HYPOTHESIS_PROFILE=long python -m pytest tests``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DATA = Path(__file__).parent / "data"


def load_vectors(name: str) -> Any:
    """A JSON file from tests/data (see tests/data/README.md for provenance)."""
    return json.loads((DATA / name).read_text())


@pytest.fixture
def data_dir() -> Path:
    return DATA


# -- fuzz input counts (issue 9; tests/fuzz_support.py) --------------------------------------


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print how many inputs each fuzz target tried ("fuzz <target>: N inputs")."""
    import sys

    fuzz_support = sys.modules.get("fuzz_support")  # imported by the fuzz tests, if any ran
    lines = fuzz_support.summary_lines() if fuzz_support is not None else []
    if lines:
        terminalreporter.section("fuzz targets")
        for line in lines:
            terminalreporter.write_line(line)
