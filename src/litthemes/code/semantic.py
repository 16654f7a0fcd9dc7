"""Semantic evidence: how likely a segment is about each code, from its embedding.

For each dimension with semantic codes, a multinomial logistic regression
(scikit-learn) is fitted on the embeddings of the codes' prototypes (definition and
examples), with one more class, "none of the codes": the codebook's ``background``
texts (what every record of the corpus is about, and so evidence for no code in
particular) and generic research sentences (how data were collected, what the paper
is about), which every abstract has whatever its topic. A segment's semantic evidence
for a code is that model's probability of the code, so the evidence of a dimension's
codes and "none" sums to one. The fit depends on the codebook and the embedding model
only, never on the records, and the probabilities are computed row by row in a fixed
order (:func:`litthemes.embed.row_dot`), so a segment gets the same value in any shard
or batch.

A logistic regression extrapolates: a sentence unlike every prototype and every
background text (of an archaeology abstract, say) still gets probabilities that sum to
one, and summed over a record's sentences they made a main theme of a literature the
codebook does not describe. So each classifier also says how far a segment is within
its reach (:meth:`SegmentClassifier.reach`): for the prototype classifier, 0 where the
segment's cosine similarity to the closest prototype of its dimension is at most
``min_similarity``, rising to 1 at ``min_similarity + SIMILARITY_RAMP``. Passages of
the literature the codebook was written for sit far above it (see docs/validity.md).

Human-coded passages (``litthemes code --train``) are used by
:class:`litthemes.code.train.TrainedClassifier` instead, which has the same interface.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from litthemes.codebook import Code, Codebook
from litthemes.config import EmbedSettings
from litthemes.embed import embed_texts, row_dot

log = logging.getLogger(__name__)

NONE_CLASS = "(none)"
SIMILARITY_RAMP = 0.1
# Far wider than the rounding of a float32 matrix product of unit vectors (about 1e-6).
ROUTING_MARGIN = 1e-3


class SegmentClassifier(Protocol):
    """What code_segments needs of a semantic model."""

    def probabilities(self, segments: pd.DataFrame, vectors: np.ndarray) -> np.ndarray:
        """(n_segments, n_codes) probabilities, columns in codebook order (0 for non-semantic codes)."""
        ...

    def reach(self, vectors: np.ndarray) -> np.ndarray:
        """(n_segments, n_codes) in [0, 1]: 1 where the segment is like the texts the model was
        fitted on, so that its probabilities mean something, falling to 0 far from all of them."""
        ...

    def close(self, vectors: np.ndarray, similarity: float) -> np.ndarray:
        """(n_segments, n_codes) booleans: True where the segment's cosine similarity to the
        closest text the model learnt the code from reaches ``similarity``, so that the model's
        probability alone may code it."""
        ...

    def read(
        self, segments: pd.DataFrame, vectors: np.ndarray
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """:meth:`probabilities`, and the codes chosen for each segment by reading its record
        as a whole (the columns they are for, and a segment x column mask); None where each
        segment is coded on its own."""
        ...


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


class LinearModel:
    """A fitted linear classifier's weights, applied row by row so results do not
    depend on which rows are scored together."""

    def __init__(self, coef: np.ndarray, intercept: np.ndarray, classes: list[str], multinomial: bool) -> None:
        self.coef = np.asarray(coef, dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.classes = classes
        self.multinomial = multinomial

    @classmethod
    def fit(
        cls,
        features: np.ndarray,
        labels: list[str],
        c: float,
        multinomial: bool = True,
        class_weight: str | None = None,
    ) -> LinearModel:
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=5000, class_weight=class_weight)
        model.fit(features.astype(np.float64), labels)
        return cls(model.coef_, model.intercept_, [str(x) for x in model.classes_], multinomial)

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities, (n, n_classes); for a binary model, the positive class's (n, 1)."""
        logits = row_dot(features, self.coef).astype(np.float64) + self.intercept[None, :]
        if self.multinomial and len(self.classes) > 2:
            return softmax_rows(logits)
        positive = 1.0 / (1.0 + np.exp(-logits[:, 0]))
        if self.multinomial:  # two classes: probabilities of both, in class order
            return np.column_stack([1.0 - positive, positive])
        return positive[:, None]


def fit_cached(
    features: np.ndarray, labels: list[str], c: float, cache_dir: str | os.PathLike[str] = ""
) -> LinearModel:
    """:meth:`LinearModel.fit`, kept in ``cache_dir`` under a hash of everything the fit
    depends on (the features' bits, the labels, C, scikit-learn's version): a codebook
    edit that leaves definitions and examples alone reuses the fitted weights instead of
    importing scikit-learn and fitting again."""
    if not cache_dir:
        return LinearModel.fit(features, labels, c)
    digest = hashlib.sha256(np.ascontiguousarray(features, dtype=np.float64).tobytes())
    digest.update("\0".join(labels).encode())
    digest.update(repr((c, version("scikit-learn"))).encode())
    path = Path(cache_dir) / "semantic_models" / f"{digest.hexdigest()[:32]}.npz"
    if path.exists():
        with np.load(path) as stored:
            return LinearModel(stored["coef"], stored["intercept"], [str(x) for x in stored["classes"]], True)
    model = LinearModel.fit(features, labels, c)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as tmp:
        np.savez(tmp, coef=model.coef, intercept=model.intercept, classes=np.asarray(model.classes))
    os.replace(tmp.name, path)
    return model


