"""Statistics on coding tables with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

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
from litthemes.trends.claims import find_claims

BOOK = load_codebook(Path(__file__).resolve().parents[2] / "config" / "codebook.yaml")


def coding(rising: str = "covid19_acceleration", n_per_year: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    rows, recs = [], []
    for year in range(2012, 2025):
        for i in range(n_per_year):
            rid = f"{year}-{i}"
            recs.append({"record_id": rid, "year": year})
            p_rise = 0.05 + 0.06 * (year - 2012)
            for theme in BOOK.themes:
                present = rng.random() < (p_rise if theme.id == rising else 0.2)
                rows.append({"record_id": rid, "theme": theme.id, "present": present, "score": float(present)})
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
    rows = [{"record_id": r, "theme": t, "present": v} for r, x, y, z in zip(ids, a, b, c, strict=True)
            for t, v in (("a", x), ("b", y), ("c", z))]
    table = cooccurrence(pd.DataFrame(rows), ["a", "b", "c"], TrendSettings()).set_index(["theme_a", "theme_b"])
    assert table.loc[("a", "b"), "n_both"] == 25
    assert abs(table.loc[("a", "b"), "lift"] - 25 * 100 / (30 * 25)) < 1e-9
    assert table.loc[("a", "b"), "significant"] and not table.loc[("a", "c"), "significant"]
    assert abs(table.loc[("a", "b"), "jaccard"] - 25 / 30) < 1e-9


def test_callon_quadrants() -> None:
    incidence = pd.DataFrame({"x1": [1, 1, 1, 0], "x2": [1, 1, 1, 0], "y1": [1, 0, 0, 1], "y2": [0, 0, 0, 1]}).astype(bool)
    table = callon_map(incidence, {"x1": "X", "x2": "X", "y1": "Y", "y2": "Y"}).set_index("cluster")
    assert table.loc["X", "density"] > table.loc["Y", "density"]
    assert set(table["quadrant"]) <= {"motor", "niche", "basic", "emerging or declining"}


def test_topic_map_counts_terms_as_the_topic_vectorizer_tokenises() -> None:
    topics = pd.DataFrame({"topic": [-1, 0, 1], "label": ["Outliers", "0: art, museum", "1: badge issue, badge"],
                           "top_terms": ["", "art; museum", "badge issue; badge"]})
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


def test_claims_ledger_finds_quantities() -> None:
    segs = pd.DataFrame([
        {"record_id": "r", "segment_index": 1, "field": "abstract",
         "text": "Over 2,000 learners earned badges, and 45% of employers recognised them."},
        {"record_id": "r", "segment_index": 2, "field": "abstract", "text": "The market will grow by 12% to $1.2 billion."},
        {"record_id": "r", "segment_index": 0, "field": "title", "text": "Title with 50% ignored"},
    ])
    recs = pd.DataFrame([{"record_id": "r", "authors": "Doe, J.; Roe, R.", "year": 2022, "title": "Badges", "doi": "10.1/x"}])
    claims = find_claims(segs, recs)
    kinds = set(claims["kind"])
    assert {"percentage", "money", "count"} <= kinds
    assert "2,000 learners" in set(claims["value"])
    assert (claims["segment_index"] != 0).all()
    assert claims["citation"].iloc[0].startswith("Doe & Roe (2022)")


def test_claims_prefilter_drops_only_text_without_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    import litthemes.trends.claims as claims_module

    texts = ["Twenty thousand learners enrolled in the first cohort.", "Uptake rose by a third in 2021.",
             "Someone said badges are often ignored.", "No quantities appear in this sentence at all.",
             "Enrolment doubled to ²3 per cent.", "One-third of issuers (n=12) offer stackable credentials."]
    assert [claims_module.may_hold_claim(t) for t in texts] == [True, True, False, False, True, True]
    segs = pd.DataFrame([{"record_id": "r", "segment_index": i + 1, "field": "abstract", "text": t}
                         for i, t in enumerate(texts)])
    recs = pd.DataFrame([{"record_id": "r", "authors": "Doe, J.", "year": 2022, "title": "Badges", "doi": ""}])
    filtered = find_claims(segs, recs)
    monkeypatch.setattr(claims_module, "may_hold_claim", lambda text: True)
    assert filtered.equals(find_claims(segs, recs))  # the filter loses nothing
    assert len(filtered) >= 2
    # Titles only (the bundled sample): an empty ledger with its columns, not an error.
    titles = find_claims(segs.assign(field="title"), recs)
    assert titles.empty and list(titles.columns) == list(filtered.columns)


def test_claims_cache_runs_spacy_on_new_text_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import litthemes.trends.claims as claims_module

    texts = ["Over 2,000 learners earned badges, and 45% of employers recognised them.",
             "The market will grow by 12% to $1.2 billion.", "Twenty thousand learners enrolled.",
             "Enrolment rose by 30% in 2021."]
    segs = pd.DataFrame([{"record_id": f"r{i % 2}", "segment_index": i + 1, "field": "abstract", "text": t}
                         for i, t in enumerate(texts)])
    recs = pd.DataFrame([{"record_id": f"r{i}", "authors": "Doe, J.", "year": 2022, "title": "Badges", "doi": ""}
                         for i in range(3)])
    uncached = find_claims(segs, recs)
    first = find_claims(segs.iloc[:3], recs, cache_dir=str(tmp_path))
    pd.testing.assert_frame_equal(first, find_claims(segs.iloc[:3], recs))
    seen: list[list[str]] = []
    real = claims_module._spans
    monkeypatch.setattr(claims_module, "_spans", lambda batch, model: seen.append(batch) or real(batch, model))
    grown = find_claims(segs, recs, cache_dir=str(tmp_path))
    assert seen == [[texts[3]]]  # only the new text went through spaCy
    pd.testing.assert_frame_equal(grown, uncached)
    assert len(grown) > len(first)
