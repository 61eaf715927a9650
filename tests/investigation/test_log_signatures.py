"""Failure classes are recognised in the wording of every common runtime and proxy, and a
caller's client-side error (a 5xx it received included) points at the callee it names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.investigation.patterns.focus import log_blame
from bot.investigation.patterns.log_signatures import (
    Failure,
    classify,
    dependency_named,
    reports_callee_error,
)
from tools.logs.aggregation_tools import MessageGroup

LINES = [
    # TLS / certificates
    ("x509: certificate has expired or is not yet valid", Failure.TLS),
    ("javax.net.ssl.SSLHandshakeException: PKIX path validation failed", Failure.TLS),
    (
        "ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
        Failure.TLS,
    ),
    (
        "Error: certificate has expired at TLSSocket.onConnectSecure code: 'CERT_HAS_EXPIRED'",
        Failure.TLS,
    ),
    (
        "System.Security.Authentication.AuthenticationException: The remote certificate is invalid",
        Failure.TLS,
    ),
    (
        "SSL_do_handshake() failed (SSL: error:0A000086:SSL routines::certificate verify failed)",
        Failure.TLS,
    ),
    # DNS
    ("java.net.UnknownHostException: postgres.prod.svc.cluster.local", Failure.DNS),
    ("socket.gaierror: [Errno -3] Temporary failure in name resolution", Failure.DNS),
    ("dial tcp: lookup payments.prod.svc.cluster.local: no such host", Failure.DNS),
    ("Error: getaddrinfo ENOTFOUND redis.cache.svc", Failure.DNS),
    ("System.Net.Sockets.SocketException: No such host is known", Failure.DNS),
    ("[error] 7#7: *1 orders could not be resolved (3: Host not found)", Failure.DNS),
    ("Error: getaddrinfo EAI_AGAIN orders: Name does not resolve", Failure.DNS),
    ("[warning] envoy upstream: DNS resolution failed for orders.prod.svc", Failure.DNS),
    # connection refused / reset
    ("dial tcp 10.0.0.5:8080: connect: connection refused", Failure.REFUSED),
    ("Error: connect ECONNREFUSED 10.244.1.7:5432", Failure.REFUSED),
    ("java.net.SocketException: Connection reset", Failure.REFUSED),
    (
        "upstream connect error or disconnect/reset before headers. reset reason: "
        "connection termination",
        Failure.REFUSED,
    ),
    ("No connection could be made because the target machine actively refused it", Failure.REFUSED),
    (
        "System.IO.IOException: Unable to read data from the transport connection: An existing "
        "connection was forcibly closed by the remote host.",
        Failure.REFUSED,
    ),
    ("Error: socket hang up at connResetException (node:internal/errors:720:14)", Failure.REFUSED),
    (
        "urllib3.exceptions.ProtocolError: ('Connection aborted.', RemoteDisconnected('Remote "
        "end closed connection without response'))",
        Failure.REFUSED,
    ),
    (
        '[error] 31#31: *9 no live upstreams while connecting to upstream, upstream: "http://orders"',
        Failure.REFUSED,
    ),
    # timeouts
    ('Post "http://inventory:8080/reserve": context deadline exceeded', Failure.TIMEOUT),
    ("java.net.SocketTimeoutException: Read timed out", Failure.TIMEOUT),
    (
        "requests.exceptions.ReadTimeout: HTTPConnectionPool(host='a', port=80): Read timed out.",
        Failure.TIMEOUT,
    ),
    (
        "System.Threading.Tasks.TaskCanceledException: The request was canceled due to the "
        "configured HttpClient.Timeout",
        Failure.TIMEOUT,
    ),
    ("upstream request timeout", Failure.TIMEOUT),
    (
        "upstream timed out (110: Connection timed out) while reading response header",
        Failure.TIMEOUT,
    ),
    # out of memory
    ("java.lang.OutOfMemoryError: Java heap space", Failure.OOM),
    ("fatal error: runtime: out of memory", Failure.OOM),
    (
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
        Failure.OOM,
    ),
    (
        "System.OutOfMemoryException: Exception of type 'System.OutOfMemoryException' was thrown.",
        Failure.OOM,
    ),
    # missing configuration
    (
        "Could not resolve placeholder 'gateway.api-key' in value \"${gateway.api-key}\"",
        Failure.CONFIG,
    ),
    ("KeyError: 'DATABASE_URL'", Failure.CONFIG),
    ("Error: couldn't find key api-key in Secret prod/payments", Failure.CONFIG),
    (
        "Microsoft.Extensions.Options.OptionsValidationException: DataAnnotation validation failed",
        Failure.CONFIG,
    ),
    # authentication
    ('FATAL: password authentication failed for user "payments"', Failure.AUTH),
    ("Access denied for user 'app'@'10.0.0.3' (using password: YES)", Failure.AUTH),
    ("Login failed for user 'orders'.", Failure.AUTH),
    ("NOAUTH Authentication required.", Failure.AUTH),
    # disk full
    ("java.io.IOException: No space left on device", Failure.DISK_FULL),
    ("OSError: [Errno 28] No space left on device", Failure.DISK_FULL),
    ("Error: ENOSPC: no space left on device, write", Failure.DISK_FULL),
    ("System.IO.IOException: There is not enough space on the disk.", Failure.DISK_FULL),
    # too many connections
    (
        "psycopg2.OperationalError: FATAL: sorry, too many clients already",
        Failure.TOO_MANY_CONNECTIONS,
    ),
    (
        "HikariPool-1 - Connection is not available, request timed out after 30000ms",
        Failure.TOO_MANY_CONNECTIONS,
    ),
    (
        "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached",
        Failure.TOO_MANY_CONNECTIONS,
    ),
    (
        "Timeout expired.  The timeout period elapsed prior to obtaining a connection from "
        "the pool.",
        Failure.TOO_MANY_CONNECTIONS,
    ),
    (
        "Npgsql.NpgsqlException: The connection pool has been exhausted, either raise "
        "'Max Pool Size' or 'Timeout'",
        Failure.TOO_MANY_CONNECTIONS,
    ),
    (
        "KnexTimeoutError: Knex: Timeout acquiring a connection. The pool is probably full.",
        Failure.TOO_MANY_CONNECTIONS,
    ),
    # deadlock
    ("Found one Java-level deadlock:", Failure.DEADLOCK),
    ("fatal error: all goroutines are asleep - deadlock!", Failure.DEADLOCK),
    ("psycopg2.errors.DeadlockDetected: deadlock detected", Failure.DEADLOCK),
    ("Deadlock found when trying to get lock; try restarting transaction", Failure.DEADLOCK),
    (
        "Microsoft.Data.SqlClient.SqlException: Transaction (Process ID 52) was deadlocked on "
        "lock resources with another process and has been chosen as the deadlock victim.",
        Failure.DEADLOCK,
    ),
]


@pytest.mark.parametrize(("line", "failure"), LINES)
def test_each_runtimes_wording_is_classified(line: str, failure: Failure) -> None:
    assert classify(line) is failure


def test_a_line_without_a_known_failure_is_not_classified() -> None:
    assert classify("GET /healthz 200 3ms") is None


def test_a_callers_error_names_the_callee_from_its_url_or_service_host() -> None:
    known = {"checkout", "inventory", "payments"}
    line = (
        'reserve failed: Post "http://inventory.prod.svc:8080/reserve": context deadline exceeded'
    )
    assert dependency_named(line, known, "checkout") == "inventory"
    assert dependency_named("upstream payments returned 503", known, "checkout") == "payments"


def test_a_line_naming_only_its_writer_names_no_callee() -> None:
    assert dependency_named("checkout timed out", {"checkout", "inventory"}, "checkout") is None


@given(st.text(max_size=400))
def test_hostile_lines_never_break_classification(line: str) -> None:
    found = classify(line)
    assert found is None or isinstance(found, Failure)
    assert dependency_named(line, {"a-b", "checkout"}, None) in (None, "a-b", "checkout")


@pytest.mark.parametrize(
    "line",
    [
        "charge failed: upstream payments returned 500 Internal Server Error",
        "checkout returned 502 for cart ord-1; showing error page",
        "GET http://inventory.prod.svc:8080/stock -> status=503",
        "orders: 504 Gateway Timeout from upstream",
    ],
)
def test_a_server_error_a_caller_received_is_a_report_about_its_callee(line: str) -> None:
    assert reports_callee_error(line)


def test_a_callers_report_of_a_5xx_blames_the_callee_it_names() -> None:
    group = MessageGroup(
        message="reserve failed: upstream inventory returned 500 Internal Server Error",
        count=40,
        services={"checkout": 40},
        first_seen=None,
        last_seen=None,
    )
    assert log_blame([group], {"checkout", "inventory"}) == {"inventory": 40}


def test_a_line_about_a_port_or_a_count_is_no_5xx_report() -> None:
    assert not reports_callee_error("listening on port 5000; handled 503 requests")


def test_a_5xx_received_from_an_unnamed_callee_implicates_nobody() -> None:
    group = MessageGroup(
        message="checkout failed: upstream error status=502",
        count=4,
        services={"checkout": 4},
        first_seen=None,
        last_seen=None,
    )
    assert log_blame([group], {"checkout", "inventory"}) == {}
