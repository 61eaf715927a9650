"""Which signal validates an action: the query given with the proposal, else the PromQL
expression of the incident's alerts (from their generatorURL), else the availability of
the workload the action touched. New requests/limits are judged by their own rollout
(`ResourcesSignal`) unless the proposal names a query."""

from __future__ import annotations

from sqlmodel import col, select

from bot.remediation.operation import Plan
from bot.remediation.parts import Parts
from bot.remediation.resource_signal import ResourcesSignal
from bot.remediation.validation import PromqlSignal, Signal, WorkloadSignal, expression_of
from bot.store.actions import ActionRecord
from bot.store.incidents import Alert
from policies import ResourceKind, SetResourcesParams
from policies.routing import workload_of


def incident_expression(svc: Parts, incident_id: int | None) -> str | None:
    """The PromQL of the incident's alerts, firing ones first."""
    if incident_id is None:
        return None
    with svc.deps.db.session() as session:
        alerts = session.exec(
            select(Alert).where(Alert.incident_id == incident_id).order_by(col(Alert.first_seen))
        ).all()
    ordered = sorted(alerts, key=lambda a: a.status != "firing")
    return next((e for a in ordered if (e := expression_of(a.generator_url))), None)


def signal_for(svc: Parts, record: ActionRecord, plan: Plan) -> Signal | None:
    prometheus = svc.deps.settings.tools.prometheus_url
    api = svc.catalog.api
    target = plan.action.target
    params = plan.action.params
    namespace = target.namespace
    if (
        isinstance(params, SetResourcesParams)
        and namespace is not None
        and api is not None
        and not record.validation_query
    ):
        # New requests/limits are judged by their rollout, whatever alert led to them.
        return ResourcesSignal(api, namespace, target.name, params)
    expr = record.validation_query or incident_expression(svc, record.incident_id)
    if prometheus and expr:
        return PromqlSignal(prometheus, expr)
    if api is None or target.namespace is None:
        return None
    if target.kind is ResourceKind.DEPLOYMENT:
        return WorkloadSignal(api, target.namespace, target.name)
    if target.kind is ResourceKind.POD:
        deployment = workload_of({"pod": target.name})
        if deployment and deployment != target.name:
            return WorkloadSignal(api, target.namespace, deployment)
    return None
