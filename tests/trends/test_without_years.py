"""A corpus whose records carry no publication year (an ASReview-style CSV of titles and
abstracts): the year tables keep their columns, every figure is drawn, and the brief says
why there is no trend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd

from litthemes.codebook import load_codebook
from litthemes.config import TrendSettings
from litthemes.figures.draw import FIGURES, FigureWriter
from litthemes.report.brief import findings
from litthemes.trends import (
    cooccurrence,
    covid_split,
    cross_matrix,
    opportunity_risk,
    prevalence,
    prevalence_by_year,
    terminology,
    trend_tests,
)

matplotlib.use("Agg")
BOOK = load_codebook(Path(__file__).resolve().parents[2] / "config" / "codebook.yaml")


class Capture(FigureWriter):
    def __init__(self) -> None:
        super().__init__("unused", [], 72, "")
        self.names: list[str] = []

    def save(self, fig: Any, name: str, n_note: str = "") -> None:
        self.names.append(name)


def _tables() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(1)
    records = pd.DataFrame({"record_id": [f"r{i}" for i in range(30)], "year": [None] * 30})
    codes = pd.DataFrame(
        [
            {"record_id": rid, "theme": theme.id, "present": bool(rng.random() < 0.3), "rank": k + 1}
            for rid in records["record_id"]
            for k, theme in enumerate(BOOK.themes)
        ]
    )
    dims = pd.DataFrame(
        [
            {"record_id": rid, "theme": code.id, "dimension": code.dimension, "present": bool(rng.random() < 0.3)}
            for rid in records["record_id"]
            for code in BOOK.codes
            if code.dimension != "theme"
        ]
    )
    settings = TrendSettings()
    challenges = [t.id for t in BOOK.themes if t.group == "challenges"]
    return {
        "prevalence": prevalence(codes, BOOK),
        "prevalence_by_year": prevalence_by_year(codes, records, BOOK, settings),
        "trend_tests": trend_tests(codes, records, BOOK, settings),
        "covid_split": covid_split(codes, records, BOOK, settings),
        "terminology": terminology(dims, records, settings),
        "challenge_cooccurrence": cooccurrence(codes, challenges, settings),
        "theme_by_stakeholder": cross_matrix(codes, dims.iloc[:0], "stakeholder"),
        "opportunity_risk": opportunity_risk(codes, records, BOOK, settings),
    }


def test_year_tables_keep_their_columns_and_their_figures_are_drawn() -> None:
    tables = _tables()
    for name in ("prevalence_by_year", "terminology", "opportunity_risk", "theme_by_stakeholder"):
        assert tables[name].empty and "records" in tables[name].columns, name
    assert "theme" in tables["prevalence_by_year"].columns and "year" in tables["terminology"].columns
    capture = Capture()
    for name in ("theme_trends", "terminology_shift", "opportunity_risk", "theme_by_stakeholder"):
        FIGURES[name](tables, capture, BOOK)
    assert capture.names == ["theme_trends", "terminology_shift", "opportunity_risk", "theme_by_stakeholder"]


def test_the_brief_says_there_is_no_year_to_measure_a_trend_on() -> None:
    said = [f["text"] for f in findings(_tables(), BOOK, pd.DataFrame(columns=["topic", "emergent"]), 10)]
    assert "No record carries a publication year, so no trend over the years can be measured." in said
    assert not any("survives correction" in text for text in said)
    # The bundled codebook's four groups are compared by name and number.
    assert any(text.startswith("Of the 4 groups of themes, ") for text in said)
