"""Watch streams work with `kubernetes._watcher().stream(...)`."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from kubernetes import client, watch

from sandbox.kube import KubeSandbox


def _watcher() -> Any:
    """kubernetes.watch is untyped upstream."""
    return watch.Watch()  # type: ignore[no-untyped-call]


def _apps(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed AppsV1Api, used as Any: every field of its models is Optional."""
    return client.AppsV1Api(sandbox.api_client(token))


def _core(sandbox: KubeSandbox, token: str | None = None) -> Any:
    """The typed CoreV1Api, used as Any: every field of its models is Optional."""
    return client.CoreV1Api(sandbox.api_client(token))


def test_watch_stream_delivers_added_then_modified_events(kube: KubeSandbox) -> None:
    apps = _apps(kube)
    initial = apps.list_namespaced_deployment("prod")
    events: list[tuple[str, str, int | None]] = []

    def scale_later() -> None:
        _apps(kube).patch_namespaced_deployment_scale("payments", "prod", {"spec": {"replicas": 3}})

    watcher = _watcher()
    timer = threading.Timer(0.3, scale_later)
    timer.start()
    for event in watcher.stream(
        apps.list_namespaced_deployment,
        "prod",
        resource_version=initial.metadata.resource_version,
        timeout_seconds=5,
    ):
        obj = event["object"]
        events.append((event["type"], obj.metadata.name, obj.spec.replicas))
        if event["type"] == "MODIFIED" and obj.metadata.name == "payments":
            watcher.stop()
            break
    timer.join()
    assert ("MODIFIED", "payments", 3) in events
    assert type(event["object"]).__name__ == "V1Deployment"


def test_watch_without_resource_version_starts_with_synthetic_added_events(
    shared_kube: KubeSandbox,
) -> None:
    core = _core(shared_kube)
    seen = [
        (e["type"], e["object"].metadata.name)
        for e in _watcher().stream(core.list_namespace, timeout_seconds=1)
    ]
    assert ("ADDED", "prod") in seen
    assert ("ADDED", "kube-system") in seen


def test_watch_honours_selectors_and_reports_objects_leaving_them_as_deleted(
    kube: KubeSandbox,
) -> None:
    core = _core(kube)
    listed = core.list_namespaced_pod("prod", label_selector="app=orders-db")
    pod = listed.items[0].metadata.name

    def relabel() -> None:
        _core(kube).patch_namespaced_pod(pod, "prod", {"metadata": {"labels": {"app": "moved"}}})

    timer = threading.Timer(0.3, relabel)
    timer.start()
    watcher = _watcher()
    types: list[tuple[str, str]] = []
    for event in watcher.stream(
        core.list_namespaced_pod,
        "prod",
        label_selector="app=orders-db",
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    ):
        types.append((event["type"], event["object"].metadata.name))
        if event["type"] == "DELETED":
            watcher.stop()
    timer.join()
    assert ("DELETED", pod) in types


def test_resuming_from_a_compacted_resource_version_is_410_gone(shared_kube: KubeSandbox) -> None:
    response = httpx.get(
        shared_kube.url + "/api/v1/pods?watch=true&resourceVersion=5&timeoutSeconds=1", timeout=10
    )
    first: dict[str, Any] = response.json()
    assert first["type"] == "ERROR"
    assert first["object"]["code"] == 410
    assert first["object"]["reason"] == "Expired"


def test_bookmarks_and_initial_events_end_marker(shared_kube: KubeSandbox) -> None:
    query = (
        "watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
        "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1"
    )
    response = httpx.get(f"{shared_kube.url}/api/v1/namespaces?{query}", timeout=10)
    lines = [line for line in response.text.splitlines() if line]
    events = [json.loads(line) for line in lines]
    assert events[0]["type"] == "ADDED"
    bookmark = next(e for e in events if e["type"] == "BOOKMARK")
    assert bookmark["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
