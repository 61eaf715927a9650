"""Before a command that needs the database or the cache: are they reachable? When not,
one line naming the setting and the address it tried (password hidden), instead of a
driver's hundred-line traceback. Production keeps degrading to the in-process cache when
Redis goes away later; at start an unreachable address is a setting to fix."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import redis
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.settings import Settings

CONNECT_TIMEOUT_S = 3


@dataclass(frozen=True)
class Unreachable:
    """A backing service that did not answer: which setting, which address, why."""

    what: str
    setting: str
    address: str
    reason: str

    def line(self) -> str:
        return (
            f"cannot reach the {self.what} at {self.address} (set by {self.setting}): {self.reason}"
        )


def shown_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))


def first_line(error: BaseException) -> str:
    """The cause's first line, without SQLAlchemy's wrapping and background links."""
    cause = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


def check_database(url: str) -> Unreachable | None:
    if url.startswith("sqlite:"):
        return None
    args = {"connect_timeout": CONNECT_TIMEOUT_S} if url.startswith("postgresql") else {}
    engine = create_engine(url, connect_args=args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        return Unreachable("database", "OPSBOT_DATABASE_URL", shown_url(url), first_line(exc))
    finally:
        engine.dispose()
    return None


def check_cache(url: str | None) -> Unreachable | None:
    if url is None:
        return None
    client = redis.Redis.from_url(
        url, socket_timeout=CONNECT_TIMEOUT_S, socket_connect_timeout=CONNECT_TIMEOUT_S
    )
    try:
        client.ping()
    except redis.RedisError as exc:
        return Unreachable("cache", "OPSBOT_REDIS_URL", shown_url(url), first_line(exc))
    finally:
        client.close()
    return None


def unreachable(settings: Settings, *, cache: bool = True) -> Unreachable | None:
    """The first of the database and (with `cache`) the cache that does not answer."""
    return check_database(settings.database.url) or (
        check_cache(settings.cache.url) if cache else None
    )
