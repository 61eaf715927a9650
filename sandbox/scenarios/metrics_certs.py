"""TLS certificates as the usual exporters publish them: x509-certificate-exporter's
`x509_cert_not_after` (per Secret) and cert-manager's
`certmanager_certificate_expiration_timestamp_seconds` (per Certificate), both Unix seconds.
Written only for the scenario's `cert_expiry` effects; the value is constant (a renewal that
never happened), sampled on the whole grid."""

from __future__ import annotations

from sandbox.scenarios.openmetrics_file import OpenMetricsFile, label_text
from sandbox.scenarios.shop import NAMESPACE
from sandbox.scenarios.spec import Effect
from sandbox.scenarios.timeline import Timeline

ISSUER = "letsencrypt-prod"


def write_cert_metrics(out: OpenMetricsFile, effects: list[Effect], timeline: Timeline) -> None:
    certs = [e for e in effects if e.kind == "cert_expiry" and e.secret]
    if not certs:
        return
    out.family("x509_cert_not_after", "gauge", "Certificate expiration date, Unix seconds")
    for effect in certs:
        labels = label_text(
            {
                "job": "x509-certificate-exporter",
                "secret_namespace": NAMESPACE,
                "secret_name": effect.secret,
                "secret_key": "tls.crt",
                "subject_CN": f"{effect.service}.{NAMESPACE}.svc",
                "issuer_CN": "R11",
            }
        )
        for at in timeline.grid():
            out.sample(labels, float(timeline.incident + effect.since), at)
    out.family(
        "certmanager_certificate_expiration_timestamp_seconds",
        "gauge",
        "The date after which the certificate expires. Expressed as a Unix Epoch Time.",
    )
    for effect in certs:
        labels = label_text(
            {
                "job": "cert-manager",
                "namespace": NAMESPACE,
                "name": effect.secret.removesuffix("-tls"),
                "issuer_name": ISSUER,
                "issuer_kind": "ClusterIssuer",
                "issuer_group": "cert-manager.io",
            }
        )
        for at in timeline.grid():
            out.sample(labels, float(timeline.incident + effect.since), at)
