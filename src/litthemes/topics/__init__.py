"""Topics stage: inductive topics (BERTopic, or NMF), aligned to the codebook.

BERTopic is assembled from explicit, configured components (UMAP, HDBSCAN, a
CountVectorizer over spaCy lemmas without stop words, c-TF-IDF, KeyBERTInspired)
and fed the embeddings of the embed stage. An NMF model on the same documents is
fitted alongside as the alternative, and NPMI coherence is reported for both.
Topics are aligned to the codebook's themes; a topic that matches none is emergent.
Refits with other seeds measure stability.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import math
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from litthemes.config import EmbedSettings, TopicSettings
from litthemes.startup import cache_umap_compilation, import_bertopic, import_spacy, import_torch

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import CountVectorizer

# scikit-learn is imported where it is used: its import costs 1-2 s, and the jobs that
# only align topics or assign them with a frozen model need little or none of it.

log = logging.getLogger(__name__)

MIN_DOCUMENTS = 30
# Up to this many documents UMAP gets exact neighbours (see exact_neighbors).
EXACT_NEIGHBORS_MAX = 50_000
TOKEN_PATTERN = r"(?u)\b[a-z][a-z0-9\-]+\b"
# Words frequent in any corpus of this kind that say nothing about a topic.
DOMAIN_STOP_WORDS = {"study", "paper", "result", "use", "research", "article", "finding", "approach",
                     "base", "new", "chapter", "conference", "proceeding", "journal", "review"}


@functools.cache
def spacy_english_stop_words() -> frozenset[str]:
    """spaCy's English stop words, read from spaCy's own ``lang/en/stop_words.py``.

    That module is plain Python with no imports, so it is loaded on its own: importing
    it the usual way imports the whole spaCy package first (about 1 s), in each topic
    fit and refit, which use nothing else from spaCy. Where the file is not found (another
    spaCy layout), spaCy is imported as usual. Read once per process, as an import would be.
    """
    spacy_spec = importlib.util.find_spec("spacy")
    path = Path(spacy_spec.origin).parent / "lang" / "en" / "stop_words.py" if spacy_spec and spacy_spec.origin else None
    spec = importlib.util.spec_from_file_location("_litthemes_spacy_en_stop_words", path) if path and path.is_file() else None
    if spec is None or spec.loader is None:
        import_spacy()
        from spacy.lang.en.stop_words import STOP_WORDS

        return frozenset(STOP_WORDS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return frozenset(module.STOP_WORDS)


def stop_words(extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    # Contraction remainders ('ll', 've') are added so scikit-learn's consistency check stays quiet.
    return sorted({w.lower() for w in spacy_english_stop_words()} | DOMAIN_STOP_WORDS | {"ll", "ve"}
                  | {w.lower() for w in extra})


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
    return CountVectorizer(stop_words=stop_words(extra), ngram_range=(1, 2), min_df=1,
                           token_pattern=TOKEN_PATTERN)


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
        sims = unit[start:start + chunk] @ unit.T
        rows = np.arange(len(sims))
        # The row itself first, whatever rounding did to its self-similarity.
        sims[rows, start + rows] = np.inf
        candidates = np.argpartition(-sims, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(sims), 1))
        chosen = np.take_along_axis(sims, candidates, axis=1)
        order = np.lexsort((candidates, -chosen), axis=1)
        indices[start:start + chunk] = np.take_along_axis(candidates, order, axis=1)
        best = np.take_along_axis(chosen, order, axis=1)
        best[:, 0] = 1.0
        distances[start:start + chunk] = np.clip(1.0 - best, 0.0, 2.0)
    return indices, distances


def _umap(embeddings: np.ndarray, settings: TopicSettings, seed: int) -> Any:
    cache_umap_compilation()
    from umap import UMAP

    n = len(embeddings)
    n_neighbors = min(settings.n_neighbors, n - 1)
    knn: tuple[Any, ...] = (None, None, None)
    if settings.neighbors == "exact" or (settings.neighbors == "auto" and n <= EXACT_NEIGHBORS_MAX):
        knn = (*exact_neighbors(embeddings, n_neighbors), None)
    return UMAP(n_neighbors=n_neighbors, n_components=settings.n_components, min_dist=0.0, metric="cosine",
                random_state=seed, n_jobs=1, precomputed_knn=knn)


def _hdbscan(n_docs: int, settings: TopicSettings) -> Any:
    from hdbscan import HDBSCAN

    size = min_topic_size(n_docs, settings.min_topic_size)
    return HDBSCAN(min_cluster_size=size, min_samples=max(1, size // 2), metric="euclidean",
                   cluster_selection_method=settings.cluster_selection)


@contextmanager
def _quiet_umap() -> Iterator[None]:
    """UMAP warns that a neighbour graph without a search index cannot transform new
    data; nothing here asks it to."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*knn_search_index.*")
        yield


