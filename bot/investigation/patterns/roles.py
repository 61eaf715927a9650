"""Which workload a question means when it names a role, not a name: "is the database ok?",
"is the cache slow?". Read from what the cluster shows, the images its pods run (a
`postgres:15` container is the database whatever its Deployment is called). Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from tools.k8s.pods import PodInfo

ROLES: tuple[tuple[frozenset[str], tuple[str, ...]], ...] = (
    (  # words that ask about a database → image names of database servers
        frozenset(
            {"database", "databases", "db", "dbs", "sql", "postgres", "postgresql", "pg"}
            | {"mysql", "mariadb", "mongo", "mongodb", "rdbms"}
        ),
        ("postgres", "postgis", "timescale", "mysql", "mariadb", "percona", "mongo", "cockroach"),
    ),
    (
        frozenset({"cache", "caches", "redis", "memcached", "memcache", "valkey"}),
        ("redis", "memcached", "valkey", "keydb", "dragonfly"),
    ),
    (
        frozenset({"queue", "queues", "broker", "kafka", "rabbitmq", "rabbit", "nats", "mq"}),
        ("kafka", "rabbitmq", "nats", "activemq", "pulsar", "redpanda"),
    ),
    (
        frozenset({"search", "elasticsearch", "opensearch", "elastic"}),
        ("elasticsearch", "opensearch"),
    ),
)


def _image_name(image: str) -> str:
    """`registry.example.com/library/postgres:15.4@sha256:…` → `postgres`."""
    last = image.rsplit("/", 1)[-1]
    return last.split("@", 1)[0].split(":", 1)[0].lower()


def workload_for_role(
    words: Iterable[str],
    pods: Iterable[PodInfo],
    owner_of: Callable[[str | None], str | None],
) -> str | None:
    """The workload whose pods run an image of the role a word of the question names, the
    one with the most such pods; None when no word names a role or no pod plays it.
    `owner_of` turns a pod's controller (`ReplicaSet/x-5d9c…`) into its workload's name."""
    asked = set(words)
    images = [suffix for names, suffixes in ROLES if asked & names for suffix in suffixes]
    if not images:
        return None
    playing: Counter[str] = Counter()
    for pod in pods:
        workload = owner_of(pod.owner)
        if workload and any(
            any(role in _image_name(c.image) for role in images) for c in pod.containers
        ):
            playing[workload] += 1
    return max(sorted(playing), key=playing.__getitem__) if playing else None
