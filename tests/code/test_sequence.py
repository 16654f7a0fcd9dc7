"""Reading a document's passages as a sequence of codes learnt from human coding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from litthemes.code.sequence import CodeSequence, document_spans
from litthemes.code.train import MIN_POSITIVES, TrainedClassifier, load_training
from litthemes.codebook import load_codebook
from workflow_helpers import BUILD_ABSTRACT, coded_abstracts_csv

ROOT = Path(__file__).resolve().parents[2]
QA_CODEBOOK = ROOT / "benchmarks" / "qabstracts" / "codebook.yaml"

BACKGROUND, OBJECTIVE, RESULT = 0, 1, 2


def _ordered_documents(n: int) -> tuple[np.ndarray, list[frozenset[int]]]:
    documents = np.repeat([f"d{i}" for i in range(n)], 3)
    states = [frozenset({s}) for _ in range(n) for s in (BACKGROUND, OBJECTIVE, RESULT)]
    return documents, states


def test_an_ambiguous_passage_takes_the_code_its_position_expects() -> None:
    documents, states = _ordered_documents(20)
    sequence = CodeSequence.fit(documents, states, 3, weight=1.0)
    # The middle passage looks a little more like a result than an objective.
    probabilities = np.array([[0.9, 0.05, 0.05], [0.05, 0.45, 0.5], [0.05, 0.05, 0.9]])
    assert sequence.path(probabilities).tolist() == [BACKGROUND, OBJECTIVE, RESULT]
    # Without the order, each passage keeps its own most likely code.
    alone = CodeSequence.fit(documents, states, 3, weight=0.0)
    assert alone.path(probabilities).tolist() == [BACKGROUND, RESULT, RESULT]
    # Clear evidence still wins over the expected order.
    clear = np.array([[0.9, 0.05, 0.05], [0.01, 0.01, 0.98], [0.05, 0.05, 0.9]])
    assert sequence.path(clear).tolist() == [BACKGROUND, RESULT, RESULT]


def test_an_unseen_transition_stays_possible_and_empty_documents_have_no_path() -> None:
    documents, states = _ordered_documents(5)
    sequence = CodeSequence.fit(documents, states, 3, weight=1.0)
    assert np.isfinite(sequence.log_transition).all()
    assert sequence.path(np.zeros((0, 3))).tolist() == []
    assert document_spans(np.array(["a", "a", "b", "c", "c"])) == [(0, 2), (2, 3), (3, 5)]
    assert document_spans(np.array([])) == []


def test_trained_sequence_codes_each_passage_of_a_record_once_in_order(tmp_path: Path, embed_cache: str) -> None:
    """With ``training_sequence`` the coder reads a record's passages together: each gets
    the code of its record's most likely sequence, whatever its own probability."""
    from litthemes.code.score import code_segments
    from litthemes.config import CodeSettings, EmbedSettings
    from litthemes.embed import embed_texts

    book = load_codebook(QA_CODEBOOK)
    coded = coded_abstracts_csv(tmp_path / "coded.csv", MIN_POSITIVES + 3)
    embed = EmbedSettings(cache_dir=embed_cache)
    training = load_training(coded, book)
    plain = TrainedClassifier(book, training, embed)
    ordered = TrainedClassifier(book, training, embed, sequence_weight=0.4)
    segments = pd.DataFrame(
        {
            "record_id": ["x", "x", "x", "y"],
            "segment_index": [2, 0, 1, 0],
            "text": [
                "Most failures came from flaky tests.",
                "Continuous integration is widely used in industry.",
                "We investigate the configuration of pipelines.",
                "Continuous integration is common.",
            ],
        }
    )
    segments["lemmas"] = segments["text"].str.lower().str.split().map(list)
    vectors = embed_texts(segments["text"].tolist(), embed)
    assert plain.read(segments, vectors)[1] is None
    decoded = ordered.read(segments, vectors)[1]
    assert decoded is not None
    columns, chosen = decoded
    names = [book.codes[j].id for j in columns]
    assert chosen.sum(axis=1).tolist() == [1, 1, 1, 1]
    picked = [names[int(np.argmax(row))] for row in chosen]
    assert picked[:3] == ["result", "background", "objective"]

    settings = CodeSettings(cache_dir="", lexical_weight=0.0, semantic_threshold=1.0, training_sequence=0.4)
    matches: list[dict[str, list[tuple[str, float]]]] = [{} for _ in range(len(segments))]
    coded_segments = code_segments(segments, vectors, book, settings, embed, matches=matches, classifier=ordered)
    present = coded_segments[coded_segments["present"]]
    # A semantic threshold of 1 codes nothing on its own: the sequence coded these.
    got = present.groupby(["record_id", "segment_index"])["code"].agg(list).to_dict()
    assert got == {("x", 0): ["background"], ("x", 1): ["objective"], ("x", 2): ["result"], ("y", 0): [picked[3]]}


def test_passages_the_human_coders_left_uncoded_are_a_state_of_their_own(tmp_path: Path, embed_cache: str) -> None:
    """Where people leave passages without a code, the sequence may too: such a passage is
    not forced onto one of the codes."""
    from litthemes.config import EmbedSettings
    from litthemes.embed import embed_texts

    book = load_codebook(QA_CODEBOOK)
    thanks = ("", "The authors thank the reviewers and the funding agency {i}.")
    passages = (BUILD_ABSTRACT[0], thanks, BUILD_ABSTRACT[2])
    coded = coded_abstracts_csv(tmp_path / "coded.csv", MIN_POSITIVES + 3, passages)
    embed = EmbedSettings(cache_dir=embed_cache)
    ordered = TrainedClassifier(book, load_training(coded, book), embed, sequence_weight=0.4)
    assert ordered.uncoded is not None
    segments = pd.DataFrame(
        {
            "record_id": ["x", "x", "x"],
            "segment_index": [0, 1, 2],
            "text": [
                "Continuous integration is widely used in industry.",
                "We thank the anonymous reviewers and our funders.",
                "Most failures came from flaky tests.",
            ],
        }
    )
    vectors = embed_texts(segments["text"].tolist(), embed)
    decoded = ordered.read(segments, vectors)[1]
    assert decoded is not None
    columns, chosen = decoded
    names = [book.codes[j].id for j in columns]
    assert chosen.sum(axis=1).tolist() == [1, 0, 1]
    assert names[int(np.argmax(chosen[0]))] == "background" and names[int(np.argmax(chosen[2]))] == "result"