def cached_embedder(settings: EmbedSettings) -> Any:
    """A BERTopic embedding backend that encodes through litthemes' embedding cache.

    KeyBERTInspired embeds each topic's candidate words (see :func:`keybert_on_vectors`);
    with this backend they are encoded as the embedding stage encodes (same batch
    shapes and arithmetic) and kept in its cache, so a refit after adding records
    encodes only the words it has not seen.
    """
    import_torch()  # before UMAP runs, in case new words need encoding (see import_torch)
    import_bertopic()
    from bertopic.backend import BaseEmbedder

    from litthemes.embed import embed_texts

    class CachedEmbedder(BaseEmbedder):  # type: ignore[misc]
        def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
            return embed_texts(list(documents), settings)

    return CachedEmbedder()


def keybert_on_vectors(doc_vectors: np.ndarray, seed: int) -> Any:
    """KeyBERTInspired whose topic vectors are the mean of the representative documents'
    own vectors (rows of ``doc_vectors``, in the order of the documents BERTopic is given).

    BERTopic's ``update_topics`` hands the representation no document vectors, so
    KeyBERTInspired would encode each topic's representative documents again - here
    lemma strings of whole abstracts, most of the topic job's time when the embedding
    cache is cold. Its own path for precomputed vectors is not used: it indexes them by
    position in the flat list of representative documents rather than by document,
    which gives every topic the vectors of the corpus's first documents. The
    representative documents and the candidate words are BERTopic's; only the candidate
    words are encoded.
    """
    import_bertopic()
    from bertopic.representation import KeyBERTInspired
    from sklearn.metrics.pairwise import cosine_similarity

    class KeyBERTOnVectors(KeyBERTInspired):  # type: ignore[misc]
        def extract_topics(self, topic_model: Any, documents: pd.DataFrame, c_tf_idf: Any,
                           topics: dict[int, list[tuple[str, float]]],
                           embeddings: np.ndarray | None = None) -> dict[int, list[tuple[str, float]]]:
            _, _, _, ids = topic_model._extract_representative_docs(c_tf_idf, documents, topics, self.nr_samples,
                                                                    self.nr_repr_docs)
            candidates = self._extract_candidate_words(topic_model, c_tf_idf, topics)
            # ids are row labels of `documents`, which BERTopic numbers 0..n-1 in document order.
            topic_vectors = np.vstack([doc_vectors[np.asarray(rows, dtype=np.int64)].astype(np.float64).mean(axis=0)
                                       for rows in ids])
            vocab = sorted({word for words in candidates.values() for word in words})
            word_vectors = topic_model._extract_embeddings(vocab, method="document", verbose=False)
            # KeyBERTInspired's own similarity (a candidate without a vector scores 0).
            return self._extract_top_words(vocab, candidates, cosine_similarity(topic_vectors, word_vectors))

    return KeyBERTOnVectors(random_state=seed)


def fit_bertopic(docs: list[str], embeddings: np.ndarray, settings: TopicSettings, seed: int,
                 embedding_model: Any = None, represent: bool = True) -> TopicModelResult:
    """BERTopic's topics from configured components on precomputed embeddings.

    The documents are clustered first (:func:`cluster_documents`: UMAP, HDBSCAN, the
    outlier reduction), and BERTopic is handed that partition (its pass-through
    dimensionality reduction and cluster model), so that c-TF-IDF, the representative
    documents and the KeyBERTInspired terms are computed once, for the final topics.
    Fitting the clusters through BERTopic and updating the topics after the outlier
    reduction computed all of them twice (about 5 s on 6,700 abstracts). The partition
    is the one BERTopic's own fit and ``reduce_outliers(strategy="embeddings")`` find
    (a test compares them); topics are numbered by their final size, largest first.
    The hierarchy names its merged topics by c-TF-IDF terms.
    """
    import_bertopic()
    from bertopic import BERTopic
    from bertopic.cluster import BaseCluster
    from bertopic.dimensionality import BaseDimensionalityReduction
    from bertopic.vectorizers import ClassTfidfTransformer

    started = time.perf_counter()
    clusters, strengths, partition = _cluster(embeddings, settings, seed)
    raw_outliers = float(np.mean(clusters == -1))
    representation = keybert_on_vectors(embeddings, seed) if represent and embedding_model is not None else None
    model = BERTopic(embedding_model=embedding_model, umap_model=BaseDimensionalityReduction(),
                     hdbscan_model=BaseCluster(), vectorizer_model=_vectorizer(settings.extra_stop_words),
                     ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
                     representation_model=representation, top_n_words=settings.top_terms,
                     calculate_probabilities=False, verbose=False)
    topics = np.asarray(model.fit_transform(docs, embeddings, y=partition)[0])
    fit_seconds = time.perf_counter() - started
    terms: dict[int, list[str]] = {}
    for topic in sorted(set(topics.tolist())):
        words = model.get_topic(topic) or []
        terms[int(topic)] = [w for w, _ in words if w][: settings.top_terms]
    hierarchy = pd.DataFrame()
    if represent and len(terms) > 2:
        # Reranking each merge's terms by embedding would embed candidate words 30-odd
        # times over; c-TF-IDF names the merges well enough for a tree.
        model.representation_model = None
        try:
            hierarchy = model.hierarchical_topics(docs)
        except (ValueError, IndexError) as exc:  # too few topics to link
            log.warning("hierarchical topics skipped: %s", exc)
    # HDBSCAN's membership strength of each document's cluster (0 for an outlier,
    # also after it joined a topic), as BERTopic's fit reports it.
    return TopicModelResult("bertopic", topics, strengths, terms,
                            {t: _label(t, w) for t, w in terms.items()}, raw_outliers, hierarchy, fit_seconds)


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

    # float32: the multiplicative updates run a third faster than in float64 (6,700
    # abstracts: 7 s, 11 s) to the same terms and assignments there.
    vectorizer = TfidfVectorizer(stop_words=stop_words(settings.extra_stop_words), ngram_range=(1, 2), min_df=2 if len(docs) >= 50 else 1,
                                 token_pattern=TOKEN_PATTERN, sublinear_tf=True, dtype=np.float32)
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
    return TopicModelResult("nmf", assignments, probabilities, terms,
                            {t: _label(t, w) for t, w in terms.items()}, float(empty.mean()))


