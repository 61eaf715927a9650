"""Scenario folders: find them and read one into a `Scenario`.

A folder holds:
  scenario.yaml  story, timing, and what the generators change (metrics, logs, traces)
  cluster.yaml   kube seed (sandbox/kube/seed.py format) extending ../shop-cluster.yaml;
                 its `faults`, `rollouts` and `autoscale` happen at the incident start,
                 its `writes` (ConfigMap/Secret applies) the given time before it
  alerts.yaml    Prometheus alerting rules; playing the scenario evaluates them and posts
                 what they return through the real Alertmanager
  expected.yaml  root cause, the expected remediation (a policies.ActionKind and its
                 target) and the evidence each backend must show
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sandbox.scenarios.spec import Autoscale, Expected, ObjectWrite, Rollout, ScenarioSpec

SCENARIOS_DIR = Path(__file__).resolve().parent
FOLDER_FILES = ("scenario.yaml", "cluster.yaml", "alerts.yaml", "expected.yaml")
INCIDENT_KEYS = ("faults", "rollouts", "autoscale", "writes")

JsonDict = dict[str, Any]


class ScenarioError(ValueError):
    """A scenario that does not exist or whose files are malformed."""


@dataclass(frozen=True)
class Scenario:
    name: str
    folder: Path
    spec: ScenarioSpec
    seed: JsonDict  # the cluster before the incident (kube seed format, base merged in)
    faults: list[JsonDict]  # sandbox.kube Fault fields, injected at the incident start
    rollouts: list[Rollout]
    alert_rules: JsonDict  # a Prometheus rule file: {"groups": [...]}
    expected: Expected
    autoscale: tuple[Autoscale, ...] = ()  # HPAs rescaling at the incident start
    writes: tuple[ObjectWrite, ...] = ()  # ConfigMap/Secret applies before the incident

    @property
    def random_seed(self) -> int:
        """Stable per scenario name, so generated data is reproducible."""
        return int.from_bytes(hashlib.sha256(self.name.encode()).digest()[:4], "big")

    def rules(self) -> list[JsonDict]:
        return [rule for group in self.alert_rules["groups"] for rule in group["rules"]]


def scenario_names(root: Path = SCENARIOS_DIR) -> list[str]:
    return sorted(
        path.name for path in root.iterdir() if path.is_dir() and (path / "scenario.yaml").exists()
    )


def load_scenario(name: str, root: Path = SCENARIOS_DIR) -> Scenario:
    folder = root / name
    if not (folder / "scenario.yaml").is_file():
        known = ", ".join(scenario_names(root))
        raise ScenarioError(f"no scenario {name!r}; known: {known}")
    missing = [file for file in FOLDER_FILES if not (folder / file).is_file()]
    if missing:
        raise ScenarioError(f"scenario {name}: missing {', '.join(missing)}")
    try:
        spec = ScenarioSpec.model_validate(_read(folder / "scenario.yaml"))
        expected = Expected.model_validate(_read(folder / "expected.yaml"))
        cluster = _read(folder / "cluster.yaml")
        rollouts = [Rollout.model_validate(item) for item in cluster.get("rollouts") or []]
        autoscale = tuple(Autoscale.model_validate(i) for i in cluster.get("autoscale") or [])
        writes = tuple(ObjectWrite.model_validate(i) for i in cluster.get("writes") or [])
    except ValidationError as err:
        raise ScenarioError(f"scenario {name}: {err}") from err
    rules = _read(folder / "alerts.yaml")
    if not isinstance(rules.get("groups"), list) or not rules["groups"]:
        raise ScenarioError(f"scenario {name}: alerts.yaml needs rule groups")
    return Scenario(
        name=name,
        folder=folder,
        spec=spec,
        seed=cluster_seed(cluster, folder),
        faults=[dict(fault) for fault in cluster.get("faults") or []],
        rollouts=rollouts,
        alert_rules=rules,
        expected=expected,
        autoscale=autoscale,
        writes=writes,
    )


def cluster_seed(cluster: JsonDict, folder: Path) -> JsonDict:
    """The kube seed: the `extends` base with this file's namespaces, nodes, deployments and
    objects merged in (same name and namespace, and kind for objects, replaces), minus the
    incident-time keys."""
    own = {key: value for key, value in cluster.items() if key not in INCIDENT_KEYS}
    base_name = own.pop("extends", None)
    if base_name is None:
        return own
    base = _read((folder / str(base_name)).resolve())
    merged = {**base, **{k: v for k, v in own.items() if k not in ("nodes", "deployments")}}
    merged["nodes"] = _merge(base.get("nodes"), own.get("nodes"))
    merged["deployments"] = _merge(base.get("deployments"), own.get("deployments"))
    merged["namespaces"] = _merge(base.get("namespaces"), own.get("namespaces"))
    merged["objects"] = _merge_objects(base.get("objects"), own.get("objects"))
    return merged


def _merge_objects(base: list[JsonDict] | None, own: list[JsonDict] | None) -> list[JsonDict]:
    def key(item: JsonDict) -> tuple[str, str, str]:
        meta = item.get("metadata") or {}
        return str(item.get("kind")), str(meta.get("namespace", "")), str(meta.get("name"))

    replaced = {key(item): item for item in own or []}
    result = [replaced.pop(key(item), item) for item in base or []]
    return result + list(replaced.values())


def _merge(base: list[JsonDict] | None, own: list[JsonDict] | None) -> list[JsonDict]:
    def key(item: JsonDict) -> tuple[str, str]:
        return str(item.get("namespace", "")), str(item["name"])

    replaced = {key(item): item for item in own or []}
    result = [replaced.pop(key(item), item) for item in base or []]
    return result + list(replaced.values())


def _read(path: Path) -> JsonDict:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise ScenarioError(f"{path}: {err}") from err
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: expected a mapping")
    return data
