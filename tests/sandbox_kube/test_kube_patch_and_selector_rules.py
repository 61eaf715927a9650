"""The pure rules under the API: strategic merge directives, selectors, quantities, ages."""

from __future__ import annotations

import pytest

from sandbox.kube.clock import human_duration
from sandbox.kube.errors import ApiError
from sandbox.kube.label_selectors import labels_match, parse_label_selector
from sandbox.kube.patching import json_patch, merge_patch, strategic_merge_patch
from sandbox.kube.quantity import parse_quantity


def test_strategic_merge_honours_set_element_order_retain_keys_and_primitive_deletes() -> None:
    original = {
        "containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}],
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
        "finalizers": ["x", "y"],
    }
    patch = {
        "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
        "containers": [{"name": "b", "image": "b:2"}],
        "strategy": {"$retainKeys": ["type"], "type": "Recreate"},
        "$deleteFromPrimitiveList/finalizers": ["x"],
    }
    result = strategic_merge_patch(original, patch)
    assert result["containers"] == [{"name": "b", "image": "b:2"}, {"name": "a", "image": "a:1"}]
    assert result["strategy"] == {"type": "Recreate"}
    assert result["finalizers"] == ["y"]


def test_strategic_merge_replace_directive_and_null_deletes() -> None:
    original = {"env": [{"name": "A", "value": "1"}], "labels": {"keep": "1", "drop": "2"}}
    patch = {"env": [{"$patch": "replace"}, {"name": "B", "value": "2"}], "labels": {"drop": None}}
    assert strategic_merge_patch(original, patch) == {
        "env": [{"name": "B", "value": "2"}],
        "labels": {"keep": "1"},
    }


def test_merge_patch_follows_rfc_7386() -> None:
    assert merge_patch({"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"b": None}, "l": [2]}) == {
        "a": {"c": 2},
        "l": [2],
    }


def test_json_patch_escapes_pointers_and_appends_with_dash() -> None:
    doc = {"metadata": {"annotations": {}}, "items": [1]}
    patched = json_patch(
        doc,
        [
            {"op": "add", "path": "/metadata/annotations/example.com~1team", "value": "x"},
            {"op": "add", "path": "/items/-", "value": 2},
        ],
    )
    assert patched == {"metadata": {"annotations": {"example.com/team": "x"}}, "items": [1, 2]}
    with pytest.raises(ApiError) as error:
        json_patch(doc, [{"op": "remove", "path": "/nope"}])
    assert error.value.code == 422


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("tier in (web,api),env!=prod", {"tier": "web", "env": "dev"}, True),
        ("tier in (web,api),env!=prod", {"tier": "db"}, False),
        ("!canary", {"canary": "true"}, False),
        ("version>3", {"version": "4"}, True),
        ("version<3", {"version": "4"}, False),
        ("team", {}, False),
    ],
)
def test_label_selector_operators(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert labels_match(parse_label_selector(selector), labels) is expected


def test_quantities_and_ages_read_like_kubernetes() -> None:
    assert parse_quantity("500m") * 2 == 1
    assert parse_quantity("1Gi") == 1024**3
    assert parse_quantity("1.5G") == 1_500_000_000
    assert [
        human_duration(s) for s in (5, 119, 185, 900, 15000, 90000, 200000, 3 * 365 * 86400)
    ] == [
        "5s",
        "119s",
        "3m5s",
        "15m",
        "4h10m",
        "25h",
        "2d7h",
        "3y",
    ]
