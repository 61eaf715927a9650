"""node_exporter on every node and postgres_exporter next to the shop's database."""

from __future__ import annotations

from collections import Counter

from sandbox.scenarios.frames import ClusterFrame, ClusterHistory, PodFrame
from sandbox.scenarios.openmetrics_file import OpenMetricsFile, label_text
from sandbox.scenarios.shop import NAMESPACE, SERVICES
from sandbox.scenarios.timeline import Timeline
from sandbox.scenarios.traffic import Traffic

GIB = 1024**3
NODE_MEMORY = 16 * GIB
ROOT_DISK = 100 * GIB
MAX_CONNECTIONS = 200
POOL_SIZE = 20
POSTGRES_HELP = {
    "pg_up": ("gauge", "Whether the last scrape of metrics from PostgreSQL was able to connect."),
    "pg_settings_max_connections": ("gauge", "Server Parameter: max_connections"),
    "pg_stat_activity_count": ("gauge", "number of connections in this state"),
    "pg_stat_activity_max_tx_duration": (
        "gauge",
        "max duration in seconds any active transaction has been running",
    ),
    "pg_stat_database_xact_commit": (
        "counter",
        "Number of transactions in this database that have been committed",
    ),
    "pg_stat_database_tup_fetched": (
        "counter",
        "Number of rows fetched by queries in this database",
    ),
}


NODE_HELP = {
    "node_load1": "1m load average.",
    "node_memory_MemAvailable_bytes": "Memory information field MemAvailable_bytes.",
    "node_memory_MemTotal_bytes": "Memory information field MemTotal_bytes.",
    "node_filesystem_avail_bytes": "Filesystem space available to non-root users in bytes.",
    "node_filesystem_size_bytes": "Filesystem size in bytes.",
}
ROOT_FS = {"device": "/dev/nvme0n1p1", "fstype": "ext4", "mountpoint": "/"}

Rows = list[tuple[str, int, float]]


def _node_targets(history: ClusterHistory) -> list[tuple[str, dict[str, str]]]:
    nodes = sorted({node.name: node.ip for frame in history.frames for node in frame.nodes}.items())
    return [
        (name, {"job": "node-exporter", "instance": f"{ip}:9100", "node": name})
        for name, ip in nodes
    ]


def node_up_samples(history: ClusterHistory, timeline: Timeline) -> Rows:
    """node-exporter's `up`: 0 while its node is not Ready (nothing answers there)."""
    rows = []
    for name, labels in _node_targets(history):
        text = label_text(labels)
        for at in timeline.grid():
            node = history.at(at).node(name)
            rows.append((text, at, 1.0 if node is not None and node.ready == "True" else 0.0))
    return rows


def write_node_exporter(
    out: OpenMetricsFile,
    history: ClusterHistory,
    timeline: Timeline,
    demand: dict[tuple[str, int], float] | None = None,
) -> None:
    """Load, memory and disk per node; with `demand` (cores the node's containers use, per
    node and time) also per-CPU time by mode and the kernel's CPU pressure (PSI) counter."""
    series: dict[str, Rows] = {name: [] for name in NODE_HELP}
    clock = timeline.clock
    _write_node_cpu(out, history, timeline, demand or {})
    for name, labels in _node_targets(history):
        plain, disk = label_text(labels), label_text({**labels, **ROOT_FS})
        for at in timeline.grid():
            frame = history.at(at)
            node = frame.node(name)
            if node is None or node.ready != "True":
                continue
            pods = sum(1 for p in frame.pods if p.node == name and p.phase == "Running")
            load = 0.3 + 0.45 * pods * clock.diurnal(at) * clock.jitter(name + ":load", at, 0.15)
            used = GIB * (1.6 + 0.55 * pods) * (1 + clock.noise(name + ":mem", at, 0.03, 900))
            free = ROOT_DISK * (0.62 + clock.noise(name + ":disk", at, 0.01, 7200.0))
            series["node_load1"].append((plain, at, round(load, 2)))
            series["node_memory_MemAvailable_bytes"].append((plain, at, NODE_MEMORY - used))
            series["node_memory_MemTotal_bytes"].append((plain, at, NODE_MEMORY))
            series["node_filesystem_avail_bytes"].append((disk, at, round(free)))
            series["node_filesystem_size_bytes"].append((disk, at, ROOT_DISK))
    for family, rows in series.items():
        out.family(family, "gauge", NODE_HELP[family])
        for text, at, value in rows:
            out.sample(text, value, at)


