"""Topic models on a synthetic corpus whose structure is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from litthemes.config import TopicSettings
from litthemes.topics import align, fit_bertopic, fit_nmf, min_topic_size, npmi_coherence, stability

GROUPS = {
    "blockchain": "blockchain ledger verification wallet cryptographic issuer",
    "covid": "pandemic lockdown remote emergency closure coronavirus",
    "stack": "stackable degree credit pathway master accumulate",
}


def corpus(seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    docs, labels, vectors = [], [], []
    centres = rng.normal(size=(3, 32))
    for g, (_name, words) in enumerate(GROUPS.items()):
        vocab = words.split()
        for _ in range(30):
            docs.append(" ".join(rng.choice(vocab, size=8)) + " study education")
            labels.append(g)
            vectors.append(centres[g] + 0.15 * rng.normal(size=32))
    v = np.asarray(vectors, dtype=np.float32)
    return docs, np.asarray(labels), v / np.linalg.norm(v, axis=1, keepdims=True)


def test_min_topic_size_scales_with_corpus() -> None:
    assert min_topic_size(250, "auto") == 6
    assert min_topic_size(6713, "auto") == 33
    # Slower than the corpus: thousands of abstracts must not collapse into a few giant topics.
    assert min_topic_size(100_000, "auto") < 100_000 / 250
    assert min_topic_size(100, 9) == 9


def test_nmf_recovers_planted_topics_and_coherence_prefers_them() -> None:
    docs, labels, _ = corpus()
    result = fit_nmf(docs, 3, TopicSettings(), seed=1)
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(labels, result.assignments) > 0.9
    good = npmi_coherence(docs, result.terms)
    shuffled = {
        t: list(np.random.default_rng(3).permutation([w for ws in result.terms.values() for w in ws])[:6])
        for t in result.terms
    }
    assert good > npmi_coherence(docs, shuffled)


def _npmi_with_countvectorizer(docs: list[str], terms: dict[int, list[str]]) -> float:
    """NPMI from scikit-learn's CountVectorizer over the whole vocabulary (the reference)."""
    from sklearn.feature_extraction.text import CountVectorizer

    from litthemes.topics import TOKEN_PATTERN

    vectorizer = CountVectorizer(ngram_range=(1, 2), binary=True, token_pattern=TOKEN_PATTERN)
    matrix = vectorizer.fit_transform(docs).toarray().astype(bool)
    n, scores = len(docs), []
    for topic, words in terms.items():
        cols = [vectorizer.vocabulary_[w] for w in words[:10] if w in vectorizer.vocabulary_] if topic != -1 else []
        for i, a in enumerate(cols):
            for b in cols[i + 1 :]:
                p_ab = (matrix[:, a] & matrix[:, b]).sum() / n
                p_a, p_b = matrix[:, a].sum() / n, matrix[:, b].sum() / n
                scores.append(
                    -1.0 if p_ab == 0 else 1.0 if p_ab == 1 else float(np.log(p_ab / (p_a * p_b)) / -np.log(p_ab))
                )
    return float(np.mean(scores)) if scores else float("nan")


def test_npmi_counts_terms_as_the_topic_models_countvectorizer_does() -> None:
    docs, _, _ = corpus()
    docs = [*docs, "Open-Badges and e-Portfolios: 3D scans, Ötzi's site-level data", "badge  badge\nopen badges", ""]
    result = fit_nmf(docs, 3, TopicSettings(), seed=1)
    # Bigrams, hyphens, capitals, a term no document contains and one past the top 10.
    extra = {
        7: ["open-badges", "open badges", "badge", "site-level", "level data", "no-such-term", "data"],
        8: ["3d", "scans", "ötzi", "e-portfolios", "and e-portfolios"] + ["x"] * 6 + ["badge"],
    }
    for terms in (result.terms, extra, {**result.terms, **extra}):
        assert math.isclose(npmi_coherence(docs, terms), _npmi_with_countvectorizer(docs, terms), rel_tol=1e-12)


