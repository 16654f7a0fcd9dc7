"""The figures, drawn with matplotlib from the trend tables only.

One style: Okabe-Ito colour-blind-safe palette, labelled axes with units, and a
footer on every figure with n, the corpus and the codebook version. Each figure is
written as PNG (configured dpi) and SVG, with fixed metadata so reruns are identical.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

from litthemes.captions import CROSS_DIMENSIONS, FIGURE_CAPTIONS, OKABE_ITO
from litthemes.codebook import Codebook

log = logging.getLogger(__name__)

GROUP_COLOURS = {"trends": "#0072B2", "challenges": "#D55E00", "impacts": "#009E73", "future": "#CC79A7"}
NO_GROUP = "#777777"


def group_colours(book: Codebook) -> dict[str, str]:
    """A colour for each of ``book``'s theme groups that has themes, in the codebook's order:
    the bundled study's four keep theirs in every figure, other groups take the palette's
    colours those leave free."""
    spare = [colour for colour in OKABE_ITO if colour not in GROUP_COLOURS.values()]
    colours: dict[str, str] = {}
    for group in book.groups:
        if any(theme.group == group for theme in book.themes):
            colours[group] = GROUP_COLOURS.get(group) or (spare.pop(0) if spare else NO_GROUP)
    return colours


STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.bbox": "tight",
    "font.size": 9,
    "axes.titlesize": 11,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(color=OKABE_ITO),
    "svg.hashsalt": "litthemes",
    "svg.fonttype": "none",
    "legend.frameon": False,
    # Type 3 glyphs: TrueType (42) subsets every font per figure and triples the PDF's cost.
    "pdf.fonttype": 3,
}

# The short captions (litthemes.captions), under the name notebooks and tests know.
CAPTIONS = FIGURE_CAPTIONS


class FigureWriter:
    """Saves figures in the configured formats with a provenance footer."""

    def __init__(self, out_dir: str | Path, formats: list[str], dpi: int, footer: str) -> None:
        self.out_dir = Path(out_dir)
        self.formats = formats
        self.dpi = dpi
        self.footer = footer
        self.written: list[str] = []

    def save(self, fig: Any, name: str, n_note: str = "") -> None:
        from litthemes.tables import atomic_path

        note = " · ".join(x for x in (n_note, self.footer) if x)
        # Put the footer under everything drawn so far (rotated tick labels included).
        renderer = fig.canvas.get_renderer()
        drawn = fig.get_tightbbox(renderer)
        footer = fig.text(
            0.01,
            drawn.y0 / fig.get_figheight() - 0.01,
            textwrap.fill(note, 150),
            ha="left",
            va="top",
            fontsize=7,
            color="#555555",
        )
        # The tight box once for every format (savefig would draw the figure an extra time
        # per format to find it), and from the box without the footer: laying out every
        # tick label again is most of a figure's drawing time.
        with_footer = Bbox.union(
            [drawn, footer.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())]
        )
        box = with_footer.padded(plt.rcParams["savefig.pad_inches"])
        self.out_dir.mkdir(parents=True, exist_ok=True)
        for fmt in self.formats:
            target = self.out_dir / f"{name}.{fmt}"
            metadata = {"Date": None} if fmt in ("svg", "pdf") else {"Software": "litthemes"}
            if fmt == "pdf":
                metadata = {"CreationDate": None, "ModDate": None}
            with atomic_path(target) as tmp:
                fig.savefig(tmp, format=fmt, dpi=self.dpi, metadata=metadata, bbox_inches=box)
            self.written.append(str(target))
        plt.close(fig)


def _label_of(book: Codebook) -> Callable[[str], str]:
    labels = {c.id: c.label for c in book.codes}
    return lambda code: labels.get(code, code)


def _empty(ax: Any, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#555555")
    ax.set_xticks([])
    ax.set_yticks([])


def fig_corpus_by_year(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    df = t["corpus_by_year"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if df.empty:
        _empty(ax, "No records with a publication year")
    else:
        wide = df.pivot_table(index="year", columns="source", values="records", fill_value=0).sort_index()
        years = np.arange(wide.index.min(), wide.index.max() + 1)
        wide = wide.reindex(years, fill_value=0)
        # An export split into pages (OpenAlex's works_0_25.json, ...) has more files than
        # the palette has colours: the largest keep theirs, the rest stack as one.
        if len(wide.columns) > len(OKABE_ITO):
            by_size = sorted(wide.columns, key=lambda source: (-wide[source].sum(), source))
            kept, rest = sorted(by_size[: len(OKABE_ITO) - 1]), by_size[len(OKABE_ITO) - 1 :]
            wide = wide[kept].assign(**{f"{len(rest)} other files": wide[rest].sum(axis=1)})
        bottom = np.zeros(len(wide))
        for i, source in enumerate(wide.columns):
            ax.bar(wide.index, wide[source], bottom=bottom, label=source, color=OKABE_ITO[i % len(OKABE_ITO)])
            bottom += wide[source].to_numpy()
        # Whole years, few enough that four-digit labels do not run into each other.
        ax.xaxis.set_major_locator(MaxNLocator(nbins=10, integer=True))
        ax.legend(fontsize=7, loc="upper left")
    ax.set_xlabel("Publication year")
    ax.set_ylabel("Records (count)")
    ax.set_title("Corpus by year and source")
    w.save(fig, "corpus_by_year", f"n = {int(df['records'].sum()) if len(df) else 0} records with a year")


def fig_field_availability(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    df = t["field_availability"]
    fig, ax = plt.subplots(figsize=(6, 2.4))
    ax.barh(df["text_available"], df["records"], color=OKABE_ITO[4])
    for y, (count, share) in enumerate(zip(df["records"], df["share"], strict=True)):
        ax.text(count, y, f" {count} ({share:.0%})", va="center", fontsize=8)
    ax.set_xlabel("Records (count)")
    ax.set_title("Text available for coding")
    ax.set_xlim(0, max(df["records"].max(), 1) * 1.25)
    w.save(fig, "field_availability", f"n = {int(df['records'].sum())} included records")


def fig_theme_prevalence(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    """Two bars per theme: the share of records that mention it, and of those whose main theme it is."""
    df = t["prevalence"]
    df = df[~df["theme"].str.startswith("group:")].sort_values(["share", "theme"])
    label = _label_of(book)
    fig, ax = plt.subplots(figsize=(7, 5.5))
    y = np.arange(len(df))
    by_group = group_colours(book)
    colours = [by_group.get(g, NO_GROUP) for g in df["group"]]
    height = 0.4
    ax.barh(y + height / 2, df["share"] * 100, height=height, color=colours, alpha=0.45)
    ax.errorbar(
        df["share"] * 100,
        y + height / 2,
        xerr=[(df["share"] - df["ci_low"]) * 100, (df["ci_high"] - df["share"]) * 100],
        fmt="none",
        ecolor="#555555",
        capsize=2,
        lw=0.7,
    )
    ax.barh(y - height / 2, df["main_share"] * 100, height=height, color=colours)
    ax.errorbar(
        df["main_share"] * 100,
        y - height / 2,
        xerr=[(df["main_share"] - df["main_ci_low"]) * 100, (df["main_ci_high"] - df["main_share"]) * 100],
        fmt="none",
        ecolor="#222222",
        capsize=2,
        lw=0.7,
    )
    ax.set_yticks(y, [label(x) for x in df["theme"]])
    ax.set_xlabel("Records (%): pale bar, theme mentioned; dark bar, the record's main theme")
    ax.set_title("Prevalence of themes: mentioned and main theme")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in by_group.values()]
    ax.legend(handles, [book.groups[g] for g in by_group], loc="lower right", fontsize=7)
    n = int(df["records"].iloc[0]) if len(df) else 0
    w.save(fig, "theme_prevalence", f"n = {n} records")


def fig_theme_trends(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    """One small panel per theme (ordered by group), so lines and intervals never overlap."""
    df = t["prevalence_by_year"]
    themes = book.themes
    cols = 4
    rows = int(np.ceil(len(themes) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 2.3 * rows), sharex=True, squeeze=False)
    sparse_years: set[int] = set()
    by_group = group_colours(book)
    for ax, theme in zip(axes.flat, themes, strict=False):
        s = df[df["theme"] == theme.id].sort_values("year")
        colour = by_group.get(theme.group or "", "#333333")
        ax.set_title(textwrap.fill(theme.label, 30), fontsize=8.5, color=colour)
        if s.empty:
            _empty(ax, "No dated records")
            continue
        ok = s["enough_records"].to_numpy(dtype=bool)
        ax.fill_between(s["year"], s["ci_low"] * 100, s["ci_high"] * 100, color=colour, alpha=0.18, lw=0)
        ax.plot(s["year"], s["share"] * 100, color=colour, lw=1.3)
        ax.scatter(s["year"][ok], s["share"][ok] * 100, color=colour, s=9, zorder=3)
        ax.scatter(s["year"][~ok], s["share"][~ok] * 100, facecolors="white", edgecolors=colour, s=12, zorder=3)
        ax.set_ylim(bottom=0)
        ax.tick_params(labelsize=7)
        sparse_years.update(int(y) for y in s.loc[~ok, "year"])
    for ax in list(axes.flat)[len(themes) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("Records (%)", fontsize=8)
    for ax in axes[-1]:
        ax.set_xlabel("Publication year", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    handles = [plt.Line2D([0], [0], color=c, lw=2) for c in by_group.values()]
    fig.legend(
        handles,
        [book.groups[g] for g in by_group],
        loc="upper center",
        ncol=min(4, max(1, len(by_group))),
        bbox_to_anchor=(0.5, 1.02),
        fontsize=8,
    )
    fig.suptitle("Themes over time: share of each year's records", y=1.06)
    fig.tight_layout()
    # tight_layout leaves a placeholder layout engine behind, and savefig lays out a figure
    # with any engine once more before drawing it (16 panels: a fifth of this figure's
    # time, per format); the layout is final here, and the files are the same without it.
    fig.set_layout_engine(None)
    sparse = sorted(sparse_years)
    note = (
        f"hollow markers, no interval: years with too few records ({', '.join(map(str, sparse))})"
        if sparse
        else "shaded: 95% Wilson interval"
    )
    w.save(fig, "theme_trends", note)


def fig_covid_change(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    df = t["covid_split"].dropna(subset=["difference"]).sort_values("difference")
    label = _label_of(book)
    fig, ax = plt.subplots(figsize=(7, 5))
    if df.empty:
        _empty(ax, "Not enough records on both sides of the split year")
    else:
        y = np.arange(len(df))
        by_group = group_colours(book)
        colours = [by_group.get(g, NO_GROUP) for g in df["group"]]
        ax.errorbar(
            df["difference"] * 100,
            y,
            xerr=[(df["difference"] - df["ci_low"]) * 100, (df["ci_high"] - df["difference"]) * 100],
            fmt="none",
            ecolor="#777777",
            lw=0.8,
            capsize=2,
        )
        ax.scatter(df["difference"] * 100, y, color=colours, zorder=3)
        ax.axvline(0, color="#333333", lw=0.8)
        ax.set_yticks(y, [label(x) for x in df["theme"]])
    ax.set_xlabel("Change in share of records (percentage points)")
    ax.set_title("Before vs after COVID-19")
    row = t["covid_split"].iloc[0] if len(t["covid_split"]) else None
    note = (
        f"n = {int(row['records_before'])} before, {int(row['records_after'])} from the split year"
        if row is not None
        else ""
    )
    w.save(fig, "covid_change", note)


def fig_terminology(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    df = t["terminology"]
    label = _label_of(book)
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if df.empty:
        _empty(ax, "No dated records")
    else:
        for i, term in enumerate(sorted(df["credential_type"].unique())):
            s = df[df["credential_type"] == term].sort_values("year")
            ax.plot(s["year"], s["share"] * 100, marker="o", ms=3, label=label(term), color=OKABE_ITO[i])
            ax.fill_between(s["year"], s["ci_low"] * 100, s["ci_high"] * 100, alpha=0.12, color=OKABE_ITO[i], lw=0)
        ax.legend(fontsize=7)
    ax.set_xlabel("Publication year")
    ax.set_ylabel("Records using the term (%)")
    ax.set_title("Terminology: digital badge, Open Badge, micro-credential")
    w.save(fig, "terminology_shift")


def _heatmap(ax: Any, matrix: pd.DataFrame, values_fmt: Callable[[float], str], cmap: str, label: str) -> None:
    values = matrix.to_numpy(dtype=float)
    image = ax.imshow(values, cmap=cmap, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), matrix.columns, rotation=40, ha="right")
    ax.set_yticks(range(matrix.shape[0]), matrix.index)
    top = np.nanmax(values) if np.isfinite(values).any() else 1.0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            value = matrix.iat[i, j]
            if not pd.isna(value):
                # Light text on the dark end of the colour map, dark text on the light end.
                colour = "white" if value < 0.6 * top else "black"
                ax.text(j, i, values_fmt(value), ha="center", va="center", fontsize=7, color=colour)
    plt.colorbar(image, ax=ax, label=label, shrink=0.8)


def fig_challenge_cooccurrence(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    df = t["challenge_cooccurrence"]
    label = _label_of(book)
    ids = [c.id for c in book.themes if c.group == "challenges"]
    fig, ax = plt.subplots(figsize=(6.5, 5))
    if df.empty:
        _empty(ax, "No challenge themes")
    elif df["n_both"].sum() == 0:
        _empty(ax, "No record carries two challenge themes\n(too few coded records for co-occurrence)")
    else:
        names = [textwrap.shorten(label(i), 28) for i in ids]
        lift = pd.DataFrame(np.nan, index=names, columns=names)
        counts = pd.DataFrame(np.nan, index=names, columns=names)
        for r in df.itertuples():
            a, b = names[ids.index(r.theme_a)], names[ids.index(r.theme_b)]
            lift.loc[a, b] = lift.loc[b, a] = r.lift
            counts.loc[a, b] = counts.loc[b, a] = r.n_both
        image = ax.imshow(lift.to_numpy(dtype=float), cmap="cividis", aspect="auto")
        ax.set_xticks(range(len(names)), names, rotation=40, ha="right")
        ax.set_yticks(range(len(names)), names)
        for i in range(len(names)):
            for j in range(len(names)):
                if not pd.isna(counts.iat[i, j]):
                    ax.text(
                        j,
                        i,
                        f"{int(counts.iat[i, j])}",
                        ha="center",
                        va="center",
                        fontsize=8,
                        color="white" if (lift.iat[i, j] or 0) < 1.5 else "black",
                    )
        plt.colorbar(image, ax=ax, label="Lift (observed / expected co-occurrence)", shrink=0.8)
    ax.set_title("Which challenges appear together")
    w.save(fig, "challenge_cooccurrence", "labels: records with both themes")


def fig_challenge_network(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    import networkx as nx

    df = t["challenge_cooccurrence"]
    prev = t["prevalence"].set_index("theme")
    label = _label_of(book)
    graph = nx.Graph()
    for c in book.themes:
        if c.group == "challenges":
            graph.add_node(c.id, size=float(prev.loc[c.id, "coded"]) if c.id in prev.index else 0.0)
    for r in df.itertuples():
        if r.n_both > 0:
            graph.add_edge(r.theme_a, r.theme_b, weight=r.jaccard, significant=bool(r.significant))
    fig, ax = plt.subplots(figsize=(6.5, 5))
    pos = nx.circular_layout(graph)
    sizes = [200 + 40 * graph.nodes[n]["size"] for n in graph.nodes]
    edges = list(graph.edges(data=True))
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_size=sizes, node_color=GROUP_COLOURS["challenges"], alpha=0.85)
    if edges:
        nx.draw_networkx_edges(
            graph,
            pos,
            ax=ax,
            edgelist=[(a, b) for a, b, _ in edges],
            width=[0.5 + 12 * d["weight"] for _, _, d in edges],
            style=["solid" if d["significant"] else "dashed" for _, _, d in edges],
            edge_color="#555555",
        )
    nx.draw_networkx_labels(
        graph,
        {k: (v[0], v[1] - 0.16) for k, v in pos.items()},
        labels={n: textwrap.fill(label(n), 18) for n in graph.nodes},
        font_size=7,
        ax=ax,
    )
    ax.set_axis_off()
    ax.set_xlim(-1.4, 1.4)
    ax.set_ylim(-1.4, 1.3)
    ax.set_title("Challenge co-occurrence network")
    w.save(fig, "challenge_network", "node size: records coded")


def _cross(name: str, dimension: str, title: str) -> Callable[[dict[str, pd.DataFrame], FigureWriter, Codebook], None]:
    def draw(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
        df = t[name]
        label = _label_of(book)
        fig, ax = plt.subplots(figsize=(7.5, 6))
        if df.empty:
            _empty(ax, "No coded records")
        else:
            matrix = df.pivot_table(index="theme", columns=dimension, values="share_of_theme", fill_value=0.0)
            order = [c.id for c in book.themes if c.id in matrix.index]
            cols = [c.id for c in book.by_dimension(dimension) if c.id in matrix.columns]
            matrix = matrix.loc[order, cols] * 100
            n_theme = df.groupby("theme")["theme_records"].first()
            matrix.index = [f"{textwrap.shorten(label(i), 34)} (n={int(n_theme.get(i, 0))})" for i in matrix.index]
            matrix.columns = [label(c) for c in matrix.columns]
            _heatmap(ax, matrix, lambda v: f"{v:.0f}", "viridis", "Share of the theme's records (%)")
        ax.set_title(title)
        w.save(fig, name, "n: records coded with the theme; shares of fewer than 10 records are fragile")

    return draw


# Where a map's label may go around its point (offset direction, alignment), in the order
# tried: right, left, above, below, then the diagonals; then the same again further out,
# with a leader line.
_LABEL_SPOTS = [
    ((1, 0), "left", "center"),
    ((-1, 0), "right", "center"),
    ((0, 1), "center", "bottom"),
    ((0, -1), "center", "top"),
    ((0.7, 0.7), "left", "bottom"),
    ((-0.7, 0.7), "right", "bottom"),
    ((0.7, -0.7), "left", "top"),
    ((-0.7, -0.7), "right", "top"),
]


def place_labels(ax: Any, x: np.ndarray, y: np.ndarray, sizes: np.ndarray, texts: list[str]) -> None:
    """Label each scatter point (``sizes`` in points squared, as ``scatter``'s ``s``) beside
    it, at the first spot around it where the label covers no other label, no point and
    stays inside the axes; where none is free, at the spot it overlaps least. Largest
    points first, since they are the hardest to label away from. A search over a few spots
    instead of adjustText's relaxation, which every rerun's figures would wait for
    (docs/performance.md)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_pixels = fig.dpi / 72
    ax.get_xlim(), ax.get_ylim()  # the autoscaled limits, which matplotlib sets only when asked or drawn
    centres = ax.transData.transform(np.column_stack([x, y]))
    radii = np.sqrt(sizes) / 2 * to_pixels
    points = np.column_stack([centres - radii[:, None], centres + radii[:, None]])
    frame = ax.get_window_extent(renderer)
    placed: list[np.ndarray] = []
    for i in sorted(range(len(texts)), key=lambda k: (-sizes[k], k)):
        near = radii[i] / to_pixels + 2  # points
        # What this label must not cover: the labels placed so far and every other point.
        others = np.vstack([*placed, np.delete(points, i, axis=0)])
        probe = ax.annotate(texts[i], (x[i], y[i]), xytext=(0, 0), textcoords="offset points", fontsize=6.5)
        best: tuple[float, tuple[float, float], str, str] | None = None
        for gap, ((dx, dy), ha, va) in [(near + extra, spot) for extra in (0, 14, 28) for spot in _LABEL_SPOTS]:
            offset = (dx * gap, dy * gap)
            probe.xyann = offset
            probe.set_horizontalalignment(ha)
            probe.set_verticalalignment(va)
            box = probe.get_window_extent(renderer)
            width = np.clip(np.minimum(box.x1, others[:, 2]) - np.maximum(box.x0, others[:, 0]), 0, None)
            height = np.clip(np.minimum(box.y1, others[:, 3]) - np.maximum(box.y0, others[:, 1]), 0, None)
            outside = max(frame.x0 - box.x0, box.x1 - frame.x1, frame.y0 - box.y0, box.y1 - frame.y1, 0.0)
            cost = float((width * height).sum()) + outside * box.height * 10
            if best is None or cost < best[0]:
                best = (cost, offset, ha, va)
            if cost == 0:
                break
        assert best is not None
        _, offset, ha, va = best
        probe.remove()
        # A label moved out beyond the first ring gets a leader line to its point.
        leader = {"arrowstyle": "-", "color": "#888888", "lw": 0.4, "shrinkA": 0, "shrinkB": radii[i] / to_pixels}
        label = ax.annotate(
            texts[i],
            (x[i], y[i]),
            xytext=offset,
            textcoords="offset points",
            fontsize=6.5,
            ha=ha,
            va=va,
            arrowprops=leader if np.hypot(*offset) > near + 1 else None,
        )
        label.update_positions(renderer)
        box = Text.get_window_extent(label, renderer)  # the label, without its leader line
        placed.append(np.array([[box.x0, box.y0, box.x1, box.y1]]))


def _map(name: str, key: str, title: str) -> Callable[[dict[str, pd.DataFrame], FigureWriter, Codebook], None]:
    def draw(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
        df = t[name]
        label = _label_of(book)
        fig, ax = plt.subplots(figsize=(7, 5.5))
        if len(df) < 2:
            _empty(ax, "Too few clusters with co-occurring items for a map")
        else:
            size = 30 + 300 * df["occurrences"] / max(df["occurrences"].max(), 1)
            colours = {
                "motor": OKABE_ITO[5],
                "niche": OKABE_ITO[2],
                "emerging or declining": OKABE_ITO[1],
                "basic": OKABE_ITO[0],
            }
            ax.scatter(df["centrality"], df["density"], s=size, c=[colours[q] for q in df["quadrant"]], alpha=0.8)
            ax.axvline(df["centrality"].median(), color="#999999", lw=0.8, ls="--")
            ax.axhline(df["density"].median(), color="#999999", lw=0.8, ls="--")
            # The quadrants' names go in a legend under the axes: in the corners they
            # covered the points (and labels) that sit there.
            ax.legend(
                handles=[
                    Line2D([], [], ls="", marker="o", markersize=6, color=colour, alpha=0.8, label=f"{quadrant} themes")
                    for quadrant, colour in colours.items()
                ],
                loc="upper center",
                bbox_to_anchor=(0.5, -0.12),
                ncol=4,
                frameon=False,
                fontsize=8,
            )
            texts = [
                textwrap.shorten(str(label(getattr(r, key)) if key == "theme" else getattr(r, key)), 30)
                for r in df.itertuples()
            ]
            place_labels(ax, df["centrality"].to_numpy(), df["density"].to_numpy(), size.to_numpy(), texts)
        ax.set_xlabel("Centrality (10 x sum of external equivalence index)")
        ax.set_ylabel("Density (100 x mean internal equivalence index)")
        ax.set_title(title)
        w.save(fig, name)

    return draw


def fig_opportunity_risk(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    df = t["opportunity_risk"]
    fig, ax = plt.subplots(figsize=(8, 3.6))
    if df.empty:
        _empty(ax, "No dated records")
    else:
        ax.plot(
            df["year"],
            df["opportunity"] * 100,
            marker="o",
            ms=3,
            color=GROUP_COLOURS["trends"],
            label="Trend themes (opportunity)",
        )
        ax.plot(
            df["year"],
            df["risk"] * 100,
            marker="s",
            ms=3,
            color=GROUP_COLOURS["challenges"],
            label="Challenge themes (risk)",
        )
        sparse = df[~df["enough_records"].astype(bool)]
        ax.scatter(
            sparse["year"],
            sparse["opportunity"] * 100,
            facecolors="white",
            edgecolors=GROUP_COLOURS["trends"],
            zorder=3,
        )
        ax.scatter(
            sparse["year"], sparse["risk"] * 100, facecolors="white", edgecolors=GROUP_COLOURS["challenges"], zorder=3
        )
        ax.legend(fontsize=7)
    ax.set_xlabel("Publication year")
    ax.set_ylabel("Records (%)")
    ax.set_title("Opportunity vs risk")
    w.save(fig, "opportunity_risk", "hollow markers: years with too few records")


def fig_topics(t: dict[str, pd.DataFrame], w: FigureWriter, book: Codebook) -> None:
    df = t.get("topics", pd.DataFrame())
    fig, ax = plt.subplots(figsize=(7.5, max(2.5, 0.3 * len(df) + 1)))
    real = df[df["topic"] >= 0].sort_values("size") if len(df) else df
    if real is None or len(real) == 0:
        _empty(ax, "No topics (corpus too small or no structure found)")
    else:
        y = np.arange(len(real))
        colours = [OKABE_ITO[0] if e else OKABE_ITO[4] for e in real["emergent"]]
        bars = ax.barh(y, real["size"], color=colours)
        for bar, stable in zip(bars, real["stable"], strict=True):
            if not stable:
                bar.set_hatch("///")
        ax.set_yticks(y, [textwrap.shorten(str(x), 50) for x in real["label"]])
    ax.set_xlabel("Records in topic (count)")
    ax.set_title("Inductive topics")
    w.save(fig, "topics", f"{int(df['emergent'].sum()) if len(df) else 0} emergent topics")


FIGURES: dict[str, Callable[[dict[str, pd.DataFrame], FigureWriter, Codebook], None]] = {
    "corpus_by_year": fig_corpus_by_year,
    "field_availability": fig_field_availability,
    "theme_prevalence": fig_theme_prevalence,
    "theme_trends": fig_theme_trends,
    "covid_change": fig_covid_change,
    "terminology_shift": fig_terminology,
    "challenge_cooccurrence": fig_challenge_cooccurrence,
    "challenge_network": fig_challenge_network,
    **{
        name: _cross(name, dimension, f"Themes by {dimension.replace('_', ' ')}")
        for name, dimension in CROSS_DIMENSIONS.items()
    },
    "thematic_map_themes": _map("thematic_map_themes", "theme", "Thematic map of themes"),
    "thematic_map_topics": _map("thematic_map_topics", "topic", "Thematic map of topics"),
    "opportunity_risk": fig_opportunity_risk,
    "topics": fig_topics,
}


def _render_some(
    names: list[str],
    tables: dict[str, pd.DataFrame],
    book: Codebook,
    out_dir: str | Path,
    formats: list[str],
    dpi: int,
    footer: str,
) -> list[str]:
    writer = FigureWriter(out_dir, formats, dpi, footer)
    with plt.rc_context(STYLE):  # type: ignore[arg-type]
        for name in names:
            FIGURES[name](tables, writer, book)
    return writer.written


def render(
    tables: dict[str, pd.DataFrame],
    book: Codebook,
    out_dir: str | Path,
    formats: list[str],
    dpi: int,
    footer: str,
    workers: int = 1,
    names: list[str] | None = None,
) -> list[str]:
    """Draw every figure (or those in ``names``); returns the files written, in the order of :data:`FIGURES`.

    With ``workers`` > 1 the figures are drawn by that many forked processes (each
    figure is independent of the others, and a figure's bytes do not depend on which
    process drew it); where fork is not available they are drawn here.
    """
    import multiprocessing

    unknown = sorted(set(names or ()) - set(FIGURES))
    if unknown:
        raise ValueError(f"unknown figures {unknown}; figures are {list(FIGURES)}")
    names = [name for name in FIGURES if names is None or name in names]
    if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        return _render_some(names, tables, book, out_dir, formats, dpi, footer)
    from concurrent.futures import ProcessPoolExecutor

    # Round-robin over the figures in their usual order spreads the heavy ones.
    batches = [names[i::workers] for i in range(workers)]
    shared = [[x] * workers for x in (tables, book, out_dir, formats, dpi, footer)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        written = [path for part in pool.map(_render_some, batches, *shared) for path in part]
    order = {name: i for i, name in enumerate(names)}
    return sorted(written, key=lambda path: order.get(Path(path).stem, len(order)))
