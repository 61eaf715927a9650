"""Building a real Investigator (settings, store, cache) against the test backends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.deps import Deps, build_deps
from bot.investigation.agent.request import AlertContext, InvestigationRequest, Workflow
from bot.investigation.investigator import Investigator
from bot.settings import Settings, load_settings


def settings_for(
    database: Path,
    *,
    kubeconfig: Path | None = None,
    prometheus: str | None = None,
    logs: str | None = None,
    jaeger: str | None = None,
    claude: str | None = None,
    **llm: Any,
) -> Settings:
    tools: dict[str, Any] = {"logs_flavor": "opensearch", "logs_index": "logs-*"}
    if kubeconfig is not None:
        tools["kubeconfig"] = str(kubeconfig)
    for key, value in (("prometheus_url", prometheus), ("logs_url", logs), ("jaeger_url", jaeger)):
        if value is not None:
            tools[key] = value
    llm_values: dict[str, Any] = {"max_retries": 0, "timeout_seconds": 10.0, **llm}
    if claude is not None:
        llm_values |= {"api_key": "sandbox-key", "base_url": claude}
    return load_settings(database={"url": f"sqlite:///{database}"}, tools=tools, llm=llm_values)


@contextmanager
def investigator(
    settings: Settings, notes: list[str] | None = None
) -> Iterator[tuple[Investigator, Deps]]:
    deps = build_deps(settings)
    notify = notes.append if notes is not None else None
    found = Investigator.from_settings(settings, deps.db, deps.metrics, deps.cache, notify)
    try:
        yield found, deps
    finally:
        found.close()
        deps.close()


def incident(
    namespace: str | None,
    service: str | None,
    alert: str = "SomethingWrong",
    *,
    incident_id: int = 7,
    annotations: dict[str, Any] | None = None,
) -> InvestigationRequest:
    labels = {k: v for k, v in (("namespace", namespace), ("service", service)) if v}
    now = datetime.now(UTC)
    return InvestigationRequest(
        workflow=Workflow.INCIDENT,
        question="",
        now=now,
        incident_id=incident_id,
        title=f"{alert} in {namespace}/{service}",
        namespace=namespace,
        service=service,
        alerts=(
            AlertContext(
                name=alert,
                status="firing",
                starts_at=now,
                labels={"alertname": alert, **labels},
                annotations=annotations or {},
            ),
        ),
    )


def question(text: str, workflow: Workflow = Workflow.ASK) -> InvestigationRequest:
    return InvestigationRequest(
        workflow=workflow, question=text, now=datetime.now(UTC), question_id="q-1"
    )
