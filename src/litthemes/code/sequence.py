"""The order of codes within a document, learnt from human coding.

Where a codebook describes how a text unfolds (an abstract's background, gap, objective,
method, result and conclusion, in that order), its coders read each passage in its
context: "when a sentence can be an A or a B, but only a B is expected in this position,
it is a B". :class:`CodeSequence` learns that order from the human-coded documents (how
often each code follows each other, which codes open and close a document) and chooses
each document's most likely sequence of codes (Viterbi) from the per-passage
probabilities of the trained models and those transitions. A passage then carries the
code on that path; cues may add others.

The per-passage models are fitted class-balanced, so their probabilities treat every code
as equally common; the emission divides by part of each code's share again
(``RARE_CODE_BOOST``): with the sequence weighing in, a rare code otherwise never wins
against the common code that usually stands in its place.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

# Exponent of the code's share in the human codes by which its emission is divided
# (0: none, 1: a full second division). Chosen in development cross-validation on
# qabstracts (docs/validity.md); 1 codes nearly every sentence with a rare code.
RARE_CODE_BOOST = 0.7
# Add-one smoothing: a transition never seen in the human codes stays possible.
SMOOTHING = 1.0
# Probabilities are clipped before logs: a model's 0 or 1 must not veto a path.
FLOOR = 1e-4


class CodeSequence:
    """Transitions between a fixed list of states (codes, and "no code" if modelled),
    learnt from human-coded documents, and the most likely path through a document."""

    def __init__(
        self,
        log_start: np.ndarray,
        log_transition: np.ndarray,
        log_end: np.ndarray,
        log_share: np.ndarray,
        weight: float,
    ) -> None:
        self.log_start = log_start
        self.log_transition = log_transition
        self.log_end = log_end
        self.log_share = log_share
        self.weight = weight

    @classmethod
    def fit(cls, documents: np.ndarray, states: Sequence[frozenset[int]], n_states: int, weight: float) -> CodeSequence:
        """``states[i]``: the state indices unit ``i`` carries (units in document order)."""
        start = np.full(n_states, SMOOTHING)
        end = np.full(n_states, SMOOTHING)
        transition = np.full((n_states, n_states), SMOOTHING)
        share = np.full(n_states, SMOOTHING)
        for first, stop in document_spans(documents):
            start[list(states[first])] += 1
            end[list(states[stop - 1])] += 1
            for i in range(first, stop):
                share[list(states[i])] += 1
                if i + 1 < stop:
                    for state in states[i]:
                        transition[state, list(states[i + 1])] += 1
        return cls(
            np.log(start / start.sum()),
            np.log(transition / transition.sum(axis=1, keepdims=True)),
            np.log(end / end.sum()),
            np.log(share / share.sum()),
            weight,
        )

    def path(self, probabilities: np.ndarray) -> np.ndarray:
        """The most likely state of each unit of one document, given the per-unit
        probabilities of the states (rows in document order)."""
        p = np.clip(probabilities, FLOOR, 1.0 - FLOOR)
        emission = np.log(p / p.sum(axis=1, keepdims=True)) - RARE_CODE_BOOST * self.log_share
        n, k = emission.shape
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        score = self.weight * self.log_start + emission[0]
        back = np.zeros((n, k), dtype=np.int64)
        transition = self.weight * self.log_transition
        for t in range(1, n):
            candidates = score[:, None] + transition
            back[t] = candidates.argmax(axis=0)
            score = candidates.max(axis=0) + emission[t]
        score = score + self.weight * self.log_end
        best = np.zeros(n, dtype=np.int64)
        best[-1] = int(score.argmax())
        for t in range(n - 1, 0, -1):
            best[t - 1] = back[t, best[t]]
        return best


def document_spans(sorted_documents: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of equal values in an array sorted by document."""
    n = len(sorted_documents)
    if n == 0:
        return []
    change = np.flatnonzero(sorted_documents[1:] != sorted_documents[:-1]) + 1
    bounds = np.concatenate([[0], change, [n]])
    return [(int(a), int(b)) for a, b in pairwise(bounds)]


def document_rows(documents: np.ndarray, positions: np.ndarray) -> list[np.ndarray]:
    """Each document's row indices in position order, documents in sorted order."""
    order = np.lexsort((positions, documents))
    return [order[first:stop] for first, stop in document_spans(documents[order])]