def test_bertopic_on_precomputed_embeddings_is_deterministic_and_stable() -> None:
    docs, _labels, vectors = corpus()
    settings = TopicSettings(min_topic_size=10, n_neighbors=10)
    first = fit_bertopic(docs, vectors, settings, seed=5, represent=False)
    again = fit_bertopic(docs, vectors, settings, seed=5, represent=False)
    assert np.array_equal(first.assignments, again.assignments)
    other = fit_bertopic(docs, vectors, settings, seed=6, represent=False)
    summary, per_topic = stability(first.assignments, [other.assignments])
    assert summary["ari_mean"] > 0.9 and all(v > 0.8 for v in per_topic.values())
    assert len([t for t in first.terms if t != -1]) == 3


def test_alignment_flags_topics_no_theme_explains() -> None:
    docs, labels, vectors = corpus()
    result = fit_nmf(docs, 3, TopicSettings(), seed=1)
    ids = [f"d{i}" for i in range(len(docs))]
    blockchain_topic = int(pd.Series(result.assignments[labels == 0]).mode()[0])
    # Theme prototype = the blockchain centroid; members of that topic are also coded with it.
    centroid = vectors[labels == 0].mean(axis=0)
    theme_vectors = {"credentialing_technology": (centroid / np.linalg.norm(centroid))[None, :]}
    codes = pd.DataFrame(
        {"record_id": np.asarray(ids)[labels == 0], "theme": "credentialing_technology", "present": True}
    )
    table = align(result, vectors, ids, codes, theme_vectors, TopicSettings(emergent_threshold=0.3)).set_index("topic")
    assert table.loc[blockchain_topic, "aligned_theme"] == "credentialing_technology"
    assert not table.loc[blockchain_topic, "emergent"]
    assert table.drop(index=blockchain_topic)["emergent"].all()


def test_exact_neighbors_match_brute_force_and_put_each_document_first() -> None:
    from litthemes.topics import exact_neighbors

    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(300, 16)).astype(np.float32)
    indices, distances = exact_neighbors(vectors, 10, chunk=64)  # several chunks
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sims = unit @ unit.T
    np.fill_diagonal(sims, 2.0)
    expected = np.argsort(-sims, axis=1, kind="stable")[:, :10]
    assert np.array_equal(indices, expected)
    assert np.all(distances[:, 0] == 0) and np.all(np.diff(distances, axis=1) >= 0)
    np.fill_diagonal(sims, 1.0)
    assert np.allclose(distances, 1 - np.take_along_axis(sims, indices, axis=1), atol=1e-5)


def test_umap_gets_exact_neighbours_unless_asked_for_approximate() -> None:
    from litthemes.topics.fit import _umap

    vectors = np.random.default_rng(0).normal(size=(50, 8)).astype(np.float32)
    exact = _umap(vectors, TopicSettings(n_neighbors=5), seed=1)
    assert exact.precomputed_knn[0].shape == (50, 5)
    approximate = _umap(vectors, TopicSettings(n_neighbors=5, neighbors="approximate"), seed=1)
    assert approximate.precomputed_knn[0] is None


