"""Which signals validate an action: what proves its kind worked (`proof_for`: the
workload's rollout and availability, the new resources on every replica, the cordoned
node, the grown volume) and the triggering alert's PromQL (the query given with the
proposal, else the expression of the incident's alerts from their generatorURL)."""

from __future__ import annotations

from sqlmodel import col, select

from bot.remediation.action_signals import NodeSignal, VolumeSignal
from bot.remediation.operation import Plan
from bot.remediation.parts import Parts
from bot.remediation.resource_signal import ResourcesSignal
from bot.remediation.validation import (
    AllOf,
    PromqlSignal,
    Signal,
    WorkloadSignal,
    expression_of,
)
from bot.store.actions import ActionRecord
from bot.store.incidents import Alert
from policies import ActionKind, ExpandVolumeParams, ResourceKind, SetResourcesParams
from policies.routing import workload_of


def incident_expression(svc: Parts, incident_id: int | None) -> str | None:
    """The PromQL of the incident's alerts, firing ones first."""
    if incident_id is None:
        return None
    with svc.db.session() as session:
        alerts = session.exec(
            select(Alert).where(Alert.incident_id == incident_id).order_by(col(Alert.first_seen))
        ).all()
    ordered = sorted(alerts, key=lambda a: a.status != "firing")
    return next((e for a in ordered if (e := expression_of(a.generator_url))), None)


def proof_for(svc: Parts, plan: Plan) -> Signal | None:
    """The signal that proves this kind of action did what it is for (None: none known)."""
    api = svc.catalog.api
    target = plan.action.target
    params = plan.action.params
    namespace = target.namespace
    if api is None:
        return None
    if plan.action.kind is ActionKind.CORDON_NODE:
        return NodeSignal(api, target.name)
    if isinstance(params, SetResourcesParams) and namespace is not None:
        return ResourcesSignal(api, namespace, target.name, params)
    if isinstance(params, ExpandVolumeParams) and namespace is not None:
        return VolumeSignal(api, namespace, target.name, params.new_size)
    deployment = target.name if target.kind is ResourceKind.DEPLOYMENT else None
    if target.kind is ResourceKind.POD:
        owner = workload_of({"pod": target.name})
        deployment = owner if owner and owner != target.name else None
    if deployment is None or namespace is None:
        return None
    return WorkloadSignal(api, namespace, deployment)


def signal_for(svc: Parts, record: ActionRecord, plan: Plan) -> Signal | None:
    """What validation reads: the action's own proof and the triggering alert's expression
    (or the query given with the proposal), both live; either alone when the other is
    unknown."""
    prometheus = svc.prometheus_url
    expr = record.validation_query or incident_expression(svc, record.incident_id)
    alert = PromqlSignal(prometheus, expr) if prometheus and expr else None
    proof = proof_for(svc, plan)
    if proof is not None and alert is not None:
        return AllOf(proof, alert)
    return proof or alert
