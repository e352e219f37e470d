"""Every Python block in docs/early-hints.md runs as written, in order, as one session.

The blocks assert what they show, so a page that drifts from the code fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).parent.parent / "docs" / "early-hints.md"
FENCE = re.compile(r"^```python\n(.*?)^```$", re.M | re.S)


def python_blocks(text: str) -> list[str]:
    return FENCE.findall(text)


def test_the_page_has_its_examples() -> None:
    assert len(python_blocks(DOC.read_text())) >= 4


def test_every_python_block_runs() -> None:
    namespace: dict[str, Any] = {"__name__": "docs_early_hints"}
    for number, block in enumerate(python_blocks(DOC.read_text()), 1):
        code = compile(block, f"{DOC.name} block {number}", "exec")
        exec(code, namespace)


def test_a_failing_block_is_noticed() -> None:
    [block] = python_blocks("```python\nassert 1 == 2\n```\n")
    try:
        exec(compile(block, "block", "exec"), {})
    except AssertionError:
        return
    raise AssertionError("a false assertion in a block went unnoticed")
