"""Labels of a drafted codebook: written as the corpus writes the words, without repeats."""

from __future__ import annotations

import pandas as pd

from litthemes.topics.draft import corpus_casing, draft_label


def test_corpus_casing_keeps_acronyms_and_names_but_not_capitalised_starts() -> None:
    abstracts = pd.Series(
        [
            "Learners in a MOOC rarely finish. Mooc completion is low at Stanford University.",
            "We studied MOOC dropout in China and at a university in Spain.",
            "Dropout in the MOOC was high; the university offered a certificate.",
            "Medical students took the course.",
        ]
    )
    casing = corpus_casing(abstracts, {"mooc", "university", "china", "medical", "absent"})
    assert casing["mooc"] == "MOOC"  # "Mooc" opens a sentence and is not counted
    assert casing["university"] == "university"  # lower case half the time
    assert casing["china"] == "China"
    assert "medical" not in casing  # only ever seen opening a sentence
    assert "absent" not in casing


def test_draft_label_takes_a_second_term_that_adds_a_word() -> None:
    casing = {"mooc": "MOOC"}
    assert draft_label(["mooc dropout", "learners dropout", "mooc attrition"], casing) == "MOOC dropout"
    assert draft_label(["curriculum", "curation curriculum", "social media"], casing) == "Curriculum and social media"
    assert draft_label(["education", "educational", "higher education"], casing) == "Education"
    assert draft_label(["peer assessment", "rubric"], casing) == "Peer assessment and rubric"
    assert draft_label([], casing) == "Topic"
