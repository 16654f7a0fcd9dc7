"""A corpus whose records carry no publication year (an ASReview-style CSV of titles and
abstracts): the year tables keep their columns, every figure is drawn, and the brief says
why there is no trend."""

from __future__ import annotations

from typing import Any

import matplotlib
import pandas as pd

from litthemes.figures.draw import FIGURES, FigureWriter
from litthemes.report.brief import findings
from trend_tables import BOOK, trend_tables

matplotlib.use("Agg")


class Capture(FigureWriter):
    def __init__(self) -> None:
        super().__init__("unused", [], 72, "")
        self.names: list[str] = []

    def save(self, fig: Any, name: str, n_note: str = "") -> None:
        self.names.append(name)


def test_year_tables_keep_their_columns_and_their_figures_are_drawn() -> None:
    tables = trend_tables()
    for name in ("prevalence_by_year", "terminology", "opportunity_risk", "theme_by_stakeholder"):
        assert tables[name].empty and "records" in tables[name].columns, name
    assert "theme" in tables["prevalence_by_year"].columns and "year" in tables["terminology"].columns
    capture = Capture()
    for name in ("theme_trends", "terminology_shift", "opportunity_risk", "theme_by_stakeholder"):
        FIGURES[name](tables, capture, BOOK)
    assert capture.names == ["theme_trends", "terminology_shift", "opportunity_risk", "theme_by_stakeholder"]


def test_the_brief_says_there_is_no_year_to_measure_a_trend_on() -> None:
    said = [f["text"] for f in findings(trend_tables(), BOOK, pd.DataFrame(columns=["topic", "emergent"]), 10)]
    assert "No record carries a publication year, so no trend over the years can be measured." in said
    assert not any("survives correction" in text for text in said)
    # The bundled codebook's four groups are compared by name and number.
    assert any(text.startswith("Of the 4 groups of themes, ") for text in said)
