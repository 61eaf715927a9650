"""Jobs with their outcome (Complete, Failed, Running), counts and when they finished."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

from kubernetes import client
from pydantic import BaseModel, Field

from tools.base import ToolResult
from tools.budget import fit_items
from tools.k8s.base import KubeTool, NamespacedArgs, dashboard_object
from tools.k8s.connection import kube_call
from tools.timewindow import iso


class JobInfo(BaseModel):
    name: str
    namespace: str
    status: str = Field(description="Complete, Failed, Suspended or Running.")
    reason: str | None = Field(None, description="Of the Failed condition, e.g. DeadlineExceeded.")
    message: str | None = None
    succeeded: int
    failed: int
    active: int
    started: datetime | None
    finished: datetime | None = Field(description="Completion or failure time.")
    age_hours: float | None = Field(description="Hours since it finished (else since creation).")
    owner: str | None = Field(None, description="Kind/name of the controller, e.g. a CronJob.")


class JobsData(BaseModel):
    """Structured result of k8s_jobs."""

    namespace: str
    total: int
    jobs: list[JobInfo] = Field(description="Failed first, then newest first.")


class JobsArgs(NamespacedArgs):
    only_failed: bool = Field(False, description="Only jobs whose Failed condition is True.")


def job_info(job: client.V1Job, now: datetime) -> JobInfo:
    meta, status = job.metadata or client.V1ObjectMeta(), job.status or client.V1JobStatus()
    conditions = {c.type: c for c in status.conditions or [] if c.status == "True"}
    outcome = next((k for k in ("Complete", "Failed", "Suspended") if k in conditions), "Running")
    failed = conditions.get("Failed")
    finished = status.completion_time or (failed.last_transition_time if failed else None)
    reference = finished or meta.creation_timestamp
    owners = meta.owner_references or []
    return JobInfo(
        name=str(meta.name or ""),
        namespace=str(meta.namespace or ""),
        status=outcome,
        reason=failed.reason if failed else None,
        message=failed.message if failed else None,
        succeeded=int(status.succeeded or 0),
        failed=int(status.failed or 0),
        active=int(status.active or 0),
        started=status.start_time,
        finished=finished,
        age_hours=round((now - reference).total_seconds() / 3600, 1) if reference else None,
        owner=f"{owners[0].kind}/{owners[0].name}" if owners else None,
    )


def describe_job(info: JobInfo) -> str:
    line = f"- {info.name} {info.status}: {info.succeeded} succeeded, {info.failed} failed"
    if info.active:
        line += f", {info.active} active"
    if info.finished is not None:
        line += f", finished {iso(info.finished)} ({info.age_hours}h ago)"
    if info.reason:
        line += f", reason {info.reason}"
    return line


class JobsTool(KubeTool[JobsArgs]):
    name = "k8s_jobs"
    description = (
        "List batch Jobs of a namespace with outcome (Complete, Failed, Running), succeeded/"
        "failed pod counts, failure reason and when they finished; failed jobs come first."
    )
    args_model = JobsArgs

    def caps(self) -> str:
        c = self.config
        return f"about {c.output.max_tokens} tokens of output, the rest counted"

    @cached_property
    def batch(self) -> client.BatchV1Api:
        """The batch/v1 API on the shared client (Jobs live there)."""
        return client.BatchV1Api(self.api_client)

    def execute(self, args: JobsArgs) -> ToolResult:
        namespace = self.namespace(args.namespace)
        listed = kube_call(
            f"jobs in namespace {namespace}",
            lambda: self.batch.list_namespaced_job(namespace, _request_timeout=self.timeout),
        )
        now = self.clock()
        jobs = [job_info(j, now) for j in listed.items]
        total = len(jobs)
        if args.only_failed:
            jobs = [j for j in jobs if j.status == "Failed"]
        jobs.sort(key=lambda j: (j.status != "Failed", j.age_hours or 0.0, j.name))
        data = JobsData(namespace=namespace, total=total, jobs=jobs)
        call = f"GET /apis/batch/v1/namespaces/{namespace}/jobs"
        link = dashboard_object("job", namespace, None)
        if not jobs:
            what = "failed jobs" if args.only_failed else "jobs"
            content = f"No data: no {what} in {namespace} ({total} jobs in all)."
            evidence = self.evidence(call, {}, "no data", link)
            return ToolResult.empty(self.name, content, data=data, evidence=[evidence])
        lines = [describe_job(j) for j in jobs]
        failed = sum(1 for j in jobs if j.status == "Failed")
        content, left_out = fit_items(
            f"{len(jobs)} jobs in {namespace}, {failed} failed:",
            lines,
            self.config.output.max_chars,
            lambda n: f"... and {n} more jobs left out; use only_failed.",
        )
        evidence = self.evidence(call, {}, lines[0], link)
        return ToolResult.success(
            self.name, content, data=data, evidence=[evidence], truncated=left_out > 0
        )
