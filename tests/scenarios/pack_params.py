"""Which scenario packs the default suite plays in a world; the rest run with `-m slow`.

Every pack is played by `opsbot eval` in tests/investigation (a small default subset there,
all of them in its slow test), so the per-pack world tests keep the first packs by default
and leave the later ones to the slow run to keep CI fast."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

DEFAULT_PACKS = frozenset(
    {
        "oom-kill",
        "bad-image",
        "deploy-error-rate",
        "db-connection-pool",
        "cpu-throttling",
        "node-not-ready",
        "slow-dependency",
        "disk-filling",
        "capacity",
    }
)


def pack_params(names: Iterable[str]) -> list[Any]:
    """The names as pytest params, the ones outside DEFAULT_PACKS marked slow."""
    return [n if n in DEFAULT_PACKS else pytest.param(n, marks=pytest.mark.slow) for n in names]
