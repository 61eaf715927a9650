"""The error tree, classified by what the caller should do next."""

from __future__ import annotations


class OpsbotError(Exception):
    """Base of every error opsbot raises on purpose."""


class ConfigError(OpsbotError):
    """A setting is missing or invalid: fix the configuration and restart."""


class BadInput(OpsbotError):
    """A request or payload is malformed: answer 4xx naming the problem, do not retry."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class Unauthorized(OpsbotError):
    """The caller could not be authenticated: answer 401, never act."""


class Retryable(OpsbotError):
    """A dependency failed transiently: retry with back-off."""


class DependencyDown(OpsbotError):
    """A dependency is unavailable: degrade and report what could not be seen."""
