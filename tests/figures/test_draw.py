"""Figure functions on small tables: each draws what its caption promises."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from litthemes.codebook import load_codebook
from litthemes.figures.draw import FIGURES, GROUP_COLOURS, FigureWriter, group_colours, render

matplotlib.use("Agg")
ROOT = Path(__file__).resolve().parents[2]
BOOK = load_codebook(ROOT / "config" / "codebook.yaml")
LABEL = {c.id: c.label for c in BOOK.codes}


class Capture(FigureWriter):
    """Keeps each figure (and its note) instead of writing files."""

    def __init__(self) -> None:
        super().__init__("unused", [], 72, "footer")
        self.figures: dict[str, tuple[Any, str]] = {}

    def save(self, fig: Any, name: str, n_note: str = "") -> None:
        self.figures[name] = (fig, n_note)


def draw(name: str, tables: dict[str, pd.DataFrame]) -> tuple[Any, str]:
    capture = Capture()
    FIGURES[name](tables, capture, BOOK)
    return capture.figures[name]


def bar_widths(ax: Any) -> list[float]:
    return [round(p.get_width(), 6) for p in ax.patches]


def texts(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.texts]


def prevalence() -> pd.DataFrame:
    rows = []
    for i, theme in enumerate(BOOK.themes[:3]):
        share, main = 0.1 * (i + 1), 0.05 * (i + 1)
        rows.append(
            {
                "theme": theme.id,
                "group": theme.group,
                "records": 40,
                "coded": int(40 * share),
                "share": share,
                "ci_low": share - 0.02,
                "ci_high": share + 0.03,
                "main": int(40 * main),
                "main_share": main,
                "main_ci_low": main - 0.01,
                "main_ci_high": main + 0.02,
            }
        )
    rows.append(
        {
            "theme": "group:trends",
            "group": "trends",
            "records": 40,
            "coded": 30,
            "share": 0.75,
            "ci_low": 0.6,
            "ci_high": 0.85,
            "main": 20,
            "main_share": 0.5,
            "main_ci_low": 0.4,
            "main_ci_high": 0.6,
        }
    )
    return pd.DataFrame(rows)


def test_corpus_by_year_stacks_sources_per_year_and_fills_missing_years() -> None:
    table = pd.DataFrame({"year": [2018, 2018, 2020], "source": ["scopus", "wos", "scopus"], "records": [3, 2, 4]})
    fig, note = draw("corpus_by_year", {"corpus_by_year": table})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Publication year" and ax.get_ylabel() == "Records (count)"
    heights = {(round(p.get_x() + p.get_width() / 2), round(p.get_y())): p.get_height() for p in ax.patches}
    assert heights[(2018, 0)] == 3 and heights[(2018, 3)] == 2 and heights[(2020, 0)] == 4
    assert heights[(2019, 0)] == 0  # a year without records is drawn, empty
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["scopus", "wos"]
    assert note == "n = 9 records with a year"


def test_corpus_by_year_lumps_the_smallest_of_many_files_and_keeps_year_labels_apart() -> None:
    # An OpenAlex export in 11 pages of 25 works, 1983-2021 (the SYNERGY corpus's shape).
    rows = [
        {"year": 1983 + (page * 7 + k) % 39, "source": f"works_{page * 25}_{page * 25 + 25}.json", "records": 1 + page}
        for page in range(11)
        for k in range(5)
    ]
    table = pd.DataFrame(rows).groupby(["year", "source"], as_index=False)["records"].sum()
    fig, _ = draw("corpus_by_year", {"corpus_by_year": table})
    ax = fig.axes[0]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # Seven colours for the largest pages, the eighth for the other four together.
    assert len(legend) == 8 and legend[-1] == "4 other files"
    assert "works_250_275.json" in legend and "works_0_25.json" not in legend
    assert round(sum(p.get_height() for p in ax.patches)) == table["records"].sum()
    low, high = ax.get_xlim()
    assert len([tick for tick in ax.get_xticks() if low <= tick <= high]) <= 11


def test_an_empty_table_gives_a_figure_that_says_so() -> None:
    table = pd.DataFrame(
        {"year": pd.Series([], dtype=int), "source": pd.Series([], dtype=str), "records": pd.Series([], dtype=int)}
    )
    fig, note = draw("corpus_by_year", {"corpus_by_year": table})
    assert texts(fig.axes[0]) == ["No records with a publication year"] and note.startswith("n = 0")


def test_field_availability_labels_each_bar_with_count_and_share() -> None:
    table = pd.DataFrame({"text_available": ["title only", "abstract"], "records": [5, 15], "share": [0.25, 0.75]})
    fig, note = draw("field_availability", {"field_availability": table})
    ax = fig.axes[0]
    assert bar_widths(ax) == [5, 15]
    assert texts(ax) == [" 5 (25%)", " 15 (75%)"] and note == "n = 20 included records"


def test_theme_prevalence_draws_mentioned_and_main_bars_per_theme_without_groups() -> None:
    table = prevalence()
    fig, note = draw("theme_prevalence", {"prevalence": table})
    ax = fig.axes[0]
    themes = table[~table["theme"].str.startswith("group:")].sort_values("share")
    assert [t.get_text() for t in ax.get_yticklabels()] == [LABEL[t] for t in themes["theme"]]
    widths = bar_widths(ax)
    assert widths == [round(x * 100, 6) for x in [*themes["share"], *themes["main_share"]]]
    # Each theme's bars are in its group's colour; the mentioned bar is the pale one.
    pale, dark = ax.patches[0], ax.patches[len(themes)]
    expected = matplotlib.colors.to_rgb(GROUP_COLOURS[themes["group"].iloc[0]])
    assert pale.get_facecolor()[:3] == pytest.approx(expected) and pale.get_alpha() < 1 and dark.get_alpha() is None
    assert "main theme" in ax.get_xlabel() and note == "n = 40 records"


def test_a_study_codebooks_groups_have_their_own_colours_and_legend() -> None:
    # A drafted codebook: one group of its own, none of the bundled study's four.
    book = load_codebook(ROOT / "src" / "litthemes" / "resources" / "codebook-template.yaml")
    theme = book.themes[0]
    table = prevalence().iloc[:1].assign(theme=theme.id, group=theme.group)
    capture = Capture()
    FIGURES["theme_prevalence"]({"prevalence": table}, capture, book)
    ax = capture.figures["theme_prevalence"][0].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [book.groups[theme.group]]
    colour = ax.patches[0].get_facecolor()[:3]
    assert colour == pytest.approx(ax.get_legend().legend_handles[0].get_facecolor()[:3])
    assert colour != pytest.approx(matplotlib.colors.to_rgb("#777777"))
    assert group_colours(BOOK) == GROUP_COLOURS


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_thematic_map_labels_do_not_overlap_and_stay_inside(seed: int) -> None:
    # Sixteen themes spread as a real map's are: most near the origin, a few far out.
    # Labelled beside their points as before, two to six pairs of labels overlapped.
    ids = [t.id for t in BOOK.themes]
    rng = np.random.default_rng(seed)
    table = pd.DataFrame(
        {
            "theme": ids,
            "items": 1,
            "occurrences": rng.integers(1, 50, len(ids)),
            "centrality": rng.gamma(2, 10, len(ids)),
            "density": rng.gamma(2, 1.5, len(ids)),
            "quadrant": ["basic"] * len(ids),
        }
    )
    fig, _ = draw("thematic_map_themes", {"thematic_map_themes": table})
    fig.canvas.draw()
    ax = fig.axes[0]
    renderer = fig.canvas.get_renderer()
    shown = {textwrap.shorten(LABEL[i], 30) for i in ids}
    boxes = [Text.get_window_extent(t, renderer) for t in ax.texts if t.get_text() in shown]
    assert len(boxes) == len(ids)
    assert not [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if a.overlaps(b)]
    inside = ax.get_window_extent(renderer)
    assert all(inside.x0 <= b.x0 and b.x1 <= inside.x1 and inside.y0 <= b.y0 and b.y1 <= inside.y1 for b in boxes)
    # The quadrants are named in a legend, not in the corners where points sit.
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "motor themes",
        "niche themes",
        "emerging or declining themes",
        "basic themes",
    ]


def test_theme_trends_has_one_panel_per_theme_with_its_label() -> None:
    rows = [
        {
            "theme": t.id,
            "year": y,
            "records": 10,
            "coded": 2,
            "share": 0.2,
            "ci_low": 0.1,
            "ci_high": 0.4,
            "enough_records": y != 2019,
        }
        for t in BOOK.themes
        for y in (2018, 2019, 2020)
    ]
    fig, note = draw("theme_trends", {"prevalence_by_year": pd.DataFrame(rows)})
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == len(BOOK.themes)
    assert [ax.get_title().replace("\n", " ") for ax in visible] == [t.label for t in BOOK.themes]
    assert "2019" in note  # the sparse year is named


def test_covid_change_plots_the_difference_in_points_with_intervals() -> None:
    themes = BOOK.themes[:2]
    table = pd.DataFrame(
        {
            "theme": [t.id for t in themes],
            "group": [t.group for t in themes],
            "difference": [0.1, -0.05],
            "ci_low": [0.02, -0.1],
            "ci_high": [0.2, 0.0],
            "records_before": [30, 30],
            "records_after": [50, 50],
        }
    )
    fig, note = draw("covid_change", {"covid_split": table})
    ax = fig.axes[0]
    points = ax.collections[-1].get_offsets()
    assert sorted(np.round(points[:, 0], 6).tolist()) == [-5.0, 10.0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [LABEL[themes[1].id], LABEL[themes[0].id]]
    assert note == "n = 30 before, 50 from the split year"


def challenge_pairs(n_both: int) -> pd.DataFrame:
    ids = [c.id for c in BOOK.themes if c.group == "challenges"]
    return pd.DataFrame(
        [{"theme_a": ids[0], "theme_b": ids[1], "n_both": n_both, "lift": 2.0, "jaccard": 0.3, "significant": True}]
    )


def test_challenge_cooccurrence_annotates_the_count_of_records_with_both() -> None:
    fig, _ = draw("challenge_cooccurrence", {"challenge_cooccurrence": challenge_pairs(7)})
    assert texts(fig.axes[0]) == ["7", "7"]  # the symmetric cells
    fig, _ = draw("challenge_cooccurrence", {"challenge_cooccurrence": challenge_pairs(0)})
    assert "No record carries two challenge themes" in texts(fig.axes[0])[0]


def test_theme_by_dimension_heatmap_gives_shares_of_the_themes_records() -> None:
    theme = BOOK.themes[0]
    kinds = [c.id for c in BOOK.by_dimension("stakeholder")][:2]
    table = pd.DataFrame(
        {"theme": [theme.id, theme.id], "stakeholder": kinds, "share_of_theme": [0.25, 0.5], "theme_records": [8, 8]}
    )
    fig, _ = draw("theme_by_stakeholder", {"theme_by_stakeholder": table})
    ax = fig.axes[0]
    assert texts(ax) == ["25", "50"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [LABEL[k] for k in kinds]
    assert ax.get_yticklabels()[0].get_text().endswith("(n=8)")


def test_topics_hatch_unstable_topics_and_colour_emergent_ones() -> None:
    table = pd.DataFrame(
        {
            "topic": [-1, 0, 1],
            "size": [4, 10, 6],
            "label": ["outliers", "a", "b"],
            "emergent": [False, True, False],
            "stable": [True, True, False],
        }
    )
    fig, note = draw("topics", {"topics": table})
    ax = fig.axes[0]
    assert bar_widths(ax) == [6, 10]  # outliers left out, smallest first
    assert [p.get_hatch() for p in ax.patches] == ["///", None]
    assert ax.patches[0].get_facecolor() != ax.patches[1].get_facecolor()
    assert note == "1 emergent topics"


def test_written_figures_are_the_same_bytes_every_time(tmp_path: Path) -> None:
    table = pd.DataFrame({"text_available": ["abstract"], "records": [3], "share": [1.0]})
    first = render(
        {"field_availability": table},
        BOOK,
        tmp_path / "a",
        ["png", "pdf", "svg"],
        72,
        "footer",
        names=["field_availability"],
    )
    again = render(
        {"field_availability": table},
        BOOK,
        tmp_path / "b",
        ["png", "pdf", "svg"],
        72,
        "footer",
        names=["field_availability"],
    )
    assert [Path(p).name for p in first] == [
        "field_availability.png",
        "field_availability.pdf",
        "field_availability.svg",
    ]
    assert all(Path(a).read_bytes() == Path(b).read_bytes() for a, b in zip(first, again, strict=True))
