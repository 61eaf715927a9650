"""`World`: the whole sandbox on loopback ports, loaded with one scenario at a time.

    with World().start() as world:            # Prometheus, Alertmanager, osmem, Jaeger,
        world.route_alerts_to(bot_webhook)    # kube, Slack (and Claude) on free ports
        world.run_scenario("oom-kill")        # load into every backend, then play alerts
        world.urls.prometheus, world.urls.kubeconfig, ...

Loading puts the scenario in with its incident already under way: the cluster replays the
incident from its start (faults injected then) up to now, and metrics, logs and traces are
generated from what the cluster did. Playing sends the alerts Prometheus would be sending
by now through the real Alertmanager, re-sent like Prometheus does until the next load.

With `WorldOptions(live=True)` the loop is closed: after the backfilled history, the kube
stand-in serves the scenario's series generated from the cluster as it is at each scrape
(`LiveMetrics`), Prometheus scrapes them and evaluates the scenario's rules itself, so
its alerts fire and resolve through Alertmanager as the cluster changes (a rollback that
heals the workload resolves the alert); traces and logs keep being generated from the live
cluster too (`LiveSignals`).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sandbox.jaeger import TraceStore
from sandbox.kube import KubeSandbox
from sandbox.procs import (
    AlertmanagerProcess,
    OpenSearchProcess,
    PrometheusProcess,
    post_alerts,
    start_alertmanager,
    start_opensearch,
)
from sandbox.scenarios.alerts import FiringAlert, evaluate_alerts
from sandbox.scenarios.catalog import Scenario, load_scenario
from sandbox.scenarios.cluster_history import play_cluster
from sandbox.scenarios.render import RenderedScenario, render
from sandbox.scenarios.timeline import Timeline
from sandbox.serve import ServerThread
from sandbox.slack.workspace import SlackWorkspace
from sandbox.world.alert_player import AlertPlayer
from sandbox.world.backends import (
    LivePrometheus,
    OpenSearchLogs,
    WorldOptions,
    WorldUrls,
    healthy_shop,
    replace_logs,
    restart_prometheus,
    route_alerts,
    start_claude,
    start_jaeger,
)
from sandbox.world.counter_seam import last_cumulative_values
from sandbox.world.live_metrics import LiveMetrics
from sandbox.world.live_signals import LiveSignals
from sandbox.world.recorded import Recording, kube_seed, log_document, openmetrics_text
from sandbox.world.wallclock import WallClock

HISTORY_BEFORE_INCIDENT = 1800  # at least this much normal history before any incident
RECORDED_LEAD = 5.0  # a recorded pack's last sample lies this many seconds in the past


@dataclass(frozen=True)
class LoadedScenario:
    rendered: RenderedScenario
    alerts: list[FiringAlert]  # what playing sends

    @property
    def scenario(self) -> Scenario:
        return self.rendered.scenario

    @property
    def timeline(self) -> Timeline:
        return self.rendered.timeline


@dataclass(frozen=True)
class LoadedRecording:
    """A loaded recorded pack: how far it was moved (seconds) and its alerts, moved."""

    shift: float
    alerts: list[dict[str, Any]]


class World:
    def __init__(self, options: WorldOptions | None = None) -> None:
        self.options = options or WorldOptions()
        self._owns_workdir = self.options.workdir is None
        self.workdir = self.options.workdir or Path(tempfile.mkdtemp(prefix="opsbot-world-"))
        self.traces = TraceStore()
        self.kube = KubeSandbox(None, auto_advance=False)
        self.clock = WallClock(self.kube)
        self.prometheus: PrometheusProcess | None = None
        self.alertmanager: AlertmanagerProcess | None = None
        self.opensearch: OpenSearchProcess | None = None
        self.jaeger: ServerThread | None = None
        self.claude: ServerThread | None = None
        self.slack: SlackWorkspace | None = None
        self.player: AlertPlayer | None = None
        self.loaded: LoadedScenario | None = None
        self.signals: LiveSignals | None = None
        self._generation = 0
        self._kube_started = False
        self._lock = threading.Lock()

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> World:
        try:
            self.prometheus = restart_prometheus(None, None, self._fresh_dir("prometheus"))
            self.alertmanager = start_alertmanager(workdir=self.workdir / "alertmanager")
            route_alerts(self.alertmanager, self.options.webhook_url)
            self.opensearch = start_opensearch(workdir=self.workdir / "osmem")
            self.jaeger = start_jaeger(self.traces)
            healthy_shop(self.kube)
            self.kube.start()
            self._kube_started = True
            self.kube.write_kubeconfig(self.kubeconfig_path)
            self.clock.start()
            if self.options.slack is not None:
                self.slack = SlackWorkspace(self.options.slack)
                self.slack.serve(port=self.options.slack_port)
            self.claude = start_claude(self.options)
            self.player = AlertPlayer(self.alertmanager.url, self.options.alert_resend_seconds)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything this world started (safe to call twice or after a failed start)."""
        self._stop_signals()
        if self.player is not None:
            self.player.stop()
        self.clock.stop()
        for server in (self.claude, self.jaeger):
            if server is not None:
                server.stop()
        if self.slack is not None:
            self.slack.close()
        if self._kube_started:
            self.kube.stop()
            self._kube_started = False
        for process in (self.prometheus, self.alertmanager, self.opensearch):
            if process is not None:
                process.stop()
        self.claude = self.jaeger = self.slack = None
        self.prometheus = self.alertmanager = self.opensearch = None
        if self._owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> World:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- where things are -------------------------------------------------------------------
    @property
    def kubeconfig_path(self) -> Path:
        return self.workdir / "kubeconfig"

    @property
    def urls(self) -> WorldUrls:
        if self.prometheus is None or self.alertmanager is None or self.opensearch is None:
            raise RuntimeError("the world is not started")
        assert self.jaeger is not None
        return WorldUrls(
            prometheus=self.prometheus.url,
            alertmanager=self.alertmanager.url,
            opensearch=self.opensearch.url,
            jaeger=self.jaeger.url,
            kube=self.kube.url,
            kubeconfig=str(self.kubeconfig_path),
            slack=self.slack.base_url if self.slack else None,
            claude=self.claude.url if self.claude else None,
        )

    def pids(self) -> dict[str, int]:
        """Child server processes (the in-process servers share this process's pid)."""
        found = {}
        for process in (self.prometheus, self.alertmanager, self.opensearch):
            if process is not None and process.pid is not None:
                found[process.name] = process.pid
        return found

    # -- scenarios --------------------------------------------------------------------------
    def route_alerts_to(self, webhook_url: str | None) -> None:
        """Send every alert group to `webhook_url` (e.g. the bot's /alertmanager)."""
        if self.alertmanager is None:
            raise RuntimeError("the world is not started")
        route_alerts(self.alertmanager, webhook_url)

    def load(self, scenario: str | Scenario) -> LoadedScenario:
        """Put `scenario` into every backend (replacing the previous one's data and
        resolving its alerts); raises ScenarioError when its alerts find no data."""
        chosen = load_scenario(scenario) if isinstance(scenario, str) else scenario
        with self._lock:
            self.resolve_alerts()
            self._stop_signals()
            options = self.options
            incident_ago = chosen.spec.incident.started_ago
            live = options.live and not chosen.spec.capacity_history
            timeline = Timeline.ending_now(
                incident_ago=incident_ago,
                history=max(options.history, incident_ago + HISTORY_BEFORE_INCIDENT),
                step=options.step,
                horizon=0 if live else options.horizon,
            )
            self.kube.metrics = None
            self.clock.stop()
            try:
                history = play_cluster(self.kube, chosen, timeline)
            finally:
                self.clock.start()
            rendered = render(chosen, history, timeline, self._fresh_dir("render"))
            assert self.opensearch is not None
            with ThreadPoolExecutor(1) as background:  # osmem indexes while promtool runs
                indexing = background.submit(replace_logs, self.opensearch, rendered.logs)
                if live:
                    carried = last_cumulative_values(rendered.metrics_file)
                    self.kube.metrics = LiveMetrics(
                        chosen, history, timeline, self.kube, carried=carried
                    )
                self.prometheus = restart_prometheus(
                    self.prometheus,
                    rendered.metrics_file,
                    self._fresh_dir("prometheus"),
                    "720h" if chosen.spec.capacity_history else "24h",  # weeks: few blocks
                    self._live_prometheus(chosen) if live else None,
                )
                indexing.result()
            self._sweep("prometheus", keep=self.prometheus.workdir)
            self._sweep("render", keep=rendered.metrics_file.parent)
            self.traces.clear()
            for trace in rendered.traces:
                self.traces.add(trace)
            alerts = evaluate_alerts(self.prometheus.url, chosen, timeline)
            self.loaded = LoadedScenario(rendered, alerts)
            if live:
                logs = OpenSearchLogs(self.opensearch)
                self.signals = LiveSignals(
                    chosen, history, timeline, self.kube, self.traces, logs
                ).start()
            return self.loaded

    def load_recorded(self, directory: Path) -> LoadedRecording:
        """Put a recorded pack (its directory, in the documented on-disk shape) into every
        backend, moved so that its last moment is just past (`RECORDED_LEAD` ago): samples
        into Prometheus (backfilled), log lines into the log store, spans into the Jaeger
        stand-in, its Deployments into the Kubernetes stand-in (on the healthy shop's
        nodes). The previous load's data and alerts go; the moved alerts are returned."""
        recording = Recording.read(directory)
        with self._lock:
            self._stop_signals()  # a previous live scenario's traffic must not run on
            self.resolve_alerts()
            shift = time.time() - RECORDED_LEAD - recording.latest()
            moved = recording.moved(shift)
            self.kube.metrics = None
            history = self._fresh_dir("render") / "history.om"
            history.write_text(openmetrics_text(moved.samples))
            assert self.opensearch is not None
            documents = [log_document(r) for r in moved.logs]
            with ThreadPoolExecutor(1) as background:
                indexing = background.submit(replace_logs, self.opensearch, documents)
                self.prometheus = restart_prometheus(
                    self.prometheus, history, self._fresh_dir("prometheus")
                )
                indexing.result()
            self._sweep("prometheus", keep=self.prometheus.workdir)
            self._sweep("render", keep=history.parent)
            self.traces.clear()
            for trace in moved.traces:
                self.traces.add(trace)
            self.clock.stop()
            try:
                healthy_shop(self.kube, kube_seed(moved.objects))
            finally:
                self.clock.start()
            self.loaded = None
            return LoadedRecording(shift, moved.alerts)

    def _stop_signals(self) -> None:
        if self.signals is not None:
            self.signals.stop()
            self.signals = None

    def _live_prometheus(self, scenario: Scenario) -> LivePrometheus:
        assert self.alertmanager is not None
        target = self.kube.url.removeprefix("http://").rstrip("/")
        return LivePrometheus(target, scenario.rules(), self.alertmanager.url)

    @property
    def live(self) -> LiveMetrics | None:
        """The live series of the loaded scenario (None: the world is not a closed loop)."""
        metrics = self.kube.metrics
        return metrics if isinstance(metrics, LiveMetrics) else None

    def play(self, *, resend: bool = True) -> list[FiringAlert]:
        """Post the loaded scenario's alerts through Alertmanager (and keep re-posting);
        in a live world Prometheus sends them itself, for as long as they fire."""
        if self.loaded is None or self.player is None:
            raise RuntimeError("load a scenario first")
        if self.live is None:
            self.player.play(self.loaded.alerts, resend=resend)
        return self.loaded.alerts

    def resolve_alerts(self) -> None:
        """Post the playing alerts as resolved (as Prometheus does when a condition clears)."""
        if self.player is not None:
            self.player.resolve()
        if self.live is not None and self.loaded is not None and self.alertmanager is not None:
            resolved = [a.postable(resolved=True) for a in self.loaded.alerts]
            post_alerts(self.alertmanager.url, resolved)

    def run_scenario(self, scenario: str | Scenario, *, resend: bool = True) -> LoadedScenario:
        loaded = self.load(scenario)
        self.play(resend=resend)
        return loaded

    def _fresh_dir(self, name: str) -> Path:
        self._generation += 1
        path = self.workdir / f"{name}-{self._generation}"
        path.mkdir(parents=True)
        return path

    def _sweep(self, name: str, keep: Path) -> None:
        """Remove the earlier directories of `name` once nothing uses them."""
        for old in self.workdir.glob(f"{name}-*"):
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)
