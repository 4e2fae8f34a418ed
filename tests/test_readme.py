"""The README's library example runs as written (keeps the README true)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_python_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "README has no python example"
    namespace: dict[str, object] = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    results = namespace["results"]
    assert results.ok is True
    assert len(results) == 100  # type: ignore[arg-type]


def test_readme_has_exactly_the_two_fresh_machine_commands() -> None:
    text = README.read_text()
    section = text.split("## Fresh machine", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```sh\n(.*?)\n```", section, flags=re.S)
    assert commands == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/pm simulate",
        "python3 -m venv .venv && .venv/bin/pip install '.[dev]' && .venv/bin/python -m pytest",
    ]
