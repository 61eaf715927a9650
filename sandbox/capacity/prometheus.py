"""A real Prometheus holding the capacity history (see sandbox.capacity.history)."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from sandbox.capacity.fleet import Fleet
from sandbox.capacity.history import write_capacity_history
from sandbox.procs.prometheus import PrometheusProcess, start_prometheus


def start_capacity_prometheus(
    now: datetime,
    days: float = 28,
    workdir: Path | None = None,
    *,
    step_seconds: int = 300,
    fleet: Fleet | None = None,
) -> PrometheusProcess:
    """Backfill `days` of history ending at `now` and start Prometheus on a free port.

    The caller stops it (`with start_capacity_prometheus(now) as prom:` or `prom.stop()`);
    without `workdir` its temporary storage goes with it.
    """
    with tempfile.TemporaryDirectory(prefix="opsbot-capacity-history-") as scratch:
        history = Path(scratch) / "capacity-history.om"
        write_capacity_history(history, now, days, step_seconds, fleet)
        return start_prometheus(history_file=history, workdir=workdir, block_duration="720h")
