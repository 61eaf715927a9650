"""The simulated state of one container on a node, and how it reads in a ContainerStatus."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sandbox.kube.clock import format_time
from sandbox.kube.identity import image_id, normalize_image
from sandbox.kube.podlogs import ContainerRun

JsonDict = dict[str, Any]
Phase = Literal["pulling", "pull_failed", "pull_backoff", "running", "exited", "crash_backoff"]


def pull_error(image: str, message: str | None) -> str:
    if message:
        return message
    reference = normalize_image(image) if "/" not in image else image
    return (
        f'rpc error: code = NotFound desc = failed to pull and unpack image "{reference}": '
        f'failed to resolve reference "{reference}": {reference}: not found'
    )


@dataclass
class ContainerRuntime:
    name: str
    image: str
    phase: Phase
    next_at: datetime | None
    pull_failures: int = 0
    crashes: int = 0
    restart_count: int = 0
    runs: list[ContainerRun] = field(default_factory=list)
    pulled_image: str | None = None
    pull_message: str = ""
    backoff_seconds: float = 0.0
    ready_at: datetime | None = None
    fault_noticed_at: datetime | None = None
    last_probe_event: datetime | None = None
    probe_failing: bool = False

    @property
    def current_run(self) -> ContainerRun | None:
        return self.runs[-1] if self.runs else None

    def running(self) -> bool:
        return self.phase == "running"

    def ready(self, now: datetime) -> bool:
        return (
            self.running()
            and self.ready_at is not None
            and now >= self.ready_at
            and not self.probe_failing
        )

    def _terminated(self, run: ContainerRun) -> JsonDict:
        state: JsonDict = {"exitCode": run.exit_code if run.exit_code is not None else 0}
        if run.reason:
            state["reason"] = run.reason
        state["startedAt"] = format_time(run.started_at)
        state["finishedAt"] = format_time(run.finished_at or run.started_at)
        state["containerID"] = run.container_id
        return {"terminated": state}

    def _state(self, pod_name: str, namespace: str, uid: str) -> JsonDict:
        run = self.current_run
        if self.phase == "running" and run is not None:
            return {"running": {"startedAt": format_time(run.started_at)}}
        if self.phase == "exited" and run is not None:
            return self._terminated(run)
        if self.phase == "crash_backoff":
            message = (
                f"back-off {int(self.backoff_seconds)}s restarting failed container={self.name} "
                f"pod={pod_name}_{namespace}({uid})"
            )
            return {"waiting": {"reason": "CrashLoopBackOff", "message": message}}
        if self.phase == "pull_failed":
            return {"waiting": {"reason": "ErrImagePull", "message": self.pull_message}}
        if self.phase == "pull_backoff":
            message = f'Back-off pulling image "{self.image}": ErrImagePull: {self.pull_message}'
            return {"waiting": {"reason": "ImagePullBackOff", "message": message}}
        return {"waiting": {"reason": "ContainerCreating"}}

    def _last_state(self) -> JsonDict:
        finished = [run for run in self.runs if run.finished_at is not None]
        if self.phase == "exited":
            finished = finished[:-1]
        return self._terminated(finished[-1]) if finished else {}

    def status(self, pod_name: str, namespace: str, uid: str, now: datetime) -> JsonDict:
        run = self.current_run
        shown_image = self.pulled_image or self.image
        status: JsonDict = {
            "name": self.name,
            "state": self._state(pod_name, namespace, uid),
            "lastState": self._last_state(),
            "ready": self.ready(now),
            "restartCount": self.restart_count,
            "image": normalize_image(shown_image) if self.pulled_image else shown_image,
            "imageID": image_id(shown_image) if self.pulled_image else "",
        }
        if run is not None:
            status["containerID"] = run.container_id
        status["started"] = self.running()
        return status
