"""The OpenSearch-API server osmem-server (pip package `osmem-server`, an in-memory static
binary) and a bulk loader speaking plain `application/json` / NDJSON like OpenSearch wants."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from sandbox.procs.process import (
    LOOPBACK,
    ManagedProcess,
    ProcessStartError,
    make_workdir,
    start_on_port,
)

INSTALL_HINT = "pip install osmem-server"


def osmem_binary() -> str:
    """The binary on PATH, else the one bundled in the osmem_server wheel."""
    found = shutil.which("osmem-server")
    if found:
        return found
    spec = importlib.util.find_spec("osmem_server")
    if spec is None or not spec.submodule_search_locations:
        raise ProcessStartError(f"osmem-server is not installed: {INSTALL_HINT}")
    bundled = Path(spec.submodule_search_locations[0]) / "bin" / "osmem-server"
    if not bundled.exists():
        raise ProcessStartError(f"osmem-server has no binary for this platform: {bundled}")
    return str(bundled)


class OpenSearchProcess(ManagedProcess):
    """A running osmem-server; `url` speaks the OpenSearch REST API."""

    def create_index(self, index: str, mappings: Mapping[str, Any] | None = None) -> None:
        body = {"mappings": dict(mappings)} if mappings else {}
        response = httpx.put(f"{self.url}/{index}", json=body, timeout=30)
        response.raise_for_status()

    def bulk_index(
        self, index: str, documents: Iterable[Mapping[str, Any]], *, refresh: bool = True
    ) -> int:
        """Index documents with _bulk; returns how many were indexed, raises on any failure."""
        return bulk_index(self.url, index, documents, refresh=refresh)


def bulk_index(
    url: str, index: str, documents: Iterable[Mapping[str, Any]], *, refresh: bool = True
) -> int:
    lines: list[str] = []
    count = 0
    for document in documents:
        lines.append(json.dumps({"index": {"_index": index}}))
        lines.append(json.dumps(document))
        count += 1
    if not lines:
        return 0
    response = httpx.post(
        f"{url.rstrip('/')}/_bulk",
        params={"refresh": "true"} if refresh else None,
        content="\n".join(lines) + "\n",
        headers={"Content-Type": "application/x-ndjson"},
        timeout=60,
    )
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        failed = [item for item in body["items"] if item.get("index", {}).get("error")]
        raise RuntimeError(f"_bulk failed for {len(failed)} documents: {failed[:2]}")
    return count


def start_opensearch(
    *,
    seed: Sequence[Path] = (),
    port: int = 0,
    workdir: Path | None = None,
    timeout: float = 15.0,
) -> OpenSearchProcess:
    """Start osmem-server, optionally loading seed directories or .ndjson files first."""
    binary = osmem_binary()
    root, owns = make_workdir("osmem", workdir)

    def build(chosen: int) -> OpenSearchProcess:
        argv = [binary, "-addr", f"{LOOPBACK}:{chosen}", "-no-stdin-watch", "-no-ja"]
        for path in seed:
            argv += ["-seed", str(path)]
        return OpenSearchProcess(
            "osmem",
            argv,
            url=f"http://{LOOPBACK}:{chosen}",
            ready_path="/",
            workdir=root,
            owns_workdir=owns,
        )

    return start_on_port(build, port, timeout)
