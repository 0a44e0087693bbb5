"""The benchmarks' figure, drawn with matplotlib (bench/requirements.txt, which bench/run installs: the product and
its tests need no plotting library).

Panels side by side, each a chart of series (x, y points). A series' colour is its group's (a dataplane, or a side
of the comparison), the same in every panel, solid or dashed for the other side: each pair reads as one colour.
Log axes get 1-2-5 ticks written as plain numbers; one spanning less than a decade gets the measured values instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

try:
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter, NullLocator
except ImportError as error:  # python -m bench run without bench/run
    raise ImportError("the benchmarks' plot needs matplotlib: .venv/bin/python -m pip install -r "
                      "bench/requirements.txt (bench/run does)") from error

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"]
"""matplotlib's own (tab10), blue and red first: the two dataplanes."""


@dataclass
class Series:
    """One line: its legend label and points, dashed or solid."""

    label: str
    points: list[tuple[float, float]]
    dashed: bool = False
    group: str = ""
    """Series of one group share a colour; none given: the series is a group of its own."""


@dataclass
class Panel:
    """One chart: a title, axis labels, log or linear axes, and its series."""

    title: str
    x_label: str
    y_label: str
    series: list[Series] = field(default_factory=list)
    log_x: bool = False
    log_y: bool = False


def _number(value: float, _position: object = None) -> str:
    return f"{value:g}"


def _log_axis(axis, values: Sequence[float]) -> None:
    """1-2-5 ticks as plain numbers (0.5, 1, 2, 5, 10); the measured values when they span less than a decade."""
    if max(values) < 10 * min(values):
        axis.set_major_locator(FixedLocator(sorted(set(values))))
    else:
        axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(_number))
    axis.set_minor_locator(NullLocator())
    axis.set_minor_formatter(NullFormatter())


def draw_panel(ax, panel: Panel, colors: dict[str, str]) -> None:
    """Draw `panel` on `ax`; `colors` (group: colour) gains the groups it had not seen."""
    ax.set_title(panel.title, fontsize=12, fontweight="bold")
    ax.set_xlabel(panel.x_label)
    ax.set_ylabel(panel.y_label)
    points = [p for s in panel.series for p in s.points
              if (not panel.log_x or p[0] > 0) and (not panel.log_y or p[1] > 0)]
    if not points:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center")
        return
    if panel.log_x:
        ax.set_xscale("log")
        _log_axis(ax.xaxis, [x for x, _ in points])
    if panel.log_y:
        ax.set_yscale("log")
        _log_axis(ax.yaxis, [y for _, y in points])
    for s in panel.series:
        color = colors.setdefault(s.group or s.label, PALETTE[len(colors) % len(PALETTE)])
        xs, ys = zip(*sorted(s.points)) if s.points else ((), ())
        ax.plot(xs, ys, label=s.label, color=color, linewidth=2, linestyle="--" if s.dashed else "-", marker="o",
                markersize=6, markerfacecolor="white" if s.dashed else color)
    ax.grid(True, which="major", color="#dddddd")
    ax.legend(loc="upper left", fontsize=9, framealpha=0.9)


def write(path: Path, panels: list[Panel], title: str = "", panel_size: tuple[float, float] = (5.4, 4.6)) -> Path:
    """All panels side by side, under `title`, as one PNG."""
    figure = Figure(figsize=(panel_size[0] * max(1, len(panels)), panel_size[1]), dpi=110, layout="constrained")
    if title:
        figure.suptitle(title, fontsize=14, fontweight="bold")
    panels = panels or [Panel("no results in bench/results", "", "")]
    colors: dict[str, str] = {}
    for ax, panel in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        draw_panel(ax, panel, colors)
    figure.savefig(path, format="png", metadata={"Software": None})
    return path
