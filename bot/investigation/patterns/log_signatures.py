"""Failure classes recognised in log lines, in the wording of the usual runtimes and proxies:
JVM (Java, Spring, Hikari, Netty), Go, Python, Node, .NET, nginx and envoy. Pure.

`classify(message)` names the class of one line; `dependency_named(message, known)` finds
the service a client-side line is about (from a URL or a `name.namespace.svc` host), so a
caller's "connection refused" points at its callee.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum


class Failure(StrEnum):
    TLS = "TLS/certificate"
    DNS = "DNS resolution"
    REFUSED = "connection refused/reset"
    TIMEOUT = "timeout"
    OOM = "out of memory"
    CONFIG = "missing configuration"
    AUTH = "authentication"
    DISK_FULL = "disk full"
    TOO_MANY_CONNECTIONS = "too many connections"
    DEADLOCK = "deadlock"
    MISSING_DEPENDENCY = "missing module or class"
    SCHEMA = "database schema mismatch"
    NULL_DEREFERENCE = "null dereference"


_PATTERNS: tuple[tuple[Failure, str], ...] = (
    (
        Failure.TLS,
        r"x509: certificate|certificate (?:has )?expired|certificate verify failed"
        r"|CERTIFICATE_VERIFY_FAILED|SSLHandshakeException|PKIX path|CertPathValidatorException"
        r"|certificate_expired|ssl(?:v3)? alert certificate expired|CERT_HAS_EXPIRED"
        r"|unable to verify the first certificate|AuthenticationException: The remote "
        r"certificate is invalid|SSL_do_handshake\(\) failed|TLS error: .*CERTIFICATE"
        r"|tls: failed to verify certificate",
    ),
    (
        Failure.DNS,
        r"Temporary failure in name resolution|Name or service not known|UnknownHostException"
        r"|no such host|getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|could not translate host name"
        r"|lookup \S+ on \S+: (?:server misbehaving|i/o timeout|read udp)"
        r"|No such host is known|could not be resolved|gaierror|Name does not resolve"
        r"|nodename nor servname provided|EAI_NONAME"
        r"|DNS resolution failed|dns_resolution_failure",
    ),
    (
        Failure.DEADLOCK,
        r"Java-level deadlock|deadlock detected|all goroutines are asleep - deadlock"
        r"|Deadlock found when trying to get lock|DeadlockLoserDataAccessException"
        r"|was deadlocked on lock|DeadlockDetected",
    ),
    (
        Failure.TOO_MANY_CONNECTIONS,
        r"too many (?:clients|connections)|remaining connection slots are reserved"
        r"|QueuePool limit .* reached|connection pool (?:is |has been )?exhausted"
        r"|Timeout acquiring a connection|The pool is probably full"
        r"|Connection is not available, request timed out|Timeout expired\.\s+The timeout "
        r"period elapsed prior to obtaining a connection from the pool",
    ),
    (
        Failure.AUTH,
        r"password authentication failed|Access denied for user|authentication failed"
        r"|Login failed for user|invalid (?:credentials|password)|NOAUTH|WRONGPASS"
        r"|401 Unauthorized|SASL authentication",
    ),
    (
        Failure.CONFIG,
        r"Could not resolve placeholder|KeyError: '[A-Z_]+'|missing required (?:env|config)"
        r"|environment variable \S+ (?:is )?not set|couldn't find key \S+ in (?:ConfigMap|Secret)"
        r"|CreateContainerConfigError|configmap \S+ not found|secret \S+ not found"
        r"|Missing required configuration|No value bound|ConfigurationErrorsException"
        r"|OptionsValidationException|required key \S+ missing",
    ),
    (
        Failure.MISSING_DEPENDENCY,
        r"Cannot find module|MODULE_NOT_FOUND|ModuleNotFoundError|ImportError: cannot import"
        r"|ClassNotFoundException|NoClassDefFoundError|NoSuchMethodError"
        r"|FileNotFoundException: Could not load file or assembly",
    ),
    (
        Failure.SCHEMA,
        r"UndefinedColumn|UndefinedTable|column \S+ does not exist|relation \S+ does not exist"
        r"|Unknown column|no such column|Invalid column name|Invalid object name",
    ),
    (
        Failure.DISK_FULL,
        r"No space left on device|ENOSPC|disk (?:is )?full|could not extend file"
        r"|There is not enough space on the disk",
    ),
    (
        Failure.OOM,
        r"OutOfMemoryError|Out of memory|OOMKilled|fatal error: runtime: out of memory"
        r"|MemoryError|JavaScript heap out of memory|OutOfMemoryException|Cannot allocate memory",
    ),
    (
        Failure.REFUSED,
        r"connection refused|ECONNREFUSED|ECONNRESET|connection reset by peer"
        r"|Connection reset|upstream connect error|no healthy upstream|broken pipe"
        r"|upstream prematurely closed|No connection could be made because the target machine"
        r" actively refused|forcibly closed by the remote host|socket hang up"
        r"|Remote end closed connection without response|RemoteDisconnected"
        r"|no live upstreams",
    ),
    (
        Failure.TIMEOUT,
        r"context deadline exceeded|timed out|timeout|ETIMEDOUT|ESOCKETTIMEDOUT"
        r"|SocketTimeoutException|TaskCanceledException|upstream request timeout"
        r"|deadline exceeded|Read timed out",
    ),
    (
        Failure.NULL_DEREFERENCE,
        r"NullPointerException|nil pointer dereference|NoneType' object has no attribute"
        r"|Cannot read propert(?:y|ies) of (?:undefined|null)|NullReferenceException"
        r"|because \S+ is null",
    ),
)
_COMPILED = tuple((failure, re.compile(pattern, re.IGNORECASE)) for failure, pattern in _PATTERNS)
_HOSTS = re.compile(
    r"(?:https?://|lookup |host name \"?|UnknownHostException: |upstream )"
    r"([a-z0-9][a-z0-9-]*)(?:[.:/\s\"]|$)"
)
_SERVICE_HOST = re.compile(r"\b([a-z0-9][a-z0-9-]*)\.[a-z0-9-]+\.svc\b")
_WORDS = re.compile(r"[a-z0-9][a-z0-9-]*[a-z0-9]")
_UPSTREAM = re.compile(r"\b(?:upstream|calling|call to)\s+([a-z][a-z0-9-]*)\b")

# Classes a caller reports about its callee: the failure belongs to the service they name.
CLIENT_SIDE = frozenset({Failure.TLS, Failure.REFUSED, Failure.TIMEOUT})
# Classes whose fix is a human step no action kind can take, said before any action.
HUMAN_STEPS = {
    Failure.TLS: "renew the certificate (check cert-manager's Certificate, its issuer and "
    "the Secret it writes)",
    Failure.AUTH: "put the current credentials in the Secret the service reads (or restore "
    "the old password)",
    Failure.CONFIG: "add the missing key to the ConfigMap or Secret the service reads",
    Failure.SCHEMA: "run the release's database migration (or revert it)",
    Failure.DISK_FULL: "free or grow the disk that is full",
    Failure.DEADLOCK: "fix the lock order; a restart only frees the threads for a while",
}


_CALLEE_5XX = re.compile(
    r"\b(?:returned|responded(?: with)?|answered|status(?:[ =:]| code )|got|received)\s*"
    r"(?:HTTP\s*)?5\d\d\b"
    r"|\b5\d\d (?:Internal Server Error|Bad Gateway|Service Unavailable|Gateway Timeout)\b",
    re.IGNORECASE,
)


def reports_callee_error(message: str) -> bool:
    """The line reports a server error its writer received ("upstream payments returned
    500", "status=503"): a caller's report, whose failure belongs to the callee it names."""
    return _CALLEE_5XX.search(message) is not None


def classify(message: str) -> Failure | None:
    """The first failure class whose wording `message` uses (most specific first)."""
    for failure, pattern in _COMPILED:
        if pattern.search(message):
            return failure
    return None


def dependency_named(message: str, known: Iterable[str], writer: str | None = None) -> str | None:
    """The known service a client-side log line is about: a URL host, an `x.ns.svc` host,
    an upstream, else the one other known service the line names as a word."""
    names = set(known) - {writer}
    for pattern in (_SERVICE_HOST, _HOSTS, _UPSTREAM):
        for found in pattern.finditer(message):
            if found.group(1) in names:
                return found.group(1)
    words = set(_WORDS.findall(message.lower()))
    named = sorted(names & words)
    return named[0] if len(named) == 1 else None