def test_fit_and_refits_find_bertopics_own_partition_and_terms() -> None:
    """fit_bertopic clusters first and hands BERTopic the partition, so that c-TF-IDF runs
    once; the stability refits skip BERTopic altogether. Both must find what BERTopic's
    own fit followed by its outlier reduction and topic update finds: the same clusters
    (up to numbering), the same membership strengths and, topic for topic, the same terms."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.metrics import adjusted_rand_score

    from litthemes.topics.fit import _hdbscan, _umap, _vectorizer, cluster_documents

    rng = np.random.default_rng(11)
    centres = rng.normal(size=(5, 32))
    vectors = np.vstack([centres[i % 5] + 2.0 * rng.normal(size=32) for i in range(200)] + [rng.normal(size=(60, 32))])
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    words = [
        ["badge", "ledger", "wallet"],
        ["pathway", "credit", "stack"],
        ["employer", "hiring", "skills"],
        ["pandemic", "remote", "lockdown"],
        ["quality", "assurance", "framework"],
    ]
    docs = [" ".join(rng.choice(words[i % 5] + ["education", "learner"], size=6)) for i in range(200)]
    docs += [" ".join(rng.choice([w for group in words for w in group], size=6)) for _ in range(60)]
    settings = TopicSettings(min_topic_size=10, n_neighbors=10)

    reference = BERTopic(
        umap_model=_umap(vectors, settings, 3),
        hdbscan_model=_hdbscan(len(docs), settings),
        vectorizer_model=_vectorizer([]),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=settings.top_terms,
        calculate_probabilities=False,
    )
    raw, strengths = reference.fit_transform(docs, vectors)
    assert np.mean(np.asarray(raw) == -1) > 0.1  # so the outlier reduction is exercised too
    reduced = reference.reduce_outliers(docs, raw, strategy="embeddings", embeddings=vectors)
    reference.update_topics(
        docs,
        topics=reduced,
        vectorizer_model=_vectorizer([]),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=settings.top_terms,
    )

    bert = fit_bertopic(docs, vectors, settings, seed=3, represent=False)
    assert bert.outlier_share == np.mean(np.asarray(raw) == -1)
    assert adjusted_rand_score(reduced, bert.assignments) == 1.0
    assert np.array_equal(bert.probabilities, strengths)
    for topic in set(reduced):
        ours = int(pd.Series(bert.assignments[np.asarray(reduced) == topic]).mode()[0])
        assert bert.terms[ours] == [w for w, _ in reference.get_topic(topic)][: settings.top_terms]
    # Numbered by final size, largest first.
    sizes = pd.Series(bert.assignments).value_counts()
    assert list(sizes.sort_index().drop(-1, errors="ignore")) == sorted(sizes.drop(-1, errors="ignore"), reverse=True)

    labels = cluster_documents(vectors, settings, seed=3)
    assert adjusted_rand_score(bert.assignments, labels) == 1.0
    # An outlier stays one only where it is similar to no topic at all (BERTopic's threshold
    # 0); how many do depends on UMAP's arithmetic on the machine, so only the rule is checked.
    clusters = np.asarray(raw)
    centroids = np.vstack([vectors[clusters == t].mean(axis=0) for t in sorted(set(clusters.tolist()) - {-1})])
    assert ((vectors[labels == -1] @ centroids.T) <= 0).all()
    assert (labels == -1).mean() < 0.05


def test_an_outlier_similar_to_no_topic_stays_an_outlier() -> None:
    """BERTopic's embedding strategy with threshold 0: a cosine of at most 0 to every topic
    leaves the document an outlier; every other outlier joins its most similar topic."""
    from litthemes.topics import reduce_outliers

    embeddings = np.array(
        [[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0.1, 0.9, 0], [0.2, 1, 0], [-1, -1, 0], [0, 0, 1]], dtype=np.float32
    )
    labels = np.array([0, 0, 1, 1, -1, -1, -1])
    assert reduce_outliers(labels, embeddings).tolist() == [0, 0, 1, 1, 1, -1, -1]
    assert reduce_outliers(np.array([-1, -1]), embeddings[:2]).tolist() == [-1, -1]


def test_terms_are_reranked_by_similarity_to_the_topic_centroid(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Candidate terms are ordered by cosine to the mean vector of the topic's documents;
    only the terms are encoded; outliers keep the c-TF-IDF order."""
    import litthemes.topics.fit as fit_module
    from litthemes.config import EmbedSettings

    term_vectors = {"near": [1.0, 0.0], "mid": [1.0, 1.0], "far": [0.0, 1.0], "x": [1.0, 0.0]}
    encoded: list[str] = []

    def fake_embed(texts: list[str], settings: EmbedSettings) -> np.ndarray:
        encoded.extend(texts)
        return np.array([term_vectors[t] for t in texts], dtype=np.float32)

    monkeypatch.setattr(fit_module, "embed_texts", fake_embed)
    docs = np.array([[1.0, 0.1], [0.9, 0.0], [0.0, 1.0]], dtype=np.float32)
    assignments = np.array([0, 0, -1])
    candidates = {0: ["far", "mid", "near"], -1: ["x", "far"]}
    ranked = fit_module.rerank_terms(candidates, assignments, docs, EmbedSettings(), top_n=2)
    assert ranked == {0: ["near", "mid"], -1: ["x", "far"]}
    assert sorted(encoded) == ["far", "mid", "near"]
