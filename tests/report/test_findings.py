"""The brief's finding on inductive topics the codebook does not name, and why."""

from __future__ import annotations

import pandas as pd

from litthemes.report.brief import findings
from litthemes.topics.align import outside_codebook
from trend_tables import BOOK, trend_tables


def _topics() -> pd.DataFrame:
    topics = pd.DataFrame(
        {
            "topic": [0, 1, 2],
            "size": [40, 25, 12],
            "top_terms": ["badge; open badges", "recommender; recommendation", "patient; medicine"],
            "alignment": [0.9, 0.8, 0.1],
            "domain_share": [0.95, 0.2, 0.3],
            "emergent": [False, True, True],
        }
    )
    return topics.assign(outside_codebook=outside_codebook(topics, 0.3))


def test_a_topic_a_theme_resembles_but_outside_the_literature_is_told_apart() -> None:
    topics = _topics()
    # Emergent by the domain check only where a theme resembles the topic.
    assert topics["outside_codebook"].tolist() == [False, True, False]
    said = [f["text"] for f in findings(trend_tables(), BOOK, topics, 20)]
    emergent = next(text for text in said if "not named by the codebook" in text)
    assert emergent.startswith("2 inductive topics are not named by the codebook: ")
    assert "“recommender, recommendation” (25 records, outside the codebook's literature)" in emergent
    assert "“patient, medicine” (12 records)" in emergent
    assert "unlike the codebook's background texts" in emergent


def test_one_topic_not_named_reads_in_the_singular() -> None:
    topics = _topics()
    topics.loc[1, "emergent"] = False
    topics = topics.assign(outside_codebook=outside_codebook(topics, 0.3))
    said = [f["text"] for f in findings(trend_tables(), BOOK, topics, 20)]
    emergent = next(text for text in said if "not named by the codebook" in text)
    assert emergent == "1 inductive topic is not named by the codebook: “patient, medicine” (12 records)."