CPU_MODES = ("idle", "system", "user")
SYSTEM_SHARE = 0.15  # of busy time spent in the kernel
PSI_ONSET = 0.75  # busy share of the node's CPUs above which runnable tasks start waiting


def _write_node_cpu(
    out: OpenMetricsFile,
    history: ClusterHistory,
    timeline: Timeline,
    demand: dict[tuple[str, int], float],
) -> None:
    """`node_cpu_seconds_total{cpu,mode}` and `node_pressure_cpu_waiting_seconds_total`.

    Busy time follows what the containers use (plus the system's own ~0.2 cores), capped at
    the node's CPUs; demand beyond what the CPUs give is time tasks spend waiting."""
    per_cpu: dict[tuple[str, int, str], Rows] = {}
    waiting: dict[str, Rows] = {}
    for name, labels in _node_targets(history):
        last = history.last.node(name)
        cpus = max(1, round(last.cpu)) if last else 4
        seconds = {(cpu, mode): 0.0 for cpu in range(cpus) for mode in CPU_MODES}
        waited = 0.0
        for at in timeline.grid():
            node = history.at(at).node(name)
            if node is None or node.ready != "True":
                continue
            wanted = 0.2 + demand.get((name, at), 0.0)
            busy = min(0.995, wanted / cpus)
            for cpu in range(cpus):
                jitter = timeline.clock.jitter(f"{name}:cpu{cpu}", at, 0.05)
                share = min(0.999, busy * jitter)
                step = float(timeline.step)
                seconds[(cpu, "user")] += step * share * (1 - SYSTEM_SHARE)
                seconds[(cpu, "system")] += step * share * SYSTEM_SHARE
                seconds[(cpu, "idle")] += step * (1 - share)
                for mode in CPU_MODES:
                    text = label_text({**labels, "cpu": str(cpu), "mode": mode})
                    per_cpu.setdefault((name, cpu, mode), []).append(
                        (text, at, round(seconds[(cpu, mode)], 2))
                    )
            over = max(0.0, wanted / cpus - PSI_ONSET) / (1 - PSI_ONSET)
            waited += timeline.step * min(1.0, over) * 0.9 + timeline.step * 0.002
            waiting.setdefault(name, []).append((label_text(labels), at, round(waited, 3)))
    out.family("node_cpu_seconds", "counter", "Seconds the CPUs spent in each mode.")
    for rows in per_cpu.values():
        for text, at, value in rows:
            out.sample(text, value, at)
    out.family(
        "node_pressure_cpu_waiting_seconds",
        "counter",
        "Total time in seconds that processes have waited for CPU time",
    )
    for rows in waiting.values():
        for text, at, value in rows:
            out.sample(text, value, at)


# The shop's own database clients: (application_name = usename, share of its sessions).
SHOP_DB_CLIENTS = (("inventory", 0.55), ("payments", 0.45))
QUEUEING = 0.25  # how much longer the shop's queries run per unit of another client's load
SHOP_TX_SECONDS = 0.08  # a shop request's transaction, healthy
BATCH_TX_SECONDS = 2.0  # a load source's usual (incremental) transaction
HOG_TX_SECONDS = 45.0  # its transaction once the load is on (full scans, back to back)


def _exporter_pod(frame: ClusterFrame) -> PodFrame | None:
    """The postgres pod whose exporter sidecar answers a scrape: the serving one, else one
    that has an address on a node that answers (None: nothing to scrape)."""
    pods = [p for p in frame.pods if p.workload == "postgres" and p.pod_ip]
    pod = next((p for p in pods if p.serving), pods[0] if pods else None)
    node = frame.node(pod.node) if pod is not None else None
    return pod if node is not None and node.ready == "True" else None


