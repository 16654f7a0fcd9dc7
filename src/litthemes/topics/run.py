"""Topics stage I/O: documents + embeddings + coding -> topics, document topics, summary."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from litthemes.codebook import load_codebook
from litthemes.config import EmbedSettings, NlpSettings, TopicSettings
from litthemes.embed import document_text, embed_texts, load_model, read_vectors
from litthemes.nlp import lemmatize
from litthemes.tables import (
    CODES,
    DOC_TOPICS,
    RECORDS,
    TOPICS,
    read_table,
    write_json,
    write_table,
    write_text,
)
from litthemes.topics import (
    MIN_DOCUMENTS,
    TopicModelResult,
    align,
    fit_bertopic,
    fit_nmf,
    min_topic_size,
    npmi_coherence,
    representative,
    stability,
)

log = logging.getLogger(__name__)


def _empty(out_topics: str, out_docs: str, out_summary: str, reason: str) -> dict[str, Any]:
    write_table(pd.DataFrame(columns=TOPICS.names), out_topics, TOPICS, "topics")
    write_table(pd.DataFrame(columns=DOC_TOPICS.names), out_docs, DOC_TOPICS, "doc_topics")
    summary = {"method": "none", "skipped": reason}
    write_json(summary, out_summary)
    return summary


def run(records_path: str, vectors_path: str, out_topics: str, out_docs: str, out_summary: str,
        out_hierarchy: str | None = None, settings: dict[str, Any] | None = None,
        embed_settings: dict[str, Any] | None = None, nlp_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fit the topic models. The codebook plays no part here (see :func:`run_align`),
    so editing the codebook never refits the topics."""
    params = TopicSettings.model_validate(settings or {})
    embed = EmbedSettings.model_validate(embed_settings or {})
    nlp = NlpSettings.model_validate(nlp_settings or {})
    records = read_table(records_path, RECORDS)
    records = records[records["status"] == "included"].reset_index(drop=True)
    keys, vectors = read_vectors(vectors_path)
    position = {rid: i for i, rid in enumerate(keys["record_id"])}
    records = records[records["record_id"].isin(position)].reset_index(drop=True)
    doc_vectors = vectors[[position[r] for r in records["record_id"]]] if len(records) else vectors
    if out_hierarchy:
        write_text("parent_id,parent_name,child_left_id,child_right_id,distance\n", out_hierarchy)
    if len(records) < MIN_DOCUMENTS:
        return _empty(out_topics, out_docs, out_summary, f"only {len(records)} documents (< {MIN_DOCUMENTS})")
    texts = document_text(records).tolist()
    docs = lemmatize(texts, nlp.model, nlp.batch_size)
    ids = records["record_id"].tolist()

    embedding_model = load_model(embed.model, embed.device)
    bert = fit_bertopic(docs, doc_vectors, params, params.seed, embedding_model)
    n_real = len([t for t in bert.terms if t != -1])
    k = n_real if params.nmf_topics == "auto" else int(params.nmf_topics)
    nmf = fit_nmf(docs, max(k, 2), params, params.seed)
    coherence = {"bertopic": npmi_coherence(docs, bert.terms), "nmf": npmi_coherence(docs, nmf.terms)}
    primary: TopicModelResult = bert if params.method == "bertopic" else nmf

    refits = []
    for run_index in range(1, params.stability_runs):
        seed = params.seed + run_index
        if params.method == "bertopic":
            refits.append(fit_bertopic(docs, doc_vectors, params, seed, None, represent=False))
        else:
            refits.append(fit_nmf(docs, max(k, 2), params, seed))
    summary_stability, per_topic = stability(primary, refits)

    reps = representative(primary, doc_vectors, ids)
    rows = []
    for topic in sorted(primary.terms):
        size = int((primary.assignments == topic).sum())
        stab = per_topic.get(topic, float("nan"))
        rows.append({
            "topic": int(topic), "size": size, "label": primary.labels[topic],
            "top_terms": "; ".join(primary.terms[topic]),
            "aligned_theme": "", "alignment": float("nan"), "emergent": False,  # filled by run_align
            "stability": stab,
            "stable": bool(topic == -1 or np.isnan(stab) or stab >= params.stability_threshold),
            "representative_records": "; ".join(reps.get(topic, [])),
        })
    topics = pd.DataFrame(rows)
    doc_topics = pd.DataFrame({"record_id": ids, "topic": primary.assignments.astype(np.int64),
                               "probability": np.round(primary.probabilities.astype(float), 6)})
    write_table(topics, out_topics, TOPICS, "topics")
    write_table(doc_topics.sort_values("record_id").reset_index(drop=True), out_docs, DOC_TOPICS, "doc_topics")
    if out_hierarchy and params.method == "bertopic" and not bert.hierarchy.empty:
        columns = ["Parent_ID", "Parent_Name", "Child_Left_ID", "Child_Right_ID", "Distance"]
        hierarchy = bert.hierarchy[[c for c in columns if c in bert.hierarchy]]
        hierarchy.columns = [c.lower() for c in hierarchy.columns]
        write_text(hierarchy.to_csv(index=False, float_format="%.6f"), out_hierarchy)
    summary = {
        "method": params.method,
        "documents": len(docs),
        "topics": n_real if params.method == "bertopic" else len(nmf.terms),
        "outlier_share_before_reduction": round(bert.outlier_share, 6),
        "outlier_share": round(float(np.mean(primary.assignments == -1)), 6),
        "coherence_npmi": {k: round(v, 6) for k, v in coherence.items()},
        "stability": {k: (round(v, 6) if isinstance(v, float) else v) for k, v in summary_stability.items()},
        "unstable_topics": int((~topics["stable"]).sum()),
        "min_topic_size": min_topic_size(len(docs), params.min_topic_size),
    }
    write_json(summary, out_summary)
    log.info("topics: %s", summary)
    return summary


def run_align(topics_path: str, doc_topics_path: str, vectors_path: str, codes_path: str, codebook_path: str,
              fit_summary_path: str, out_topics: str, out_summary: str, settings: dict[str, Any] | None = None,
              embed_settings: dict[str, Any] | None = None) -> dict[str, Any]:
    """Align fitted topics to the codebook's themes and flag emergent ones."""
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
        method=summary.get("method", ""), assignments=doc_topics["topic"].to_numpy(),
        probabilities=doc_topics["probability"].to_numpy(),
        terms={int(r.topic): str(r.top_terms).split("; ") for r in topics.itertuples()},
        labels={int(r.topic): str(r.label) for r in topics.itertuples()}, outlier_share=0.0)
    # One call: each call reads the embedding cache from disk.
    prototypes = [(t.id, p) for t in book.themes for p in t.prototypes]
    vectors_all = embed_texts([p for _, p in prototypes], embed)
    owners = np.asarray([theme for theme, _ in prototypes])
    theme_vectors = {t.id: vectors_all[owners == t.id] for t in book.themes}
    alignment = align(fitted, vectors[[position[r] for r in ids]], ids, read_table(codes_path, CODES),
                      theme_vectors, params).set_index("topic")
    topics["aligned_theme"] = topics["topic"].map(alignment["aligned_theme"]).fillna("")
    topics["alignment"] = topics["topic"].map(alignment["alignment"]).astype(float)
    topics["emergent"] = topics["topic"].map(alignment["emergent"]).fillna(False).astype(bool)
    write_table(topics, out_topics, TOPICS, "topics")
    summary["emergent_topics"] = int(topics["emergent"].sum())
    summary["codebook"] = book.stamp
    write_json(summary, out_summary)
    return summary
