"""Trend tables of a small coded corpus without years, for tests of what the brief and
the figures make of them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from litthemes.codebook import load_codebook
from litthemes.config import TrendSettings
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

BOOK = load_codebook(Path(__file__).resolve().parents[1] / "config" / "codebook.yaml")


def trend_tables() -> dict[str, pd.DataFrame]:
    """Trend tables of 30 records without a year, each theme coded at random."""
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
