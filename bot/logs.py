"""structlog set-up: key-value lines for people, JSON lines for log pipelines."""

from __future__ import annotations

import logging
import sys

import structlog

from bot.settings import LogSettings


def configure_logging(settings: LogSettings) -> None:
    level = getattr(logging, settings.level)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s", force=True)
    for chatty in ("apscheduler", "alembic", "slack_bolt", "slack_sdk", "httpx", "urllib3"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Through stdlib logging, so library logs and ours share one stream and handlers.
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
