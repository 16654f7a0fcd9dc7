"""Topics stage I/O: the fit, from documents and their embeddings to topics, document topics and a summary."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from litthemes.config import EmbedSettings, TopicSettings
from litthemes.progress import PROGRESS
from litthemes.tables import (
    DOC_TOPICS,
    SEGMENTS,
    TOPICS,
    read_table,
    write_json,
    write_table,
    write_text,
)
from litthemes.topics.coherence import Cooccurrence, scored_terms
from litthemes.topics.documents import document_vectors, surface_forms, surface_terms, topic_documents
from litthemes.topics.fit import (
    MIN_DOCUMENTS,
    TopicModelResult,
    fit_bertopic,
    fit_nmf,
    min_topic_size,
    representative,
    topic_label,
)
from litthemes.topics.frozen import assign_frozen, save_fitted_model, save_skipped_model
from litthemes.topics.refits import (
    nmf_topic_count,
    read_refit,
    refit_assignments,
    with_stability,
)

log = logging.getLogger(__name__)


def _empty(out_topics: str, out_docs: str, out_summary: str, reason: str) -> dict[str, Any]:
    write_table(pd.DataFrame(columns=TOPICS.names), out_topics, TOPICS, "topics")
    write_table(pd.DataFrame(columns=DOC_TOPICS.names), out_docs, DOC_TOPICS, "doc_topics")
    summary = {"method": "none", "skipped": reason}
    write_json(summary, out_summary)
    return summary


def run(
    records_path: str,
    segments_path: str,
    vectors_path: str,
    out_topics: str,
    out_docs: str,
    out_summary: str,
    out_hierarchy: str | None = None,
    settings: dict[str, Any] | None = None,
    embed_settings: dict[str, Any] | None = None,
    refit_paths: list[str] | None = None,
    out_model: str | None = None,
    stability_later: bool = False,
) -> dict[str, Any]:
    """Fit the topic models. The codebook plays no part here (see :func:`run_align`),
    so editing the codebook never refits the topics.

    ``refit_paths`` are :func:`run_refits` outputs for the stability check; without
    them the refits are fitted here, one after the other. With ``stability_later`` the
    fit is written without a stability check (no refits wait for it, nor it for them) and
    :func:`run_stability` adds it; the workflow does this so that the fit and the refits
    run side by side. ``out_model`` receives the fitted topics in the form
    ``topics.frozen_model`` reads. With ``topics.frozen_model`` set, nothing is fitted:
    see :func:`assign_frozen`.
    """
    params = TopicSettings.model_validate(settings or {})
    embed = EmbedSettings.model_validate(embed_settings or {})
    if stability_later and (refit_paths or out_model):
        raise ValueError("with stability_later, refits and the model file go to run_stability")
    ids, doc_vectors = document_vectors(records_path, vectors_path)
    segments = read_table(segments_path, SEGMENTS)
    docs = topic_documents(segments, ids)
    if out_hierarchy:
        write_text("parent_id,parent_name,child_left_id,child_right_id,distance\n", out_hierarchy)
    if params.frozen_model:
        return assign_frozen(
            params.frozen_model, ids, docs, doc_vectors, params, out_topics, out_docs, out_summary, out_model
        )
    if len(ids) < MIN_DOCUMENTS:
        if out_model:
            save_skipped_model(out_model)
        return _empty(out_topics, out_docs, out_summary, f"only {len(ids)} documents (< {MIN_DOCUMENTS})")

    PROGRESS.info("topics: fitting BERTopic on %s documents", f"{len(docs):,}")
    bert = fit_bertopic(docs, doc_vectors, params, params.seed, embed)
    # A timing, so it goes to the log and not into the (byte-identical) summary.
    log.info("BERTopic fit on %d documents: %.2f s", len(docs), bert.fit_seconds)
    n_real = len([t for t in bert.terms if t != -1])
    PROGRESS.info("topics: %d BERTopic topics in %.0f s; fitting the NMF baseline", n_real, bert.fit_seconds)
    nmf = fit_nmf(docs, nmf_topic_count(bert, params), params, params.seed)
    cooccurrence = Cooccurrence(docs, scored_terms(bert.terms, nmf.terms))
    coherence = {"bertopic": cooccurrence.npmi(bert.terms), "nmf": cooccurrence.npmi(nmf.terms)}
    primary: TopicModelResult = bert if params.method == "bertopic" else nmf

    reps = representative(primary, doc_vectors, ids)
    forms = surface_forms(segments, {w for terms in primary.terms.values() for term in terms for w in term.split()})
    shown = {topic: surface_terms(terms, forms) for topic, terms in primary.terms.items()}
    rows = []
    for topic in sorted(primary.terms):
        rows.append(
            {
                "topic": int(topic),
                "size": int((primary.assignments == topic).sum()),
                "label": topic_label(topic, shown[topic]),
                "top_terms": "; ".join(shown[topic]),
                "aligned_theme": "",
                "alignment": float("nan"),
                "domain_share": float("nan"),
                "emergent": False,  # filled by run_align
                "stability": float("nan"),
                "stable": True,  # filled by with_stability
                "representative_records": "; ".join(reps.get(topic, [])),
            }
        )
    topics = pd.DataFrame(rows)
    doc_topics = pd.DataFrame(
        {
            "record_id": ids,
            "topic": primary.assignments.astype(np.int64),
            "probability": np.round(primary.probabilities.astype(float), 6),
        }
    )
    summary = {
        "method": params.method,
        "documents": len(docs),
        "topics": n_real if params.method == "bertopic" else len(nmf.terms),
        "outlier_share_before_reduction": round(bert.outlier_share, 6),
        "outlier_share": round(float(np.mean(primary.assignments == -1)), 6),
        "coherence_npmi": {k: round(v, 6) for k, v in coherence.items()},
        "min_topic_size": min_topic_size(len(docs), params.min_topic_size),
    }
    if out_hierarchy and params.method == "bertopic" and not bert.hierarchy.empty:
        columns = ["Parent_ID", "Parent_Name", "Child_Left_ID", "Child_Right_ID", "Distance"]
        hierarchy = bert.hierarchy[[c for c in columns if c in bert.hierarchy]]
        hierarchy.columns = [c.lower() for c in hierarchy.columns]
        write_text(hierarchy.to_csv(index=False, float_format="%.6f"), out_hierarchy)
    if not stability_later:
        if refit_paths is None:
            refits = list(
                refit_assignments(
                    docs, doc_vectors, params, list(range(1, params.stability_runs)), nmf_topic_count(bert, params)
                ).values()
            )
        else:
            refits = [read_refit(path, ids) for path in refit_paths]
        topics, summary = with_stability(topics, summary, primary.assignments, refits, params)
    write_table(topics, out_topics, TOPICS, "topics")
    write_table(doc_topics.sort_values("record_id").reset_index(drop=True), out_docs, DOC_TOPICS, "doc_topics")
    write_json(summary, out_summary)
    if out_model:
        save_fitted_model(topics, doc_topics, doc_vectors, summary, out_model)
    log.info("topics: %s", summary)
    return summary
