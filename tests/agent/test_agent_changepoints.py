"""Median/MAD change points."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.investigation.patterns.changepoints import change_point


def test_a_level_shift_is_found_where_it_happened_despite_spikes() -> None:
    rng = random.Random(3)
    values = [1 + rng.gauss(0, 0.05) for _ in range(120)] + [
        4 + rng.gauss(0, 0.05) for _ in range(60)
    ]
    values[30], values[150] = 25.0, -10.0
    found = change_point(values)
    assert found is not None
    assert found.index == 120
    assert round(found.before) == 1
    assert round(found.after) == 4


def test_noise_and_small_drifts_are_not_change_points() -> None:
    rng = random.Random(4)
    assert change_point([10 + rng.gauss(0, 1) for _ in range(200)]) is None
    assert change_point([1.0] * 100 + [1.1] * 100) is None


@settings(max_examples=50, deadline=None)
@given(
    st.integers(10, 80),
    st.integers(10, 80),
    st.floats(0.5, 100),
    st.floats(2.0, 20.0),
)
def test_any_clean_step_of_a_large_factor_is_located_exactly(
    before_len: int, after_len: int, level: float, factor: float
) -> None:
    found = change_point([level] * before_len + [level * factor] * after_len)
    assert found is not None
    assert found.index == before_len
