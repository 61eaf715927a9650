"""A stand-in for Jaeger's HTTP query API (`/api/services`, `/api/traces`, ...)."""

from sandbox.jaeger.app import create_app
from sandbox.jaeger.generate import (
    ErrorResponses,
    NPlusOneQueries,
    SequentialCalls,
    SlowDependency,
    generate_traces,
)
from sandbox.jaeger.loading import load_traces, rebase_traces, write_traces
from sandbox.jaeger.query import TraceQuery
from sandbox.jaeger.store import TraceDataError, TraceStore

__all__ = [
    "ErrorResponses",
    "NPlusOneQueries",
    "SequentialCalls",
    "SlowDependency",
    "TraceDataError",
    "TraceQuery",
    "TraceStore",
    "create_app",
    "generate_traces",
    "load_traces",
    "rebase_traces",
    "write_traces",
]
