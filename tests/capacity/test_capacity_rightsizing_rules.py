"""Rightsizing rules on plain usage values: rounding, limits, savings, and when to stay quiet."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.capacity.models import ContainerUsage
from bot.capacity.rightsizing import MIN_LIMIT_HEADROOM, recommend, round_cpu, round_memory
from bot.settings import CapacitySettings
from policies.quantities import MIB

CAPACITY = CapacitySettings()
PAYMENTS = ContainerUsage(
    namespace="prod",
    workload="payments",
    container="app",
    replicas=2,
    cpu_request=0.5,
    cpu_limit=None,
    memory_request=512 * MIB,
    memory_limit=768 * MIB,
    cpu_p95=0.036,
    cpu_max=0.044,
    memory_p95=145 * MIB,
    memory_max=150 * MIB,
    history_days=14.0,
)


def test_cpu_rounds_up_to_5m_below_100m_and_to_10m_above() -> None:
    assert round_cpu(0.0432) == pytest.approx(0.045)
    assert round_cpu(0.0001) == pytest.approx(0.005)
    assert round_cpu(0.2411) == pytest.approx(0.25)
    assert round_cpu(0.25) == pytest.approx(0.25)
    assert round_memory(173.7 * MIB) == 174 * MIB


def test_an_over_provisioned_container_gets_requests_from_p95_and_says_what_it_saves() -> None:
    found = recommend(PAYMENTS, CAPACITY)
    assert found is not None
    assert found.cpu_request == pytest.approx(0.045)  # 36m x 1.2 = 43.2m -> 45m
    assert found.memory_request == 174 * MIB  # 145Mi x 1.2 = 174Mi
    assert found.memory_limit == 225 * MIB  # 150Mi x 1.5
    assert "memory limit 225Mi: 1.5x the 150Mi peak" in found.reason  # the headroom, argued
    assert found.cpu_limit is None  # no CPU limit stays none
    assert found.saving_cores == pytest.approx((0.5 - 0.045) * 2)
    assert found.saving_gib == pytest.approx((512 - 174) * 2 / 1024)
    monthly = (found.saving_cores * 0.0316 + found.saving_gib * 0.0042) * 730
    assert found.saving_usd_month == pytest.approx(monthly)
    assert found.saving_usd_month > 20
    assert found.reason.startswith("over-provisioned")
    assert f"saves ${found.saving_usd_month:,.2f}/month" in found.reason


def test_memory_p95_above_the_request_is_recommended_up_with_a_negative_saving() -> None:
    inventory = replace(
        PAYMENTS,
        workload="inventory",
        cpu_request=0.25,
        cpu_limit=0.5,
        memory_request=256 * MIB,
        memory_limit=512 * MIB,
        cpu_p95=0.2,
        cpu_max=0.23,
        memory_p95=354 * MIB,
        memory_max=364 * MIB,
    )
    found = recommend(inventory, CAPACITY)
    assert found is not None
    assert found.memory_request > 256 * MIB
    assert found.memory_limit >= 364 * 1.5 * MIB
    assert found.cpu_limit == 0.5  # a CPU limit far above the peaks is kept
    assert found.saving_gib < 0
    assert found.saving_usd_month < 0  # recommended although it costs money
    assert found.reason.startswith("under-provisioned: memory p95 354Mi")


def test_memory_max_close_to_the_limit_is_flagged_even_when_requests_fit() -> None:
    tight = replace(PAYMENTS, memory_request=200 * MIB, memory_limit=160 * MIB)
    tight = replace(tight, memory_request=150 * MIB, memory_p95=100 * MIB)
    found = recommend(tight, CAPACITY)
    assert found is not None
    assert "close to its limit" in found.reason
    assert found.memory_limit >= 150 * 1.5 * MIB


def test_a_cpu_limit_near_the_peaks_is_raised_and_never_lowered() -> None:
    throttled = replace(PAYMENTS, cpu_limit=0.05, cpu_max=0.048)
    found = recommend(throttled, CAPACITY)
    assert found is not None
    assert found.cpu_limit == pytest.approx(0.075)  # 48m x 1.5 = 72m -> 75m
    roomy = replace(PAYMENTS, cpu_limit=2.0)
    kept = recommend(roomy, CAPACITY)
    assert kept is not None
    assert kept.cpu_limit == 2.0


def test_right_sized_containers_and_tiny_savings_are_left_alone() -> None:
    checkout = replace(
        PAYMENTS,
        workload="checkout",
        replicas=3,
        cpu_request=0.25,
        cpu_limit=1.0,
        memory_request=256 * MIB,
        memory_limit=512 * MIB,
        cpu_p95=0.232,
        cpu_max=0.26,
        memory_p95=220 * MIB,
        memory_max=229 * MIB,
    )
    assert recommend(checkout, CAPACITY) is None
    small = replace(PAYMENTS, cpu_request=0.08, memory_request=200 * MIB)
    assert recommend(small, CAPACITY) is None
    assert recommend(small, CAPACITY.model_copy(update={"min_saving_usd_month": 0.0}))


def test_too_little_history_gives_no_recommendation() -> None:
    assert recommend(replace(PAYMENTS, history_days=2.0), CAPACITY) is None


usages = st.builds(
    ContainerUsage,
    namespace=st.just("prod"),
    workload=st.just("w"),
    container=st.just("app"),
    replicas=st.integers(1, 20),
    cpu_request=st.none() | st.floats(0.001, 8),
    cpu_limit=st.none() | st.floats(0.001, 16),
    memory_request=st.none() | st.floats(MIB, 16 * 1024 * MIB),
    memory_limit=st.none() | st.floats(MIB, 32 * 1024 * MIB),
    cpu_p95=st.floats(0, 8),
    cpu_max=st.floats(0, 8),
    memory_p95=st.floats(0, 16 * 1024 * MIB),
    memory_max=st.floats(0, 16 * 1024 * MIB),
    history_days=st.floats(3, 30),
).map(
    lambda u: replace(
        u, cpu_max=max(u.cpu_max, u.cpu_p95), memory_max=max(u.memory_max, u.memory_p95)
    )
)


@settings(max_examples=300, deadline=None)
@given(usages, st.floats(1.0, 3.0), st.floats(1.0, 4.0))
def test_a_recommendation_covers_usage_and_keeps_requests_within_limits(
    usage: ContainerUsage, request_headroom: float, limit_headroom: float
) -> None:
    capacity = CAPACITY.model_copy(
        update={
            "request_headroom": request_headroom,
            "limit_headroom": limit_headroom,
            "min_saving_usd_month": 0.0,
        }
    )
    found = recommend(usage, capacity)
    if found is None:
        return
    assert found.memory_limit >= usage.memory_max
    # Headroom over the largest working set seen, whatever the setting (1 byte of rounding).
    assert found.memory_limit >= usage.memory_max * MIN_LIMIT_HEADROOM - 1
    assert found.memory_limit >= found.memory_request
    assert found.memory_request >= usage.memory_p95
    assert found.cpu_request >= usage.cpu_p95
    if found.cpu_limit is not None:
        assert found.cpu_request <= found.cpu_limit
        assert usage.cpu_limit is not None
        assert found.cpu_limit >= usage.cpu_limit
    else:
        assert usage.cpu_limit is None
    assert found.memory_request % MIB == 0
    assert round(found.cpu_request * 1000) % 5 == 0
    if found.saving_usd_month < capacity.min_saving_usd_month:
        assert found.reason.startswith("under-provisioned")


def test_a_memory_limit_keeps_headroom_over_the_peak_even_with_the_headroom_set_to_one() -> None:
    bare = CAPACITY.model_copy(update={"limit_headroom": 1.0})
    found = recommend(PAYMENTS, bare)
    assert found is not None
    assert found.memory_limit == 195 * MIB  # 150Mi x 1.3, not 150Mi
    assert found.memory_limit >= found.memory_request
    assert "1.3x the 150Mi peak" in found.reason
