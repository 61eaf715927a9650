"""Backtest the capacity forecast on the generated history: hold out the last 7 days, fit on
the rest, score MAPE and MASE (against the seasonal-naive daily forecast) per resource type
and horizon; variants change noise and the step change's position. Prints a table and JSON."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.capacity.forecast import fit_and_forecast
from sandbox.capacity.fleet import shop_fleet
from sandbox.capacity.history import build_capacity_history

NOW = datetime(2025, 3, 12, 9, 0, tzinfo=UTC)
HOURLY = 12  # 5-minute samples per hour
HOLDOUT_HOURS = 7 * 24
HORIZONS = {"1d": 24, "3d": 72, "7d": 168}
FAMILIES = {
    "kubelet_volume_stats_used_bytes": "volume",
    "node_filesystem_avail_bytes": "disk",
    "container_memory_working_set_bytes": "memory",
    "node_memory_MemAvailable_bytes": "memory",
}
VARIANTS = {
    "base": {"noise": 1.0, "shift_days_ago": 8.0},
    "noisy": {"noise": 2.5, "shift_days_ago": 8.0},
    "late-step": {"noise": 1.0, "shift_days_ago": 9.0},
    "early-step": {"noise": 1.0, "shift_days_ago": 20.0},
}


def series_of(variant: dict[str, float]) -> list[tuple[str, np.ndarray]]:
    _grid, families = build_capacity_history(NOW, fleet=shop_fleet(**variant))
    out = []
    for name, kind in FAMILIES.items():
        for s in families[name].series:
            if s.present is not None and not s.present.all():
                continue
            out.append((kind, s.values[::HOURLY].astype(np.float64)))
    cpu = families["container_cpu_usage_seconds"].series
    for s in cpu:
        if s.present is None or s.present.all():
            rate = np.diff(s.values[::HOURLY]) / 3600.0
            out.append(("cpu", rate))
    return out


def main() -> None:
    errors: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    fit_seconds: list[float] = []
    for variant in VARIANTS.values():
        for kind, values in series_of(variant):
            train, test = values[:-HOLDOUT_HOURS], values[-HOLDOUT_HOURS:]
            started = time.perf_counter()
            fit = fit_and_forecast(train, timedelta(hours=1), HOLDOUT_HOURS, 0.8)
            fit_seconds.append(time.perf_counter() - started)
            naive_scale = float(np.mean(np.abs(train[24:] - train[:-24]))) or 1e-12
            for label, hours in HORIZONS.items():
                actual, predicted = test[:hours], fit.mean[:hours]
                mape = float(np.mean(np.abs(actual - predicted) / np.maximum(np.abs(actual), 1e-9)))
                mase = float(np.mean(np.abs(actual - predicted)) / naive_scale)
                errors[(kind, label)].append((mape, mase))
    rows = []
    for (kind, label), pairs in sorted(errors.items()):
        mape = float(np.median([p[0] for p in pairs])) * 100
        mase = float(np.median([p[1] for p in pairs]))
        rows.append(
            {
                "type": kind,
                "horizon": label,
                "series": len(pairs),
                "mape_pct": round(mape, 2),
                "mase": round(mase, 2),
            }
        )
    print(f"{'type':8} {'horizon':7} {'series':>6} {'MAPE %':>8} {'MASE':>6}")
    for r in rows:
        print(f"{r['type']:8} {r['horizon']:7} {r['series']:>6} {r['mape_pct']:>8} {r['mase']:>6}")
    timing = {
        "fits": len(fit_seconds),
        "fit_ms_median": round(1000 * float(np.median(fit_seconds)), 1),
        "fit_ms_p95": round(1000 * float(np.quantile(fit_seconds, 0.95)), 1),
    }
    print(
        f"fit time per series: median {timing['fit_ms_median']} ms, p95 {timing['fit_ms_p95']} ms"
    )
    print(json.dumps({"variants": list(VARIANTS), "errors": rows, "timing": timing}))


if __name__ == "__main__":
    main()
