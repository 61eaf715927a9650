"""Container logs: generated lines per container run, served with the kubelet's semantics."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sandbox.kube.clock import format_nano_time, parse_time
from sandbox.kube.errors import ApiError, bad_request

JsonDict = dict[str, Any]
MAX_GENERATED_LINES = 5000


@dataclass
class LogProfile:
    """How a container writes: `startup` once per start, then `lines` cycled every interval.

    Placeholders: {pod} {namespace} {container} {image} {version} {n} {ms} {status} {trace} {bytes}
    """

    lines: list[str]
    startup: list[str] = field(default_factory=list)
    interval_seconds: float = 5.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LogProfile:
        return cls(
            lines=[str(line) for line in data.get("lines") or HTTP_PROFILE.lines],
            startup=[str(line) for line in data.get("startup") or []],
            interval_seconds=float(data.get("interval_seconds", 5.0)),
        )


HTTP_PROFILE = LogProfile(
    startup=[
        'level=info msg="starting {container}" version={version}',
        'level=info msg="connected to upstream dependencies" pool_size=20',
        'level=info msg="listening" addr=:8080',
    ],
    lines=[
        'level=info msg="request handled" method=GET path=/api/v1/items status={status} '
        "duration_ms={ms} trace_id={trace}",
        'level=info msg="request handled" method=POST path=/api/v1/orders status={status} '
        "duration_ms={ms} trace_id={trace}",
        'level=debug msg="cache lookup" hit=true key=item:{n}',
        'level=info msg="request handled" method=GET path=/healthz status=200 duration_ms=1',
    ],
)
DATABASE_PROFILE = LogProfile(
    startup=[
        "LOG:  starting PostgreSQL 15.4 on x86_64-pc-linux-gnu",
        'LOG:  listening on IPv4 address "0.0.0.0", port 5432',
        "LOG:  database system is ready to accept connections",
    ],
    lines=[
        "LOG:  checkpoint starting: time",
        "LOG:  checkpoint complete: wrote {n} buffers (0.{ms}%); write={ms}.004 s",
        "LOG:  duration: {ms}.412 ms  statement: SELECT * FROM orders WHERE id = {n}",
    ],
    interval_seconds=10.0,
)
WORKER_PROFILE = LogProfile(
    startup=['level=info msg="worker started" queue=default concurrency=4'],
    lines=[
        'level=info msg="job completed" job_id={n} duration_ms={ms}',
        'level=info msg="polling queue" depth={n}',
    ],
)
DEATH_LINES: dict[str, list[str]] = {
    "oom": [
        'level=warn msg="memory usage high" heap_bytes={bytes} limit_reached=0.93',
        'level=warn msg="memory usage high" heap_bytes={bytes} limit_reached=0.99',
        "fatal error: runtime: out of memory",
    ],
    "crash": [
        "panic: runtime error: invalid memory address or nil pointer dereference",
        "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6c2f3a]",
        "",
        "goroutine 1 [running]:",
        "main.(*Server).handle(0xc0001a2000, 0xc0002b4000)",
        "\t/src/server.go:142 +0x3a",
        "main.main()",
        "\t/src/main.go:58 +0x1d4",
    ],
}


def default_profile(image: str) -> LogProfile:
    lowered = image.lower()
    if any(name in lowered for name in ("postgres", "mysql", "-db", "database")):
        return DATABASE_PROFILE
    if "worker" in lowered or "consumer" in lowered:
        return WORKER_PROFILE
    return HTTP_PROFILE


@dataclass
class ContainerRun:
    """One start of one container: its logs exist from `started_at` to `finished_at`."""

    container_id: str
    pod: str
    namespace: str
    container: str
    image: str
    profile: LogProfile
    started_at: datetime
    finished_at: datetime | None = None
    reason: str | None = None
    exit_code: int | None = None
    final_lines: list[str] = field(default_factory=list)

    def _fill(self, template: str, n: int) -> str:
        digest = hashlib.sha256(f"{self.container_id}:{n}".encode()).hexdigest()
        number = int(digest[:8], 16)
        values = {
            "pod": self.pod,
            "namespace": self.namespace,
            "container": self.container,
            "image": self.image,
            "version": self.image.rsplit(":", 1)[-1]
            if ":" in self.image.rsplit("/", 1)[-1]
            else "latest",
            "n": str(number % 10000),
            "ms": str(3 + number % 250),
            "status": "500" if number % 97 == 0 else ("404" if number % 31 == 0 else "200"),
            "trace": digest[8:40],
            "bytes": str(200_000_000 + number % 60_000_000),
        }
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            return template

    def lines(self, now: datetime) -> list[tuple[datetime, str]]:
        end = min(self.finished_at or now, now)
        out: list[tuple[datetime, str]] = []
        for index, template in enumerate(self.profile.startup):
            at = self.started_at + timedelta(milliseconds=40 * index)
            if at <= end:
                out.append((at, _stamp(at, self._fill(template, index))))
        interval = max(self.profile.interval_seconds, 0.1)
        first = self.started_at + timedelta(seconds=1)
        total = int(max((end - first).total_seconds(), -1) // interval) + 1 if end >= first else 0
        start_index = max(0, total - MAX_GENERATED_LINES)
        for k in range(start_index, total):
            at = first + timedelta(seconds=k * interval)
            template = self.profile.lines[k % len(self.profile.lines)] if self.profile.lines else ""
            out.append((at, _stamp(at, self._fill(template, k + 1000))))
        if self.finished_at is not None and self.finished_at <= now:
            count = len(self.final_lines)
            for index, template in enumerate(self.final_lines):
                at = self.finished_at - timedelta(milliseconds=20 * (count - index))
                out.append((at, self._fill(template, 900 + index)))
        return out


def _stamp(at: datetime, text: str) -> str:
    return f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3]}Z {text}" if text else text


@dataclass(frozen=True)
class LogQuery:
    container: str | None = None
    previous: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    since_time: str | None = None
    timestamps: bool = False
    limit_bytes: int | None = None


def pick_container(pod: JsonDict, requested: str | None) -> str:
    name = pod["metadata"]["name"]
    names = [c["name"] for c in pod["spec"].get("containers") or []]
    if requested is None:
        if len(names) != 1:
            raise bad_request(
                f"a container name must be specified for pod {name}, "
                f"choose one of: [{' '.join(names)}]"
            )
        return str(names[0])
    init_names = [c["name"] for c in pod["spec"].get("initContainers") or []]
    if requested not in names + init_names:
        raise bad_request(f"container {requested} is not valid for pod {name}")
    return requested


def _waiting_message(container: str, pod: str, reason: str) -> str:
    if reason == "ErrImagePull":
        return f'container "{container}" in pod "{pod}" is waiting to start: image can\'t be pulled'
    if reason == "ImagePullBackOff":
        return (
            f'container "{container}" in pod "{pod}" is waiting to start: '
            "trying and failing to pull image"
        )
    return f'container "{container}" in pod "{pod}" is waiting to start: {reason}'


def choose_container_id(pod: JsonDict, container: str, previous: bool) -> str:
    """The kubelet's choice of which container instance's log to serve."""
    pod_name = pod["metadata"]["name"]
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    status = next((s for s in statuses if s.get("name") == container), None)
    if status is None:
        raise bad_request(f'container "{container}" in pod "{pod_name}" is not available')
    last = (status.get("lastState") or {}).get("terminated")
    state = status.get("state") or {}
    if previous:
        if not last or not last.get("containerID"):
            raise bad_request(
                f'previous terminated container "{container}" in pod "{pod_name}" not found'
            )
        return str(last["containerID"])
    if state.get("running"):
        return str(status.get("containerID"))
    if state.get("terminated"):
        return str(state["terminated"].get("containerID") or (last or {}).get("containerID") or "")
    if last and last.get("containerID"):
        return str(last["containerID"])
    if state.get("waiting"):
        raise bad_request(
            _waiting_message(container, pod_name, str(state["waiting"].get("reason", "")))
        )
    raise bad_request(
        f'container "{container}" in pod "{pod_name}" is waiting to start - no logs yet'
    )


def render_log(run: ContainerRun, query: LogQuery, now: datetime) -> str:
    entries = run.lines(now)
    if query.since_seconds is not None:
        cutoff = now - timedelta(seconds=query.since_seconds)
        entries = [entry for entry in entries if entry[0] >= cutoff]
    elif query.since_time:
        try:
            cutoff = parse_time(query.since_time)
        except ValueError as exc:
            raise bad_request(f"sinceTime: invalid value {query.since_time!r}") from exc
        entries = [entry for entry in entries if entry[0] >= cutoff]
    if query.tail_lines is not None:
        entries = entries[-query.tail_lines :] if query.tail_lines > 0 else []
    rendered = []
    for at, text in entries:
        rendered.append(f"{format_nano_time(at)} {text}" if query.timestamps else text)
    body = "".join(f"{line}\n" for line in rendered)
    if query.limit_bytes is not None:
        body = body.encode()[: query.limit_bytes].decode(errors="ignore")
    return body


def unreachable_kubelet(node_ip: str, namespace: str, pod: str, container: str) -> ApiError:
    url = f"https://{node_ip}:10250/containerLogs/{namespace}/{pod}/{container}"
    return ApiError(
        500, "InternalError", f'Get "{url}": dial tcp {node_ip}:10250: connect: no route to host'
    )
