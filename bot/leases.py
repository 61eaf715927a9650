"""Named leases in the database: one holder at a time across replicas, expiring on crash.

The database is the one thing every replica shares for sure (Redis is optional), so the
locks that guard side effects (posting a thread, running a scheduled job) live here.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col, select

from bot.store.db import Database
from bot.store.models import Lease, utcnow

PROCESS_ID = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def acquire(db: Database, name: str, ttl: float, holder: str = PROCESS_ID) -> bool:
    now = utcnow()
    expires = now + timedelta(seconds=ttl)
    try:
        with db.session() as session:
            session.add(Lease(name=name, holder=holder, expires_at=expires))
        return True
    except IntegrityError:
        pass
    with db.session() as session:
        taken = session.execute(
            update(Lease)
            .where(Lease.name == name)  # type: ignore[arg-type]
            .where((Lease.expires_at < now) | (Lease.holder == holder))  # type: ignore[arg-type]
            .values(holder=holder, expires_at=expires)
        )
        return bool(taken.rowcount)  # type: ignore[attr-defined]


def release(db: Database, name: str, holder: str = PROCESS_ID) -> None:
    with db.session() as session:
        session.execute(
            delete(Lease).where(Lease.name == name, Lease.holder == holder)  # type: ignore[arg-type]
        )


def new_holder() -> str:
    """A holder token unique to one acquisition (two threads of a process are two holders)."""
    return f"{PROCESS_ID}:{uuid.uuid4().hex[:8]}"


@contextmanager
def held(db: Database, name: str, ttl: float) -> Iterator[str | None]:
    """`with held(db, "job", 60) as token:` — token is None when someone else holds it;
    pass it to `acquire` to extend the lease while still working."""
    holder = new_holder()
    mine = acquire(db, name, ttl, holder)
    try:
        yield holder if mine else None
    finally:
        if mine:
            release(db, name, holder)


def alive(db: Database, name: str) -> bool:
    """Whether someone holds `name` now (an expired lease is nobody's)."""
    with db.session() as session:
        found = session.exec(
            select(Lease).where(col(Lease.name) == name, col(Lease.expires_at) > utcnow())
        ).first()
    return found is not None


@contextmanager
def kept(db: Database, name: str, ttl: float) -> Iterator[str | None]:
    """Like `held`, renewed every ttl/3 until the block ends: for work of unbounded length
    whose holder must be seen to die (a crash stops the renewals; the lease lapses ttl later)."""
    with held(db, name, ttl) as token:
        if token is None:
            yield None
            return
        done = threading.Event()

        def renew() -> None:
            while not done.wait(ttl / 3):
                try:
                    acquire(db, name, ttl, token)
                except SQLAlchemyError:  # a database blip: the next renewal tries again
                    continue

        keeper = threading.Thread(target=renew, name=f"lease:{name}", daemon=True)
        keeper.start()
        try:
            yield token
        finally:
            done.set()
            keeper.join(timeout=ttl)
