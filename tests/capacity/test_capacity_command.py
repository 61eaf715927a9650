"""`/opsbot capacity [namespace]` in the local Slack workspace: acked at once, then the
report for the namespace (or everything) answers ephemerally, from real Prometheus history."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.capacity import summary
from tests.capacity.capacity_slack import (
    CapacityBot,
    Json,
    capacity_bot,
    minute_now,
    shop_backends,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CapacityBot]:
    now, home = minute_now(), tmp_path_factory.mktemp("capacity-command")
    with shop_backends(home, now) as backends, capacity_bot(home, backends, now) as world:
        yield world


def capacity_replies(world: CapacityBot) -> list[Json]:
    return [e for e in world.slack.ephemerals("U0ALICE") if "Capacity" in str(e.get("text"))]


def test_opsbot_capacity_prod_answers_with_the_prod_report(world: CapacityBot) -> None:
    before = len(capacity_replies(world))
    result = world.slack.slash_command("U0ALICE", "general", "/opsbot", "capacity prod")
    assert result.ok  # acked within Slack's 3 seconds; the report follows
    reply = world.slack.wait_for(lambda: capacity_replies(world)[before:], timeout=60)[0]
    blocks = json.dumps(reply["blocks"], ensure_ascii=False)
    report = world.report("prod")
    assert reply["text"] == summary.headline(report)
    assert reply["text"].startswith("Capacity (namespace prod): ")
    assert "namespace `prod`" in blocks
    assert "*prod/postgres-data (volume)*: full in *~" in blocks
    assert "*prod/payments (app, 2x)*" in blocks
    assert "monitoring/" not in blocks  # another namespace
    assert "node " not in blocks  # nodes belong to no namespace
    postgres = next(e for e in report.exhaustions if e.resource.name == "postgres-data")
    assert postgres.days_likely is not None
    assert 4.0 <= postgres.days_likely <= 6.0
    assert f"~{summary.days(postgres.days_likely)}" in blocks


def test_opsbot_capacity_without_a_namespace_covers_every_namespace_and_node(
    world: CapacityBot,
) -> None:
    before = len(capacity_replies(world))
    world.slack.slash_command("U0ALICE", "general", "/opsbot", "capacity")
    reply = world.slack.wait_for(lambda: capacity_replies(world)[before:], timeout=60)[0]
    blocks = json.dumps(reply["blocks"], ensure_ascii=False)
    assert reply["text"].startswith("Capacity (all namespaces): ")
    assert "node worker-2 / (disk)" in blocks  # grows 1 GiB/day: full in ~45 days
    assert "prod/orders-archive (volume)" in blocks


def test_a_bad_namespace_gets_the_usage(world: CapacityBot) -> None:
    world.slack.slash_command("U0ALICE", "general", "/opsbot", "capacity Prod/../x")
    reply = world.slack.wait_for(
        lambda: [e for e in world.slack.ephemerals("U0ALICE") if "Usage:" in str(e["text"])],
        timeout=30,
    )[0]
    assert "/opsbot capacity [namespace]" in reply["text"]
