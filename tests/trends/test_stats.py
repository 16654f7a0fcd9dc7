"""Statistics on coding tables with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from litthemes.codebook import load_codebook
from litthemes.config import TrendSettings
from litthemes.trends import (
    callon_map,
    cooccurrence,
    covid_split,
    prevalence,
    topic_map,
    trend_tests,
    wilson,
)

BOOK = load_codebook(Path(__file__).resolve().parents[2] / "config" / "codebook.yaml")


def coding(rising: str = "covid19_acceleration", n_per_year: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    rows, recs = [], []
    for year in range(2012, 2025):
        for i in range(n_per_year):
            rid = f"{year}-{i}"
            recs.append({"record_id": rid, "year": year})
            p_rise = 0.05 + 0.06 * (year - 2012)
            salience = rng.random(len(BOOK.themes))
            order = np.argsort(-salience)
            for k, theme in enumerate(BOOK.themes):
                present = rng.random() < (p_rise if theme.id == rising else 0.2)
                rows.append(
                    {
                        "record_id": rid,
                        "theme": theme.id,
                        "present": present,
                        "score": float(present),
                        "salience": salience[k],
                        "rank": int(np.where(order == k)[0][0]) + 1,
                    }
                )
    return pd.DataFrame(rows), pd.DataFrame(recs)


def test_wilson_matches_known_interval() -> None:
    low, high = wilson(10, 100)
    assert abs(low - 0.0552) < 1e-3 and abs(high - 0.1744) < 1e-3


def test_prevalence_counts() -> None:
    codes, _ = coding()
    table = prevalence(codes, BOOK).set_index("theme")
    direct = codes[codes["theme"] == "privacy_data_security"]["present"].mean()
    assert abs(table.loc["privacy_data_security", "share"] - direct) < 1e-12
    assert table.loc["group:challenges", "coded"] >= table.loc["privacy_data_security", "coded"]
    # Main theme: rank 1 and present; every record has at most one, so the shares add up to at most 1.
    privacy = codes[codes["theme"] == "privacy_data_security"]
    assert table.loc["privacy_data_security", "main"] == int(((privacy["rank"] == 1) & privacy["present"]).sum())
    themes = table.drop(index=[t for t in table.index if t.startswith("group:")])
    assert themes["main"].sum() <= themes["records"].iloc[0]
    assert (themes["main"] <= themes["coded"]).all() and (themes["main_ci_low"] <= themes["main_share"]).all()


def test_trend_test_finds_the_planted_rise_and_nothing_else() -> None:
    codes, recs = coding()
    table = trend_tests(codes, recs, BOOK, TrendSettings()).set_index("theme")
    assert table.loc["covid19_acceleration", "direction"] == "rising"
    assert table.loc["covid19_acceleration", "ci_low"] > 1
    others = table.drop(index="covid19_acceleration")["direction"]
    assert (others == "stable").mean() >= 0.9


def test_covid_split_difference_has_interval() -> None:
    codes, recs = coding()
    table = covid_split(codes, recs, BOOK, TrendSettings()).set_index("theme")
    row = table.loc["covid19_acceleration"]
    assert row["difference"] > 0.2 and row["ci_low"] > 0 and row["ci_low"] < row["difference"] < row["ci_high"]


def test_cooccurrence_lift_and_fisher() -> None:
    ids = [f"r{i}" for i in range(100)]
    a = [i < 30 for i in range(100)]
    b = [i < 25 for i in range(100)]  # b only where a: strong association
    c = [i % 2 == 0 for i in range(100)]
    rows = [
        {"record_id": r, "theme": t, "present": v}
        for r, x, y, z in zip(ids, a, b, c, strict=True)
        for t, v in (("a", x), ("b", y), ("c", z))
    ]
    table = cooccurrence(pd.DataFrame(rows), ["a", "b", "c"], TrendSettings()).set_index(["theme_a", "theme_b"])
    assert table.loc[("a", "b"), "n_both"] == 25
    assert abs(table.loc[("a", "b"), "lift"] - 25 * 100 / (30 * 25)) < 1e-9
    assert table.loc[("a", "b"), "significant"] and not table.loc[("a", "c"), "significant"]
    assert abs(table.loc[("a", "b"), "jaccard"] - 25 / 30) < 1e-9


def test_callon_quadrants() -> None:
    incidence = pd.DataFrame({"x1": [1, 1, 1, 0], "x2": [1, 1, 1, 0], "y1": [1, 0, 0, 1], "y2": [0, 0, 0, 1]}).astype(
        bool
    )
    table = callon_map(incidence, {"x1": "X", "x2": "X", "y1": "Y", "y2": "Y"}).set_index("cluster")
    assert table.loc["X", "density"] > table.loc["Y", "density"]
    assert set(table["quadrant"]) <= {"motor", "niche", "basic", "emerging or declining"}


def test_topic_map_counts_terms_as_the_topic_vectorizer_tokenises() -> None:
    topics = pd.DataFrame(
        {
            "topic": [-1, 0, 1],
            "label": ["Outliers", "0: art, museum", "1: badge issue, badge"],
            "top_terms": ["", "art; museum", "badge issue; badge"],
        }
    )
    doc_topics = pd.DataFrame({"record_id": ["a", "b", "c", "d"], "topic": [0, 0, 1, 1]})
    # Lemma documents: "art" must not be found inside "article" or "artefact", and the
    # bigram only where its words are adjacent.
    documents = ["art museum", "article artefact museum", "badge issue", "issue badge"]
    table = topic_map(doc_topics, topics, documents).set_index("topic")
    assert table.loc["0: art, museum", "occurrences"] == 2
    assert table.loc["0: art, museum", "items"] == 2
    # "badge issue" occurs in one document and "badge" in two: both items, in two documents.
    assert table.loc["1: badge issue, badge", "items"] == 2
    assert table.loc["1: badge issue, badge", "occurrences"] == 2
    # Without "museum" the second document has none of topic 0's terms (a substring
    # search would find "art" in it).
    without = topic_map(doc_topics, topics, ["art museum", "article artefact", "badge issue", "issue badge"])
    assert without.set_index("topic").loc["0: art, museum", "occurrences"] == 1
