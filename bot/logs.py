"""structlog set-up: key-value lines for people, JSON lines for log pipelines.

Every line leaves through one stdlib handler on the root logger, rendered by the same
structlog renderer: ours (structlog → stdlib) and libraries' (uvicorn, Bolt, warnings), so
with OPSBOT_LOG_JSON every line on stderr is one JSON object.

Our loggers are named `opsbot.*`. Nothing else may own the `opsbot` logger: Bolt copies
its base logger's level onto the logger named after the App on every request, which once
silenced every `opsbot.*` info line after the first Slack request (bot.slack.app names
the App `opsbot-bolt` for that reason).
"""

from __future__ import annotations

import logging
import sys

import structlog

from bot.settings import LogSettings

CHATTY = ("apscheduler", "alembic", "slack_bolt", "slack_sdk", "httpx", "httpx2", "urllib3")


def configure_logging(settings: LogSettings) -> None:
    level = getattr(logging, settings.level)
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer()
        if settings.json_output
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
            # Library records: the same fields ours carry, tracebacks rendered in the line.
            foreign_pre_chain=[
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                stamp,
                structlog.processors.format_exc_info,
            ],
        )
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    logging.captureWarnings(True)
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            stamp,
            structlog.processors.format_exc_info,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Through stdlib logging, so library logs and ours share one stream and handler.
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger
