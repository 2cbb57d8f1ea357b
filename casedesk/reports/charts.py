"""The reports' charts: SVG drawn by matplotlib on the server, from the same tables the page
and the CSV show.

matplotlib's object API only (Figure, never pyplot): no global figure state, so threads of
one web process may draw at once. Text stays text in the SVG (svg.fonttype "none"): the
browser shapes it, so Arabic names read right to left, and it prints sharp at any size.
Colours are the Okabe-Ito palette (told apart with colour blindness) and stacked parts
also carry hatching, so a chart printed in black and white still reads.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import matplotlib
from django.utils.translation import gettext as _
from matplotlib.figure import Figure

from casedesk.reports.queries import Column, Table

matplotlib.rcParams.update({
    "svg.fonttype": "none",
    # The same numbers draw the same bytes, so a chart's ETag holds across requests.
    "svg.hashsalt": "casedesk",
    # The font matplotlib ships, so text is measured the same on every server.
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

COLOURS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
           "#000000"]
HATCHES = ["", "//", "..", "xx", "\\\\", "--", "++", "oo"]
WIDTH = 8.0
MOST_BARS = 15


def _figure(bars: int) -> Figure:
    # "tight" fits the labels in one measuring pass; "constrained" took twice as long.
    return Figure(figsize=(WIDTH, max(2.6, 0.38 * bars + 1.4)), layout="tight")


def _svg(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def _empty(message: str = "") -> bytes:
    message = message or _("Nothing to show for this period.")
    figure = Figure(figsize=(WIDTH, 1.2))
    figure.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#444444")
    return _svg(figure)


def _legend_above(axes: Any) -> None:
    # Above the plot, never over a bar or a line. Charts carry no title: the section's
    # heading above them says what they show, on screen and on paper.
    axes.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=4, fontsize=9,
                frameon=False, borderaxespad=0.2)


def _stacked(table: Table, label: str, *, horizontal: bool, value_columns: Sequence[int],
             rows: list[list[Any]] | None = None) -> bytes:
    """One bar a row, split by the `value_columns` (their labels are the legend)."""
    rows = table.rows if rows is None else rows
    labels = [str(row[0]) for row in rows]
    figure = _figure(len(rows) if horizontal else 6)
    axes = figure.add_subplot()
    positions = list(range(len(rows)))
    base = [0.0] * len(rows)
    for n, column in enumerate(value_columns):
        values = [float(row[column] or 0) for row in rows]
        style: dict[str, Any] = {
            "color": COLOURS[n % len(COLOURS)], "hatch": HATCHES[n % len(HATCHES)],
            "edgecolor": "white", "linewidth": 0.5, "label": table.columns[column].label,
        }
        if horizontal:
            axes.barh(positions, values, left=base, height=0.7, **style)
        else:
            axes.bar(positions, values, bottom=base, width=0.7, **style)
        base = [b + v for b, v in zip(base, values, strict=True)]
    for position, total in zip(positions, base, strict=True):
        if horizontal:
            axes.text(total, position, f" {total:,.0f}", va="center", fontsize=9)
        else:
            axes.text(position, total, f"{total:,.0f}", ha="center", va="bottom", fontsize=9)
    if horizontal:
        axes.set_yticks(positions, labels)
        axes.invert_yaxis()
        axes.set_xlabel(label)
        axes.margins(x=0.12)
    else:
        axes.set_xticks(positions, labels)
        axes.set_ylabel(label)
        axes.margins(y=0.12)
    if len(value_columns) > 1:
        _legend_above(axes)
    return _svg(figure)


def sla_chart(table: Table) -> bytes:
    rows = table.rows
    labels = [f"{row[0]} · {str(row[1]).split(' (')[0]}" for row in rows]
    figure = _figure(len(rows))
    left, right = figure.subplots(1, 2, sharey=True, width_ratios=[1, 1.2])
    positions = list(range(len(rows)))
    shares = [row[5] for row in rows]
    left.barh(positions, [s or 0 for s in shares], height=0.7, color=COLOURS[0])
    for position, value in zip(positions, shares, strict=True):
        text = _("no decided clocks") if value is None else f" {value:.1f}%"
        left.text(value or 0, position, text, va="center", fontsize=9)
    left.set_xlim(0, 115)
    left.set_xticks([0, 25, 50, 75, 100])
    left.set_yticks(positions, labels)
    left.invert_yaxis()
    left.set_xlabel(_("Share met (%)"))

    longest = max([row[7] or 0 for row in rows] + [0])
    hours = longest > 180
    scale, unit = (60.0, _("hours")) if hours else (1.0, _("minutes"))
    medians = [(row[6] or 0) / scale for row in rows]
    p90s = [(row[7] or 0) / scale for row in rows]
    right.barh([p - 0.18 for p in positions], medians, height=0.36, color=COLOURS[2],
               label=_("Median"))
    right.barh([p + 0.18 for p in positions], p90s, height=0.36, color=COLOURS[1],
               hatch="//", edgecolor="white", label=_("90th percentile"))
    right.set_xlabel(_("First response (%(unit)s)") % {"unit": unit})
    _legend_above(right)
    right.margins(x=0.1)
    if not any(medians + p90s):
        # All answered within the minute: an axis from 0, not one centred on nothing.
        right.set_xlim(0, 1)
    return _svg(figure)


def timeline_chart(table: Table) -> bytes:
    rows = table.rows
    figure = Figure(figsize=(WIDTH, 3.4), layout="tight")
    axes = figure.add_subplot()
    # matplotlib's stubs want numbers; it converts dates itself.
    days: Any = [row[0] for row in rows]
    axes.plot(days, [row[1] for row in rows], color=COLOURS[0], marker="o", markersize=3,
              linewidth=1.6, label=_("Opened"))
    axes.plot(days, [row[2] for row in rows], color=COLOURS[3], marker="s", markersize=3,
              linewidth=1.6, linestyle="--", label=_("Resolved"))
    axes.set_ylabel(_("Cases"))
    axes.set_ylim(bottom=0)
    _legend_above(axes)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    figure.autofmt_xdate()
    return _svg(figure)


def render(table: Table) -> bytes:
    """The chart of a report section, as SVG bytes."""
    if not table.rows or (table.slug == "timeline" and not any(
            row[1] or row[2] for row in table.rows)):
        return _empty()
    if table.slug == "sla":
        return sla_chart(table)
    if table.slug == "timeline":
        return timeline_chart(table)
    if table.slug == "escalations":
        return _stacked(table, _("Escalations"), horizontal=True,
                        value_columns=range(1, len(table.columns) - 1))
    if table.slug == "backlog":
        # One bar per age bucket, split by status: the columns become the bars.
        columns = list(range(1, len(table.columns) - 1))
        flipped = Table(table.slug, table.title, [table.columns[0], *[
            Column(str(row[0])) for row in table.rows]])
        flipped.rows = [[table.columns[c].label, *[row[c] for row in table.rows]]
                        for c in columns]
        return _stacked(flipped, _("Open cases"), horizontal=False,
                        value_columns=range(1, len(flipped.columns)))
    if table.slug == "volume":
        return _stacked(table, _top_title(_("Cases opened"), table),
                        horizontal=True, value_columns=range(1, len(table.columns) - 2),
                        rows=table.rows[:MOST_BARS])
    if table.slug == "agents":
        return _stacked(table, _top_title(_("Replies, notes and cases resolved"), table,
                                          agents=True),
                        horizontal=True, value_columns=[1, 2, 3],
                        rows=table.rows[:MOST_BARS])
    raise ValueError(f"No chart for {table.slug!r}.")


def _top_title(label: str, table: Table, *, agents: bool = False) -> str:
    if len(table.rows) > MOST_BARS:
        values = {"label": label, "shown": MOST_BARS, "all": len(table.rows)}
        if agents:
            return _("%(label)s (the first %(shown)s of %(all)s agents; all in the "
                     "table)") % values
        return _("%(label)s (the first %(shown)s of %(all)s categories; all in the "
                 "table)") % values
    return label