def _label(topic: int, terms: list[str]) -> str:
    return "Outliers" if topic == -1 else f"{topic}: " + ", ".join(terms[:3])


class Cooccurrence:
    """Which documents contain which of the scored terms (unigrams and bigrams), for NPMI.

    Documents are tokenised as the topic models' CountVectorizer does (lower case,
    :data:`TOKEN_PATTERN`, adjacent tokens for bigrams), without scikit-learn: its import
    alone costs about 2 s, more than this whole count on 6,700 abstracts, and the job
    that assigns documents to a frozen model needs nothing else from it. Built once per
    corpus and shared by every topic model scored on it.
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
                present.update(pair for pair in (f"{a} {b}" for a, b in pairwise(tokens) if a in bigram_starts)
                               if pair in bigrams)
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


def _jaccard_best(base: np.ndarray, other: np.ndarray) -> dict[int, float]:
    out: dict[int, float] = {}
    other_sets = {t: set(np.flatnonzero(other == t)) for t in set(other.tolist()) if t != -1}
    for topic in sorted(set(base.tolist()) - {-1}):
        members = set(np.flatnonzero(base == topic))
        out[topic] = max((len(members & s) / len(members | s) for s in other_sets.values()), default=0.0)
    return out


def stability(base: np.ndarray, refits: list[np.ndarray]) -> tuple[dict[str, float], dict[int, float]]:
    """ARI/NMI between a fit's topic assignments and each refit's (same documents, same
    order), and each topic's mean best Jaccard."""
    if not refits:
        return {"runs": 1, "ari_mean": float("nan"), "nmi_mean": float("nan")}, {}
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    aris = [adjusted_rand_score(base, refit) for refit in refits]
    nmis = [normalized_mutual_info_score(base, refit) for refit in refits]
    per_topic: dict[int, list[float]] = {}
    for refit in refits:
        for topic, value in _jaccard_best(base, refit).items():
            per_topic.setdefault(topic, []).append(value)
    summary = {"runs": len(refits) + 1, "ari_mean": float(np.mean(aris)), "ari_min": float(np.min(aris)),
               "nmi_mean": float(np.mean(nmis)), "nmi_min": float(np.min(nmis))}
    return summary, {t: float(np.mean(v)) for t, v in per_topic.items()}


def align(result: TopicModelResult, doc_vectors: np.ndarray, record_ids: list[str], codes: pd.DataFrame,
          theme_vectors: dict[str, np.ndarray], settings: TopicSettings) -> pd.DataFrame:
    """Best-matching theme per topic from embedding similarity and members' coding.

    alignment = mean of (a) cosine similarity between the topic's centroid and the
    theme's closest prototype, rescaled from 0.15..0.65 to 0..1, and (b) the share of
    the topic's records coded with the theme. Below ``emergent_threshold`` a topic is
    emergent: the codebook does not name it.
    """
    present = codes[codes["present"]].groupby("theme")["record_id"].apply(set).to_dict()
    rows = []
    ids = np.asarray(record_ids)
    for topic in sorted(result.terms):
        members = np.flatnonzero(result.assignments == topic)
        best_theme, best = "", 0.0
        if topic != -1 and len(members):
            centroid = doc_vectors[members].mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            member_ids = set(ids[members].tolist())
            for theme, vectors in theme_vectors.items():
                sim = float((vectors @ centroid).max())
                sim_scaled = float(np.clip((sim - 0.15) / 0.5, 0, 1))
                share = len(member_ids & present.get(theme, set())) / len(member_ids)
                value = 0.5 * sim_scaled + 0.5 * share
                if value > best:
                    best_theme, best = theme, value
        rows.append({"topic": int(topic), "aligned_theme": best_theme, "alignment": round(best, 6),
                     "emergent": bool(topic != -1 and best < settings.emergent_threshold)})
    return pd.DataFrame(rows)


def representative(result: TopicModelResult, doc_vectors: np.ndarray, record_ids: list[str], k: int = 3) -> dict[int, list[str]]:
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
