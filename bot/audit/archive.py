"""Audit verification across retention cuts, export, and archiving old rows.

Archiving writes the oldest rows to a gzip JSONL file, records an anchor (the last
archived row's id and hash, the file's sha256) and deletes those rows in one transaction;
the database only lets rows at or below an anchor's cut go. The first remaining row's
`prev_hash` is the anchor's hash, so the chain stays verifiable across the cut, and the
archive files verify on their own from the genesis hash to each anchor.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, func, select

from bot.audit import chain as audit
from bot.audit.chain import GENESIS
from bot.audit.chain import _digest as row_digest
from bot.store.actions import AuditAnchor
from bot.store.db import Database
from bot.store.models import AuditEvent, aware

FIELDS = ("id", "at", "actor", "action", "subject", "rule", "detail", "prev_hash", "hash")


@dataclass(frozen=True)
class Verification:
    checked: int
    bad_id: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.bad_id is None and not self.reason


def as_dict(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": aware(row.at).isoformat(),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "rule": row.rule,
        "detail": row.detail,
        "prev_hash": row.prev_hash,
        "hash": row.hash,
    }


def _link_problem(row: dict[str, Any], prev: str) -> str:
    at = datetime.fromisoformat(str(row["at"]))
    expected = row_digest(
        prev, at, row["actor"], row["action"], row["subject"], row["rule"], row["detail"]
    )
    if row["prev_hash"] != prev:
        return "its prev_hash does not match the row before it (a row was deleted or moved)"
    if row["hash"] != expected:
        return "its content does not match its hash (the row was changed)"
    return ""


def verify_rows(rows: Iterable[dict[str, Any]], start: str = GENESIS) -> Verification:
    prev, checked = start, 0
    for row in rows:
        problem = _link_problem(row, prev)
        if problem:
            return Verification(checked, int(row["id"]), f"row {row['id']}: {problem}")
        prev, checked = row["hash"], checked + 1
    return Verification(checked, None)


def verify(session: Session) -> Verification:
    """Check the live chain, starting at the genesis hash or at the latest retention cut."""
    anchors = list(session.exec(select(AuditAnchor).order_by(col(AuditAnchor.id))).all())
    rows = [as_dict(r) for r in session.exec(select(AuditEvent).order_by(col(AuditEvent.id)))]
    start = GENESIS
    if rows and rows[0]["prev_hash"] != GENESIS:
        cut = next((a for a in anchors if a.cut_hash == rows[0]["prev_hash"]), None)
        if cut is None or rows[0]["id"] <= cut.cut_id:
            return Verification(
                0,
                rows[0]["id"],
                f"row {rows[0]['id']}: the chain starts after rows that no "
                "archive anchor accounts for (rows were deleted)",
            )
        start = cut.cut_hash
    result = verify_rows(rows, start)
    if not result.ok or not anchors:
        return result
    latest = anchors[-1]
    recorded = any(
        r["action"] == "audit.archived" and r["detail"].get("cut_hash") == latest.cut_hash
        for r in rows
    )
    if not recorded:
        return Verification(
            result.checked, None, f"anchor {latest.id} has no audit.archived row in the chain"
        )
    return result


def verify_archives(session: Session, directory: Path) -> Verification:
    """Check every archive file: its sha256 and its chain from the previous cut to its own."""
    start, checked = GENESIS, 0
    for anchor in session.exec(select(AuditAnchor).order_by(col(AuditAnchor.id))).all():
        path = directory / Path(anchor.location).name
        if not path.exists():
            return Verification(checked, None, f"archive {path} is missing")
        if hashlib.sha256(path.read_bytes()).hexdigest() != anchor.sha256:
            return Verification(checked, None, f"archive {path} does not match its sha256")
        rows = list(read_archive(path))
        result = verify_rows(rows, start)
        if not result.ok:
            return Verification(checked + result.checked, result.bad_id, f"{path}: {result.reason}")
        if not rows or rows[-1]["hash"] != anchor.cut_hash:
            return Verification(checked, None, f"{path} does not end at its anchor's hash")
        start, checked = anchor.cut_hash, checked + result.checked
    return Verification(checked, None)


def read_archive(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        for line in stream:
            if line.strip():
                yield json.loads(line)


def export(session: Session, since: datetime, fmt: str) -> str:
    rows = [
        as_dict(r)
        for r in session.exec(
            select(AuditEvent).where(col(AuditEvent.at) >= since).order_by(col(AuditEvent.id))
        )
    ]
    if fmt == "jsonl":
        return "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "detail": json.dumps(row["detail"], sort_keys=True)})
    return out.getvalue()


def archive(db: Database, older_than: datetime, directory: Path) -> AuditAnchor | None:
    """Move rows older than `older_than` to a gzip JSONL file behind an anchor (the newest
    row always stays, so the chain continues from the cut)."""
    with db.session() as session:
        newest = session.exec(select(func.max(AuditEvent.id))).one()
        rows = [
            as_dict(r)
            for r in session.exec(
                select(AuditEvent)
                .where(col(AuditEvent.at) < older_than, col(AuditEvent.id) < (newest or 0))
                .order_by(col(AuditEvent.id))
            )
        ]
    if not rows:
        return None
    cut_id = int(rows[-1]["id"])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-{rows[0]['id']:012d}-{cut_id:012d}.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.writelines(json.dumps(r, sort_keys=True) + "\n" for r in rows)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with db.session() as session:
        # Rows between the query and now with ids <= cut_id were in the query: ids only grow.
        anchor = AuditAnchor(
            cut_id=cut_id,
            cut_hash=str(rows[-1]["hash"]),
            rows=len(rows),
            location=str(path),
            sha256=digest,
        )
        session.add(anchor)
        session.flush()
        session.execute(delete(AuditEvent).where(col(AuditEvent.id) <= cut_id))
        audit.append(
            session,
            actor="opsbot",
            action="audit.archived",
            subject=f"audit:{cut_id}",
            detail={
                "cut_id": cut_id,
                "cut_hash": anchor.cut_hash,
                "rows": len(rows),
                "location": str(path),
                "sha256": digest,
            },
        )
    return anchor
