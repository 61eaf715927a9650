"""Charts as PNG bytes (matplotlib's object API on the Agg canvas: no pyplot global state,
so digests can render from several threads).

Labels come from the outside world (log templates, trace operations, resource names) and
end up as pixels no later scan can read, so every text of a figure is masked on its way
into the PNG (`_png`): credentials, card numbers and contact data alike.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.text import Text
from matplotlib.ticker import Formatter, MaxNLocator

from bot.analysis.traces.advice import Edge
from bot.investigation.agent.redaction import PLACEHOLDER, Redactor
from bot.slack.invisible import visible

PALETTE = ("#2f6fdf", "#e8743b", "#19a979", "#ed4a7b", "#945ecf", "#13a4b4", "#525df4", "#bf399e")
ERROR_RED = "#d64545"


def _mask(text: str, redactor: Redactor) -> str:
    """`text` masked, placeholders already in it kept (a label masked before it was cut)."""
    parts = PLACEHOLDER.split(visible(text))
    kept = PLACEHOLDER.findall(visible(text))
    masked = [redactor.redact(part) for part in parts]
    return "".join(m + (kept[i] if i < len(kept) else "") for i, m in enumerate(masked))


class _MaskingFormatter(Formatter):
    """Tick labels of another formatter, masked (tick labels are made at draw time)."""

    def __init__(self, inner: Formatter, redactor: Redactor) -> None:
        self.inner = inner
        self.redactor = redactor

    def mask(self, text: str) -> str:
        return _mask(text, self.redactor)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.mask(self.inner(x, pos))

    def format_ticks(self, values: list[float]) -> list[str]:
        return [self.mask(label) for label in self.inner.format_ticks(values)]

    def get_offset(self) -> str:
        return self.mask(self.inner.get_offset())

    def set_locs(self, locs: list[float]) -> None:
        self.inner.set_locs(locs)

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)


def _masked(figure: Figure) -> None:
    """Every text of the figure (titles, axis labels, legends, notes, tick labels) masked,
    with one redactor, so a value masked in a label and the title gets one placeholder."""
    redactor = Redactor()
    for artist in figure.findobj(Text):
        if isinstance(artist, Text):
            artist.set_text(_mask(artist.get_text(), redactor))
    for axes in figure.axes:
        for axis in (axes.xaxis, axes.yaxis):
            axis.set_major_formatter(_MaskingFormatter(axis.get_major_formatter(), redactor))
            axis.set_minor_formatter(_MaskingFormatter(axis.get_minor_formatter(), redactor))


def _png(figure: Figure) -> bytes:
    _masked(figure)
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def bar_chart(
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    ylabel: str,
    stacked: bool = False,
) -> bytes:
    """Grouped (or stacked) vertical bars, one group per label."""
    figure = Figure(figsize=(8, 3.6))
    axes = figure.add_subplot()
    count = max(len(series), 1)
    width = 0.8 if stacked else 0.8 / count
    bottom = [0.0] * len(labels)
    for index, (name, values) in enumerate(series.items()):
        offsets = [i if stacked else i - 0.4 + width * (index + 0.5) for i in range(len(labels))]
        axes.bar(
            offsets,
            values,
            width,
            bottom=bottom if stacked else None,
            label=name,
            color=PALETTE[index % len(PALETTE)],
        )
        if stacked:
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 8 else 0, ha="right")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(axis="y", alpha=0.3)
    if all(float(v).is_integer() for values in series.values() for v in values):
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if len(series) > 1:
        axes.legend(fontsize=8)
    return _png(figure)


def line_chart(
    labels: Sequence[str], values: Sequence[float | None], *, title: str, ylabel: str
) -> bytes:
    """One line; None values are gaps (a day without data)."""
    figure = Figure(figsize=(8, 3.2))
    axes = figure.add_subplot()
    plotted = [math.nan if v is None else v for v in values]
    axes.plot(range(len(labels)), plotted, marker="o", color=PALETTE[0])
    axes.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 8 else 0, ha="right")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    finite = [v for v in plotted if math.isfinite(v)]
    # A sensible axis: at least 0..1 of the unit, so a few seconds do not fill the chart.
    axes.set_ylim(bottom=0, top=max(1.0, max(finite, default=0.0) * 1.15))
    axes.grid(alpha=0.3)
    return _png(figure)


def hbar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    xlabel: str,
    highlight: Sequence[bool] = (),
) -> bytes:
    """Horizontal bars, largest on top; highlighted bars (errors) in red."""
    figure = Figure(figsize=(9, 0.45 * max(len(labels), 3) + 1.2))
    axes = figure.add_subplot()
    redactor = Redactor()  # before the cut, which could leave half a value unrecognised
    masked = [_mask(label, redactor) for label in labels]
    shown = [label if len(label) <= 70 else label[:67] + "…" for label in masked]
    colors = [ERROR_RED if (highlight and highlight[i]) else PALETTE[0] for i in range(len(shown))]
    axes.barh(range(len(shown)), values, color=colors)
    axes.set_yticks(range(len(shown)), shown, fontsize=8)
    axes.invert_yaxis()
    axes.set_title(title)
    axes.set_xlabel(xlabel)
    axes.grid(axis="x", alpha=0.3)
    return _png(figure)


def _layers(edges: Sequence[Edge]) -> dict[str, int]:
    """Longest-path depth of each service from the callers nobody calls (cycles cut)."""
    callees: dict[str, set[str]] = defaultdict(set)
    nodes: set[str] = set()
    for edge in edges:
        callees[edge.caller].add(edge.callee)
        nodes |= {edge.caller, edge.callee}
    called = {e.callee for e in edges}
    depth = {node: 0 for node in nodes if node not in called} or {min(nodes): 0}
    for _ in range(len(nodes)):
        changed = False
        for caller, targets in callees.items():
            if caller not in depth:
                continue
            for target in targets:
                wanted = depth[caller] + 1
                if depth.get(target, -1) < wanted <= len(nodes):
                    depth[target] = wanted
                    changed = True
        if not changed:
            break
    for node in nodes:
        depth.setdefault(node, 0)
    return depth


def dependency_graph(edges: Sequence[Edge], *, title: str) -> bytes:
    """Services left to right by call depth; each edge labelled calls · errors · p95."""
    figure = Figure(figsize=(10, 5.5))
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(title)
    if not edges:
        axes.text(0.5, 0.5, "no calls between services in this window", ha="center")
        return _png(figure)
    depth = _layers(edges)
    columns: dict[int, list[str]] = defaultdict(list)
    for node in sorted(depth):
        columns[depth[node]].append(node)
    position: dict[str, tuple[float, float]] = {}
    for column, names in columns.items():
        for row, name in enumerate(names):
            position[name] = (column * 3.0, -(row - (len(names) - 1) / 2) * 1.6)
    for edge in edges:
        start, end = position[edge.caller], position[edge.callee]
        bad = edge.error_rate >= 0.05
        axes.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>",
                mutation_scale=14,
                shrinkA=28,
                shrinkB=28,
                color=ERROR_RED if bad else "#666666",
                linewidth=1 + min(edge.calls, 1000) ** 0.3 / 2,
                connectionstyle="arc3,rad=0.08",
            )
        )
        label = f"{edge.calls} calls · {edge.error_rate:.0%} err · p95 {edge.p95_ms:,.0f} ms"
        middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.18)
        axes.text(
            *middle,
            label,
            fontsize=7,
            ha="center",
            color=ERROR_RED if bad else "#333333",
            bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.85, "linewidth": 0},
        )
    for name, (x, y) in position.items():
        axes.text(
            x,
            y,
            name,
            ha="center",
            va="center",
            fontsize=10,
            bbox={"boxstyle": "round,pad=0.5", "facecolor": "#e9f0fd", "edgecolor": PALETTE[0]},
        )
    xs = [p[0] for p in position.values()]
    ys = [p[1] for p in position.values()]
    axes.set_xlim(min(xs) - 1.5, max(xs) + 1.5)
    axes.set_ylim(min(ys) - 1.2, max(ys) + 1.2)
    return _png(figure)
