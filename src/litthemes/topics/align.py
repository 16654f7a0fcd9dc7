"""Aligning topics to the codebook's themes: which theme each topic matches, and which
topics the codebook does not name (emergent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litthemes.codebook import load_codebook
from litthemes.config import EmbedSettings, TopicSettings
from litthemes.embed import embed_texts, row_dot
from litthemes.shards import read_gathered
from litthemes.tables import (
    CODES,
    DOC_TOPICS,
    TOPICS,
    read_table,
    read_vectors,
    write_json,
    write_table,
)
from litthemes.topics.fit import TopicModelResult

# The examples of a codebook span its themes' registers on purpose; a bar at their median
# would call half of the codebook's own examples foreign to its literature.
DOMAIN_EXAMPLE_QUANTILE = 0.25
# A topic fewer of whose documents than this are within the codebook's literature is emergent.
MIN_DOMAIN_SHARE = 0.5


def domain_anchor(examples: np.ndarray, background: np.ndarray) -> float:
    """How close the codebook's own example statements are to its background texts: the
    cosine that three in four examples reach (the lower quartile of each example's
    highest cosine)."""
    return float(np.quantile(row_dot(examples, background).max(axis=1), DOMAIN_EXAMPLE_QUANTILE))


def in_domain(
    record_ids: list[str],
    segment_keys: pd.DataFrame,
    segment_vectors: np.ndarray,
    background: np.ndarray,
    anchor: float,
) -> np.ndarray:
    """Which records are within the literature the codebook was written for: those with a
    passage (title or sentence) at least as close to the background texts as most of
    the codebook's examples are (:func:`domain_anchor`); passages, like examples, are
    statements, so the two compare like with like."""
    closest = pd.Series(row_dot(segment_vectors, background).max(axis=1), index=segment_keys["record_id"].to_numpy())
    best = closest.groupby(level=0).max()
    return best.reindex(record_ids).fillna(-1.0).to_numpy() >= anchor


def outside_codebook(topics: pd.DataFrame, emergent_threshold: float) -> pd.Series:
    """Which topics of an aligned topic table are emergent because their documents lie
    outside the codebook's literature although a theme matches them (see :func:`align`),
    as opposed to those no theme matches."""
    return (
        topics["emergent"] & (topics["alignment"] >= emergent_threshold) & (topics["domain_share"] < MIN_DOMAIN_SHARE)
    )


def align(
    result: TopicModelResult,
    doc_vectors: np.ndarray,
    record_ids: list[str],
    codes: pd.DataFrame,
    theme_vectors: dict[str, np.ndarray],
    settings: TopicSettings,
    domain: np.ndarray | None = None,
) -> pd.DataFrame:
    """Best-matching theme per topic from embedding similarity and members' coding.

    alignment = mean of (a) cosine similarity between the topic's centroid and the
    theme's closest prototype, rescaled from 0.15..0.65 to 0..1, and (b) the share of
    the topic's records coded with the theme. A topic is emergent, named by no theme,
    when its alignment is below ``emergent_threshold``, or when fewer than half its
    documents are within the codebook's literature (``domain``, one flag per document;
    :func:`in_domain`): a codebook applied to another literature still finds its
    themes' words there, and the topics of that literature are what it does not name.
    """
    present = codes[codes["present"]].groupby("theme")["record_id"].apply(set).to_dict()
    rows = []
    ids = np.asarray(record_ids)
    for topic in sorted(result.terms):
        members = np.flatnonzero(result.assignments == topic)
        best_theme, best = "", 0.0
        domain_share = float("nan")
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
            if domain is not None:
                domain_share = float(domain[members].mean())
        outside = domain_share < MIN_DOMAIN_SHARE  # False for NaN: no background, no domain check
        rows.append(
            {
                "topic": int(topic),
                "aligned_theme": best_theme,
                "alignment": round(best, 6),
                "domain_share": round(domain_share, 6),
                "emergent": bool(topic != -1 and (best < settings.emergent_threshold or outside)),
            }
        )
    return pd.DataFrame(rows)


def run_align(
    topics_path: str,
    doc_topics_path: str,
    vectors_path: str,
    codes_path: str | list[str],
    codebook_path: str,
    fit_summary_path: str,
    out_topics: str,
    out_summary: str,
    settings: dict[str, Any] | None = None,
    embed_settings: dict[str, Any] | None = None,
    segment_vectors_path: str | None = None,
) -> dict[str, Any]:
    """Align fitted topics to the codebook's themes and flag emergent ones (with
    ``segment_vectors_path``, also by whether their records are within the codebook's
    literature: :func:`in_domain`).

    ``codes_path`` may be the list of the coding shards' code tables.
    """
    params = TopicSettings.model_validate(settings or {})
    embed = EmbedSettings.model_validate(embed_settings or {})
    topics = read_table(topics_path, TOPICS)
    summary = json.loads(Path(fit_summary_path).read_text(encoding="utf-8"))
    if topics.empty:
        write_table(topics, out_topics, TOPICS, "topics")
        write_json({**summary, "emergent_topics": 0}, out_summary)
        return summary
    book = load_codebook(codebook_path)
    doc_topics = read_table(doc_topics_path, DOC_TOPICS)
    keys, vectors = read_vectors(vectors_path)
    position = {rid: i for i, rid in enumerate(keys["record_id"])}
    ids = doc_topics["record_id"].tolist()
    fitted = TopicModelResult(
        method=summary.get("method", ""),
        assignments=doc_topics["topic"].to_numpy(),
        probabilities=doc_topics["probability"].to_numpy(),
        terms={int(r.topic): str(r.top_terms).split("; ") for r in topics.itertuples()},
        labels={int(r.topic): str(r.label) for r in topics.itertuples()},
        outlier_share=0.0,
    )
    prototypes = [(t.id, p) for t in book.themes for p in t.prototypes]
    examples = [e for t in book.themes for e in t.examples]
    background_texts = list(book.background)
    # One call: each call reads the embedding cache from disk.
    vectors_all = embed_texts([p for _, p in prototypes] + examples + background_texts, embed)
    owners = np.asarray([theme for theme, _ in prototypes])
    theme_vectors = {t.id: vectors_all[: len(prototypes)][owners == t.id] for t in book.themes}
    example_vectors = vectors_all[len(prototypes) : len(prototypes) + len(examples)]
    background = vectors_all[len(prototypes) + len(examples) :]
    doc_vectors = vectors[[position[r] for r in ids]]
    domain, anchor = None, float("nan")
    if background_texts and examples and segment_vectors_path:
        anchor = domain_anchor(example_vectors, background)
        segment_keys, segment_vectors = read_vectors(segment_vectors_path, set(ids))
        domain = in_domain(ids, segment_keys, segment_vectors, background, anchor)
    alignment = align(
        fitted, doc_vectors, ids, read_gathered(codes_path, CODES), theme_vectors, params, domain
    ).set_index("topic")
    topics["aligned_theme"] = topics["topic"].map(alignment["aligned_theme"]).fillna("")
    topics["alignment"] = topics["topic"].map(alignment["alignment"]).astype(float)
    topics["domain_share"] = topics["topic"].map(alignment["domain_share"]).astype(float)
    topics["emergent"] = topics["topic"].map(alignment["emergent"]).fillna(False).astype(bool)
    write_table(topics, out_topics, TOPICS, "topics")
    summary["emergent_topics"] = int(topics["emergent"].sum())
    # The fit of codebook and corpus: the share of documents within the codebook's literature.
    summary["domain"] = {
        "anchor": round(anchor, 6),
        "documents_in_domain": None if domain is None else round(float(domain.mean()), 6),
    }
    summary["codebook"] = book.stamp
    write_json(summary, out_summary)
    return summary
