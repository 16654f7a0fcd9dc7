"""Topic coherence: NPMI of each topic's top terms over document co-occurrence (Bouma 2009)."""

from __future__ import annotations

import numpy as np

from litthemes.topics.fit import TOKEN_PATTERN


class Cooccurrence:
    """Which documents contain which of the scored terms (unigrams and bigrams), for NPMI.

    Documents are tokenised as the topic models' CountVectorizer does (lower case,
    :data:`TOKEN_PATTERN`, adjacent tokens for bigrams), with postings per term rather
    than a document-term matrix over the whole vocabulary. Built once per corpus and
    shared by every topic model scored on it.
    """

    def __init__(self, docs: list[str], vocabulary: set[str]) -> None:
        import re
        from itertools import pairwise

        token = re.compile(TOKEN_PATTERN)
        unigrams = {term for term in vocabulary if " " not in term}
        bigrams = {term for term in vocabulary if term.count(" ") == 1}
        bigram_starts = {term.split(" ", 1)[0] for term in bigrams}
        postings: dict[str, list[int]] = {}
        for row, doc in enumerate(docs):
            tokens = token.findall(doc.lower())
            present = unigrams.intersection(tokens)
            if bigram_starts:
                present.update(
                    pair for pair in (f"{a} {b}" for a, b in pairwise(tokens) if a in bigram_starts) if pair in bigrams
                )
            for term in present:
                postings.setdefault(term, []).append(row)
        self.documents = len(docs)
        # A term that no document contains has no postings and is left out of the scores.
        self.postings = {term: np.asarray(rows) for term, rows in postings.items()}

    def npmi(self, terms: dict[int, list[str]], top_n: int = 10) -> float:
        """Mean NPMI of top-term pairs over document co-occurrence (Bouma 2009)."""
        n = self.documents
        scores = []
        for topic, words in terms.items():
            if topic == -1:
                continue
            found = [self.postings[w] for w in words[:top_n] if w in self.postings]
            for i in range(len(found)):
                for j in range(i + 1, len(found)):
                    p_a, p_b = len(found[i]) / n, len(found[j]) / n
                    p_ab = len(np.intersect1d(found[i], found[j], assume_unique=True)) / n
                    if p_ab == 0:
                        scores.append(-1.0)
                    elif p_ab == 1:
                        scores.append(1.0)
                    else:
                        scores.append(float(np.log(p_ab / (p_a * p_b)) / -np.log(p_ab)))
        return float(np.mean(scores)) if scores else float("nan")


def scored_terms(*models: dict[int, list[str]], top_n: int = 10) -> set[str]:
    """The terms NPMI looks at: each real topic's first ``top_n``."""
    return {w for terms in models for topic, ws in terms.items() if topic != -1 for w in ws[:top_n]}


def npmi_coherence(docs: list[str], terms: dict[int, list[str]], top_n: int = 10) -> float:
    """Mean NPMI of top-term pairs over document co-occurrence (Bouma 2009)."""
    words = scored_terms(terms, top_n=top_n)
    return Cooccurrence(docs, words).npmi(terms, top_n) if words else float("nan")
