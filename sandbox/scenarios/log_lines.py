"""How each shop service writes its logs: request lines and everyday background lines.

Each service keeps its language's habits: Node's pino and Go's zap write lower-case
levels, Python and Spring Boot upper-case ones; loggers and wording follow the frameworks.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.scenarios.traces import ServerSpan


@dataclass(frozen=True)
class Background:
    level: str
    logger: str
    message: str
    every: int  # seconds between lines per pod (jittered)


LEVEL_CASE = {"node": str.lower, "go": str.lower, "python": str.upper, "java": str.upper}
LOGGERS = {
    "frontend": "pino-http",
    "checkout": "checkout/http",
    "inventory": "gunicorn.access",
    "payments": "o.s.web.servlet.DispatcherServlet",
}

BACKGROUND: dict[str, tuple[Background, ...]] = {
    "frontend": (
        Background("info", "catalog", "product catalog cache refreshed ({n} items)", 120),
        Background("debug", "pino-http", "GET /healthz 200 1ms", 120),
        Background("warn", "checkout-client", "slow upstream response from checkout ({ms}ms)", 900),
        Background(
            "error",
            "recommendations",
            "failed to load recommendations: context deadline exceeded (timeout 800ms)",
            2400,
        ),
    ),
    "checkout": (
        Background(
            "info",
            "orders/events",
            "published order event topic=orders partition={p} offset={n}",
            90,
        ),
        Background("info", "checkout/cart", "cart validated items={items} total_cents={n}", 120),
        Background(
            "warn", "checkout/inventory", "retrying inventory reservation attempt=2 sku={sku}", 1200
        ),
        Background(
            "error",
            "checkout/http",
            "payment declined for order {order}: issuer response 51 insufficient_funds",
            1800,
        ),
    ),
    "inventory": (
        Background(
            "info", "inventory.sync", "stock sync completed: {n} skus updated in {sec}s", 300
        ),
        Background("info", "inventory.api", "reservation {order} held for 900s", 90),
        Background(
            "warn",
            "inventory.stock",
            "stock for {sku} below reorder threshold ({items} left)",
            1500,
        ),
    ),
    "payments": (
        Background(
            "info",
            "com.zaxxer.hikari.pool.HikariPool",
            "HikariPool-1 - Pool stats (total=20, active={active}, idle={idle}, waiting={pending})",
            60,
        ),
        Background(
            "info",
            "c.s.payments.bin.BinTableRefresher",
            "Refreshed card BIN table ({n} ranges)",
            600,
        ),
        Background(
            "warn",
            "c.s.payments.fraud.FraudClient",
            "fraud score service answered in {ms}ms (slow)",
            1500,
        ),
    ),
    "postgres": (
        Background("info", "postgres", "checkpoint starting: time", 300),
        Background(
            "info",
            "postgres",
            "checkpoint complete: wrote {n} buffers (1.{p}%); "
            "0 WAL file(s) added, 0 removed, 1 recycled",
            300,
        ),
        Background(
            "info",
            "postgres",
            'automatic vacuum of table "shop.public.orders": index scans: 1',
            900,
        ),
    ),
}


POSTGRES_LEVELS = {"debug": "DEBUG1", "info": "LOG", "warn": "WARNING", "error": "ERROR"}


def level_for(language: str, level: str) -> str:
    """The level as the service's logging library spells it."""
    lowered = level.lower()
    if language == "postgres":
        return POSTGRES_LEVELS.get(lowered, level.upper())
    if language == "python" and lowered == "warn":
        return "WARNING"
    return LEVEL_CASE.get(language, str.lower)(level)


def request_message(language: str, span: ServerSpan) -> tuple[str, str]:
    """(level, message) of the access line a service writes for one request."""
    method, _, path = span.operation.partition(" ")
    millis = span.duration_us // 1000
    failed = span.status >= 500
    if language == "node":
        return ("error" if failed else "info"), (
            f"request errored: {span.operation} {span.status} {millis}ms"
            if failed
            else f"request completed: {span.operation} {span.status} {millis}ms"
        )
    if language == "go":
        if failed:
            return (
                "error",
                f"checkout failed: {span.error or 'upstream error'} status={span.status}",
            )
        return (
            "info",
            f"request handled method={method} path={path} status={span.status} "
            f"duration_ms={millis}",
        )
    if language == "python":
        return ("ERROR" if failed else "INFO"), (
            f'10.244.0.1 - - "{method} {path} HTTP/1.1" {span.status} {180 + millis % 90} '
            f'"-" "checkout/1.8" {span.duration_us / 1e6:.3f}'
        )
    if failed:
        return (
            "ERROR",
            f"{method} {path} -> {span.status} in {millis}ms: {span.error or 'request failed'}",
        )
    return "INFO", f"Completed {span.status} OK for {method} {path} in {millis}ms"
