"""In the live world a scenario's effects end where a real fix would end them: a rollback
ends what the new version caused, scaling out (or a higher CPU limit) eases an overload, a
restart empties a pool."""

from __future__ import annotations

from sandbox.scenarios.catalog import load_scenario
from sandbox.scenarios.causes import cause_gate
from sandbox.scenarios.effects import EffectBook
from sandbox.scenarios.frames import ClusterFrame, ClusterHistory, ContainerFrame, PodFrame

INCIDENT = 1000.0


def pod(
    workload: str, index: int, image: str = "img:1", created: float = 0.0, cpu: str | None = None
) -> PodFrame:
    box = ContainerFrame(
        name="app",
        image=image,
        ready=True,
        running=True,
        restarts=0,
        container_id=f"c-{workload}-{index}",
        started_at=created,
        waiting_reason=None,
        last_terminated_reason=None,
        limits={"cpu": cpu} if cpu else {},
        requests={},
    )
    return PodFrame(
        namespace="prod",
        name=f"{workload}-{index}",
        uid=f"u-{workload}-{index}",
        workload=workload,
        replicaset=f"{workload}-rs",
        node="node-1",
        pod_ip=f"10.0.0.{index}",
        host_ip="10.1.0.1",
        phase="Running",
        terminating=False,
        created=created,
        containers=(box,),
    )


def history(*frames: tuple[float, list[PodFrame]]) -> ClusterHistory:
    found = ClusterHistory()
    for at, pods in frames:
        found.add(ClusterFrame(at=at, pods=tuple(pods), nodes=(), deployments=()))
    return found


def test_a_rollback_ends_what_the_new_version_caused() -> None:
    scenario = load_scenario("deploy-error-rate")
    [rollout] = scenario.rollouts
    new = next(iter(rollout.images.values()))
    name = rollout.deployment
    seen = history(
        (INCIDENT, [pod(name, i, new) for i in range(3)]),
        (2000.0, [pod(name, 1, new), pod(name, 2, "img:old"), pod(name, 3, "img:old")]),
        (3000.0, [pod(name, i, "img:old") for i in range(3)]),
    )
    book = EffectBook(scenario.spec.metrics, INCIDENT, cause_gate(scenario, seen, INCIDENT))
    route = next(e.route or "" for e in scenario.spec.metrics if e.kind == "errors")
    full = book.errors(name, route, 1900.0)
    assert full
    assert book.errors(name, route, 2500.0)["500"] < full["500"]
    assert book.errors(name, route, 3500.0) == {}


def test_scaling_out_eases_an_overload_and_a_restart_empties_a_full_pool() -> None:
    throttling = load_scenario("cpu-throttling")
    seen = history(
        (INCIDENT, [pod("inventory", i) for i in range(2)]),
        (3000.0, [pod("inventory", i) for i in range(5)]),
    )
    book = EffectBook(throttling.spec.metrics, INCIDENT, cause_gate(throttling, seen, INCIDENT))
    before, after = book.cpu("inventory", 2000.0), book.cpu("inventory", 3500.0)
    assert before is not None
    assert after is None or after.throttled < before.throttled / 2
    assert book.traffic("inventory", 3500.0) == book.traffic("inventory", 2000.0)

    pool = load_scenario("db-connection-pool")
    restarted = history(
        (INCIDENT, [pod("payments", i) for i in range(2)]),
        (3000.0, [pod("payments", i + 5, created=2900.0) for i in range(2)]),
    )
    book = EffectBook(pool.spec.metrics, INCIDENT, cause_gate(pool, restarted, INCIDENT))
    assert book.pool("payments", 2000.0) is not None
    assert book.pool("payments", 3500.0) is None


def test_raising_the_cpu_limit_eases_an_overload_the_replicas_cannot_grow_out_of() -> None:
    maxed = load_scenario("hpa-at-max-replicas")  # an HPA at max: the pod count cannot grow
    seen = history(
        (INCIDENT, [pod("checkout", i, cpu="700m") for i in range(4)]),
        (3000.0, [pod("checkout", i + 4, cpu="1400m", created=2900.0) for i in range(4)]),
    )
    book = EffectBook(maxed.spec.metrics, INCIDENT, cause_gate(maxed, seen, INCIDENT))
    before, after = book.cpu("checkout", 2000.0), book.cpu("checkout", 3500.0)
    assert before is not None
    assert after is None or after.throttled < before.throttled / 2
    same = history(
        (INCIDENT, [pod("checkout", i, cpu="700m") for i in range(4)]),
        (3000.0, [pod("checkout", i + 4, cpu="700m", created=2900.0) for i in range(4)]),
    )
    book = EffectBook(maxed.spec.metrics, INCIDENT, cause_gate(maxed, same, INCIDENT))
    assert book.cpu("checkout", 3500.0) == book.cpu("checkout", 2000.0), "a restart is no fix"


def test_rolling_back_the_faulty_release_ends_its_effects_while_an_innocent_one_stays() -> None:
    scenario = load_scenario("upstream-reset-envoy-nginx")
    images = {r.deployment: next(iter(r.images.values())) for r in scenario.rollouts}
    [faulty] = [r.deployment for r in scenario.rollouts if not r.innocent]
    [innocent] = [r.deployment for r in scenario.rollouts if r.innocent]
    released = [pod(name, i, images[name]) for name in images for i in range(2)]
    faulty_back = [pod(faulty, i + 5, "img:old", 1500.0) for i in range(2)]
    innocent_back = [pod(innocent, i + 5, "img:old", 1500.0) for i in range(2)]
    [effect] = scenario.spec.metrics
    only_faulty_back = history((INCIDENT, released), (2000.0, [*faulty_back, *released[2:]]))
    assert cause_gate(scenario, only_faulty_back, INCIDENT)(effect, 2500.0) == 0.0
    only_innocent_back = history((INCIDENT, released), (2000.0, [*released[:2], *innocent_back]))
    assert cause_gate(scenario, only_innocent_back, INCIDENT)(effect, 2500.0) == 1.0


def test_a_cause_outside_the_pods_outlives_a_restart() -> None:
    scenario = load_scenario("db-auth-failure")  # the password changed in the database
    [effect] = scenario.spec.metrics
    restarted = history(
        (INCIDENT, [pod(effect.service, i) for i in range(2)]),
        (2000.0, [pod(effect.service, i + 5, created=1900.0) for i in range(2)]),
    )
    assert cause_gate(scenario, restarted, INCIDENT)(effect, 2500.0) == 1.0
