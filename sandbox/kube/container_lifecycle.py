"""One container's life on a node: image pulls, starts, crashes with back-off, probes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sandbox.kube.container_runtime import ContainerRuntime, pull_error
from sandbox.kube.events import kubelet as kubelet_source
from sandbox.kube.faults import ContainerTarget, Fault
from sandbox.kube.podlogs import DEATH_LINES, ContainerRun

if TYPE_CHECKING:
    from sandbox.kube.cluster import Cluster

JsonDict = dict[str, Any]
PROBE_FAILURE = "HTTP probe failed with statuscode: 503"


class ContainerLifecycle:
    """Moves containers through their phases; every step happens at its own due time."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.runs: dict[str, ContainerRun] = {}
        self.node_images: dict[str, set[str]] = {}

    def event(
        self, pod: JsonDict, reason: str, message: str, container: str, warning: bool = False
    ) -> None:
        source = kubelet_source(pod["spec"]["nodeName"])
        path = f"spec.containers{{{container}}}"
        self.cluster.events.record(pod, reason, message, source, warning=warning, field_path=path)

    def target(self, pod: JsonDict, spec: JsonDict) -> ContainerTarget:
        limits = (spec.get("resources") or {}).get("limits") or {}
        return ContainerTarget(
            namespace=pod["metadata"]["namespace"],
            deployment=self.cluster.owning_deployment(pod),
            container=spec["name"],
            image=str(spec.get("image", "")),
            memory_limit=str(limits["memory"]) if "memory" in limits else None,
        )

    def death_fault(self, pod: JsonDict, spec: JsonDict) -> Fault | None:
        target = self.target(pod, spec)
        faults = self.cluster.faults
        return faults.for_container("oom", target) or faults.for_container("crash", target)

    def advance(
        self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, now: datetime
    ) -> None:
        """Apply every transition that is due by `now`, in order."""
        if spec.get("image") != container.image:
            self.replace_image(pod, container, spec, now)
        steps = {
            "pulling": self.finish_pull,
            "pull_failed": self.pull_backoff,
            "pull_backoff": self.pull,
            "exited": self.start,
            "crash_backoff": self.start,
            "running": self.die,
        }
        for _ in range(200):
            self.schedule_death(pod, container, spec, now)
            if container.next_at is None or container.next_at > now:
                break
            steps[container.phase](pod, container, spec, container.next_at)
        self.probe(pod, container, spec, now)

    # -- image pulls ----------------------------------------------------------------------
    def pull(
        self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, at: datetime
    ) -> None:
        cached = container.image in self.node_images.get(pod["spec"]["nodeName"], set())
        bad = self.cluster.faults.for_container("bad_image", self.target(pod, spec))
        container.phase = "pulling"
        if cached and spec.get("imagePullPolicy") != "Always" and bad is None:
            message = f'Container image "{container.image}" already present on machine'
            self.event(pod, "Pulled", message, container.name)
            container.next_at = at
            return
        self.event(pod, "Pulling", f'Pulling image "{container.image}"', container.name)
        container.next_at = at + timedelta(seconds=self.cluster.timings.image_pull)

    def finish_pull(
        self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, at: datetime
    ) -> None:
        bad = self.cluster.faults.for_container("bad_image", self.target(pod, spec))
        if bad is not None:
            container.pull_failures += 1
            container.pull_message = pull_error(container.image, bad.message)
            container.phase, container.next_at = "pull_failed", at + timedelta(seconds=1)
            message = f'Failed to pull image "{container.image}": {container.pull_message}'
            self.event(pod, "Failed", message, container.name, True)
            self.event(pod, "Failed", "Error: ErrImagePull", container.name, True)
            return
        images = self.node_images.setdefault(pod["spec"]["nodeName"], set())
        if container.image not in images:
            images.add(container.image)
            took = self.cluster.timings.image_pull
            size = 20_000_000 + sum(map(ord, container.image)) * 9973
            message = (
                f'Successfully pulled image "{container.image}" in {took:.3f}s '
                f"({took:.3f}s including waiting). Image size: {size} bytes."
            )
            self.event(pod, "Pulled", message, container.name)
        container.pulled_image, container.pull_failures = container.image, 0
        self.start(pod, container, spec, at)

    def pull_backoff(
        self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, at: datetime
    ) -> None:
        timings = self.cluster.timings
        doubled = timings.pull_backoff_initial * 2 ** (container.pull_failures - 1)
        container.backoff_seconds = min(doubled, timings.pull_backoff_max)
        container.phase = "pull_backoff"
        container.next_at = at + timedelta(seconds=container.backoff_seconds)
        self.event(pod, "BackOff", f'Back-off pulling image "{container.image}"', container.name)
        self.event(pod, "Failed", "Error: ImagePullBackOff", container.name, True)

    def replace_image(
        self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, now: datetime
    ) -> None:
        message = f"Container {container.name} definition changed, will be restarted"
        self.event(pod, "Killing", message, container.name)
        run = container.current_run
        if run is not None and run.finished_at is None:
            run.finished_at, run.reason, run.exit_code = now, "Completed", 0
        container.image = str(spec.get("image", ""))
        container.pulled_image, container.crashes, container.fault_noticed_at = None, 0, None
        self.pull(pod, container, spec, now)

    # -- running, dying, restarting ---------------------------------------------------------
    def start(
        self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, at: datetime
    ) -> None:
        if container.runs:
            container.restart_count += 1
            if container.phase != "pulling":
                message = f'Container image "{container.image}" already present on machine'
                self.event(pod, "Pulled", message, container.name)
        run = ContainerRun(
            container_id=self.cluster.ids.container_id(),
            pod=pod["metadata"]["name"],
            namespace=pod["metadata"]["namespace"],
            container=container.name,
            image=container.image,
            profile=self.cluster.log_profile(pod, spec),
            started_at=at,
        )
        container.runs.append(run)
        for dropped in container.runs[:-5]:
            self.runs.pop(dropped.container_id, None)
        del container.runs[:-5]
        self.runs[run.container_id] = run
        self.event(pod, "Created", f"Created container: {container.name}", container.name)
        self.event(pod, "Started", f"Started container {container.name}", container.name)
        probe = spec.get("readinessProbe")
        delay = 0.0
        if probe:
            delay = max(
                float(probe.get("initialDelaySeconds") or 0), self.cluster.timings.ready_delay
            )
        container.phase, container.next_at = "running", None
        container.ready_at = at + timedelta(seconds=delay)
        container.last_probe_event = None
        container.fault_noticed_at = at if self.death_fault(pod, spec) else None

    def schedule_death(
        self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, now: datetime
    ) -> None:
        if not container.running():
            return
        fault = self.death_fault(pod, spec)
        if fault is None:
            container.fault_noticed_at, container.next_at = None, None
            return
        if container.fault_noticed_at is None:
            container.fault_noticed_at = now
        container.next_at = container.fault_noticed_at + timedelta(seconds=fault.after_seconds)

    def die(self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, at: datetime) -> None:
        fault = self.death_fault(pod, spec)
        run = container.current_run
        if fault is None or run is None:
            return
        timings = self.cluster.timings
        oom = fault.kind == "oom"
        run.finished_at = at
        run.reason = "OOMKilled" if oom else "Error"
        run.exit_code = 137 if oom else (fault.exit_code if fault.exit_code is not None else 2)
        lines = fault.log_lines if fault.log_lines is not None else DEATH_LINES[fault.kind]
        run.final_lines = list(lines)
        if fault.message and not oom:
            run.final_lines = [fault.message, *run.final_lines[1:]]
        if (at - run.started_at).total_seconds() > 2 * timings.crash_backoff_max:
            container.crashes = 0  # a container that ran long enough starts its back-off afresh
        container.crashes += 1
        container.fault_noticed_at = None
        if container.crashes == 1:
            container.phase = "exited"
            container.next_at = at + timedelta(seconds=timings.first_restart)
            return
        doubled = timings.crash_backoff_initial * 2 ** (container.crashes - 2)
        container.backoff_seconds = min(doubled, timings.crash_backoff_max)
        container.phase = "crash_backoff"
        container.next_at = at + timedelta(seconds=container.backoff_seconds)
        meta = pod["metadata"]
        message = (
            f"Back-off restarting failed container {container.name} in pod "
            f"{meta['name']}_{meta['namespace']}({meta['uid']})"
        )
        self.event(pod, "BackOff", message, container.name, True)

    def probe(
        self, pod: JsonDict, container: ContainerRuntime, spec: JsonDict, now: datetime
    ) -> None:
        fault = self.cluster.faults.for_container("readiness", self.target(pod, spec))
        container.probe_failing = fault is not None
        if fault is None or not container.running() or container.ready_at is None:
            return
        period = float((spec.get("readinessProbe") or {}).get("periodSeconds") or 10)
        last = container.last_probe_event
        if now < container.ready_at or (last is not None and (now - last).total_seconds() < period):
            return
        container.last_probe_event = now
        detail = fault.message or PROBE_FAILURE
        self.event(pod, "Unhealthy", f"Readiness probe failed: {detail}", container.name, True)