class PrototypeClassifier:
    """Per dimension, a multinomial logistic regression on the codes' prototypes (see module doc)."""

    def __init__(
        self,
        codebook: Codebook,
        embed_settings: EmbedSettings,
        c: float = 16.0,
        cache_dir: str = "",
        min_similarity: float = -1.0,
    ) -> None:
        self.codebook = codebook
        self.column = {code.id: j for j, code in enumerate(codebook.codes)}
        self.min_similarity = min_similarity
        # Per dimension: the fitted model (None: one code, no background), its codes and
        # the vectors of their prototypes.
        self.models: dict[str, tuple[LinearModel | None, list[Code], np.ndarray]] = {}
        by_dimension: dict[str, list[Code]] = {}
        for code in codebook.codes:
            if code.semantic:
                by_dimension.setdefault(code.dimension, []).append(code)
        texts = [p for codes in by_dimension.values() for code in codes for p in code.prototypes]
        # One lookup for prototypes and background texts: each reads the embedding cache.
        vectors = (
            embed_texts(texts + codebook.none_examples, embed_settings) if texts else np.zeros((0, 384), np.float32)
        )
        background = vectors[len(texts) :]
        offset = 0
        for dimension, codes in by_dimension.items():
            rows, labels = [], []
            for code in codes:
                n = len(code.prototypes)
                rows.append(vectors[offset : offset + n])
                labels += [code.id] * n
                offset += n
            prototypes = np.vstack(rows)
            if len(background):
                rows.append(background)
                labels += [NONE_CLASS] * len(background)
            if len(set(labels)) < 2:
                # One code and no background: nothing to tell it from; its evidence is
                # the similarity to its closest prototype, clipped at 0.
                self.models[dimension] = (None, codes, prototypes)
            else:
                model = fit_cached(np.vstack(rows), labels, c, cache_dir)
                self.models[dimension] = (model, codes, prototypes)

    def probabilities(self, segments: pd.DataFrame, vectors: np.ndarray) -> np.ndarray:
        out = np.zeros((len(vectors), len(self.codebook.codes)), dtype=np.float64)
        if not len(vectors):
            return out
        for model, codes, prototypes in self.models.values():
            if model is None:
                out[:, self.column[codes[0].id]] = np.clip(row_dot(vectors, prototypes).max(axis=1), 0.0, 1.0)
                continue
            probabilities = model.predict(vectors)
            for k, label in enumerate(model.classes):
                if label != NONE_CLASS:
                    out[:, self.column[label]] = probabilities[:, k]
        return out

    def read(
        self, segments: pd.DataFrame, vectors: np.ndarray
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        """The codebook's examples say nothing of the order of codes: each segment stands alone."""
        return self.probabilities(segments, vectors), None

    def reach(self, vectors: np.ndarray) -> np.ndarray:
        out = np.ones((len(vectors), len(self.codebook.codes)), dtype=np.float64)
        if not len(vectors):
            return out
        for _, codes, prototypes in self.models.values():
            within = ramp(vectors, prototypes, self.min_similarity, SIMILARITY_RAMP)
            out[:, [self.column[code.id] for code in codes]] = within[:, None]
        return out

    def close(self, vectors: np.ndarray, similarity: float) -> np.ndarray:
        out = np.ones((len(vectors), len(self.codebook.codes)), dtype=bool)
        if not len(vectors):
            return out
        for _, codes, prototypes in self.models.values():
            out[:, [self.column[code.id] for code in codes]] = at_least(vectors, prototypes, similarity)[:, None]
        return out


def closest_similarity(vectors: np.ndarray, prototypes: np.ndarray, low: float, high: float) -> np.ndarray:
    """Per row, the cosine similarity to the closest prototype, as :func:`row_dot` gives it
    (so that a row's value never depends on the others) wherever it lies near [low, high].

    Only those rows need that exact product; a matrix product, whose last bits may depend
    on the batch, sorts out the rows that are surely below or above the interval, whose
    value is kept approximate: any test against the interval's ends gives the same answer.
    """
    if not len(prototypes):
        return np.full(len(vectors), -np.inf)
    closest = (vectors @ prototypes.T).max(axis=1).astype(np.float64)
    near = (closest > low - ROUTING_MARGIN) & (closest < high + ROUTING_MARGIN)
    if near.any():
        closest[near] = row_dot(vectors[near], prototypes).max(axis=1)
    return closest


def ramp(vectors: np.ndarray, prototypes: np.ndarray, low: float, width: float) -> np.ndarray:
    """Per row, the cosine similarity to the closest prototype mapped from [low, low + width]
    to [0, 1], exact and independent of the batch (:func:`closest_similarity`)."""
    closest = closest_similarity(vectors, prototypes, low, low + width)
    return np.clip((closest - low) / width, 0.0, 1.0)


def at_least(vectors: np.ndarray, prototypes: np.ndarray, similarity: float) -> np.ndarray:
    """Per row, whether the cosine similarity to the closest prototype reaches ``similarity``,
    decided on the exact value and independent of the batch (:func:`closest_similarity`)."""
    return closest_similarity(vectors, prototypes, similarity, similarity) >= similarity