def write_postgres_exporter(
    out: OpenMetricsFile, history: ClusterHistory, traffic: Traffic, timeline: Timeline
) -> None:
    """postgres_exporter's database statistics and pg_stat_activity per client
    (`usename`, `application_name`): a connection leak shows as sessions left
    `idle in transaction`, N+1 queries as many more rows fetched per second, and a client
    that hogs the database (a `db_load` effect's `client`) as its own active sessions and
    long transactions while the shop's queries queue behind it. The exporter runs beside
    the database in its pod: while the database container is down it reports `pg_up` 0
    and nothing else."""
    rows: dict[str, Rows] = {name: [] for name in POSTGRES_HELP}
    effects = traffic.effects
    hogs = effects.db_clients()
    commits = fetched = 0.0
    for at in timeline.grid():
        frame = history.at(at)
        pod = _exporter_pod(frame)
        if pod is None:
            continue
        base = {
            "job": "postgres-exporter",
            "service": "postgres",
            "namespace": NAMESPACE,
            "pod": pod.name,
            "instance": f"{pod.pod_ip}:9187",
        }
        plain = label_text(base)
        rows["pg_up"].append((plain, at, 1.0 if pod.serving else 0.0))
        if not pod.serving:  # the sidecar answers, the database does not: pg_up 0, no stats
            continue
        database = {**base, "datname": "shop"}
        load = effects.db_load(at)
        hogged = sum(effects.db_client_load(client, at) for client, _ in hogs)
        own = load / (1.0 + hogged)  # the part of the load the shop's own queries make
        waits = 1.0 + QUEUEING * hogged
        rps = sum(p.rps for p in traffic.routes("checkout", at))
        commits += rps * 3.2 * timeline.step
        fetched += rps * 14.0 * load * timeline.step
        leaking = Counter(  # pods whose pool holds its connections `idle in transaction`
            p.workload
            for p in frame.pods
            if p.workload in SERVICES and effects.pool(p.workload, at) is not None
        )
        held = 2.0 + (POOL_SIZE - 2) * leaking.total() if leaking else 1.0
        active = 3 + rps * 0.08 * own * waits * traffic.clock.jitter("pg:active", at, 0.3)
        idle = max(0.0, 34 - held)
        rows["pg_settings_max_connections"].append((plain, at, MAX_CONNECTIONS))
        for client, share in SHOP_DB_CLIENTS:
            who = {**database, "usename": client, "application_name": client}
            owner = leaking.most_common(1)[0][0] if leaking else SHOP_DB_CLIENTS[-1][0]
            stuck = held if client == owner else 0.0
            states = (
                ("active", active * share),
                ("idle", idle * share),
                ("idle in transaction", stuck),
            )
            for state, count in states:
                text = label_text({**who, "state": state})
                rows["pg_stat_activity_count"].append((text, at, round(count)))
            longest = (
                SHOP_TX_SECONDS * own * waits * traffic.clock.jitter(f"pg:tx:{client}", at, 0.4)
            )
            text = label_text({**who, "state": "active"})
            rows["pg_stat_activity_max_tx_duration"].append((text, at, round(longest, 3)))
        for client, user in hogs:
            grown = effects.db_client_load(client, at)
            who = {**database, "usename": user, "application_name": client}
            sessions = 1.0 + 0.8 * grown
            jitter = traffic.clock.jitter(f"pg:tx:{client}", at, 0.3)
            longest = (
                BATCH_TX_SECONDS + (HOG_TX_SECONDS - BATCH_TX_SECONDS) * min(1.0, grown)
            ) * jitter
            for state, count in (("active", sessions), ("idle", 1.0)):
                text = label_text({**who, "state": state})
                rows["pg_stat_activity_count"].append((text, at, round(count)))
            text = label_text({**who, "state": "active"})
            rows["pg_stat_activity_max_tx_duration"].append((text, at, round(longest, 3)))
        rows["pg_stat_database_xact_commit"].append((label_text(database), at, round(commits)))
        rows["pg_stat_database_tup_fetched"].append((label_text(database), at, round(fetched)))
    for name, samples in rows.items():
        kind, help_text = POSTGRES_HELP[name]
        out.family(name, "counter" if kind == "counter" else "gauge", help_text)
        for labels, at, value in sorted(samples, key=lambda row: row[0]):
            out.sample(labels, value, at)
