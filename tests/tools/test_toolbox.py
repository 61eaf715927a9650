"""The Toolbox: Messages API definitions, validation naming fields, dispatch that never raises."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import Field

from sandbox.kube import KubeSandbox
from sandbox.procs import OpenSearchProcess, PrometheusProcess, free_port
from sandbox.serve import ServerThread
from tools import (
    ErrorKind,
    JaegerConfig,
    KubernetesConfig,
    LogSearchConfig,
    PrometheusConfig,
    Tool,
    ToolArgs,
    Toolbox,
    ToolResult,
    ToolsConfig,
)
from tools.registry import build_toolbox
from tools.schema import undocumented_properties

DEAD = f"http://127.0.0.1:{free_port()}"
EVERY_BACKEND = ToolsConfig(
    prometheus=PrometheusConfig(url=DEAD),
    logs=LogSearchConfig(url=DEAD, flavor="opensearch"),
    jaeger=JaegerConfig(url=DEAD),
    kubernetes=KubernetesConfig(api_url=DEAD),
)
EXPECTED_TOOLS = {
    "prometheus_query",
    "prometheus_range_query",
    "prometheus_label_values",
    "prometheus_series",
    "prometheus_alerts",
    "alert_rule",
    "log_search",
    "log_top_errors",
    "log_error_histogram",
    "jaeger_services",
    "jaeger_find_traces",
    "jaeger_get_trace",
    "service_graph",
    "k8s_pods",
    "k8s_volume_claims",
    "k8s_jobs",
    "k8s_events",
    "k8s_pod_logs",
    "k8s_deployment",
    "k8s_nodes",
    "workload_resources",
    "workload_config",
    "k8s_service_clients",
    "change_timeline",
}


@pytest.fixture(scope="module")
def offline_toolbox() -> Toolbox:
    """Every tool, each pointed at a port where nothing listens."""
    return build_toolbox(EVERY_BACKEND)


def test_definitions_are_valid_json_schemas_with_every_field_described(
    offline_toolbox: Toolbox,
) -> None:
    definitions = offline_toolbox.definitions()
    assert {d["name"] for d in definitions} == EXPECTED_TOOLS
    for definition in definitions:
        assert set(definition) == {"name", "description", "input_schema"}
        assert re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", definition["name"])
        assert len(definition["description"]) > 40
        schema = definition["input_schema"]
        Draft202012Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert isinstance(schema["properties"], dict)
        assert isinstance(schema["required"], list)
        assert set(schema["required"]) <= set(schema["properties"])
        assert schema["additionalProperties"] is False
        assert undocumented_properties(schema) == [], definition["name"]
        assert "$ref" not in str(schema)


def test_schemas_accept_what_the_args_models_accept(offline_toolbox: Toolbox) -> None:
    schema = offline_toolbox.get("jaeger_find_traces").input_schema()
    validator = Draft202012Validator(schema)
    call = {"service": "checkout", "tags": {"http.status_code": "500"}, "min_duration": "1s"}
    assert list(validator.iter_errors(call)) == []
    assert list(validator.iter_errors({"tags": {}}))  # service is required
    assert schema["properties"]["min_duration"]["type"] == "string"  # optional, not anyOf null


def test_a_bad_value_is_reported_with_the_field_name(offline_toolbox: Toolbox) -> None:
    result = offline_toolbox.run("prometheus_range_query", {"query": "up", "lookback": "soon"})
    assert result.is_error
    assert result.error_kind is ErrorKind.INVALID_INPUT
    assert "field 'lookback'" in result.content
    assert "30s, 15m, 1h30m" in result.content


def test_missing_and_unknown_fields_are_named(offline_toolbox: Toolbox) -> None:
    result = offline_toolbox.run("prometheus_range_query", {"expr": "up"})
    assert "field 'query': Field required" in result.content
    assert "field 'expr': unknown field; remove it" in result.content


def test_nested_field_errors_name_the_path(offline_toolbox: Toolbox) -> None:
    result = offline_toolbox.run("jaeger_find_traces", {"service": "x", "tags": {"a": 1}})
    assert "field 'tags.a'" in result.content


def test_unknown_tool_and_non_object_input_are_errors_not_exceptions(
    offline_toolbox: Toolbox,
) -> None:
    unknown = offline_toolbox.run("kubectl_delete", {})
    assert unknown.error_kind is ErrorKind.INVALID_INPUT
    assert "prometheus_query" in unknown.content
    not_an_object = offline_toolbox.run("k8s_nodes", ["node-1"])  # type: ignore[arg-type]
    assert not_an_object.error_kind is ErrorKind.INVALID_INPUT


def test_every_tool_answers_an_error_result_when_its_backend_is_down(
    offline_toolbox: Toolbox,
) -> None:
    inputs: dict[str, dict[str, Any]] = {
        "prometheus_query": {"query": "up"},
        "prometheus_range_query": {"query": "up"},
        "prometheus_series": {"match": ["up"]},
        "jaeger_find_traces": {"service": "checkout"},
        "jaeger_get_trace": {"trace_id": "abc"},
        "k8s_pod_logs": {"pod": "web-1"},
        "k8s_deployment": {"name": "web"},
        "alert_rule": {"name": "HighErrorRate"},
        "service_graph": {"service": "checkout"},
        "workload_resources": {"workload": "web"},
        "workload_config": {"workload": "web"},
        "k8s_service_clients": {"service": "postgres"},
    }
    for name in sorted(EXPECTED_TOOLS):
        result = offline_toolbox.run(name, inputs.get(name, {}))
        assert result.is_error, name
        assert result.error_kind is ErrorKind.UNAVAILABLE, (name, result.content)


def test_build_toolbox_offers_only_configured_backends() -> None:
    toolbox = build_toolbox(ToolsConfig(jaeger=JaegerConfig(url=DEAD)))
    assert toolbox.names() == [
        "jaeger_services",
        "jaeger_find_traces",
        "jaeger_get_trace",
        "service_graph",
    ]
    toolbox.close()


def test_the_assembled_toolbox_works_against_real_backends(
    prometheus: PrometheusProcess,
    opensearch: OpenSearchProcess,
    jaeger: ServerThread,
    kube: KubeSandbox,
) -> None:
    config = ToolsConfig(
        prometheus=PrometheusConfig(url=prometheus.url),
        logs=LogSearchConfig(url=opensearch.url, flavor="opensearch"),
        jaeger=JaegerConfig(url=jaeger.url),
        kubernetes=KubernetesConfig(default_namespace="prod"),
    )
    toolbox = build_toolbox(config, kube_api_client=kube.api_client())
    calls: dict[str, dict[str, Any]] = {
        "prometheus_query": {"query": "sum(queue_depth)"},
        "log_top_errors": {"lookback": "3h"},
        "jaeger_services": {},
        "k8s_deployment": {"name": "payments"},
    }
    for name, raw in calls.items():
        result = toolbox.run(name, raw)
        assert result.ok, (name, result.content)
        assert not result.no_data, name
        assert result.evidence, name
        dumped = json.loads(result.model_dump_json())
        assert dumped["data"], name  # the structured data survives serialisation
    toolbox.close()
    toolbox.close()  # closing twice is harmless


class _ExplodingArgs(ToolArgs):
    reason: str = Field("bug", description="What goes wrong.")


class _ExplodingTool(Tool[_ExplodingArgs]):
    name = "exploding"
    description = "A tool with a bug, to show run() keeps its promise."
    args_model = _ExplodingArgs

    def execute(self, args: _ExplodingArgs) -> ToolResult:
        raise KeyError(args.reason)


def test_a_bug_inside_a_tool_becomes_an_internal_error_result() -> None:
    result = Toolbox([_ExplodingTool()]).run("exploding", {})
    assert result.error_kind is ErrorKind.INTERNAL
    assert "KeyError" in result.content
    block = result.as_tool_result_block("toolu_01")
    assert block == {
        "type": "tool_result",
        "tool_use_id": "toolu_01",
        "content": result.content,
        "is_error": True,
    }


def test_registering_a_tool_with_an_undescribed_field_fails() -> None:
    class Args(ToolArgs):
        secret: str = "x"

    class Undocumented(Tool[Args]):
        name = "undocumented"
        description = "Has a field without a description."
        args_model = Args

        def execute(self, args: Args) -> ToolResult:
            return ToolResult.success(self.name, "ok")

    with pytest.raises(ValueError, match="secret"):
        Toolbox([Undocumented()])
