"""The live exporter's counters carry on from the backfilled history: `rate()` over the load
moment, or over the moment the live timeline's anchor moves, reads the traffic, not a jump."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from sandbox.scenarios.catalog import load_scenario
from sandbox.world import World, WorldOptions
from sandbox.world.counter_seam import CounterSeam, last_cumulative_values, parse
from sandbox.world.live_metrics import newest_samples

HEAD = "# HELP req Requests.\n# TYPE req counter\n# HELP up Up.\n# TYPE up gauge\n"


def _render(points: list[tuple[int, float]], series: str = 'req_total{pod="a"}') -> str:
    return HEAD + "".join(f"{series} {v} {t}\n" for t, v in points) + "# EOF\n"


def _served(seam: CounterSeam, text: str, anchor: int) -> dict[str, float]:
    families, samples = parse(text.splitlines())
    return seam.values(samples, families, anchor)


def test_a_live_counter_goes_on_from_the_value_the_backfill_left() -> None:
    seam = CounterSeam({'req_total{pod="a"}': 5_000.0})
    # The generator's own base at the anchor (age x rate) is far above the backfill's value.
    served = _served(seam, _render([(100, 900_000.0), (115, 900_600.0)]), anchor=100)
    assert served == {'req_total{pod="a"}': 5_600.0}


def test_a_live_counter_below_the_backfill_is_not_served_as_a_reset() -> None:
    seam = CounterSeam({'req_total{pod="a"}': 5_000.0})
    served = _served(seam, _render([(100, 10.0), (115, 610.0)]), anchor=100)
    assert served['req_total{pod="a"}'] == 5_600.0


def test_moving_the_anchor_keeps_the_counter_continuous() -> None:
    seam = CounterSeam({'req_total{pod="a"}': 5_000.0})
    _served(seam, _render([(100, 900_000.0), (115, 900_600.0)]), anchor=100)
    # The next render starts over from a new anchor with a new generator base.
    served = _served(seam, _render([(115, 42.0), (130, 642.0)]), anchor=115)
    assert served['req_total{pod="a"}'] == 6_200.0


def test_a_container_restart_inside_the_live_timeline_stays_a_reset() -> None:
    seam = CounterSeam({'req_total{pod="a"}': 5_000.0})
    text = _render([(100, 900_000.0), (115, 900_600.0), (130, 30.0), (145, 630.0)])
    assert _served(seam, text, anchor=100)['req_total{pod="a"}'] == 630.0


def test_a_pod_born_after_the_anchor_starts_from_its_own_count_and_gauges_are_untouched() -> None:
    seam = CounterSeam({'req_total{pod="a"}': 5_000.0, 'up{pod="a"}': 1.0})
    text = _render([(115, 120.0)], series='req_total{pod="new"}') + ""
    text = text.replace("# EOF\n", 'up{pod="a"} 1 115\n# EOF\n')
    served = _served(seam, text, anchor=100)
    assert served == {'req_total{pod="new"}': 120.0}
    assert 'up{pod="a"} 1\n' in newest_samples(text, served)


def test_histogram_buckets_sums_and_counts_are_carried_like_counters(tmp_path: Path) -> None:
    backfill = tmp_path / "history.om"
    backfill.write_text(
        "# HELP lat Latency.\n# TYPE lat histogram\n"
        'lat_bucket{le="0.1"} 10 50\nlat_sum 2.5 50\nlat_count 20 50\n'
        'lat_bucket{le="0.1"} 30 100\nlat_sum 7.5 100\nlat_count 60 100\n'
        "# HELP temp Temperature.\n# TYPE temp gauge\ntemp 21 100\n# EOF\n"
    )
    carried = last_cumulative_values(backfill)
    assert carried == {'lat_bucket{le="0.1"}': 30.0, "lat_sum": 7.5, "lat_count": 60.0}
    seam = CounterSeam(carried)
    live = (
        "# HELP lat Latency.\n# TYPE lat histogram\n"
        'lat_bucket{le="0.1"} 1000 100\nlat_sum 250 100\nlat_count 2000 100\n'
        'lat_bucket{le="0.1"} 1004 115\nlat_sum 251 115\nlat_count 2008 115\n# EOF\n'
    )
    served = _served(seam, live, anchor=100)
    assert served == {'lat_bucket{le="0.1"}': 34.0, "lat_sum": 8.5, "lat_count": 68.0}
    assert "lat_count 68\n" in newest_samples(live, served)


def _rate(world: World, service: str, at: float) -> float:
    query = f'sum(rate(http_requests_total{{namespace="prod",service="{service}"}}[3m]))'
    answer = httpx.get(
        f"{world.urls.prometheus}/api/v1/query", params={"query": query, "time": at}, timeout=30
    ).json()
    return float(answer["data"]["result"][0]["value"][1])


@pytest.mark.timeout(300)
def test_prometheus_reads_the_same_request_rate_just_after_a_live_load_as_just_before() -> None:
    options = WorldOptions(history=1800, step=60, slack=None, live=True)
    with World(options).start() as world:
        world.load(load_scenario("bad-image"))
        loaded = time.time()
        time.sleep(50)  # three scrapes of the live exporter past the seam
        before = _rate(world, "frontend", loaded - 60)
        after = _rate(world, "frontend", time.time())
    assert 0.6 * before <= after <= 1.6 * before, (before, after)
