"""Fitting topics: BERTopic on the embed stage's document vectors, and NMF beside it.

BERTopic is assembled from explicit, configured components: UMAP (on exact neighbours
up to EXACT_NEIGHBORS_MAX documents), HDBSCAN, a CountVectorizer over the segments'
lemmas without stop words, and c-TF-IDF, with topic terms re-ranked by embedding
similarity. NMF on TF-IDF of the same documents is the alternative model.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from litthemes.config import EmbedSettings, TopicSettings
from litthemes.embed import embed_texts, row_dot
from litthemes.speedups import cache_umap_compilation, import_bertopic, import_torch

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import CountVectorizer

log = logging.getLogger(__name__)

MIN_DOCUMENTS = 30
# Up to this many documents UMAP gets exact neighbours (see exact_neighbors).
EXACT_NEIGHBORS_MAX = 50_000
TOKEN_PATTERN = r"(?u)\b[a-z][a-z0-9\-]+\b"
# Candidate terms per topic that the embedding re-ranks (see rerank_terms).
CANDIDATE_TERMS = 30
# Words frequent in any corpus of this kind that say nothing about a topic.
DOMAIN_STOP_WORDS = {
    "study",
    "paper",
    "result",
    "use",
    "research",
    "article",
    "finding",
    "approach",
    "base",
    "new",
    "chapter",
    "conference",
    "proceeding",
    "journal",
    "review",
}


def stop_words(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """spaCy's English stop words, the domain's and ``extra``, lower case and sorted."""
    from spacy.lang.en.stop_words import STOP_WORDS

    # Contraction remainders ('ll', 've') are added so scikit-learn's consistency check stays quiet.
    return sorted({w.lower() for w in STOP_WORDS} | DOMAIN_STOP_WORDS | {"ll", "ve"} | {w.lower() for w in extra})


def min_topic_size(n_docs: int, setting: int | str) -> int:
    """sqrt(n) / 2.5, at least 5: 6 for 250 titles, 33 for 6,700 abstracts, 126 for 100,000.

    It grows slower than the corpus: a fixed share (n/40 before) left HDBSCAN with two
    or three giant clusters on thousands of abstracts.
    """
    if setting != "auto":
        return int(setting)
    return max(5, round(math.sqrt(n_docs) / 2.5))


def _vectorizer(extra: list[str]) -> CountVectorizer:
    from sklearn.feature_extraction.text import CountVectorizer

    # BERTopic fits this on one concatenated document per topic, so min_df stays 1:
    # a higher value would drop every word specific to a single topic.
    return CountVectorizer(stop_words=stop_words(extra), ngram_range=(1, 2), min_df=1, token_pattern=TOKEN_PATTERN)


@dataclass
class TopicModelResult:
    method: str
    assignments: np.ndarray
    probabilities: np.ndarray
    terms: dict[int, list[str]]
    labels: dict[int, str]
    outlier_share: float
    hierarchy: pd.DataFrame = field(default_factory=pd.DataFrame)
    fit_seconds: float = 0.0


def exact_neighbors(embeddings: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest documents of each document by cosine distance (itself first), exactly.

    UMAP's own search (NN-descent) is approximate and, on a few thousand documents,
    spends most of its time compiling; one matrix product per chunk of rows is faster
    up to tens of thousands of documents and gives the true neighbours. Ties go to the
    lower index, so the result depends on the vectors alone.
    """
    unit = embeddings.astype(np.float32)
    unit = unit / np.maximum(np.linalg.norm(unit, axis=1, keepdims=True), 1e-12)
    n = len(unit)
    k = min(k, n)
    indices = np.zeros((n, k), np.int64)
    distances = np.zeros((n, k), np.float32)
    for start in range(0, n, chunk):
        sims = unit[start : start + chunk] @ unit.T
        rows = np.arange(len(sims))
        # The row itself first, whatever rounding did to its self-similarity.
        sims[rows, start + rows] = np.inf
        candidates = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(sims), 1))
        chosen = np.take_along_axis(sims, candidates, axis=1)
        order = np.lexsort((candidates, -chosen), axis=1)
        indices[start : start + chunk] = np.take_along_axis(candidates, order, axis=1)
        best = np.take_along_axis(chosen, order, axis=1)
        best[:, 0] = 1.0
        distances[start : start + chunk] = np.clip(1.0 - best, 0.0, 2.0)
    return indices, distances


def _umap(embeddings: np.ndarray, settings: TopicSettings, seed: int) -> Any:
    cache_umap_compilation()
    from umap import UMAP

    n = len(embeddings)
    n_neighbors = min(settings.n_neighbors, n - 1)
    knn: tuple[Any, ...] = (None, None, None)
    if settings.neighbors == "exact" or (settings.neighbors == "auto" and n <= EXACT_NEIGHBORS_MAX):
        knn = (*exact_neighbors(embeddings, n_neighbors), None)
    return UMAP(
        n_neighbors=n_neighbors,
        n_components=settings.n_components,
        min_dist=0.0,
        metric="cosine",
        random_state=seed,
        n_jobs=1,
        precomputed_knn=knn,
    )


