"""Adversarial review of the wire work (issue 6): regressions for bugs found in review.

Each test pins one bug: it failed before the fix committed with it.
"""

from __future__ import annotations

from typing import Any

import pytest

from pm import wire
from pm.errors import InvalidType


@pytest.mark.parametrize(
    "kwargs",
    [
        {"ticket_params": 5},
        {"price_info": "x"},
        {"auth_token": 1},
        {"capabilities_prices": 5},
        {"capabilities_prices": [wire.PriceInfo(1, 1)]},
        {"capabilities_prices": ("x",)},
    ],
)
def test_orchestrator_info_rejects_wrong_field_types(kwargs: dict[str, Any]) -> None:
    # Before the fix these were accepted and encode_orchestrator_info then crashed with
    # AttributeError/TypeError instead of a PMError.
    with pytest.raises(InvalidType):
        wire.OrchestratorInfo(**kwargs)