def _hdbscan(n_docs: int, settings: TopicSettings) -> Any:
    from hdbscan import HDBSCAN

    size = min_topic_size(n_docs, settings.min_topic_size)
    return HDBSCAN(
        min_cluster_size=size,
        min_samples=max(1, size // 2),
        metric="euclidean",
        cluster_selection_method=settings.cluster_selection,
    )


@contextmanager
def _quiet_umap() -> Iterator[None]:
    """UMAP warns that a neighbour graph without a search index cannot transform new
    data; nothing here asks it to."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        yield


def fit_bertopic(
    docs: list[str],
    embeddings: np.ndarray,
    settings: TopicSettings,
    seed: int,
    embed_settings: EmbedSettings | None = None,
    represent: bool = True,
) -> TopicModelResult:
    """BERTopic's topics from configured components on precomputed embeddings.

    The documents are clustered first (:func:`cluster_documents`: UMAP, HDBSCAN, the
    outlier reduction), and BERTopic is handed that partition (its pass-through
    dimensionality reduction and cluster model), so that c-TF-IDF is computed once, for
    the final topics. The partition is the one BERTopic's own fit and
    ``reduce_outliers(strategy="embeddings")`` find (a test compares them); topics are
    numbered by their final size, largest first. With ``represent`` and
    ``embed_settings``, each topic's terms are its c-TF-IDF candidates re-ranked by
    their embedding's similarity to the topic (:func:`rerank_terms`), as BERTopic's
    KeyBERTInspired representation does; the hierarchy names its merged topics by
    c-TF-IDF terms.
    """
    if represent and embed_settings is not None:
        import_torch()  # before UMAP runs: candidate words may need encoding (see import_torch)
    import_bertopic()
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer

    started = time.perf_counter()
    clusters, strengths, partition = _cluster(embeddings, settings, seed)
    raw_outliers = float(np.mean(clusters == -1))
    rerank = represent and embed_settings is not None
    model = BERTopic(
        embedding_model=None,
        umap_model=BaseDimensionalityReduction(),
        hdbscan_model=BaseCluster(),
        vectorizer_model=_vectorizer(settings.extra_stop_words),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=None,
        top_n_words=max(CANDIDATE_TERMS, settings.top_terms) if rerank else settings.top_terms,
        calculate_probabilities=False,
        verbose=False,
    )
    topics = np.asarray(model.fit_transform(docs, embeddings, y=partition)[0])
    fit_seconds = time.perf_counter() - started
    terms: dict[int, list[str]] = {}
    for topic in sorted(set(topics.tolist())):
        words = model.get_topic(topic) or []
        terms[int(topic)] = [w for w, _ in words if w]
    if rerank:
        assert embed_settings is not None
        terms = rerank_terms(terms, topics, embeddings, embed_settings, settings.top_terms)
    else:
        terms = {topic: words[: settings.top_terms] for topic, words in terms.items()}
    hierarchy = pd.DataFrame()
    if represent and len(terms) > 2:
        try:
            hierarchy = model.hierarchical_topics(docs)
        except (ValueError, IndexError) as exc:  # too few topics to link
            log.warning("hierarchical topics skipped: %s", exc)
    # HDBSCAN's membership strength of each document's cluster (0 for an outlier,
    # also after it joined a topic), as BERTopic's fit reports it.
    return TopicModelResult(
        "bertopic",
        topics,
        strengths,
        terms,
        {t: topic_label(t, w) for t, w in terms.items()},
        raw_outliers,
        hierarchy,
        fit_seconds,
    )


def rerank_terms(
    candidates: dict[int, list[str]],
    assignments: np.ndarray,
    doc_vectors: np.ndarray,
    embed_settings: EmbedSettings,
    top_n: int,
) -> dict[int, list[str]]:
    """Each topic's candidate terms (c-TF-IDF order) re-ranked by the cosine similarity of
    their embedding to the topic's centroid, the mean of its documents' vectors.

    The candidate terms are encoded through the embedding cache; the documents are not
    encoded again. Outliers (-1) keep the c-TF-IDF order.
    """
    vocab = sorted({w for topic, words in candidates.items() if topic != -1 for w in words})
    if not vocab:
        return {topic: words[:top_n] for topic, words in candidates.items()}
    position = {w: i for i, w in enumerate(vocab)}
    word_vectors = embed_texts(vocab, embed_settings).astype(np.float64)
    word_vectors /= np.maximum(np.linalg.norm(word_vectors, axis=1, keepdims=True), 1e-12)
    out: dict[int, list[str]] = {}
    for topic, words in candidates.items():
        members = assignments == topic
        if topic == -1 or not words or not members.any():
            out[topic] = words[:top_n]
            continue
        centroid = doc_vectors[members].astype(np.float64).mean(axis=0)
        centroid /= np.linalg.norm(centroid) or 1.0
        sims = row_dot(word_vectors[[position[w] for w in words]], centroid[None, :])[:, 0]
        order = sorted(range(len(words)), key=lambda i: (-float(sims[i]), i))
        out[topic] = [words[i] for i in order[:top_n]]
    return out


def _cluster(embeddings: np.ndarray, settings: TopicSettings, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UMAP, then HDBSCAN: each document's cluster (-1: outlier), its membership strength,
    and the partition after the outlier reduction (if configured)."""
    with _quiet_umap():
        reduced = _umap(embeddings, settings, seed).fit_transform(embeddings)
    clusterer = _hdbscan(len(embeddings), settings).fit(reduced)
    clusters = clusterer.labels_.astype(np.int64)
    partition = reduce_outliers(clusters, embeddings) if settings.reduce_outliers else clusters
    return clusters, np.asarray(clusterer.probabilities_, dtype=float), partition


def reduce_outliers(labels: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Each outlier joins the topic whose mean embedding is most similar.

    BERTopic's ``reduce_outliers(strategy="embeddings")`` with its threshold 0: an
    outlier similar to no topic at all (every cosine at most 0) stays an outlier.
    """
    real = sorted(set(labels.tolist()) - {-1})
    outliers = np.flatnonzero(labels == -1)
    if not real or not len(outliers):
        return labels
    centroids = np.vstack([embeddings[labels == t].mean(axis=0) for t in real])
    centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    unit = embeddings[outliers] / np.maximum(np.linalg.norm(embeddings[outliers], axis=1, keepdims=True), 1e-12)
    sims = np.clip(unit @ centroids.T, 0.0, None)
    reduced = labels.copy()
    reduced[outliers] = np.where(sims.sum(axis=1) > 0, np.asarray(real)[sims.argmax(axis=1)], -1)
    return reduced


def cluster_documents(embeddings: np.ndarray, settings: TopicSettings, seed: int) -> np.ndarray:
    """The partition :func:`fit_bertopic` finds, without its terms: all a stability refit
    needs, without BERTopic's import and its c-TF-IDF over the corpus."""
    return _cluster(embeddings, settings, seed)[2]


def fit_nmf(docs: list[str], n_topics: int, settings: TopicSettings, seed: int) -> TopicModelResult:
    """scikit-learn NMF on TF-IDF of the same lemma documents; each document takes its top topic."""
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    # float32: the multiplicative updates reach the same terms and assignments as in
    # float64, in less time.
    vectorizer = TfidfVectorizer(
        stop_words=stop_words(settings.extra_stop_words),
        ngram_range=(1, 2),
        min_df=2 if len(docs) >= 50 else 1,
        token_pattern=TOKEN_PATTERN,
        sublinear_tf=True,
        dtype=np.float32,
    )
    matrix = vectorizer.fit_transform(docs)
    k = max(2, min(n_topics, matrix.shape[0] - 1, matrix.shape[1] - 1))
    # Multiplicative updates: on thousands of abstracts they converge in a tenth of the
    # time coordinate descent takes, to terms at least as coherent.
    model = NMF(n_components=k, init="nndsvda", solver="mu", random_state=seed, max_iter=400)
    weights = model.fit_transform(matrix)
    vocab = np.asarray(vectorizer.get_feature_names_out())
    terms = {i: vocab[np.argsort(-model.components_[i])[: settings.top_terms]].tolist() for i in range(k)}
    assignments = weights.argmax(axis=1)
    empty = weights.max(axis=1) <= 0
    assignments[empty] = -1
    totals = weights.sum(axis=1)
    probabilities = np.divide(weights.max(axis=1), totals, out=np.zeros(len(docs)), where=totals > 0)
    return TopicModelResult(
        "nmf", assignments, probabilities, terms, {t: topic_label(t, w) for t, w in terms.items()}, float(empty.mean())
    )


def topic_label(topic: int, terms: list[str]) -> str:
    return "Outliers" if topic == -1 else f"{topic}: " + ", ".join(terms[:3])


def representative(
    result: TopicModelResult, doc_vectors: np.ndarray, record_ids: list[str], k: int = 3
) -> dict[int, list[str]]:
    """The ``k`` records closest to each topic's centroid."""
    out: dict[int, list[str]] = {}
    for topic in sorted(result.terms):
        members = np.flatnonzero(result.assignments == topic)
        if not len(members):
            out[topic] = []
            continue
        centroid = doc_vectors[members].mean(axis=0)
        order = np.argsort(-(doc_vectors[members] @ centroid), kind="stable")[:k]
        out[topic] = [record_ids[members[i]] for i in order]
    return out
